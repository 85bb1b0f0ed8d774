#include "testplans/peak_figure.hpp"

namespace kiln::plan {
namespace {

std::string param_or(const Step& step, const char* name, const char* fallback) {
  auto it = step.params.find(name);
  return it != step.params.end() ? it->second : std::string(fallback);
}

}  // namespace

std::string peak_key(const std::string& metric, const Step& step) {
  if (metric == "tflops") return "tflops." + param_or(step, "dtype", "bf16");
  if (metric == "busbw_gbps" || metric == "algbw_gbps") return metric + "." + param_or(step, "op", "allreduce");
  if (metric == "power_w") return "tdp_w";
  return metric;
}

std::optional<double> peak_figure(const std::string& metric, const Step& step,
                                  const std::map<std::string, double>& peaks) {
  auto it = peaks.find(peak_key(metric, step));
  if (it == peaks.end() || !(it->second > 0)) return std::nullopt;
  return it->second;
}

}  // namespace kiln::plan
