#pragma once
// The HTML report's tables from the JSON report (DESIGN §6): the verdict
// matrix (a row per chip, a column per step label, coloured by verdict, with
// a legend), the failures (class, location, conditions, count, first/last),
// and shmoo maps as coloured grids.

#include <string>

#include <nlohmann/json.hpp>

namespace kiln::reports {

// "v-fail" for "fail", "v-none" for a verdict not (yet) decided.
std::string verdict_css_class(const std::string& verdict);

std::string html_verdict_legend();
std::string html_verdict_matrix(const nlohmann::json& chips);
// Every chip's failures; empty when none failed.
std::string html_failures(const nlohmann::json& chips);
// The shmoo steps' maps; empty when the run had none.
std::string html_shmoo_maps(const nlohmann::json& chips);

}  // namespace kiln::reports
