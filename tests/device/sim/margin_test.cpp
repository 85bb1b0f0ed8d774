// Power against V²·f and throttling, timing margin fmax(V, T), the margin
// fault and operating points (what a shmoo sweeps).

#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "device/gemm_tile.hpp"
#include "device/number_format.hpp"
#include "device/sim/compute_model.hpp"
#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

using test::big_gemm;
using test::chip_config;

Fault margin_fault(double offset_mhz) {
  Fault f;
  f.kind = FaultKind::margin;
  f.fmax_offset_mhz = offset_mhz;
  return f;
}

// Elements of the tile that differ from an exact recomputation.
std::vector<int> corrupted_elements(const GemmTile& tile) {
  std::vector<int> bad;
  for (int i = 0; i < tile.rows; ++i) {
    for (int j = 0; j < tile.cols; ++j) {
      const float c = tile.c[static_cast<std::size_t>(i * tile.cols + j)];
      if (float_bits(c) != float_bits(tile_reference_element(tile, i, j))) bad.push_back(i * tile.cols + j);
    }
  }
  return bad;
}

TEST(Power, FollowsActivityAndVoltageSquaredTimesClock) {
  const Sku& sku = test::trn2();
  SimChip chip(chip_config(sku));
  (void)chip.run_gemm(big_gemm(DType::bf16, false), Seconds{0.1});
  const double stock = chip.telemetry().power_w.value();
  EXPECT_DOUBLE_EQ(stock, sku.idle_w + (sku.tdp_w - sku.idle_w) * gemm_activity(DType::bf16));
  ASSERT_TRUE(chip.set_operating_point(1.1 * sku.nominal_voltage_mv, 0.5 * sku.max_clock_mhz).ok());
  (void)chip.run_gemm(big_gemm(DType::bf16, false), Seconds{0.1});
  const double dynamic = chip.telemetry().power_w.value() - sku.idle_w;
  EXPECT_NEAR(dynamic / (stock - sku.idle_w), 1.1 * 1.1 * 0.5, 1e-12);
  (void)chip.run_memory(MemoryWork{}, Seconds{0.1});
  EXPECT_LT(chip.telemetry().power_w.value(), stock);  // memory patterns switch less than a GEMM
}

TEST(Power, ThrottlingLowersPower) {
  Fault cooling;
  cooling.kind = FaultKind::cooling;
  cooling.r_th_factor = 1.3;
  SimChip chip(chip_config(test::trn2(), {cooling}));
  (void)chip.run_gemm(big_gemm(DType::fp8, false), Seconds{0.1});
  const double unthrottled = chip.telemetry().power_w.value();
  double lowest = unthrottled;
  int throttled_slices = 0;
  for (int i = 0; i < 6000; ++i) {
    (void)chip.run_gemm(big_gemm(DType::fp8, false), Seconds{0.1});
    if (chip.telemetry().throttled == true) {
      ++throttled_slices;
      lowest = std::min(lowest, chip.telemetry().power_w.value());
    }
  }
  ASSERT_GT(throttled_slices, 0);
  // At least one throttle step: the dynamic part shrinks with the clock.
  EXPECT_LE(lowest, test::trn2().idle_w + (unthrottled - test::trn2().idle_w) * kThrottleStep + 1e-9);
}

TEST(TimingMargin, FmaxVariesSlightlyPerSerialButNotPerRun) {
  const Sku& sku = test::trn2();
  std::set<double> factors;
  for (int s = 0; s < 20; ++s) {
    SimChip chip(chip_config(sku, {}, fmt::format("S-{}", s)));
    const double f = chip.margin().silicon_factor();
    EXPECT_GE(f, 1.0 - kSiliconSpread);
    EXPECT_LE(f, 1.0 + kSiliconSpread);
    factors.insert(f);
    const double before = chip.margin().fmax_mhz(sku.nominal_voltage_mv, 60);
    chip.start_run(99);
    EXPECT_EQ(chip.margin().fmax_mhz(sku.nominal_voltage_mv, 60), before);
    // A healthy part keeps margin at stock settings up to its critical temperature.
    EXPECT_GT(chip.margin().fmax_mhz(sku.nominal_voltage_mv, sku.critical_c), sku.max_clock_mhz);
  }
  EXPECT_EQ(factors.size(), 20u);
}

TEST(TimingMargin, FmaxRisesWithVoltageFallsWithTemperatureAndMovesByTheFaultOffset) {
  const Sku& sku = test::h100();
  SimChip healthy(chip_config(sku, {}, "H-1"));
  SimChip faulted(chip_config(sku, {margin_fault(-150)}, "H-1"));
  const TimingMargin& m = healthy.margin();
  const double v = sku.nominal_voltage_mv;
  EXPECT_GT(m.fmax_mhz(1.1 * v, 60), m.fmax_mhz(v, 60));
  EXPECT_LT(m.fmax_mhz(v, 95), m.fmax_mhz(v, 40));
  EXPECT_DOUBLE_EQ(faulted.margin().fmax_mhz(v, 60), m.fmax_mhz(v, 60) - 150);
  EXPECT_EQ(m.failure_probability(v, m.fmax_mhz(v, 60) - 1, 60), 0.0);
  EXPECT_NEAR(m.failure_probability(v, m.fmax_mhz(v, 60) + 50, 60), 0.5, 1e-9);
}

// A small shmoo: voltage × clock, a few verified GEMM slices per point.
struct Shmoo {
  std::vector<std::pair<double, double>> points;  // (voltage, clock)
  std::vector<bool> failed;
  std::set<int> corrupted_positions;
};

