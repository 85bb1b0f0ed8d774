#include "testplans/param_reader.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "testplans/param_text.hpp"

namespace kiln::plan {
namespace {

using yaml::Diagnostics;
using yaml::Node;

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

bool has_range(const ParamSpec& spec) { return spec.min < spec.max; }

// Sizes read better in their own unit: "0B is out of range [1B, 64GiB]".
std::string show(const ParamSpec& spec, double value) {
  if (spec.type == ParamType::size || spec.type == ParamType::size_list) {
    return format_size(static_cast<std::uint64_t>(value));
  }
  if (spec.type == ParamType::duration) return format_number(value) + "s";
  return format_number(value);
}

bool in_range(const Node& node, const ParamSpec& spec, double value, Diagnostics& diagnostics,
              std::string_view what) {
  if (!has_range(spec) || (value >= spec.min && value <= spec.max)) return true;
  diagnostics.error(node.mark(), fmt::format("{}: {} is out of range [{}, {}]", what, show(spec, value),
                                             show(spec, spec.min), show(spec, spec.max)));
  return false;
}

std::optional<std::string> read_choice(const Node& node, const ParamSpec& spec, Diagnostics& diagnostics,
                                       std::string_view what) {
  const auto text = yaml::as_string(node, diagnostics, what);
  if (!text) return std::nullopt;
  if (std::find(spec.choices.begin(), spec.choices.end(), *text) != spec.choices.end()) return text;
  diagnostics.error(node.mark(), fmt::format("{}: expected one of {}, got '{}'", what, join(spec.choices), *text));
  return std::nullopt;
}

// One element of a list, or a single value: canonical text.
std::optional<std::string> read_scalar(const Node& node, const ParamSpec& spec, ParamType type,
                                       Diagnostics& diagnostics, std::string_view what) {
  switch (type) {
    case ParamType::choice:
      return read_choice(node, spec, diagnostics, what);
    case ParamType::integer: {
      const auto v = yaml::as_integer(node, diagnostics, what);
      if (!v || !in_range(node, spec, static_cast<double>(*v), diagnostics, what)) return std::nullopt;
      return std::to_string(*v);
    }
    case ParamType::number: {
      const auto v = yaml::as_number(node, diagnostics, what);
      if (!v || !in_range(node, spec, *v, diagnostics, what)) return std::nullopt;
      return format_number(*v);
    }
    case ParamType::boolean: {
      const auto v = yaml::as_bool(node, diagnostics, what);
      if (!v) return std::nullopt;
      return std::string(*v ? "true" : "false");
    }
    case ParamType::size: {
      const auto v = yaml::as_size(node, diagnostics, what);
      if (!v || !in_range(node, spec, static_cast<double>(*v), diagnostics, what)) return std::nullopt;
      return std::to_string(*v);
    }
    case ParamType::duration: {
      const auto v = yaml::as_duration(node, diagnostics, what);
      if (!v || !in_range(node, spec, v->count(), diagnostics, what)) return std::nullopt;
      return format_number(v->count());
    }
    case ParamType::size_list:
    case ParamType::number_list:
      break;  // not scalars
  }
  return std::nullopt;
}

std::optional<std::string> read_list(const Node& node, const ParamSpec& spec, ParamType element,
                                     Diagnostics& diagnostics, std::string_view what) {
  if (!node.is_sequence()) {
    diagnostics.error(node.mark(), fmt::format("{}: expected a list such as [{}], got a {}", what,
                                               element == ParamType::size ? "1MiB, 64MiB" : "700, 800",
                                               Node::kind_name(node.kind())));
    return std::nullopt;
  }
  if (node.items().empty()) {
    diagnostics.error(node.mark(), fmt::format("{}: the list is empty", what));
    return std::nullopt;
  }
  std::vector<std::string> texts;
  bool ok = true;
  for (std::size_t i = 0; i < node.items().size(); ++i) {
    const auto text = read_scalar(node.items()[i], spec, element, diagnostics, fmt::format("{}[{}]", what, i));
    if (text) texts.push_back(*text);
    ok = ok && text.has_value();
  }
  if (!ok) return std::nullopt;
  return join(texts, ",");
}

}  // namespace

std::optional<std::string> read_param_value(const Node& value, const ParamSpec& spec, Diagnostics& diagnostics,
                                            const std::string& what) {
  switch (spec.type) {
    case ParamType::size_list:
      return read_list(value, spec, ParamType::size, diagnostics, what);
    case ParamType::number_list:
      return read_list(value, spec, ParamType::number, diagnostics, what);
    default:
      return read_scalar(value, spec, spec.type, diagnostics, what);
  }
}

ReadParams read_params(const Node* node, const PatternSpec& pattern, Diagnostics& diagnostics,
                       const std::string& path) {
  ReadParams out;
  for (const auto& spec : pattern.params) out.effective[spec.name] = spec.default_text;
  if (node == nullptr) return out;
  if (!node->is_map()) {
    diagnostics.error(node->mark(), fmt::format("{}: expected a mapping such as {{name: value}}, got a {}", path,
                                                Node::kind_name(node->kind())));
    return out;
  }
  for (const auto& [key, value] : node->entries()) {
    const ParamSpec* spec = pattern.find_param(key.scalar());
    if (spec == nullptr) {
      std::vector<std::string> known;
      for (const auto& p : pattern.params) known.push_back(p.name);
      diagnostics.error(key.mark(),
                        known.empty()
                            ? fmt::format("{}: unknown param '{}': pattern '{}' takes no params", path, key.scalar(),
                                          pattern.name)
                            : fmt::format("{}: unknown param '{}' for pattern '{}' (known: {})", path, key.scalar(),
                                          pattern.name, join(known)));
      continue;
    }
    const auto text = read_param_value(value, *spec, diagnostics, fmt::format("{}.{}", path, key.scalar()));
    if (!text) continue;
    out.effective[spec->name] = *text;
    out.given.push_back(spec->name);
  }
  return out;
}

}  // namespace kiln::plan
