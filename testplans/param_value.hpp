#pragma once
// Typed parameter values, end to end: the plan loader reads YAML into them,
// the daemon sends them in StepSpec (testplans/param_wire.hpp), and the
// agent's patterns read them. check_param() is the one place a value is
// held against its ParamSpec (type and bounds): the loader calls it for
// what a plan gives, the agent for what a peer sent, so the registry's
// bounds have no second copy anywhere.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::plan {

// One alternative per ParamType, in its order, so that the index is the type.
struct ChoiceValue {
  std::string value;
  bool operator==(const ChoiceValue&) const = default;
};
struct SizeBytes {
  std::uint64_t bytes = 0;
  bool operator==(const SizeBytes&) const = default;
};
struct DurationSeconds {
  double seconds = 0;
  bool operator==(const DurationSeconds&) const = default;
};
using ParamValue = std::variant<ChoiceValue, std::int64_t, double, bool, SizeBytes, DurationSeconds,
                                std::vector<std::uint64_t>, std::vector<double>>;

ParamType type_of(const ParamValue& value);
const char* to_string(ParamType type);

// Canonical text (testplans/param_text.hpp), what runs record.
std::string to_text(const ParamValue& value);
// Reads canonical text as `spec` says, checked: the registry's defaults and
// tests' shorthand. Only testplans reads text; peers send typed values.
Result<ParamValue> value_from_text(const ParamSpec& spec, std::string_view text);
// The same without the check (nullopt: not of the spec's type), for tests
// that send a peer a value out of bounds.
std::optional<ParamValue> parse_param_text(const ParamSpec& spec, std::string_view text);

// Why a value does not fit its spec; `element` is the list element at fault.
struct ParamProblem {
  std::string message;  // "0 is out of range [1, 65536]", without the param's name
  std::optional<std::size_t> element;
};
// The value has the spec's type, is one of its choices, within its bounds
// (each element of a list, which is not empty).
std::optional<ParamProblem> check_param(const ParamSpec& spec, const ParamValue& value);

// Every param of a step, by name: validated, with every default filled in.
class ParamSet {
 public:
  void set(std::string name, ParamValue value) { values_.insert_or_assign(std::move(name), std::move(value)); }
  const ParamValue* find(std::string_view name) const;
  const std::map<std::string, ParamValue, std::less<>>& all() const { return values_; }
  bool empty() const { return values_.empty(); }

  // Typed reads of a set that passed check_params(): the param is there
  // with this type. A read of the wrong type is a programming error and
  // throws std::bad_variant_access.
  const std::string& choice(std::string_view name) const;
  std::int64_t integer(std::string_view name) const;
  double number(std::string_view name) const;
  bool boolean(std::string_view name) const;
  std::uint64_t size(std::string_view name) const;
  double seconds(std::string_view name) const;
  const std::vector<std::uint64_t>& sizes(std::string_view name) const;
  const std::vector<double>& numbers(std::string_view name) const;

  // Canonical text per param, what runs record (Step::params).
  std::map<std::string, std::string> texts() const;

 private:
  const ParamValue& at(std::string_view name) const;
  std::map<std::string, ParamValue, std::less<>> values_;
};

// `params` holds exactly `pattern`'s params, each passing check_param():
// what the agent asks of a StepSpec before its pattern is built.
Status check_params(const PatternSpec& pattern, const ParamSet& params);

// The pattern's defaults overlaid with `given` canonical text, checked:
// for tests and tools that spell params as text.
Result<ParamSet> params_from_text(const PatternSpec& pattern, const std::map<std::string, std::string>& given);

}  // namespace kiln::plan
