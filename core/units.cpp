#include "core/units.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace kiln {
namespace {

struct NumberAndSuffix {
  double number = 0;
  std::string_view suffix;
};

Result<NumberAndSuffix> split_number(std::string_view text, std::string_view what) {
  const auto original = text;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::size_t end = 0;
  while (end < text.size() && ((text[end] >= '0' && text[end] <= '9') || text[end] == '.')) ++end;
  if (end == 0) {
    return make_error(ErrorCode::parse, "invalid {} '{}': expected a number followed by a unit", what, original);
  }
  double number = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, number);
  if (ec != std::errc{} || ptr != text.data() + end || !std::isfinite(number)) {
    return make_error(ErrorCode::parse, "invalid {} '{}': bad number", what, original);
  }
  return NumberAndSuffix{number, text.substr(end)};
}

}  // namespace

Result<Seconds> parse_duration(std::string_view text) {
  KILN_TRY_ASSIGN(const NumberAndSuffix split, split_number(text, "duration"));
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ms", 1e-3}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}, {"d", 86400.0}};
  for (const auto& [suffix, scale] : kUnits) {
    if (split.suffix == suffix) return Seconds{split.number * scale};
  }
  if (split.suffix.empty()) {
    return make_error(ErrorCode::parse, "invalid duration '{}': missing unit (ms, s, m, h or d)", text);
  }
  return make_error(ErrorCode::parse, "invalid duration '{}': unknown unit '{}' (ms, s, m, h or d)", text,
                    split.suffix);
}

Result<std::uint64_t> parse_size(std::string_view text) {
  KILN_TRY_ASSIGN(const NumberAndSuffix split, split_number(text, "size"));
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"", 1.0},   {"B", 1.0},  {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
      {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},     {"TB", 1e12}};
  for (const auto& [suffix, scale] : kUnits) {
    if (split.suffix != suffix) continue;
    const double bytes = split.number * scale;
    if (bytes > static_cast<double>(std::numeric_limits<std::uint64_t>::max()) / 2) {  // 2^63
      return make_error(ErrorCode::parse, "invalid size '{}': too large", text);
    }
    if (bytes != std::floor(bytes)) {
      return make_error(ErrorCode::parse, "invalid size '{}': not a whole number of bytes", text);
    }
    return static_cast<std::uint64_t>(bytes);
  }
  return make_error(ErrorCode::parse, "invalid size '{}': unknown unit '{}' (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)",
                    text, split.suffix);
}

std::string format_duration(Seconds seconds) {
  const double s = seconds.count();
  if (s <= 0.0) return "0s";
  if (s < 1.0) return fmt::format("{:.0f}ms", s * 1e3);
  if (s < 60.0) return s == std::floor(s) ? fmt::format("{:.0f}s", s) : fmt::format("{:.1f}s", s);
  const auto total = static_cast<long long>(std::llround(s));
  const long long h = total / 3600, m = (total % 3600) / 60, sec = total % 60;
  if (h > 0) return m > 0 ? fmt::format("{}h{:02}m", h, m) : fmt::format("{}h", h);
  return sec > 0 ? fmt::format("{}m{:02}s", m, sec) : fmt::format("{}m", m);
}

std::string format_size(std::uint64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  if (value == std::floor(value)) return fmt::format("{:.0f}{}", value, kNames[unit]);
  return fmt::format("{:.1f}{}", value, kNames[unit]);
}

}  // namespace kiln
