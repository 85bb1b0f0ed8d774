#pragma once
// What makes `kiln lab` and `kiln run submit --wait` exit non-zero, so that
// a CI job fails on a bad chip (docs/cli.md, "Exit status"). A level names
// the least verdict that counts, in the order of docs/verdicts.md:
// pass < marginal < inconclusive < error < fail.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace kiln::reports {

enum class FailOn { never, marginal, inconclusive, error, fail };

// The run completed and at least one chip met --fail-on (3 already means
// an unknown run or serial).
inline constexpr int kExitChipsMetFailOn = 4;
inline constexpr FailOn kDefaultFailOn = FailOn::error;

const char* to_string(FailOn level);
std::optional<FailOn> parse_fail_on(std::string_view text);
std::vector<std::string> fail_on_names();  // most lenient last: fail, error, inconclusive, marginal, never

// Serials of the report's chips whose verdict is at or above `level`, in
// report order; invalid_argument when the report is not the JSON report of
// docs/design.md §6 or holds a verdict outside the five.
Result<std::vector<std::string>> chips_meeting(const std::string& report_json, FailOn level);

// "kiln: 2 chips at or above --fail-on error: TRN-0205 (fail), R01-03 (error)",
// or empty when none.
Result<std::string> fail_on_message(const std::string& report_json, FailOn level);

}  // namespace kiln::reports
