#include "agents/tile_compare.hpp"

#include <bit>
#include <cstring>

namespace kiln::agent {

TileDifferences compare_tiles(const device::GemmTile& mine, const device::GemmTile& reference) {
  TileDifferences out;
  if (mine.c.size() != reference.c.size() || mine.cols != reference.cols || mine.cols <= 0) {
    out.shape_mismatch = true;
    out.count = 1;
    return out;
  }
  for (std::size_t e = 0; e < mine.c.size(); ++e) {
    const auto got = std::bit_cast<std::uint32_t>(mine.c[e]);
    const auto want = std::bit_cast<std::uint32_t>(reference.c[e]);
    if (got == want) continue;
    ++out.count;
    if (out.findings.size() >= TileDifferences::kMaxListed) continue;
    AbftFinding f;
    f.row = static_cast<int>(e / static_cast<std::size_t>(mine.cols));
    f.col = static_cast<int>(e % static_cast<std::size_t>(mine.cols));
    f.core = mine.pe_cols > 0 ? f.col / mine.pe_cols : 0;
    f.pe_row = f.row;
    f.pe_col = mine.pe_cols > 0 ? f.col % mine.pe_cols : f.col;
    f.expected = reference.c[e];
    f.actual = mine.c[e];
    f.bit = 31 - std::countl_zero(got ^ want);
    out.findings.push_back(f);
  }
  return out;
}

std::uint64_t tile_hash(const device::GemmTile& tile) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&](std::uint32_t bits) {
    for (int i = 0; i < 4; ++i) {
      h ^= (bits >> (8 * i)) & 0xffu;
      h *= 0x100000001b3ULL;
    }
  };
  mix(static_cast<std::uint32_t>(tile.rows));
  mix(static_cast<std::uint32_t>(tile.cols));
  for (const float v : tile.c) mix(std::bit_cast<std::uint32_t>(v));
  return h;
}

}  // namespace kiln::agent
