// Integration: the fair queue and rack leases (docs/scheduling.md) in a real
// daemon with two simulated racks. Every wait is on something the daemon
// says (a run's state, its end); the leases' clock is injected, so expiry is
// a step of the clock, not a sleep.
#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const char* kLab = R"(
lab: qtest
seed: 3
time_scale: 100
racks:
  - {id: r01, backend: sim, topology: ring, chips: {count: 2, sku: trn2-sim, serial_prefix: "Q1-"}}
  - {id: r02, backend: sim, topology: ring, chips: {count: 2, sku: trn2-sim, serial_prefix: "Q2-"}}
)";

// About 0.1 s of wall time at time_scale 100.
const char* kShortPlan = R"(
plan: short
seed: 1
sample_hz: 5
steps:
  - {name: rest, pattern: idle, duration: 10s, limits: {temperature_c: {max: 95}}}
)";

// Far longer than any test waits: it ends only by its lease.
const char* kLongPlan = R"(
plan: long
seed: 1
sample_hz: 1
steps:
  - {name: rest, pattern: idle, duration: 100000s}
)";

kiln::v1::SubmitRun on(const std::vector<std::string>& racks, const char* plan, int priority = 0) {
  kiln::v1::SubmitRun request;
  request.set_plan_text(plan);
  request.set_plan_path("plan.yaml");
  for (const auto& r : racks) request.add_racks(r);
  request.set_priority(priority);
  return request;
}

class RunQueue : public ::testing::Test {
 protected:
  void start(LabExtensions extensions = {}) {
    lab_ = std::make_unique<LabFixture>(std::move(extensions));
    lab_->start(kLab);
    lab_->wait_for_racks(2);
  }

  // The daemon's answer to a rack hold, or its error as "code: message".
  Result<Json> hold(const std::string& rack, kiln::v1::RackHoldRequest::Action action, std::uint32_t seconds = 0,
                    const std::string& reason = "", daemon::ClientRole role = daemon::ClientRole::run_operator) {
    kiln::v1::Envelope request;
    auto* h = request.mutable_rack_hold();
    h->set_rack(rack);
    h->set_action(action);
    h->set_duration_s(seconds);
    h->set_reason(reason);
    auto reply = lab_->client(lab_->client_credential(role))->call(std::move(request));
    if (!reply) return reply.error();
    if (reply->has_error_reply()) {
      return make_error(ErrorCode::internal, "{}: {}", reply->error_reply().code(), reply->error_reply().message());
    }
    return Json::parse(reply->query_reply().body());
  }

  kiln::v1::RunProgress progress(std::uint64_t run_id) {
    kiln::v1::Query q;
    q.set_kind(kiln::v1::Query::RUN);
    q.set_run_id(run_id);
    q.set_answer(kiln::v1::Query::ANSWER_TYPED);
    auto reply = lab_->client()->ask(q);
    if (!reply) throw std::runtime_error(reply.error().message);
    return reply->run_progress();
  }

