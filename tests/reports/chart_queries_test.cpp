// The dashboard's chart queries (issue 12), from a store the way kilnd
// writes it: ROLLUPS answers one chip's roll-ups per step and metric (the
// sealed chunks', then the open values'), and says when the raw values were
// pruned; TELEMETRY's time windows keep only their values, typed and CSV
// alike, and bad windows are refused with a reason.
#include <cmath>
#include <limits>
#include <sstream>

#include <gtest/gtest.h>

#include "reports/answer.hpp"
#include "reports/telemetry_windows.hpp"
#include "tests/schema/store_test_support.hpp"

namespace kiln::reports {
namespace {

using store::testing::add_sample;
using store::testing::make_batch;
using store::testing::make_rack;
using store::testing::make_run;
using store::testing::must;

class ChartQueries : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("kiln.db");
    writer_ = must(store::Writer::open(path_));
    must(writer_->upsert_rack(make_rack("r01", 2), 1'700'000'000'000));
    run_id_ = must(writer_->create_run(make_run()));
    must(writer_->add_run_chips(run_id_, {{"r01-00", "r01", 0, "trn2-sim", ""}, {"r01-01", "r01", 1, "trn2-sim", ""}}));
    // Step 0: 100 samples, sealed by its result; step 1: 10 samples, still open.
    auto batch = make_batch("r01", 1, 1);
    for (int i = 0; i < 100; ++i) {
      add_sample(batch, run_id_, 0, "r01-00", 0.1 * i, {{"temperature_c", 40.0 + i % 10}, {"tflops", 500.0}});
      add_sample(batch, run_id_, 0, "r01-01", 0.1 * i, {{"temperature_c", 70.0}});
    }
    for (int i = 0; i < 10; ++i) add_sample(batch, run_id_, 1, "r01-00", 0.1 * i, {{"temperature_c", 60.0 + i}});
    auto* result = batch.add_results();
    result->set_run_id(run_id_);
    result->set_step_index(0);
    result->set_serial("r01-00");
    result->set_completed(true);
    ASSERT_TRUE(must(writer_->ingest_batch(batch)));
    reader_ = must(store::Reader::open(path_));
  }

  kiln::v1::Query query(kiln::v1::Query::Kind kind) const {
    kiln::v1::Query q;
    q.set_kind(kind);
    q.set_answer(kiln::v1::Query::ANSWER_TYPED);
    q.set_run_id(run_id_);
    q.set_serial("r01-00");
    return q;
  }

  static void add_window(kiln::v1::Query& q, std::uint32_t step, double from, double to) {
    auto* w = q.add_windows();
    w->set_step_index(step);
    w->set_from_t_s(from);
    w->set_to_t_s(to);
  }

  store::testing::TempDir dir_;
  std::string path_;
  std::uint64_t run_id_ = 0;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<store::Reader> reader_;
};

TEST_F(ChartQueries, RollupsAnswerOneChipsRollupsPerStepAndMetricOpenValuesLast) {
  const kiln::v1::QueryReply reply = must(answer_query(*reader_, query(kiln::v1::Query::ROLLUPS)));
  ASSERT_TRUE(reply.has_rollups());
  const kiln::v1::TelemetryRollups& r = reply.rollups();
  EXPECT_EQ(r.run_id(), run_id_);
  EXPECT_EQ(r.raw_pruned_unix_ms(), 0);
  ASSERT_EQ(r.series_size(), 3);  // (0, temperature_c), (0, tflops), (1, temperature_c)
  const auto& t0 = r.series(0);
  EXPECT_EQ(t0.serial(), "r01-00");
  EXPECT_EQ(t0.step_index(), 0u);
  EXPECT_EQ(t0.metric(), "temperature_c");
  ASSERT_EQ(t0.count_size(), 1);  // one sealed chunk
  EXPECT_EQ(t0.count(0), 100u);
  EXPECT_DOUBLE_EQ(t0.min(0), 40);
  EXPECT_DOUBLE_EQ(t0.max(0), 49);
  EXPECT_DOUBLE_EQ(t0.avg(0), 44.5);
  EXPECT_DOUBLE_EQ(t0.t_from_s(0), 0);
  EXPECT_NEAR(t0.t_to_s(0), 9.9, 1e-6);
  EXPECT_FALSE(t0.last_open());
  EXPECT_EQ(r.series(1).metric(), "tflops");
  const auto& open = r.series(2);
  EXPECT_EQ(open.step_index(), 1u);
  ASSERT_EQ(open.count_size(), 1);
  EXPECT_EQ(open.count(0), 10u);
  EXPECT_DOUBLE_EQ(open.max(0), 69);
  EXPECT_TRUE(open.last_open()) << "step 1 has no result yet: its values are open";
}

