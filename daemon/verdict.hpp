#pragma once
// Verdicts (DESIGN §5) and their order of severity.

#include <optional>
#include <string_view>

namespace kiln::daemon {

// Ordered from best to worst. `fail` ranks above `error`: a chip that failed
// one step and lost its agent in another must never read as anything but
// failed (a faulty chip is never passed, nor hidden behind an infra error).
enum class Verdict { pass, marginal, inconclusive, error, fail };

const char* to_string(Verdict verdict);
std::optional<Verdict> parse_verdict(std::string_view text);
Verdict worst(Verdict a, Verdict b);

}  // namespace kiln::daemon
