#include "net/backoff.hpp"

#include <algorithm>

namespace kiln::net {

std::chrono::milliseconds Backoff::next() {
  auto delay = std::max(policy_.initial, std::chrono::milliseconds(1));
  // Doubling stops at the cap (and long before the count could overflow it).
  for (int i = 0; i < failures_ && delay < policy_.max; ++i) delay *= 2;
  ++failures_;
  return std::min(delay, std::max(policy_.max, policy_.initial));
}

}  // namespace kiln::net
