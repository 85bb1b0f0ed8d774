#pragma once
// A chip's lifecycle state, by serial (docs/lifecycle.md):
//   unknown → healthy → suspect → quarantined → rma → retired, and maintenance.

#include <optional>
#include <string_view>

namespace kiln::lifecycle {

enum class ChipState { unknown, healthy, suspect, quarantined, rma, retired, maintenance };

std::string_view to_string(ChipState state);
std::optional<ChipState> parse_chip_state(std::string_view text);

// Whether a chip in `state` is given ordinary (scheduled) work: a suspect
// chip keeps running it, and its clean passes bring it back; a quarantined
// one runs only its retests; rma, retired and maintenance nothing.
bool takes_scheduled_work(ChipState state);

}  // namespace kiln::lifecycle
