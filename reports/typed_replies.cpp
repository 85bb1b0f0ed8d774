#include "reports/typed_replies.hpp"

#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "metrics/catalog.hpp"
#include "reports/run_status.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;

Json parse_object(const std::string& text) {
  Json parsed = Json::parse(text.empty() ? "{}" : text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_object() ? parsed : Json::object();
}

kiln::v1::LimitOf limit_of(const Json& limit) {
  const std::string of = limit.value("of", "absolute");
  if (of == "peak") return kiln::v1::LIMIT_OF_PEAK;
  if (of == "peers") return kiln::v1::LIMIT_OF_PEERS;
  if (of == "baseline") return kiln::v1::LIMIT_OF_BASELINE;
  return kiln::v1::LIMIT_OF_ABSOLUTE;
}

// "<peak_key>[.<the step's value of peak_param>]" as the catalog declares
// it; empty when the metric has no peak figure.
std::string peak_key_of(const std::string& metric, const Json& params) {
  return metrics::MetricCatalog::builtin().peak_key_for(metric,
                                                        [&](std::string_view param) -> std::optional<std::string> {
                                                          const auto it = params.find(param);
                                                          if (it == params.end() || !it->is_string())
                                                            return std::nullopt;
                                                          return it->get<std::string>();
                                                        });
}

void set_bound(const Json& limit, const char* key, kiln::v1::StepLimit& out, void (kiln::v1::StepLimit::*set)(double)) {
  const auto it = limit.find(key);
  if (it != limit.end() && it->is_number()) (out.*set)(it->get<double>());
}

kiln::v1::PlanStep plan_step(const store::StepRow& row) {
  kiln::v1::PlanStep step;
  step.set_step_index(row.step_index);
  step.set_phase_index(row.phase_index);
  step.set_repeat_index(row.repeat_index);
  step.set_name(row.name);
  step.set_pattern(row.pattern);
  step.set_duration_s(row.duration_s);
  const Json params = parse_object(row.params_json);
  for (const auto& [name, value] : params.items()) {
    if (value.is_string()) (*step.mutable_params())[name] = value.get<std::string>();
  }
  const Json limits = parse_object(row.limits_json);
  for (const auto& [metric, limit] : limits.items()) {
    if (!limit.is_object()) continue;
    kiln::v1::StepLimit* out = step.add_limits();
    out->set_metric(metric);
    set_bound(limit, "min", *out, &kiln::v1::StepLimit::set_min);
    set_bound(limit, "max", *out, &kiln::v1::StepLimit::set_max);
    set_bound(limit, "marginal_min", *out, &kiln::v1::StepLimit::set_marginal_min);
    set_bound(limit, "marginal_max", *out, &kiln::v1::StepLimit::set_marginal_max);
    out->set_of(limit_of(limit));
    if (out->of() == kiln::v1::LIMIT_OF_PEAK) out->set_peak_key(peak_key_of(metric, params));
  }
  return step;
}

}  // namespace

Result<kiln::v1::RunProgress> run_progress(store::Reader& reader, std::uint64_t run_id) {
  return reader.run(run_id).transform([](const store::RunRow& run) {
    kiln::v1::RunProgress progress;
    progress.set_run_id(run.id);
    progress.set_plan(run.plan_name);
    progress.set_status(run_status_of(run.status));
    return progress;
  });
}

Result<kiln::v1::TelemetrySeries> telemetry_series(store::Reader& reader, std::uint64_t run_id,
                                                   const std::string& serial, const std::string& metric,
                                                   const std::vector<store::TelemetryWindow>& windows) {
  kiln::v1::TelemetrySeries out;
  out.set_run_id(run_id);
  std::map<std::tuple<std::string, std::uint32_t, std::string>, kiln::v1::MetricSeries*> by_key;
  KILN_TRY(reader.telemetry(run_id, serial, metric, windows, [&](const store::TelemetryRow& row) {
    auto& series = by_key[{row.serial, row.step_index, row.metric}];
    if (series == nullptr) {
      series = out.add_series();
      series->set_serial(row.serial);
      series->set_step_index(row.step_index);
      series->set_metric(row.metric);
    }
    series->add_t_s(row.t_s);
    series->add_values(row.value);
  }));
  return out;
}

Result<kiln::v1::RunPlan> run_plan(store::Reader& reader, std::uint64_t run_id) {
  KILN_TRY_ASSIGN(const store::RunRow run, reader.run(run_id));
  KILN_TRY_ASSIGN(const std::vector<store::StepRow> steps, reader.steps(run_id));
  kiln::v1::RunPlan plan;
  plan.set_run_id(run.id);
  plan.set_plan(run.plan_name);
  plan.set_plan_sha256(run.plan_sha256);
  for (const auto& row : steps) *plan.add_steps() = plan_step(row);
  return plan;
}

}  // namespace kiln::reports
