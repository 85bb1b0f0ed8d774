#include "yaml/fields.hpp"

#include <fmt/format.h>

namespace kiln::yaml {

std::string format_bounds(Bounds bounds) {
  return fmt::format("{}{}, {}]", bounds.lo_open ? "(" : "[", bounds.lo, bounds.hi);
}

namespace {

bool in_bounds(double value, Bounds bounds) {
  const bool above = bounds.lo_open ? value > bounds.lo : value >= bounds.lo;
  return above && value <= bounds.hi;
}

std::string key_path(std::string_view what, std::string_view key) { return fmt::format("{}.{}", what, key); }

}  // namespace

std::optional<double> read_number(yaml::MapReader& reader, yaml::Diagnostics& diagnostics, std::string_view what,
                                  std::string_view key, Bounds bounds, bool required) {
  const yaml::Node* node = reader.get(key, required);
  if (node == nullptr) return std::nullopt;
  auto value = yaml::as_number(*node, diagnostics, key_path(what, key));
  if (!value) return std::nullopt;
  if (!in_bounds(*value, bounds)) {
    diagnostics.error(node->mark(),
                      fmt::format("{}: {} is out of range {}", key_path(what, key), *value, format_bounds(bounds)));
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> read_integer(yaml::MapReader& reader, yaml::Diagnostics& diagnostics, std::string_view what,
                                         std::string_view key, Bounds bounds, bool required) {
  const yaml::Node* node = reader.get(key, required);
  if (node == nullptr) return std::nullopt;
  auto value = yaml::as_integer(*node, diagnostics, key_path(what, key));
  if (!value) return std::nullopt;
  if (!in_bounds(static_cast<double>(*value), bounds)) {
    diagnostics.error(node->mark(),
                      fmt::format("{}: {} is out of range {}", key_path(what, key), *value, format_bounds(bounds)));
    return std::nullopt;
  }
  return value;
}

}  // namespace kiln::yaml
