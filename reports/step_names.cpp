#include "reports/step_names.hpp"

#include <fmt/format.h>

namespace kiln::reports {

std::string step_display_name(std::string_view name, std::uint32_t occurrence) {
  return occurrence <= 1 ? std::string(name) : fmt::format("{} #{}", name, occurrence);
}

std::map<std::uint32_t, std::string> step_display_names(const std::vector<store::StepRow>& steps) {
  std::map<std::uint32_t, const store::StepRow*> in_order;
  for (const auto& s : steps) in_order[s.step_index] = &s;
  std::map<std::string, std::uint32_t, std::less<>> seen;
  std::map<std::uint32_t, std::string> names;
  for (const auto& [index, step] : in_order) names[index] = step_display_name(step->name, ++seen[step->name]);
  return names;
}

std::string step_label(const nlohmann::json& step) {
  for (const char* key : {"label", "step_label", "name", "step"}) {
    if (step.contains(key) && step[key].is_string()) return step[key].get<std::string>();
  }
  return "-";
}

}  // namespace kiln::reports
