#pragma once
// Human units used in plans, lab files and on the command line:
// durations ("250ms", "90s", "5m", "8h", "1.5h") and sizes ("64MiB", "1GiB", "4KB").

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace kiln {

// Simulated and wall durations are both kept in seconds as double: the
// simulator advances in fractions of a millisecond and runs last hours.
using Seconds = std::chrono::duration<double>;

// Accepts a non-negative decimal number followed by one of ms, s, m, h, d.
// A bare number is rejected: "5" could mean seconds or minutes.
Result<Seconds> parse_duration(std::string_view text);

// Accepts a non-negative integer or decimal followed by B, KiB, MiB, GiB, TiB
// (powers of 1024) or KB, MB, GB, TB (powers of 1000). A bare integer is bytes.
Result<std::uint64_t> parse_size(std::string_view text);

std::string format_duration(Seconds seconds);  // "1h02m", "5m", "42.5s", "250ms"
std::string format_size(std::uint64_t bytes);  // "64MiB", "1.5GiB", "512B"

}  // namespace kiln
