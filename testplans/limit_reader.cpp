#include "testplans/limit_reader.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "testplans/param_text.hpp"

namespace kiln::plan {
namespace {

using yaml::Diagnostics;
using yaml::MapReader;
using yaml::Node;

std::optional<LimitBase> parse_base(std::string_view text) {
  if (text == "peak") return LimitBase::peak;
  if (text == "peers") return LimitBase::peers;
  if (text == "baseline") return LimitBase::baseline;
  return std::nullopt;
}

std::string known_metrics(const PatternSpec& pattern) {
  std::string out;
  auto add = [&out](const std::string& m) { out += (out.empty() ? "" : ", ") + m; };
  for (const auto& m : pattern.metrics) add(m);
  for (const auto& m : PatternRegistry::common_metrics()) {
    if (std::find(pattern.metrics.begin(), pattern.metrics.end(), m) == pattern.metrics.end()) add(m);
  }
  return out;
}

struct Bound {
  const char* name;
  std::optional<double> Limit::*field;
};
// In the order the values must be: min ≤ marginal_min ≤ marginal_max ≤ max.
constexpr std::array<Bound, 4> kBounds = {{{"min", &Limit::min},
                                           {"marginal_min", &Limit::marginal_min},
                                           {"marginal_max", &Limit::marginal_max},
                                           {"max", &Limit::max}}};

// Reports the first pair of bounds out of order; one message per limit is
// enough to show what to fix.
void check_order(const Limit& limit, const Node& node, Diagnostics& diagnostics, const std::string& what) {
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    for (std::size_t j = i + 1; j < kBounds.size(); ++j) {
      const auto& lo = limit.*kBounds[i].field;
      const auto& hi = limit.*kBounds[j].field;
      if (!lo || !hi || *lo <= *hi) continue;
      diagnostics.error(node.mark(), fmt::format("{}: {} ({}) is greater than {} ({})", what, kBounds[i].name,
                                                 format_number(*lo), kBounds[j].name, format_number(*hi)));
      return;
    }
  }
}

std::optional<Limit> read_limit(const Node& key, const Node& value, Diagnostics& diagnostics, const std::string& what) {
  MapReader reader(value, diagnostics, what);
  if (!reader.valid()) return std::nullopt;
  Limit limit;
  limit.metric = key.scalar();
  limit.mark = key.mark();
  for (const auto& bound : kBounds) limit.*bound.field = reader.number(bound.name);
  if (const Node* of = reader.get("of")) {
    const auto text = yaml::as_string(*of, diagnostics, what + ".of");
    const auto base = text ? parse_base(*text) : std::nullopt;
    if (text && !base) {
      diagnostics.error(of->mark(), fmt::format("{}.of: expected peak, peers or baseline, got '{}' "
                                                "(leave `of` out for an absolute limit)",
                                                what, *text));
    }
    if (base) limit.of = *base;
  }
  reader.finish();

  // Judged on the keys, not the values read: `{min: x}` already has its own error.
  bool any = false;
  for (const auto& bound : kBounds) any = any || value.find(bound.name) != nullptr;
  if (!any) {
    diagnostics.error(value.mark(),
                      fmt::format("{}: needs at least one of min, max, marginal_min, marginal_max", what));
  }
  if (limit.of != LimitBase::absolute) {
    for (const auto& bound : kBounds) {
      const auto& v = limit.*bound.field;
      if (!v || (*v > 0 && *v <= kMaxLimitFraction)) continue;
      diagnostics.error(value.find(bound.name)->mark(),
                        fmt::format("{}.{}: with `of: {}` bounds are fractions in (0, {}], got {}", what, bound.name,
                                    to_string(limit.of), format_number(kMaxLimitFraction), format_number(*v)));
    }
  }
  check_order(limit, value, diagnostics, what);
  return limit;
}

}  // namespace

std::vector<Limit> read_limits(const Node& node, const PatternSpec* pattern, const PatternRegistry& registry,
                               Diagnostics& diagnostics, const std::string& path) {
  std::vector<Limit> limits;
  if (!node.is_map()) {
    diagnostics.error(node.mark(), fmt::format("{}: expected a mapping such as {{sdc_errors: {{max: 0}}}}, got a {}",
                                               path, Node::kind_name(node.kind())));
    return limits;
  }
  for (const auto& [key, value] : node.entries()) {
    if (pattern != nullptr && !registry.is_known_metric(*pattern, key.scalar())) {
      diagnostics.error(key.mark(), fmt::format("{}: unknown metric '{}' for pattern '{}' (known: {})", path,
                                                key.scalar(), pattern->name, known_metrics(*pattern)));
    }
    auto limit = read_limit(key, value, diagnostics, fmt::format("{}.{}", path, key.scalar()));
    if (limit) limits.push_back(std::move(*limit));
  }
  return limits;
}

}  // namespace kiln::plan
