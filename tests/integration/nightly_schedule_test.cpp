// Three simulated nights of unattended burn-in (issue 13): a schedule added
// with `kiln schedule add`'s request fires at 02:00 every night on an
// injected clock; kilnd runs it on the lab, applies the chip lifecycle and
// retests by itself. The faulty chip is quarantined the first night and
// ends rma after its retests; the marginal chip becomes suspect, is reworked
// the next day (its agent comes back without the fault) and returns to
// healthy after its clean passes; the digest says all of it. Nothing here
// sleeps to move time: the clock moves only between nights, once every run
// of the night has ended.
#include <atomic>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "reports/digest.hpp"
#include "tests/integration/lifecycle_lab.hpp"

namespace kiln::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kMinute = 60'000;

// The lab after the rework: L-02 back at full speed, L-01 still corrupt.
std::string reworked_lab() {
  std::string lab = life::kLab;
  const std::string slow = ", faults: [{kind: slow, factor: 0.65}]";
  lab.erase(lab.find(slow), slow.size());
  return lab;
}

struct NightlySchedule : ::testing::Test {
  // Midnight UTC four days ago: every night lies before the daemon's wall
  // clock, which the digest's window ends at. The clock starts at 01:58.
  const std::int64_t day0 = (unix_ms_now() / kDay - 4) * kDay;
  const std::int64_t first_night = day0 + 120 * kMinute;  // 02:00 UTC
  std::shared_ptr<std::atomic<std::int64_t>> clock = std::make_shared<std::atomic<std::int64_t>>(day0 + 118 * kMinute);
  std::unique_ptr<LabFixture> lab;

  void SetUp() override {
    LabExtensions extensions;
    // The shipped policy, with its retests, except that two clean passes
    // (not three) bring a suspect chip back: two nights after its rework.
    extensions.lifecycle_policy = lifecycle::LifecyclePolicy::defaults();
    extensions.lifecycle_policy.healthy_after_clean_passes = 2;
    extensions.queue.now_unix_ms = [clock = clock] { return clock->load(); };
    extensions.schedules.now_unix_ms = [clock = clock] { return clock->load(); };
    extensions.schedules.tick_interval = 20ms;
    lab = std::make_unique<LabFixture>(std::move(extensions));
    lab->start(life::kLab);
    lab->wait_for_racks(1);
  }

  // Every run there is: ended, and as many as `at_least` (each run's end
  // is followed by its lifecycle, which wakes wait_until).
  Json all_runs_ended(std::size_t at_least) {
    Json runs;
    const bool ended = lab->wait_until([&] {
      runs = Json::parse(lab->query(kiln::v1::Query::RUNS))["runs"];
      bool all = runs.size() >= at_least;
      for (const auto& r : runs) all = all && r["status"] != "queued" && r["status"] != "running";
      return all;
    });
    if (!ended) ADD_FAILURE() << "the night's runs did not end: " << runs.dump(2);
    return runs;
  }

  // Moves the clock to 02:00:30 of night `n` (0-based) and waits for the night's runs.
  Json night(int n, std::size_t runs_by_then) {
    clock->store(first_night + n * kDay + 30'000);
    return all_runs_ended(runs_by_then);
  }
};

TEST_F(NightlySchedule, ThreeNightsQuarantineTheFaultyChipToRmaAndBringTheReworkedMarginalOneBack) {
  kiln::v1::Envelope add;
  auto* s = add.mutable_schedule();
  s->set_action(kiln::v1::ScheduleRequest::ADD);
  s->set_name("nightly");
  s->set_plan_text(life::kPlan);
  s->set_plan_path("testplans/life.yaml");
  s->set_cron("0 2 * * *");
  s->set_time_zone("UTC");
  s->add_racks("r01");
  s->set_max_wall_s(3600);
  auto op = lab->client(lab->client_credential(daemon::ClientRole::run_operator));
  auto added = op->call(add);
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_FALSE(added->has_error_reply()) << added->error_reply().message();
  // A viewer may look but not schedule.
  auto viewer = lab->client(lab->client_credential(daemon::ClientRole::viewer));
  auto refused = viewer->call(add);
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->has_error_reply());

