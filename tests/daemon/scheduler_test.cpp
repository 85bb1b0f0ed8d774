// kilnd's scheduler on an injected clock (docs/scheduling.md): schedules
// fire across days and daylight-saving changes exactly once per fire time,
// wait for their racks' agents, say which racks were not tested, catch up
// after a restart by their policy, and never submit one fire time twice.
// Runs are submitted the way RunManager does it: the run and its fire row in
// one writer job.
#include <gtest/gtest.h>

#include <date/tz.h>
#include <boost/asio/io_context.hpp>

#include "core/clock.hpp"
#include "daemon/scheduler.hpp"
#include "schedule/fire_times.hpp"
#include "tests/schema/store_test_support.hpp"

namespace kiln::daemon {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::ordered_json;

const char* kPlan = R"(
plan: nightly
seed: 1
sample_hz: 5
steps:
  - {name: rest, pattern: idle, duration: 10s, limits: {temperature_c: {max: 95}}}
)";

// Unix ms of a UTC wall time.
std::int64_t utc(int year, unsigned month, unsigned day, int hour, int minute = 0) {
  const auto days = date::sys_days(date::year(year) / date::month(month) / date::day(day));
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             (days + std::chrono::hours(hour) + std::chrono::minutes(minute)).time_since_epoch())
      .count();
}

struct Submitted {
  kiln::v1::SubmitRun request;
  std::string actor;
  store::ScheduleFireRow fire;
};

struct SchedulerTest : ::testing::Test {
  store::testing::TempDir dir;
  std::string path = dir.file("kiln.db");
  boost::asio::io_context io;
  std::unique_ptr<IngestWriter> writer;
  AgentDirectory agents;
  std::int64_t now = utc(2026, 3, 27, 12);
  std::vector<Submitted> submitted;
  std::vector<store::ScheduleFireRow> decided;
  bool refuse_submissions = false;
  std::unique_ptr<Scheduler> scheduler;

  void SetUp() override {
    writer = std::make_unique<IngestWriter>(std::move(store::Writer::open(path)).value(), io.get_executor());
  }
  void TearDown() override {
    scheduler.reset();
    writer->stop();
  }

  // A daemon (re)starting: a scheduler loaded from the database.
  void start(std::chrono::milliseconds rack_wait = 5min, std::chrono::milliseconds grace = 0ms) {
    scheduler.reset();
    SchedulerOptions options;
    options.now_unix_ms = [this] { return now; };
    options.tick_interval = 1h;  // the test ticks by hand
    options.rack_wait = rack_wait;
    options.startup_grace = grace;
    options.on_decided = [this](const store::ScheduleFireRow& fire) { decided.push_back(fire); };
    scheduler = std::make_unique<Scheduler>(
        io.get_executor(), *writer, agents, plan::PatternRegistry::builtin(),
        [this](const kiln::v1::SubmitRun& request, const std::string& actor, const store::ScheduleFireRow& fire,
               Scheduler::SubmitReply reply) { submit(request, actor, fire, std::move(reply)); },
        options);
    auto reader = std::move(store::Reader::open(path)).value();
    auto loaded = scheduler->load(*reader);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  }

  void submit(const kiln::v1::SubmitRun& request, const std::string& actor, const store::ScheduleFireRow& fire,
              Scheduler::SubmitReply reply) {
    submitted.push_back({request, actor, fire});
    if (refuse_submissions) {
      kiln::v1::SubmitRunReply refused;
      refused.set_error("rack 'r01' is not connected (connected: none)");
      reply(refused);
      return;
    }
    auto run_id = std::make_shared<std::uint64_t>(0);
    writer->submit(
        [fire, run_id](store::Writer& w) -> Status {
          KILN_TRY_ASSIGN(*run_id, w.create_run(store::testing::make_run()));
          store::ScheduleFireRow recorded = fire;
          recorded.run_id = *run_id;
          return w.record_schedule_fire(recorded);
        },
        [run_id, reply = std::move(reply)](const Status& status) {
          kiln::v1::SubmitRunReply answer;
          if (status) {
            answer.set_run_id(*run_id);
          } else {
            answer.set_error(status.error().message);
          }
          reply(answer);
        });
  }

