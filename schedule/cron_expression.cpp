#include "schedule/cron_expression.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <vector>

namespace kiln::schedule {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  // Names accepted in place of numbers (jan…dec, sun…sat), index + first.
  const std::array<std::string_view, 12>* names = nullptr;
  int names_first = 0;
  int names_count = 0;
};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> kWeekdayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

const FieldSpec kFields[5] = {
    {"minute", 0, 59},
    {"hour", 0, 23},
    {"day of month", 1, 31},
    {"month", 1, 12, &kMonthNames, 1, 12},
    {"day of week", 0, 7, &kWeekdayNames, 0, 7},
};

struct Token {
  std::string_view text;
  std::size_t column;  // 1-based, in the whole expression
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Error field_error(std::string_view expression, const FieldSpec& spec, const Token& token, std::string_view why) {
  return make_error(ErrorCode::parse, "cron \"{}\": column {}: {} field \"{}\": {}", expression, token.column,
                    spec.name, token.text, why);
}

std::optional<int> read_value(std::string_view text, const FieldSpec& spec) {
  if (text.empty()) return std::nullopt;
  if (spec.names != nullptr) {
    const std::string name = lower(text);
    for (int i = 0; i < spec.names_count; ++i) {
      if ((*spec.names)[static_cast<std::size_t>(i)] == name) return spec.names_first + i;
    }
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// One field: "*", "*/15", "5", "1-5", "1-31/2", "mon-fri", "1,15,30".
template <std::size_t N>
Status parse_field(std::string_view expression, const FieldSpec& spec, const Token& field, std::bitset<N>& bits,
                   bool& restricted) {
  restricted = field.text.front() != '*';
  std::size_t start = 0;
  while (start <= field.text.size()) {
    const std::size_t comma = field.text.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? field.text.size() : comma;
    const Token item{field.text.substr(start, end - start), field.column + start};
    if (item.text.empty()) return field_error(expression, spec, field, "empty list item");

    std::string_view range = item.text;
    int step = 1;
    if (const std::size_t slash = range.find('/'); slash != std::string_view::npos) {
      const std::string_view step_text = range.substr(slash + 1);
      int parsed = 0;
      const auto [p, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), parsed);
      if (ec != std::errc() || p != step_text.data() + step_text.size() || parsed < 1 ||
          parsed > spec.max - spec.min + 1) {
        return field_error(expression, spec, item,
                           fmt::format("step must be a whole number from 1 to {}", spec.max - spec.min + 1));
      }
      step = parsed;
      range = range.substr(0, slash);
    }
    int low = 0;
    int high = 0;
    if (range == "*") {
      low = spec.min;
      high = spec.max == 7 ? 6 : spec.max;  // day of week: 7 is Sunday again
    } else {
      const std::size_t dash = range.find('-');
      const auto first = read_value(range.substr(0, dash), spec);
      if (!first) return field_error(expression, spec, item, "not a number or name");
      low = *first;
      high = low;
      if (dash != std::string_view::npos) {
        const auto last = read_value(range.substr(dash + 1), spec);
        if (!last) return field_error(expression, spec, item, "range end is not a number or name");
        high = *last;
      } else if (step != 1) {
        high = spec.max;  // "5/15": from 5 to the end, every 15
      }
      if (low < spec.min || high > spec.max) {
        return field_error(expression, spec, item, fmt::format("out of range {}–{}", spec.min, spec.max));
      }
      if (low > high) return field_error(expression, spec, item, "range runs backwards");
    }
    for (int v = low; v <= high; v += step) bits.set(static_cast<std::size_t>(spec.max == 7 ? v % 7 : v));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return {};
}

std::vector<Token> split_fields(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) tokens.push_back({text.substr(start, i - start), start + 1});
  }
  return tokens;
}

std::optional<std::string_view> expand_macro(std::string_view text) {
  const std::string name = lower(text);
  if (name == "@hourly") return "0 * * * *";
  if (name == "@daily" || name == "@midnight") return "0 0 * * *";
  if (name == "@weekly") return "0 0 * * 0";
  if (name == "@monthly") return "0 0 1 * *";
  if (name == "@yearly" || name == "@annually") return "0 0 1 1 *";
  return std::nullopt;
}

constexpr int kMaxDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

}  // namespace

Result<CronExpression> CronExpression::parse(std::string_view text) {
  if (text.size() > 256) return make_error(ErrorCode::parse, "cron expression longer than 256 characters");
  std::vector<Token> fields = split_fields(text);
  std::string_view fields_text = text;
  if (fields.size() == 1 && fields[0].text.front() == '@') {
    const auto expanded = expand_macro(fields[0].text);
    if (!expanded) {
      return make_error(ErrorCode::parse,
                        "cron \"{}\": unknown macro (@hourly, @daily, @midnight, @weekly, @monthly, @yearly, "
                        "@annually)",
                        text);
    }
    fields_text = *expanded;
    fields = split_fields(fields_text);
  }
  if (fields.size() != 5) {
    return make_error(ErrorCode::parse,
                      "cron \"{}\": {} field(s); expected 5: minute hour day-of-month month day-of-week", text,
                      fields.size());
  }
  CronExpression cron;
  cron.text_ = std::string(text);
  bool minutes_restricted = false;
  bool hours_restricted = false;
  bool months_restricted = false;
  KILN_TRY(parse_field(text, kFields[0], fields[0], cron.minutes_, minutes_restricted));
  KILN_TRY(parse_field(text, kFields[1], fields[1], cron.hours_, hours_restricted));
  KILN_TRY(parse_field(text, kFields[2], fields[2], cron.days_of_month_, cron.days_of_month_restricted_));
  KILN_TRY(parse_field(text, kFields[3], fields[3], cron.months_, months_restricted));
  KILN_TRY(parse_field(text, kFields[4], fields[4], cron.weekdays_, cron.weekdays_restricted_));

  // "0 0 30 2 *" would never fire: say so now rather than never. Every
  // (month, day of month, weekday) of the calendar, 29 February included,
  // falls on each weekday within one 400-year cycle, so a day that can match
  // is one that will.
  bool possible = false;
  for (int month = 1; month <= 12 && !possible; ++month) {
    for (int day = 1; day <= kMaxDays[month] && !possible; ++day) {
      for (int weekday = 0; weekday < 7 && !possible; ++weekday) possible = cron.day(month, day, weekday);
    }
  }
  if (!possible) {
    return make_error(ErrorCode::parse, "cron \"{}\": no month selected has the day(s) selected", text);
  }
  return cron;
}

bool CronExpression::day(int month, int day_of_month, int weekday) const {
  if (!months_.test(static_cast<std::size_t>(month))) return false;
  const bool by_dom = days_of_month_.test(static_cast<std::size_t>(day_of_month));
  const bool by_dow = weekdays_.test(static_cast<std::size_t>(weekday));
  if (days_of_month_restricted_ && weekdays_restricted_) return by_dom || by_dow;
  return by_dom && by_dow;
}

}  // namespace kiln::schedule
