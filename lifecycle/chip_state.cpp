#include "lifecycle/chip_state.hpp"

#include <array>

namespace kiln::lifecycle {
namespace {

constexpr std::array kStates = {ChipState::unknown, ChipState::healthy, ChipState::suspect,    ChipState::quarantined,
                                ChipState::rma,     ChipState::retired, ChipState::maintenance};

}  // namespace

std::string_view to_string(ChipState state) {
  switch (state) {
    case ChipState::unknown: return "unknown";
    case ChipState::healthy: return "healthy";
    case ChipState::suspect: return "suspect";
    case ChipState::quarantined: return "quarantined";
    case ChipState::rma: return "rma";
    case ChipState::retired: return "retired";
    case ChipState::maintenance: return "maintenance";
  }
  return "unknown";
}

std::optional<ChipState> parse_chip_state(std::string_view text) {
  for (const ChipState s : kStates) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

bool takes_scheduled_work(ChipState state) {
  return state == ChipState::unknown || state == ChipState::healthy || state == ChipState::suspect;
}

}  // namespace kiln::lifecycle
