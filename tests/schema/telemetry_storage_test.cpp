// Telemetry kept as compressed chunks (docs/telemetry-storage.md): sealed
// when a step ends, when enough is open, when the run ends and when the
// writer opens; read back in the order and at the precision it promises;
// resends never duplicate a value; an old row-per-value database migrates
// with nothing lost.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <SQLiteCpp/Database.h>

#include "schema/migrations.hpp"
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

class TelemetryStorage : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = must(Writer::open(path_));
    must(writer_->upsert_rack(testing::make_rack("r01", 2), 1000));
    run_id_ = must(writer_->create_run(testing::make_run()));
    must(writer_->add_run_chips(run_id_, {{"r01-00", "r01", 0, "trn2-sim", ""}, {"r01-01", "r01", 1, "trn2-sim", ""}}));
    must(writer_->set_run_status(run_id_, "running", "", 2000));
  }
  std::unique_ptr<Reader> reader() { return must(Reader::open(path_)); }

  // Samples i in [from, to) of both chips in step 0, 3 metrics each.
  kiln::v1::AgentBatch samples(std::uint64_t epoch, std::uint64_t seq, int from, int to) const {
    kiln::v1::AgentBatch batch = make_batch("r01", epoch, seq);
    for (int i = from; i < to; ++i) {
      for (const char* serial : {"r01-00", "r01-01"}) {
        add_sample(batch, run_id_, 0, serial, (i + 1) * 0.1,
                   {{"temperature_c", 40.123456 + i * 0.01}, {"power_w", 300.04 + (i % 7)}, {"hbm_ce", i / 10}});
      }
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
  std::vector<TelemetryRow> rows(const std::string& serial = "", const std::string& metric = "") {
    std::vector<TelemetryRow> out;
    must(reader()->telemetry(run_id_, serial, metric, [&](const TelemetryRow& row) { out.push_back(row); }));
    return out;
  }

  testing::TempDir dir_;
  std::string path_ = dir_.file("kiln.db");
  std::unique_ptr<Writer> writer_;
  std::uint64_t run_id_ = 0;
};

TEST_F(TelemetryStorage, AStepResultSealsItsChipStepAndRowsComeBackInOrderAtPrecision) {
  kiln::v1::AgentBatch batch = samples(1, 1, 0, 50);
  add_result(batch, run_id_, "r01-00");
  must(writer_->ingest_batch(batch));
  EXPECT_EQ(count_rows(path_, "telemetry_chunks"), 1);
  EXPECT_EQ(count_rows(path_, "telemetry_open"), 150);  // r01-01 has no result yet

  const std::vector<TelemetryRow> all = rows();
  ASSERT_EQ(all.size(), 300u);
  // serial, step, t, metric: the order the row table gave.
  EXPECT_EQ(all[0].serial, "r01-00");
  EXPECT_EQ(all[0].metric, "hbm_ce");
  EXPECT_EQ(all[1].metric, "power_w");
  EXPECT_EQ(all[2].metric, "temperature_c");
  EXPECT_EQ(all[2].value, 40.12);  // 0.01 °C
  EXPECT_EQ(all[1].value, 300.0);  // 0.1 W
  EXPECT_NEAR(all[3].t_s, 0.2, 1e-9);
  EXPECT_EQ(all[3].wall_unix_ms, 1'700'000'000'200);
  EXPECT_EQ(all[150].serial, "r01-01");
  EXPECT_EQ(all[152].value, 40.123456);  // still open: as the agent sent it
}

TEST_F(TelemetryStorage, AValueResentAfterItsChipStepWasSealedIsKeptOnce) {
  kiln::v1::AgentBatch first = samples(1, 1, 0, 20);
  add_result(first, run_id_, "r01-00");
  add_result(first, run_id_, "r01-01");
  must(writer_->ingest_batch(first));
  ASSERT_EQ(count_rows(path_, "telemetry_open"), 0);
  // A new agent epoch resends its spool, with two samples more.
  kiln::v1::AgentBatch again = samples(2, 1, 0, 22);
  must(writer_->ingest_batch(again));
  EXPECT_EQ(rows().size(), 22u * 2 * 3);
  EXPECT_EQ(count_rows(path_, "telemetry_open"), 2 * 2 * 3);
}

TEST_F(TelemetryStorage, AChipStepIsSealedOnceEnoughIsOpenAndAgainAtRunEnd) {
  const int per_batch = 200;  // 2 chips x 3 metrics x 200 = 1200 values
  int seq = 0;
  int sent = 0;
  while (count_rows(path_, "telemetry_chunks") == 0) {
    must(writer_->ingest_batch(samples(1, static_cast<std::uint64_t>(++seq), sent, sent + per_batch)));
    sent += per_batch;
    ASSERT_LE(sent * 3, TelemetrySealer::kSealValues + per_batch * 3) << "never sealed";
  }
  EXPECT_GT(count_rows(path_, "telemetry_chunks"), 0);
  must(writer_->ingest_batch(samples(1, static_cast<std::uint64_t>(++seq), sent, sent + 10)));
  must(writer_->set_run_status(run_id_, "completed", "", 3000));
  EXPECT_EQ(count_rows(path_, "telemetry_open"), 0);
  const std::vector<TelemetryRow> all = rows("r01-01", "temperature_c");
  ASSERT_EQ(all.size(), static_cast<std::size_t>(sent + 10));
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].t_s, all[i].t_s) << i;
}

