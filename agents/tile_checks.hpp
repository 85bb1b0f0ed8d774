#pragma once
// What the agent has already concluded about GEMM tiles, kept for the other
// chips of the rack. Chips running the same shared inputs hand out the very
// same immutable tile object (device/sim/shared_tile_cache.hpp) whenever no
// fault of theirs struck it; checking that object again for each of 64
// chips would only repeat the same pure computation. So each conclusion is
// kept by the identity of the objects it was drawn from — the tile (and
// for a comparison, the reference): an object the cache holds cannot be
// freed, and a returned tile is immutable (device::GemmSlice::tile), so the
// same object always gets the same answer. A tile a fault struck is a copy
// of the chip's own, a different object: it is checked in full.
//
// Bounded: the last `capacity` conclusions of each kind (first in, first
// out). Thread-safe: every chip thread of the executor asks.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "agents/abft.hpp"
#include "agents/tile_compare.hpp"
#include "core/result.hpp"
#include "device/chip.hpp"

namespace kiln::agent {

using TilePtr = std::shared_ptr<const device::GemmTile>;

class TileChecks {
 public:
  static constexpr std::size_t kDefaultCapacity = 64;
  explicit TileChecks(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // verify_abft(*tile).
  Result<AbftReport> abft(const TilePtr& tile);
  // validate_tile(*tile).
  Status validate(const TilePtr& tile);
  // The golden reference of `tile`'s inputs: a copy whose c the agent
  // computed itself (device::compute_gemm_tile).
  TilePtr reference(const TilePtr& tile);
  // compare_tiles(*tile, *reference).
  TileDifferences compare(const TilePtr& tile, const TilePtr& reference);

  struct Stats {
    std::uint64_t computed = 0;  // conclusions drawn
    std::uint64_t reused = 0;    // answered from what was kept
  };
  Stats stats() const;

 private:
  // A conclusion kept with the objects it is about (so they stay alive).
  template <typename Value>
  struct Memo {
    std::map<std::pair<const void*, const void*>, std::pair<std::pair<TilePtr, TilePtr>, Value>> entries;
    std::deque<std::pair<const void*, const void*>> order;
  };
  template <typename Value, typename Compute>
  Value remember(Memo<Value>& memo, const TilePtr& a, const TilePtr& b, Compute compute);

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  Memo<Result<AbftReport>> abft_;
  Memo<Status> valid_;
  Memo<TilePtr> reference_;
  Memo<TileDifferences> compare_;
  Stats stats_;
};

// A check through `checks` where the phase has one, else computed here.
Result<AbftReport> check_abft(TileChecks* checks, const TilePtr& tile);
Status check_valid(TileChecks* checks, const TilePtr& tile);
TilePtr golden_reference(TileChecks* checks, const TilePtr& tile);
TileDifferences compare_with(TileChecks* checks, const TilePtr& tile, const TilePtr& reference);

}  // namespace kiln::agent
