// Schedules in the store: one active schedule per name, a fire time decided
// at most once (so a crash between a run and its fire row cannot submit it
// twice), handled_until that only moves forward, and schedules that outlive
// the writer that added them (a daemon restart).
#include "tests/schema/store_test_support.hpp"

namespace kiln::store {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;
constexpr std::int64_t kDay = 86'400'000;

struct Schedules : ::testing::Test {
  testing::TempDir dir;
  std::string path = dir.file("kiln.db");
  std::unique_ptr<Writer> writer;

  void SetUp() override {
    auto opened = Writer::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    writer = std::move(*opened);
  }

  static ScheduleRow nightly(const std::string& name = "nightly") {
    ScheduleRow row;
    row.name = name;
    row.plan_name = "smoke";
    row.plan_path = "testplans/smoke.yaml";
    row.plan_text = "name: smoke\n";
    row.cron = "30 2 * * *";
    row.time_zone = "Europe/Berlin";
    row.racks = {"r01", "r02"};
    row.priority = 5;
    row.max_wall_s = 6 * 3600;
    row.jitter_s = 600;
    row.catch_up = "run-once-within 6h";
    row.created_by = "alice";
    row.created_unix_ms = kNow;
    row.handled_until_unix_ms = kNow;
    return row;
  }

  std::vector<ScheduleRow> stored() {
    auto reader = std::move(Reader::open(path)).value();
    auto rows = reader->schedules();
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? *rows : std::vector<ScheduleRow>{};
  }

  std::vector<ScheduleFireRow> fires(std::uint64_t id) {
    auto reader = std::move(Reader::open(path)).value();
    auto rows = reader->schedule_fires(id, 0, std::numeric_limits<std::int64_t>::max(), 0);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? *rows : std::vector<ScheduleFireRow>{};
  }
};

TEST_F(Schedules, AScheduleIsKeptAsItWasAddedAndSurvivesTheWriter) {
  const auto id = writer->add_schedule(nightly());
  ASSERT_TRUE(id.ok()) << id.error().message;
  writer.reset();  // the daemon stops
  writer = std::move(Writer::open(path)).value();
  const auto rows = stored();
  ASSERT_EQ(rows.size(), 1u);
  const ScheduleRow& s = rows[0];
  EXPECT_EQ(s.id, *id);
  EXPECT_EQ(s.name, "nightly");
  EXPECT_EQ(s.plan_text, "name: smoke\n");
  EXPECT_EQ(s.cron, "30 2 * * *");
  EXPECT_EQ(s.time_zone, "Europe/Berlin");
  EXPECT_EQ(s.racks, (std::vector<std::string>{"r01", "r02"}));
  EXPECT_EQ(s.priority, 5);
  EXPECT_EQ(s.max_wall_s, std::optional<std::uint32_t>(6 * 3600));
  EXPECT_FALSE(s.queue_timeout_s);
  EXPECT_EQ(s.jitter_s, 600u);
  EXPECT_EQ(s.catch_up, "run-once-within 6h");
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.created_by, "alice");
  EXPECT_EQ(s.handled_until_unix_ms, kNow);
}

TEST_F(Schedules, ANameIsTakenUntilItsScheduleIsRemoved) {
  const auto first = writer->add_schedule(nightly());
  ASSERT_TRUE(first.ok());
  const auto again = writer->add_schedule(nightly());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  ASSERT_TRUE(writer->remove_schedule("nightly", kNow + 1).ok());
  EXPECT_TRUE(stored().empty());
  const auto second = writer->add_schedule(nightly());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_GT(*second, *first);
  EXPECT_EQ(writer->remove_schedule("weekly", kNow).error().code, ErrorCode::not_found);
}

TEST_F(Schedules, DisablingIsKeptAndUnknownNamesAreNotFound) {
  ASSERT_TRUE(writer->add_schedule(nightly()).ok());
  ASSERT_TRUE(writer->set_schedule_enabled("nightly", false).ok());
  EXPECT_FALSE(stored().at(0).enabled);
  ASSERT_TRUE(writer->set_schedule_enabled("nightly", true).ok());
  EXPECT_TRUE(stored().at(0).enabled);
  EXPECT_EQ(writer->set_schedule_enabled("weekly", true).error().code, ErrorCode::not_found);
}

TEST_F(Schedules, AFireTimeIsDecidedOnceAndMovesHandledUntilForwardOnly) {
  const auto id = *writer->add_schedule(nightly());
  const auto run = *writer->create_run(testing::make_run());
  const std::int64_t fire = kNow + kDay;
  ASSERT_TRUE(writer->record_schedule_fire({id, fire, run, "submitted", "", fire + 5}).ok());
  // The same fire time again (a restarted daemon that had not seen the commit): refused, nothing written.
  const auto twice = writer->record_schedule_fire({id, fire, 0, "refused", "again", fire + 9});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::conflict);
  EXPECT_EQ(stored().at(0).handled_until_unix_ms, fire);
  // An older fire time (a catch-up decided late) does not move it back.
  ASSERT_TRUE(writer->record_schedule_fire({id, fire - kDay, 0, "missed", "the daemon was down", fire + 10}).ok());
  EXPECT_EQ(stored().at(0).handled_until_unix_ms, fire);
  ASSERT_TRUE(writer->set_schedule_handled(id, fire - 1).ok());
  EXPECT_EQ(stored().at(0).handled_until_unix_ms, fire);
  ASSERT_TRUE(writer->set_schedule_handled(id, fire + kDay).ok());
  EXPECT_EQ(stored().at(0).handled_until_unix_ms, fire + kDay);

  const auto all = fires(id);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].run_id, run);
  EXPECT_EQ(all[0].outcome, "submitted");
  EXPECT_EQ(all[1].outcome, "missed");
  EXPECT_EQ(all[1].detail, "the daemon was down");
}

TEST_F(Schedules, AFireRowMustSayWhatItDidAndNameItsRunOnlyWhenSubmitted) {
  const auto id = *writer->add_schedule(nightly());
  EXPECT_EQ(writer->record_schedule_fire({id, kNow, 0, "submitted", "", kNow}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(writer->record_schedule_fire({id, kNow, 0, "ran", "", kNow}).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(writer->record_schedule_fire({id + 7, kNow, 0, "refused", "", kNow}).error().code, ErrorCode::not_found);
  EXPECT_TRUE(fires(0).empty());
}

TEST_F(Schedules, FiresAreReadByTheTimeTheyWereDecided) {
  const auto a = *writer->add_schedule(nightly("a"));
  const auto b = *writer->add_schedule(nightly("b"));
  for (int night = 0; night < 5; ++night) {
    const std::int64_t t = kNow + night * kDay;
    ASSERT_TRUE(writer->record_schedule_fire({a, t, 0, "refused", "no rack", t}).ok());
    ASSERT_TRUE(writer->record_schedule_fire({b, t, 0, "refused", "no rack", t}).ok());
  }
  auto reader = std::move(Reader::open(path)).value();
  const auto window = *reader->schedule_fires(0, kNow + kDay, kNow + 3 * kDay, 0);
  EXPECT_EQ(window.size(), 4u);  // nights 1 and 2 of both
  const auto latest = *reader->schedule_fires(a, 0, std::numeric_limits<std::int64_t>::max(), 2);
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0].fire_unix_ms, kNow + 3 * kDay);  // the latest two, oldest first
  EXPECT_EQ(latest[1].fire_unix_ms, kNow + 4 * kDay);
  EXPECT_EQ(*reader->schedule_name(b), "b");
}

}  // namespace
}  // namespace kiln::store
