// The reader: a read-only connection for queries, the CLI's --db mode and the
// daemon's query replies. Each call reads inside one short transaction, so a
// result is one consistent snapshot even while the writer commits.

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "schema/migrations.hpp"
#include "schema/store.hpp"
#include "schema/store_internal.hpp"

namespace kiln::store {

using detail::fail;
using detail::from_db;
using detail::real_or_nan;
using detail::require_run;
using detail::to_db;

namespace {

constexpr const char* kRunColumns =
    "SELECT r.id, p.name, p.sha256, r.seed, coalesce(l.name, ''), r.racks_json, r.status, r.reason, r.sample_hz, "
    "r.submitted_unix_ms, r.started_unix_ms, r.ended_unix_ms, r.plan_path, r.priority, r.queue_timeout_s, "
    "r.max_wall_s, "
    "tp.pruned_unix_ms "
    "FROM runs r JOIN plans p ON p.id = r.plan_id LEFT JOIN labs l ON l.id = r.lab_id "
    "LEFT JOIN telemetry_pruned tp ON tp.run_id = r.id";

RunRow read_run(const SQLite::Statement& q) {
  RunRow row;
  row.id = from_db(q.getColumn(0).getInt64());
  row.plan_name = q.getColumn(1).getString();
  row.plan_sha256 = q.getColumn(2).getString();
  row.seed = from_db(q.getColumn(3).getInt64());
  row.lab = q.getColumn(4).getString();
  row.racks = nlohmann::json::parse(q.getColumn(5).getString()).get<std::vector<std::string>>();
  row.status = q.getColumn(6).getString();
  row.reason = q.getColumn(7).getString();
  row.sample_hz = q.getColumn(8).getDouble();
  row.submitted_unix_ms = q.getColumn(9).getInt64();
  if (!q.getColumn(10).isNull()) row.started_unix_ms = q.getColumn(10).getInt64();
  if (!q.getColumn(11).isNull()) row.ended_unix_ms = q.getColumn(11).getInt64();
  row.plan_path = q.getColumn(12).getString();
  row.priority = q.getColumn(13).getInt();
  if (!q.getColumn(14).isNull()) row.queue_timeout_s = static_cast<std::uint32_t>(q.getColumn(14).getInt64());
  if (!q.getColumn(15).isNull()) row.max_wall_s = static_cast<std::uint32_t>(q.getColumn(15).getInt64());
  if (!q.getColumn(16).isNull()) row.raw_telemetry_pruned_unix_ms = q.getColumn(16).getInt64();
  return row;
}

std::uint32_t get_u32(const SQLite::Statement& q, int column) {
  return static_cast<std::uint32_t>(q.getColumn(column).getInt64());
}

}  // namespace

Result<std::unique_ptr<Reader>> Reader::open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return make_error(ErrorCode::not_found, "no database at {}", path);
  const std::string what = "open " + path;
  return detail::guarded(what.c_str(), [&]() -> Result<std::unique_ptr<Reader>> {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, detail::kBusyTimeoutMs);
    KILN_TRY_ASSIGN(const int version, detail::schema_version(*db));
    if (version == 0) return make_error(ErrorCode::invalid_argument, "{} is not a Kiln database (it is empty)", path);
    if (version != kMigrationCount) {
      return make_error(
          ErrorCode::conflict, "{} has schema version {}, this build reads version {}; {}", path, version,
          kMigrationCount,
          version < kMigrationCount ? "open it once with this build's kilnd to upgrade it" : "use a newer Kiln");
    }
    return std::unique_ptr<Reader>(new Reader(std::move(db)));
  });
}

Reader::Reader(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}

Reader::~Reader() = default;

bool Reader::read_only() const { return sqlite3_db_readonly(db_->getHandle(), "main") == 1; }

Result<std::vector<RunRow>> Reader::list_runs() {
  return detail::guarded("list_runs", [&]() -> Result<std::vector<RunRow>> {
    SQLite::Statement q(*db_, std::string(kRunColumns) + " ORDER BY r.id");
    std::vector<RunRow> rows;
    while (q.executeStep()) rows.push_back(read_run(q));
    return rows;
  });
}

Result<RunRow> Reader::run(std::uint64_t run_id) {
  return detail::guarded("run", [&]() -> Result<RunRow> {
    SQLite::Statement q(*db_, std::string(kRunColumns) + " WHERE r.id = ?1");
    q.bind(1, to_db(run_id));
    if (!q.executeStep()) fail(ErrorCode::not_found, "no run {}", run_id);
    return read_run(q);
  });
}

