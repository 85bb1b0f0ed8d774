// hbm, shmoo and power on the real simulated chip: a planted fault is found
// where it was planted, and a healthy chip of the same rack shows nothing.
#include <gtest/gtest.h>

#include "agent_test_util.hpp"
#include "agents/chip_phase.hpp"
#include "agents/registration.hpp"
#include "device/lab.hpp"
#include "device/sim/sim_chip.hpp"
#include "device/sku.hpp"

namespace kiln::agent {
namespace {

using testing::drain;
using testing::phase;
using testing::step;

const std::string kSourceDir = KILN_SOURCE_DIR;

struct SimRack {
  std::vector<std::unique_ptr<device::Chip>> chips;

  // Slot 0 "SIM-00" is healthy, slot 1 "SIM-01" carries `fault`.
  explicit SimRack(const device::Fault& fault) {
    auto catalog = device::SkuCatalog::load_directory(kSourceDir + "/device/skus");
    EXPECT_TRUE(catalog.ok());
    device::Lab lab;
    lab.name = "pattern-test";
    lab.seed = 42;
    device::RackSpec rack;
    rack.id = "r01";
    rack.chips = {device::ChipSpec{0, "SIM-00", "trn2-sim", {}}, device::ChipSpec{1, "SIM-01", "trn2-sim", {fault}}};
    lab.racks.push_back(rack);
    auto made = device::make_sim_chips(lab, lab.racks[0], *catalog);
    EXPECT_TRUE(made.ok()) << made.error().message;
    if (made.ok()) chips = std::move(made).value();
  }

