#include "reports/chip_text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kiln::reports {
namespace {

using Json = nlohmann::ordered_json;

std::string cell(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string number(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return "-";
  return fmt::format("{:.4g}", j[key].get<double>());
}

}  // namespace

std::string lifecycle_text(const std::string& text) {
  const Json life = Json::parse(text, nullptr, false);
  if (!life.is_object()) return {};
  std::string out = fmt::format("state: {}{}; {}; {}\n", cell(life, "state"),
                                life.value("set_by_person", false) ? " (set by a person: sticky)" : "",
                                cell(life["retests"], "tally"), cell(life["runs"], "tally"));
  if (life.contains("points_at_slot") && life["points_at_slot"].is_object()) {
    out += fmt::format("points at the slot, not the chip: {}\n", cell(life["points_at_slot"], "reason"));
  }
  if (life.contains("drift") && life["drift"].value("alarm", false)) {
    out += "drift: alarm (kiln chip SERIAL --drift shows the trend)\n";
  }
  std::string slots;
  for (const auto& s : life.value("slots", Json::array())) {
    slots += fmt::format("{}{}/{} (failed {}, passed {})", slots.empty() ? "" : ", ", cell(s, "rack"), cell(s, "slot"),
                         cell(s, "failed"), cell(s, "passed"));
  }
  out += fmt::format("slots: {}\n", slots.empty() ? "none judged yet" : slots);
  const Json transitions = life.value("transitions", Json::array());
  out += fmt::format("transitions ({}):\n", transitions.size());
  for (const auto& t : transitions) {
    const std::string plan = cell(t, "plan_sha256");
    out +=
        fmt::format("  {}  {} -> {}  by {}  run {}  plan {}: {}\n", cell(t, "time"), cell(t, "from"), cell(t, "to"),
                    cell(t, "actor"), cell(t, "run"), plan.size() > 12 ? plan.substr(0, 12) : plan, cell(t, "reason"));
  }
  return out;
}

std::string drift_text(const std::string& text) {
  const Json drift = Json::parse(text, nullptr, false);
  if (!drift.is_object() || drift.value("figures", Json::object()).empty()) {
    return "drift: no judged run measured a figure that ages yet\n";
  }
  std::string out = fmt::format("drift: {}\n", drift.value("alarm", false) ? "ALARM" : "none");
  for (const auto& [figure, f] : drift["figures"].items()) {
    const Json& h = f["history"];
    const Json& p = f["peers"];
    out += fmt::format("{}\n  own history: {}{}\n  peers:       {}\n  trend:", figure, cell(h, "reason"),
                       h.value("alarm", false) ? "  [ALARM]" : "", cell(p, "reason"));
    for (const auto& point : f["trend"]) out += fmt::format(" run {}={}", cell(point, "run"), number(point, "value"));
    out += "\n";
  }
  return out;
}

}  // namespace kiln::reports
