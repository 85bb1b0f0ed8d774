#include "gui/model/lifecycle_states.hpp"

#include <nlohmann/json.hpp>

namespace kiln::gui {

Result<bool> LifecycleStates::load_chips_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("chips") || !j["chips"].is_array())
    return make_error(ErrorCode::parse, "the chip list does not parse");
  std::unordered_map<std::string, Lifecycle> next;
  for (const auto& c : j["chips"]) {
    if (!c.is_object()) continue;
    auto serial = c.find("serial");
    if (serial == c.end() || !serial->is_string()) continue;
    auto state = c.find("state");
    const auto parsed = state != c.end() && state->is_string() ? lifecycle::parse_chip_state(state->get<std::string>())
                                                               : std::optional<Lifecycle>();
    next[serial->get<std::string>()] = parsed.value_or(Lifecycle::unknown);
  }
  const bool changed = !loaded_ || next != states_;
  states_ = std::move(next);
  loaded_ = true;
  return changed;
}

std::optional<Lifecycle> LifecycleStates::state_of(const std::string& serial) const {
  auto it = states_.find(serial);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

}  // namespace kiln::gui
