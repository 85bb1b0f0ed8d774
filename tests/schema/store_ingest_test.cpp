// Agent batches: idempotent on (rack, epoch, seq), never losing what a chip
// reported, refusing what cannot be attached to a run.

#include <gtest/gtest.h>

#include <cmath>

#include "schema/store.hpp"
#include "store_test_support.hpp"

namespace kiln::store {
namespace {

using testing::add_sample;
using testing::make_batch;
using testing::make_run;
using testing::must;

class StoreIngest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = must(Writer::open(path_));
    must(writer_->upsert_rack(testing::make_rack("r01", 2), 1000));
    run_id_ = must(writer_->create_run(make_run()));
    // A rack reports only for its own chips in a run (run_chips).
    must(writer_->add_run_chips(run_id_, {{"r01-00", "r01", 0, "trn2-sim", ""},
                                          {"r01-01", "r01", 1, "trn2-sim", ""},
                                          {"r01-02", "r01", 2, "trn2-sim", ""},
                                          {"r02-00", "r02", 0, "trn2-sim", ""}}));
  }
  std::unique_ptr<Reader> reader() { return must(Reader::open(path_)); }

  // 2 chips x 10 samples x 3 metrics = 60 telemetry rows.
  kiln::v1::AgentBatch sixty_values(std::uint64_t seq) const {
    kiln::v1::AgentBatch batch = make_batch("r01", 7, seq);
    for (int i = 0; i < 10; ++i) {
      for (const char* serial : {"r01-00", "r01-01"}) {
        add_sample(batch, run_id_, 0, serial, i * 0.1,
                   {{"temperature_c", 40.0 + i}, {"power_w", 300.0 + i}, {"tflops", 600.0 - i}});
      }
    }
    return batch;
  }

  testing::TempDir dir_;
  std::string path_ = dir_.file("kiln.db");
  std::unique_ptr<Writer> writer_;
  std::uint64_t run_id_ = 0;
};

TEST_F(StoreIngest, ABatchIsIngestedOnceAndAResentValueIsKeptOnce) {
  const kiln::v1::AgentBatch batch = sixty_values(1);
  EXPECT_TRUE(must(writer_->ingest_batch(batch)));
  auto reader = this->reader();
  EXPECT_EQ(testing::count_telemetry(*reader, run_id_), 60u);

  // The ack was lost and the agent resent the batch: nothing is added.
  EXPECT_FALSE(must(writer_->ingest_batch(batch)));
  EXPECT_EQ(testing::count_telemetry(*reader, run_id_), 60u);

  // The same samples under another sequence number (an agent replaying its
  // spool) do not duplicate rows either; new samples in it are kept.
  kiln::v1::AgentBatch replay = sixty_values(2);
  add_sample(replay, run_id_, 0, "r01-00", 5.0, {{"temperature_c", 80}});
  EXPECT_TRUE(must(writer_->ingest_batch(replay)));
  EXPECT_EQ(testing::count_telemetry(*reader, run_id_), 61u);
  EXPECT_EQ(testing::count_rows(path_, "ingested_batches"), 2);
}

TEST_F(StoreIngest, ADuplicateBatchWritesNothingEvenInsideATransaction) {
  must(writer_->begin());
  EXPECT_TRUE(must(writer_->ingest_batch(sixty_values(1))));
  kiln::v1::AgentBatch same_number = make_batch("r01", 7, 1);
  add_sample(same_number, run_id_, 1, "r01-00", 0, {{"hbm_gbps", 1}});
  EXPECT_FALSE(must(writer_->ingest_batch(same_number)));
  must(writer_->commit());
  EXPECT_EQ(testing::count_telemetry(*reader(), run_id_), 60u);

  // (rack, epoch, seq) is the key: another epoch or rack is a new batch.
  kiln::v1::AgentBatch new_epoch = make_batch("r01", 8, 1);
  add_sample(new_epoch, run_id_, 1, "r01-00", 0, {{"hbm_gbps", 1}});
  EXPECT_TRUE(must(writer_->ingest_batch(new_epoch)));
  kiln::v1::AgentBatch other_rack = make_batch("r02", 7, 1);
  add_sample(other_rack, run_id_, 1, "r02-00", 0, {{"hbm_gbps", 1}});
  EXPECT_TRUE(must(writer_->ingest_batch(other_rack)));
  EXPECT_EQ(testing::count_telemetry(*reader(), run_id_), 62u);
}

