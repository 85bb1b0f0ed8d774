#include "agents/vote_board.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "agents/tile_compare.hpp"

namespace kiln::agent {
VoteBoard::VoteBoard(std::vector<std::string> serials, std::vector<std::string> skus)
    : serials_(std::move(serials)), skus_(std::move(skus)) {
  skus_.resize(serials_.size());
}

std::optional<int> VoteBoard::member(const std::string& serial) const {
  const auto it = std::find(serials_.begin(), serials_.end(), serial);
  if (it == serials_.end()) return std::nullopt;
  return static_cast<int>(it - serials_.begin());
}

VoteBoard::Round& VoteBoard::round(std::uint32_t step_index) {
  Round& r = rounds_[step_index];
  if (r.left.empty()) {
    r.left.assign(serials_.size(), false);
    r.tiles.assign(serials_.size(), nullptr);
    r.outcomes.assign(serials_.size(), VoteOutcome{});
  }
  return r;
}

// Decides every member's outcome from this tick's tiles (under the lock).
void VoteBoard::count(Round& r) const {
  const std::size_t n = serials_.size();
  std::vector<std::uint64_t> hashes(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (r.tiles[i] != nullptr) hashes[i] = tile_hash(*r.tiles[i]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    VoteOutcome& out = r.outcomes[i];
    out = VoteOutcome{};
    // A member that left (a hung chip, one that returned no tile) has no
    // tile this tick: it is not judged here, and its empty place must not be
    // compared with anything.
    if (r.tiles[i] == nullptr) continue;
    std::vector<std::size_t> peers;  // same SKU, voting, including i
    for (std::size_t j = 0; j < n; ++j) {
      if (r.tiles[j] != nullptr && skus_[j] == skus_[i]) peers.push_back(j);
    }
    if (static_cast<int>(peers.size()) < kMinVoters) {
      out.undecided_reason = fmt::format("fewer than {} chips of SKU {} voting", kMinVoters, skus_[i]);
      continue;
    }
    std::map<std::uint64_t, std::size_t> tally;
    for (const std::size_t j : peers) ++tally[hashes[j]];
    const auto top =
        std::max_element(tally.begin(), tally.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    if (top->second * 2 <= peers.size()) {
      out.undecided_reason = fmt::format("no majority among the {} chips of SKU {}", peers.size(), skus_[i]);
      continue;
    }
    out.decided = true;
    out.with_majority = hashes[i] == top->first;
    if (out.with_majority) continue;
    std::size_t reference = peers.front();
    for (const std::size_t j : peers) {
      if (hashes[j] == top->first) {
        reference = j;
        break;
      }
    }
    TileDifferences diff = compare_tiles(*r.tiles[i], *r.tiles[reference]);
    out.differing = diff.count;
    out.differences = std::move(diff.findings);
  }
}

int VoteBoard::active(const Round& r) const {
  return static_cast<int>(std::count(r.left.begin(), r.left.end(), false));
}

void VoteBoard::release(Round& r) {
  count(r);
  std::fill(r.tiles.begin(), r.tiles.end(), nullptr);
  r.arrived = 0;
  ++r.generation;
  cv_.notify_all();
}

Result<VoteOutcome> VoteBoard::vote(std::uint32_t step_index, int member, const device::GemmTile& tile,
                                    const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  Round& r = round(step_index);
  const auto m = static_cast<std::size_t>(member);
  if (member < 0 || m >= serials_.size() || r.left[m] || r.tiles[m] != nullptr) {
    return make_error(ErrorCode::internal, "member {} cannot vote in step {}", member, step_index);
  }
  r.tiles[m] = &tile;
  const std::uint64_t generation = r.generation;
  if (++r.arrived == active(r)) {
    release(r);
    return r.outcomes[m];
  }
  wait_or_stop(cv_, lock, stop, [&] { return r.generation != generation; });
  if (r.generation != generation) return r.outcomes[m];
  // Stopped while waiting: this member leaves; the others vote without it.
  r.tiles[m] = nullptr;
  --r.arrived;
  r.left[m] = true;
  if (r.arrived > 0 && r.arrived == active(r)) release(r);
  return make_error(ErrorCode::unavailable, "aborted");
}

void VoteBoard::leave(std::uint32_t step_index, int member) {
  std::lock_guard lock(mutex_);
  Round& r = round(step_index);
  const auto m = static_cast<std::size_t>(member);
  if (member < 0 || m >= serials_.size() || r.left[m]) return;
  r.left[m] = true;
  if (r.arrived > 0 && r.arrived == active(r)) release(r);
}

}  // namespace kiln::agent
