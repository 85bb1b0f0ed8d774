#include "daemon/credentials.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <set>

#include "core/endpoint.hpp"
#include "yaml/config_file.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::daemon {

std::string_view to_string(ClientRole role) {
  switch (role) {
    case ClientRole::viewer: return "viewer";
    case ClientRole::run_operator: return "operator";
    case ClientRole::admin: return "admin";
  }
  return "viewer";
}

std::optional<ClientRole> parse_client_role(std::string_view text) {
  if (text == "viewer") return ClientRole::viewer;
  if (text == "operator") return ClientRole::run_operator;
  if (text == "admin") return ClientRole::admin;
  return std::nullopt;
}

bool allows(ClientRole role, ClientRole needed) { return static_cast<int>(role) >= static_cast<int>(needed); }

Result<CredentialBook> CredentialBook::from(std::vector<Credential> credentials) {
  if (credentials.empty()) return make_error(ErrorCode::invalid_argument, "no credentials: nobody could connect");
  std::set<std::string> names;
  std::set<std::string> secrets;
  for (const Credential& c : credentials) {
    if (c.name.empty()) return make_error(ErrorCode::invalid_argument, "a credential without a name");
    if (!names.insert(c.name).second) {
      return make_error(ErrorCode::invalid_argument, "credential '{}' is named twice", c.name);
    }
    if (c.secret.size() < kMinTokenChars) {
      return make_error(ErrorCode::invalid_argument,
                        "credential '{}': the secret is {} characters, at least {} are needed (128 bits as hex)",
                        c.name, c.secret.size(), kMinTokenChars);
    }
    if (!secrets.insert(c.secret).second) {
      return make_error(ErrorCode::invalid_argument,
                        "credential '{}' has the secret of another: every credential needs its own", c.name);
    }
  }
  CredentialBook book;
  book.credentials_ = std::move(credentials);
  return book;
}

Result<CredentialBook> CredentialBook::parse(std::string_view text, const std::string& file) {
  yaml::Diagnostics diagnostics(file);
  auto root = yaml::parse(text, diagnostics);
  std::vector<Credential> credentials;
  if (root) {
    yaml::MapReader top(*root, diagnostics, "credentials file");
    const yaml::Node* list = top.valid() ? top.get("credentials", /*required=*/true) : nullptr;
    top.finish();
    if (list != nullptr && !list->is_sequence()) {
      diagnostics.error(list->mark(), "credentials must be a list of {name, secret, rack | role}");
    } else if (list != nullptr) {
      for (std::size_t i = 0; i < list->items().size(); ++i) {
        const yaml::Node& item = list->items()[i];
        const std::string what = "credentials[" + std::to_string(i) + "]";
        yaml::MapReader reader(item, diagnostics, what);
        if (!reader.valid()) continue;
        Credential c;
        c.name = reader.string("name", true).value_or("");
        c.secret = reader.string("secret", true).value_or("");
        const auto rack = reader.string("rack");
        const yaml::Node* role_node = reader.get("role");
        const auto role = reader.string("role");
        reader.finish();
        if (rack.has_value() == role.has_value()) {
          diagnostics.error(item.mark(), what +
                                             ": give either rack (an agent's credential) or role "
                                             "(viewer, operator or admin), not both or neither");
          continue;
        }
        if (rack) {
          if (rack->empty()) diagnostics.error(item.mark(), what + ": an empty rack id");
          c.rack = *rack;
        } else {
          auto parsed = parse_client_role(*role);
          if (!parsed) {
            diagnostics.error(role_node->mark(), what + ": role '" + *role + "' is not viewer, operator or admin");
            continue;
          }
          c.role = *parsed;
        }
        credentials.push_back(std::move(c));
      }
    }
  }
  if (!diagnostics.empty()) return make_error(ErrorCode::invalid_argument, "{}", diagnostics.to_string());
  auto book = from(std::move(credentials));
  if (!book) return make_error(book.error().code, "{}: {}", file, book.error().message);
  return book;
}

Result<CredentialBook> CredentialBook::load_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(ErrorCode::io, "cannot read credentials file '{}'", path);
  if ((st.st_mode & 077) != 0) {
    return make_error(ErrorCode::invalid_argument,
                      "credentials file '{}' may be read or written by others (mode {:04o}): chmod 600 it", path,
                      st.st_mode & 07777);
  }
  KILN_TRY_ASSIGN(const std::string text, yaml::read_config_file(path));
  return parse(text, path);
}

const Credential* CredentialBook::find(std::string_view secret) const {
  const Credential* found = nullptr;
  for (const Credential& c : credentials_) {
    // Every secret is compared, whichever matches: the loop's time does not depend on which.
    const bool same =
        c.secret.size() == secret.size() && CRYPTO_memcmp(c.secret.data(), secret.data(), secret.size()) == 0;
    if (same) found = &c;
  }
  return found;
}

}  // namespace kiln::daemon
