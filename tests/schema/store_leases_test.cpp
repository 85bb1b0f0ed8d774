// Rack leases: all racks or none, one active lease per rack even against a
// direct insert, fencing tokens that only grow, expiry, and leases that
// outlive the writer that took them (a daemon restart).
#include <SQLiteCpp/SQLiteCpp.h>

#include "tests/schema/store_test_support.hpp"

namespace kiln::store {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;
constexpr std::int64_t kHour = 3'600'000;

struct Leases : ::testing::Test {
  testing::TempDir dir;
  std::string path = dir.file("kiln.db");
  std::unique_ptr<Writer> writer;
  std::uint64_t run_a = 0;
  std::uint64_t run_b = 0;

  void SetUp() override {
    auto opened = Writer::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    writer = std::move(*opened);
    run_a = *writer->create_run(testing::make_run());
    run_b = *writer->create_run(testing::make_run());
  }

  static NewLease for_run(std::uint64_t run) { return NewLease{"run", run, "scheduler", "", kNow, kNow + kHour}; }
};

TEST_F(Leases, ARunTakesAllItsRacksOrNone) {
  auto taken = writer->acquire_leases({"r01", "r02"}, for_run(run_a));
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_LT((*taken)[0].id, (*taken)[1].id);

  auto refused = writer->acquire_leases({"r03", "r02"}, for_run(run_b));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_NE(refused.error().message.find("r02: leased by run " + std::to_string(run_a) + " until"), std::string::npos)
      << refused.error().message;
  const auto active = writer->active_leases();
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->size(), 2u) << "r03 was not taken either";
}

TEST_F(Leases, TheDatabaseItselfAllowsOneActiveLeasePerRack) {
  ASSERT_TRUE(writer->acquire_leases({"r01"}, for_run(run_a)).ok());
  writer.reset();
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  EXPECT_THROW(db.exec("INSERT INTO rack_leases (rack, kind, run_id, holder, acquired_unix_ms, expires_unix_ms) "
                       "VALUES ('r01', 'run', " +
                       std::to_string(run_b) + ", 'rogue', 1, 2)"),
               SQLite::Exception);
}

TEST_F(Leases, LeasesSurviveARestartAndFencingTokensOnlyGrow) {
  const auto first = writer->acquire_leases({"r01"}, for_run(run_a));
  ASSERT_TRUE(first.ok());
  writer.reset();
  writer = std::move(Writer::open(path)).value();
  const auto active = writer->active_leases();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].run_id, run_a);
  EXPECT_FALSE(writer->acquire_leases({"r01"}, for_run(run_b)).ok()) << "the restarted writer still sees the lease";

  ASSERT_EQ(*writer->end_leases(run_a, 0, "run completed", kNow + 10), 1);
  const auto second = writer->acquire_leases({"r01"}, for_run(run_b));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_GT((*second)[0].id, (*first)[0].id) << "a later lease carries a larger fencing token";
}

TEST_F(Leases, RenewalKeepsALeaseAndExpiryEndsItWithAReason) {
  ASSERT_TRUE(writer->acquire_leases({"r01", "r02"}, for_run(run_a)).ok());
  EXPECT_EQ(*writer->renew_leases(run_a, 0, kNow + 2 * kHour), 2);
  EXPECT_TRUE(writer->expire_leases(kNow + kHour + 1)->empty()) << "renewed past the first expiry";
  const auto expired = writer->expire_leases(kNow + 2 * kHour);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 2u);
  EXPECT_EQ((*expired)[0].end_reason, "expired");
  EXPECT_EQ((*expired)[0].run_id, run_a);
  EXPECT_EQ(*writer->renew_leases(run_a, 0, kNow + 3 * kHour), 0) << "an ended lease is not renewed";
  EXPECT_TRUE(writer->active_leases()->empty());
}

TEST_F(Leases, ReservationsAndMaintenanceNameWhoAndWhy) {
  ASSERT_TRUE(writer->acquire_leases({"r02"}, NewLease{"reservation", 0, "alice", "rework", kNow, kNow + kHour}).ok());
  const auto refused = writer->acquire_leases({"r02"}, for_run(run_a));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("r02: reserved by alice (rework) until"), std::string::npos)
      << refused.error().message;
}

TEST_F(Leases, MalformedRequestsAreRefusedBeforeSql) {
  EXPECT_EQ(writer->acquire_leases({}, for_run(run_a)).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(writer->acquire_leases({"r01"}, NewLease{"run", 0, "x", "", kNow, kNow + 1}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(writer->acquire_leases({"r01"}, NewLease{"borrow", 0, "x", "", kNow, kNow + 1}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(writer->acquire_leases({"r01"}, NewLease{"reservation", 0, "x", "", kNow, kNow}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_FALSE(writer->end_leases(run_a, 0, "", kNow).ok());
}

// Migration 009: what a run asked of the queue is kept with it, so a
// restarted daemon queues it the same way.
TEST_F(Leases, ARunKeepsItsPriorityQueueTimeoutAndMaximumWallTime) {
  NewRun asked = testing::make_run();
  asked.priority = -7;
  asked.queue_timeout_s = 7200;
  asked.max_wall_s = 600;
  const auto id = writer->create_run(asked);
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto reader = Reader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const auto row = (*reader)->run(*id);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ(row->priority, -7);
  EXPECT_EQ(row->queue_timeout_s, 7200u);
  EXPECT_EQ(row->max_wall_s, 600u);
  const auto plain = (*reader)->run(run_a);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->priority, 0);
  EXPECT_FALSE(plain->queue_timeout_s);
  EXPECT_FALSE(plain->max_wall_s);
}

}  // namespace
}  // namespace kiln::store
