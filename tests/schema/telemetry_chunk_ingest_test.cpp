// Telemetry sent as agent-encoded chunks (AgentBatch.chunks; docs/
// telemetry-storage.md, "Agent-side encoding"): validated before anything is
// written, stored as they came when large, folded into the open values when
// small, read back as the same rows the sample path gives, and summarised
// for the judge from the one decode. Retention drops raw telemetry of old
// runs and keeps the roll-ups, and readers say it was pruned.

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "schema/store.hpp"
#include "schema/telemetry_chunk.hpp"
#include "schema/telemetry_sealer.hpp"
#include "store_test_support.hpp"

namespace kiln::store {
namespace {

using testing::add_sample;
using testing::count_rows;
using testing::make_batch;
using testing::must;

const std::vector<std::string> kMetrics = {"temperature_c", "power_w", "hbm_ce"};

double value_of(std::size_t metric, int i) {
  switch (metric) {
    case 0: return 40.123456 + i * 0.01;
    case 1: return 300.04 + (i % 7);
    default: return i / 10;
  }
}

class ChunkIngest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* w : {&chunks_, &samples_}) {
      *w = must(Writer::open(w == &chunks_ ? chunks_path_ : samples_path_));
      must((*w)->upsert_rack(testing::make_rack("r01", 2), 1000));
      run_id_ = must((*w)->create_run(testing::make_run()));
      must((*w)->add_run_chips(run_id_, {{"r01-00", "r01", 0, "trn2-sim", ""}, {"r01-01", "r01", 1, "trn2-sim", ""}}));
      must((*w)->set_run_status(run_id_, "running", "", 2000));
    }
  }

  // Samples i in [from, to) of `serial` as one chunk the way an agent encodes it.
  kiln::v1::TelemetryChunk chunk(const std::string& serial, int from, int to) const {
    std::vector<chunk::Series> series;
    for (std::size_t m = 0; m < kMetrics.size(); ++m) {
      const std::uint32_t scale = m == 0 ? 100 : m == 1 ? 10 : 1;
      chunk::Series s{static_cast<std::uint32_t>(m), scale, {}};
      for (int i = from; i < to; ++i) {
        const double t_s = (i + 1) * 0.1;
        s.points.push_back({std::llround(t_s * 1e6), 1'700'000'000'000 + static_cast<std::int64_t>(t_s * 1000),
                            chunk::quantised(value_of(m, i), scale)});
      }
      series.push_back(std::move(s));
    }
    kiln::v1::TelemetryChunk out;
    out.set_serial(serial);
    out.set_run_id(run_id_);
    out.set_step_index(0);
    for (const auto& name : kMetrics) out.add_metrics(name);
    out.set_values(static_cast<std::uint32_t>(kMetrics.size() * static_cast<std::size_t>(to - from)));
    out.set_data(chunk::encode(series, 3, /*checksum=*/true));
    return out;
  }
  kiln::v1::AgentBatch sample_batch(std::uint64_t seq, const std::string& serial, int from, int to) const {
    kiln::v1::AgentBatch batch = make_batch("r01", 1, seq);
    for (int i = from; i < to; ++i) {
      std::vector<std::pair<std::string, double>> values;
      for (std::size_t m = 0; m < kMetrics.size(); ++m) values.emplace_back(kMetrics[m], value_of(m, i));
      add_sample(batch, run_id_, 0, serial, (i + 1) * 0.1, values);
    }
    return batch;
  }
  static void add_result(kiln::v1::AgentBatch& batch, std::uint64_t run_id, const std::string& serial) {
    auto* result = batch.add_results();
    result->set_run_id(run_id);
    result->set_step_index(0);
    result->set_serial(serial);
    result->set_completed(true);
  }
  static std::vector<TelemetryRow> rows(const std::string& path, std::uint64_t run) {
    std::vector<TelemetryRow> out;
    must(must(Reader::open(path))->telemetry(run, "", "", [&](const TelemetryRow& row) { out.push_back(row); }));
    return out;
  }

  testing::TempDir dir_;
  std::string chunks_path_ = dir_.file("chunks.db");
  std::string samples_path_ = dir_.file("samples.db");
  std::unique_ptr<Writer> chunks_, samples_;
  std::uint64_t run_id_ = 0;
};

void expect_same_rows(const std::vector<TelemetryRow>& a, const std::vector<TelemetryRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].serial, b[i].serial) << i;
    EXPECT_EQ(a[i].metric, b[i].metric) << i;
    EXPECT_EQ(std::llround(a[i].t_s * 1e6), std::llround(b[i].t_s * 1e6)) << i;
    EXPECT_EQ(a[i].wall_unix_ms, b[i].wall_unix_ms) << i;
    EXPECT_EQ(a[i].value, b[i].value) << i << " " << a[i].metric;
  }
}

