// The typed answers, from a store the way kilnd writes it, and the shared
// dispatch that gives kilnd and `kiln --db FILE` the same bytes.
#include "reports/typed_replies.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "reports/answer.hpp"
#include "reports/queries.hpp"
#include "reports/run_status.hpp"
#include "tests/schema/store_test_support.hpp"

namespace kiln::reports {
namespace {

using store::testing::add_sample;
using store::testing::make_batch;
using store::testing::make_rack;
using store::testing::make_run;
using store::testing::must;

class TypedReplies : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("kiln.db");
    auto writer = must(store::Writer::open(path_));
    must(writer->upsert_rack(make_rack("r01", 2), 1'700'000'000'000));
    run_id_ = must(writer->create_run(make_run()));
    // Rack r01 reports only for its own chips in the run.
    must(writer->add_run_chips(run_id_, {{"r01-00", "r01", 0, "trn2-sim", ""}, {"r01-01", "r01", 1, "trn2-sim", ""}}));
    auto batch = make_batch("r01", 1, 1);
    for (int i = 0; i < 3; ++i) {
      add_sample(batch, run_id_, 0, "r01-00", 0.1 * i, {{"temperature_c", 40.0 + i}, {"tflops", 500.0 + i}});
      add_sample(batch, run_id_, 0, "r01-01", 0.1 * i, {{"temperature_c", 50.0 + i}});
    }
    add_sample(batch, run_id_, 1, "r01-00", 0.5, {{"temperature_c", 60.0}});
    ASSERT_TRUE(must(writer->ingest_batch(batch)));
    reader_ = must(store::Reader::open(path_));
  }

  store::testing::TempDir dir_;
  std::string path_;
  std::uint64_t run_id_ = 0;
  std::unique_ptr<store::Reader> reader_;
};

TEST_F(TypedReplies, RunPlanCarriesStepsAndTypedLimitsWithThePeakTheyScale) {
  const kiln::v1::RunPlan plan = must(run_plan(*reader_, run_id_));
  EXPECT_EQ(plan.run_id(), run_id_);
  EXPECT_EQ(plan.plan(), "smoke");
  ASSERT_EQ(plan.steps_size(), 2);
  const auto& gemm = plan.steps(0);
  EXPECT_EQ(gemm.name(), "gemm-bf16");
  EXPECT_EQ(gemm.pattern(), "gemm");
  EXPECT_DOUBLE_EQ(gemm.duration_s(), 300);
  ASSERT_EQ(gemm.limits_size(), 1);
  const auto& tflops = gemm.limits(0);
  EXPECT_EQ(tflops.metric(), "tflops");
  EXPECT_EQ(tflops.of(), kiln::v1::LIMIT_OF_PEAK);
  EXPECT_EQ(tflops.peak_key(), "tflops.bf16") << "the step's dtype names the peak figure";
  ASSERT_TRUE(tflops.has_min());
  EXPECT_DOUBLE_EQ(tflops.min(), 0.85);
  EXPECT_FALSE(tflops.has_max());
  const auto& hbm = plan.steps(1);
  EXPECT_EQ(hbm.phase_index(), 1u);
  ASSERT_EQ(hbm.limits_size(), 1);
  EXPECT_EQ(hbm.limits(0).of(), kiln::v1::LIMIT_OF_ABSOLUTE);
  EXPECT_TRUE(hbm.limits(0).peak_key().empty());
  ASSERT_TRUE(hbm.limits(0).has_max());
  EXPECT_EQ(hbm.limits(0).max(), 0);
  EXPECT_EQ(run_plan(*reader_, 999).error().code, ErrorCode::not_found);
}

TEST_F(TypedReplies, RunProgressFromTheStoreIsNotLive) {
  const kiln::v1::RunProgress progress = must(run_progress(*reader_, run_id_));
  EXPECT_EQ(progress.run_id(), run_id_);
  EXPECT_EQ(progress.plan(), "smoke");
  EXPECT_EQ(progress.status(), kiln::v1::RUN_QUEUED);
  EXPECT_FALSE(progress.live());
  EXPECT_EQ(run_progress(*reader_, 999).error().code, ErrorCode::not_found);
}

