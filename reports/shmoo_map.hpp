#pragma once
// A shmoo step's pass/fail map (store::ShmooMap, from the agent's
// kiln.v1.ShmooResult) as reports show it: JSON carries it structured, text
// draws it as a grid.

#include <string>

#include <nlohmann/json.hpp>

#include "schema/store.hpp"

namespace kiln::reports {

nlohmann::ordered_json shmoo_json(const store::ShmooMap& map);
// The map back from its JSON (a report read by the text renderer).
store::ShmooMap shmoo_from_json(const nlohmann::ordered_json& json);
// Indented grid lines, one per voltage, under a header of clocks.
std::string shmoo_grid(const store::ShmooMap& map, const std::string& indent);

}  // namespace kiln::reports