TEST_F(ChunkIngest, ALargeChunkIsStoredAsItCameAndReadsBackAsTheSamplesWould) {
  const int n = 2000;  // 6000 values: over kDirectChunkValues
  kiln::v1::AgentBatch batch = make_batch("r01", 1, 1);
  *batch.add_chunks() = chunk("r01-00", 0, n);
  add_result(batch, run_id_, "r01-00");
  std::vector<ChunkDigest> digests;
  const Result<CheckedChunks> checked = check_chunks(batch);  // as kilnd does, ahead of the writer
  EXPECT_TRUE(must(chunks_->ingest_batch(batch, &digests, &checked)));
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 1);
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_open"), 0);
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_rollups"), 3);

  kiln::v1::AgentBatch same = sample_batch(1, "r01-00", 0, n);
  add_result(same, run_id_, "r01-00");
  must(samples_->ingest_batch(same));
  must(chunks_->set_run_status(run_id_, "completed", "", 3000));
  must(samples_->set_run_status(run_id_, "completed", "", 3000));
  expect_same_rows(rows(chunks_path_, run_id_), rows(samples_path_, run_id_));

  // The judge's figures, from the one decode.
  ASSERT_EQ(digests.size(), 1u);
  EXPECT_EQ(digests[0].serial, "r01-00");
  EXPECT_EQ(digests[0].samples, static_cast<std::uint64_t>(n));
  EXPECT_NEAR(digests[0].last_t_s, n * 0.1, 1e-9);
  ASSERT_EQ(digests[0].metrics.size(), 3u);
  EXPECT_EQ(digests[0].metrics[0].name, "temperature_c");
  EXPECT_EQ(digests[0].metrics[0].stats.count, static_cast<std::uint64_t>(n));
  EXPECT_EQ(digests[0].metrics[0].stats.min, 40.12);
  EXPECT_EQ(digests[0].metrics[2].stats.last, (n - 1) / 10);
}

