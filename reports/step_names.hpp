#pragma once
// How a report names a step. A step's name is unique within its plan, but a
// run can hold the same name more than once (`repeat: 4` flattens every step
// four times): the second occurrence of a name is "gemm-bf16 #2", the third
// "gemm-bf16 #3", in step_index order. Every place a report names a step
// (the JSON's labels, the verdict table, findings, telemetry CSV) asks here.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "schema/store.hpp"

namespace kiln::reports {

// occurrence counts from 1; the first occurrence is the bare name.
std::string step_display_name(std::string_view name, std::uint32_t occurrence);

// The run's steps' display names, by step_index.
std::map<std::uint32_t, std::string> step_display_names(const std::vector<store::StepRow>& steps);

// The name a report's step (or failure) is shown by: its label (a failure's
// step_label) where the report carries one, else its name (a failure's step).
std::string step_label(const nlohmann::json& step);

}  // namespace kiln::reports
