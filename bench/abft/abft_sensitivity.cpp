// How small a flip ABFT sees (agents/abft.hpp), measured on the tiles the
// twin really makes: for every shipped SKU and every dtype, `tiles` random
// tiles (device/gemm_tile.hpp, data: random) each get one bit flipped at a
// random output element, for every bit 0–31; a flip counts as seen when
// verify_abft locates it at that element and bit. Clean tiles of the same
// shapes are checked first: any finding there would fail a good chip.
//
//   build/<dir>/bin/abft_sensitivity [--tiles N] [--seed S]
//
// Per SKU and dtype it prints the located share per bit, the lowest bit at
// which at least 50% / 99% / 100% of flips are located, and the clean tiles
// flagged. docs/verdicts.md quotes these figures.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agents/abft.hpp"
#include "device/gemm_tile.hpp"
#include "device/number_format.hpp"
#include "device/sim_random.hpp"
#include "device/sku.hpp"

namespace {

using kiln::device::DType;

struct Options {
  int tiles = 200;
  std::uint64_t seed = 1;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--tiles") {
      o.tiles = std::atoi(argv[i + 1]);
    } else if (flag == "--seed") {
      o.seed = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: abft_sensitivity [--tiles N] [--seed S]\n");
      std::exit(2);
    }
  }
  if (o.tiles <= 0) {
    std::fprintf(stderr, "--tiles must be positive\n");
    std::exit(2);
  }
  return o;
}

bool located(const kiln::agent::AbftReport& report, int row, int col, int bit) {
  for (const auto& f : report.findings) {
    if (f.row == row && f.col == col && f.bit == bit) return true;
  }
  return false;
}

// Lowest bit from which every higher bit is located in at least `share`.
int lowest_bit_at(const nlohmann::json& shares, double share) {
  int bit = 32;
  while (bit > 0 && shares[static_cast<std::size_t>(bit - 1)].get<double>() >= share) --bit;
  return bit;
}

nlohmann::json measure(const kiln::device::Sku& sku, DType dtype, const Options& o) {
  kiln::device::GemmWork work;
  work.dtype = dtype;
  work.data = kiln::device::DataKind::random;
  kiln::device::SimRandom rng(kiln::device::splitmix64(o.seed ^ static_cast<std::uint64_t>(dtype)));
  kiln::device::GemmTile tile;
  int clean_flagged = 0;
  int seen[32] = {};
  for (int t = 0; t < o.tiles; ++t) {
    kiln::device::make_gemm_tile(sku, work, rng, tile);
    auto clean = kiln::agent::verify_abft(tile);
    if (!clean || !clean->clean() || clean->bad_rows + clean->bad_cols > 0) ++clean_flagged;
    const auto elements = static_cast<std::uint64_t>(tile.c.size());
    for (int bit = 0; bit < 32; ++bit) {
      const auto e = static_cast<std::size_t>(rng.next() % elements);
      const float before = tile.c[e];
      tile.c[e] = kiln::device::flip_bit(before, bit);
      const int row = static_cast<int>(e / static_cast<std::size_t>(tile.cols));
      const int col = static_cast<int>(e % static_cast<std::size_t>(tile.cols));
      auto report = kiln::agent::verify_abft(tile);
      if (report && located(*report, row, col, bit)) ++seen[bit];
      tile.c[e] = before;
    }
  }
  nlohmann::json shares = nlohmann::json::array();
  for (int bit = 0; bit < 32; ++bit) shares.push_back(static_cast<double>(seen[bit]) / o.tiles);
  return {{"sku", sku.name},
          {"dtype", kiln::device::to_string(dtype)},
          {"tile", std::to_string(tile.rows) + "x" + std::to_string(tile.cols) + "x" + std::to_string(tile.depth)},
          {"tiles", o.tiles},
          {"clean_tiles_flagged", clean_flagged},
          {"located_share_by_bit", shares},
          {"lowest_bit_located_50pct", lowest_bit_at(shares, 0.5)},
          {"lowest_bit_located_99pct", lowest_bit_at(shares, 0.99)},
          {"lowest_bit_located_100pct", lowest_bit_at(shares, 1.0)}};
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  auto catalog = kiln::device::SkuCatalog::load_directory(std::string(KILN_SOURCE_DIR) + "/device/skus");
  if (!catalog) {
    std::fprintf(stderr, "abft_sensitivity: %s\n", catalog.error().message.c_str());
    return 1;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : catalog->names()) {
    const kiln::device::Sku& sku = *catalog->find(name);
    for (DType dtype : {DType::fp32, DType::bf16, DType::fp16, DType::fp8}) out.push_back(measure(sku, dtype, o));
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