Shmoo sweep(SimChip& chip) {
  const Sku& sku = chip.sku();
  Shmoo out;
  for (const double vs : {0.9, 1.0, 1.1}) {
    for (double cs = 0.80; cs <= 1.201; cs += 0.05) {
      const double v = vs * sku.nominal_voltage_mv, f = cs * sku.max_clock_mhz;
      EXPECT_TRUE(chip.set_operating_point(v, f).ok());
      bool failed = false;
      for (int i = 0; i < 3; ++i) {
        auto slice = chip.run_gemm(big_gemm(DType::bf16, true), Seconds{0.1});
        const auto bad = corrupted_elements(*slice.tile);
        failed = failed || !bad.empty();
        out.corrupted_positions.insert(bad.begin(), bad.end());
      }
      chip.idle(Seconds{5});  // cool between points, as a shmoo would
      out.points.emplace_back(v, f);
      out.failed.push_back(failed);
    }
  }
  chip.clear_operating_point();
  return out;
}

TEST(TimingMargin, MarginFaultedChipFailsShmooPointsAHealthyChipPasses) {
  for (const char* serial : {"H-7", "H-8", "H-9"}) {
    SCOPED_TRACE(serial);
    // Same serial: the same die corner, only the fault differs.
    SimChip healthy(chip_config(test::h100(), {}, serial));
    SimChip faulted(chip_config(test::h100(), {margin_fault(-200)}, serial));
    const Shmoo h = sweep(healthy);
    const Shmoo f = sweep(faulted);
    int only_faulted = 0;
    for (std::size_t p = 0; p < h.points.size(); ++p) {
      const auto [v, clock] = h.points[p];
      if (h.failed[p]) {
        EXPECT_TRUE(f.failed[p]) << v << " mV " << clock << " MHz";
      }
      if (f.failed[p] && !h.failed[p]) ++only_faulted;
      // Inside the healthy margin at any temperature nothing fails; well
      // past the faulted one even when cold, every point does.
      if (clock < healthy.margin().fmax_mhz(v, test::h100().critical_c)) {
        EXPECT_FALSE(h.failed[p]) << v << " " << clock;
      }
      if (clock > faulted.margin().fmax_mhz(v, 25) + 30) {
        EXPECT_TRUE(f.failed[p]) << v << " " << clock;
      }
    }
    EXPECT_GT(only_faulted, 0);
    EXPECT_GT(f.corrupted_positions.size(), 3u);  // random PEs, not one
    EXPECT_EQ(faulted.injected_sdc_events(), 0u);
    EXPECT_GT(faulted.injected_margin_events(), 0u);
  }
}

TEST(TimingMargin, StockSettingsOnAHealthyChipNeverCorrupt) {
  SimChip chip(chip_config(test::h100(), {}, "H-2"));
  for (int i = 0; i < 200; ++i) {
    auto slice = chip.run_gemm(big_gemm(DType::fp8, true), Seconds{0.1});
    ASSERT_TRUE(corrupted_elements(*slice.tile).empty());
  }
  EXPECT_EQ(chip.injected_margin_events(), 0u);
}

TEST(OperatingPoint, OutOfRangeIsRefusedAndANewRunRestoresStock) {
  const Sku& sku = test::trn2();
  SimChip chip(chip_config(sku));
  EXPECT_EQ(chip.set_operating_point(2 * sku.nominal_voltage_mv, 1000).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(chip.set_operating_point(sku.nominal_voltage_mv, 0).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(chip.set_operating_point(sku.nominal_voltage_mv, 2 * sku.max_clock_mhz).error().code,
            ErrorCode::invalid_argument);
  ASSERT_TRUE(chip.set_operating_point(800, 2000).ok());
  EXPECT_EQ(chip.telemetry().voltage_mv, 800.0);
  EXPECT_EQ(chip.telemetry().clock_mhz, 2000.0);
  const double flops = chip.run_gemm(big_gemm(DType::bf16, false), Seconds{0.1}).flops;
  chip.clear_operating_point();
  EXPECT_NEAR(chip.run_gemm(big_gemm(DType::bf16, false), Seconds{0.1}).flops / flops, 2400.0 / 2000.0, 1e-12);
  ASSERT_TRUE(chip.set_operating_point(800, 2000).ok());
  chip.start_run(3);
  EXPECT_EQ(chip.telemetry().voltage_mv, sku.nominal_voltage_mv);
  EXPECT_EQ(chip.telemetry().clock_mhz, sku.max_clock_mhz);
}

// A chip that only implements the required part of the interface.
class BareChip final : public Chip {
 public:
  const ChipIdentity& identity() const override { return identity_; }
  const Sku& sku() const override { return test::trn2(); }
  void start_run(std::uint64_t) override {}
  Seconds now() const override { return Seconds{0}; }
  GemmSlice run_gemm(const GemmWork&, Seconds dt) override { return GemmSlice{dt, 0, 0, {}}; }
  void idle(Seconds) override {}
  Telemetry telemetry() const override { return {}; }
  bool hung() const override { return false; }

 private:
  ChipIdentity identity_;
};

TEST(OperatingPoint, ChipsWithoutTheModelSayUnavailableNotPass) {
  BareChip chip;
  EXPECT_EQ(chip.set_operating_point(750, 2000).error().code, ErrorCode::unavailable);
  EXPECT_EQ(chip.run_memory(MemoryWork{}, Seconds{0.1}).error().code, ErrorCode::unavailable);
  chip.clear_operating_point();  // harmless
}

}  // namespace
}  // namespace kiln::device
