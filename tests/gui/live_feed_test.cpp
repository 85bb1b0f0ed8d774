// The daemon's live feed, end to end through the dashboard's network link
// (no Qt): an in-process daemon with the demo lab's simulated agents.

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "gui/model/lab_state.hpp"
#include "gui/net/daemon_link.hpp"
#include "tests/integration/lab_fixture.hpp"

namespace kiln::gui {
namespace {

using namespace std::chrono_literals;

std::string read_source(const std::string& path) {
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/" + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Collects what the link stages, as the GUI thread would.
struct Collector {
  LiveStaging staging;
  LabState lab;
  std::vector<kiln::v1::LiveUpdate> updates;
  std::map<std::uint64_t, kiln::v1::RunLive> runs;
  std::vector<kiln::v1::Alarm> alarms;
  std::map<std::uint64_t, kiln::v1::Envelope> replies;
  LinkState link;

  void drain() {
    Staged s = staging.take();
    if (s.link) link = *s.link;
    for (auto& u : s.updates) {
      lab.apply(u, 0);
      for (const auto& r : u.runs()) runs[r.run_id()] = r;
      for (const auto& a : u.alarms()) alarms.push_back(a);
      updates.push_back(std::move(u));
    }
    for (auto& r : s.replies) replies[r.request_id] = std::move(r.envelope);
  }
  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      drain();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
  }
};

class LiveFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_.start(read_source("device/labs/demo.yaml"));
    fixture_.wait_for_racks(2);
  }
  LinkConfig config(double hz) const {
    LinkConfig c;
    c.endpoint = Endpoint{"127.0.0.1", fixture_.port()};
    c.credential = fixture_.credential();
    c.max_hz = hz;
    return c;
  }
  // A lost agent is given up soon: the run ends instead of waiting for it.
  testing::LabFixture fixture_{[] {
    testing::LabExtensions extensions;
    extensions.rack_return_timeout = std::chrono::milliseconds(300);
    return extensions;
  }()};
};

TEST_F(LiveFeedTest, SnapshotThenLiveChipsProgressVerdictsAndFailureAlarms) {
  Collector got;
  DaemonLink link(got.staging);
  link.start(config(5));
  ASSERT_TRUE(got.wait([&] { return got.lab.chips().size() == 16; }, 10s)) << "no snapshot of the demo lab";
  EXPECT_TRUE(got.updates.front().full());
  EXPECT_EQ(got.link.phase, LinkPhase::connected);
  EXPECT_TRUE(got.lab.rack_connected("r01"));
  EXPECT_TRUE(got.lab.rack_connected("r02"));
  EXPECT_EQ(got.lab.find("TRN-0205")->slot, 5u);
  EXPECT_GT(got.lab.find("TRN-0205")->peaks.at("tflops.bf16"), 0);

  const std::uint64_t run = fixture_.submit(read_source("testplans/smoke.yaml"), 1);
  ASSERT_TRUE(got.wait(
      [&] {
        const ChipState* c = got.lab.find("R01-03");
        return c && c->run_id == run && c->verdict == "running" && !std::isnan(got.lab.value(*c, "temperature_c"));
      },
      20s))
      << "no live sample of a running chip";
  ASSERT_TRUE(
      got.wait([&] { return got.runs.contains(run) && got.runs[run].state() == kiln::v1::LIVE_RUN_RUNNING; }, 10s));
  EXPECT_EQ(got.runs[run].phases(), 2u);
  EXPECT_EQ(got.lab.find("R01-03")->step, "gemm-bf16");

  fixture_.wait_for_run(run);
  ASSERT_TRUE(got.wait(
      [&] {
        return got.runs[run].state() == kiln::v1::LIVE_RUN_ENDED && got.lab.find("TRN-0205")->verdict == "fail" &&
               got.lab.find("R01-00")->verdict == "pass";
      },
      10s))
      << "final verdicts did not reach the feed; TRN-0205 is " << got.lab.find("TRN-0205")->verdict;
  bool sdc_alarm = false;
  for (const auto& a : got.alarms)
    sdc_alarm = sdc_alarm || (a.kind() == kiln::v1::ALARM_FAILURE && a.serial() == "TRN-0205");
  EXPECT_TRUE(sdc_alarm) << "the planted SDC must raise a failure alarm";
  for (const auto& a : got.alarms) {
    EXPECT_FALSE(a.kind() == kiln::v1::ALARM_FAILURE && a.serial() != "TRN-0205") << a.message();
  }

  // Nothing changes once the run is over: the feed goes quiet.
  std::this_thread::sleep_for(500ms);
  got.drain();
  const std::size_t before = got.updates.size();
  std::this_thread::sleep_for(1200ms);
  got.drain();
  EXPECT_EQ(got.updates.size(), before) << "deltas must carry changes only";
}

