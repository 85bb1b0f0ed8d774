#pragma once
// The HTML report's per-rack link heatmap: a row per chip, a column per link,
// each cell coloured by the link's bandwidth against the rack's best link
// and outlined red where it counted CRC errors or went down. Built from the
// report's step summaries of the per-link metrics (link{i}_gbps,
// link{i}_crc_errors, link{i}_up): the best step average of a link's
// bandwidth, its run's error count (a counter's largest value) and whether
// it was ever down.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace kiln::reports {

// #rrggbb from red (0) through amber (0.5) to green (1); fraction clamped.
std::string bandwidth_colour(double fraction);
// #rrggbb: pale green for no errors, deepening red as errors grow (log scale).
std::string error_colour(double errors);

// One table per rack; empty when no chip reported a per-link metric.
std::string html_link_heatmaps(const nlohmann::json& chips);

}  // namespace kiln::reports