TEST_F(TypedReplies, TelemetrySeriesPerChipStepAndMetricInTimeOrder) {
  const kiln::v1::TelemetrySeries all = must(telemetry_series(*reader_, run_id_, "", ""));
  EXPECT_EQ(all.run_id(), run_id_);
  std::size_t points = 0;
  const kiln::v1::MetricSeries* r00_temperature = nullptr;
  for (const auto& s : all.series()) {
    EXPECT_EQ(s.t_s_size(), s.values_size());
    points += static_cast<std::size_t>(s.t_s_size());
    if (s.serial() == "r01-00" && s.step_index() == 0 && s.metric() == "temperature_c") r00_temperature = &s;
  }
  EXPECT_EQ(points, store::testing::count_telemetry(*reader_, run_id_)) << "every stored value, once";
  ASSERT_NE(r00_temperature, nullptr);
  ASSERT_EQ(r00_temperature->t_s_size(), 3);
  EXPECT_DOUBLE_EQ(r00_temperature->t_s(2), 0.2);
  EXPECT_DOUBLE_EQ(r00_temperature->values(2), 42.0);

  const kiln::v1::TelemetrySeries one = must(telemetry_series(*reader_, run_id_, "r01-01", "temperature_c"));
  ASSERT_EQ(one.series_size(), 1);
  EXPECT_EQ(one.series(0).serial(), "r01-01");
  EXPECT_EQ(one.series(0).values_size(), 3);
  EXPECT_EQ(telemetry_series(*reader_, 999, "", "").error().code, ErrorCode::not_found);
}

TEST_F(TypedReplies, TheSharedAnswerIsTheSameTextAsTheDocumentFunctions) {
  kiln::v1::Query q;
  q.set_run_id(run_id_);
  q.set_kind(kiln::v1::Query::RUN);
  auto run = must(answer_query(*reader_, q));
  EXPECT_EQ(run.body(), must(run_json(*reader_, run_id_)));
  EXPECT_EQ(run.content_type(), kJsonContent);
  EXPECT_EQ(run.typed_case(), kiln::v1::QueryReply::TYPED_NOT_SET);

  q.set_kind(kiln::v1::Query::TELEMETRY);
  auto csv = must(answer_query(*reader_, q));
  std::ostringstream expected;
  must(telemetry_csv(*reader_, run_id_, "", "", expected));
  EXPECT_EQ(csv.body(), expected.str());
  EXPECT_EQ(csv.content_type(), kCsvContent);

  q.set_answer(kiln::v1::Query::ANSWER_TYPED);
  EXPECT_TRUE(must(answer_query(*reader_, q)).has_telemetry());
  q.set_kind(kiln::v1::Query::RUN);
  EXPECT_TRUE(must(answer_query(*reader_, q)).has_run_progress());
  q.set_kind(kiln::v1::Query::REPORT);
  EXPECT_EQ(answer_query(*reader_, q).error().code, ErrorCode::invalid_argument) << "REPORT has no typed answer";
  q.set_answer(kiln::v1::Query::ANSWER_TEXT);
  q.set_kind(kiln::v1::Query::RACKS);
  EXPECT_EQ(answer_query(*reader_, q).error().code, ErrorCode::invalid_argument) << "only a daemon knows its racks";
}

TEST(RunStatus, WordsAndEnumRoundTrip) {
  for (const char* word : {"queued", "running", "completed", "aborted", "error"}) {
    EXPECT_EQ(to_string(run_status_of(word)), word);
  }
  EXPECT_EQ(run_status_of("done"), kiln::v1::RUN_STATUS_UNSPECIFIED);
  EXPECT_TRUE(is_finished(kiln::v1::RUN_ABORTED));
  EXPECT_FALSE(is_finished(kiln::v1::RUN_RUNNING));
}

}  // namespace
}  // namespace kiln::reports
