#pragma once
// Canonical text of parameter values, as the loader stores them in
// Step::params and as runs record them (see ParamType):
//   integer, number  "8192", "0.9", "-3" — shortest text that reads back the
//                    same double, never an exponent, no trailing zeros
//   boolean          "true" | "false"
//   choice           the choice itself
//   size             bytes, "67108864"
//   duration         seconds, "90", "0.25"
//   size_list        bytes joined by ',', "1048576,67108864"
//   number_list      numbers joined by ',', "700,750,800"
// ParamView reads them back, so agents never re-parse YAML or units.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hpp"

namespace kiln::plan {

std::string format_number(double value);

// Each returns nullopt when the text cannot be read as that type.
std::optional<double> parse_number_text(std::string_view text);
std::optional<std::int64_t> parse_integer_text(std::string_view text);
std::optional<std::uint64_t> parse_size_text(std::string_view text);
std::optional<bool> parse_bool_text(std::string_view text);
std::optional<std::vector<double>> parse_number_list_text(std::string_view text);
std::optional<std::vector<std::uint64_t>> parse_size_list_text(std::string_view text);

// Typed, read-only access to a step's effective params. Every getter returns
// nullopt when the param is absent or its text has the wrong form. The map
// must outlive the view.
class ParamView {
 public:
  explicit ParamView(const std::map<std::string, std::string>& params) : params_(&params) {}

  std::optional<std::string> text(std::string_view name) const;
  std::optional<double> number(std::string_view name) const;
  std::optional<std::int64_t> integer(std::string_view name) const;
  std::optional<bool> boolean(std::string_view name) const;
  std::optional<std::uint64_t> size(std::string_view name) const;
  std::optional<Seconds> duration(std::string_view name) const;
  std::optional<std::vector<double>> numbers(std::string_view name) const;
  std::optional<std::vector<std::uint64_t>> sizes(std::string_view name) const;

 private:
  const std::string* find(std::string_view name) const;
  const std::map<std::string, std::string>* params_;
};

}  // namespace kiln::plan