  // Runs the io thread's handlers until `done` holds (the writer's completions arrive there).
  void run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(100ms);
    }
    ASSERT_TRUE(done());
  }
  // Ticks, and waits until what the tick decided is recorded.
  void tick() {
    scheduler->tick();
    run_until([this] { return !scheduler->busy(); });
  }

  void connect(const std::string& rack, const std::string& sku = "trn2-sim") {
    kiln::v1::RegisterRack reg;
    reg.set_rack(rack);
    auto* chip = reg.add_chips();
    chip->set_serial(rack + "-0");
    chip->set_sku(sku);
    agents.register_rack(nullptr, reg);
  }

  Result<Json> request(kiln::v1::ScheduleRequest r) {
    std::optional<Result<Json>> answer;
    scheduler->request(r, "alice", [&](Result<Json> a) { answer = std::move(a); });
    run_until([&] { return answer.has_value(); });
    return *answer;
  }
  static kiln::v1::ScheduleRequest add(const std::string& cron, const std::string& zone,
                                       std::vector<std::string> racks = {"r01"}, const std::string& catch_up = "skip") {
    kiln::v1::ScheduleRequest r;
    r.set_action(kiln::v1::ScheduleRequest::ADD);
    r.set_name("nightly");
    r.set_plan_text(kPlan);
    r.set_plan_path("testplans/nightly.yaml");
    r.set_cron(cron);
    r.set_time_zone(zone);
    for (auto& rack : racks) r.add_racks(rack);
    r.set_catch_up(catch_up);
    return r;
  }
  void add_ok(const kiln::v1::ScheduleRequest& r) {
    auto added = request(r);
    ASSERT_TRUE(added.ok()) << added.error().message;
  }

  // Moves the clock to `until` in steps of `step`, ticking at each.
  void run_clock_to(std::int64_t until, std::chrono::minutes step = 10min) {
    while (now < until) {
      now = std::min(until, now + std::chrono::duration_cast<std::chrono::milliseconds>(step).count());
      tick();
    }
  }
  std::vector<std::int64_t> fire_times() const {
    std::vector<std::int64_t> out;
    for (const auto& s : submitted) out.push_back(s.fire.fire_unix_ms);
    return out;
  }
};

TEST_F(SchedulerTest, ASpringForwardNightFiresOnceWhenTheGapEndsAndEveryOtherNightAtItsTime) {
  connect("r01");
  start();
  add_ok(add("30 2 * * *", "Europe/Berlin"));
  run_clock_to(utc(2026, 3, 31, 12));
  // 02:30 CET, 03:00 CEST (02:30 does not exist on 2026-03-29), 02:30 CEST, 02:30 CEST.
  EXPECT_EQ(fire_times(), (std::vector<std::int64_t>{utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0),
                                                     utc(2026, 3, 30, 0, 30), utc(2026, 3, 31, 0, 30)}));
  ASSERT_EQ(decided.size(), 4u);
  for (const auto& s : submitted) {
    EXPECT_EQ(s.actor, "schedule:nightly");
    ASSERT_EQ(s.request.racks_size(), 1);
    EXPECT_EQ(s.request.racks(0), "r01");
    EXPECT_EQ(s.request.plan_text(), kPlan);
  }
}

TEST_F(SchedulerTest, AFallBackNightFiresOnceAtTheFirstOccurrence) {
  now = utc(2026, 10, 24, 12);
  connect("r01");
  start();
  add_ok(add("30 2 * * *", "Europe/Berlin"));
  run_clock_to(utc(2026, 10, 26, 12), 5min);
  // 02:30 CEST on the 25th (00:30 UTC), not again at 02:30 CET (01:30 UTC); then 02:30 CET on the 26th.
  EXPECT_EQ(fire_times(), (std::vector<std::int64_t>{utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)}));
}

TEST_F(SchedulerTest, JitterDelaysAStartWithinItsBoundTheSameWayAfterARestart) {
  connect("r01");
  start();
  auto r = add("0 3 * * *", "UTC");
  r.set_jitter_s(1800);
  add_ok(r);
  const auto coming = [this] { return (*scheduler->show_json("nightly"))["coming"][0]; };
  const std::string starts = coming()["starts"];
  EXPECT_EQ(coming()["fire"], format_iso8601(utc(2026, 3, 28, 3)));
  start();  // a restarted daemon computes the same instant
  EXPECT_EQ(coming()["starts"], starts);
  run_clock_to(utc(2026, 3, 28, 3));
  if (starts != coming()["fire"]) {
    EXPECT_TRUE(submitted.empty()) << "started before its jittered time";
  }
  run_clock_to(utc(2026, 3, 28, 3, 30), 1min);
  ASSERT_EQ(submitted.size(), 1u);
  EXPECT_EQ(submitted[0].fire.fire_unix_ms, utc(2026, 3, 28, 3));
  EXPECT_GE(submitted[0].fire.decided_unix_ms, utc(2026, 3, 28, 3));
  EXPECT_LE(submitted[0].fire.decided_unix_ms, utc(2026, 3, 28, 3, 30));
}

