// Acknowledging an alarm, end to end (issue 13): an in-process daemon with
// the demo lab, dashboards' network links subscribed to its live feed. One
// acknowledges, every other sees who and when; one that connects later gets
// it in its snapshot; a viewer's credential is refused; the daemon stored
// the acknowledgement and an audit event.

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gui/model/alarm_log.hpp"
#include "gui/net/daemon_link.hpp"
#include "schema/store.hpp"
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

// One dashboard as the GUI thread sees it: what its link staged, in an AlarmLog.
struct Dash {
  LiveStaging staging;
  DaemonLink link{staging};
  AlarmLog alarms;
  std::map<std::uint64_t, kiln::v1::Envelope> replies;

  void drain() {
    Staged s = staging.take();
    for (auto& u : s.updates) {
      for (const auto& a : u.alarms()) alarms.add(a);
    }
    for (auto& r : s.replies) replies[r.request_id] = std::move(r.envelope);
  }
  // Polls what the network thread staged until `done` holds (the condition, not the time, ends the wait).
  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      drain();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
  }
  const AlarmEntry* lost(const std::string& rack) const {
    for (const auto& e : alarms.entries()) {
      if (e.alarm.kind() == kiln::v1::ALARM_AGENT_LOST && e.alarm.rack() == rack) return &e;
    }
    return nullptr;
  }
  kiln::v1::Envelope ask(kiln::v1::AckAlarm request) {
    kiln::v1::Envelope envelope;
    *envelope.mutable_ack_alarm() = std::move(request);
    const std::uint64_t id = link.request(std::move(envelope));
    EXPECT_TRUE(wait([&] { return replies.contains(id); }, 10s)) << "no answer to the acknowledgement";
    return replies[id];
  }
};

class AlarmAckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_.start(read_source("device/labs/demo.yaml"));
    fixture_.wait_for_racks(2);
  }
  void connect(Dash& dash, daemon::ClientRole role) {
    LinkConfig c;
    c.endpoint = Endpoint{"127.0.0.1", fixture_.port()};
    c.credential = fixture_.client_credential(role);
    c.max_hz = 10;
    dash.link.start(c);
  }
  testing::LabFixture fixture_;
};

