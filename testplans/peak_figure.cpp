#include "testplans/peak_figure.hpp"

namespace kiln::plan {

std::string peak_key(const std::string& metric, const Step& step, const metrics::MetricCatalog& catalog) {
  return catalog.peak_key_for(metric, [&](std::string_view param) -> std::optional<std::string> {
    auto it = step.params.find(std::string(param));
    if (it == step.params.end()) return std::nullopt;
    return it->second;
  });
}

std::optional<double> peak_figure(const std::string& metric, const Step& step,
                                  const std::map<std::string, double>& peaks, const metrics::MetricCatalog& catalog) {
  const std::string key = peak_key(metric, step, catalog);
  if (key.empty()) return std::nullopt;
  auto it = peaks.find(key);
  if (it == peaks.end() || !(it->second > 0)) return std::nullopt;
  return it->second;
}

}  // namespace kiln::plan
