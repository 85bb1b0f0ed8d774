#pragma once
// The morning digest (`kiln digest --since 24h`, docs/lifecycle.md): what
// ran in a window, the new failures with their location, the lifecycle
// transitions, drift alarms and circuit-breaker holds, the runs that
// errored and why, and the racks that were not tested and why.

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "schema/store.hpp"

namespace kiln::reports {

// JSON: {"since", "until", "runs": [...], "failures": [...], "transitions": [...],
//        "drift_alarms": [...], "breaker": [...], "slot_findings": [...],
//        "errored_runs": [...], "untested_racks": [...], "scheduled": [...]}
// ("scheduled": what each schedule's fire times in the window did).
Result<std::string> digest_json(store::Reader& reader, std::int64_t since_unix_ms, std::int64_t until_unix_ms);

// The same digest as text, from digest_json's JSON.
std::string digest_text(const std::string& digest_json);

}  // namespace kiln::reports
