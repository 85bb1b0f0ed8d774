// kilnd's retention timer (docs/telemetry-storage.md, "Retention"): it drops
// raw telemetry of runs that ended more than --keep-raw ago when it fires,
// fires again every period, keeps the roll-ups, and stops when told. The
// clock that decides what is due is injected; the timer's own periods are a
// millisecond, and the test waits on its passes, not on time.

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/ingest_writer.hpp"
#include "daemon/raw_retention.hpp"
#include "tests/schema/store_test_support.hpp"

namespace kiln::daemon {
namespace {

using store::testing::must;
using namespace std::chrono_literals;

constexpr std::int64_t kDay = 24 * 3600 * 1000;
constexpr std::int64_t kEnded = 1'790'000'000'000;

class RawRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto writer = must(store::Writer::open(path_));
    must(writer->upsert_rack(store::testing::make_rack("r01", 1), 1000));
    for (int i = 0; i < 3; ++i) runs_.push_back(ended_run(*writer, static_cast<std::uint64_t>(i + 1)));
    writer_ = std::make_unique<IngestWriter>(std::move(writer), io_.get_executor());
  }
  void TearDown() override {
    retention_.reset();
    writer_->stop();
  }

  // A completed run with 200 values of r01-00 in its step 0, ended at kEnded.
  static std::uint64_t ended_run(store::Writer& w, std::uint64_t seq) {
    const std::uint64_t run = must(w.create_run(store::testing::make_run()));
    must(w.add_run_chips(run, {{"r01-00", "r01", 0, "trn2-sim", ""}}));
    must(w.set_run_status(run, "running", "", 2000));
    kiln::v1::AgentBatch batch = store::testing::make_batch("r01", 1, seq);
    for (int i = 0; i < 100; ++i) {
      store::testing::add_sample(batch, run, 0, "r01-00", (i + 1) * 0.1,
                                 {{"temperature_c", 40.0 + i * 0.01}, {"power_w", 300.0 + i % 7}});
    }
    auto* result = batch.add_results();
    result->set_run_id(run);
    result->set_step_index(0);
    result->set_serial("r01-00");
    result->set_completed(true);
    must(w.ingest_batch(batch));
    must(w.set_run_status(run, "completed", "", kEnded));
    return run;
  }

  RetentionConfig config() {
    RetentionConfig c;
    c.keep_raw = std::chrono::milliseconds(30 * kDay);
    c.every = 1ms;
    c.first_after = 1ms;
    c.runs_per_transaction = 2;
    c.now_unix_ms = [this] {
      ++clock_reads_;  // one read per transaction the timer's pass runs
      return now_;
    };
    return c;
  }
  void start(RetentionConfig c) {
    retention_ = std::make_unique<RawRetention>(io_.get_executor(), *writer_, std::move(c));
    retention_->start();
  }
  // Runs the io thread's handlers until `done` holds (or 10 s pass: a hang).
  template <class Pred>
  bool run_until(Pred done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      io_.run_one_for(100ms);
    }
    return true;
  }
  bool pruned(std::uint64_t run) const {
    return must(must(store::Reader::open(path_))->run(run)).raw_telemetry_pruned_unix_ms.has_value();
  }
  std::int64_t raw_chunks() const { return store::testing::count_rows(path_, "telemetry_chunks"); }
  std::int64_t rollups() const { return store::testing::count_rows(path_, "telemetry_rollups"); }

  store::testing::TempDir dir_;
  std::string path_ = dir_.file("kiln.db");
  boost::asio::io_context io_;
  // Keeps io_ from running out of work while a pass is on the writer's
  // thread (nothing is armed then); released where a test asks whether
  // anything is still armed.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy_{io_.get_executor()};
  std::unique_ptr<IngestWriter> writer_;
  std::unique_ptr<RawRetention> retention_;
  std::vector<std::uint64_t> runs_;
  std::int64_t now_ = kEnded + 29 * kDay;
  int clock_reads_ = 0;
};

TEST_F(RawRetentionTest, FiresOnItsPeriodAndDropsOnlyWhatIsDueKeepingRollups) {
  ASSERT_EQ(raw_chunks(), 3);
  const std::int64_t rollups_before = rollups();
  ASSERT_GT(rollups_before, 0);
  start(config());
  ASSERT_TRUE(run_until([&] { return clock_reads_ >= 2; })) << "the timer did not fire twice";
  EXPECT_EQ(raw_chunks(), 3) << "29 days after the runs ended, with 30 kept, nothing is due";
  EXPECT_FALSE(pruned(runs_[0]));

  now_ = kEnded + 31 * kDay;  // the next pass of the same timer finds all three due
  ASSERT_TRUE(run_until([&] { return pruned(runs_[0]) && pruned(runs_[1]) && pruned(runs_[2]); }));
  EXPECT_EQ(raw_chunks(), 0);
  EXPECT_EQ(rollups(), rollups_before) << "roll-ups are kept forever";
}

TEST_F(RawRetentionTest, OnePassTakesEveryDueRunAFewPerTransaction) {
  now_ = kEnded + 31 * kDay;
  retention_ = std::make_unique<RawRetention>(io_.get_executor(), *writer_, config());
  std::optional<std::uint64_t> total;
  retention_->prune_now([&](std::uint64_t runs) { total = runs; });
  ASSERT_TRUE(run_until([&] { return total.has_value(); }));
  EXPECT_EQ(*total, 3u);
  EXPECT_EQ(clock_reads_, 2) << "2 runs, then the last one, in two transactions";
  EXPECT_EQ(raw_chunks(), 0);
}

TEST_F(RawRetentionTest, StoppedItFiresNoMore) {
  start(config());
  ASSERT_TRUE(run_until([&] { return clock_reads_ >= 1; }));
  retention_->stop();
  now_ = kEnded + 31 * kDay;
  writer_->stop();  // the pass in flight, if any, completes
  const int reads = clock_reads_;
  busy_.reset();
  io_.run_for(5s);  // returns at once when no timer is armed
  EXPECT_TRUE(io_.stopped()) << "a stopped timer was armed again";
  EXPECT_EQ(clock_reads_, reads);
  EXPECT_EQ(raw_chunks(), 3);
}

TEST_F(RawRetentionTest, KeepRawZeroKeepsEverythingAndArmsNoTimer) {
  now_ = kEnded + 3650 * kDay;
  RetentionConfig c = config();
  c.keep_raw = 0ms;
  start(std::move(c));
  busy_.reset();
  io_.run_for(5s);
  EXPECT_TRUE(io_.stopped()) << "no timer may be armed";
  EXPECT_EQ(clock_reads_, 0);
  EXPECT_EQ(raw_chunks(), 3);
}

}  // namespace
}  // namespace kiln::daemon
