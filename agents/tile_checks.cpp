#include "agents/tile_checks.hpp"

#include <algorithm>

#include "device/gemm_tile.hpp"

namespace kiln::agent {

template <typename Value, typename Compute>
Value TileChecks::remember(Memo<Value>& memo, const TilePtr& a, const TilePtr& b, Compute compute) {
  const std::pair<const void*, const void*> key{a.get(), b.get()};
  {
    std::lock_guard lock(mutex_);
    if (auto it = memo.entries.find(key); it != memo.entries.end()) {
      ++stats_.reused;
      return it->second.second;
    }
  }
  // Outside the lock: two chips may both compute the same conclusion at
  // once; both get the same answer, one is kept.
  Value value = compute();
  std::lock_guard lock(mutex_);
  ++stats_.computed;
  if (memo.entries.emplace(key, std::make_pair(std::make_pair(a, b), value)).second) {
    memo.order.push_back(key);
    while (memo.order.size() > std::max<std::size_t>(capacity_, 1)) {
      memo.entries.erase(memo.order.front());
      memo.order.pop_front();
    }
  }
  return value;
}

Result<AbftReport> TileChecks::abft(const TilePtr& tile) {
  return remember(abft_, tile, nullptr, [&] { return verify_abft(*tile); });
}

Status TileChecks::validate(const TilePtr& tile) {
  return remember(valid_, tile, nullptr, [&] { return validate_tile(*tile); });
}

TilePtr TileChecks::reference(const TilePtr& tile) {
  return remember(reference_, tile, nullptr, [&] { return golden_reference(nullptr, tile); });
}

TileDifferences TileChecks::compare(const TilePtr& tile, const TilePtr& reference) {
  return remember(compare_, tile, reference, [&] { return compare_tiles(*tile, *reference); });
}

TileChecks::Stats TileChecks::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

Result<AbftReport> check_abft(TileChecks* checks, const TilePtr& tile) {
  return checks != nullptr ? checks->abft(tile) : verify_abft(*tile);
}

Status check_valid(TileChecks* checks, const TilePtr& tile) {
  return checks != nullptr ? checks->validate(tile) : validate_tile(*tile);
}

TilePtr golden_reference(TileChecks* checks, const TilePtr& tile) {
  if (checks != nullptr) return checks->reference(tile);
  auto reference = std::make_shared<device::GemmTile>(*tile);
  device::compute_gemm_tile(*reference);
  return reference;
}

TileDifferences compare_with(TileChecks* checks, const TilePtr& tile, const TilePtr& reference) {
  return checks != nullptr ? checks->compare(tile, reference) : compare_tiles(*tile, *reference);
}

}  // namespace kiln::agent
