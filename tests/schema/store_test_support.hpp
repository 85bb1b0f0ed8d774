#pragma once
// Shared fixtures for the store tests: a temporary directory per test, and
// builders for the runs and batches the daemon would write.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <SQLiteCpp/Database.h>

#include "schema/store.hpp"

namespace kiln::store::testing {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("kiln-schema-test-" + std::to_string(random()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline NewRun make_run(const std::string& plan_text = "plan: smoke\nsteps: []\n") {
  NewRun run;
  run.plan_name = "smoke";
  // Any 64 hex digits will do; the store does not hash the text itself.
  run.plan_sha256 = std::string(63, 'a') + static_cast<char>('0' + plan_text.size() % 10);
  run.plan_text = plan_text;
  run.seed = 0xfffffffffffffff0ull;  // above INT64_MAX: must survive the signed column
  run.lab = "demo";
  run.racks = {"r01", "r02"};
  run.sample_hz = 10;
  run.submitted_unix_ms = 1'700'000'000'000;
  run.steps = {
      StepRow{0, 0, 0, "gemm-bf16", "gemm", 300, R"({"dtype":"bf16"})", R"({"tflops":{"min":0.85,"of":"peak"}})"},
      StepRow{1, 1, 0, "hbm", "hbm", 180, R"({"test":"moving_inversions"})", R"({"memory_errors":{"max":0}})"},
  };
  return run;
}

inline kiln::v1::RegisterRack make_rack(const std::string& rack, int chips) {
  kiln::v1::RegisterRack registration;
  registration.set_rack(rack);
  registration.set_lab("demo");
  registration.set_backend("sim");
  registration.set_topology("ring");
  registration.set_epoch(1);
  registration.set_time_scale(60);
  for (int slot = 0; slot < chips; ++slot) {
    auto* chip = registration.add_chips();
    chip->set_serial(rack + "-0" + std::to_string(slot));
    chip->set_slot(static_cast<std::uint32_t>(slot));
    chip->set_sku("trn2-sim");
  }
  return registration;
}

// One sample of `serial` at t_s with the given metric values.
inline void add_sample(kiln::v1::AgentBatch& batch, std::uint64_t run_id, std::uint32_t step, const std::string& serial,
                       double t_s, const std::vector<std::pair<std::string, double>>& values) {
  auto* sample = batch.add_samples();
  sample->set_serial(serial);
  sample->set_run_id(run_id);
  sample->set_step_index(step);
  sample->set_t_s(t_s);
  sample->set_wall_unix_ms(1'700'000'000'000 + static_cast<std::int64_t>(t_s * 1000));
  for (const auto& [name, value] : values) {
    auto* metric = sample->add_values();
    metric->set_name(name);
    metric->set_value(value);
  }
}

inline kiln::v1::AgentBatch make_batch(const std::string& rack, std::uint64_t epoch, std::uint64_t seq) {
  kiln::v1::AgentBatch batch;
  batch.set_rack(rack);
  batch.set_epoch(epoch);
  batch.set_seq(seq);
  return batch;
}

template <typename T>
T must(Result<T> result) {
  EXPECT_TRUE(result) << (result ? "" : result.error().message);
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

inline void must(const Status& status) {
  EXPECT_TRUE(status) << (status ? "" : status.error().message);
  if (!status) throw std::runtime_error(status.error().message);
}

// Counts rows straight from the file, to check what the public API cannot show.
inline std::int64_t count_rows(const std::string& db_path, const std::string& table) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT count(*) FROM " + table).getInt64();
}

inline std::size_t count_telemetry(Reader& reader, std::uint64_t run_id) {
  std::size_t rows = 0;
  must(reader.telemetry(run_id, "", "", [&](const TelemetryRow&) { ++rows; }));
  return rows;
}

}  // namespace kiln::store::testing
