#pragma once
// Instants for the schedule tests, written as a UTC day and time.
#include <date/date.h>

#include "schedule/fire_times.hpp"

namespace kiln::schedule::testing {

inline Instant utc(date::year_month_day day, std::chrono::hours h, std::chrono::minutes m = std::chrono::minutes(0)) {
  return Instant{date::sys_days{day}} + h + m;
}

}  // namespace kiln::schedule::testing