  testing::Drained run(const kiln::v1::StepSpec& s) {
    ChipPhaseOptions unpaced;
    unpaced.time_scale = 0;
    Outbox outbox("r01", 1);
    for (auto& chip : chips) {
      ChipRunState state;
      run_chip_phase(*chip, phase(1, {s}, {chip->identity().serial}), state, unpaced, outbox, std::stop_token{});
    }
    return drain(outbox);
  }
};

TEST(SimPatternTest, StuckHbmBitIsFoundAtItsStackChannelAndBit) {
  device::Fault stuck;
  stuck.kind = device::FaultKind::hbm_stuck;
  stuck.stack = 2;
  stuck.channel = 11;
  stuck.bit = 37;
  SimRack rack(stuck);
  ASSERT_EQ(rack.chips.size(), 2u);
  const auto out = rack.run(step(0, "hbm", 1.0, {{"test", "moving_inversions"}, {"fraction", "0.9"}}));
  const auto* healthy = out.result(0, "SIM-00");
  const auto* faulty = out.result(0, "SIM-01");
  ASSERT_NE(healthy, nullptr);
  ASSERT_NE(faulty, nullptr);
  EXPECT_TRUE(healthy->completed()) << healthy->note();
  EXPECT_TRUE(faulty->completed()) << faulty->note();
  EXPECT_EQ(healthy->detections_size(), 0);
  EXPECT_DOUBLE_EQ(healthy->metrics().at("memory_errors").max(), 0);
  // March C− runs at 0.88 of the SKU's 2900 GB/s.
  EXPECT_NEAR(healthy->metrics().at("hbm_gbps").avg(), 0.88 * 2900, 0.05 * 2900);

  ASSERT_EQ(faulty->detections_size(), 1);
  const auto& d = faulty->detections(0);
  EXPECT_EQ(d.cls(), kiln::v1::FAILURE_MEMORY_PATTERN);
  EXPECT_EQ(d.location().at("stack"), 2);
  EXPECT_EQ(d.location().at("channel"), 11);
  EXPECT_EQ(d.location().at("bit"), 37);
  EXPECT_GT(faulty->metrics().at("memory_errors").max(), 0);
}

TEST(SimPatternTest, MarginFaultFailsShmooPointsTheHealthyChipPasses) {
  device::Fault margin;
  margin.kind = device::FaultKind::margin;
  margin.fmax_offset_mhz = -400;
  SimRack rack(margin);
  ASSERT_EQ(rack.chips.size(), 2u);
  // Stock voltage (750 mV) up to the max clock (2400 MHz), 0.5 s per point.
  const auto out = rack.run(step(0, "shmoo", 3.0,
                                 {{"voltage_mv", "750"},
                                  {"clock_mhz", "1200,1600,1800,2000,2200,2400"},
                                  {"dtype", "bf16"},
                                  {"m", "2048"},
                                  {"n", "2048"},
                                  {"k", "2048"}}));
  const auto* healthy = out.result(0, "SIM-00");
  const auto* faulty = out.result(0, "SIM-01");
  ASSERT_NE(healthy, nullptr);
  ASSERT_NE(faulty, nullptr);
  EXPECT_TRUE(healthy->completed()) << healthy->note();
  EXPECT_TRUE(faulty->completed()) << faulty->note();
  EXPECT_EQ(healthy->detections_size(), 0) << healthy->note();
  EXPECT_DOUBLE_EQ(healthy->metrics().at("shmoo_failures").max(), 0);

  // 400 MHz less margin: the top clock fails, the bottom one passes.
  ASSERT_GE(faulty->detections_size(), 1) << faulty->note();
  bool top_failed = false;
  for (const auto& d : faulty->detections()) {
    EXPECT_EQ(d.cls(), kiln::v1::FAILURE_MARGIN);
    EXPECT_EQ(d.location().at("voltage_mv"), 750);
    EXPECT_GT(d.location().at("clock_mhz"), 1200);
    if (d.location().at("clock_mhz") == 2400) top_failed = true;
  }
  EXPECT_TRUE(top_failed) << faulty->note();
  // The map's one row (750 mV) passes at its lowest clock.
  ASSERT_EQ(faulty->shmoo().voltages_mv_size(), 1);
  EXPECT_EQ(faulty->shmoo().voltages_mv(0), 750);
  ASSERT_EQ(faulty->shmoo().outcomes_size(), 6);
  EXPECT_EQ(faulty->shmoo().outcomes(0), kiln::v1::SHMOO_PASS) << faulty->note();
}

TEST(SimPatternTest, PowerStepHoldsItsTarget) {
  device::Fault none;  // a fault that never fires: both chips healthy
  none.kind = device::FaultKind::hbm_ue;
  none.after = Seconds(1e9);
  SimRack rack(none);
  ASSERT_EQ(rack.chips.size(), 2u);
  const auto out = rack.run(step(0, "power", 20.0, {{"target_w", "300"}, {"pulse_hz", "0"}}));
  for (const auto* serial : {"SIM-00", "SIM-01"}) {
    const auto* r = out.result(0, serial);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(r->completed()) << r->note();
    // Averaged over the last 10 s, once the controller has settled.
    double sum = 0;
    int n = 0;
    for (const auto& s : out.samples) {
      if (s.serial() != serial || s.t_s() < 10) continue;
      sum += testing::value_of(s, "power_w").value_or(0);
      ++n;
    }
    ASSERT_GT(n, 0);
    EXPECT_NEAR(sum / n, 300, 15) << serial;
  }
}

TEST(SimPatternTest, HbmAndGemmInParallelShareTheChip) {
  device::Fault none;
  none.kind = device::FaultKind::hbm_ue;
  none.after = Seconds(1e9);
  SimRack rack(none);
  ASSERT_FALSE(rack.chips.empty());
  ChipPhaseOptions unpaced;
  unpaced.time_scale = 0;
  Outbox outbox("r01", 1);
  ChipRunState state;
  auto& chip = *rack.chips[0];
  run_chip_phase(chip,
                 phase(1,
                       {step(0, "hbm", 1.0, {{"test", "bandwidth"}, {"fraction", "0.9"}}),
                        step(1, "gemm", 1.0, testing::gemm_params())},
                       {chip.identity().serial}),
                 state, unpaced, outbox, std::stop_token{});
  const auto out = drain(outbox);
  const auto* hbm = out.result(0);
  const auto* gemm = out.result(1);
  ASSERT_NE(hbm, nullptr);
  ASSERT_NE(gemm, nullptr);
  EXPECT_TRUE(hbm->completed()) << hbm->note();
  EXPECT_TRUE(gemm->completed()) << gemm->note();
  EXPECT_NEAR(hbm->ran_s(), 1.0, 1e-9);
  // Half of each tick each: half the bandwidth of a step of its own.
  EXPECT_NEAR(hbm->metrics().at("hbm_gbps").avg(), 0.5 * 0.92 * 2900, 0.05 * 2900);
  EXPECT_EQ(hbm->detections_size(), 0);
  EXPECT_EQ(gemm->detections_size(), 0);
}

TEST(SimPatternTest, RegistrationPublishesThePeaksLimitsReferTo) {
  device::Fault none;
  none.kind = device::FaultKind::hbm_ue;
  none.after = Seconds(1e9);
  SimRack rack(none);
  ASSERT_FALSE(rack.chips.empty());
  const auto info = chip_info(*rack.chips[0]);
  EXPECT_DOUBLE_EQ(info.peaks().at("tdp_w"), 500);      // power_w {of: peak}
  EXPECT_DOUBLE_EQ(info.peaks().at("hbm_gbps"), 2900);  // hbm_gbps {of: peak}
}

}  // namespace
}  // namespace kiln::agent
