// The reader's telemetry: sealed chunks decoded and merged with the values
// still open, in the order one row-per-value table gave them (serial, step,
// t, metric), and the per-chunk roll-ups (docs/telemetry-storage.md).

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

#include <SQLiteCpp/Transaction.h>

#include "core/clock.hpp"
#include "core/units.hpp"
#include "schema/store.hpp"
#include "schema/store_internal.hpp"
#include "schema/telemetry_chunk.hpp"

namespace kiln::store {

using detail::fail;
using detail::real_or_nan;
using detail::require_run;
using detail::to_db;

namespace {

// Filters become ids first, so a typo is reported instead of matching nothing.
std::int64_t id_of(SQLite::Database& db, const char* sql, const std::string& name, const char* kind) {
  SQLite::Statement find(db, sql);
  find.bind(1, name);
  if (!find.executeStep()) fail(ErrorCode::not_found, "no {} {}", kind, name);
  return find.getColumn(0).getInt64();
}
std::int64_t chip_id(SQLite::Database& db, const std::string& serial) { return detail::chip_id_by_serial(db, serial); }
std::int64_t metric_id(SQLite::Database& db, const std::string& metric) {
  return id_of(db, "SELECT id FROM metric_names WHERE name = ?1", metric, "metric");
}

struct Value {
  double t_s;
  const std::string* metric;
  std::int64_t wall_unix_ms;
  double value;
};

}  // namespace

Status Reader::telemetry(std::uint64_t run_id, const std::string& serial, const std::string& metric,
                         const std::function<void(const TelemetryRow&)>& row) {
  return telemetry(run_id, serial, metric, {}, row);
}

Status Reader::telemetry(std::uint64_t run_id, const std::string& serial, const std::string& metric,
                         const std::vector<TelemetryWindow>& windows,
                         const std::function<void(const TelemetryRow&)>& row) {
  return detail::guarded("telemetry", [&]() -> Status {
    SQLite::Transaction snapshot(*db_);
    require_run(*db_, run_id);
    const std::int64_t run = to_db(run_id);
    {
      SQLite::Statement pruned(*db_, "SELECT pruned_unix_ms, keep_raw_ms FROM telemetry_pruned WHERE run_id = ?1");
      pruned.bind(1, run);
      if (pruned.executeStep()) {
        fail(ErrorCode::not_found,
             "the raw telemetry of run {} was pruned on {} (kilnd --keep-raw {}); its roll-ups, verdicts and "
             "failures are kept",
             run_id, format_iso8601(pruned.getColumn(0).getInt64()),
             format_duration(Seconds(static_cast<double>(pruned.getColumn(1).getInt64()) / 1000.0)));
      }
    }
    // 0: all (SQLite ids start at 1).
    const std::int64_t only_chip = serial.empty() ? 0 : chip_id(*db_, serial);
    const std::int64_t only_metric = metric.empty() ? 0 : metric_id(*db_, metric);
    std::map<std::int64_t, std::string> names;
    SQLite::Statement all_names(*db_, "SELECT id, name FROM metric_names");
    while (all_names.executeStep()) names[all_names.getColumn(0).getInt64()] = all_names.getColumn(1).getString();

    // Every chip-step with telemetry, sealed or open, in the order rows are streamed.
    SQLite::Statement chip_steps(*db_,
                                 "SELECT c.serial, k.chip_id, k.step_index FROM "
                                 "(SELECT chip_id, step_index FROM telemetry_chunks WHERE run_id = ?1 UNION "
                                 "SELECT chip_id, step_index FROM telemetry_open WHERE run_id = ?1) k "
                                 "JOIN chips c ON c.id = k.chip_id WHERE ?2 = 0 OR k.chip_id = ?2 "
                                 "ORDER BY c.serial, k.step_index");
    chip_steps.bind(1, run);
    chip_steps.bind(2, only_chip);
    SQLite::Statement chunks(*db_,
                             "SELECT id, data, first_t_s, last_t_s FROM telemetry_chunks WHERE run_id = ?1 AND "
                             "chip_id = ?2 AND step_index = ?3 ORDER BY seq");
    SQLite::Statement open(*db_,
                           "SELECT metric_id, t_s, wall_unix_ms, value FROM telemetry_open WHERE run_id = ?1 AND "
                           "chip_id = ?2 AND step_index = ?3 AND (?4 = 0 OR metric_id = ?4)");
    std::vector<Value> values;
    TelemetryRow out;
    while (chip_steps.executeStep()) {
      const std::int64_t chip = chip_steps.getColumn(1).getInt64();
      const std::int64_t step = chip_steps.getColumn(2).getInt64();
      values.clear();
      // This step's windows; none asked for it: skip it.
      std::vector<TelemetryWindow> in_step;
      for (const auto& w : windows) {
        if (static_cast<std::int64_t>(w.step_index) == step) in_step.push_back(w);
      }
      if (!windows.empty() && in_step.empty()) continue;
      const auto wanted = [&](double from, double to) {
        if (windows.empty()) return true;
        return std::any_of(in_step.begin(), in_step.end(),
                           [&](const TelemetryWindow& w) { return from <= w.to_t_s && to >= w.from_t_s; });
      };
      const auto name_of = [&](std::int64_t id) -> const std::string* {
        const auto found = names.find(id);
        if (found == names.end()) fail(ErrorCode::parse, "telemetry of an unknown metric id {}", id);
        return &found->second;
      };
      chunks.reset();
      chunks.bind(1, run);
      chunks.bind(2, chip);
      chunks.bind(3, step);
      while (chunks.executeStep()) {
        // Stored times are to the microsecond: half of one either side.
        if (!wanted(chunks.getColumn(2).getDouble() - 1e-6, chunks.getColumn(3).getDouble() + 1e-6)) continue;
        const SQLite::Column data = chunks.getColumn(1);
        auto series = chunk::decode(
            std::string_view(static_cast<const char*>(data.getBlob()), static_cast<std::size_t>(data.getBytes())));
        if (!series) {
          fail(ErrorCode::parse, "telemetry chunk {}: {}", chunks.getColumn(0).getInt64(), series.error().message);
        }
        for (const chunk::Series& s : *series) {
          if (only_metric != 0 && s.metric_id != only_metric) continue;
          const std::string* name = name_of(s.metric_id);
          for (const chunk::Point& p : s.points) {
            values.push_back({static_cast<double>(p.t_us) / 1e6, name, p.wall_unix_ms, p.value});
          }
        }
      }
      open.reset();
      open.bind(1, run);
      open.bind(2, chip);
      open.bind(3, step);
      open.bind(4, only_metric);
      while (open.executeStep()) {
        values.push_back({open.getColumn(1).getDouble(), name_of(open.getColumn(0).getInt64()),
                          open.getColumn(2).getInt64(), real_or_nan(open.getColumn(3))});
      }
      if (!windows.empty()) {
        std::erase_if(values, [&](const Value& v) { return !wanted(v.t_s, v.t_s); });
      }
      std::stable_sort(values.begin(), values.end(), [](const Value& a, const Value& b) {
        return std::tie(a.t_s, *a.metric) < std::tie(b.t_s, *b.metric);
      });
      // A value sent twice (an agent that reran a step after a restart sends
      // its times again, in chunks stored as they came) is shown once: the
      // first stored, as the row-per-value table's key kept it.
      values.erase(std::unique(values.begin(), values.end(),
                               [](const Value& a, const Value& b) { return a.t_s == b.t_s && a.metric == b.metric; }),
                   values.end());
      out.serial = chip_steps.getColumn(0).getString();
      out.step_index = static_cast<std::uint32_t>(step);
      for (const Value& v : values) {
        out.t_s = v.t_s;
        out.wall_unix_ms = v.wall_unix_ms;
        out.metric = *v.metric;
        out.value = v.value;
        row(out);
      }
    }
    return {};
  });
}

Result<std::vector<RollupRow>> Reader::rollups(std::uint64_t run_id, const std::string& serial,
                                               const std::string& metric, std::uint32_t step_index) {
  return detail::guarded("rollups", [&]() -> Result<std::vector<RollupRow>> {
    SQLite::Transaction snapshot(*db_);
    require_run(*db_, run_id);
    const std::int64_t chip = chip_id(*db_, serial);
    const std::int64_t metric_key = metric_id(*db_, metric);
    std::vector<RollupRow> rows;
    const auto read = [&](const char* sql, bool sealed) {
      SQLite::Statement q(*db_, sql);
      q.bind(1, to_db(run_id));
      q.bind(2, chip);
      q.bind(3, metric_key);
      q.bind(4, step_index);
      while (q.executeStep()) {
        if (q.getColumn(0).isNull()) continue;  // no open values
        RollupRow r;
        r.first_t_s = q.getColumn(0).getDouble();
        r.last_t_s = q.getColumn(1).getDouble();
        r.count = static_cast<std::uint64_t>(q.getColumn(2).getInt64());
        r.min = real_or_nan(q.getColumn(3));
        r.avg = real_or_nan(q.getColumn(4));
        r.max = real_or_nan(q.getColumn(5));
        r.sealed = sealed;
        rows.push_back(r);
      }
    };
    read(
        "SELECT first_t_s, last_t_s, count, min, avg, max FROM telemetry_rollups WHERE run_id = ?1 AND "
        "chip_id = ?2 AND metric_id = ?3 AND step_index = ?4 ORDER BY first_t_s, seq",
        true);
    read(
        "SELECT min(t_s), max(t_s), count(value), min(value), avg(value), max(value) FROM telemetry_open "
        "WHERE run_id = ?1 AND chip_id = ?2 AND metric_id = ?3 AND step_index = ?4",
        false);
    return rows;
  });
}

Result<std::vector<ChipRollupRow>> Reader::chip_rollups(std::uint64_t run_id, const std::string& serial) {
  return detail::guarded("chip_rollups", [&]() -> Result<std::vector<ChipRollupRow>> {
    SQLite::Transaction snapshot(*db_);
    require_run(*db_, run_id);
    const std::int64_t chip = chip_id(*db_, serial);
    std::vector<ChipRollupRow> rows;
    const auto read = [&](const char* sql, bool sealed) {
      SQLite::Statement q(*db_, sql);
      q.bind(1, to_db(run_id));
      q.bind(2, chip);
      while (q.executeStep()) {
        if (q.getColumn(2).isNull()) continue;  // no open values
        ChipRollupRow row;
        row.step_index = static_cast<std::uint32_t>(q.getColumn(0).getInt64());
        row.metric = q.getColumn(1).getString();
        RollupRow& r = row.rollup;
        r.first_t_s = q.getColumn(2).getDouble();
        r.last_t_s = q.getColumn(3).getDouble();
        r.count = static_cast<std::uint64_t>(q.getColumn(4).getInt64());
        r.min = real_or_nan(q.getColumn(5));
        r.avg = real_or_nan(q.getColumn(6));
        r.max = real_or_nan(q.getColumn(7));
        r.sealed = sealed;
        rows.push_back(std::move(row));
      }
    };
    read(
        "SELECT r.step_index, m.name, r.first_t_s, r.last_t_s, r.count, r.min, r.avg, r.max FROM telemetry_rollups r "
        "JOIN metric_names m ON m.id = r.metric_id WHERE r.run_id = ?1 AND r.chip_id = ?2 "
        "ORDER BY r.step_index, m.name, r.first_t_s, r.seq",
        true);
    read(
        "SELECT o.step_index, m.name, min(o.t_s), max(o.t_s), count(o.value), min(o.value), avg(o.value), "
        "max(o.value) FROM telemetry_open o JOIN metric_names m ON m.id = o.metric_id WHERE o.run_id = ?1 AND "
        "o.chip_id = ?2 GROUP BY o.step_index, o.metric_id",
        false);
    // Each chip-step-metric's open values after its chunks (a stable sort keeps the chunks' time order).
    std::stable_sort(rows.begin(), rows.end(), [](const ChipRollupRow& a, const ChipRollupRow& b) {
      return std::tie(a.step_index, a.metric, b.rollup.sealed) < std::tie(b.step_index, b.metric, a.rollup.sealed);
    });
    return rows;
  });
}

}  // namespace kiln::store
