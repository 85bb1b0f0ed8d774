#pragma once
// The text report's lines for chips a step could not judge (inconclusive)
// or lost to the infrastructure (error), folded by cause: in a lab with many
// faults one link going down stalls every collective of its rack, and an
// agent lost leaves all its chips in error, so the report says it once per
// cause — the verdict, the steps it hit and the reason — with the chips it
// hit, instead of once per chip. The JSON report keeps every chip's detail.

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace kiln::reports {

// At most this many serials are named on one line; the rest are counted.
constexpr std::size_t kSerialsShownPerCause = 5;

// "  <verdict> in step <label>[, <label>…] on <n> chips (<serials>): <reason>\n"
// per cause, in the order the causes first appear; one chip reads as before:
// "  <serial> <verdict> in step <label>: <reason>\n". `chips` is the report's
// `chips` array (DESIGN §6).
std::string inconclusive_by_cause(const nlohmann::json& chips);

}  // namespace kiln::reports