Result<std::string> Reader::plan_text(std::uint64_t run_id) {
  return detail::guarded("plan_text", [&]() -> Result<std::string> {
    SQLite::Statement q(*db_, "SELECT p.text FROM runs r JOIN plans p ON p.id = r.plan_id WHERE r.id = ?1");
    q.bind(1, to_db(run_id));
    if (!q.executeStep()) fail(ErrorCode::not_found, "no run {}", run_id);
    return q.getColumn(0).getString();
  });
}

Result<std::vector<StepRow>> Reader::steps(std::uint64_t run_id) {
  return detail::guarded("steps", [&]() -> Result<std::vector<StepRow>> {
    SQLite::Transaction snapshot(*db_);
    require_run(*db_, run_id);
    SQLite::Statement q(*db_,
                        "SELECT step_index, phase_index, repeat_index, name, pattern, duration_s, params_json, "
                        "limits_json FROM steps WHERE run_id = ?1 ORDER BY step_index");
    q.bind(1, to_db(run_id));
    std::vector<StepRow> rows;
    while (q.executeStep()) {
      rows.push_back(StepRow{get_u32(q, 0), get_u32(q, 1), get_u32(q, 2), q.getColumn(3).getString(),
                             q.getColumn(4).getString(), q.getColumn(5).getDouble(), q.getColumn(6).getString(),
                             q.getColumn(7).getString()});
    }
    return rows;
  });
}

Result<std::vector<RunChipRow>> Reader::run_chips(std::uint64_t run_id) {
  return detail::guarded("run_chips", [&]() -> Result<std::vector<RunChipRow>> {
    SQLite::Transaction snapshot(*db_);
    require_run(*db_, run_id);
    SQLite::Statement q(*db_,
                        "SELECT c.serial, rc.rack, rc.slot, rc.sku, coalesce(rc.verdict, '') "
                        "FROM run_chips rc JOIN chips c ON c.id = rc.chip_id WHERE rc.run_id = ?1 "
                        "ORDER BY rc.rack, rc.slot, c.serial");
    q.bind(1, to_db(run_id));
    std::vector<RunChipRow> rows;
    while (q.executeStep()) {
      rows.push_back(RunChipRow{q.getColumn(0).getString(), q.getColumn(1).getString(), get_u32(q, 2),
                                q.getColumn(3).getString(), q.getColumn(4).getString()});
    }
    return rows;
  });
}

