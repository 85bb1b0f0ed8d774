#pragma once
// kilnd's answers to reading requests: what the store says (reports/, the
// same functions `kiln --db FILE` calls) with what only the running daemon
// knows added at this edge — a live run's progress from the run manager.
// Called on the query pool (one store connection per call).

#include <cstdint>
#include <optional>
#include <string>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "daemon/run_progress.hpp"
#include "schema/kiln.pb.h"

namespace kiln::daemon {

// A Query (not RACKS) answered from the database at `db_path`. `live` is
// the run manager's progress of the queried run, if it has one: merged into
// the RUN JSON as its "progress" object, or into the typed RunProgress.
// `waiting`: why each queued run waits, merged into the RUNS JSON as each
// queued run's "waiting".
Result<kiln::v1::QueryReply> answer_from_store(const std::string& db_path, const kiln::v1::Query& query,
                                               const std::optional<RunProgress>& live,
                                               const std::map<std::uint64_t, std::string>& waiting = {});
// GetPlan: the run's steps and their typed limits.
Result<kiln::v1::QueryReply> plan_from_store(const std::string& db_path, std::uint64_t run_id);

// The run manager's struct as the wire's message (fills the live fields).
void add_live_progress(const RunProgress& progress, kiln::v1::RunProgress& message);

}  // namespace kiln::daemon
