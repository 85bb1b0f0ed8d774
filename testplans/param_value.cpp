#include "testplans/param_value.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/units.hpp"
#include "testplans/param_text.hpp"

namespace kiln::plan {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// Spelled out for clang 14, which does not deduce an aggregate's arguments (P1816).
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

const char* article(ParamType type) { return type == ParamType::integer ? "an" : "a"; }

bool has_range(const ParamSpec& spec) { return spec.min < spec.max; }

// Sizes read better in their own unit: "0B is out of range [1B, 64GiB]".
std::string show(const ParamSpec& spec, double value) {
  if (spec.type == ParamType::size || spec.type == ParamType::size_list) {
    return format_size(static_cast<std::uint64_t>(value));
  }
  if (spec.type == ParamType::duration) return format_number(value) + "s";
  return format_number(value);
}

std::optional<std::string> out_of_range(const ParamSpec& spec, double value) {
  if (!std::isfinite(value)) return fmt::format("{} is not a finite number", value);
  if (!has_range(spec) || (value >= spec.min && value <= spec.max)) return std::nullopt;
  return fmt::format("{} is out of range [{}, {}]", show(spec, value), show(spec, spec.min), show(spec, spec.max));
}

template <typename T>
std::optional<ParamProblem> check_list(const ParamSpec& spec, const std::vector<T>& values) {
  if (values.empty()) return ParamProblem{"the list is empty", std::nullopt};
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (auto bad = out_of_range(spec, static_cast<double>(values[i]))) return ParamProblem{*bad, i};
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

ParamType type_of(const ParamValue& value) { return static_cast<ParamType>(value.index()); }

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::choice: return "choice";
    case ParamType::integer: return "integer";
    case ParamType::number: return "number";
    case ParamType::boolean: return "boolean";
    case ParamType::size: return "size";
    case ParamType::duration: return "duration";
    case ParamType::size_list: return "size_list";
    case ParamType::number_list: return "number_list";
  }
  return "?";
}

std::string to_text(const ParamValue& value) {
  return std::visit(
      Overloaded{[](const ChoiceValue& v) { return v.value; }, [](std::int64_t v) { return std::to_string(v); },
                 [](double v) { return format_number(v); }, [](bool v) { return std::string(v ? "true" : "false"); },
                 [](const SizeBytes& v) { return std::to_string(v.bytes); },
                 [](const DurationSeconds& v) { return format_number(v.seconds); },
                 [](const std::vector<std::uint64_t>& v) { return fmt::format("{}", fmt::join(v, ",")); },
                 [](const std::vector<double>& v) {
                   std::string out;
                   for (const double d : v) out += (out.empty() ? "" : ",") + format_number(d);
                   return out;
                 }},
      value);
}

std::optional<ParamValue> parse_param_text(const ParamSpec& spec, std::string_view text) {
  std::optional<ParamValue> value;
  switch (spec.type) {
    case ParamType::choice: value = ChoiceValue{std::string(text)}; break;
    case ParamType::integer:
      if (auto v = parse_integer_text(text)) value = *v;
      break;
    case ParamType::number:
      if (auto v = parse_number_text(text)) value = *v;
      break;
    case ParamType::boolean:
      if (auto v = parse_bool_text(text)) value = *v;
      break;
    case ParamType::size:
      if (auto v = parse_size_text(text)) value = SizeBytes{*v};
      break;
    case ParamType::duration:
      if (auto v = parse_number_text(text)) value = DurationSeconds{*v};
      break;
    case ParamType::size_list:
      if (auto v = parse_size_list_text(text)) value = std::move(*v);
      break;
    case ParamType::number_list:
      if (auto v = parse_number_list_text(text)) value = std::move(*v);
      break;
  }
  return value;
}

Result<ParamValue> value_from_text(const ParamSpec& spec, std::string_view text) {
  auto value = parse_param_text(spec, text);
  if (!value) {
    return make_error(ErrorCode::invalid_argument, "param {}: '{}' is not {} {}", spec.name, text, article(spec.type),
                      to_string(spec.type));
  }
  if (auto problem = check_param(spec, *value)) {
    return make_error(ErrorCode::invalid_argument, "param {}: {}", spec.name, problem->message);
  }
  return std::move(*value);
}

