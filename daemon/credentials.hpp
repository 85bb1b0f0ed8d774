#pragma once
// Who may speak to kilnd, and as what (DESIGN §8): one credential per rack's
// agent and per client, loaded from a credentials file that only its owner
// may read. A credential has a name (what logs and the audit trail show), a
// secret of at least 128 bits (kMinTokenChars hex digits), and either the
// rack its agent speaks for or a client role:
//
//   credentials:
//     - {name: rack-r01, rack: r01, secret: 3f9c…}
//     - {name: alice, role: operator, secret: 8a01…}
//
// viewer: queries and the live feed; operator: also submits and aborts
// runs; admin: everything, including the audit trail (kiln events). The
// secret identifies the credential: a Hello carries only the secret, and
// secrets are unique in a file.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace kiln::daemon {

enum class ClientRole { viewer, run_operator, admin };

std::string_view to_string(ClientRole role);  // viewer | operator | admin
std::optional<ClientRole> parse_client_role(std::string_view text);
// Whether `role` includes what `needed` may do.
bool allows(ClientRole role, ClientRole needed);

struct Credential {
  std::string name;
  std::string secret;
  std::string rack;   // an agent's credential: the one rack it speaks for
  ClientRole role{};  // a client's credential (rack empty)
  bool is_agent() const { return !rack.empty(); }
};

class CredentialBook {
 public:
  CredentialBook() = default;
  // Checks every rule above: unique non-empty names and secrets, secrets of
  // at least kMinTokenChars characters, a rack id or a role.
  static Result<CredentialBook> from(std::vector<Credential> credentials);
  // YAML text as above; errors as file:line:col.
  static Result<CredentialBook> parse(std::string_view text, const std::string& file);
  // Refused like a token file: missing, readable or writable by group or
  // others (mode 0600 or 0400 only), over 1 MiB, or invalid.
  static Result<CredentialBook> load_file(const std::string& path);

  // The credential whose secret this is, or nullptr. Compares against every
  // secret in constant time, so a guess's timing says nothing.
  const Credential* find(std::string_view secret) const;
  const std::vector<Credential>& all() const { return credentials_; }
  bool empty() const { return credentials_.empty(); }

 private:
  std::vector<Credential> credentials_;
};

}  // namespace kiln::daemon
