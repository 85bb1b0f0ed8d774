#include "agents/agent.hpp"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "schema/telemetry_chunk.hpp"

#include "agent_test_util.hpp"
#include "agents/outbox.hpp"
#include "fake_chip.hpp"
#include "tests/net/fake_server.hpp"

namespace kiln::agent {
namespace {

using namespace std::chrono_literals;
using net::testing::count_of;
using testing::FakeChip;
using FakeDaemon = net::testing::FakeServer;
using testing::gemm_params;
using testing::phase;
using testing::step;
using Body = kiln::v1::Envelope::BodyCase;

device::Lab test_lab(device::Backend backend = device::Backend::sim) {
  device::Lab lab;
  lab.name = "test";
  lab.time_scale = 100;
  device::RackSpec rack;
  rack.id = "r-test";
  rack.backend = backend;
  rack.chips = {device::ChipSpec{0, "F-00", "fake-sku", {}}, device::ChipSpec{1, "F-01", "fake-sku", {}}};
  lab.racks.push_back(rack);
  return lab;
}

AgentConfig config_for(std::uint16_t port, device::Lab lab = test_lab()) {
  AgentConfig c;
  c.rack = "r-test";
  c.host = "127.0.0.1";
  c.port = port;
  c.credential = "secret";
  c.lab = std::move(lab);
  c.flush_interval = 20ms;
  return c;
}

std::vector<std::unique_ptr<device::Chip>> fake_chips() {
  std::vector<std::unique_ptr<device::Chip>> chips;
  chips.push_back(std::make_unique<FakeChip>("F-00", 0));
  chips.push_back(std::make_unique<FakeChip>("F-01", 1));
  return chips;
}

std::vector<kiln::v1::ChipStepResult> results_in(const FakeDaemon::Envelopes& all) {
  std::vector<kiln::v1::ChipStepResult> out;
  for (const auto& e : all) {
    if (!e.has_agent_batch()) continue;
    for (const auto& r : e.agent_batch().results()) out.push_back(r);
  }
  return out;
}

kiln::v1::Envelope wrap(const kiln::v1::PhaseDispatch& d) {
  kiln::v1::Envelope e;
  *e.mutable_phase_dispatch() = d;
  return e;
}

TEST(AgentTest, RegistersItsChipsWithTheirPeaks) {
  FakeDaemon daemon;
  auto agent = Agent::create(config_for(daemon.port()), fake_chips());
  ASSERT_TRUE(agent.ok()) << agent.error().message;
  (*agent)->start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  kiln::v1::RegisterRack reg;
  for (const auto& e : daemon.received()) {
    if (e.has_register_rack()) reg = e.register_rack();
  }
  EXPECT_EQ(reg.rack(), "r-test");
  EXPECT_EQ(reg.lab(), "test");
  EXPECT_EQ(reg.backend(), "sim");
  EXPECT_EQ(reg.topology(), "ring");
  EXPECT_EQ(reg.epoch(), (*agent)->epoch());
  EXPECT_DOUBLE_EQ(reg.time_scale(), 100);
  ASSERT_EQ(reg.chips_size(), 2);
  const auto& chip = reg.chips(1);
  EXPECT_EQ(chip.serial(), "F-01");
  EXPECT_EQ(chip.slot(), 1u);
  EXPECT_EQ(chip.sku(), "fake-sku");
  EXPECT_DOUBLE_EQ(chip.peak_tflops_bf16(), 100);
  EXPECT_DOUBLE_EQ(chip.peaks().at("tflops.bf16"), 100);
  EXPECT_DOUBLE_EQ(chip.peaks().at("tflops.fp32"), 25);
  EXPECT_EQ(chip.peaks().count("tflops.fp8"), 0u);
  EXPECT_DOUBLE_EQ(chip.peaks().at("hbm_gbps"), 1000);
  EXPECT_DOUBLE_EQ(chip.peaks().at("link_gbps"), 50);
  EXPECT_EQ(chip.peaks().count("tdp_w"), 0u);  // the fake SKU declares no TDP
  EXPECT_TRUE((*agent)->connected());
}

TEST(AgentTest, RunsADispatchedPhaseOnEveryChipAndReportsResults) {
  FakeDaemon daemon;
  auto agent = Agent::create(config_for(daemon.port()), fake_chips());
  ASSERT_TRUE(agent.ok());
  (*agent)->start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));