std::optional<ParamProblem> check_param(const ParamSpec& spec, const ParamValue& value) {
  if (type_of(value) != spec.type) {
    return ParamProblem{fmt::format("expected {} {}, got {} {}", article(spec.type), to_string(spec.type),
                                    article(type_of(value)), to_string(type_of(value))),
                        std::nullopt};
  }
  auto scalar = [&](double v) -> std::optional<ParamProblem> {
    if (auto bad = out_of_range(spec, v)) return ParamProblem{*bad, std::nullopt};
    return std::nullopt;
  };
  return std::visit(
      Overloaded{
          [&](const ChoiceValue& v) -> std::optional<ParamProblem> {
            if (std::find(spec.choices.begin(), spec.choices.end(), v.value) != spec.choices.end()) {
              return std::nullopt;
            }
            return ParamProblem{fmt::format("expected one of {}, got '{}'", join(spec.choices), v.value), std::nullopt};
          },
          [&](std::int64_t v) { return scalar(static_cast<double>(v)); }, [&](double v) { return scalar(v); },
          [](bool) -> std::optional<ParamProblem> { return std::nullopt; },
          [&](const SizeBytes& v) { return scalar(static_cast<double>(v.bytes)); },
          [&](const DurationSeconds& v) { return scalar(v.seconds); },
          [&](const std::vector<std::uint64_t>& v) { return check_list(spec, v); },
          [&](const std::vector<double>& v) { return check_list(spec, v); }},
      value);
}

const ParamValue* ParamSet::find(std::string_view name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

const ParamValue& ParamSet::at(std::string_view name) const {
  const ParamValue* v = find(name);
  if (v == nullptr) throw std::bad_variant_access();
  return *v;
}

const std::string& ParamSet::choice(std::string_view name) const { return std::get<ChoiceValue>(at(name)).value; }
std::int64_t ParamSet::integer(std::string_view name) const { return std::get<std::int64_t>(at(name)); }
double ParamSet::number(std::string_view name) const { return std::get<double>(at(name)); }
bool ParamSet::boolean(std::string_view name) const { return std::get<bool>(at(name)); }
std::uint64_t ParamSet::size(std::string_view name) const { return std::get<SizeBytes>(at(name)).bytes; }
double ParamSet::seconds(std::string_view name) const { return std::get<DurationSeconds>(at(name)).seconds; }
const std::vector<std::uint64_t>& ParamSet::sizes(std::string_view name) const {
  return std::get<std::vector<std::uint64_t>>(at(name));
}
const std::vector<double>& ParamSet::numbers(std::string_view name) const {
  return std::get<std::vector<double>>(at(name));
}

std::map<std::string, std::string> ParamSet::texts() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : values_) out[name] = to_text(value);
  return out;
}

Status check_params(const PatternSpec& pattern, const ParamSet& params) {
  for (const auto& [name, value] : params.all()) {
    const ParamSpec* spec = pattern.find_param(name);
    if (spec == nullptr) {
      return make_error(ErrorCode::invalid_argument, "param {} is not a param of pattern {}", name, pattern.name);
    }
    if (auto problem = check_param(*spec, value)) {
      return make_error(ErrorCode::invalid_argument, "param {}{}: {}", name,
                        problem->element ? fmt::format("[{}]", *problem->element) : "", problem->message);
    }
  }
  for (const auto& spec : pattern.params) {
    if (params.find(spec.name) == nullptr) {
      return make_error(ErrorCode::invalid_argument, "param {} is missing", spec.name);
    }
  }
  return {};
}

Result<ParamSet> params_from_text(const PatternSpec& pattern, const std::map<std::string, std::string>& given) {
  ParamSet out;
  for (const auto& spec : pattern.params) {
    const auto it = given.find(spec.name);
    KILN_TRY_ASSIGN(auto value, value_from_text(spec, it != given.end() ? it->second : spec.default_text));
    out.set(spec.name, std::move(value));
  }
  for (const auto& [name, text] : given) {
    if (pattern.find_param(name) == nullptr) {
      return make_error(ErrorCode::invalid_argument, "param {} is not a param of pattern {}", name, pattern.name);
    }
  }
  return out;
}

}  // namespace kiln::plan
