#pragma once
// Whether a chip's SKU computes a dtype at all: a pattern that needs one it
// lacks is unsupported there, not failed.

#include <optional>

#include <fmt/format.h>

#include "agents/patterns/pattern.hpp"

namespace kiln::agent {

inline std::optional<Skip> dtype_unsupported(const device::Chip& chip, device::DType dtype) {
  const auto& peaks = chip.sku().peak_tflops;
  const auto peak = peaks.find(dtype);
  if (peak != peaks.end() && peak->second > 0) return std::nullopt;
  return Skip{fmt::format("dtype {} is not supported by SKU {}", device::to_string(dtype), chip.sku().name), true};
}

}  // namespace kiln::agent
