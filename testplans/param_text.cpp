#include "testplans/param_text.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace kiln::plan {

std::string format_number(double value) {
  if (value == 0) return "0";  // also turns -0 into 0
  // Fixed notation, shortest digits that round-trip: "0.9", "8192",
  // "1000000" (the default format would write 1e+06).
  std::array<char, 400> buffer{};  // enough for any finite double in fixed notation
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
  if (ec != std::errc{}) return "nan";  // unreachable for finite values; the loader rejects the rest
  return std::string(buffer.data(), end);
}

namespace {

template <typename T>
std::optional<T> parse_whole(std::string_view text) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

template <typename T, typename Parse>
std::optional<std::vector<T>> parse_list(std::string_view text, Parse parse) {
  std::vector<T> values;
  while (true) {
    const std::size_t comma = text.find(',');
    const auto value = parse(text.substr(0, comma));
    if (!value) return std::nullopt;
    values.push_back(*value);
    if (comma == std::string_view::npos) return values;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace

std::optional<double> parse_number_text(std::string_view text) {
  const auto value = parse_whole<double>(text);
  if (!value || !std::isfinite(*value)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_integer_text(std::string_view text) { return parse_whole<std::int64_t>(text); }

std::optional<std::uint64_t> parse_size_text(std::string_view text) { return parse_whole<std::uint64_t>(text); }

std::optional<bool> parse_bool_text(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

std::optional<std::vector<double>> parse_number_list_text(std::string_view text) {
  return parse_list<double>(text, parse_number_text);
}

std::optional<std::vector<std::uint64_t>> parse_size_list_text(std::string_view text) {
  return parse_list<std::uint64_t>(text, parse_size_text);
}

const std::string* ParamView::find(std::string_view name) const {
  const auto it = params_->find(std::string(name));
  return it == params_->end() ? nullptr : &it->second;
}

std::optional<std::string> ParamView::text(std::string_view name) const {
  const std::string* t = find(name);
  return t ? std::optional<std::string>(*t) : std::nullopt;
}

std::optional<double> ParamView::number(std::string_view name) const {
  const std::string* t = find(name);
  return t ? parse_number_text(*t) : std::nullopt;
}

std::optional<std::int64_t> ParamView::integer(std::string_view name) const {
  const std::string* t = find(name);
  return t ? parse_integer_text(*t) : std::nullopt;
}

std::optional<bool> ParamView::boolean(std::string_view name) const {
  const std::string* t = find(name);
  return t ? parse_bool_text(*t) : std::nullopt;
}

std::optional<std::uint64_t> ParamView::size(std::string_view name) const {
  const std::string* t = find(name);
  return t ? parse_size_text(*t) : std::nullopt;
}

std::optional<Seconds> ParamView::duration(std::string_view name) const {
  const auto seconds = number(name);
  return seconds ? std::optional<Seconds>(Seconds{*seconds}) : std::nullopt;
}

std::optional<std::vector<double>> ParamView::numbers(std::string_view name) const {
  const std::string* t = find(name);
  return t ? parse_number_list_text(*t) : std::nullopt;
}

std::optional<std::vector<std::uint64_t>> ParamView::sizes(std::string_view name) const {
  const std::string* t = find(name);
  return t ? parse_size_list_text(*t) : std::nullopt;
}

}  // namespace kiln::plan