Result<std::vector<ChipStepRow>> Reader::chip_steps(std::uint64_t run_id) {
  return detail::guarded("chip_steps", [&]() -> Result<std::vector<ChipStepRow>> {
    SQLite::Transaction snapshot(*db_);
    require_run(*db_, run_id);
    std::vector<ChipStepRow> rows;
    std::map<std::pair<std::string, std::uint32_t>, std::size_t> index;  // (serial, step) -> rows[i]

    SQLite::Statement q(*db_,
                        "SELECT c.serial, cs.step_index, coalesce(cs.verdict, ''), cs.reason, cs.completed, "
                        "cs.ran_s, cs.note, cs.unsupported "
                        "FROM chip_steps cs JOIN chips c ON c.id = cs.chip_id WHERE cs.run_id = ?1 "
                        "ORDER BY c.serial, cs.step_index");
    q.bind(1, to_db(run_id));
    while (q.executeStep()) {
      ChipStepRow row;
      row.serial = q.getColumn(0).getString();
      row.step_index = get_u32(q, 1);
      row.verdict = q.getColumn(2).getString();
      row.reason = q.getColumn(3).getString();
      row.completed = q.getColumn(4).getInt() != 0;
      row.ran_s = q.getColumn(5).getDouble();
      row.note = q.getColumn(6).getString();
      row.unsupported = q.getColumn(7).getInt() != 0;
      index.emplace(std::pair(row.serial, row.step_index), rows.size());
      rows.push_back(std::move(row));
    }

    SQLite::Statement metrics(*db_,
                              "SELECT c.serial, m.step_index, n.name, m.min, m.avg, m.max, m.count "
                              "FROM chip_step_metrics m JOIN chips c ON c.id = m.chip_id "
                              "JOIN metric_names n ON n.id = m.metric_id WHERE m.run_id = ?1 ORDER BY n.name");
    metrics.bind(1, to_db(run_id));
    while (metrics.executeStep()) {
      const auto found = index.find({metrics.getColumn(0).getString(), get_u32(metrics, 1)});
      if (found == index.end()) continue;  // cannot happen: metrics cascade from chip_steps
      rows[found->second].metrics.push_back(MetricRow{
          metrics.getColumn(2).getString(), real_or_nan(metrics.getColumn(3)), real_or_nan(metrics.getColumn(4)),
          real_or_nan(metrics.getColumn(5)), from_db(metrics.getColumn(6).getInt64())});
    }

    SQLite::Statement failures(*db_,
                               "SELECT c.serial, f.step_index, s.name, f.class, f.count, f.location_json, "
                               "f.conditions_json, f.first_t_s, f.last_t_s, coalesce(f.first_unix_ms, 0), "
                               "coalesce(f.last_unix_ms, 0), f.detail "
                               "FROM failures f JOIN chips c ON c.id = f.chip_id "
                               "JOIN steps s ON s.run_id = f.run_id AND s.step_index = f.step_index "
                               "WHERE f.run_id = ?1 ORDER BY f.id");
    failures.bind(1, to_db(run_id));
    while (failures.executeStep()) {
      const auto found = index.find({failures.getColumn(0).getString(), get_u32(failures, 1)});
      if (found == index.end()) continue;  // cannot happen: failures cascade from chip_steps
      FailureRow failure;
      failure.step_index = get_u32(failures, 1);
      failure.step_name = failures.getColumn(2).getString();
      failure.cls = failures.getColumn(3).getString();
      failure.count = from_db(failures.getColumn(4).getInt64());
      failure.location_json = failures.getColumn(5).getString();
      failure.conditions_json = failures.getColumn(6).getString();
      failure.first_t_s = real_or_nan(failures.getColumn(7));
      failure.last_t_s = real_or_nan(failures.getColumn(8));
      failure.first_unix_ms = failures.getColumn(9).getInt64();
      failure.last_unix_ms = failures.getColumn(10).getInt64();
      failure.detail = failures.getColumn(11).getString();
      rows[found->second].failures.push_back(std::move(failure));
    }

    SQLite::Statement points(*db_,
                             "SELECT c.serial, p.step_index, p.row, p.col, p.voltage_mv, p.clock_mhz, p.outcome "
                             "FROM shmoo_points p JOIN chips c ON c.id = p.chip_id WHERE p.run_id = ?1 "
                             "ORDER BY c.serial, p.step_index, p.row, p.col");
    points.bind(1, to_db(run_id));
    while (points.executeStep()) {
      const auto found = index.find({points.getColumn(0).getString(), get_u32(points, 1)});
      if (found == index.end()) continue;  // cannot happen: points cascade from chip_steps
      ShmooMap& map = rows[found->second].shmoo ? *rows[found->second].shmoo : rows[found->second].shmoo.emplace();
      const auto row = static_cast<std::size_t>(points.getColumn(2).getInt());
      const auto col = static_cast<std::size_t>(points.getColumn(3).getInt());
      if (map.voltages_mv.size() <= row) map.voltages_mv.resize(row + 1);
      if (map.clocks_mhz.size() <= col) map.clocks_mhz.resize(col + 1);
      if (map.rows.size() <= row) map.rows.resize(row + 1);
      map.voltages_mv[row] = points.getColumn(4).getDouble();
      map.clocks_mhz[col] = points.getColumn(5).getDouble();
      const std::string outcome = points.getColumn(6).getString();
      std::string& cells = map.rows[row];
      if (cells.size() <= col) cells.resize(col + 1, '?');
      cells[col] = outcome == "pass" ? '.' : outcome == "fail" ? 'X' : outcome == "refused" ? '-' : '?';
    }
    return rows;
  });
}

Result<std::vector<DetectionRow>> Reader::detections(std::uint64_t run_id) {
  return detail::guarded("detections", [&]() -> Result<std::vector<DetectionRow>> {
    SQLite::Transaction snapshot(*db_);
    require_run(*db_, run_id);
    SQLite::Statement q(*db_,
                        "SELECT c.serial, d.step_index, d.class, d.metric, d.count, d.first_t_s, d.last_t_s, "
                        "coalesce(d.first_unix_ms, 0), coalesce(d.last_unix_ms, 0), d.conditions_json, "
                        "d.location_json, d.detail, d.kind "
                        "FROM detections d JOIN chips c ON c.id = d.chip_id WHERE d.run_id = ?1 "
                        "ORDER BY c.serial, d.step_index, d.id");
    q.bind(1, to_db(run_id));
    std::vector<DetectionRow> rows;
    while (q.executeStep()) {
      rows.push_back(DetectionRow{q.getColumn(0).getString(), get_u32(q, 1), q.getColumn(2).getString(),
                                  q.getColumn(3).getString(), from_db(q.getColumn(4).getInt64()),
                                  real_or_nan(q.getColumn(5)), real_or_nan(q.getColumn(6)), q.getColumn(7).getInt64(),
                                  q.getColumn(8).getInt64(), q.getColumn(9).getString(), q.getColumn(10).getString(),
                                  q.getColumn(11).getString(), q.getColumn(12).getString()});
    }
    return rows;
  });
}

