#pragma once
// Element-by-element comparison of a chip's GEMM tile with a reference
// tile of the same inputs (verify: golden, verify: vote): every element
// whose bits differ, located through the tile's PE geometry.

#include <cstdint>
#include <vector>

#include "agents/abft.hpp"
#include "device/chip.hpp"

namespace kiln::agent {

struct TileDifferences {
  std::vector<AbftFinding> findings;  // the first kMaxListed, row-major
  std::uint64_t count = 0;            // every differing element
  bool shape_mismatch = false;        // nothing comparable (different geometry)
  static constexpr std::size_t kMaxListed = 64;
};

TileDifferences compare_tiles(const device::GemmTile& mine, const device::GemmTile& reference);

// FNV-1a over the bits of c (and the shape).
std::uint64_t tile_hash(const device::GemmTile& tile);

}  // namespace kiln::agent
