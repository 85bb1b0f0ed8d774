#include "reports/cause_lines.hpp"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/step_names.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;

std::string string_or(const Json& j, const char* key, const std::string& fallback) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

// One cause and the chips it hit, each with the steps it hit that chip in.
struct Cause {
  std::string verdict, reason;
  std::vector<std::pair<std::string, std::vector<std::string>>> chips;  // serial → step labels
};

std::string serial_list(const std::vector<std::string>& serials) {
  // Naming all of six costs no more room than "… and 1 more".
  if (serials.size() <= kSerialsShownPerCause + 1) return fmt::format("{}", fmt::join(serials, ", "));
  const std::vector<std::string> shown(serials.begin(), serials.begin() + kSerialsShownPerCause);
  return fmt::format("{} and {} more", fmt::join(shown, ", "), serials.size() - shown.size());
}

}  // namespace

std::string inconclusive_by_cause(const Json& chips) {
  std::vector<Cause> causes;
  std::map<std::pair<std::string, std::string>, std::size_t> index;  // (verdict, reason) → causes[i]
  for (const auto& c : chips) {
    const std::string serial = string_or(c, "serial", "-");
    if (!c.contains("steps")) continue;
    for (const auto& s : c["steps"]) {
      const std::string verdict = string_or(s, "verdict", "");
      if ((verdict != "inconclusive" && verdict != "error") || !s.contains("reason")) continue;
      const std::string reason = string_or(s, "reason", "");
      auto [it, fresh] = index.emplace(std::pair{verdict, reason}, causes.size());
      if (fresh) causes.push_back(Cause{verdict, reason, {}});
      auto& hit = causes[it->second].chips;
      if (hit.empty() || hit.back().first != serial) hit.emplace_back(serial, std::vector<std::string>{});
      hit.back().second.push_back(step_label(s));
    }
  }
  std::string out;
  for (const Cause& cause : causes) {
    // Chips hit in the same steps share a line, so each line is exact.
    std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> by_steps;  // steps → serials
    for (const auto& [serial, steps] : cause.chips) {
      auto it =
          std::find_if(by_steps.begin(), by_steps.end(), [&steps = steps](const auto& e) { return e.first == steps; });
      if (it == by_steps.end()) it = by_steps.insert(by_steps.end(), {steps, {}});
      it->second.push_back(serial);
    }
    for (const auto& [steps, serials] : by_steps) {
      const std::string where = fmt::format("{} {}", steps.size() == 1 ? "step" : "steps", fmt::join(steps, ", "));
      if (serials.size() == 1) {
        out += fmt::format("  {} {} in {}: {}\n", serials.front(), cause.verdict, where, cause.reason);
      } else {
        out += fmt::format("  {} in {} on {} chips ({}): {}\n", cause.verdict, where, serials.size(),
                           serial_list(serials), cause.reason);
      }
    }
  }
  return out;
}

}  // namespace kiln::reports