// Roll-up rows and a result's metrics are written several to a statement,
// up to a statement's limit: a chip with many links has more series than
// that (three per link), and every one is stored with its own figures.
TEST_F(ChunkIngest, EverySeriesOfAChunkAndEveryMetricOfAResultIsStoredPastOneStatementsRows) {
  constexpr int kSeries = 70;  // two full statements and a part
  std::vector<chunk::Series> series;
  kiln::v1::AgentBatch batch = make_batch("r01", 1, 1);
  kiln::v1::TelemetryChunk& c = *batch.add_chunks();
  c.set_serial("r01-00");
  c.set_run_id(run_id_);
  c.set_step_index(0);
  for (int m = 0; m < kSeries; ++m) {
    chunk::Series s{static_cast<std::uint32_t>(m), 0, {}};
    for (int i = 0; i < 100; ++i) s.points.push_back({(i + 1) * 100'000, 1'700'000'000'000 + i * 100, m * 1000.0 + i});
    series.push_back(std::move(s));
    c.add_metrics(fmt::format("probe_{:02}", m));
  }
  c.set_values(kSeries * 100);
  c.set_data(chunk::encode(series, 3, /*checksum=*/true));
  add_result(batch, run_id_, "r01-00");
  auto& metrics = *batch.mutable_results(0)->mutable_metrics();
  for (int m = 0; m < kSeries; ++m) {
    kiln::v1::MetricSummary summary;
    summary.set_min(m);
    summary.set_avg(m + 0.5);
    summary.set_max(m + 1);
    summary.set_count(static_cast<std::uint64_t>(m) + 10);
    metrics[fmt::format("probe_{:02}", m)] = summary;
  }
  must(chunks_->ingest_batch(batch));

  const auto reader = must(Reader::open(chunks_path_));
  const std::vector<ChipRollupRow> rollups = must(reader->chip_rollups(run_id_, "r01-00"));
  ASSERT_EQ(rollups.size(), static_cast<std::size_t>(kSeries));
  for (int m = 0; m < kSeries; ++m) {
    const ChipRollupRow& row = rollups[static_cast<std::size_t>(m)];
    EXPECT_EQ(row.metric, fmt::format("probe_{:02}", m));
    EXPECT_EQ(row.rollup.count, 100u) << row.metric;
    EXPECT_EQ(row.rollup.min, m * 1000.0) << row.metric;
    EXPECT_EQ(row.rollup.max, m * 1000.0 + 99) << row.metric;
    EXPECT_DOUBLE_EQ(row.rollup.avg, m * 1000.0 + 49.5) << row.metric;
    EXPECT_DOUBLE_EQ(row.rollup.first_t_s, 0.1) << row.metric;
    EXPECT_DOUBLE_EQ(row.rollup.last_t_s, 10.0) << row.metric;
  }
  const std::vector<ChipStepRow> steps = must(reader->chip_steps(run_id_));
  const auto chip = std::find_if(steps.begin(), steps.end(), [](const ChipStepRow& r) { return r.serial == "r01-00"; });
  ASSERT_NE(chip, steps.end());
  ASSERT_EQ(chip->metrics.size(), static_cast<std::size_t>(kSeries));
  for (int m = 0; m < kSeries; ++m) {
    const MetricRow& row = chip->metrics[static_cast<std::size_t>(m)];  // by name
    EXPECT_EQ(row.metric, fmt::format("probe_{:02}", m));
    EXPECT_EQ(row.min, m);
    EXPECT_EQ(row.avg, m + 0.5);
    EXPECT_EQ(row.max, m + 1);
    EXPECT_EQ(row.count, static_cast<std::uint64_t>(m) + 10);
  }
}

// A chip behind its time scale sends a small chunk a second: each is
// stored at once (no row per value, readable straight away), and the
// chip-step's small chunks become one well-compressed chunk when its step
// ends, the same rows as before.
TEST_F(ChunkIngest, SmallChunksAreStoredAtOnceAndMergedIntoOneChunkAtTheStepsEnd) {
  for (int b = 0; b < 10; ++b) {
    kiln::v1::AgentBatch batch = make_batch("r01", 1, static_cast<std::uint64_t>(b + 1));
    *batch.add_chunks() = chunk("r01-01", b * 20, (b + 1) * 20);  // 60 values each
    must(chunks_->ingest_batch(batch));
  }
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_open"), 0);
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 10);
  const auto before = rows(chunks_path_, run_id_);
  EXPECT_EQ(before.size(), 600u);
  kiln::v1::AgentBatch end = make_batch("r01", 1, 11);
  add_result(end, run_id_, "r01-01");
  must(chunks_->ingest_batch(end));
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 1) << "one well-compressed chunk, not ten small ones";
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_rollups"), 3) << "one roll-up per metric of the merged chunk";
  expect_same_rows(rows(chunks_path_, run_id_), before);
}

// A long step's small chunks are merged as they reach a sealed chunk's
// worth (TelemetrySealer::kSealValues), not only at its end.
TEST_F(ChunkIngest, SmallChunksAreMergedOnceTheyHoldAFullChunk) {
  const int per_chunk = 1000;  // samples of 3 metrics: 3000 values, small
  const int chunks_sent = TelemetrySealer::kSealValues / (3 * per_chunk) + 1;
  for (int b = 0; b < chunks_sent; ++b) {
    kiln::v1::AgentBatch batch = make_batch("r01", 1, static_cast<std::uint64_t>(b + 1));
    *batch.add_chunks() = chunk("r01-01", b * per_chunk, (b + 1) * per_chunk);
    must(chunks_->ingest_batch(batch));
  }
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 1);
  EXPECT_EQ(rows(chunks_path_, run_id_).size(), static_cast<std::size_t>(3 * per_chunk * chunks_sent));
}

// A restarted agent resends its spool under a new epoch: the merged chunk
// holds each value once (the first stored), and so do its roll-ups.
TEST_F(ChunkIngest, SmallChunksSentTwiceAreMergedToOneCopy) {
  std::uint64_t seq = 0;
  for (const std::uint64_t epoch : {1u, 2u}) {
    for (int b = 0; b < 5; ++b) {
      kiln::v1::AgentBatch batch = make_batch("r01", epoch, ++seq);
      *batch.add_chunks() = chunk("r01-01", b * 20, (b + 1) * 20);
      must(chunks_->ingest_batch(batch));
    }
  }
  kiln::v1::AgentBatch end = make_batch("r01", 2, ++seq);
  add_result(end, run_id_, "r01-01");
  must(chunks_->ingest_batch(end));
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 1);
  SQLite::Database db(chunks_path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT samples FROM telemetry_chunks").getInt64(), 300);
  EXPECT_EQ(db.execAndGet("SELECT sum(count) FROM telemetry_rollups").getInt64(), 300);
  EXPECT_EQ(rows(chunks_path_, run_id_).size(), 300u);
}

