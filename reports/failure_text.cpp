#include "reports/failure_text.hpp"

#include <string_view>

#include <fmt/format.h>

#include "metrics/catalog.hpp"

namespace kiln::reports {

std::string location_text(const nlohmann::json& f) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (f.contains("core")) add(fmt::format("core {}", f["core"].dump()));
  if (f.contains("pe")) add(fmt::format("pe [{},{}]", f["pe"][0].dump(), f["pe"][1].dump()));
  if (f.contains("bit")) add(fmt::format("bit {}", f["bit"].dump()));
  for (std::string_view key : {std::string_view("stack"), std::string_view("channel"), std::string_view("link"),
                               std::string_view(metrics::kVoltageMv), std::string_view(metrics::kClockMhz)}) {
    if (f.contains(key)) add(fmt::format("{} {}", key, f[key].dump()));
  }
  return out;
}

std::string json_text(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string conditions_text(const nlohmann::json& c) {
  std::string out;
  // The conditions a detection records (DESIGN §5), with the catalog's units.
  for (metrics::MetricName name : {metrics::kTemperatureC, metrics::kPowerW, metrics::kClockMhz, metrics::kVoltageMv}) {
    const std::string key = name.str();
    if (c.contains(key) && c[key].is_number()) {
      out += fmt::format("{}{:.1f} {}", out.empty() ? "" : ", ", c[key].get<double>(),
                         metrics::MetricCatalog::builtin().at(name).unit);
    }
  }
  return out;
}

}  // namespace kiln::reports