  // Polls the run's state as `kiln run submit --wait` does, until it runs.
  void wait_running(std::uint64_t run_id) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (progress(run_id).state() == kiln::v1::LIVE_RUN_RUNNING) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "run " << run_id << " did not start";
  }

  struct Lease {
    std::uint64_t id;
    std::string rack;
    std::string kind;
    std::uint64_t run;
    std::int64_t acquired;
    std::int64_t ended;  // -1: active
    std::string end_reason;
  };
  std::vector<Lease> leases() {
    SQLite::Database db(lab_->db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT id, rack, kind, coalesce(run_id, 0), acquired_unix_ms, coalesce(ended_unix_ms, -1), "
                        "coalesce(end_reason, '') FROM rack_leases ORDER BY id");
    std::vector<Lease> out;
    while (q.executeStep()) {
      out.push_back(Lease{static_cast<std::uint64_t>(q.getColumn(0).getInt64()), q.getColumn(1).getString(),
                          q.getColumn(2).getString(), static_cast<std::uint64_t>(q.getColumn(3).getInt64()),
                          q.getColumn(4).getInt64(), q.getColumn(5).getInt64(), q.getColumn(6).getString()});
    }
    return out;
  }
  std::uint64_t lease_of(std::uint64_t run, const std::string& rack) {
    for (const auto& l : leases()) {
      if (l.run == run && l.rack == rack) return l.id;
    }
    return 0;
  }
  std::vector<std::string> event_kinds(std::uint64_t run = 0) {
    SQLite::Database db(lab_->db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT kind FROM events WHERE ?1 = 0 OR run_id = ?1 ORDER BY id");
    q.bind(1, static_cast<std::int64_t>(run));
    std::vector<std::string> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
  }
  // The audit trail is written once a second: waits (polling, up to 20 s)
  // until every one of `kinds` is in it.
  void expect_events(const std::vector<std::string>& kinds, std::uint64_t run = 0) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::vector<std::string> seen;
    while (std::chrono::steady_clock::now() < deadline) {
      seen = event_kinds(run);
      if (std::all_of(kinds.begin(), kinds.end(),
                      [&](const std::string& k) { return std::find(seen.begin(), seen.end(), k) != seen.end(); })) {
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "events seen: " << fmt::format("{}", fmt::join(seen, ", "));
  }
  // Two run leases on one rack never overlap: each ended before the next was taken.
  void expect_no_overlap() {
    std::map<std::string, std::vector<Lease>> by_rack;
    for (const auto& l : leases()) {
      if (l.kind == "run") by_rack[l.rack].push_back(l);
    }
    for (const auto& [rack, list] : by_rack) {
      for (std::size_t i = 1; i < list.size(); ++i) {
        ASSERT_GE(list[i - 1].ended, 0) << rack << ": lease " << list[i - 1].id << " still active";
        EXPECT_LE(list[i - 1].ended, list[i].acquired)
            << rack << ": run " << list[i].run << " took it before run " << list[i - 1].run << " let go";
      }
    }
  }

  std::unique_ptr<LabFixture> lab_;
};

using Action = kiln::v1::RackHoldRequest;

// A reserved rack's runs wait and say who holds it; a run elsewhere goes on;
// on release the higher priority starts first. Viewers cannot reserve.
TEST_F(RunQueue, AWaitingRunSaysWhyAndPriorityDecidesWhoGoesFirst) {
  start();
  auto denied = hold("r02", Action::RESERVE, 7200, "rework", daemon::ClientRole::viewer);
  ASSERT_FALSE(denied);
  EXPECT_NE(denied.error().message.find("permission_denied"), std::string::npos) << denied.error().message;
  auto reserved = hold("r02", Action::RESERVE, 7200, "rework");
  ASSERT_TRUE(reserved) << reserved.error().message;
  EXPECT_EQ((*reserved)["kind"], "reservation");
  EXPECT_EQ((*reserved)["holder"], "itest-operator");
  auto again = hold("r02", Action::RESERVE, 60, "mine");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("r02: reserved by itest-operator"), std::string::npos) << again.error().message;
  EXPECT_FALSE(hold("r02", Action::RESERVE, 25 * 3600, "too long")) << "past the maximum reservation";

  const auto low = lab_->submit(on({"r02"}, kShortPlan, 0));
  const auto high = lab_->submit(on({"r02"}, kShortPlan, 5));
  const auto elsewhere = lab_->submit(on({"r01"}, kShortPlan));
  for (const auto id : {low, high}) {
    const auto p = progress(id);
    EXPECT_EQ(p.state(), kiln::v1::LIVE_RUN_QUEUED);
    EXPECT_NE(p.waiting().find("waiting for r02: reserved by itest-operator until "), std::string::npos) << p.waiting();
    EXPECT_NE(p.waiting().find("(rework)"), std::string::npos) << p.waiting();
  }
  EXPECT_EQ(progress(high).queue_position(), 1u);
  EXPECT_EQ(progress(low).queue_position(), 2u);
  const Json list = Json::parse(lab_->query(kiln::v1::Query::RUNS));
  bool listed = false;
  for (const auto& r : list["runs"]) listed = listed || (r["id"] == low && r.contains("waiting"));
  EXPECT_TRUE(listed) << list.dump(2);
  const Json racks = Json::parse(lab_->query(kiln::v1::Query::RACKS));
  bool shown = false;
  for (const auto& r : racks["racks"]) shown = shown || (r["rack"] == "r02" && r["hold"]["kind"] == "reservation");
  EXPECT_TRUE(shown) << racks.dump(2);

  EXPECT_EQ(Json::parse(lab_->wait_for_run(elsewhere))["status"], "completed") << "r01 is not reserved";
  EXPECT_EQ(progress(low).state(), kiln::v1::LIVE_RUN_QUEUED);

  auto released = hold("r02", Action::RELEASE);
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_EQ(Json::parse(lab_->wait_for_run(high))["status"], "completed");
  EXPECT_EQ(Json::parse(lab_->wait_for_run(low))["status"], "completed");
  EXPECT_LT(lease_of(high, "r02"), lease_of(low, "r02")) << "the higher priority started first";
  expect_no_overlap();
  expect_events({"rack_reserved", "rack_released", "lease_taken", "lease_ended"});
}