// One chunk kept a metric exact (its values were off the catalog's grid),
// another at the grid: the merge keeps both exactly as they were stored.
TEST_F(ChunkIngest, AMergeNeverRoundsAValueKeptExact) {
  const auto one_value = [&](std::uint32_t scale, double value, int i) {
    const double t_s = (i + 1) * 0.1;
    kiln::v1::TelemetryChunk out;
    out.set_serial("r01-01");
    out.set_run_id(run_id_);
    out.set_step_index(0);
    out.add_metrics("temperature_c");
    out.set_values(1);
    out.set_data(chunk::encode(
        {chunk::Series{0, scale, {{std::llround(t_s * 1e6), 1'700'000'000'000 + i * 100, value}}}}, 3, true));
    return out;
  };
  kiln::v1::AgentBatch first = make_batch("r01", 1, 1);
  *first.add_chunks() = one_value(0, 40.123456, 0);  // exact
  must(chunks_->ingest_batch(first));
  kiln::v1::AgentBatch second = make_batch("r01", 1, 2);
  *second.add_chunks() = one_value(100, 40.12, 1);  // at 0.01
  add_result(second, run_id_, "r01-01");
  must(chunks_->ingest_batch(second));
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 1);
  const auto stored = rows(chunks_path_, run_id_);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].value, 40.123456);
  EXPECT_EQ(stored[1].value, 40.12);
}

// A full-size chunk between small ones: only neighbouring small chunks are
// merged, each merged chunk takes its first chunk's place, and the chunks'
// spans (and so the roll-ups the dashboard draws) never overlap.
TEST_F(ChunkIngest, SmallChunksAreMergedOnlyWithTheirNeighbours) {
  const std::vector<std::pair<int, int>> spans = {{0, 20}, {20, 40}, {40, 2040}, {2040, 2060}, {2060, 2080}};
  std::uint64_t seq = 0;
  for (const auto& [from, to] : spans) {
    kiln::v1::AgentBatch batch = make_batch("r01", 1, ++seq);
    *batch.add_chunks() = chunk("r01-01", from, to);  // 60 values, 6000 (full size), 60
    must(chunks_->ingest_batch(batch));
  }
  kiln::v1::AgentBatch end = make_batch("r01", 1, ++seq);
  add_result(end, run_id_, "r01-01");
  must(chunks_->ingest_batch(end));
  SQLite::Database db(chunks_path_, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT seq, first_t_s, last_t_s, samples FROM telemetry_chunks ORDER BY seq");
  std::vector<std::int64_t> samples;
  double last_end = -1;
  while (q.executeStep()) {
    EXPECT_GT(q.getColumn(1).getDouble(), last_end) << "seq " << q.getColumn(0).getInt64();
    last_end = q.getColumn(2).getDouble();
    samples.push_back(q.getColumn(3).getInt64());
  }
  EXPECT_EQ(samples, (std::vector<std::int64_t>{120, 6000, 120}));
  EXPECT_EQ(rows(chunks_path_, run_id_).size(), 6240u);
}

TEST_F(ChunkIngest, AChunkSentAgainUnderAnotherBatchIsShownOnce) {
  for (std::uint64_t seq : {1u, 2u}) {
    kiln::v1::AgentBatch batch = make_batch("r01", seq, 1);  // a restarted agent's epoch
    *batch.add_chunks() = chunk("r01-00", 0, 2000);
    must(chunks_->ingest_batch(batch));
  }
  EXPECT_EQ(rows(chunks_path_, run_id_).size(), 6000u);
}

TEST_F(ChunkIngest, ABadChunkRefusesTheWholeBatchAndStoresNothing) {
  const auto refused = [&](kiln::v1::TelemetryChunk bad, ErrorCode code, const std::string& says) {
    static std::uint64_t seq = 100;
    kiln::v1::AgentBatch batch = make_batch("r01", 1, ++seq);
    *batch.add_chunks() = chunk("r01-00", 0, 10);
    *batch.add_chunks() = std::move(bad);
    auto result = chunks_->ingest_batch(batch);
    ASSERT_FALSE(result) << says;
    EXPECT_EQ(result.error().code, code) << result.error().message;
    EXPECT_NE(result.error().message.find(says), std::string::npos) << result.error().message;
    // kilnd checks the chunks ahead, on another thread: the same refusal.
    const Result<CheckedChunks> checked = check_chunks(batch);
    auto ahead = chunks_->ingest_batch(batch, nullptr, &checked);
    ASSERT_FALSE(ahead) << says;
    EXPECT_EQ(ahead.error().code, code) << ahead.error().message;
    EXPECT_EQ(ahead.error().message, result.error().message);
  };
  auto corrupt = chunk("r01-00", 0, 10);
  corrupt.mutable_data()->back() ^= 0x55;
  refused(corrupt, ErrorCode::invalid_argument, "telemetry chunk of r01-00");
  auto miscounted = chunk("r01-00", 0, 10);
  miscounted.set_values(31);
  refused(miscounted, ErrorCode::invalid_argument, "31 declared");
  auto unnamed = chunk("r01-00", 0, 10);
  unnamed.mutable_metrics()->RemoveLast();
  refused(unnamed, ErrorCode::invalid_argument, "outside its 2 names");
  auto twice = chunk("r01-00", 0, 10);
  twice.set_metrics(1, "temperature_c");
  refused(twice, ErrorCode::invalid_argument, "empty or twice");
  auto imprecise = chunk("r01-00", 0, 10);
  imprecise.set_metrics(0, "power_w");
  imprecise.set_metrics(1, "temperature_c");  // kept at 1/100: not power's 0.1 W
  refused(imprecise, ErrorCode::invalid_argument, "not at its catalog precision");
  auto foreign = chunk("r01-00", 0, 10);
  foreign.set_serial("elsewhere-00");
  refused(foreign, ErrorCode::permission_denied, "elsewhere-00");
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_open"), 0);
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 0);
}