  kiln::v1::Query list;
  list.set_kind(kiln::v1::Query::SCHEDULES);
  const Json listed = Json::parse(*viewer->query(list))["schedules"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["next_fire"], format_iso8601(first_night));

  // Night 1: the scheduled run, then the retests it asks for (one with the
  // same seed, two with new seeds): four runs.
  const Json night1 = night(0, 4);
  ASSERT_EQ(night1.size(), 4u) << night1.dump(2);
  const Json faulty = life::wait_for_chip(*lab, "L-01", [](const Json& c) { return life::state_of(c) == "rma"; });
  EXPECT_EQ(faulty["lifecycle"]["transitions"][0]["to"], "quarantined");
  EXPECT_EQ(faulty["lifecycle"]["transitions"][0]["run"], night1[0]["id"]);
  const Json suspect =
      life::wait_for_chip(*lab, "L-02", [](const Json& c) { return c["lifecycle"]["retests"]["run"].get<int>() >= 3; });
  EXPECT_EQ(life::state_of(suspect), "suspect") << suspect["lifecycle"].dump(2);

  // The next day L-02 is reworked: its rack's agent comes back without the fault.
  lab->stop_agent("r01");
  lab->start(reworked_lab());
  lab->wait_for_racks(1);

  // Nights 2 and 3: one scheduled run each (L-01 is in rma: no more retests for it),
  // and L-02's two clean passes.
  const Json night2 = night(1, 5);
  EXPECT_EQ(life::state_of(life::chip(*lab, "L-02")), "suspect");
  const Json night3 = night(2, 6);
  ASSERT_EQ(night3.size(), 6u) << night3.dump(2);
  const Json healthy = life::wait_for_chip(*lab, "L-02", [](const Json& c) { return life::state_of(c) == "healthy"; });
  EXPECT_EQ(life::state_of(life::chip(*lab, "L-01")), "rma");
  EXPECT_EQ(life::state_of(life::chip(*lab, "L-00")), "healthy");

  // The schedule fired once a night, each time a run of its own.
  kiln::v1::Query show;
  show.set_kind(kiln::v1::Query::SCHEDULE);
  show.set_name("nightly");
  const Json shown = Json::parse(*viewer->query(show));
  ASSERT_EQ(shown["fires"].size(), 3u) << shown.dump(2);
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(shown["fires"][n]["fire"], format_iso8601(first_night + n * kDay));
    EXPECT_EQ(shown["fires"][n]["outcome"], "submitted");
  }
  EXPECT_EQ(shown["fires"][0]["run"], night1[0]["id"]);
  EXPECT_EQ(shown["next_fire"], format_iso8601(first_night + 3 * kDay));

  // The digest of the three nights says all of it.
  const Json d = life::digest(*lab);
  const auto moved = [&d](const std::string& serial, const std::string& to) {
    for (const auto& t : d["transitions"]) {
      if (t["serial"] == serial && t["to"] == to) return true;
    }
    return false;
  };
  EXPECT_TRUE(moved("L-01", "quarantined")) << d["transitions"].dump(2);
  EXPECT_TRUE(moved("L-01", "rma"));
  EXPECT_TRUE(moved("L-02", "suspect"));
  EXPECT_TRUE(moved("L-02", "healthy"));
  ASSERT_EQ(d["scheduled"].size(), 3u) << d.dump(2);
  const std::string text = reports::digest_text(d.dump());
  EXPECT_NE(text.find("Scheduled fire times (3)"), std::string::npos) << text;
  EXPECT_NE(text.find("L-02 suspect -> healthy by kilnd"), std::string::npos) << text;
  EXPECT_NE(text.find("L-01 quarantined -> rma by kilnd"), std::string::npos) << text;
  EXPECT_NE(text.find("NEW L-01 fail in r01/1 run " + night1[0]["id"].dump()), std::string::npos) << text;
}

}  // namespace
}  // namespace kiln::testing
