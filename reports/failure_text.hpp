#pragma once
// How every report format words one failure of the JSON report (DESIGN §6):
// where it is ("core 1 pe [12,40] bit 22", "link 0", "voltage_mv 750") and
// the conditions when it first appeared ("81.2 °C, 498.0 W, …").

#include <string>

#include <nlohmann/json.hpp>

namespace kiln::reports {

std::string location_text(const nlohmann::json& failure);

// A report field as text: a string as it is, another value as its JSON,
// empty when absent or null.
std::string json_text(const nlohmann::json& object, const char* key);
std::string conditions_text(const nlohmann::json& conditions);

}  // namespace kiln::reports
