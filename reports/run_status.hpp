#pragma once
// A run's status (DESIGN §6) between the words the store and the JSON
// documents use ("completed") and the wire's enum (kiln.v1.RunStatus).

#include <string_view>

#include "schema/kiln.pb.h"

namespace kiln::reports {

// RUN_STATUS_UNSPECIFIED for a word that is not a run status.
kiln::v1::RunStatus run_status_of(std::string_view status);
// "queued", …; "unknown" for RUN_STATUS_UNSPECIFIED.
std::string_view to_string(kiln::v1::RunStatus status);
// completed, aborted or error: the run will not change any more.
bool is_finished(kiln::v1::RunStatus status);

}  // namespace kiln::reports
