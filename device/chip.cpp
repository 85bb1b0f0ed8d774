#include "device/chip.hpp"

namespace kiln::device {

const char* to_string(MemoryPattern pattern) {
  switch (pattern) {
    case MemoryPattern::bandwidth: return "bandwidth";
    case MemoryPattern::walking_ones: return "walking_ones";
    case MemoryPattern::moving_inversions: return "moving_inversions";
    case MemoryPattern::random: return "random";
  }
  return "?";
}

std::optional<MemoryPattern> parse_memory_pattern(std::string_view text) {
  for (const auto p : {MemoryPattern::bandwidth, MemoryPattern::walking_ones, MemoryPattern::moving_inversions,
                       MemoryPattern::random}) {
    if (text == to_string(p)) return p;
  }
  return std::nullopt;
}

}  // namespace kiln::device
