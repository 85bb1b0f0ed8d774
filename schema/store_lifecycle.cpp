// Chip lifecycle records and transitions: the store's side of
// schema/sql/008_chip_lifecycle.sql, for the writer and the reader.
#include <SQLiteCpp/SQLiteCpp.h>
#include <SQLiteCpp/Transaction.h>

#include "schema/store.hpp"
#include "schema/store_internal.hpp"

namespace kiln::store {

using detail::execute;
using detail::fail;
using detail::from_db;
using detail::to_db;

namespace {

constexpr const char* kStates[] = {"unknown", "healthy", "suspect", "quarantined", "rma", "retired", "maintenance"};

bool is_state(const std::string& state) {
  for (const char* s : kStates) {
    if (state == s) return true;
  }
  return false;
}

std::int64_t chip_id(SQLite::Database& db, const std::string& serial) { return detail::chip_id_by_serial(db, serial); }

constexpr const char* kRecordColumns =
    "c.serial, coalesce(l.state, 'unknown'), coalesce(l.set_by_person, 0), coalesce(l.clean_streak, 0), "
    "coalesce(l.retests_run, 0), coalesce(l.retests_failed, 0), coalesce(l.episode_run_id, 0), "
    "coalesce(l.updated_unix_ms, 0) FROM chips c LEFT JOIN chip_lifecycle l ON l.chip_id = c.id";

LifecycleRow read_record(SQLite::Statement& q) {
  LifecycleRow row;
  row.serial = q.getColumn(0).getString();
  row.state = q.getColumn(1).getString();
  row.set_by_person = q.getColumn(2).getInt() != 0;
  row.clean_streak = static_cast<std::uint32_t>(q.getColumn(3).getInt64());
  row.retests_run = static_cast<std::uint32_t>(q.getColumn(4).getInt64());
  row.retests_failed = static_cast<std::uint32_t>(q.getColumn(5).getInt64());
  row.episode_run_id = from_db(q.getColumn(6).getInt64());
  row.updated_unix_ms = q.getColumn(7).getInt64();
  return row;
}

LifecycleRow read_one(SQLite::Database& db, const std::string& serial) {
  chip_id(db, serial);
  SQLite::Statement q(db, fmt::format("SELECT {} WHERE c.serial = ?1", kRecordColumns));
  q.bind(1, serial);
  q.executeStep();
  return read_record(q);
}

}  // namespace

Result<LifecycleRow> Writer::lifecycle(const std::string& serial) {
  LifecycleRow row;
  KILN_TRY(atomically("lifecycle", [&] { row = read_one(*db_, serial); }));
  return row;
}

Status Writer::record_lifecycle(const LifecycleRow& next, const std::optional<TransitionRow>& transition) {
  if (!is_state(next.state)) return make_error(ErrorCode::invalid_argument, "lifecycle: no state \"{}\"", next.state);
  if (next.retests_failed > next.retests_run) {
    return make_error(ErrorCode::invalid_argument, "lifecycle: {} failed of {} retests", next.retests_failed,
                      next.retests_run);
  }
  if (transition) {
    if (transition->to_state != next.state || !is_state(transition->from_state)) {
      return make_error(ErrorCode::invalid_argument, "lifecycle: transition {} → {} does not end in {}",
                        transition->from_state, transition->to_state, next.state);
    }
    if (transition->actor.empty() || transition->reason.empty()) {
      return make_error(ErrorCode::invalid_argument, "lifecycle: a transition names its actor and reason");
    }
  }
  return atomically("record_lifecycle", [&] {
    const std::int64_t id = chip_id(*db_, next.serial);
    if (transition) {
      const LifecycleRow stored = read_one(*db_, next.serial);
      if (stored.state != transition->from_state) {
        fail(ErrorCode::conflict, "lifecycle of {}: it is {}, not {} as the transition assumed", next.serial,
             stored.state, transition->from_state);
      }
    }
    SQLite::Statement upsert(*db_,
                             "INSERT INTO chip_lifecycle (chip_id, state, set_by_person, clean_streak, retests_run, "
                             "retests_failed, episode_run_id, updated_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                             "ON CONFLICT (chip_id) DO UPDATE SET state = ?2, set_by_person = ?3, clean_streak = ?4, "
                             "retests_run = ?5, retests_failed = ?6, episode_run_id = ?7, updated_unix_ms = ?8");
    upsert.bind(1, id);
    upsert.bind(2, next.state);
    upsert.bind(3, next.set_by_person ? 1 : 0);
    upsert.bind(4, static_cast<std::int64_t>(next.clean_streak));
    upsert.bind(5, static_cast<std::int64_t>(next.retests_run));
    upsert.bind(6, static_cast<std::int64_t>(next.retests_failed));
    if (next.episode_run_id != 0) {
      upsert.bind(7, to_db(next.episode_run_id));
    } else {
      upsert.bind(7);
    }
    upsert.bind(8, next.updated_unix_ms);
    execute(upsert);
    if (!transition) return;
    SQLite::Statement insert(*db_,
                             "INSERT INTO lifecycle_transitions (chip_id, from_state, to_state, actor, reason, run_id, "
                             "plan_sha256, unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    insert.bind(1, id);
    insert.bind(2, transition->from_state);
    insert.bind(3, transition->to_state);
    insert.bind(4, transition->actor);
    insert.bind(5, transition->reason);
    if (transition->run_id != 0) {
      insert.bind(6, to_db(transition->run_id));
    } else {
      insert.bind(6);
    }
    insert.bind(7, transition->plan_sha256);
    insert.bind(8, transition->unix_ms);
    execute(insert);
  });
}

Result<std::vector<TransitionRow>> Reader::lifecycle_transitions(const std::string& serial) {
  return detail::guarded("lifecycle_transitions", [&]() -> Result<std::vector<TransitionRow>> {
    SQLite::Transaction snapshot(*db_);
    const std::int64_t id = chip_id(*db_, serial);
    SQLite::Statement q(*db_,
                        "SELECT id, from_state, to_state, actor, reason, coalesce(run_id, 0), plan_sha256, unix_ms "
                        "FROM lifecycle_transitions WHERE chip_id = ?1 ORDER BY id");
    q.bind(1, id);
    std::vector<TransitionRow> rows;
    while (q.executeStep()) {
      rows.push_back(TransitionRow{from_db(q.getColumn(0).getInt64()), serial, q.getColumn(1).getString(),
                                   q.getColumn(2).getString(), q.getColumn(3).getString(), q.getColumn(4).getString(),
                                   from_db(q.getColumn(5).getInt64()), q.getColumn(6).getString(),
                                   q.getColumn(7).getInt64()});
    }
    return rows;
  });
}

Result<std::vector<LifecycleRow>> Reader::lifecycle_states() {
  return detail::guarded("lifecycle_states", [&]() -> Result<std::vector<LifecycleRow>> {
    SQLite::Statement q(*db_, fmt::format("SELECT {} ORDER BY c.serial", kRecordColumns));
    std::vector<LifecycleRow> rows;
    while (q.executeStep()) rows.push_back(read_record(q));
    return rows;
  });
}

}  // namespace kiln::store
