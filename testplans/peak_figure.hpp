#pragma once
// Which of a chip's peak figures a limit `of: peak` scales (DESIGN §4), for
// a plan's step: the metric catalog's rule (MetricCatalog::peak_key_for)
// with the step's params, so the judge and the dashboard's limit bands agree.
//
//   tflops                  "tflops.<dtype>" (the step's dtype, bf16 by default)
//   busbw_gbps, algbw_gbps  "<metric>.<op>" (the step's op, allreduce by default):
//                           what the rack's fabric offers, registered by the agent
//   power_w                 "tdp_w"
//   hbm_gbps, link_gbps     their own names
//   anything else           none: an `of: peak` limit on it is inconclusive

#include <map>
#include <optional>
#include <string>

#include "metrics/catalog.hpp"
#include "testplans/plan.hpp"

namespace kiln::plan {

std::string peak_key(const std::string& metric, const Step& step,
                     const metrics::MetricCatalog& catalog = metrics::MetricCatalog::builtin());
// The figure, when the chip has one above 0.
std::optional<double> peak_figure(const std::string& metric, const Step& step,
                                  const std::map<std::string, double>& peaks,
                                  const metrics::MetricCatalog& catalog = metrics::MetricCatalog::builtin());

}  // namespace kiln::plan
