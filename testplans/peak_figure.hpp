#pragma once
// Which of a chip's peak figures a limit `of: peak` scales (DESIGN §4): the
// judge and the dashboard's limit bands must agree, so the rule lives here.
//
//   tflops                  "tflops.<dtype>" (the step's dtype, bf16 by default)
//   busbw_gbps, algbw_gbps  "<metric>.<op>" (the step's op, allreduce by default):
//                           what the rack's fabric offers, registered by the agent
//   power_w                 "tdp_w"
//   anything else           the metric's own name ("hbm_gbps", "link_gbps")

#include <map>
#include <optional>
#include <string>

#include "testplans/plan.hpp"

namespace kiln::plan {

std::string peak_key(const std::string& metric, const Step& step);
// The figure, when the chip has one above 0.
std::optional<double> peak_figure(const std::string& metric, const Step& step, const std::map<std::string, double>& peaks);

}  // namespace kiln::plan