// The open rows take pages while a run runs; once sealed they must not stay
// in the file as free pages (they would outweigh the chunks many times).
TEST_F(TelemetryStorage, ARunsEndGivesTheOpenRowsPagesBack) {
  for (int seq = 1; seq <= 10; ++seq) must(writer_->ingest_batch(samples(1, seq, (seq - 1) * 200, seq * 200)));
  must(writer_->set_run_status(run_id_, "completed", "", 3000));
  writer_.reset();
  SQLite::Database db(path_, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA auto_vacuum").getInt(), 2);  // incremental
  EXPECT_LT(db.execAndGet("PRAGMA freelist_count").getInt(), 4);
}

TEST_F(TelemetryStorage, RollupsGiveMinAvgMaxPerChunkThenWhatIsOpen) {
  kiln::v1::AgentBatch batch = samples(1, 1, 0, 10);
  add_result(batch, run_id_, "r01-00");
  must(writer_->ingest_batch(batch));
  must(writer_->ingest_batch(samples(1, 2, 10, 12)));  // after the result: open again
  const auto rollups = must(reader()->rollups(run_id_, "r01-00", "power_w", 0));
  ASSERT_EQ(rollups.size(), 2u);
  EXPECT_TRUE(rollups[0].sealed);
  EXPECT_EQ(rollups[0].count, 10u);
  EXPECT_EQ(rollups[0].min, 300.0);
  EXPECT_EQ(rollups[0].max, 306.0);
  EXPECT_NEAR(rollups[0].first_t_s, 0.1, 1e-9);
  EXPECT_NEAR(rollups[0].last_t_s, 1.0, 1e-9);
  EXPECT_FALSE(rollups[1].sealed);
  EXPECT_EQ(rollups[1].count, 2u);
  EXPECT_EQ(reader()->rollups(run_id_, "r01-00", "powr_w", 0).error().code, ErrorCode::not_found);
}

TEST_F(TelemetryStorage, NaNSurvivesSealing) {
  kiln::v1::AgentBatch batch = make_batch("r01", 1, 1);
  add_sample(batch, run_id_, 0, "r01-00", 0.1, {{"power_w", std::nan("")}});
  add_sample(batch, run_id_, 0, "r01-00", 0.2, {{"power_w", 301.0}});
  add_result(batch, run_id_, "r01-00");
  must(writer_->ingest_batch(batch));
  const auto all = rows();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(std::isnan(all[0].value));
  EXPECT_EQ(all[1].value, 301.0);
}

// Migration 006: a database written with row-per-value telemetry (version 5)
// opens with every value, at its stored precision, in the same order, and
// the file gives the rows' pages back.
TEST(TelemetryMigration, RowPerValueTelemetryMigratesWithNothingLost) {
  testing::TempDir dir;
  const std::string path = dir.file("old.db");
  std::vector<TelemetryRow> expected;
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (int i = 0; i < 5; ++i) {
      db.exec(kMigrations[i].sql);
      db.exec("INSERT INTO schema_migrations VALUES (" + std::to_string(i + 1) + ", '" + kMigrations[i].name + "', 0)");
    }
    db.exec(
        "INSERT INTO plans VALUES (1, 'smoke', '" + std::string(64, 'a') +
        "', 'plan: smoke', 0);"
        "INSERT INTO runs (id, plan_id, seed, racks_json, status, sample_hz, submitted_unix_ms) "
        "VALUES (1, 1, 1, '[\"r01\"]', 'completed', 10, 0);"
        "INSERT INTO steps VALUES (1, 0, 0, 0, 'gemm', 'gemm', 60, '{}', '{}');"
        "INSERT INTO steps VALUES (1, 1, 1, 0, 'hbm', 'hbm', 60, '{}', '{}');"
        "INSERT INTO chips VALUES (1, 'B-01', 'trn2-sim', NULL, NULL, 0, 0), (2, 'A-00', 'trn2-sim', NULL, NULL, 0, 0);"
        "INSERT INTO metric_names VALUES (1, 'temperature_c'), (2, 'link0_up'), (3, 'toy_metric');");
    db.exec("BEGIN");
    SQLite::Statement insert(db, "INSERT INTO telemetry VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)");
    for (int chip = 1; chip <= 2; ++chip) {
      for (int step = 0; step <= 1; ++step) {
        double t = 0;
        for (int i = 0; i < 3000; ++i) {
          t += 0.1;
          for (int metric = 1; metric <= 3; ++metric) {
            const double value = metric == 1 ? 30 + i * 0.0137 : metric == 2 ? 1 : 1.0 / (i + 3);
            insert.bind(1, chip);
            insert.bind(2, metric);
            insert.bind(3, step);
            insert.bind(4, t);
            insert.bind(5, 1'700'000'000'000 + step * 100'000 + i * 100);
            insert.bind(6, value);
            insert.exec();
            insert.reset();
            const char* names[] = {"", "temperature_c", "link0_up", "toy_metric"};
            // What the store promises: temperature to 0.01, a flag exact, an
            // unknown metric exact, t_s to the microsecond.
            expected.push_back({chip == 1 ? "B-01" : "A-00", static_cast<std::uint32_t>(step),
                                std::round(t * 1e6) / 1e6, 1'700'000'000'000 + step * 100'000 + i * 100, names[metric],
                                metric == 1 ? chunk::quantised(value, 100) : value});
          }
        }
      }
    }
    db.exec("COMMIT");
  }
  std::stable_sort(expected.begin(), expected.end(), [](const TelemetryRow& a, const TelemetryRow& b) {
    return std::tie(a.serial, a.step_index, a.t_s, a.metric) < std::tie(b.serial, b.step_index, b.t_s, b.metric);
  });
  const auto before = std::filesystem::file_size(path);
  { auto writer = must(Writer::open(path)); }
  EXPECT_EQ(count_rows(path, "telemetry_open"), 0);
  EXPECT_EQ(count_rows(path, "telemetry_chunks"), 4);
  EXPECT_LT(std::filesystem::file_size(path), before / 4);

  std::vector<TelemetryRow> got;
  auto reader = must(Reader::open(path));
  must(reader->telemetry(1, "", "", [&](const TelemetryRow& row) { got.push_back(row); }));
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].serial, expected[i].serial) << i;
    ASSERT_EQ(got[i].step_index, expected[i].step_index) << i;
    ASSERT_EQ(got[i].t_s, expected[i].t_s) << i;
    ASSERT_EQ(got[i].wall_unix_ms, expected[i].wall_unix_ms) << i;
    ASSERT_EQ(got[i].metric, expected[i].metric) << i;
    ASSERT_EQ(got[i].value, expected[i].value) << i << " " << got[i].metric;
  }
}

}  // namespace
}  // namespace kiln::store
