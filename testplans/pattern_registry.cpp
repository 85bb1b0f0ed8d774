#include "testplans/pattern_registry.hpp"

#include "metrics/catalog.hpp"

#include <algorithm>
#include <stdexcept>

namespace kiln::plan {

const ParamSpec* PatternSpec::find_param(std::string_view param_name) const {
  for (const auto& p : params) {
    if (p.name == param_name) return &p;
  }
  return nullptr;
}

const PatternRegistry& PatternRegistry::builtin() {
  static const PatternRegistry registry = [] {
    PatternRegistry r;
    register_builtin_patterns(r);
    return r;
  }();
  return registry;
}

void PatternRegistry::add(PatternSpec spec) {
  if (find(spec.name) != nullptr) throw std::logic_error("pattern registered twice: " + spec.name);
  specs_.push_back(std::move(spec));
}

const PatternSpec* PatternRegistry::find(std::string_view name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<std::string> PatternRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(specs_.size());
  for (const auto& s : specs_) out.push_back(s.name);
  return out;
}

const std::vector<std::string>& PatternRegistry::common_metrics() {
  // The catalog's common metrics: chip telemetry (DESIGN §7) plus what the
  // daemon derives from it for any step (throttle_fraction, link_down).
  static const std::vector<std::string> kCommon = metrics::MetricCatalog::builtin().common_names();
  return kCommon;
}

bool PatternRegistry::is_known_metric(const PatternSpec& pattern, std::string_view metric) const {
  const auto& common = common_metrics();
  return std::find(pattern.metrics.begin(), pattern.metrics.end(), metric) != pattern.metrics.end() ||
         std::find(common.begin(), common.end(), metric) != common.end();
}

}  // namespace kiln::plan
