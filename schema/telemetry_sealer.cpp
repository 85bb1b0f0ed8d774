// Sealing open telemetry into compressed chunks (schema/telemetry_sealer.hpp).

#include "schema/telemetry_sealer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "metrics/catalog.hpp"
#include "schema/store_internal.hpp"

namespace kiln::store {

using detail::execute;
using detail::query_int64;
using detail::real_or_nan;
using detail::ResetOnExit;

namespace {

std::int64_t to_us(double t_s) { return std::llround(t_s * 1e6); }

}  // namespace

// The metric's stored precision as a chunk scale; 0 (exact) for a name the
// catalog does not know.
std::uint32_t TelemetrySealer::scale_of(const std::string& name) {
  const metrics::MetricRef ref = metrics::MetricCatalog::builtin().resolve(name);
  return ref.def == nullptr ? 0 : chunk::scale_for_precision(ref.def->precision);
}

namespace {

void bind_key(SQLite::Statement& statement, std::int64_t run, std::int64_t chip, std::int64_t step) {
  statement.bind(1, run);
  statement.bind(2, chip);
  statement.bind(3, step);
}

}  // namespace

TelemetrySealer::TelemetrySealer(SQLite::Database& db)
    : db_(db),
      select_open_(db,
                   "SELECT metric_id, t_s, wall_unix_ms, value FROM telemetry_open "
                   "WHERE run_id = ?1 AND chip_id = ?2 AND step_index = ?3 ORDER BY metric_id, t_s"),
      delete_open_(db, "DELETE FROM telemetry_open WHERE run_id = ?1 AND chip_id = ?2 AND step_index = ?3"),
      next_seq_(db,
                "SELECT coalesce(max(seq) + 1, 0) FROM telemetry_chunks "
                "WHERE run_id = ?1 AND chip_id = ?2 AND step_index = ?3"),
      insert_chunk_(db,
                    "INSERT INTO telemetry_chunks (run_id, chip_id, step_index, seq, first_t_s, last_t_s, samples, "
                    "sealed_unix_ms, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
      insert_rollups_(db,
                      "telemetry_rollups (run_id, chip_id, metric_id, step_index, seq, first_t_s, last_t_s, count, "
                      "min, avg, max)",
                      11),
      sealed_until_(
          db, "SELECT max(last_t_s) FROM telemetry_chunks WHERE run_id = ?1 AND chip_id = ?2 AND step_index = ?3"),
      chunks_covering_(db,
                       "SELECT id, data FROM telemetry_chunks WHERE run_id = ?1 AND chip_id = ?2 AND step_index = ?3 "
                       "AND first_t_s <= ?4 + 1e-6 AND last_t_s >= ?4 - 1e-6"),
      list_chunks_(
          db,
          "SELECT id, seq, samples FROM telemetry_chunks WHERE run_id = ?1 AND chip_id = ?2 AND step_index = ?3 "
          "ORDER BY seq"),
      chunk_data_(db, "SELECT data FROM telemetry_chunks WHERE id = ?1"),
      next_rollup_seq_(db,
                       "SELECT coalesce(max(seq) + 1, 0) FROM telemetry_rollups "
                       "WHERE run_id = ?1 AND chip_id = ?2 AND step_index = ?3"),
      run_pruned_(db, "SELECT 1 FROM telemetry_pruned WHERE run_id = ?1"),
      delete_chunk_(db, "DELETE FROM telemetry_chunks WHERE id = ?1"),
      delete_rollup_(db,
                     "DELETE FROM telemetry_rollups WHERE run_id = ?1 AND chip_id = ?2 AND step_index = ?3 "
                     "AND metric_id = ?4 AND seq = ?5") {}

void TelemetrySealer::forget() {
  open_values_.clear();
  small_values_.clear();
  sealed_until_of_.clear();
  decoded_.clear();
}

void TelemetrySealer::forget_run(std::int64_t run) {
  std::erase_if(open_values_, [&](const auto& entry) { return std::get<0>(entry.first) == run; });
  std::erase_if(small_values_, [&](const auto& entry) { return std::get<0>(entry.first) == run; });
  std::erase_if(sealed_until_of_, [&](const auto& entry) { return std::get<0>(entry.first) == run; });
  decoded_.clear();
}

void TelemetrySealer::added(std::int64_t run, std::int64_t chip, std::int64_t step, int values) {
  open_values_[{run, chip, step}] += values;
}

void TelemetrySealer::seal_full(std::int64_t now_unix_ms) {
  decoded_.clear();  // chunks decoded for this batch's resends; the next batch reads afresh
  std::vector<Key> full;
  for (const auto& [key, values] : open_values_) {
    if (values >= kSealValues) full.push_back(key);
  }
  for (const auto& [run, chip, step] : full) seal(run, chip, step, now_unix_ms);
  full.clear();
  for (const auto& [key, values] : small_values_) {
    if (values >= static_cast<std::uint64_t>(kSealValues)) full.push_back(key);
  }
  for (const auto& [run, chip, step] : full) merge_small(run, chip, step, now_unix_ms);
}

bool TelemetrySealer::already_sealed(std::int64_t run, std::int64_t chip, std::int64_t step, std::int64_t metric,
                                     double t_s) {
  auto [until, inserted] = sealed_until_of_.try_emplace({run, chip, step});
  if (inserted) {
    ResetOnExit reset(sealed_until_);
    bind_key(sealed_until_, run, chip, step);
    if (sealed_until_.executeStep() && !sealed_until_.getColumn(0).isNull()) {
      until->second = sealed_until_.getColumn(0).getDouble();
    }
  }
  // The usual case: newer than anything sealed (compared in µs, as chunks keep times).
  if (!until->second || to_us(t_s) > to_us(*until->second)) return false;
  const std::int64_t t_us = to_us(t_s);
  ResetOnExit reset(chunks_covering_);
  bind_key(chunks_covering_, run, chip, step);
  chunks_covering_.bind(4, t_s);
  while (chunks_covering_.executeStep()) {
    const chunk::Series* series =
        sealed_series(chunks_covering_.getColumn(0).getInt64(), metric, chunks_covering_.getColumn(1).getString());
    if (series == nullptr) continue;
    const auto at = std::lower_bound(series->points.begin(), series->points.end(), t_us,
                                     [](const chunk::Point& p, std::int64_t t) { return p.t_us < t; });
    if (at != series->points.end() && at->t_us == t_us) return true;
  }
  return false;
}

const chunk::Series* TelemetrySealer::sealed_series(std::int64_t chunk_id, std::int64_t metric,
                                                    const std::string& data) {
  auto found = decoded_.find(chunk_id);
  if (found == decoded_.end()) {
    Result<std::vector<chunk::Series>> series = chunk::decode(data);
    if (!series) detail::fail(ErrorCode::parse, "telemetry chunk {}: {}", chunk_id, series.error().message);
    found = decoded_.emplace(chunk_id, std::move(*series)).first;
  }
  for (const chunk::Series& series : found->second) {
    if (series.metric_id == metric) return &series;
  }
  return nullptr;
}

void TelemetrySealer::seal(std::int64_t run, std::int64_t chip, std::int64_t step, std::int64_t now_unix_ms) {
  merge_small(run, chip, step, now_unix_ms);
  open_values_.erase({run, chip, step});
  std::vector<chunk::Series> series;
  std::int64_t samples = 0;
  {
    ResetOnExit reset(select_open_);
    bind_key(select_open_, run, chip, step);
    while (select_open_.executeStep()) {
      const std::int64_t metric = select_open_.getColumn(0).getInt64();
      const double t_s = select_open_.getColumn(1).getDouble();
      if (series.empty() || series.back().metric_id != metric) {
        series.push_back(chunk::Series{static_cast<std::uint32_t>(metric), 0, {}});
      }
      series.back().points.push_back(
          {to_us(t_s), select_open_.getColumn(2).getInt64(), real_or_nan(select_open_.getColumn(3))});
      ++samples;
    }
  }
  if (samples == 0) return;
  SQLite::Statement name_of(db_, "SELECT name FROM metric_names WHERE id = ?1");
  for (chunk::Series& s : series) {
    name_of.bind(1, static_cast<std::int64_t>(s.metric_id));
    if (name_of.executeStep()) s.scale = scale_of(name_of.getColumn(0).getString());
    name_of.reset();
    for (chunk::Point& p : s.points) p.value = chunk::quantised(p.value, s.scale);
  }
  std::vector<chunk::SeriesSummary> summaries;
  summaries.reserve(series.size());
  for (const chunk::Series& s : series) summaries.push_back(chunk::summary_of(s));
  store_chunk(run, chip, step, chunk::encode(series), summaries, now_unix_ms);
  bind_key(delete_open_, run, chip, step);
  execute(delete_open_);
}

void TelemetrySealer::store_chunk(std::int64_t run, std::int64_t chip, std::int64_t step, const std::string& data,
                                  const std::vector<chunk::SeriesSummary>& summaries, std::int64_t now_unix_ms,
                                  std::optional<std::int64_t> at_seq) {
  double first_t = std::numeric_limits<double>::infinity(), last_t = -first_t;
  std::int64_t samples = 0;
  for (const chunk::SeriesSummary& s : summaries) {
    if (s.points == 0) continue;
    samples += static_cast<std::int64_t>(s.points);
    first_t = std::min(first_t, s.min_t_us / 1e6);
    last_t = std::max(last_t, s.max_t_us / 1e6);
  }
  if (samples == 0) return;
  std::int64_t seq = 0;
  bool keep_raw = true;
  if (at_seq) {
    seq = *at_seq;
  } else {
    bind_key(next_seq_, run, chip, step);
    seq = query_int64(next_seq_).value_or(0);
    if (seq == 0) {
      // The chip-step's first chunk, or its run's raw telemetry was pruned
      // and late telemetry came (an agent back after weeks, its spool
      // resent): the roll-ups kept forever hold seqs the chunks no longer
      // show, and past retention only the roll-ups are kept.
      bind_key(next_rollup_seq_, run, chip, step);
      seq = query_int64(next_rollup_seq_).value_or(0);
      run_pruned_.bind(1, run);
      keep_raw = !query_int64(run_pruned_).has_value();
    }
  }
  if (keep_raw) {
    bind_key(insert_chunk_, run, chip, step);
    insert_chunk_.bind(4, seq);
    insert_chunk_.bind(5, first_t);
    insert_chunk_.bind(6, last_t);
    insert_chunk_.bind(7, samples);
    insert_chunk_.bind(8, now_unix_ms);
    insert_chunk_.bind(9, data.data(), static_cast<int>(data.size()));
    execute(insert_chunk_);
  }

  std::vector<const chunk::SeriesSummary*> rollups;
  rollups.reserve(summaries.size());
  for (const chunk::SeriesSummary& s : summaries) {
    if (s.points > 0) rollups.push_back(&s);
  }
  insert_rollups_.insert(rollups.size(), [&](SQLite::Statement& insert, int at, std::size_t row) {
    const chunk::SeriesSummary& s = *rollups[row];
    const chunk::SeriesStats& st = s.stats;
    insert.bind(at + 1, run);
    insert.bind(at + 2, chip);
    insert.bind(at + 3, static_cast<std::int64_t>(s.metric_id));
    insert.bind(at + 4, step);
    insert.bind(at + 5, seq);
    insert.bind(at + 6, st.first_t_us / 1e6);
    insert.bind(at + 7, st.last_t_us / 1e6);
    insert.bind(at + 8, static_cast<std::int64_t>(st.count));
    if (st.count > 0) {
      insert.bind(at + 9, st.min);
      insert.bind(at + 10, st.sum / static_cast<double>(st.count));
      insert.bind(at + 11, st.max);
    } else {
      for (int k = 9; k <= 11; ++k) insert.bind(at + k);
    }
  });
  auto& until = sealed_until_of_[{run, chip, step}];
  until = std::max(until.value_or(last_t), last_t);
}

void TelemetrySealer::seal_run(std::int64_t run, std::int64_t now_unix_ms) {
  std::vector<std::pair<std::int64_t, std::int64_t>> open;
  SQLite::Statement list(db_, "SELECT DISTINCT chip_id, step_index FROM telemetry_open WHERE run_id = ?1");
  list.bind(1, run);
  while (list.executeStep()) open.emplace_back(list.getColumn(0).getInt64(), list.getColumn(1).getInt64());
  for (const auto& [chip, step] : open) seal(run, chip, step, now_unix_ms);
  for (const auto& [r, chip, step] : with_small_chunks(run)) merge_small(r, chip, step, now_unix_ms);
  // The run is over: what is cached about its chip-steps is not needed again.
  std::erase_if(sealed_until_of_, [&](const auto& entry) { return std::get<0>(entry.first) == run; });
}

int TelemetrySealer::seal_all(std::int64_t now_unix_ms) {
  std::vector<Key> open;
  SQLite::Statement list(db_, "SELECT DISTINCT run_id, chip_id, step_index FROM telemetry_open");
  while (list.executeStep()) {
    open.emplace_back(list.getColumn(0).getInt64(), list.getColumn(1).getInt64(), list.getColumn(2).getInt64());
  }
  for (const auto& [run, chip, step] : open) seal(run, chip, step, now_unix_ms);
  // Small chunks a stopped kilnd left unmerged (their steps may have ended).
  const std::vector<Key> small = with_small_chunks(std::nullopt);
  for (const auto& [run, chip, step] : small) merge_small(run, chip, step, now_unix_ms);
  return static_cast<int>(open.size());
}

void TelemetrySealer::store_small_chunk(std::int64_t run, std::int64_t chip, std::int64_t step, const std::string& data,
                                        const std::vector<chunk::SeriesSummary>& summaries, std::int64_t now_unix_ms) {
  store_chunk(run, chip, step, data, summaries, now_unix_ms);
  std::uint64_t values = 0;
  for (const chunk::SeriesSummary& s : summaries) values += s.points;
  small_values_[{run, chip, step}] += values;
}

std::vector<TelemetrySealer::Key> TelemetrySealer::with_small_chunks(std::optional<std::int64_t> run) {
  // One run: its rows by the (run, chip, step, seq) index; every run: a scan (at start-up only).
  SQLite::Statement list(db_, run ? "SELECT run_id, chip_id, step_index FROM telemetry_chunks WHERE run_id = ?1 "
                                    "AND samples < ?2 GROUP BY chip_id, step_index HAVING count(*) > 1"
                                  : "SELECT run_id, chip_id, step_index FROM telemetry_chunks WHERE samples < ?2 "
                                    "GROUP BY run_id, chip_id, step_index HAVING count(*) > 1");
  if (run) list.bind(1, *run);
  list.bind(2, static_cast<std::int64_t>(kSmallChunkValues));
  std::vector<Key> out;
  while (list.executeStep()) {
    out.emplace_back(list.getColumn(0).getInt64(), list.getColumn(1).getInt64(), list.getColumn(2).getInt64());
  }
  return out;
}

void TelemetrySealer::merge_small(std::int64_t run, std::int64_t chip, std::int64_t step, std::int64_t now_unix_ms) {
  small_values_.erase({run, chip, step});
  // Runs of consecutive small chunks (a full-size chunk between two ends a
  // run, so a merged chunk's span and roll-ups never overlap another's),
  // each cut at kMaxMergedValues values.
  std::vector<std::vector<ChunkRow>> groups(1);
  std::uint64_t in_group = 0;
  {
    ResetOnExit reset(list_chunks_);
    bind_key(list_chunks_, run, chip, step);
    while (list_chunks_.executeStep()) {
      const ChunkRow row{list_chunks_.getColumn(0).getInt64(), list_chunks_.getColumn(1).getInt64(),
                         static_cast<std::uint64_t>(list_chunks_.getColumn(2).getInt64())};
      if (row.samples >= kSmallChunkValues || in_group + row.samples > kMaxMergedValues) {
        if (!groups.back().empty()) groups.emplace_back();
        in_group = 0;
        if (row.samples >= kSmallChunkValues) continue;
      }
      groups.back().push_back(row);
      in_group += row.samples;
    }
  }
  for (const auto& group : groups) {
    if (group.size() >= 2) merge_group(run, chip, step, group, now_unix_ms);
  }
}

void TelemetrySealer::merge_group(std::int64_t run, std::int64_t chip, std::int64_t step,
                                  const std::vector<ChunkRow>& group, std::int64_t now_unix_ms) {
  std::map<std::uint32_t, chunk::Series> by_metric;  // the store's metric id -> its values, in seq order
  std::vector<std::vector<std::uint32_t>> metrics_of(group.size());
  for (std::size_t i = 0; i < group.size(); ++i) {
    ResetOnExit reset(chunk_data_);
    chunk_data_.bind(1, group[i].id);
    if (!chunk_data_.executeStep()) detail::fail(ErrorCode::internal, "telemetry chunk {} vanished", group[i].id);
    const SQLite::Column data = chunk_data_.getColumn(0);
    Result<std::vector<chunk::Series>> series = chunk::decode(
        std::string_view(static_cast<const char*>(data.getBlob()), static_cast<std::size_t>(data.getBytes())));
    if (!series) detail::fail(ErrorCode::parse, "telemetry chunk {}: {}", group[i].id, series.error().message);
    for (chunk::Series& one : *series) {
      metrics_of[i].push_back(one.metric_id);
      chunk::Series& into =
          by_metric.try_emplace(one.metric_id, chunk::Series{one.metric_id, one.scale, {}}).first->second;
      // Kept at its grid only if every chunk kept it there: a chunk kept
      // exact (values off the grid) must not be rounded by the merge.
      if (into.scale != one.scale) into.scale = 0;
      into.points.insert(into.points.end(), one.points.begin(), one.points.end());
    }
  }
  std::vector<chunk::Series> series;
  std::vector<chunk::SeriesSummary> summaries;
  for (auto& [metric, one] : by_metric) {
    // In time order (the chunks are, one after another), and a value sent
    // twice (a spool resent under a new epoch) once: the first stored, as
    // the reader shows it.
    std::stable_sort(one.points.begin(), one.points.end(),
                     [](const chunk::Point& a, const chunk::Point& b) { return a.t_us < b.t_us; });
    one.points.erase(std::unique(one.points.begin(), one.points.end(),
                                 [](const chunk::Point& a, const chunk::Point& b) { return a.t_us == b.t_us; }),
                     one.points.end());
    summaries.push_back(chunk::summary_of(one));
    series.push_back(std::move(one));
  }
  for (std::size_t i = 0; i < group.size(); ++i) {
    for (const std::uint32_t metric : metrics_of[i]) {
      bind_key(delete_rollup_, run, chip, step);
      delete_rollup_.bind(4, static_cast<std::int64_t>(metric));
      delete_rollup_.bind(5, group[i].seq);
      execute(delete_rollup_);
    }
    delete_chunk_.bind(1, group[i].id);
    execute(delete_chunk_);
  }
  // In the place of the group's first chunk: the chip-step's chunks stay in
  // the order they were stored (its roll-ups' seq is free now, every metric's).
  store_chunk(run, chip, step, chunk::encode(series), summaries, now_unix_ms, group.front().seq);
}

}  // namespace kiln::store