TEST_F(AlarmAckTest, OneDashboardAcknowledgesEveryOtherSeesWhoAndAViewerIsRefused) {
  Dash alice, watcher, viewer;
  connect(alice, daemon::ClientRole::run_operator);
  connect(watcher, daemon::ClientRole::run_operator);
  connect(viewer, daemon::ClientRole::viewer);
  fixture_.stop_agent("r02");  // raises agent_lost for rack r02
  for (Dash* d : {&alice, &watcher, &viewer})
    ASSERT_TRUE(d->wait([&] { return d->lost("r02") != nullptr; }, 15s)) << "no agent_lost alarm reached a dashboard";
  const kiln::v1::Alarm raised = alice.lost("r02")->alarm;
  EXPECT_TRUE(raised.acknowledged_by().empty());

  // A viewer may look, not acknowledge.
  kiln::v1::AckAlarm request;
  auto* ref = request.add_alarms();
  ref->set_id(raised.id());
  ref->set_raised_unix_ms(raised.unix_ms());
  const kiln::v1::Envelope refused = viewer.ask(request);
  ASSERT_TRUE(refused.has_error_reply());
  EXPECT_EQ(refused.error_reply().code(), "permission_denied") << refused.error_reply().message();

  const kiln::v1::Envelope answer = alice.ask(request);
  ASSERT_TRUE(answer.has_query_reply()) << answer.error_reply().message();
  const auto body = nlohmann::json::parse(answer.query_reply().body());
  EXPECT_EQ(body["acknowledged"], nlohmann::json::array({raised.id()}));
  const std::string who = body["by"];
  EXPECT_FALSE(who.empty());

  // Every subscribed dashboard sees it, with who and when.
  ASSERT_TRUE(watcher.wait([&] { return watcher.lost("r02")->acknowledged; }, 10s))
      << "the other dashboard never saw the acknowledgement";
  EXPECT_EQ(watcher.lost("r02")->acknowledged_by(), who);
  EXPECT_GT(watcher.lost("r02")->alarm.acknowledged_unix_ms(), 0);
  EXPECT_FALSE(watcher.lost("r02")->acknowledged_here);
  EXPECT_EQ(watcher.alarms.unacknowledged(), 0u);
  ASSERT_TRUE(viewer.wait([&] { return viewer.lost("r02")->acknowledged; }, 10s));

  // A dashboard that connects later gets it in its first snapshot.
  Dash later;
  connect(later, daemon::ClientRole::viewer);
  ASSERT_TRUE(later.wait([&] { return later.lost("r02") != nullptr; }, 10s));
  EXPECT_EQ(later.lost("r02")->acknowledged_by(), who);

  // Acknowledging again keeps the first acknowledgement.
  const kiln::v1::Envelope again = watcher.ask(request);
  ASSERT_TRUE(again.has_query_reply());
  EXPECT_EQ(nlohmann::json::parse(again.query_reply().body())["already"], nlohmann::json::array({raised.id()}));

  // An alarm the daemon does not keep is not found; a request naming nothing is refused.
  kiln::v1::AckAlarm unknown;
  unknown.add_alarms()->set_id(999999);
  const kiln::v1::Envelope missing = alice.ask(unknown);
  ASSERT_TRUE(missing.has_error_reply());
  EXPECT_EQ(missing.error_reply().code(), "not_found");
  const kiln::v1::Envelope empty = alice.ask(kiln::v1::AckAlarm{});
  ASSERT_TRUE(empty.has_error_reply());
  EXPECT_EQ(empty.error_reply().code(), "invalid_argument");

  // Stored: the row, and the audit event (written by the audit window, flushed within its second).
  auto reader = store::Reader::open(fixture_.db_path().string());
  ASSERT_TRUE(reader);
  auto acks = (*reader)->alarm_acks(0);
  ASSERT_TRUE(acks);
  ASSERT_EQ(acks->size(), 1u);
  EXPECT_EQ(acks->front().alarm_id, raised.id());
  EXPECT_EQ(acks->front().raised_unix_ms, raised.unix_ms());
  EXPECT_EQ(acks->front().kind, "agent_lost");
  EXPECT_EQ(acks->front().rack, "r02");
  EXPECT_EQ(acks->front().acknowledged_by, who);
  bool audited = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!audited && std::chrono::steady_clock::now() < deadline) {
    auto events = (*reader)->events(0, 0, 0);
    ASSERT_TRUE(events);
    for (const auto& e : *events) audited = audited || (e.kind == "alarm_acknowledged" && e.actor == who);
    if (!audited) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(audited) << "no alarm_acknowledged audit event";
}

TEST_F(AlarmAckTest, AcknowledgeAllMarksEveryAlarmNotAcknowledgedYet) {
  Dash alice, watcher;
  connect(alice, daemon::ClientRole::admin);
  connect(watcher, daemon::ClientRole::viewer);
  fixture_.stop_agent("r01");
  fixture_.stop_agent("r02");
  ASSERT_TRUE(watcher.wait([&] { return watcher.lost("r01") && watcher.lost("r02"); }, 15s));
  kiln::v1::AckAlarm all;
  all.set_all(true);
  const kiln::v1::Envelope answer = alice.ask(all);
  ASSERT_TRUE(answer.has_query_reply()) << answer.error_reply().message();
  EXPECT_GE(nlohmann::json::parse(answer.query_reply().body())["acknowledged"].size(), 2u);
  ASSERT_TRUE(watcher.wait([&] { return watcher.alarms.unacknowledged() == 0; }, 10s));
}

}  // namespace
}  // namespace kiln::gui
