// Alarm acknowledgements in the store (schema/sql/013_alarm_acks.sql): who
// acknowledged which alarm and when, kept across a restart; an alarm named
// by its id and raise time; one row per alarm, replaced by a later
// acknowledgement (kilnd only writes one after the alarm was raised anew).
#include <SQLiteCpp/SQLiteCpp.h>

#include "tests/schema/store_test_support.hpp"

namespace kiln::store {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

AlarmAckRow ack(std::uint64_t id, std::int64_t raised, std::string by, std::int64_t at, std::uint64_t run = 0) {
  return AlarmAckRow{id, raised, "failure", "r01-00", "r01", run, "r01-00: sdc_errors 3 > 0", std::move(by), at};
}

TEST(AlarmAcks, StoredWithWhoAndWhenAndReadBackAfterARestart) {
  testing::TempDir dir;
  const std::string path = dir.file("kiln.db");
  {
    auto writer = std::move(Writer::open(path)).value();
    ASSERT_TRUE(writer->upsert_rack(testing::make_rack("r01", 2), kNow).ok());
    const std::uint64_t run = *writer->create_run(testing::make_run());
    const auto stored =
        writer->acknowledge_alarms({ack(1, kNow, "alice", kNow + 10, run), ack(2, kNow + 1, "alice", kNow + 10)});
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }
  auto writer = std::move(Writer::open(path)).value();  // a restarted daemon migrates nothing and keeps the rows
  auto reader = std::move(Reader::open(path)).value();
  auto rows = reader->alarm_acks(0);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].alarm_id, 1u);
  EXPECT_EQ((*rows)[0].raised_unix_ms, kNow);
  EXPECT_EQ((*rows)[0].kind, "failure");
  EXPECT_EQ((*rows)[0].serial, "r01-00");
  EXPECT_EQ((*rows)[0].rack, "r01");
  EXPECT_NE((*rows)[0].run_id, 0u);
  EXPECT_EQ((*rows)[0].message, "r01-00: sdc_errors 3 > 0");
  EXPECT_EQ((*rows)[0].acknowledged_by, "alice");
  EXPECT_EQ((*rows)[0].acknowledged_unix_ms, kNow + 10);
  EXPECT_EQ((*rows)[1].run_id, 0u) << "not about a run";
  auto later = reader->alarm_acks(kNow + 11);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());
}

TEST(AlarmAcks, OneRowPerAlarmByIdAndRaiseTime) {
  testing::TempDir dir;
  const std::string path = dir.file("kiln.db");
  auto writer = std::move(Writer::open(path)).value();
  ASSERT_TRUE(writer->acknowledge_alarms({ack(5, kNow, "alice", kNow + 1)}).ok());
  // A restarted daemon's alarm 5 is another alarm: its own row.
  ASSERT_TRUE(writer->acknowledge_alarms({ack(5, kNow + 60'000, "bob", kNow + 60'001)}).ok());
  // Raised anew and acknowledged again: the row is replaced.
  ASSERT_TRUE(writer->acknowledge_alarms({ack(5, kNow, "carol", kNow + 2)}).ok());
  auto reader = std::move(Reader::open(path)).value();
  auto rows = reader->alarm_acks(0);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].acknowledged_by, "carol");
  EXPECT_EQ((*rows)[1].acknowledged_by, "bob");
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM alarm_acks").getInt(), 2);
}

TEST(AlarmAcks, AnAcknowledgementByNoOneOrOfAlarmZeroIsRefusedAndWritesNothing) {
  testing::TempDir dir;
  const std::string path = dir.file("kiln.db");
  auto writer = std::move(Writer::open(path)).value();
  EXPECT_EQ(writer->acknowledge_alarms({ack(1, kNow, "alice", kNow), ack(2, kNow, "", kNow)}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(writer->acknowledge_alarms({ack(0, kNow, "alice", kNow)}).error().code, ErrorCode::invalid_argument);
  auto reader = std::move(Reader::open(path)).value();
  EXPECT_TRUE(reader->alarm_acks(0)->empty()) << "all or nothing";
}

}  // namespace
}  // namespace kiln::store
