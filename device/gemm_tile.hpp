#pragma once
// The functional verification tile of a simulated GEMM slice (see GemmTile
// in chip.hpp): real numbers, really multiplied, on a grid that maps every
// output element to the processing element that computed it.

#include <cstddef>
#include <span>

#include "device/chip.hpp"
#include "device/sim_random.hpp"
#include "device/sku.hpp"

namespace kiln::device {

// Inner dimension of the tile: enough products per element that a flipped
// bit anywhere in the accumulation shows, cheap enough to run every slice.
inline constexpr int kTileMaxDepth = 16;

// Shapes `tile` for `sku` and `work` (rows = pe_rows, cols = cores × pe_cols,
// depth = min(k, kTileMaxDepth)), fills a and b for work.data rounded to
// work.dtype (drawing from `rng` for DataKind::random only), and computes c.
// Reuses the tile's storage when it already has the right size.
void make_gemm_tile(const Sku& sku, const GemmWork& work, SimRandom& rng, GemmTile& tile);

// c = a × b with the contract's loop order; a and b must be filled.
void compute_gemm_tile(GemmTile& tile);

// One output element recomputed exactly as the chip must have computed it:
// s = +0, then s = s + a[i][p] * b[p][j] for p = 0..depth-1, each product
// and sum rounded to fp32 separately (never fused). A verifier compares the
// bits of this against tile.c[i * cols + j].
float tile_reference_element(const GemmTile& tile, int i, int j);

// Which output element (row, column of c) PE (pe_row, pe_col) of `core`
// computed.
inline int tile_column(const GemmTile& tile, int core, int pe_col) { return core * tile.pe_cols + pe_col; }

// One corrupted output element: `bit` of c[element] flipped. A simulated
// fault says where it strikes; the chip applies it to its own copy of the
// slice's tile (the clean one may be shared, device/sim/shared_tile_cache.hpp).
struct TileFlip {
  std::size_t element = 0;  // index into c
  int bit = 0;              // 0..31
};
void apply_flips(GemmTile& tile, std::span<const TileFlip> flips);

}  // namespace kiln::device
