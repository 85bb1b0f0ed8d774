#pragma once
// Which agent process owns each epoch of each rack (docs/protocol.md,
// "epochs"). An agent proves it is the process that registered an epoch with
// the epoch key it drew at start: the daemon keeps only the key's SHA-256,
// here and in the rack_epochs table, so a restarted daemon still knows. An
// epoch registered once belongs to its key for good: claiming it with
// another key is refused; an epoch never seen is a new agent process's.
// Owned by the io thread.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "core/result.hpp"

namespace kiln::daemon {

// Keys shorter than this (hex digits; 128 bits) are refused.
inline constexpr std::size_t kMinEpochKeyChars = 32;

class EpochOwners {
 public:
  enum class Claim {
    new_epoch,  // never registered before: an agent process that started since
    same_epoch  // its owner again (a reconnect, or after a daemon restart)
  };

  // What the store remembers (Writer::rack_epochs), before any registration.
  void remember(const std::string& rack, std::uint64_t epoch, std::string key_sha256);
  // A registration of `rack` with `epoch` and the SHA-256 of its key:
  // permission_denied when the epoch is known with another key,
  // invalid_argument when the key was shorter than kMinEpochKeyChars.
  Result<Claim> claim(const std::string& rack, std::uint64_t epoch, const std::string& key_sha256,
                      std::size_t key_chars);
  // Both epochs of `rack` are known and were registered with the same key
  // (an agent's spool keeps one key for all its epochs).
  bool same_owner(const std::string& rack, std::uint64_t epoch, std::uint64_t other_epoch) const;

 private:
  std::map<std::pair<std::string, std::uint64_t>, std::string> keys_;  // (rack, epoch) → key SHA-256
};

}  // namespace kiln::daemon
