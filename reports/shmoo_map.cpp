#include "reports/shmoo_map.hpp"

#include <fmt/format.h>

namespace kiln::reports {

nlohmann::ordered_json shmoo_json(const store::ShmooMap& map) {
  return {{"clock_mhz", map.clocks_mhz}, {"voltage_mv", map.voltages_mv}, {"map", map.rows}};
}

store::ShmooMap shmoo_from_json(const nlohmann::ordered_json& json) {
  store::ShmooMap map;
  map.clocks_mhz = json.at("clock_mhz").get<std::vector<double>>();
  map.voltages_mv = json.at("voltage_mv").get<std::vector<double>>();
  map.rows = json.at("map").get<std::vector<std::string>>();
  return map;
}

std::string shmoo_grid(const store::ShmooMap& map, const std::string& indent) {
  std::string out = indent + fmt::format("{:>8}", "mV \\ MHz");
  for (const double c : map.clocks_mhz) out += fmt::format(" {:>5}", fmt::format("{:g}", c));
  out += "\n";
  for (std::size_t v = 0; v < map.rows.size(); ++v) {
    out += indent + fmt::format("{:>8}", fmt::format("{:g}", map.voltages_mv[v]));
    for (const char point : map.rows[v]) out += fmt::format(" {:>5}", point);
    out += "\n";
  }
  return out;
}

}  // namespace kiln::reports
