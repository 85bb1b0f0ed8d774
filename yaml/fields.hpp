#pragma once
// Typed, range-checked reads of one key of a strict-YAML mapping, shared by
// the SKU, lab and fault loaders. Every error lands at the value's line and
// column, so a user sees which number is wrong and why.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "yaml/strict_yaml.hpp"

namespace kiln::yaml {

struct Bounds {
  double lo = 0;
  double hi = 0;
  bool lo_open = false;  // (lo, hi] instead of [lo, hi]
};

// `what` names the mapping in messages ("sku", "racks[1].chips[5].faults[0]").
std::optional<double> read_number(MapReader& reader, Diagnostics& diagnostics, std::string_view what,
                                  std::string_view key, Bounds bounds, bool required);
std::optional<std::int64_t> read_integer(MapReader& reader, Diagnostics& diagnostics, std::string_view what,
                                         std::string_view key, Bounds bounds, bool required);

// "[0, 7]" / "(0, 600]" for messages.
std::string format_bounds(Bounds bounds);

}  // namespace kiln::yaml