TEST_F(StoreIngest, ABatchThatSpeaksForAChipNotItsRacksInTheRunIsRefusedWhole) {
  // Another rack's chip, with one of its own: nothing of the batch is stored.
  kiln::v1::AgentBatch forged = make_batch("r01", 7, 1);
  add_sample(forged, run_id_, 0, "r01-00", 0.5, {{"temperature_c", 55}});
  auto* result = forged.add_results();
  result->set_serial("r02-00");
  result->set_run_id(run_id_);
  result->set_step_index(0);
  result->set_completed(true);
  auto refused = writer_->ingest_batch(forged);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::permission_denied);
  EXPECT_NE(refused.error().message.find("r02-00 belongs to rack r02"), std::string::npos) << refused.error().message;
  // A chip that is no part of the run is not added to the inventory either.
  kiln::v1::AgentBatch stranger = make_batch("r01", 7, 2);
  add_sample(stranger, run_id_, 0, "R01-SPARE", 0.5, {{"temperature_c", 55}});
  EXPECT_EQ(writer_->ingest_batch(stranger).error().code, ErrorCode::permission_denied);

  auto reader = this->reader();
  EXPECT_EQ(testing::count_telemetry(*reader, run_id_), 0u);
  EXPECT_TRUE(must(reader->chip_steps(run_id_)).empty());
  for (const ChipRow& c : must(reader->chips())) EXPECT_NE(c.serial, "R01-SPARE");
  // Its sequence numbers were not claimed: the real batch 1 is stored.
  kiln::v1::AgentBatch real = make_batch("r01", 7, 1);
  add_sample(real, run_id_, 0, "r01-00", 0.5, {{"temperature_c", 41}});
  EXPECT_TRUE(must(writer_->ingest_batch(real)));
  EXPECT_EQ(testing::count_telemetry(*reader, run_id_), 1u);
}

