#pragma once
// The clean verification tiles of one rack's simulated chips, computed once
// and shared. A tile whose inputs come from a shared seed (GemmWork::
// input_seed: every chip of a run draws the same data for the same slice)
// has the same clean result on every chip of the same SKU, so the rack
// computes it once; each chip then applies its own faults to a private copy
// (copy on write), and a chip without a fault this slice hands out the
// shared tile itself. What a chip returns is bit for bit what it would have
// computed alone (tests/device/sim/shared_tile_cache_test.cpp), so
// verification sees the same numbers; it only costs less.
//
// Bounded: at most `capacity` tiles are kept (first in, first out: chips
// move forward through their slices together); a tile evicted while some
// chip still holds it lives on until that chip lets go. Thread-safe: the
// chips of a rack run on their own threads, and a tile several of them ask
// for at once is computed by one while the others wait for it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "device/chip.hpp"
#include "device/sku.hpp"

namespace kiln::device {

class SharedTileCache {
 public:
  // 64 trn2-sim tiles (0.6 MiB each) are ≈ 38 MiB.
  static constexpr std::size_t kDefaultCapacity = 64;

  explicit SharedTileCache(std::size_t capacity = kDefaultCapacity);

  // The clean tile of `work` (which must have an input_seed) on `sku`:
  // make_gemm_tile with a SimRandom seeded by *work.input_seed.
  std::shared_ptr<const GemmTile> clean_tile(const Sku& sku, const GemmWork& work);

  struct Stats {
    std::uint64_t computed = 0;  // tiles computed (misses)
    std::uint64_t shared = 0;    // tiles handed out without computing (hits)
  };
  Stats stats() const;

 private:
  using Key = std::tuple<std::string, int, int, int, int, int, int, std::uint64_t>;
  struct Entry {
    std::once_flag once;
    std::shared_ptr<const GemmTile> tile;
  };
  static Key key_of(const Sku& sku, const GemmWork& work);

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::map<Key, std::shared_ptr<Entry>> entries_;
  std::deque<Key> order_;  // oldest first
  Stats stats_;
};

}  // namespace kiln::device
