// Telemetry storage, old layout against new, on the same synthetic telemetry
// (docs/telemetry-storage.md): 24 chips × 19 metrics (the sim's telemetry of
// a ring: smooth temperatures, noisy power and bandwidth, a clock that
// throttles, counters, flags, per-link series) at 10 Hz, two steps of 2,000
// samples, sent as an agent does: one batch per 10 samples of every chip,
// the step's results in the batch after its last samples.
//
//   rows:   one row per value in the 001 telemetry table, batch by batch in
//           transactions (the cost floor of the old ingest: no validation)
//   chunks: the store's own ingest (Writer::ingest_batch), sealing chunks
//
//   build/<dir>/bin/telemetry_storage_bench --benchmark_format=json
// Counters: bytes_per_sample (database file ÷ values, after the writer
// closed) and samples_per_second (values written per wall second).

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "schema/migrations.hpp"
#include "schema/store.hpp"

namespace kiln::store {
namespace {

constexpr int kChips = 24;
constexpr int kSteps = 2;
constexpr int kSamplesPerStep = 2000;
constexpr int kSamplesPerBatch = 10;

std::string serial_of(int chip) { return fmt::format("R{:02}-{:02}", chip / 8, chip % 8); }

// Every batch of the run, the same for both layouts.
std::vector<kiln::v1::AgentBatch> synthetic_batches(std::uint64_t run_id) {
  std::mt19937_64 random(42);
  std::normal_distribution<double> unit(0, 1);
  struct ChipState {
    double temp = 30, hbm_temp = 30, crc = 0, ce = 0;
  };
  std::vector<ChipState> chips(kChips);
  std::vector<kiln::v1::AgentBatch> batches;
  std::uint64_t seq = 0;
  const std::int64_t wall0 = 1'790'000'000'000;
  for (int step = 0; step < kSteps; ++step) {
    for (int first = 0; first < kSamplesPerStep; first += kSamplesPerBatch) {
      kiln::v1::AgentBatch batch;
      batch.set_rack("r01");
      batch.set_epoch(1);
      batch.set_seq(++seq);
      for (int chip = 0; chip < kChips; ++chip) {
        ChipState& c = chips[static_cast<std::size_t>(chip)];
        double t = 0.1 * first;
        for (int i = first; i < first + kSamplesPerBatch; ++i) {
          t += 0.1;
          // Physics-like shapes: first-order heating, noise on power and bandwidth.
          c.temp += (82 - c.temp) * 0.004 + 0.02 * unit(random);
          c.hbm_temp += (70 - c.hbm_temp) * 0.003 + 0.01 * unit(random);
          const bool throttled = c.temp > 81.5;
          c.ce += random() % 500 == 0 ? 1 : 0;
          c.crc += chip == 5 && random() % 50 == 0 ? 1 : 0;
          auto* sample = batch.add_samples();
          sample->set_serial(serial_of(chip));
          sample->set_run_id(run_id);
          sample->set_step_index(static_cast<std::uint32_t>(step));
          sample->set_t_s(t);
          // Wall time: simulated 60× faster than real, with scheduling jitter.
          sample->set_wall_unix_ms(wall0 + step * 10'000 + i * 100 / 60 + static_cast<int>(random() % 3));
          const auto add = [&](const char* name, double value) {
            auto* v = sample->add_values();
            v->set_name(name);
            v->set_value(value);
          };
          add("temperature_c", c.temp);
          add("hbm_temperature_c", c.hbm_temp);
          add("power_w", (throttled ? 620 : 680) + 8 * unit(random));
          add("clock_mhz", throttled ? 2100 : 2400);
          add("voltage_mv", 850);
          add("utilization", step == 0 ? 0.97 + 0.005 * unit(random) : 0.0);
          add("tflops", step == 0 ? 610 + 3 * unit(random) : 0.0);
          add("hbm_gbps", step == 1 ? 2800 + 25 * unit(random) : 0.0);
          add("throttled", throttled ? 1 : 0);
          add("hbm_ce", c.ce);
          add("hbm_ue", 0);
          for (int link = 0; link < 2; ++link) {
            add(fmt::format("link{}_gbps", link).c_str(), 90 + 2 * unit(random));
            add(fmt::format("link{}_crc_errors", link).c_str(), link == 0 ? c.crc : 0);
            add(fmt::format("link{}_up", link).c_str(), 1);
          }
          add("memory_errors", 0);
          add("sdc_errors", 0);
        }
      }
      if (first + kSamplesPerBatch >= kSamplesPerStep) {
        for (int chip = 0; chip < kChips; ++chip) {
          auto* result = batch.add_results();
          result->set_run_id(run_id);
          result->set_step_index(static_cast<std::uint32_t>(step));
          result->set_serial(serial_of(chip));
          result->set_completed(true);
        }
      }
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

std::int64_t values_in(const std::vector<kiln::v1::AgentBatch>& batches) {
  std::int64_t values = 0;
  for (const auto& b : batches) {
    for (const auto& s : b.samples()) values += s.values_size();
  }
  return values;
}

std::string fresh_path(const char* name) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("kiln-tsdb-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

void report(benchmark::State& state, const std::string& path, std::int64_t values) {
  state.counters["bytes_per_sample"] =
      static_cast<double>(std::filesystem::file_size(path)) / static_cast<double>(values);
  state.counters["samples_per_second"] = benchmark::Counter(
      static_cast<double>(values) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["samples"] = static_cast<double>(values);
}

void BM_RowPerValue(benchmark::State& state) {
  const auto batches = synthetic_batches(1);
  const std::string path = fresh_path("rows.db");
  for (auto _ : state) {
    state.PauseTiming();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    state.ResumeTiming();
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec(kMigrations[0].sql);  // 001: the row-per-value telemetry table
    SQLite::Statement names(db, "INSERT OR IGNORE INTO metric_names (name) VALUES (?1)");
    SQLite::Statement insert(db,
                             "INSERT INTO telemetry (run_id, chip_id, metric_id, step_index, t_s, wall_unix_ms, value) "
                             "VALUES (1, ?1, (SELECT id FROM metric_names WHERE name = ?2), ?3, ?4, ?5, ?6) "
                             "ON CONFLICT DO NOTHING");
    for (const auto& batch : batches) {
      db.exec("BEGIN");
      for (const auto& sample : batch.samples()) {
        for (const auto& v : sample.values()) {
          names.bind(1, v.name());
          names.exec();
          names.reset();
          insert.bind(1, std::stoi(sample.serial().substr(4)) + 8 * std::stoi(sample.serial().substr(1, 2)) + 1);
          insert.bind(2, v.name());
          insert.bind(3, sample.step_index());
          insert.bind(4, sample.t_s());
          insert.bind(5, sample.wall_unix_ms());
          insert.bind(6, v.value());
          insert.exec();
          insert.reset();
        }
      }
      db.exec("COMMIT");
    }
  }
  report(state, path, values_in(batches));
}

void BM_Chunks(benchmark::State& state) {
  const std::string path = fresh_path("chunks.db");
  std::int64_t values = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto writer = Writer::open(path);
    if (!writer) state.SkipWithError(writer.error().message.c_str());
    kiln::v1::RegisterRack rack;
    rack.set_rack("r01");
    rack.set_lab("bench");
    rack.set_backend("sim");
    rack.set_topology("ring");
    rack.set_epoch(1);
    std::vector<RunChipRow> run_chips;
    for (int chip = 0; chip < kChips; ++chip) {
      auto* c = rack.add_chips();
      c->set_serial(serial_of(chip));
      c->set_slot(static_cast<std::uint32_t>(chip));
      c->set_sku("trn2-sim");
      run_chips.push_back({serial_of(chip), "r01", static_cast<std::uint32_t>(chip), "trn2-sim", ""});
    }
    NewRun run;
    run.plan_name = "bench";
    run.plan_sha256 = std::string(64, 'b');
    run.plan_text = "plan: bench";
    run.racks = {"r01"};
    for (int step = 0; step < kSteps; ++step) {
      run.steps.push_back(
          {static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step), 0, "s", "gemm", 200, "{}", "{}"});
    }
    bool ok = static_cast<bool>((*writer)->upsert_rack(rack, 0));
    const auto run_id = (*writer)->create_run(run);
    ok = ok && run_id && (*writer)->add_run_chips(*run_id, run_chips);
    if (!ok) state.SkipWithError("cannot set up the run");
    const auto batches = synthetic_batches(run_id ? *run_id : 1);
    values = values_in(batches);
    state.ResumeTiming();
    for (const auto& batch : batches) {
      if (!(*writer)->ingest_batch(batch)) state.SkipWithError("ingest failed");
    }
    if (!(*writer)->set_run_status(*run_id, "completed", "", 0)) state.SkipWithError("cannot end the run");
    writer->reset();  // closes: the WAL is checkpointed into the file
  }
  report(state, path, values);
}

BENCHMARK(BM_RowPerValue)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Chunks)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace kiln::store

BENCHMARK_MAIN();
