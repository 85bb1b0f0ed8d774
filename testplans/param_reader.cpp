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

// The loader's half of check_param(): a problem becomes a diagnostic at the
// node at fault (a list's element where it names one).
bool fits(const Node& node, const ParamSpec& spec, const ParamValue& value, Diagnostics& diagnostics,
          std::string_view what) {
  const auto problem = check_param(spec, value);
  if (!problem) return true;
  if (problem->element && node.is_sequence() && *problem->element < node.items().size()) {
    diagnostics.error(node.items()[*problem->element].mark(),
                      fmt::format("{}[{}]: {}", what, *problem->element, problem->message));
  } else {
    diagnostics.error(node.mark(), fmt::format("{}: {}", what, problem->message));
  }
  return false;
}

// Each element is checked as it is read, so that every bad one is reported
// (check_param() on the one-element list stops at the first).
template <typename T, typename Read>
std::optional<ParamValue> read_list(const Node& node, const ParamSpec& spec, std::string_view example,
                                    Diagnostics& diagnostics, std::string_view what, Read read) {
  if (!node.is_sequence()) {
    diagnostics.error(node.mark(), fmt::format("{}: expected a list such as [{}], got a {}", what, example,
                                               Node::kind_name(node.kind())));
    return std::nullopt;
  }
  if (node.items().empty()) {
    diagnostics.error(node.mark(), fmt::format("{}: the list is empty", what));
    return std::nullopt;
  }
  std::vector<T> values;
  bool ok = true;
  for (std::size_t i = 0; i < node.items().size(); ++i) {
    const Node& item = node.items()[i];
    const std::string item_what = fmt::format("{}[{}]", what, i);
    const auto v = read(item, item_what);
    if (!v) {
      ok = false;
      continue;
    }
    if (const auto problem = check_param(spec, ParamValue(std::vector<T>{static_cast<T>(*v)}))) {
      diagnostics.error(item.mark(), fmt::format("{}: {}", item_what, problem->message));
      ok = false;
      continue;
    }
    values.push_back(static_cast<T>(*v));
  }
  if (!ok) return std::nullopt;
  return ParamValue(std::move(values));
}

// The value as its YAML form says, before its bounds are checked.
std::optional<ParamValue> read_typed(const Node& node, const ParamSpec& spec, Diagnostics& diagnostics,
                                     std::string_view what) {
  switch (spec.type) {
    case ParamType::choice: {
      auto text = yaml::as_string(node, diagnostics, what);
      if (!text) return std::nullopt;
      return ParamValue(ChoiceValue{std::move(*text)});
    }
    case ParamType::integer: {
      const auto v = yaml::as_integer(node, diagnostics, what);
      if (!v) return std::nullopt;
      return ParamValue(static_cast<std::int64_t>(*v));
    }
    case ParamType::number: {
      const auto v = yaml::as_number(node, diagnostics, what);
      if (!v) return std::nullopt;
      return ParamValue(*v);
    }
    case ParamType::boolean: {
      const auto v = yaml::as_bool(node, diagnostics, what);
      if (!v) return std::nullopt;
      return ParamValue(*v);
    }
    case ParamType::size: {
      const auto v = yaml::as_size(node, diagnostics, what);
      if (!v) return std::nullopt;
      return ParamValue(SizeBytes{*v});
    }
    case ParamType::duration: {
      const auto v = yaml::as_duration(node, diagnostics, what);
      if (!v) return std::nullopt;
      return ParamValue(DurationSeconds{v->count()});
    }
    case ParamType::size_list:
      return read_list<std::uint64_t>(
          node, spec, "1MiB, 64MiB", diagnostics, what,
          [&](const Node& item, const std::string& w) { return yaml::as_size(item, diagnostics, w); });
    case ParamType::number_list:
      return read_list<double>(node, spec, "700, 800", diagnostics, what, [&](const Node& item, const std::string& w) {
        return yaml::as_number(item, diagnostics, w);
      });
  }
  return std::nullopt;
}

}  // namespace

std::optional<ParamValue> read_param_value(const Node& value, const ParamSpec& spec, Diagnostics& diagnostics,
                                           const std::string& what) {
  auto typed = read_typed(value, spec, diagnostics, what);
  if (!typed || !fits(value, spec, *typed, diagnostics, what)) return std::nullopt;
  return typed;
}

ReadParams read_params(const Node* node, const PatternSpec& pattern, Diagnostics& diagnostics,
                       const std::string& path) {
  ReadParams out;
  for (const auto& spec : pattern.params) {
    // A registry's default that does not read back is a programming error,
    // which the registry's own tests catch; it is left out rather than guessed.
    if (auto value = value_from_text(spec, spec.default_text)) out.effective.set(spec.name, std::move(value).value());
  }
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
      diagnostics.error(key.mark(), known.empty() ? fmt::format("{}: unknown param '{}': pattern '{}' takes no params",
                                                                path, key.scalar(), pattern.name)
                                                  : fmt::format("{}: unknown param '{}' for pattern '{}' (known: {})",
                                                                path, key.scalar(), pattern.name, join(known)));
      continue;
    }
    auto typed = read_param_value(value, *spec, diagnostics, fmt::format("{}.{}", path, key.scalar()));
    if (!typed) continue;
    out.effective.set(spec->name, std::move(*typed));
    out.given.push_back(spec->name);
  }
  return out;
}

}  // namespace kiln::plan