TEST_F(LiveFeedTest, HonoursTheRateAndReportsALostAgent) {
  Collector got;
  DaemonLink link(got.staging);
  link.start(config(2));
  ASSERT_TRUE(got.wait([&] { return got.lab.chips().size() == 16; }, 10s));
  const std::uint64_t run = fixture_.submit(read_source("testplans/smoke.yaml"), 1);
  ASSERT_TRUE(got.wait([&] { return got.lab.find("R01-00")->run_id == run; }, 20s));
  got.updates.clear();
  // The feed keeps coming while chips run (agents send each chip's values at
  // least once a second), and at most 2 Hz: consecutive updates (one frame
  // each at 16 chips) at least 500 ms apart by the daemon's clock, less a
  // little tick jitter.
  ASSERT_TRUE(got.wait([&] { return got.updates.size() >= 4; }, 10s)) << got.updates.size() << " updates";
  for (std::size_t i = 1; i < got.updates.size(); ++i) {
    EXPECT_GE(got.updates[i].sent_unix_ms() - got.updates[i - 1].sent_unix_ms(), 450) << "update " << i;
  }

  fixture_.stop_agent("r01");
  ASSERT_TRUE(got.wait([&] { return !got.lab.rack_connected("r01"); }, 10s));
  bool lost = false;
  for (const auto& a : got.alarms) lost = lost || (a.kind() == kiln::v1::ALARM_AGENT_LOST && a.rack() == "r01");
  EXPECT_TRUE(lost);
  fixture_.wait_for_run(run);
}

TEST(DaemonLink, ReconnectsWithBackoffAndFailsRequestsWhileDown) {
  Collector got;
  DaemonLink link(got.staging);
  LinkConfig c;
  c.endpoint = Endpoint{"127.0.0.1", 1};  // nothing listens on port 1
  c.credential = "x";
  link.start(c);
  ASSERT_TRUE(got.wait([&] { return got.link.phase == LinkPhase::reconnecting && got.link.attempt >= 2; }, 10s))
      << got.link.detail;
  EXPECT_FALSE(got.link.detail.empty());
  kiln::v1::Envelope request;
  request.mutable_query()->set_kind(kiln::v1::Query::RUNS);
  const auto id = link.request(request);
  ASSERT_TRUE(got.wait([&] { return got.replies.contains(id); }, 5s));
  EXPECT_EQ(got.replies[id].error_reply().code(), "unavailable");
  link.stop();
  got.drain();
  EXPECT_EQ(got.link.phase, LinkPhase::disconnected);
}

TEST_F(LiveFeedTest, AWrongCredentialIsShownAsTheReason) {
  Collector got;
  DaemonLink link(got.staging);
  LinkConfig c = config(4);
  c.credential = "wrong";
  link.start(c);
  ASSERT_TRUE(got.wait([&] { return got.link.phase == LinkPhase::reconnecting; }, 10s));
  EXPECT_NE(got.link.detail.find("refused"), std::string::npos) << got.link.detail;
}

}  // namespace
}  // namespace kiln::gui
