#include "reports/telemetry_json.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "metrics/catalog.hpp"
#include "reports/step_names.hpp"

namespace kiln::reports {

std::string telemetry_json(const kiln::v1::TelemetrySeries& telemetry, const kiln::v1::RunPlan& plan) {
  using Json = nlohmann::ordered_json;
  std::vector<const kiln::v1::PlanStep*> steps;
  for (const auto& s : plan.steps()) steps.push_back(&s);
  std::sort(steps.begin(), steps.end(), [](auto* a, auto* b) { return a->step_index() < b->step_index(); });
  std::map<std::uint32_t, std::string> labels;
  std::map<std::string, std::uint32_t> seen;
  for (const auto* s : steps) labels[s->step_index()] = step_display_name(s->name(), ++seen[s->name()]);

  const auto& catalog = metrics::MetricCatalog::builtin();
  Json list = Json::array();
  for (const auto& series : telemetry.series()) {
    Json t = Json::array(), v = Json::array();
    const int n = std::min(series.t_s_size(), series.values_size());
    for (int i = 0; i < n; ++i) {
      t.push_back(series.t_s(i));
      v.push_back(std::isnan(series.values(i)) ? Json(nullptr) : Json(series.values(i)));
    }
    const metrics::MetricDef* def = catalog.find(series.metric());
    const auto label = labels.find(series.step_index());
    list.push_back({{"serial", series.serial()},
                    {"step_index", series.step_index()},
                    {"step", label != labels.end() ? Json(label->second) : Json(nullptr)},
                    {"metric", series.metric()},
                    {"unit", def != nullptr ? def->unit : ""},
                    {"t_s", t},
                    {"values", v}});
  }
  return Json{{"run", telemetry.run_id()}, {"series", list}}.dump(2);
}

}  // namespace kiln::reports
