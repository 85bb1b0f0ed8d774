#include "device/sim/shared_tile_cache.hpp"

#include <algorithm>

#include "device/gemm_tile.hpp"
#include "device/sim_random.hpp"

namespace kiln::device {

SharedTileCache::SharedTileCache(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

SharedTileCache::Key SharedTileCache::key_of(const Sku& sku, const GemmWork& work) {
  // Everything make_gemm_tile reads: the SKU's geometry, the dtype, the
  // kind of data, the depth and the seed of the inputs.
  const int depth = static_cast<int>(std::clamp<std::int64_t>(work.k, 1, kTileMaxDepth));
  return Key{sku.name,
             sku.pe_rows,
             sku.pe_cols,
             sku.cores,
             static_cast<int>(work.dtype),
             static_cast<int>(work.data),
             depth,
             work.input_seed.value_or(0)};
}

std::shared_ptr<const GemmTile> SharedTileCache::clean_tile(const Sku& sku, const GemmWork& work) {
  const Key key = key_of(sku, work);
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      it = entries_.emplace(key, std::make_shared<Entry>()).first;
      order_.push_back(key);
      while (order_.size() > capacity_) {
        entries_.erase(order_.front());
        order_.pop_front();
      }
      ++stats_.computed;
    } else {
      ++stats_.shared;
    }
    entry = it->second;
  }
  // Outside the lock: one chip computes, the others asking for the same
  // tile wait here for it, and other tiles are not held up.
  std::call_once(entry->once, [&] {
    auto tile = std::make_shared<GemmTile>();
    SimRandom rng(work.input_seed.value_or(0));
    make_gemm_tile(sku, work, rng, *tile);
    entry->tile = std::move(tile);
  });
  return entry->tile;
}

SharedTileCache::Stats SharedTileCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace kiln::device