Result<std::vector<ChipRow>> Reader::chips() {
  return detail::guarded("chips", [&]() -> Result<std::vector<ChipRow>> {
    SQLite::Statement q(*db_,
                        "SELECT c.serial, c.sku, coalesce(r.name, ''), coalesce(c.slot, 0), c.last_seen_unix_ms, "
                        "c.first_seen_unix_ms FROM chips c LEFT JOIN racks r ON r.id = c.rack_id ORDER BY c.serial");
    std::vector<ChipRow> rows;
    while (q.executeStep()) {
      rows.push_back(ChipRow{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                             get_u32(q, 3), q.getColumn(4).getInt64(), q.getColumn(5).getInt64()});
    }
    return rows;
  });
}

Result<std::vector<HistoryRow>> Reader::chip_history(const std::string& serial) {
  return detail::guarded("chip_history", [&]() -> Result<std::vector<HistoryRow>> {
    SQLite::Transaction snapshot(*db_);
    const std::int64_t chip_id = detail::chip_id_by_serial(*db_, serial);
    SQLite::Statement q(*db_,
                        "SELECT r.id, p.name, rc.rack, rc.slot, coalesce(rc.verdict, ''), r.status, "
                        "r.submitted_unix_ms FROM run_chips rc JOIN runs r ON r.id = rc.run_id "
                        "JOIN plans p ON p.id = r.plan_id WHERE rc.chip_id = ?1 ORDER BY r.id");
    q.bind(1, chip_id);
    std::vector<HistoryRow> rows;
    while (q.executeStep()) {
      rows.push_back(HistoryRow{from_db(q.getColumn(0).getInt64()), q.getColumn(1).getString(),
                                q.getColumn(2).getString(), get_u32(q, 3), q.getColumn(4).getString(),
                                q.getColumn(5).getString(), q.getColumn(6).getInt64()});
    }
    return rows;
  });
}

Result<std::vector<EventRow>> Reader::events(std::uint64_t run_id, std::int64_t since_unix_ms, std::size_t limit) {
  return detail::guarded("events", [&]() -> Result<std::vector<EventRow>> {
    SQLite::Transaction snapshot(*db_);
    if (run_id != 0) require_run(*db_, run_id);
    // The latest `limit` first (by id: the order they were written), turned oldest first below.
    std::string sql =
        "SELECT e.id, coalesce(e.run_id, 0), coalesce(c.serial, ''), e.kind, e.actor, e.peer, e.count, "
        "e.detail_json, e.unix_ms FROM events e LEFT JOIN chips c ON c.id = e.chip_id WHERE e.unix_ms >= ?1";
    if (run_id != 0) sql += " AND e.run_id = ?2";
    sql += " ORDER BY e.id DESC";
    if (limit > 0) sql += " LIMIT ?3";
    SQLite::Statement q(*db_, sql);
    q.bind(1, since_unix_ms);
    if (run_id != 0) q.bind(2, to_db(run_id));
    if (limit > 0) q.bind(3, static_cast<std::int64_t>(limit));
    std::vector<EventRow> rows;
    while (q.executeStep()) {
      EventRow row;
      row.id = from_db(q.getColumn(0).getInt64());
      row.run_id = from_db(q.getColumn(1).getInt64());
      row.serial = q.getColumn(2).getString();
      row.kind = q.getColumn(3).getString();
      row.actor = q.getColumn(4).getString();
      row.peer = q.getColumn(5).getString();
      row.count = from_db(q.getColumn(6).getInt64());
      row.detail_json = q.getColumn(7).getString();
      row.unix_ms = q.getColumn(8).getInt64();
      rows.push_back(std::move(row));
    }
    std::reverse(rows.begin(), rows.end());
    return rows;
  });
}

}  // namespace kiln::store
