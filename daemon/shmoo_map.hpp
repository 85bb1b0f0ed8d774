#pragma once
// The pass/fail map a shmoo step leaves in its note (agents/shmoo_sweep.hpp:
// "shmoo mV\MHz 2000 2200 | 700 .X | 725 .."), read back for reports:
// JSON carries it structured, text draws it as a grid.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::daemon {

struct ShmooMap {
  std::vector<double> clocks_mhz;
  std::vector<double> voltages_mv;
  std::vector<std::string> rows;  // per voltage, one character per clock: . pass, X fail, - refused, ? not run
};

// nullopt when the note holds no well-formed map.
std::optional<ShmooMap> parse_shmoo_note(std::string_view note);

nlohmann::ordered_json shmoo_json(const ShmooMap& map);
// Indented grid lines, one per voltage, under a header of clocks.
std::string shmoo_grid(const ShmooMap& map, const std::string& indent);

}  // namespace kiln::daemon
