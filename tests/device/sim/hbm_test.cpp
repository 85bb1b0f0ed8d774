// HBM: bandwidth of each memory pattern, and a stuck bit found at its
// (stack, channel, bit) by patterns that really write, read back and compare.

#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "device/sim/hbm_model.hpp"
#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

using test::chip_config;

constexpr MemoryPattern kPatterns[] = {MemoryPattern::bandwidth, MemoryPattern::walking_ones,
                                       MemoryPattern::moving_inversions, MemoryPattern::random};

Fault stuck(int stack, int channel, int bit) {
  Fault f;
  f.kind = FaultKind::hbm_stuck;
  f.stack = stack;
  f.channel = channel;
  f.bit = bit;
  return f;
}

MemorySlice run(SimChip& chip, MemoryPattern pattern, double fraction = 0.9) {
  auto slice = chip.run_memory(MemoryWork{pattern, fraction}, Seconds{0.1});
  EXPECT_TRUE(slice) << slice.error().message;
  return slice ? std::move(*slice) : MemorySlice{};
}

TEST(Hbm, HealthyChipPassesEveryPatternAtItsBandwidth) {
  const Sku& sku = test::trn2();
  SimChip chip(chip_config(sku));
  for (const auto pattern : kPatterns) {
    SCOPED_TRACE(to_string(pattern));
    const MemorySlice slice = run(chip, pattern);
    EXPECT_EQ(slice.mismatch_count, 0u);
    EXPECT_TRUE(slice.mismatches.empty());
    EXPECT_DOUBLE_EQ(slice.gbps, sku.hbm_bandwidth_gbps * memory_pattern_efficiency(pattern));
    EXPECT_DOUBLE_EQ(slice.bytes, slice.gbps * 1e9 * 0.1);
    EXPECT_EQ(chip.telemetry().hbm_gbps, slice.gbps);
    EXPECT_EQ(chip.telemetry().utilization, 0.0);
  }
  EXPECT_EQ(chip.hbm().channels(), 64);
  EXPECT_EQ(parse_memory_pattern("moving_inversions"), MemoryPattern::moving_inversions);
  EXPECT_FALSE(parse_memory_pattern("march"));
}

TEST(Hbm, StuckBitIsFoundAtItsStackChannelAndBitByEveryPattern) {
  const Sku& sku = test::trn2();
  const std::uint64_t channel_bytes = static_cast<std::uint64_t>(sku.hbm_capacity_gib * 1073741824.0 / 64);
  std::set<bool> polarities;
  const Fault cases[] = {stuck(0, 0, 0), stuck(2, 9, 37), stuck(3, 15, 63), stuck(1, 4, 31)};
  for (std::size_t c = 0; c < std::size(cases); ++c) {
    const Fault& f = cases[c];
    for (int serial = 0; serial < 3; ++serial) {  // stuck-at-0 and stuck-at-1 both occur
      SimChip chip(chip_config(sku, {f}, fmt::format("M-{}-{}", c, serial)));
      for (const auto pattern : kPatterns) {
        SCOPED_TRACE(fmt::format("{} stack {} channel {} bit {}", to_string(pattern), f.stack, f.channel, f.bit));
        const MemorySlice slice = run(chip, pattern);
        ASSERT_GT(slice.mismatch_count, 0u);
        ASSERT_FALSE(slice.mismatches.empty());
        EXPECT_LE(slice.mismatches.size(), kMaxReportedMismatches);
        std::set<std::uint64_t> addresses;
        for (const auto& m : slice.mismatches) {
          EXPECT_EQ(m.stack, f.stack);
          EXPECT_EQ(m.channel, f.channel);
          EXPECT_EQ(m.bit, f.bit);
          EXPECT_EQ(m.address % 8, 0u);
          EXPECT_LT(m.address, channel_bytes);
          addresses.insert(m.address);
          polarities.insert(m.expected);
        }
        EXPECT_GT(addresses.size(), 1u);  // a stuck data line shows at every address
      }
    }
  }
  EXPECT_EQ(polarities.size(), 2u);
}

TEST(Hbm, StuckBitElsewhereLeavesOtherChannelsClean) {
  SimChip chip(chip_config(test::trn2(), {stuck(1, 2, 5)}));
  const MemorySlice slice = run(chip, MemoryPattern::moving_inversions);
  for (const auto& m : slice.mismatches) EXPECT_TRUE(m.stack == 1 && m.channel == 2);
}

TEST(Hbm, FractionBoundsTheAddressesCovered) {
  const Sku& sku = test::trn2();
  SimChip chip(chip_config(sku, {stuck(0, 1, 12)}));
  const std::uint64_t channel_bytes = static_cast<std::uint64_t>(sku.hbm_capacity_gib * 1073741824.0 / 64);
  const MemorySlice slice = run(chip, MemoryPattern::random, 0.25);
  ASSERT_FALSE(slice.mismatches.empty());
  for (const auto& m : slice.mismatches) EXPECT_LT(m.address, channel_bytes / 4 + 8);
  EXPECT_EQ(chip.run_memory(MemoryWork{MemoryPattern::random, 0}, Seconds{0.1}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(chip.run_memory(MemoryWork{MemoryPattern::random, 1.5}, Seconds{0.1}).error().code,
            ErrorCode::invalid_argument);
}

TEST(Hbm, HotMemoryLosesBandwidthToRefresh) {
  SimChip chip(chip_config(test::trn2()));
  const HbmModel& hbm = chip.hbm();
  EXPECT_DOUBLE_EQ(hbm.achieved_gbps(MemoryPattern::bandwidth, 90) / hbm.achieved_gbps(MemoryPattern::bandwidth, 60),
                   kHbmHotRefreshFactor);
  EXPECT_LT(hbm.achieved_gbps(MemoryPattern::random, 60), hbm.achieved_gbps(MemoryPattern::bandwidth, 60));
}

TEST(Hbm, HungChipMovesNothing) {
  Fault hang;
  hang.kind = FaultKind::hang;
  hang.after = Seconds{0};
  SimChip chip(chip_config(test::trn2(), {hang, stuck(0, 0, 1)}));
  const MemorySlice slice = run(chip, MemoryPattern::bandwidth);
  EXPECT_EQ(slice.bytes, 0.0);
  EXPECT_EQ(slice.mismatch_count, 0u);
  EXPECT_EQ(chip.telemetry().hbm_gbps, 0.0);
}

TEST(Hbm, GemmTrafficShowsInHbmBandwidthAndIdleClearsIt) {
  SimChip chip(chip_config(test::trn2()));
  (void)chip.run_gemm(test::big_gemm(DType::bf16, false), Seconds{0.1});
  const double gbps = chip.telemetry().hbm_gbps.value();
  EXPECT_GT(gbps, 0.0);
  EXPECT_LT(gbps, test::trn2().hbm_bandwidth_gbps);  // a large square GEMM is compute bound
  chip.idle(Seconds{0.1});
  EXPECT_EQ(chip.telemetry().hbm_gbps, 0.0);
}

}  // namespace
}  // namespace kiln::device
