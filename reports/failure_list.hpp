#pragma once
// A chip's failures as a report lists them: each (step, class, location)
// once. The judge can record the same failure more than once for one
// chip-step — a link trained narrow is located by each bandwidth limit it
// breaks (`link_gbps` and `busbw_gbps` both give link_degraded at that
// link), and a link's corrupted data (a health watch) and its CRC errors
// over a limit are both link_errors at that link. The report keeps the first
// (the judge lists health watches first) and adds the others' details to it.

#include <vector>

#include "schema/store.hpp"

namespace kiln::reports {

// In the order given; a later duplicate's distinct detail is appended to the
// kept failure's ("; "-separated). Locations compare as JSON values, so key
// order does not matter.
std::vector<store::FailureRow> distinct_failures(const std::vector<store::FailureRow>& failures);

}  // namespace kiln::reports
