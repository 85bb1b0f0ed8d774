#include "schema/store_writer_statements.hpp"

namespace kiln::store {

using detail::query_int64;

Writer::Statements::Statements(SQLite::Database& db)
    : begin(db, "BEGIN IMMEDIATE"),
      commit(db, "COMMIT"),
      savepoint(db, "SAVEPOINT kiln_op"),
      release(db, "RELEASE kiln_op"),

      upsert_lab(db,
                 "INSERT INTO labs (name, first_seen_unix_ms, last_seen_unix_ms) VALUES (?1, ?2, ?2) "
                 "ON CONFLICT (name) DO UPDATE SET "
                 "last_seen_unix_ms = max(last_seen_unix_ms, excluded.last_seen_unix_ms) "
                 "RETURNING id"),
      upsert_rack(db,
                  "INSERT INTO racks (name, lab_id, backend, topology, time_scale, last_epoch, "
                  "first_seen_unix_ms, last_seen_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
                  "ON CONFLICT (name) DO UPDATE SET lab_id = coalesce(excluded.lab_id, lab_id), "
                  "backend = excluded.backend, topology = excluded.topology, time_scale = excluded.time_scale, "
                  "last_epoch = excluded.last_epoch, last_seen_unix_ms = excluded.last_seen_unix_ms "
                  "RETURNING id"),
      // An epoch's key never changes: the first registration's stays.
      insert_rack_epoch(db,
                        "INSERT INTO rack_epochs (rack, epoch, key_sha256, first_seen_unix_ms) "
                        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"),
      unplace_rack_chips(db, "UPDATE chips SET rack_id = NULL, slot = NULL WHERE rack_id = ?1"),
      // A registration that does not know the SKU never erases a known one.
      upsert_chip(db,
                  "INSERT INTO chips (serial, sku, rack_id, slot, first_seen_unix_ms, last_seen_unix_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?5) "
                  "ON CONFLICT (serial) DO UPDATE SET "
                  "sku = CASE WHEN excluded.sku = 'unknown' THEN sku ELSE excluded.sku END, "
                  "rack_id = excluded.rack_id, slot = excluded.slot, "
                  "last_seen_unix_ms = max(last_seen_unix_ms, excluded.last_seen_unix_ms) "
                  "RETURNING id"),
      find_chip(db, "SELECT id FROM chips WHERE serial = ?1"),
      insert_chip(db,
                  "INSERT INTO chips (serial, sku, rack_id, slot, first_seen_unix_ms, last_seen_unix_ms) "
                  "VALUES (?1, ?2, (SELECT id FROM racks WHERE name = ?3), ?4, ?5, ?5) RETURNING id"),

      find_plan(db, "SELECT id, text FROM plans WHERE sha256 = ?1"),
      insert_plan(db,
                  "INSERT INTO plans (name, sha256, text, first_seen_unix_ms) VALUES (?1, ?2, ?3, ?4) "
                  "RETURNING id"),
      insert_run(
          db,
          "INSERT INTO runs (plan_id, seed, lab_id, racks_json, sample_hz, submitted_unix_ms, plan_path, "
          "priority, queue_timeout_s, max_wall_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id"),
      insert_step(db,
                  "INSERT INTO steps (run_id, step_index, phase_index, repeat_index, name, pattern, duration_s, "
                  "params_json, limits_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
      upsert_run_chip(db,
                      "INSERT INTO run_chips (run_id, chip_id, rack, slot, sku, verdict) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                      "ON CONFLICT (run_id, chip_id) DO UPDATE SET rack = excluded.rack, slot = excluded.slot, "
                      "sku = excluded.sku, verdict = coalesce(excluded.verdict, verdict)"),
      run_status(db, "SELECT status FROM runs WHERE id = ?1"),
      update_run_status(db,
                        "UPDATE runs SET status = ?2, reason = ?3, "
                        "started_unix_ms = CASE WHEN ?2 = 'running' THEN coalesce(started_unix_ms, ?4) "
                        "ELSE started_unix_ms END, "
                        "ended_unix_ms = CASE WHEN ?2 IN ('completed', 'aborted', 'error') THEN ?4 "
                        "ELSE ended_unix_ms END "
                        "WHERE id = ?1"),
      step_exists(db, "SELECT 1 FROM steps WHERE run_id = ?1 AND step_index = ?2"),

      chip_owner(db,
                 "SELECT rc.rack FROM run_chips rc JOIN chips c ON c.id = rc.chip_id "
                 "WHERE rc.run_id = ?1 AND c.serial = ?2"),
      claim_batch(db, "INSERT INTO ingested_batches (rack, epoch, seq) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"),
      find_metric(db, "SELECT id FROM metric_names WHERE name = ?1"),
      insert_metric(db, "INSERT INTO metric_names (name) VALUES (?1) RETURNING id"),
      // A value resent under another (epoch, seq) is already there: keep it once.
      insert_telemetry(db,
                       "INSERT INTO telemetry_open (run_id, chip_id, metric_id, step_index, t_s, wall_unix_ms, value) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING"),
      upsert_chip_step_result(db,
                              "INSERT INTO chip_steps (run_id, step_index, chip_id, completed, unsupported, ran_s, "
                              "note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                              "ON CONFLICT (run_id, step_index, chip_id) DO UPDATE SET "
                              "completed = excluded.completed, unsupported = excluded.unsupported, "
                              "ran_s = excluded.ran_s, note = excluded.note"),
      delete_chip_step_metrics(db,
                               "DELETE FROM chip_step_metrics WHERE run_id = ?1 AND step_index = ?2 AND chip_id = ?3"),
      insert_chip_step_metrics(db, "chip_step_metrics (run_id, step_index, chip_id, metric_id, min, avg, max, count)",
                               8),
      delete_detections(db, "DELETE FROM detections WHERE run_id = ?1 AND step_index = ?2 AND chip_id = ?3"),
      insert_detection(db,
                       "INSERT INTO detections (run_id, step_index, chip_id, class, metric, count, first_t_s, "
                       "last_t_s, first_unix_ms, last_unix_ms, conditions_json, location_json, detail, kind) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
      delete_shmoo_points(db, "DELETE FROM shmoo_points WHERE run_id = ?1 AND step_index = ?2 AND chip_id = ?3"),
      insert_shmoo_point(db,
                         "INSERT INTO shmoo_points (run_id, step_index, chip_id, row, col, voltage_mv, clock_mhz, "
                         "outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),

      upsert_chip_step_verdict(db,
                               "INSERT INTO chip_steps (run_id, step_index, chip_id, verdict, reason) "
                               "VALUES (?1, ?2, ?3, ?4, ?5) "
                               "ON CONFLICT (run_id, step_index, chip_id) DO UPDATE SET "
                               "verdict = excluded.verdict, reason = excluded.reason"),
      delete_failures(db, "DELETE FROM failures WHERE run_id = ?1 AND step_index = ?2 AND chip_id = ?3"),
      insert_failure(db,
                     "INSERT INTO failures (run_id, step_index, chip_id, class, count, location_json, "
                     "conditions_json, first_t_s, last_t_s, first_unix_ms, last_unix_ms, detail) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
      set_run_chip_verdict(db,
                           "UPDATE run_chips SET verdict = ?3 "
                           "WHERE run_id = ?1 AND chip_id = (SELECT id FROM chips WHERE serial = ?2)"),
      insert_event(db, "INSERT INTO events (run_id, chip_id, kind, detail_json, unix_ms) VALUES (?1, ?2, ?3, ?4, ?5)"),
      insert_audit_event(db,
                         "INSERT INTO events (run_id, chip_id, kind, detail_json, unix_ms, actor, peer, count) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
      sealer(db) {}

std::int64_t Writer::Statements::chip_id(const std::string& serial, const NewChip& placement) {
  if (const auto cached = chip_ids_.find(serial); cached != chip_ids_.end()) return cached->second;
  find_chip.bind(1, serial);
  std::optional<std::int64_t> id = query_int64(find_chip);
  if (!id) {
    insert_chip.bind(1, serial);
    insert_chip.bind(2, placement.sku);
    insert_chip.bind(3, placement.rack);
    if (placement.slot) {
      insert_chip.bind(4, *placement.slot);
    } else {
      insert_chip.bind(4);
    }
    insert_chip.bind(5, placement.now_unix_ms);
    id = query_int64(insert_chip);
  }
  if (!id) throw SQLite::Exception("inserting a chip returned no id");
  chip_ids_.emplace(serial, *id);
  return *id;
}

std::int64_t Writer::Statements::metric_id(const std::string& name) {
  if (const auto cached = metric_ids_.find(name); cached != metric_ids_.end()) return cached->second;
  find_metric.bind(1, name);
  std::optional<std::int64_t> id = query_int64(find_metric);
  if (!id) {
    insert_metric.bind(1, name);
    id = query_int64(insert_metric);
  }
  if (!id) throw SQLite::Exception("inserting a metric name returned no id");
  metric_ids_.emplace(name, *id);
  return *id;
}

void Writer::Statements::require_step(std::uint64_t run_id, std::uint32_t step_index) {
  step_exists.bind(1, detail::to_db(run_id));
  step_exists.bind(2, step_index);
  if (query_int64(step_exists)) return;
  if (!status_of_run(run_id)) detail::fail(ErrorCode::invalid_argument, "no run {}", run_id);
  detail::fail(ErrorCode::invalid_argument, "run {} has no step {}", run_id, step_index);
}

void Writer::Statements::require_owner(std::uint64_t run_id, const std::string& serial, const std::string& rack) {
  detail::ResetOnExit reset(chip_owner);
  chip_owner.bind(1, detail::to_db(run_id));
  chip_owner.bind(2, serial);
  if (!chip_owner.executeStep()) {
    detail::fail(ErrorCode::permission_denied, "chip {} is not part of run {}: rack {} may not report for it", serial,
                 run_id, rack);
  }
  const std::string owner = chip_owner.getColumn(0).getString();
  if (owner != rack) {
    detail::fail(ErrorCode::permission_denied, "chip {} belongs to rack {} in run {}: rack {} may not report for it",
                 serial, owner, run_id, rack);
  }
}

std::optional<std::string> Writer::Statements::status_of_run(std::uint64_t run_id) {
  detail::ResetOnExit reset(run_status);
  run_status.bind(1, detail::to_db(run_id));
  if (!run_status.executeStep()) return std::nullopt;
  return run_status.getColumn(0).getString();
}

void Writer::Statements::forget_cached_ids() {
  chip_ids_.clear();
  metric_ids_.clear();
  sealer.forget();
}

}  // namespace kiln::store
