// Alarm acknowledgements: the store's side of schema/sql/013_alarm_acks.sql.
#include <SQLiteCpp/SQLiteCpp.h>
#include <SQLiteCpp/Transaction.h>

#include "schema/store.hpp"
#include "schema/store_internal.hpp"

namespace kiln::store {

using detail::execute;
using detail::from_db;
using detail::to_db;

Status Writer::acknowledge_alarms(const std::vector<AlarmAckRow>& acks) {
  for (const auto& a : acks) {
    if (a.alarm_id == 0) return make_error(ErrorCode::invalid_argument, "alarm acknowledgement: alarm id 0");
    if (a.acknowledged_by.empty())
      return make_error(ErrorCode::invalid_argument, "alarm acknowledgement of alarm {}: by no one", a.alarm_id);
  }
  return atomically("acknowledge_alarms", [&] {
    SQLite::Statement insert(*db_,
                             "INSERT INTO alarm_acks (alarm_id, raised_unix_ms, kind, serial, rack, run_id, message, "
                             "acknowledged_by, acknowledged_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                             "ON CONFLICT (alarm_id, raised_unix_ms) DO UPDATE SET kind = ?3, serial = ?4, rack = ?5, "
                             "run_id = ?6, message = ?7, acknowledged_by = ?8, acknowledged_unix_ms = ?9");
    for (const auto& a : acks) {
      insert.bind(1, to_db(a.alarm_id));
      insert.bind(2, a.raised_unix_ms);
      insert.bind(3, a.kind);
      insert.bind(4, a.serial);
      insert.bind(5, a.rack);
      if (a.run_id != 0) {
        insert.bind(6, to_db(a.run_id));
      } else {
        insert.bind(6);
      }
      insert.bind(7, a.message);
      insert.bind(8, a.acknowledged_by);
      insert.bind(9, a.acknowledged_unix_ms);
      execute(insert);
      insert.clearBindings();
    }
  });
}

Result<std::vector<AlarmAckRow>> Reader::alarm_acks(std::int64_t since_unix_ms) {
  return detail::guarded("alarm_acks", [&]() -> Result<std::vector<AlarmAckRow>> {
    SQLite::Statement q(*db_,
                        "SELECT alarm_id, raised_unix_ms, kind, serial, rack, coalesce(run_id, 0), message, "
                        "acknowledged_by, acknowledged_unix_ms FROM alarm_acks WHERE acknowledged_unix_ms >= ?1 "
                        "ORDER BY acknowledged_unix_ms, id");
    q.bind(1, since_unix_ms);
    std::vector<AlarmAckRow> rows;
    while (q.executeStep()) {
      AlarmAckRow row;
      row.alarm_id = from_db(q.getColumn(0).getInt64());
      row.raised_unix_ms = q.getColumn(1).getInt64();
      row.kind = q.getColumn(2).getString();
      row.serial = q.getColumn(3).getString();
      row.rack = q.getColumn(4).getString();
      row.run_id = from_db(q.getColumn(5).getInt64());
      row.message = q.getColumn(6).getString();
      row.acknowledged_by = q.getColumn(7).getString();
      row.acknowledged_unix_ms = q.getColumn(8).getInt64();
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

}  // namespace kiln::store
