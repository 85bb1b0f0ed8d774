// Agent batch ingest: the hot path (thousands of telemetry values per batch,
// one cached statement per row kind, ids interned in memory).

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "metrics/catalog.hpp"
#include "schema/enums.hpp"
#include "schema/store.hpp"
#include "schema/store_internal.hpp"
#include "schema/store_writer_statements.hpp"
#include "schema/telemetry_chunk.hpp"
#include "schema/telemetry_sealer.hpp"

namespace kiln::store {

using detail::execute;
using detail::fail;
using detail::to_db;

namespace {

std::string conditions_json(const kiln::v1::Conditions& conditions) {
  // Only what the agent knew: an absent condition is not 0.
  nlohmann::json json = nlohmann::json::object();
  if (conditions.has_temperature_c()) json[metrics::kTemperatureC.str()] = conditions.temperature_c();
  if (conditions.has_power_w()) json[metrics::kPowerW.str()] = conditions.power_w();
  if (conditions.has_clock_mhz()) json[metrics::kClockMhz.str()] = conditions.clock_mhz();
  if (conditions.has_voltage_mv()) json[metrics::kVoltageMv.str()] = conditions.voltage_mv();
  return json.dump();
}

const char* outcome_name(int outcome) {
  switch (outcome) {
    case kiln::v1::SHMOO_PASS: return "pass";
    case kiln::v1::SHMOO_FAIL: return "fail";
    case kiln::v1::SHMOO_REFUSED: return "refused";
    default: return "not_run";
  }
}

std::string location_json(const google::protobuf::Map<std::string, std::int64_t>& location) {
  nlohmann::json json = nlohmann::json::object();  // keys sorted: protobuf map order is unspecified
  for (const auto& [key, value] : location) json[key] = value;
  return json.dump();
}

// Everything that would make the batch unstorable is found before anything
// is written, so the error names the real problem.
// require_step throws when the run or step does not exist, require_owner
// when the chip is not the batch's rack's in that run.
void validate(const kiln::v1::AgentBatch& batch,
              const std::function<void(std::uint64_t run_id, std::uint32_t step_index)>& require_step,
              const std::function<void(std::uint64_t run_id, const std::string& serial)>& require_owner) {
  for (const kiln::v1::Sample& sample : batch.samples()) {
    if (sample.serial().empty()) fail(ErrorCode::invalid_argument, "a sample without a serial");
    if (!std::isfinite(sample.t_s())) {
      fail(ErrorCode::invalid_argument, "sample of {} has t_s {}", sample.serial(), sample.t_s());
    }
    for (const kiln::v1::MetricValue& value : sample.values()) {
      if (value.name().empty()) {
        fail(ErrorCode::invalid_argument, "sample of {}: a value without a name", sample.serial());
      }
    }
    require_step(sample.run_id(), sample.step_index());
  }
  for (const kiln::v1::ChipStepResult& result : batch.results()) {
    if (result.serial().empty()) fail(ErrorCode::invalid_argument, "a step result without a serial");
    for (const auto& [name, summary] : result.metrics()) {
      if (name.empty()) {
        fail(ErrorCode::invalid_argument, "step result of {}: a metric without a name", result.serial());
      }
    }
    const auto& shmoo = result.shmoo();
    const auto points =
        static_cast<std::size_t>(shmoo.voltages_mv_size()) * static_cast<std::size_t>(shmoo.clocks_mhz_size());
    if (static_cast<std::size_t>(shmoo.outcomes_size()) != points) {
      fail(ErrorCode::invalid_argument, "step result of {}: a shmoo map of {} × {} points with {} outcomes",
           result.serial(), shmoo.voltages_mv_size(), shmoo.clocks_mhz_size(), shmoo.outcomes_size());
    }
    require_step(result.run_id(), result.step_index());
  }
  for (const kiln::v1::TelemetryChunk& c : batch.chunks()) require_step(c.run_id(), c.step_index());
  // Then whose chips they are: a batch naming a run that does not exist is
  // reported as that, not as a chip of no run.
  for (const kiln::v1::Sample& sample : batch.samples()) require_owner(sample.run_id(), sample.serial());
  for (const kiln::v1::TelemetryChunk& c : batch.chunks()) require_owner(c.run_id(), c.serial());
  for (const kiln::v1::ChipStepResult& result : batch.results()) require_owner(result.run_id(), result.serial());
}

// A chunk's values at most (the frame cap bounds its bytes already; this
// bounds what decoding it may allocate: 24 bytes a point).
constexpr std::uint32_t kMaxChunkValues = 1u << 20;

// Summarises an agent's chunk and checks everything the store relies on;
// the summaries keep the chunk's own metric ids (indices into c.metrics()).
std::vector<chunk::SeriesSummary> check_chunk(const kiln::v1::TelemetryChunk& c) {
  if (c.serial().empty()) fail(ErrorCode::invalid_argument, "a telemetry chunk without a serial");
  if (c.metrics().empty() || static_cast<std::size_t>(c.metrics_size()) > chunk::kMaxSeries) {
    fail(ErrorCode::invalid_argument, "telemetry chunk of {}: {} metric names (1 to {})", c.serial(), c.metrics_size(),
         chunk::kMaxSeries);
  }
  if (c.values() == 0 || c.values() > kMaxChunkValues) {
    fail(ErrorCode::invalid_argument, "telemetry chunk of {}: {} values (1 to {})", c.serial(), c.values(),
         kMaxChunkValues);
  }
  std::set<std::string_view> names;
  for (const std::string& name : c.metrics()) {
    if (name.empty() || !names.insert(name).second) {
      fail(ErrorCode::invalid_argument, "telemetry chunk of {}: metric name '{}' empty or twice", c.serial(), name);
    }
  }
  // An agent encodes version 1 (its own metric ids); the store adds the map.
  if (c.data().compare(0, 4, std::string_view("KTC\x01", 4)) != 0) {
    fail(ErrorCode::invalid_argument, "telemetry chunk of {}: not a version-1 chunk", c.serial());
  }
  // A hostile chunk could claim a huge raw size: summarise() caps it.
  Result<std::vector<chunk::SeriesSummary>> summaries = chunk::summarise(c.data());
  if (!summaries) fail(ErrorCode::invalid_argument, "telemetry chunk of {}: {}", c.serial(), summaries.error().message);
  std::uint64_t values = 0;
  std::set<std::uint32_t> seen;
  for (const chunk::SeriesSummary& series : *summaries) {
    if (series.metric_id >= static_cast<std::uint32_t>(c.metrics_size()) || !seen.insert(series.metric_id).second) {
      fail(ErrorCode::invalid_argument, "telemetry chunk of {}: series of metric {} outside its {} names or twice",
           c.serial(), series.metric_id, c.metrics_size());
    }
    const std::string& name = c.metrics(static_cast<int>(series.metric_id));
    if (series.scale != 0 && series.scale != TelemetrySealer::scale_of(name)) {
      fail(ErrorCode::invalid_argument, "telemetry chunk of {}: {} kept at 1/{}, not at its catalog precision",
           c.serial(), name, series.scale);
    }
    values += series.points;
  }
  if (values != c.values()) {
    fail(ErrorCode::invalid_argument, "telemetry chunk of {}: {} values, {} declared", c.serial(), values, c.values());
  }
  return std::move(*summaries);
}

ChunkDigest digest_of(const kiln::v1::TelemetryChunk& c, const std::vector<chunk::SeriesSummary>& summaries) {
  ChunkDigest out;
  out.serial = c.serial();
  out.run_id = c.run_id();
  out.step_index = c.step_index();
  std::int64_t last_t_us = 0;
  for (const chunk::SeriesSummary& s : summaries) {
    out.samples = std::max<std::uint64_t>(out.samples, s.points);
    ChunkDigest::Metric m{c.metrics(static_cast<int>(s.metric_id)), s.stats};
    if (s.points > 0 && (out.metrics.empty() || m.stats.last_t_us >= last_t_us)) {
      last_t_us = m.stats.last_t_us;
      out.last_wall_unix_ms = m.stats.last_wall_unix_ms;
    }
    out.metrics.push_back(std::move(m));
  }
  out.last_t_s = static_cast<double>(last_t_us) / 1e6;
  return out;
}

}  // namespace

Result<CheckedChunks> check_chunks(const kiln::v1::AgentBatch& batch) {
  CheckedChunks checked;
  checked.reserve(static_cast<std::size_t>(batch.chunks_size()));
  try {
    for (const kiln::v1::TelemetryChunk& c : batch.chunks()) checked.push_back(check_chunk(c));
  } catch (const detail::OpError& e) {
    return e.error;
  } catch (const std::exception& e) {
    // It runs on a thread of its own in kilnd: an error, never a crash.
    return detail::to_error("ingest_batch", e);
  }
  return checked;
}

Result<bool> Writer::ingest_batch(const kiln::v1::AgentBatch& batch, std::vector<ChunkDigest>* digests,
                                  const Result<CheckedChunks>* prechecked) {
  bool fresh = false;
  if (digests != nullptr) digests->clear();
  const Status stored = atomically("ingest_batch", [&] {
    Statements& s = *stmts_;
    if (batch.rack().empty()) fail(ErrorCode::invalid_argument, "a batch without a rack");
    s.claim_batch.bind(1, batch.rack());
    s.claim_batch.bind(2, to_db(batch.epoch()));
    s.claim_batch.bind(3, to_db(batch.seq()));
    if (execute(s.claim_batch) == 0) return;  // seen before: the savepoint/transaction holds nothing
    fresh = true;
    std::set<std::pair<std::uint64_t, std::uint32_t>> known_steps;  // a batch names few steps; look each up once
    std::set<std::pair<std::uint64_t, std::string>> owned;          // likewise each chip's owner
    validate(
        batch,
        [&](std::uint64_t run_id, std::uint32_t step_index) {
          if (known_steps.emplace(run_id, step_index).second) s.require_step(run_id, step_index);
        },
        [&](std::uint64_t run_id, const std::string& serial) {
          if (owned.emplace(run_id, serial).second) s.require_owner(run_id, serial, batch.rack());
        });

    CheckedChunks checked;
    if (prechecked == nullptr) {
      checked.reserve(static_cast<std::size_t>(batch.chunks_size()));
      for (const kiln::v1::TelemetryChunk& c : batch.chunks()) checked.push_back(check_chunk(c));
    } else if (!*prechecked) {
      throw detail::OpError{prechecked->error()};
    } else if (prechecked->value().size() != static_cast<std::size_t>(batch.chunks_size())) {
      fail(ErrorCode::internal, "checked {} chunks of a batch of {}", prechecked->value().size(), batch.chunks_size());
    } else {
      checked = prechecked->value();
    }

    static const std::string kUnknownSku = "unknown";
    // One value into the open buffer; 0 when it is there already or sealed.
    const auto add_open = [&](std::int64_t run_id, std::int64_t chip, std::uint32_t step, std::int64_t metric,
                              double t_s, std::int64_t wall_unix_ms, double value) -> int {
      // A value resent after its chip-step was sealed is already in a chunk.
      if (s.sealer.already_sealed(run_id, chip, step, metric, t_s)) return 0;
      SQLite::Statement& insert = s.insert_telemetry;
      insert.bind(1, run_id);
      insert.bind(2, chip);
      insert.bind(3, metric);
      insert.bind(4, step);
      insert.bind(5, t_s);
      insert.bind(6, wall_unix_ms);
      insert.bind(7, value);
      return execute(insert);
    };
    for (const kiln::v1::Sample& sample : batch.samples()) {
      const std::int64_t seen = sample.wall_unix_ms() > 0 ? sample.wall_unix_ms() : unix_ms_now();
      const std::int64_t chip = s.chip_id(sample.serial(), NewChip{kUnknownSku, batch.rack(), std::nullopt, seen});
      const std::int64_t run_id = to_db(sample.run_id());
      int added = 0;
      for (const kiln::v1::MetricValue& value : sample.values()) {
        added += add_open(run_id, chip, sample.step_index(), s.metric_id(value.name()), sample.t_s(),
                          sample.wall_unix_ms(), value.value());
      }
      s.sealer.added(run_id, chip, sample.step_index(), added);
    }
    for (int i = 0; i < batch.chunks_size(); ++i) {
      const kiln::v1::TelemetryChunk& c = batch.chunks(i);
      std::vector<chunk::SeriesSummary>& summaries = checked[static_cast<std::size_t>(i)];
      if (digests != nullptr) digests->push_back(digest_of(c, summaries));
      const std::int64_t chip = s.chip_id(c.serial(), NewChip{kUnknownSku, batch.rack(), std::nullopt, unix_ms_now()});
      const std::int64_t run_id = to_db(c.run_id());
      std::vector<std::uint32_t> ids;  // the chunk's metric i -> the store's id
      ids.reserve(static_cast<std::size_t>(c.metrics_size()));
      for (const std::string& name : c.metrics()) ids.push_back(static_cast<std::uint32_t>(s.metric_id(name)));
      // Stored as it came, with the map from its ids to the store's.
      Result<std::string> stored = chunk::with_metric_map(c.data(), ids);
      if (!stored) fail(ErrorCode::invalid_argument, "telemetry chunk of {}: {}", c.serial(), stored.error().message);
      for (chunk::SeriesSummary& one : summaries) one.metric_id = ids[one.metric_id];
      if (c.values() >= TelemetrySealer::kSmallChunkValues) {
        s.sealer.store_chunk(run_id, chip, c.step_index(), *stored, summaries, unix_ms_now());
      } else {
        s.sealer.store_small_chunk(run_id, chip, c.step_index(), *stored, summaries, unix_ms_now());
      }
    }
    s.sealer.seal_full(unix_ms_now());

    for (const kiln::v1::ChipStepResult& result : batch.results()) {
      const std::int64_t chip =
          s.chip_id(result.serial(), NewChip{kUnknownSku, batch.rack(), std::nullopt, unix_ms_now()});
      const std::int64_t run_id = to_db(result.run_id());
      s.upsert_chip_step_result.bind(1, run_id);
      s.upsert_chip_step_result.bind(2, result.step_index());
      s.upsert_chip_step_result.bind(3, chip);
      s.upsert_chip_step_result.bind(4, result.completed() ? 1 : 0);
      s.upsert_chip_step_result.bind(5, result.unsupported() ? 1 : 0);
      s.upsert_chip_step_result.bind(6, result.ran_s());
      s.upsert_chip_step_result.bind(7, result.note());
      execute(s.upsert_chip_step_result);

      // A result sent again (a new agent epoch resending its spool) replaces
      // the earlier summary and detections instead of adding to them.
      for (SQLite::Statement* clear : {&s.delete_chip_step_metrics, &s.delete_detections, &s.delete_shmoo_points}) {
        clear->bind(1, run_id);
        clear->bind(2, result.step_index());
        clear->bind(3, chip);
        execute(*clear);
      }
      std::vector<std::pair<const std::string*, const kiln::v1::MetricSummary*>> metrics;
      metrics.reserve(result.metrics().size());
      for (const auto& [name, summary] : result.metrics()) metrics.emplace_back(&name, &summary);
      s.insert_chip_step_metrics.insert(metrics.size(), [&](SQLite::Statement& insert, int at, std::size_t row) {
        const auto& [name, summary] = metrics[row];
        insert.bind(at + 1, run_id);
        insert.bind(at + 2, result.step_index());
        insert.bind(at + 3, chip);
        insert.bind(at + 4, s.metric_id(*name));
        insert.bind(at + 5, summary->min());
        insert.bind(at + 6, summary->avg());
        insert.bind(at + 7, summary->max());
        insert.bind(at + 8, to_db(summary->count()));
      });
      for (const kiln::v1::Detection& detection : result.detections()) {
        SQLite::Statement& insert = s.insert_detection;
        insert.bind(1, run_id);
        insert.bind(2, result.step_index());
        insert.bind(3, chip);
        insert.bind(4, std::string(wire::failure_class_name(detection.cls())));
        insert.bind(5, detection.metric());
        insert.bind(6, to_db(detection.count()));
        insert.bind(7, detection.first_t_s());
        insert.bind(8, detection.last_t_s());
        insert.bind(9, detection.first_wall_unix_ms());
        insert.bind(10, detection.last_wall_unix_ms());
        insert.bind(11, conditions_json(detection.conditions()));
        insert.bind(12, location_json(detection.location()));
        insert.bind(13, detection.detail());
        insert.bind(14, detection.kind() == kiln::v1::DETECTION_KIND_UNSPECIFIED
                            ? std::string()
                            : std::string(wire::to_string(detection.kind())));
        execute(insert);
      }
      // The step ended on this chip: its telemetry is complete.
      s.sealer.seal(run_id, chip, result.step_index(), unix_ms_now());
      const kiln::v1::ShmooResult& shmoo = result.shmoo();
      const int clocks = shmoo.clocks_mhz_size();
      for (int i = 0; i < shmoo.outcomes_size(); ++i) {
        SQLite::Statement& insert = s.insert_shmoo_point;
        insert.bind(1, run_id);
        insert.bind(2, result.step_index());
        insert.bind(3, chip);
        insert.bind(4, i / clocks);
        insert.bind(5, i % clocks);
        insert.bind(6, shmoo.voltages_mv(i / clocks));
        insert.bind(7, shmoo.clocks_mhz(i % clocks));
        insert.bind(8, outcome_name(shmoo.outcomes(i)));
        execute(insert);
      }
    }
  });
  KILN_TRY(stored);
  return fresh;
}

}  // namespace kiln::store
