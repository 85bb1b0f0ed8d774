#include "metrics/failure_class.hpp"

#include <array>
#include <utility>

namespace kiln::metrics {
namespace {

constexpr std::array<std::pair<FailureClass, std::string_view>, 12> kNames = {{
    {FailureClass::sdc, "sdc"},
    {FailureClass::margin, "margin"},
    {FailureClass::underperforming, "underperforming"},
    {FailureClass::thermal, "thermal"},
    {FailureClass::power, "power"},
    {FailureClass::memory_ce_excess, "memory_ce_excess"},
    {FailureClass::memory_ue, "memory_ue"},
    {FailureClass::memory_pattern, "memory_pattern"},
    {FailureClass::link_errors, "link_errors"},
    {FailureClass::link_degraded, "link_degraded"},
    {FailureClass::link_down, "link_down"},
    {FailureClass::hang, "hang"},
}};

constexpr std::array<FailureClass, kNames.size()> kAll = [] {
  std::array<FailureClass, kNames.size()> all{};
  for (std::size_t i = 0; i < kNames.size(); ++i) all[i] = kNames[i].first;
  return all;
}();

}  // namespace

std::string_view to_string(FailureClass cls) {
  for (const auto& [c, name] : kNames) {
    if (c == cls) return name;
  }
  return "unknown";
}

std::optional<FailureClass> parse_failure_class(std::string_view text) {
  for (const auto& [c, name] : kNames) {
    if (name == text) return c;
  }
  return std::nullopt;
}

std::span<const FailureClass> all_failure_classes() { return kAll; }

}  // namespace kiln::metrics
