// Schedules: the store's side of schema/sql/012_schedules.sql (docs/scheduling.md).
#include <algorithm>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "schema/store.hpp"
#include "schema/store_internal.hpp"

namespace kiln::store {
using detail::execute;
using detail::fail;
using detail::from_db;
using detail::to_db;

namespace {

constexpr const char* kScheduleColumns =
    "id, name, plan_name, plan_path, plan_text, cron, time_zone, racks_json, sku, priority, max_wall_s, "
    "queue_timeout_s, jitter_s, catch_up, enabled, created_by, created_unix_ms, handled_until_unix_ms";

std::optional<std::uint32_t> optional_u32(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return static_cast<std::uint32_t>(column.getInt64());
}

ScheduleRow read_schedule(SQLite::Statement& row) {
  ScheduleRow s;
  s.id = from_db(row.getColumn(0).getInt64());
  s.name = row.getColumn(1).getString();
  s.plan_name = row.getColumn(2).getString();
  s.plan_path = row.getColumn(3).getString();
  s.plan_text = row.getColumn(4).getString();
  s.cron = row.getColumn(5).getString();
  s.time_zone = row.getColumn(6).getString();
  s.racks = nlohmann::json::parse(row.getColumn(7).getString()).get<std::vector<std::string>>();
  s.sku = row.getColumn(8).getString();
  s.priority = row.getColumn(9).getInt();
  s.max_wall_s = optional_u32(row.getColumn(10));
  s.queue_timeout_s = optional_u32(row.getColumn(11));
  s.jitter_s = static_cast<std::uint32_t>(row.getColumn(12).getInt64());
  s.catch_up = row.getColumn(13).getString();
  s.enabled = row.getColumn(14).getInt() != 0;
  s.created_by = row.getColumn(15).getString();
  s.created_unix_ms = row.getColumn(16).getInt64();
  s.handled_until_unix_ms = row.getColumn(17).getInt64();
  return s;
}

void bind_optional_u32(SQLite::Statement& statement, int index, const std::optional<std::uint32_t>& value) {
  if (value) {
    statement.bind(index, static_cast<std::int64_t>(*value));
  } else {
    statement.bind(index);
  }
}

// The active schedule of that name, or not_found.
std::int64_t schedule_id_by_name(SQLite::Database& db, const std::string& name) {
  SQLite::Statement find(db, "SELECT id FROM schedules WHERE name = ?1 AND removed_unix_ms IS NULL");
  find.bind(1, name);
  if (!find.executeStep()) fail(ErrorCode::not_found, "no schedule {}", name);
  return find.getColumn(0).getInt64();
}

void move_handled(SQLite::Database& db, std::uint64_t schedule_id, std::int64_t until) {
  SQLite::Statement update(db,
                           "UPDATE schedules SET handled_until_unix_ms = max(handled_until_unix_ms, ?2) WHERE id = ?1");
  update.bind(1, to_db(schedule_id));
  update.bind(2, until);
  if (update.exec() == 0) fail(ErrorCode::not_found, "no schedule {}", schedule_id);
}

}  // namespace

Result<std::uint64_t> Writer::add_schedule(const ScheduleRow& schedule) {
  if (schedule.name.empty() || schedule.cron.empty() || schedule.time_zone.empty() || schedule.created_by.empty()) {
    return make_error(ErrorCode::invalid_argument, "add_schedule: name, cron, time zone and creator are required");
  }
  std::uint64_t id = 0;
  KILN_TRY(atomically("add_schedule", [&] {
    SQLite::Statement exists(*db_, "SELECT 1 FROM schedules WHERE name = ?1 AND removed_unix_ms IS NULL");
    exists.bind(1, schedule.name);
    if (exists.executeStep()) {
      fail(ErrorCode::conflict, "a schedule named {} exists: remove it first, or choose another name", schedule.name);
    }
    SQLite::Statement insert(
        *db_,
        "INSERT INTO schedules (name, plan_name, plan_path, plan_text, cron, time_zone, racks_json, sku, priority, "
        "max_wall_s, queue_timeout_s, jitter_s, catch_up, enabled, created_by, created_unix_ms, "
        "handled_until_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
        "RETURNING id");
    insert.bind(1, schedule.name);
    insert.bind(2, schedule.plan_name);
    insert.bind(3, schedule.plan_path);
    insert.bind(4, schedule.plan_text);
    insert.bind(5, schedule.cron);
    insert.bind(6, schedule.time_zone);
    insert.bind(7, nlohmann::json(schedule.racks).dump());
    insert.bind(8, schedule.sku);
    insert.bind(9, schedule.priority);
    bind_optional_u32(insert, 10, schedule.max_wall_s);
    bind_optional_u32(insert, 11, schedule.queue_timeout_s);
    insert.bind(12, static_cast<std::int64_t>(schedule.jitter_s));
    insert.bind(13, schedule.catch_up);
    insert.bind(14, schedule.enabled ? 1 : 0);
    insert.bind(15, schedule.created_by);
    insert.bind(16, schedule.created_unix_ms);
    insert.bind(17, schedule.handled_until_unix_ms);
    id = from_db(detail::query_int64(insert).value());
  }));
  return id;
}

Status Writer::set_schedule_enabled(const std::string& name, bool enabled) {
  return atomically("set_schedule_enabled", [&] {
    SQLite::Statement update(*db_, "UPDATE schedules SET enabled = ?2 WHERE id = ?1");
    update.bind(1, schedule_id_by_name(*db_, name));
    update.bind(2, enabled ? 1 : 0);
    update.exec();
  });
}

Status Writer::remove_schedule(const std::string& name, std::int64_t now_unix_ms) {
  return atomically("remove_schedule", [&] {
    SQLite::Statement update(*db_, "UPDATE schedules SET removed_unix_ms = ?2, enabled = 0 WHERE id = ?1");
    update.bind(1, schedule_id_by_name(*db_, name));
    update.bind(2, now_unix_ms);
    update.exec();
  });
}

Status Writer::record_schedule_fire(const ScheduleFireRow& fire) {
  if (fire.outcome != "submitted" && fire.outcome != "refused" && fire.outcome != "missed") {
    return make_error(ErrorCode::invalid_argument, "record_schedule_fire: outcome {} (submitted, refused, missed)",
                      fire.outcome);
  }
  if ((fire.outcome == "submitted") != (fire.run_id != 0)) {
    return make_error(ErrorCode::invalid_argument, "record_schedule_fire: a submitted fire names its run, and only it");
  }
  return atomically("record_schedule_fire", [&] {
    SQLite::Statement known(*db_, "SELECT 1 FROM schedules WHERE id = ?1");
    known.bind(1, to_db(fire.schedule_id));
    if (!known.executeStep()) fail(ErrorCode::not_found, "no schedule {}", fire.schedule_id);
    SQLite::Statement seen(*db_, "SELECT outcome FROM schedule_fires WHERE schedule_id = ?1 AND fire_unix_ms = ?2");
    seen.bind(1, to_db(fire.schedule_id));
    seen.bind(2, fire.fire_unix_ms);
    if (seen.executeStep()) {
      fail(ErrorCode::conflict, "schedule {}: fire time {} was decided before ({})", fire.schedule_id,
           fire.fire_unix_ms, seen.getColumn(0).getString());
    }
    SQLite::Statement insert(*db_,
                             "INSERT INTO schedule_fires (schedule_id, fire_unix_ms, run_id, outcome, detail, "
                             "decided_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    insert.bind(1, to_db(fire.schedule_id));
    insert.bind(2, fire.fire_unix_ms);
    if (fire.run_id != 0) {
      insert.bind(3, to_db(fire.run_id));
    } else {
      insert.bind(3);
    }
    insert.bind(4, fire.outcome);
    insert.bind(5, fire.detail);
    insert.bind(6, fire.decided_unix_ms);
    insert.exec();
    move_handled(*db_, fire.schedule_id, fire.fire_unix_ms);
  });
}

Status Writer::set_schedule_handled(std::uint64_t schedule_id, std::int64_t until_unix_ms) {
  return atomically("set_schedule_handled", [&] { move_handled(*db_, schedule_id, until_unix_ms); });
}

Result<std::vector<ScheduleRow>> Reader::schedules() {
  return detail::guarded("schedules", [&]() -> Result<std::vector<ScheduleRow>> {
    SQLite::Statement q(
        *db_, fmt::format("SELECT {} FROM schedules WHERE removed_unix_ms IS NULL ORDER BY name", kScheduleColumns));
    std::vector<ScheduleRow> rows;
    while (q.executeStep()) rows.push_back(read_schedule(q));
    return rows;
  });
}

Result<std::vector<ScheduleFireRow>> Reader::schedule_fires(std::uint64_t schedule_id, std::int64_t since_unix_ms,
                                                            std::int64_t until_unix_ms, std::size_t limit) {
  return detail::guarded("schedule_fires", [&]() -> Result<std::vector<ScheduleFireRow>> {
    std::string sql =
        "SELECT schedule_id, fire_unix_ms, coalesce(run_id, 0), outcome, detail, decided_unix_ms FROM schedule_fires "
        "WHERE decided_unix_ms >= ?1 AND decided_unix_ms < ?2";
    if (schedule_id != 0) sql += " AND schedule_id = ?3";
    sql += " ORDER BY decided_unix_ms DESC, fire_unix_ms DESC";
    if (limit > 0) sql += " LIMIT ?4";
    SQLite::Statement q(*db_, sql);
    q.bind(1, since_unix_ms);
    q.bind(2, until_unix_ms);
    if (schedule_id != 0) q.bind(3, to_db(schedule_id));
    if (limit > 0) q.bind(4, static_cast<std::int64_t>(limit));
    std::vector<ScheduleFireRow> rows;
    while (q.executeStep()) {
      rows.push_back(ScheduleFireRow{from_db(q.getColumn(0).getInt64()), q.getColumn(1).getInt64(),
                                     from_db(q.getColumn(2).getInt64()), q.getColumn(3).getString(),
                                     q.getColumn(4).getString(), q.getColumn(5).getInt64()});
    }
    std::reverse(rows.begin(), rows.end());
    return rows;
  });
}

Result<std::string> Reader::schedule_name(std::uint64_t schedule_id) {
  return detail::guarded("schedule_name", [&]() -> Result<std::string> {
    SQLite::Statement q(*db_, "SELECT name FROM schedules WHERE id = ?1");
    q.bind(1, to_db(schedule_id));
    if (!q.executeStep()) fail(ErrorCode::not_found, "no schedule {}", schedule_id);
    return q.getColumn(0).getString();
  });
}

}  // namespace kiln::store
