// Retention of raw telemetry (kilnd --keep-raw; docs/telemetry-storage.md,
// "Retention"): the chunks and open rows of runs that ended long enough ago
// are dropped, their roll-ups and everything judged from them kept.

#include "schema/store.hpp"
#include "schema/store_internal.hpp"
#include "schema/store_writer_statements.hpp"

namespace kiln::store {

using detail::execute;
using detail::fail;

Result<std::vector<PrunedRun>> Writer::prune_raw_telemetry(std::int64_t keep_raw_ms, std::int64_t now_unix_ms,
                                                           int max_runs) {
  if (keep_raw_ms <= 0) return make_error(ErrorCode::invalid_argument, "keep_raw_ms must be positive");
  std::vector<PrunedRun> pruned;
  const Status done = atomically("prune_raw_telemetry", [&] {
    pruned.clear();
    SQLite::Statement due(*db_,
                          "SELECT r.id FROM runs r WHERE r.ended_unix_ms IS NOT NULL AND r.ended_unix_ms < ?1 "
                          "AND NOT EXISTS (SELECT 1 FROM telemetry_pruned p WHERE p.run_id = r.id) "
                          "AND (EXISTS (SELECT 1 FROM telemetry_chunks c WHERE c.run_id = r.id) "
                          "OR EXISTS (SELECT 1 FROM telemetry_open o WHERE o.run_id = r.id)) "
                          "ORDER BY r.id LIMIT ?2");
    due.bind(1, now_unix_ms - keep_raw_ms);
    due.bind(2, max_runs);
    std::vector<std::int64_t> runs;
    while (due.executeStep()) runs.push_back(due.getColumn(0).getInt64());
    for (const std::int64_t run : runs) {
      PrunedRun p;
      p.run_id = static_cast<std::uint64_t>(run);
      SQLite::Statement count(*db_,
                              "SELECT count(*), coalesce(sum(samples), 0) FROM telemetry_chunks WHERE run_id = ?1");
      count.bind(1, run);
      if (count.executeStep()) {
        p.chunks = count.getColumn(0).getInt64();
        p.samples = count.getColumn(1).getInt64();
      }
      SQLite::Statement open(*db_, "SELECT count(*) FROM telemetry_open WHERE run_id = ?1");
      open.bind(1, run);
      if (open.executeStep()) p.samples += open.getColumn(0).getInt64();
      for (const char* sql :
           {"DELETE FROM telemetry_chunks WHERE run_id = ?1", "DELETE FROM telemetry_open WHERE run_id = ?1"}) {
        SQLite::Statement drop(*db_, sql);
        drop.bind(1, run);
        execute(drop);
      }
      SQLite::Statement record(*db_,
                               "INSERT INTO telemetry_pruned (run_id, pruned_unix_ms, keep_raw_ms, chunks, samples) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)");
      record.bind(1, run);
      record.bind(2, now_unix_ms);
      record.bind(3, keep_raw_ms);
      record.bind(4, p.chunks);
      record.bind(5, p.samples);
      execute(record);
      stmts_->sealer.forget_run(run);
      pruned.push_back(p);
    }
    // The freed pages leave the file (a database created since 006 vacuums incrementally).
    if (!pruned.empty()) db_->exec("PRAGMA incremental_vacuum");
  });
  KILN_TRY(done);
  return pruned;
}

}  // namespace kiln::store
