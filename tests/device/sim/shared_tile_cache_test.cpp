// The rack's shared clean tiles (device/sim/shared_tile_cache.hpp): a chip
// sharing them returns bit for bit the tile it would have computed alone,
// faults included, and a fault on one chip never leaks into another's tile.

#include <memory>

#include <gtest/gtest.h>

#include "device/sim/shared_tile_cache.hpp"
#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

using test::big_gemm;
using test::chip_config;
using test::same_bits;
using test::sdc_fault;

GemmWork seeded(std::uint64_t seed) {
  GemmWork work = big_gemm(DType::bf16);
  work.input_seed = seed;
  return work;
}

std::unique_ptr<SimChip> chip(const Sku& sku, std::vector<Fault> faults, const char* serial,
                              std::shared_ptr<SharedTileCache> tiles) {
  SimChipConfig config = chip_config(sku, std::move(faults), serial);
  config.tiles = std::move(tiles);
  auto c = std::make_unique<SimChip>(std::move(config));
  c->start_run(7);
  return c;
}

TEST(SharedTileCache, ChipsSharingTilesReturnWhatEachWouldComputeAlone) {
  const Sku& sku = test::trn2();
  auto tiles = std::make_shared<SharedTileCache>();
  // Faulty at rate 1: every slice's tile is struck at core 1, PE [12, 40], bit 22.
  const auto healthy = chip(sku, {}, "T-0", tiles);
  const auto faulty = chip(sku, {sdc_fault(1.0)}, "T-1", tiles);
  const auto healthy_alone = chip(sku, {}, "T-0", nullptr);
  const auto faulty_alone = chip(sku, {sdc_fault(1.0)}, "T-1", nullptr);
  for (std::uint64_t slice = 0; slice < 4; ++slice) {
    const GemmWork work = seeded(1000 + slice);
    const GemmSlice h = healthy->run_gemm(work, Seconds{0.1});
    const GemmSlice f = faulty->run_gemm(work, Seconds{0.1});
    const GemmSlice ha = healthy_alone->run_gemm(work, Seconds{0.1});
    const GemmSlice fa = faulty_alone->run_gemm(work, Seconds{0.1});
    ASSERT_TRUE(h.tile && f.tile && ha.tile && fa.tile);
    EXPECT_TRUE(same_bits(h.tile->c, ha.tile->c));
    EXPECT_TRUE(same_bits(h.tile->a, ha.tile->a));
    EXPECT_TRUE(same_bits(f.tile->c, fa.tile->c));
    EXPECT_TRUE(same_bits(f.tile->b, fa.tile->b));
    // The fault struck a copy: the shared clean tile differs from it at one element only.
    EXPECT_NE(h.tile.get(), f.tile.get());
    std::size_t differing = 0;
    for (std::size_t e = 0; e < h.tile->c.size(); ++e) differing += h.tile->c[e] != f.tile->c[e] ? 1 : 0;
    EXPECT_EQ(differing, 1u);
  }
  EXPECT_EQ(faulty->injected_sdc_events(), 4u);
  EXPECT_EQ(faulty_alone->injected_sdc_events(), 4u);
  EXPECT_EQ(tiles->stats().computed, 4u);
  EXPECT_EQ(tiles->stats().shared, 4u);
}

TEST(SharedTileCache, HealthyChipsHandOutTheSameTileAndOwnSeedsAreNotShared) {
  const Sku& sku = test::trn2();
  auto tiles = std::make_shared<SharedTileCache>();
  const auto a = chip(sku, {}, "T-0", tiles);
  const auto b = chip(sku, {}, "T-1", tiles);
  const GemmSlice x = a->run_gemm(seeded(5), Seconds{0.1});
  const GemmSlice y = b->run_gemm(seeded(5), Seconds{0.1});
  EXPECT_EQ(x.tile.get(), y.tile.get());
  // Without a shared seed each chip draws from its own stream.
  const GemmSlice u = a->run_gemm(big_gemm(DType::bf16), Seconds{0.1});
  const GemmSlice v = b->run_gemm(big_gemm(DType::bf16), Seconds{0.1});
  EXPECT_FALSE(same_bits(u.tile->a, v.tile->a));
  EXPECT_EQ(tiles->stats().computed, 1u);
}

TEST(SharedTileCache, KeepsAtMostItsCapacity) {
  const Sku& sku = test::trn2();
  SharedTileCache tiles(2);
  const auto first = tiles.clean_tile(sku, seeded(1));
  (void)tiles.clean_tile(sku, seeded(2));
  (void)tiles.clean_tile(sku, seeded(3));  // evicts seed 1
  const auto again = tiles.clean_tile(sku, seeded(1));
  EXPECT_EQ(tiles.stats().computed, 4u);
  EXPECT_NE(first.get(), again.get());
  EXPECT_TRUE(same_bits(first->c, again->c));  // evicted tiles stay alive while held, and recompute the same
}

}  // namespace
}  // namespace kiln::device
