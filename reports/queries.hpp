#pragma once
// The reading side of Kiln: runs, reports, inventory and telemetry as JSON
// (or CSV), built from a read-only store connection. kilnd answers clients'
// Query messages with these, and `kiln … --db FILE` calls them directly, so
// both print exactly the same thing.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "schema/store.hpp"

namespace kiln::reports {

Result<std::string> runs_json(store::Reader& reader);
Result<std::string> run_json(store::Reader& reader, std::uint64_t run_id);
// DESIGN §6.
Result<std::string> report_json(store::Reader& reader, std::uint64_t run_id);
Result<std::string> chips_json(store::Reader& reader);
Result<std::string> chip_json(store::Reader& reader, const std::string& serial);
// The audit trail, oldest first: {"events": [{id, time, unix_ms, kind,
// actor, peer, run, serial, count, detail}]}; filters as Reader::events.
Result<std::string> events_json(store::Reader& reader, std::uint64_t run_id, std::int64_t since_unix_ms,
                                std::size_t limit);
// CSV with a header: serial,step,t_s,time,metric,value; only the values
// inside `windows` when there are any (Reader::telemetry).
Status telemetry_csv(store::Reader& reader, std::uint64_t run_id, const std::string& serial, const std::string& metric,
                     std::ostream& out, const std::vector<store::TelemetryWindow>& windows = {});

}  // namespace kiln::reports