TEST_F(StoreIngest, ABatchForAnUnknownRunOrStepIsRefusedWhole) {
  kiln::v1::AgentBatch batch = sixty_values(1);
  add_sample(batch, run_id_ + 40, 0, "r01-00", 0, {{"temperature_c", 1}});
  const auto unknown_run = writer_->ingest_batch(batch);
  ASSERT_FALSE(unknown_run);
  EXPECT_EQ(unknown_run.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(unknown_run.error().message.find("no run"), std::string::npos) << unknown_run.error().message;

  batch = sixty_values(1);
  auto* result = batch.add_results();
  result->set_serial("r01-00");
  result->set_run_id(run_id_);
  result->set_step_index(5);
  const auto unknown_step = writer_->ingest_batch(batch);
  ASSERT_FALSE(unknown_step);
  EXPECT_NE(unknown_step.error().message.find("no step 5"), std::string::npos) << unknown_step.error().message;

  EXPECT_EQ(testing::count_telemetry(*reader(), run_id_), 0u);
  // The refused batch was not recorded as seen: a corrected resend is stored.
  EXPECT_TRUE(must(writer_->ingest_batch(sixty_values(1))));
  EXPECT_EQ(testing::count_telemetry(*reader(), run_id_), 60u);
}

TEST_F(StoreIngest, StepResultsKeepMetricsNotesAndDetections) {
  kiln::v1::AgentBatch batch = make_batch("r01", 7, 1);
  auto* result = batch.add_results();
  result->set_serial("r01-01");
  result->set_run_id(run_id_);
  result->set_step_index(0);
  result->set_completed(false);
  result->set_note("hang after 120 s");
  result->set_ran_s(120.5);
  kiln::v1::MetricSummary tflops;
  tflops.set_min(400);
  tflops.set_avg(550);
  tflops.set_max(600);
  tflops.set_count(1200);
  (*result->mutable_metrics())["tflops"] = tflops;
  (*result->mutable_metrics())["temperature_c"].set_count(0);
  auto* detection = result->add_detections();
  detection->set_cls(kiln::v1::FAILURE_SDC);
  detection->set_metric("sdc_errors");
  detection->set_count(17);
  detection->set_first_t_s(12.5);
  detection->set_last_t_s(100);
  detection->set_first_wall_unix_ms(111);
  detection->set_last_wall_unix_ms(222);
  detection->mutable_conditions()->set_temperature_c(71.5);
  (*detection->mutable_location())["pe_row"] = 12;
  (*detection->mutable_location())["core"] = 1;
  EXPECT_TRUE(must(writer_->ingest_batch(batch)));

  auto reader = this->reader();
  std::vector<ChipStepRow> rows = must(reader->chip_steps(run_id_));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].serial, "r01-01");
  EXPECT_EQ(rows[0].verdict, "");  // measured, not yet judged
  EXPECT_FALSE(rows[0].completed);
  EXPECT_EQ(rows[0].note, "hang after 120 s");
  EXPECT_EQ(rows[0].ran_s, 120.5);
  EXPECT_TRUE(rows[0].failures.empty());  // detections are evidence, not failures
  ASSERT_EQ(rows[0].metrics.size(), 2u);  // by name
  EXPECT_EQ(rows[0].metrics[0].metric, "temperature_c");
  EXPECT_EQ(rows[0].metrics[0].count, 0u);
  EXPECT_EQ(rows[0].metrics[1].metric, "tflops");
  EXPECT_EQ(rows[0].metrics[1].min, 400);
  EXPECT_EQ(rows[0].metrics[1].avg, 550);
  EXPECT_EQ(rows[0].metrics[1].max, 600);
  EXPECT_EQ(rows[0].metrics[1].count, 1200u);

  const std::vector<DetectionRow> detections = must(reader->detections(run_id_));
  ASSERT_EQ(detections.size(), 1u);
  EXPECT_EQ(detections[0].serial, "r01-01");
  EXPECT_EQ(detections[0].cls, "sdc");
  EXPECT_EQ(detections[0].metric, "sdc_errors");
  EXPECT_EQ(detections[0].count, 17u);
  EXPECT_EQ(detections[0].first_unix_ms, 111);
  EXPECT_EQ(detections[0].conditions_json, R"({"temperature_c":71.5})");  // absent conditions are not 0
  EXPECT_EQ(detections[0].location_json, R"({"core":1,"pe_row":12})");

  // The verdict, judged later, survives the agent resending its result.
  must(writer_->set_chip_step_verdict(run_id_, 0, "r01-01", "fail", "sdc", {}));
  kiln::v1::AgentBatch resent = batch;
  resent.set_seq(2);
  resent.mutable_results(0)->mutable_metrics()->erase("temperature_c");
  EXPECT_TRUE(must(writer_->ingest_batch(resent)));
  rows = must(reader->chip_steps(run_id_));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, "fail");
  EXPECT_EQ(rows[0].metrics.size(), 1u);
  EXPECT_EQ(must(reader->detections(run_id_)).size(), 1u);
}

TEST_F(StoreIngest, AShmooMapIsKeptAsItsPointsAndADetectionKeepsItsKind) {
  kiln::v1::AgentBatch batch = make_batch("r01", 7, 1);
  auto* result = batch.add_results();
  result->set_serial("r01-02");
  result->set_run_id(run_id_);
  result->set_completed(true);
  auto* shmoo = result->mutable_shmoo();
  for (double v : {700.0, 750.0}) shmoo->add_voltages_mv(v);
  for (double c : {2000.0, 2400.0, 2800.0}) shmoo->add_clocks_mhz(c);
  for (auto o : {kiln::v1::SHMOO_PASS, kiln::v1::SHMOO_FAIL, kiln::v1::SHMOO_REFUSED, kiln::v1::SHMOO_PASS,
                 kiln::v1::SHMOO_PASS, kiln::v1::SHMOO_NOT_RUN}) {
    shmoo->add_outcomes(o);
  }
  auto* detection = result->add_detections();
  detection->set_cls(kiln::v1::FAILURE_MARGIN);
  detection->set_kind(kiln::v1::DETECTION_POINT_FAILED);
  detection->set_count(1);
  EXPECT_TRUE(must(writer_->ingest_batch(batch)));

  auto reader = this->reader();
  const std::vector<ChipStepRow> rows = must(reader->chip_steps(run_id_));
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_TRUE(rows[0].shmoo.has_value());
  EXPECT_EQ(rows[0].shmoo->voltages_mv, (std::vector<double>{700, 750}));
  EXPECT_EQ(rows[0].shmoo->clocks_mhz, (std::vector<double>{2000, 2400, 2800}));
  EXPECT_EQ(rows[0].shmoo->rows, (std::vector<std::string>{".X-", "..?"}));
  const std::vector<DetectionRow> detections = must(reader->detections(run_id_));
  ASSERT_EQ(detections.size(), 1u);
  EXPECT_EQ(detections[0].cls, "margin");
  EXPECT_EQ(detections[0].kind, "point_failed");
}

