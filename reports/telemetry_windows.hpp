#pragma once
// What a chart asks of the stored telemetry besides the raw values: the
// Query's per-step time windows, checked (TELEMETRY, typed and CSV alike),
// and one chip's stored roll-ups over a run (Query ROLLUPS, typed only;
// docs/design.md §8 and docs/telemetry-storage.md, "Dashboard charts").

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"

namespace kiln::reports {

// A zoomed chart spans a few steps; 64 is more than any plan's steps in one view.
inline constexpr std::size_t kMaxTimeWindows = 64;

// The query's windows as the store's; invalid_argument for more than
// kMaxTimeWindows, a bound that is not finite or from_t_s > to_t_s.
Result<std::vector<store::TelemetryWindow>> windows_of(const kiln::v1::Query& query);

// Every roll-up of `serial` in the run, one MetricRollups per (step,
// metric) by step then metric name, with when the run's raw telemetry was
// pruned. not_found for an unknown run or serial; invalid_argument without one.
Result<kiln::v1::TelemetryRollups> chip_rollups(store::Reader& reader, std::uint64_t run_id, const std::string& serial);

}  // namespace kiln::reports