  // 1 chip second at time scale 100: about 10 ms.
  daemon.send(wrap(phase(1, {step(0, "idle", 1.0), step(1, "gemm", 0.5, gemm_params())}, {"F-00", "F-01"})));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return results_in(all).size() == 4; }));
  for (const auto& r : results_in(daemon.received())) {
    EXPECT_TRUE(r.completed()) << r.serial() << " step " << r.step_index() << ": " << r.note();
    EXPECT_EQ(r.run_id(), 1u);
  }
  int samples = 0;
  for (const auto& e : daemon.received()) {
    if (!e.has_agent_batch()) continue;
    samples += e.agent_batch().samples_size();
    // Samples travel as chunks: a chunk holds as many samples as its longest series has points.
    for (const auto& chunk : e.agent_batch().chunks()) {
      auto series = store::chunk::decode(chunk.data());
      ASSERT_TRUE(series) << series.error().message;
      std::size_t most = 0;
      for (const auto& s : *series) most = std::max(most, s.points.size());
      samples += static_cast<int>(most);
    }
  }
  EXPECT_EQ(samples, 2 * (10 + 5));
  ASSERT_TRUE([&] {
    for (int i = 0; i < 200 && !(*agent)->outbox().idle(); ++i) std::this_thread::sleep_for(10ms);
    return (*agent)->outbox().idle();
  }()) << "every batch acknowledged";
}

TEST(AgentTest, PhaseAbortStopsTheRunAndReportsUnfinishedSteps) {
  FakeDaemon daemon;
  auto agent = Agent::create(config_for(daemon.port()), fake_chips());
  ASSERT_TRUE(agent.ok());
  (*agent)->start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  daemon.send(wrap(phase(2, {step(0, "gemm", 100000.0, gemm_params())}, {"F-00", "F-01"})));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) >= 2; }));
  kiln::v1::Envelope abort;
  abort.mutable_phase_abort()->set_run_id(2);
  abort.mutable_phase_abort()->set_reason("operator");
  daemon.send(abort);
  ASSERT_TRUE(daemon.wait([](const auto& all) { return results_in(all).size() == 2; }, 3000ms));
  for (const auto& r : results_in(daemon.received())) {
    EXPECT_FALSE(r.completed());
    EXPECT_EQ(r.note(), "aborted");
  }
}

TEST(AgentTest, UnknownChipInADispatchStillGetsAResult) {
  FakeDaemon daemon;
  auto agent = Agent::create(config_for(daemon.port()), fake_chips());
  ASSERT_TRUE(agent.ok());
  (*agent)->start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  daemon.send(wrap(phase(3, {step(0, "idle", 0.1)}, {"ZZ-99"})));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return results_in(all).size() == 1; }));
  const auto r = results_in(daemon.received())[0];
  EXPECT_EQ(r.serial(), "ZZ-99");
  EXPECT_FALSE(r.completed());
  EXPECT_EQ(r.note(), "chip ZZ-99 is not in rack r-test");
}

TEST(AgentTest, StopAbortsRunningStepsAndFlushesTheirResults) {
  FakeDaemon daemon;
  auto agent = Agent::create(config_for(daemon.port()), fake_chips());
  ASSERT_TRUE(agent.ok());
  (*agent)->start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  daemon.send(wrap(phase(4, {step(0, "idle", 100000.0)}, {"F-00", "F-01"})));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) >= 1; }));
  const auto before = std::chrono::steady_clock::now();
  (*agent)->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1500ms);
  ASSERT_TRUE(daemon.wait([](const auto& all) { return results_in(all).size() == 2; }, 2000ms));
  for (const auto& r : results_in(daemon.received())) EXPECT_EQ(r.note(), "aborted");
  (*agent)->stop();  // idempotent
}

TEST(AgentTest, RefusedCredentialIsFatal) {
  FakeDaemon daemon;
  daemon.refuse = true;
  auto agent = Agent::create(config_for(daemon.port()), fake_chips());
  ASSERT_TRUE(agent.ok());
  (*agent)->start();
  for (int i = 0; i < 500 && !(*agent)->fatal(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE((*agent)->fatal());
  EXPECT_EQ((*agent)->fatal_reason(), "unknown credential");
}

TEST(AgentTest, CreateRefusesWhatItCannotRun) {
  auto cuda = Agent::create(config_for(7450, test_lab(device::Backend::cuda)));
  ASSERT_FALSE(cuda.ok());
  EXPECT_EQ(cuda.error().message, "backend cuda is not built into this binary (built: sim, cpu)");

  auto config = config_for(7450);
  config.rack = "r-nope";
  auto unknown = Agent::create(std::move(config), fake_chips());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "rack 'r-nope' is not in lab 'test'");

  auto no_secret = config_for(7450);
  no_secret.credential.clear();
  EXPECT_FALSE(Agent::create(std::move(no_secret), fake_chips()).ok());

  // A sim rack whose SKU the catalog does not know.
  auto sim = Agent::create(config_for(7450));
  ASSERT_FALSE(sim.ok());
  EXPECT_NE(sim.error().message.find("fake-sku"), std::string::npos) << sim.error().message;
}

}  // namespace
}  // namespace kiln::agent
