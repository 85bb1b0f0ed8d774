#include "testplans/plan.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace kiln::plan {

const char* to_string(LimitBase base) {
  switch (base) {
    case LimitBase::absolute: return "absolute";
    case LimitBase::peak: return "peak";
    case LimitBase::peers: return "peers";
    case LimitBase::baseline: return "baseline";
  }
  return "?";
}

std::vector<FlatStep> flatten(const Plan& plan) {
  std::vector<FlatStep> out;
  std::uint32_t phase_index = 0;
  for (std::uint32_t r = 0; r < plan.repeat; ++r) {
    for (const auto& phase : plan.phases) {
      for (const auto& step : phase.steps) {
        out.push_back(FlatStep{static_cast<std::uint32_t>(out.size()), phase_index, r, &step});
      }
      ++phase_index;
    }
  }
  return out;
}

Seconds total_duration(const Plan& plan) {
  Seconds once{0};
  for (const auto& phase : plan.phases) {
    Seconds longest{0};
    for (const auto& step : phase.steps) longest = std::max(longest, step.duration);
    once += longest;
  }
  return once * static_cast<double>(plan.repeat);
}

const Step* find_step(const Plan& plan, std::string_view name) {
  for (const auto& phase : plan.phases) {
    for (const auto& step : phase.steps) {
      if (step.name == name) return &step;
    }
  }
  return nullptr;
}

std::string params_to_json(const Step& step) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, text] : step.params) out[name] = text;
  return out.dump();
}

std::string limits_to_json(const Step& step) {
  nlohmann::json out = nlohmann::json::object();  // std::map underneath: sorted keys
  for (const auto& limit : step.limits) {
    nlohmann::json l = nlohmann::json::object();
    if (limit.min) l["min"] = *limit.min;
    if (limit.max) l["max"] = *limit.max;
    if (limit.marginal_min) l["marginal_min"] = *limit.marginal_min;
    if (limit.marginal_max) l["marginal_max"] = *limit.marginal_max;
    l["of"] = to_string(limit.of);
    out[limit.metric] = std::move(l);
  }
  return out.dump();
}

}  // namespace kiln::plan