TEST_F(StoreIngest, AShmooMapWhoseOutcomesDoNotFillItsGridIsRefused) {
  kiln::v1::AgentBatch batch = make_batch("r01", 7, 1);
  auto* result = batch.add_results();
  result->set_serial("r01-02");
  result->set_run_id(run_id_);
  result->mutable_shmoo()->add_voltages_mv(700);
  result->mutable_shmoo()->add_clocks_mhz(2000);
  result->mutable_shmoo()->add_clocks_mhz(2400);
  result->mutable_shmoo()->add_outcomes(kiln::v1::SHMOO_PASS);
  const auto stored = writer_->ingest_batch(batch);
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(stored.error().message.find("shmoo map"), std::string::npos) << stored.error().message;
}

TEST_F(StoreIngest, NaNIsStoredAsNaNNotZero) {
  kiln::v1::AgentBatch batch = make_batch("r01", 7, 1);
  add_sample(batch, run_id_, 0, "r01-00", 1, {{"tflops", std::nan("")}});
  EXPECT_TRUE(must(writer_->ingest_batch(batch)));
  std::vector<TelemetryRow> rows;
  must(reader()->telemetry(run_id_, "", "", [&](const TelemetryRow& row) { rows.push_back(row); }));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(std::isnan(rows[0].value));

  kiln::v1::AgentBatch bad_time = make_batch("r01", 7, 2);
  add_sample(bad_time, run_id_, 0, "r01-00", std::nan(""), {{"tflops", 1}});
  EXPECT_EQ(writer_->ingest_batch(bad_time).error().code, ErrorCode::invalid_argument);
}

// Regression: ids cached during a rolled-back transaction named rows that no
// longer existed, so the next batch failed its foreign keys.
TEST_F(StoreIngest, ARollbackForgetsIdsCachedInsideIt) {
  must(writer_->begin());
  kiln::v1::AgentBatch batch = make_batch("r01", 7, 1);
  add_sample(batch, run_id_, 0, "r01-00", 0, {{"brand_new_metric", 1}});
  EXPECT_TRUE(must(writer_->ingest_batch(batch)));
  writer_->rollback();

  EXPECT_TRUE(must(writer_->ingest_batch(batch)));
  std::vector<TelemetryRow> rows;
  must(reader()->telemetry(run_id_, "r01-00", "brand_new_metric",
                           [&](const TelemetryRow& row) { rows.push_back(row); }));
  EXPECT_EQ(rows.size(), 1u);
}

TEST_F(StoreIngest, ThousandsOfValuesInOneTransaction) {
  must(writer_->begin());
  std::uint64_t seq = 0;
  for (int b = 0; b < 10; ++b) {
    kiln::v1::AgentBatch batch = make_batch("r01", 7, ++seq);
    for (int i = 0; i < 100; ++i) {
      for (const char* serial : {"r01-00", "r01-01"}) {
        add_sample(batch, run_id_, 0, serial, b * 10 + i * 0.1,
                   {{"temperature_c", 1}, {"power_w", 2}, {"clock_mhz", 3}, {"voltage_mv", 4}, {"tflops", 5}});
      }
    }
    EXPECT_TRUE(must(writer_->ingest_batch(batch)));
  }
  must(writer_->commit());
  EXPECT_EQ(testing::count_telemetry(*reader(), run_id_), 10'000u);
}

}  // namespace
}  // namespace kiln::store
