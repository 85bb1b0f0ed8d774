// The real simulated chip through the step runner: the demo lab's planted
// SDC (core 1, PE [12, 40], bit 22) must be found exactly there.
#include <gtest/gtest.h>

#include "agent_test_util.hpp"
#include "agents/agent.hpp"
#include "agents/chip_phase.hpp"
#include "device/lab.hpp"
#include "device/sim/sim_chip.hpp"
#include "device/sku.hpp"

namespace kiln::agent {
namespace {

using testing::drain;
using testing::gemm_params;
using testing::phase;
using testing::step;

const std::string kSourceDir = KILN_SOURCE_DIR;

TEST(SimChipRunnerTest, DemoFaultIsLocalizedToItsPeAndBit) {
  auto catalog = device::SkuCatalog::load_directory(kSourceDir + "/device/skus");
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  device::Lab lab;
  lab.name = "sdc-test";
  lab.seed = 42;
  device::RackSpec rack;
  rack.id = "r02";
  device::Fault fault;
  fault.kind = device::FaultKind::sdc;
  fault.core = 1;
  fault.pe_row = 12;
  fault.pe_col = 40;
  fault.bit = 22;
  fault.rate = 1;
  rack.chips = {device::ChipSpec{0, "TRN-0200", "trn2-sim", {}}, device::ChipSpec{1, "TRN-0201", "trn2-sim", {fault}}};
  lab.racks.push_back(rack);
  auto chips = device::make_sim_chips(lab, lab.racks[0], *catalog);
  ASSERT_TRUE(chips.ok()) << chips.error().message;

  ChipPhaseOptions unpaced;
  unpaced.time_scale = 0;
  Outbox outbox("r02", 1);
  for (auto& chip : *chips) {
    ChipRunState state;
    run_chip_phase(*chip, phase(1, {step(0, "gemm", 3.0, gemm_params())}, {chip->identity().serial}), state, unpaced,
                   outbox, std::stop_token{});
  }
  const auto out = drain(outbox);
  const auto* healthy = out.result(0, "TRN-0200");
  const auto* faulty = out.result(0, "TRN-0201");
  ASSERT_NE(healthy, nullptr);
  ASSERT_NE(faulty, nullptr);
  EXPECT_TRUE(healthy->completed()) << healthy->note();
  EXPECT_TRUE(faulty->completed()) << faulty->note();
  EXPECT_EQ(healthy->detections_size(), 0);
  EXPECT_GT(healthy->metrics().at("tflops").avg(), 100);

  ASSERT_EQ(faulty->detections_size(), 1);
  const auto& d = faulty->detections(0);
  EXPECT_EQ(d.cls(), kiln::v1::FAILURE_SDC);
  EXPECT_EQ(d.location().at("core"), 1);
  EXPECT_EQ(d.location().at("pe_row"), 12);
  EXPECT_EQ(d.location().at("pe_col"), 40);
  EXPECT_EQ(d.location().at("bit"), 22);
  // Rate 1 flips that element in every slice; a flip of a value near zero
  // hides under the checksum tolerance, so most but not all are seen.
  const auto* sim = dynamic_cast<const device::SimChip*>((*chips)[1].get());
  ASSERT_NE(sim, nullptr);
  EXPECT_EQ(sim->injected_sdc_events(), 30u);
  EXPECT_GE(d.count(), 20u);
  EXPECT_LE(d.count(), 30u);
  EXPECT_TRUE(d.conditions().has_temperature_c());
  EXPECT_TRUE(d.conditions().has_clock_mhz());
  EXPECT_DOUBLE_EQ(faulty->metrics().at("sdc_errors").max(), static_cast<double>(d.count()));
}

TEST(SimChipRunnerTest, AgentBuildsTheDemoLabsSimChips) {
  auto catalog = device::SkuCatalog::load_directory(kSourceDir + "/device/skus");
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  auto lab = device::load_lab_file(kSourceDir + "/device/labs/demo.yaml", *catalog);
  ASSERT_TRUE(lab.ok()) << lab.error().message;
  AgentConfig config;
  config.rack = "r02";
  config.host = "127.0.0.1";
  config.port = 7450;
  config.credential = "secret";
  config.lab = *lab;
  config.catalog = *catalog;
  auto agent = Agent::create(std::move(config));
  ASSERT_TRUE(agent.ok()) << agent.error().message;  // never started: no daemon needed
}

}  // namespace
}  // namespace kiln::agent
