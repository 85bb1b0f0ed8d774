#include "daemon/epoch_owners.hpp"

#include <openssl/crypto.h>

namespace kiln::daemon {

void EpochOwners::remember(const std::string& rack, std::uint64_t epoch, std::string key_sha256) {
  keys_[{rack, epoch}] = std::move(key_sha256);
}

Result<EpochOwners::Claim> EpochOwners::claim(const std::string& rack, std::uint64_t epoch,
                                              const std::string& key_sha256, std::size_t key_chars) {
  if (key_chars < kMinEpochKeyChars) {
    return make_error(ErrorCode::invalid_argument,
                      "rack {}: epoch {} registered with a {}-character epoch key, at least {} are needed", rack, epoch,
                      key_chars, kMinEpochKeyChars);
  }
  auto [it, fresh] = keys_.try_emplace({rack, epoch}, key_sha256);
  if (fresh) return Claim::new_epoch;
  const std::string& known = it->second;
  // Constant time: how much of a guess matched must not show.
  if (known.size() != key_sha256.size() || CRYPTO_memcmp(known.data(), key_sha256.data(), known.size()) != 0) {
    return make_error(ErrorCode::permission_denied,
                      "epoch {} of rack {} belongs to another agent process (its epoch key differs): a new agent "
                      "registers a new epoch",
                      epoch, rack);
  }
  return Claim::same_epoch;
}

bool EpochOwners::same_owner(const std::string& rack, std::uint64_t epoch, std::uint64_t other_epoch) const {
  const auto a = keys_.find({rack, epoch});
  const auto b = keys_.find({rack, other_epoch});
  if (a == keys_.end() || b == keys_.end() || a->second.size() != b->second.size()) return false;
  return CRYPTO_memcmp(a->second.data(), b->second.data(), a->second.size()) == 0;
}

}  // namespace kiln::daemon
