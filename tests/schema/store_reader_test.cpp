// The read-only side used by `kiln report|telemetry|chips --db FILE` and by
// the daemon's query replies.

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "schema/store.hpp"
#include "store_test_support.hpp"

namespace kiln::store {
namespace {

using testing::add_sample;
using testing::make_batch;
using testing::make_run;
using testing::must;

TEST(StoreReaderOpen, AMissingFileIsNotFoundAndIsNotCreated) {
  testing::TempDir dir;
  const std::string path = dir.file("absent.db");
  const auto reader = Reader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::not_found);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(StoreReaderOpen, AnEmptyFileIsRefusedAndLeftEmpty) {
  testing::TempDir dir;
  const std::string path = dir.file("empty.db");
  {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    std::fclose(file);
  }
  const auto reader = Reader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::invalid_argument) << reader.error().message;
  EXPECT_EQ(std::filesystem::file_size(path), 0u);  // not migrated behind the user's back
}

class StoreReader : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = must(Writer::open(path_));
    run_id_ = must(writer_->create_run(make_run()));
  }

  testing::TempDir dir_;
  std::string path_ = dir_.file("kiln.db");
  std::unique_ptr<Writer> writer_;
  std::uint64_t run_id_ = 0;
};

TEST_F(StoreReader, CannotWrite) {
  auto reader = must(Reader::open(path_));
  EXPECT_TRUE(reader->read_only());
  // Reading everything leaves the database as it was for the writer.
  must(reader->list_runs());
  must(reader->chip_steps(run_id_));
  must(writer_->set_run_status(run_id_, "running", "", 10));
  EXPECT_EQ(must(reader->run(run_id_)).status, "running");
}

TEST_F(StoreReader, ReadsAfterTheWriterHasClosed) {
  writer_.reset();  // as after `kiln lab` finished: the WAL is checkpointed away
  auto reader = must(Reader::open(path_));
  EXPECT_EQ(must(reader->list_runs()).size(), 1u);
}

TEST_F(StoreReader, UnknownRunsAreNotFound) {
  auto reader = must(Reader::open(path_));
  const std::uint64_t unknown = run_id_ + 1;
  EXPECT_EQ(reader->run(unknown).error().code, ErrorCode::not_found);
  EXPECT_EQ(reader->plan_text(unknown).error().code, ErrorCode::not_found);
  EXPECT_EQ(reader->steps(unknown).error().code, ErrorCode::not_found);
  EXPECT_EQ(reader->run_chips(unknown).error().code, ErrorCode::not_found);
  EXPECT_EQ(reader->chip_steps(unknown).error().code, ErrorCode::not_found);
  EXPECT_EQ(reader->detections(unknown).error().code, ErrorCode::not_found);
  EXPECT_EQ(reader->telemetry(unknown, "", "", [](const TelemetryRow&) {}).error().code, ErrorCode::not_found);
  EXPECT_EQ(reader->run(unknown).error().message, "no run " + std::to_string(unknown));
}

TEST_F(StoreReader, TelemetryStreamsInSerialStepTimeMetricOrderAndFilters) {
  // Rack r01 reports only for its own chips in the run.
  must(writer_->add_run_chips(run_id_, {{"A", "r01", 0, "trn2-sim", ""}, {"B", "r01", 1, "trn2-sim", ""}}));
  kiln::v1::AgentBatch batch = make_batch("r01", 1, 1);
  // Deliberately out of order.
  add_sample(batch, run_id_, 1, "B", 0.0, {{"power_w", 1}});
  add_sample(batch, run_id_, 0, "B", 0.2, {{"tflops", 2}, {"power_w", 3}});
  add_sample(batch, run_id_, 0, "A", 0.1, {{"power_w", 4}});
  add_sample(batch, run_id_, 0, "B", 0.1, {{"power_w", 5}});
  add_sample(batch, run_id_, 1, "A", 0.0, {{"power_w", 6}});
  EXPECT_TRUE(must(writer_->ingest_batch(batch)));

  auto reader = must(Reader::open(path_));
  std::vector<std::string> all;
  must(reader->telemetry(run_id_, "", "", [&](const TelemetryRow& row) {
    all.push_back(fmt::format("{}/{}/{}/{}={}", row.serial, row.step_index, row.t_s, row.metric, row.value));
  }));
  EXPECT_EQ(all, (std::vector<std::string>{"A/0/0.1/power_w=4", "A/1/0/power_w=6", "B/0/0.1/power_w=5",
                                           "B/0/0.2/power_w=3", "B/0/0.2/tflops=2", "B/1/0/power_w=1"}));

  std::vector<double> b_power;
  must(reader->telemetry(run_id_, "B", "power_w", [&](const TelemetryRow& row) { b_power.push_back(row.value); }));
  EXPECT_EQ(b_power, (std::vector<double>{5, 3, 1}));

  const Status typo = reader->telemetry(run_id_, "", "powr_w", [](const TelemetryRow&) {});
  EXPECT_EQ(typo.error().code, ErrorCode::not_found);
  EXPECT_NE(typo.error().message.find("powr_w"), std::string::npos);
  EXPECT_EQ(reader->telemetry(run_id_, "Z", "", [](const TelemetryRow&) {}).error().code, ErrorCode::not_found);

  // A throwing callback stops the stream and comes back as an error, not an exception.
  int calls = 0;
  const Status stopped = reader->telemetry(run_id_, "", "", [&](const TelemetryRow&) {
    ++calls;
    throw std::runtime_error("disk full");
  });
  EXPECT_EQ(calls, 1);
  ASSERT_FALSE(stopped);
  EXPECT_NE(stopped.error().message.find("disk full"), std::string::npos);
  // ... and leaves the reader usable.
  EXPECT_EQ(must(reader->list_runs()).size(), 1u);
}

TEST_F(StoreReader, ChipHistoryListsEveryRunOfASerialOldestFirst) {
  const std::uint64_t second = must(writer_->create_run(make_run()));
  must(writer_->add_run_chips(run_id_, {RunChipRow{"TRN-0101", "r02", 1, "trn2-sim", ""}}));
  must(writer_->add_run_chips(second, {RunChipRow{"TRN-0101", "r03", 4, "trn2-sim", ""}}));
  must(writer_->set_run_chip_verdict(run_id_, "TRN-0101", "fail"));
  must(writer_->set_run_status(run_id_, "running", "", 5));
  must(writer_->set_run_status(run_id_, "completed", "", 6));

  auto reader = must(Reader::open(path_));
  const std::vector<HistoryRow> history = must(reader->chip_history("TRN-0101"));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].run_id, run_id_);
  EXPECT_EQ(history[0].plan_name, "smoke");
  EXPECT_EQ(history[0].rack, "r02");
  EXPECT_EQ(history[0].slot, 1u);
  EXPECT_EQ(history[0].verdict, "fail");
  EXPECT_EQ(history[0].status, "completed");
  EXPECT_EQ(history[1].run_id, second);
  EXPECT_EQ(history[1].rack, "r03");
  EXPECT_EQ(history[1].verdict, "");
  EXPECT_EQ(history[1].status, "queued");

  EXPECT_EQ(reader->chip_history("TRN-9999").error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace kiln::store
