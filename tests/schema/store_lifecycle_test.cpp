// Chip lifecycle in the store: a record per serial, transitions appended
// with actor, reason, run and plan, a stale decider refused, history kept
// across a restart and never rewritten.
#include <SQLiteCpp/SQLiteCpp.h>

#include "tests/schema/store_test_support.hpp"

namespace kiln::store {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

struct Lifecycle : ::testing::Test {
  testing::TempDir dir;
  std::string path = dir.file("kiln.db");
  std::unique_ptr<Writer> writer;
  std::uint64_t run = 0;

  void SetUp() override {
    writer = std::move(Writer::open(path)).value();
    ASSERT_TRUE(writer->upsert_rack(testing::make_rack("r01", 2), kNow).ok());
    run = *writer->create_run(testing::make_run());
  }

  TransitionRow transition(std::string from, std::string to, std::string reason) const {
    return TransitionRow{
        0, "r01-00", std::move(from), std::move(to), "policy", std::move(reason), run, std::string(64, 'a'), kNow};
  }
};

TEST_F(Lifecycle, AChipNeverRecordedIsUnknown) {
  const auto record = writer->lifecycle("r01-01");
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->state, "unknown");
  EXPECT_EQ(record->updated_unix_ms, 0);
  EXPECT_EQ(writer->lifecycle("NOPE").error().code, ErrorCode::not_found);
}

TEST_F(Lifecycle, TransitionsAreKeptInOrderWithTheirEvidenceAcrossARestart) {
  LifecycleRow q{"r01-00", "quarantined", false, 0, 0, 0, run, kNow};
  ASSERT_TRUE(
      writer->record_lifecycle(q, transition("unknown", "quarantined", "sdc in run 1: a hard failure quarantines"))
          .ok());
  LifecycleRow counted = q;
  counted.retests_run = 1;
  counted.retests_failed = 1;
  ASSERT_TRUE(writer->record_lifecycle(counted, std::nullopt).ok()) << "a tally without a transition";
  LifecycleRow rma = counted;
  rma.state = "rma";
  rma.retests_run = 2;
  rma.retests_failed = 2;
  ASSERT_TRUE(writer->record_lifecycle(rma, transition("quarantined", "rma", "failed 2 of 2 retests")).ok());
  writer.reset();

  auto reader = std::move(Reader::open(path)).value();
  const auto history = reader->lifecycle_transitions("r01-00");
  ASSERT_TRUE(history.ok()) << history.error().message;
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].to_state, "quarantined");
  EXPECT_EQ((*history)[0].run_id, run);
  EXPECT_EQ((*history)[1].reason, "failed 2 of 2 retests");
  EXPECT_EQ((*history)[1].plan_sha256, std::string(64, 'a'));
  const auto states = reader->lifecycle_states();
  ASSERT_TRUE(states.ok());
  ASSERT_EQ(states->size(), 2u);
  EXPECT_EQ((*states)[0].state, "rma");
  EXPECT_EQ((*states)[0].retests_failed, 2u);
  EXPECT_EQ((*states)[1].state, "unknown");
}

TEST_F(Lifecycle, ADeciderWorkingFromAStaleStateIsRefused) {
  ASSERT_TRUE(writer
                  ->record_lifecycle({"r01-00", "suspect", false, 0, 0, 0, run, kNow},
                                     transition("unknown", "suspect", "a marginal result in run 1"))
                  .ok());
  const Status stale = writer->record_lifecycle({"r01-00", "quarantined", false, 0, 0, 0, run, kNow},
                                                transition("healthy", "quarantined", "sdc"));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::conflict);
  EXPECT_EQ(writer->lifecycle("r01-00")->state, "suspect") << "nothing of the refused change was written";
}

TEST_F(Lifecycle, BadRecordsAreRefusedAndHistoryCannotBeRewritten) {
  EXPECT_EQ(writer->record_lifecycle({"r01-00", "broken", false, 0, 0, 0, 0, kNow}, std::nullopt).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(writer->record_lifecycle({"r01-00", "suspect", false, 0, 1, 2, 0, kNow}, std::nullopt).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(writer->record_lifecycle({"r01-00", "rma", false, 0, 0, 0, 0, kNow}, transition("unknown", "suspect", "x"))
                .error()
                .code,
            ErrorCode::invalid_argument);
  ASSERT_TRUE(
      writer
          ->record_lifecycle({"r01-00", "maintenance", true, 0, 0, 0, 0, kNow},
                             TransitionRow{0, "r01-00", "unknown", "maintenance", "alice", "heat sink", 0, "", kNow})
          .ok());
  writer.reset();
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  EXPECT_THROW(db.exec("UPDATE lifecycle_transitions SET actor = 'mallory'"), SQLite::Exception);
  EXPECT_THROW(db.exec("DELETE FROM lifecycle_transitions"), SQLite::Exception);
}

}  // namespace
}  // namespace kiln::store