TEST_F(SchedulerTest, AFireTimeWaitsForItsRacksThenRunsOnThoseThatCameAndSaysWhichDidNot) {
  connect("r01");
  start(10min);
  add_ok(add("0 1 * * *", "UTC", {"r01", "r02"}));
  run_clock_to(utc(2026, 3, 28, 1, 5), 1min);
  EXPECT_TRUE(submitted.empty());
  const Json listed = scheduler->list_json()["schedules"][0];
  EXPECT_EQ(listed.value("waiting", ""), "waiting for the agent of r02");
  run_clock_to(utc(2026, 3, 28, 1, 11), 1min);
  ASSERT_EQ(submitted.size(), 1u);
  ASSERT_EQ(submitted[0].request.racks_size(), 1);
  EXPECT_EQ(submitted[0].request.racks(0), "r01");
  EXPECT_NE(submitted[0].fire.detail.find("not tested: r02"), std::string::npos) << submitted[0].fire.detail;

  // The next night r02 registers while its fire time waits: both racks run, nothing is left out.
  run_clock_to(utc(2026, 3, 29, 1, 2), 1min);
  EXPECT_EQ(submitted.size(), 1u);
  connect("r02");
  scheduler->on_rack_registered();
  run_until([this] { return decided.size() == 2; });
  ASSERT_EQ(submitted.size(), 2u);
  EXPECT_EQ(submitted[1].request.racks_size(), 2);
  EXPECT_EQ(submitted[1].fire.detail, "");
}

TEST_F(SchedulerTest, AFireTimeWithNoRackIsRecordedRefusedWithTheReason) {
  start(1min);
  add_ok(add("0 1 * * *", "UTC", {}));  // the plan targets every rack: none is connected
  run_clock_to(utc(2026, 3, 28, 1, 2), 1min);
  EXPECT_TRUE(submitted.empty());
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].outcome, "refused");
  EXPECT_EQ(decided[0].detail, "no rack's agent is connected");
  EXPECT_EQ(scheduler->list_json()["schedules"][0]["last_outcome"], "refused: no rack's agent is connected");

  // A refusal from the queue itself is kept the same way.
  connect("r01");
  refuse_submissions = true;
  run_clock_to(utc(2026, 3, 29, 1, 2), 1min);
  ASSERT_EQ(decided.size(), 2u);
  EXPECT_EQ(decided[1].outcome, "refused");
  EXPECT_NE(decided[1].detail.find("is not connected"), std::string::npos);
}

TEST_F(SchedulerTest, ASkuScheduleRunsOnTheRacksThatHaveThatSku) {
  connect("r01", "trn2-sim");
  connect("r02", "h100-sim");
  connect("r03", "h100-sim");
  start();
  auto r = add("0 1 * * *", "UTC", {});
  r.set_sku("h100-sim");
  add_ok(r);
  run_clock_to(utc(2026, 3, 28, 1, 1), 1min);
  ASSERT_EQ(submitted.size(), 1u);
  EXPECT_EQ(submitted[0].request.racks_size(), 2);
  EXPECT_EQ(submitted[0].request.sku(), "h100-sim");
}

TEST_F(SchedulerTest, MissedFireTimesRunOnceAfterARestartWhenNotTooOld) {
  connect("r01");
  start();
  add_ok(add("0 1 * * *", "UTC", {"r01"}, "run-once-within 6h"));
  run_clock_to(utc(2026, 3, 28, 1, 1));
  ASSERT_EQ(submitted.size(), 1u);
  // The daemon is down for three nights and comes back 2 h after the last fire time.
  now = utc(2026, 3, 31, 3);
  start();
  tick();
  ASSERT_EQ(submitted.size(), 2u);
  EXPECT_EQ(submitted[1].fire.fire_unix_ms, utc(2026, 3, 31, 1));
  EXPECT_NE(submitted[1].fire.detail.find("missed 3 fire times"), std::string::npos) << submitted[1].fire.detail;
  // And it continues from the next one, once.
  run_clock_to(utc(2026, 4, 1, 1, 30));
  EXPECT_EQ(fire_times().back(), utc(2026, 4, 1, 1));
  EXPECT_EQ(submitted.size(), 3u);
}

