#include "daemon/shmoo_map.hpp"

#include <sstream>

#include <fmt/format.h>

namespace kiln::daemon {

std::optional<ShmooMap> parse_shmoo_note(std::string_view note) {
  constexpr std::string_view kStart = "shmoo mV\\MHz";
  const auto start = note.find(kStart);
  if (start == std::string_view::npos) return std::nullopt;
  std::string_view rest = note.substr(start + kStart.size());
  rest = rest.substr(0, rest.find(';'));  // the map ends where the note's next part begins
  ShmooMap map;
  std::istringstream in{std::string(rest)};
  std::string token;
  // Clocks up to the first '|', then "| <mV> <row>" per voltage.
  while (in >> token && token != "|") {
    try {
      map.clocks_mhz.push_back(std::stod(token));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  while (token == "|") {
    std::string voltage, row;
    if (!(in >> voltage >> row)) return std::nullopt;
    try {
      map.voltages_mv.push_back(std::stod(voltage));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (row.size() != map.clocks_mhz.size() || row.find_first_not_of(".X-?") != std::string::npos) return std::nullopt;
    map.rows.push_back(row);
    if (!(in >> token)) break;
  }
  if (map.clocks_mhz.empty() || map.rows.empty()) return std::nullopt;
  return map;
}

nlohmann::ordered_json shmoo_json(const ShmooMap& map) {
  return {{"clock_mhz", map.clocks_mhz}, {"voltage_mv", map.voltages_mv}, {"map", map.rows}};
}

std::string shmoo_grid(const ShmooMap& map, const std::string& indent) {
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

}  // namespace kiln::daemon
