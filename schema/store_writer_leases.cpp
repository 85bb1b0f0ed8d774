// Rack leases: the Writer's side of schema/sql/007_rack_leases.sql.
#include <algorithm>

#include <SQLiteCpp/SQLiteCpp.h>

#include "core/clock.hpp"

#include "schema/store.hpp"
#include "schema/store_internal.hpp"

namespace kiln::store {
using detail::execute;
using detail::from_db;
using detail::to_db;

namespace {

constexpr const char* kColumns =
    "id, rack, kind, run_id, holder, reason, acquired_unix_ms, expires_unix_ms, ended_unix_ms, end_reason";

LeaseRow read_lease(SQLite::Statement& row) {
  LeaseRow lease;
  lease.id = from_db(row.getColumn(0).getInt64());
  lease.rack = row.getColumn(1).getString();
  lease.kind = row.getColumn(2).getString();
  lease.run_id = row.getColumn(3).isNull() ? 0 : from_db(row.getColumn(3).getInt64());
  lease.holder = row.getColumn(4).getString();
  lease.reason = row.getColumn(5).getString();
  lease.acquired_unix_ms = row.getColumn(6).getInt64();
  lease.expires_unix_ms = row.getColumn(7).getInt64();
  if (!row.getColumn(8).isNull()) lease.ended_unix_ms = row.getColumn(8).getInt64();
  lease.end_reason = row.getColumn(9).isNull() ? "" : row.getColumn(9).getString();
  return lease;
}

std::string describe(const LeaseRow& lease) {
  if (lease.kind == "run") return fmt::format("leased by run {}", lease.run_id);
  return fmt::format("{} by {}{}", lease.kind == "maintenance" ? "in maintenance" : "reserved", lease.holder,
                     lease.reason.empty() ? "" : " (" + lease.reason + ")");
}

Status check(const NewLease& lease, const std::vector<std::string>& racks) {
  if (racks.empty()) return make_error(ErrorCode::invalid_argument, "acquire_leases: no racks");
  if (lease.kind != "run" && lease.kind != "reservation" && lease.kind != "maintenance") {
    return make_error(ErrorCode::invalid_argument, "acquire_leases: kind \"{}\" (run, reservation, maintenance)",
                      lease.kind);
  }
  if ((lease.kind == "run") != (lease.run_id != 0)) {
    return make_error(ErrorCode::invalid_argument, "acquire_leases: a run lease names its run, and only it does");
  }
  if (lease.holder.empty()) return make_error(ErrorCode::invalid_argument, "acquire_leases: no holder");
  if (lease.expires_unix_ms <= lease.now_unix_ms) {
    return make_error(ErrorCode::invalid_argument, "acquire_leases: expiry is not after now");
  }
  for (const std::string& rack : racks) {
    if (rack.empty()) return make_error(ErrorCode::invalid_argument, "acquire_leases: empty rack name");
  }
  return {};
}

}  // namespace

Result<std::vector<LeaseRow>> Writer::active_leases() {
  std::vector<LeaseRow> out;
  KILN_TRY(atomically("active_leases", [&] {
    SQLite::Statement q(*db_,
                        fmt::format("SELECT {} FROM rack_leases WHERE ended_unix_ms IS NULL ORDER BY rack", kColumns));
    while (q.executeStep()) out.push_back(read_lease(q));
  }));
  return out;
}

Result<std::vector<LeaseRow>> Writer::acquire_leases(const std::vector<std::string>& racks, const NewLease& lease) {
  KILN_TRY(check(lease, racks));
  std::vector<LeaseRow> out;
  KILN_TRY(atomically("acquire_leases", [&] {
    SQLite::Statement held(
        *db_, fmt::format("SELECT {} FROM rack_leases WHERE rack = ?1 AND ended_unix_ms IS NULL", kColumns));
    std::string busy;
    for (const std::string& rack : racks) {
      held.bind(1, rack);
      if (held.executeStep()) {
        const LeaseRow row = read_lease(held);
        busy += fmt::format("{}{}: {} until {}", busy.empty() ? "" : "; ", rack, describe(row),
                            format_iso8601(row.expires_unix_ms));
      }
      held.reset();
    }
    if (!busy.empty()) detail::fail(ErrorCode::conflict, "rack(s) not free: {}", busy);
    SQLite::Statement insert(*db_, fmt::format("INSERT INTO rack_leases (rack, kind, run_id, holder, reason, "
                                               "acquired_unix_ms, expires_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                                               "RETURNING {}",
                                               kColumns));
    for (const std::string& rack : racks) {
      insert.bind(1, rack);
      insert.bind(2, lease.kind);
      if (lease.run_id != 0) {
        insert.bind(3, to_db(lease.run_id));
      } else {
        insert.bind(3);
      }
      insert.bind(4, lease.holder);
      insert.bind(5, lease.reason);
      insert.bind(6, lease.now_unix_ms);
      insert.bind(7, lease.expires_unix_ms);
      if (!insert.executeStep()) detail::fail(ErrorCode::internal, "lease insert returned no row");
      out.push_back(read_lease(insert));
      insert.reset();
    }
  }));
  return out;
}

Result<int> Writer::renew_leases(std::uint64_t run_id, std::uint64_t lease_id, std::int64_t expires_unix_ms) {
  int renewed = 0;
  KILN_TRY(atomically("renew_leases", [&] {
    SQLite::Statement update(*db_, run_id != 0 ? "UPDATE rack_leases SET expires_unix_ms = ?2 WHERE run_id = ?1 AND "
                                                 "ended_unix_ms IS NULL AND acquired_unix_ms < ?2"
                                               : "UPDATE rack_leases SET expires_unix_ms = ?2 WHERE id = ?1 AND "
                                                 "ended_unix_ms IS NULL AND acquired_unix_ms < ?2");
    update.bind(1, to_db(run_id != 0 ? run_id : lease_id));
    update.bind(2, expires_unix_ms);
    renewed = execute(update);
  }));
  return renewed;
}

Result<int> Writer::end_leases(std::uint64_t run_id, std::uint64_t lease_id, const std::string& reason,
                               std::int64_t now_unix_ms) {
  if (reason.empty()) return make_error(ErrorCode::invalid_argument, "end_leases: a lease ends with a reason");
  int ended = 0;
  KILN_TRY(atomically("end_leases", [&] {
    SQLite::Statement update(*db_, run_id != 0 ? "UPDATE rack_leases SET ended_unix_ms = ?2, end_reason = ?3 "
                                                 "WHERE run_id = ?1 AND ended_unix_ms IS NULL"
                                               : "UPDATE rack_leases SET ended_unix_ms = ?2, end_reason = ?3 "
                                                 "WHERE id = ?1 AND ended_unix_ms IS NULL");
    update.bind(1, to_db(run_id != 0 ? run_id : lease_id));
    update.bind(2, now_unix_ms);
    update.bind(3, reason);
    ended = execute(update);
  }));
  return ended;
}

Result<std::vector<LeaseRow>> Writer::expire_leases(std::int64_t now_unix_ms) {
  std::vector<LeaseRow> out;
  KILN_TRY(atomically("expire_leases", [&] {
    SQLite::Statement update(*db_, fmt::format("UPDATE rack_leases SET ended_unix_ms = ?1, end_reason = 'expired' "
                                               "WHERE ended_unix_ms IS NULL AND expires_unix_ms <= ?1 RETURNING {}",
                                               kColumns));
    update.bind(1, now_unix_ms);
    while (update.executeStep()) out.push_back(read_lease(update));
  }));
  std::sort(out.begin(), out.end(), [](const LeaseRow& a, const LeaseRow& b) { return a.id < b.id; });
  return out;
}

}  // namespace kiln::store
