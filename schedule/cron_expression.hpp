#pragma once
// A schedule's cron expression (docs/scheduling.md): the five fields of
// crontab(5) — minute, hour, day of month, month, day of week — with lists,
// ranges, steps and names, or one of the macros @hourly, @daily
// (@midnight), @weekly, @monthly, @yearly (@annually). When both day fields
// are restricted a day matches either, as in Vixie cron. The expression
// describes local wall-clock times; fire_times.hpp maps them onto instants
// in a time zone.

#include <bitset>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace kiln::schedule {

class CronExpression {
 public:
  // Errors name the field and its column in `text` (1-based), so that a
  // schedule written in a plan or on the command line points at its mistake.
  static Result<CronExpression> parse(std::string_view text);

  const std::string& text() const { return text_; }

  bool minute(int m) const { return minutes_.test(static_cast<std::size_t>(m)); }  // 0–59
  bool hour(int h) const { return hours_.test(static_cast<std::size_t>(h)); }      // 0–23
  bool month(int m) const { return months_.test(static_cast<std::size_t>(m)); }    // 1–12
  // month 1–12, day_of_month 1–31, weekday 0–6 with 0 Sunday.
  bool day(int month, int day_of_month, int weekday) const;

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1–31
  std::bitset<13> months_;         // 1–12
  std::bitset<7> weekdays_;        // 0–6, Sunday 0 (7 is read as Sunday too)
  bool days_of_month_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace kiln::schedule