TEST_F(ChunkIngest, RetentionDropsRawTelemetryOfOldRunsKeepsRollupsAndSaysSo) {
  kiln::v1::AgentBatch batch = make_batch("r01", 1, 1);
  *batch.add_chunks() = chunk("r01-00", 0, 2000);
  add_result(batch, run_id_, "r01-00");
  must(chunks_->ingest_batch(batch));
  const std::int64_t ended = 1'790'000'000'000;
  must(chunks_->set_run_status(run_id_, "completed", "", ended));
  const std::int64_t day = 24 * 3600 * 1000;
  const std::int64_t keep = 30 * day;

  EXPECT_TRUE(must(chunks_->prune_raw_telemetry(keep, ended + 29 * day)).empty()) << "not old enough yet";
  EXPECT_EQ(rows(chunks_path_, run_id_).size(), 6000u);

  const auto pruned = must(chunks_->prune_raw_telemetry(keep, ended + 31 * day));
  ASSERT_EQ(pruned.size(), 1u);
  EXPECT_EQ(pruned[0].run_id, run_id_);
  EXPECT_EQ(pruned[0].samples, 6000);
  EXPECT_EQ(pruned[0].chunks, 1);
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 0);
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_rollups"), 3) << "roll-ups are kept forever";
  EXPECT_TRUE(must(chunks_->prune_raw_telemetry(keep, ended + 40 * day)).empty()) << "pruned once";

  auto reader = must(Reader::open(chunks_path_));
  const Status raw = reader->telemetry(run_id_, "", "", [](const TelemetryRow&) {});
  ASSERT_FALSE(raw);
  EXPECT_EQ(raw.error().code, ErrorCode::not_found);
  EXPECT_NE(raw.error().message.find("pruned on " + format_iso8601(ended + 31 * day)), std::string::npos)
      << raw.error().message;
  const RunRow run = must(reader->run(run_id_));
  ASSERT_TRUE(run.raw_telemetry_pruned_unix_ms);
  EXPECT_EQ(*run.raw_telemetry_pruned_unix_ms, ended + 31 * day);
  EXPECT_FALSE(must(reader->rollups(run_id_, "r01-00", "temperature_c", 0)).empty());

  // An agent back after weeks resends its spool: the batch is taken (the
  // agent's spool drains), the late values' roll-ups are kept beside the
  // others, and, past retention, no raw telemetry.
  kiln::v1::AgentBatch late = make_batch("r01", 2, 1);
  *late.add_chunks() = chunk("r01-00", 2000, 2100);
  EXPECT_TRUE(must(chunks_->ingest_batch(late)));
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 0);
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_rollups"), 6);
}

TEST_F(ChunkIngest, RetentionLeavesRunningRunsAlone) {
  kiln::v1::AgentBatch batch = make_batch("r01", 1, 1);
  *batch.add_chunks() = chunk("r01-00", 0, 2000);
  must(chunks_->ingest_batch(batch));
  EXPECT_TRUE(must(chunks_->prune_raw_telemetry(1, unix_ms_now() + 1'000'000'000)).empty());
  EXPECT_EQ(count_rows(chunks_path_, "telemetry_chunks"), 1);
}

}  // namespace
}  // namespace kiln::store
