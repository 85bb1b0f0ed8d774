#include "reports/telemetry_windows.hpp"

#include <cmath>

namespace kiln::reports {

Result<std::vector<store::TelemetryWindow>> windows_of(const kiln::v1::Query& query) {
  if (static_cast<std::size_t>(query.windows_size()) > kMaxTimeWindows) {
    return make_error(ErrorCode::invalid_argument, "{} time windows asked for; at most {}", query.windows_size(),
                      kMaxTimeWindows);
  }
  std::vector<store::TelemetryWindow> windows;
  windows.reserve(static_cast<std::size_t>(query.windows_size()));
  for (const auto& w : query.windows()) {
    if (!std::isfinite(w.from_t_s()) || !std::isfinite(w.to_t_s())) {
      return make_error(ErrorCode::invalid_argument, "time window of step {}: its bounds must be finite numbers",
                        w.step_index());
    }
    if (w.from_t_s() > w.to_t_s()) {
      return make_error(ErrorCode::invalid_argument, "time window of step {}: from {} s is after to {} s",
                        w.step_index(), w.from_t_s(), w.to_t_s());
    }
    windows.push_back({w.step_index(), w.from_t_s(), w.to_t_s()});
  }
  return windows;
}

Result<kiln::v1::TelemetryRollups> chip_rollups(store::Reader& reader, std::uint64_t run_id,
                                                const std::string& serial) {
  if (serial.empty()) return make_error(ErrorCode::invalid_argument, "query ROLLUPS needs a chip's serial");
  KILN_TRY_ASSIGN(const store::RunRow run, reader.run(run_id));
  KILN_TRY_ASSIGN(const std::vector<store::ChipRollupRow> rows, reader.chip_rollups(run_id, serial));
  kiln::v1::TelemetryRollups out;
  out.set_run_id(run_id);
  if (run.raw_telemetry_pruned_unix_ms) out.set_raw_pruned_unix_ms(*run.raw_telemetry_pruned_unix_ms);
  kiln::v1::MetricRollups* series = nullptr;
  for (const auto& row : rows) {
    if (series == nullptr || series->step_index() != row.step_index || series->metric() != row.metric) {
      series = out.add_series();
      series->set_serial(serial);
      series->set_step_index(row.step_index);
      series->set_metric(row.metric);
    }
    const store::RollupRow& r = row.rollup;
    series->add_t_from_s(r.first_t_s);
    series->add_t_to_s(r.last_t_s);
    series->add_count(r.count);
    series->add_min(r.min);
    series->add_avg(r.avg);
    series->add_max(r.max);
    if (!r.sealed) series->set_last_open(true);
  }
  return out;
}

}  // namespace kiln::reports