// A multi-rack run waiting for one rack keeps the other: a small run
// submitted after it waits too, however often it could slip in.
TEST_F(RunQueue, AMultiRackRunIsNotOvertakenAndTwoRunsNeverShareARack) {
  start();
  ASSERT_TRUE(hold("r01", Action::MAINTENANCE_ON, 0, "fan swap"));
  const auto big = lab_->submit(on({"r01", "r02"}, kShortPlan));
  const auto small = lab_->submit(on({"r02"}, kShortPlan));
  EXPECT_NE(progress(big).waiting().find("r01: in maintenance by itest-operator (fan swap)"), std::string::npos)
      << progress(big).waiting();
  EXPECT_NE(progress(small).waiting().find(fmt::format("r02: kept for run {}, ahead in the queue", big)),
            std::string::npos)
      << progress(small).waiting();

  ASSERT_TRUE(hold("r01", Action::MAINTENANCE_OFF));
  EXPECT_EQ(Json::parse(lab_->wait_for_run(big))["status"], "completed");
  EXPECT_EQ(Json::parse(lab_->wait_for_run(small))["status"], "completed");
  EXPECT_LT(lease_of(big, "r02"), lease_of(small, "r02"));
  expect_no_overlap();
}

// Runs on disjoint racks run at the same time.
TEST_F(RunQueue, RunsOnDisjointRacksRunAtOnce) {
  start();
  const auto first = lab_->submit(on({"r01"}, kLongPlan));
  const auto second = lab_->submit(on({"r02"}, kLongPlan));
  wait_running(first);
  wait_running(second);
  ASSERT_TRUE(lab_->client()->call([&] {
    kiln::v1::Envelope e;
    e.mutable_abort_run()->set_run_id(first);
    return e;
  }()));
  ASSERT_TRUE(lab_->client()->call([&] {
    kiln::v1::Envelope e;
    e.mutable_abort_run()->set_run_id(second);
    return e;
  }()));
  EXPECT_EQ(Json::parse(lab_->wait_for_run(first))["status"], "aborted");
  EXPECT_EQ(Json::parse(lab_->wait_for_run(second))["status"], "aborted");
}

// A lease that expires ends its run `error` with the reason, never silently:
// here the run's maximum wall time stops its renewal, and the clock moves past it.
TEST_F(RunQueue, AnExpiredLeaseEndsItsRunWithAReason) {
  auto clock = std::make_shared<std::atomic<std::int64_t>>(1'800'000'000'000);
  LabExtensions extensions;
  extensions.queue.now_unix_ms = [clock] { return clock->load(); };
  extensions.queue.sweep_interval = 20ms;
  start(std::move(extensions));
  auto request = on({"r01"}, kLongPlan);
  request.set_max_wall_s(60);
  const auto run = lab_->submit(std::move(request));
  wait_running(run);
  const auto token = lease_of(run, "r01");
  ASSERT_NE(token, 0u);

  clock->fetch_add(61'000);
  const Json ended = Json::parse(lab_->wait_for_run(run));
  EXPECT_EQ(ended["status"], "error");
  const std::string reason = ended.value("reason", "");
  EXPECT_NE(reason.find("its lease on rack r01 expired at"), std::string::npos) << reason;
  EXPECT_NE(reason.find("maximum wall time of 1m"), std::string::npos) << reason;
  for (const auto& l : leases()) {
    if (l.id == token) {
      EXPECT_EQ(l.end_reason, "expired");
    }
  }
  expect_events({"lease_taken", "lease_expired"}, run);

  // The rack is free again: the next run takes a newer lease.
  const auto next = lab_->submit(on({"r01"}, kShortPlan));
  EXPECT_EQ(Json::parse(lab_->wait_for_run(next))["status"], "completed");
  EXPECT_GT(lease_of(next, "r01"), token);
}

}  // namespace
}  // namespace kiln::testing