TEST_F(ChartQueries, RollupsNeedAKnownSerialAndHaveNoTextAnswer) {
  auto q = query(kiln::v1::Query::ROLLUPS);
  q.set_serial("");
  EXPECT_EQ(answer_query(*reader_, q).error().code, ErrorCode::invalid_argument);
  q.set_serial("nope");
  EXPECT_EQ(answer_query(*reader_, q).error().code, ErrorCode::not_found);
  q.set_serial("r01-00");
  q.set_answer(kiln::v1::Query::ANSWER_TEXT);
  EXPECT_EQ(answer_query(*reader_, q).error().code, ErrorCode::invalid_argument);
}

TEST_F(ChartQueries, RollupsOfAPrunedRunSayWhenItsRawValuesWentAndTelemetryStillRefuses) {
  must(writer_->set_run_status(run_id_, "completed", "", 1'700'000'100'000));
  const auto pruned = must(writer_->prune_raw_telemetry(1000, 1'900'000'000'000));
  ASSERT_EQ(pruned.size(), 1u);
  const kiln::v1::QueryReply reply = must(answer_query(*reader_, query(kiln::v1::Query::ROLLUPS)));
  EXPECT_EQ(reply.rollups().raw_pruned_unix_ms(), 1'900'000'000'000);
  EXPECT_EQ(reply.rollups().series(0).count(0), 100u) << "roll-ups are kept";
  auto raw = query(kiln::v1::Query::TELEMETRY);
  add_window(raw, 0, 1, 2);
  EXPECT_EQ(answer_query(*reader_, raw).error().code, ErrorCode::not_found);
}

TEST_F(ChartQueries, TelemetryWindowsKeepOnlyTheirValuesTypedAndCsvAlike) {
  auto q = query(kiln::v1::Query::TELEMETRY);
  q.set_metric("temperature_c");
  add_window(q, 0, 2.0, 2.95);  // sealed: 2.0 … 2.9
  add_window(q, 1, 0.5, 0.5);   // open: exactly one value
  const kiln::v1::QueryReply typed = must(answer_query(*reader_, q));
  ASSERT_EQ(typed.telemetry().series_size(), 2);
  const auto& sealed = typed.telemetry().series(0);
  ASSERT_EQ(sealed.t_s_size(), 10);
  EXPECT_NEAR(sealed.t_s(0), 2.0, 1e-9);
  EXPECT_NEAR(sealed.t_s(9), 2.9, 1e-9);
  ASSERT_EQ(typed.telemetry().series(1).values_size(), 1);
  EXPECT_DOUBLE_EQ(typed.telemetry().series(1).values(0), 65);

  q.set_answer(kiln::v1::Query::ANSWER_TEXT);
  const std::string csv = must(answer_query(*reader_, q)).body();
  std::istringstream lines(csv);
  int rows = -1;  // the header
  for (std::string line; std::getline(lines, line);) ++rows;
  EXPECT_EQ(rows, 11) << csv;

  // A window of a step with no values there: nothing, not everything.
  auto none = query(kiln::v1::Query::TELEMETRY);
  add_window(none, 0, 50, 60);
  EXPECT_EQ(must(answer_query(*reader_, none)).telemetry().series_size(), 0);
}

TEST_F(ChartQueries, BadWindowsAreRefusedWithTheirReason) {
  auto backwards = query(kiln::v1::Query::TELEMETRY);
  add_window(backwards, 1, 20, 10);
  const auto error = answer_query(*reader_, backwards).error();
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("time window of step 1: from 20 s is after to 10 s"), std::string::npos)
      << error.message;

  auto nan = query(kiln::v1::Query::TELEMETRY);
  add_window(nan, 0, std::numeric_limits<double>::quiet_NaN(), 1);
  EXPECT_EQ(answer_query(*reader_, nan).error().code, ErrorCode::invalid_argument);

  auto many = query(kiln::v1::Query::TELEMETRY);
  many.set_answer(kiln::v1::Query::ANSWER_TEXT);
  for (std::size_t i = 0; i <= kMaxTimeWindows; ++i) add_window(many, 0, 0, 1);
  const auto too_many = answer_query(*reader_, many).error();
  EXPECT_EQ(too_many.code, ErrorCode::invalid_argument);
  EXPECT_NE(too_many.message.find("at most 64"), std::string::npos) << too_many.message;
}

}  // namespace
}  // namespace kiln::reports
