#pragma once
// The writer's prepared statements, compiled once when the writer opens and
// reused for every call (ingest is the hot path), and the id caches that spare
// a lookup per telemetry value. Internal to kiln_store.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "schema/store.hpp"
#include "schema/store_internal.hpp"
#include "schema/telemetry_sealer.hpp"

namespace kiln::store {

// Where a chip seen for the first time is placed.
struct NewChip {
  const std::string& sku;   // "unknown" when the caller does not know
  const std::string& rack;  // may name no rack (then: not placed)
  std::optional<std::uint32_t> slot;
  std::int64_t now_unix_ms = 0;
};

struct Writer::Statements {
  explicit Statements(SQLite::Database& db);

  // The id of `serial`, adding the chip when it is unknown.
  std::int64_t chip_id(const std::string& serial, const NewChip& placement);
  // The id of a metric name, adding it when it is new.
  std::int64_t metric_id(const std::string& name);
  // The run's status; nullopt when there is no such run.
  std::optional<std::string> status_of_run(std::uint64_t run_id);
  // Throws OpError(invalid_argument) when the run or its step does not exist.
  void require_step(std::uint64_t run_id, std::uint32_t step_index);
  // Throws OpError(permission_denied) unless `serial` is a chip of run
  // `run_id` placed in `rack` (run_chips): a rack speaks only for its own chips.
  void require_owner(std::uint64_t run_id, const std::string& serial, const std::string& rack);
  // Caches hold ids read inside the transaction; a rollback may have undone
  // the rows they name, so every rollback forgets them.
  void forget_cached_ids();
  // Records an id written by a statement outside chip_id() (upsert_chip).
  void remember_chip(const std::string& serial, std::int64_t id) { chip_ids_[serial] = id; }

  SQLite::Statement begin;
  SQLite::Statement commit;
  SQLite::Statement savepoint;
  SQLite::Statement release;

  SQLite::Statement upsert_lab;
  SQLite::Statement upsert_rack;
  SQLite::Statement insert_rack_epoch;
  SQLite::Statement unplace_rack_chips;
  SQLite::Statement upsert_chip;
  SQLite::Statement find_chip;
  SQLite::Statement insert_chip;

  SQLite::Statement find_plan;
  SQLite::Statement insert_plan;
  SQLite::Statement insert_run;
  SQLite::Statement insert_step;
  SQLite::Statement upsert_run_chip;
  SQLite::Statement run_status;
  SQLite::Statement update_run_status;
  SQLite::Statement step_exists;

  SQLite::Statement chip_owner;
  SQLite::Statement claim_batch;
  SQLite::Statement find_metric;
  SQLite::Statement insert_metric;
  SQLite::Statement insert_telemetry;  // into telemetry_open, sealed by `sealer`
  SQLite::Statement upsert_chip_step_result;
  SQLite::Statement delete_chip_step_metrics;
  detail::MultiRowInsert insert_chip_step_metrics;  // a result's metrics, several to a statement
  SQLite::Statement delete_detections;
  SQLite::Statement insert_detection;
  SQLite::Statement delete_shmoo_points;
  SQLite::Statement insert_shmoo_point;

  SQLite::Statement upsert_chip_step_verdict;
  SQLite::Statement delete_failures;
  SQLite::Statement insert_failure;
  SQLite::Statement set_run_chip_verdict;
  SQLite::Statement insert_event;
  SQLite::Statement insert_audit_event;

  TelemetrySealer sealer;  // open telemetry into compressed chunks

 private:
  std::unordered_map<std::string, std::int64_t> chip_ids_;
  std::unordered_map<std::string, std::int64_t> metric_ids_;
};

}  // namespace kiln::store