TEST_F(SchedulerTest, MissedFireTimesOlderThanTheLimitOrWithSkipAreRecordedMissed) {
  connect("r01");
  start();
  add_ok(add("0 1 * * *", "UTC", {"r01"}, "run-once-within 1h"));
  now = utc(2026, 3, 29, 5);  // the 28th's and 29th's fire times passed while no daemon ran
  start();
  tick();
  EXPECT_TRUE(submitted.empty());
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].outcome, "missed");
  EXPECT_EQ(decided[0].fire_unix_ms, utc(2026, 3, 29, 1));
  EXPECT_NE(decided[0].detail.find("older than the catch-up limit"), std::string::npos) << decided[0].detail;
  // Not decided again by the next start.
  start();
  tick();
  EXPECT_EQ(decided.size(), 1u);
}

TEST_F(SchedulerTest, AFireTimeIsNeverSubmittedTwiceAcrossARestart) {
  connect("r01");
  start();
  add_ok(add("0 1 * * *", "UTC", {"r01"}, "run-once"));
  run_clock_to(utc(2026, 3, 28, 1, 1));
  ASSERT_EQ(submitted.size(), 1u);
  start();  // restarted at once: the fire time is recorded with its run
  tick();
  run_clock_to(utc(2026, 3, 28, 20));
  EXPECT_EQ(submitted.size(), 1u);
  const Json shown = *scheduler->show_json("nightly");
  ASSERT_EQ(shown["fires"].size(), 1u);
  EXPECT_EQ(shown["fires"][0]["outcome"], "submitted");
  EXPECT_EQ(shown["last_run"], Json(decided[0].run_id));
}

TEST_F(SchedulerTest, ADisabledScheduleDoesNotFireAndEnablingDoesNotCatchUp) {
  connect("r01");
  start();
  add_ok(add("0 1 * * *", "UTC"));
  kiln::v1::ScheduleRequest change;
  change.set_name("nightly");
  change.set_action(kiln::v1::ScheduleRequest::DISABLE);
  ASSERT_TRUE(request(change).ok());
  run_clock_to(utc(2026, 3, 30, 12), 1h);
  EXPECT_TRUE(submitted.empty());
  start();  // still disabled after a restart
  run_clock_to(utc(2026, 3, 31, 12), 1h);
  EXPECT_TRUE(submitted.empty());
  change.set_action(kiln::v1::ScheduleRequest::ENABLE);
  auto enabled = request(change);
  ASSERT_TRUE(enabled.ok());
  EXPECT_EQ((*enabled)["next_fire"], format_iso8601(utc(2026, 4, 1, 1)));
  run_clock_to(utc(2026, 4, 1, 2), 1h);
  EXPECT_EQ(fire_times(), (std::vector<std::int64_t>{utc(2026, 4, 1, 1)}));
  change.set_action(kiln::v1::ScheduleRequest::REMOVE);
  ASSERT_TRUE(request(change).ok());
  EXPECT_TRUE(scheduler->list_json()["schedules"].empty());
  start();
  EXPECT_TRUE(scheduler->list_json()["schedules"].empty());
}

TEST_F(SchedulerTest, ABadScheduleIsRefusedWithWhereItIsWrong) {
  start();
  const auto refused = [this](kiln::v1::ScheduleRequest r) {
    auto answer = request(std::move(r));
    EXPECT_FALSE(answer.ok());
    return answer.ok() ? std::string() : answer.error().message;
  };
  EXPECT_NE(refused(add("0 25 * * *", "UTC")).find("column 3: hour field \"25\""), std::string::npos);
  EXPECT_NE(refused(add("0 0 30 2 *", "UTC")).find("no month selected has the day(s) selected"), std::string::npos);
  EXPECT_NE(refused(add("0 1 * * *", "Mars/Olympus")).find("Mars/Olympus"), std::string::npos);
  EXPECT_NE(refused(add("0 1 * * *", "UTC", {}, "sometimes")).find("catch-up"), std::string::npos);
  auto bad_plan = add("0 1 * * *", "UTC");
  bad_plan.set_plan_text("plan: x\nsteps:\n  - {name: a, pattern: nope, duration: 1s}\n");
  EXPECT_NE(refused(bad_plan).find("testplans/nightly.yaml:3:"), std::string::npos) << refused(bad_plan);
  auto bad_name = add("0 1 * * *", "UTC");
  bad_name.set_name("../etc");
  EXPECT_NE(refused(bad_name).find("schedule name"), std::string::npos);
  add_ok(add("0 1 * * *", "UTC"));
  EXPECT_NE(refused(add("0 2 * * *", "UTC")).find("exists"), std::string::npos);
}

}  // namespace
}  // namespace kiln::daemon
