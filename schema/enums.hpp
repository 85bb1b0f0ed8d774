#pragma once
// The wire's enums and the C++ vocabulary they carry (metrics/): one
// conversion each way, so no room compares their names as text.

#include <optional>
#include <string_view>

#include "metrics/failure_class.hpp"
#include "schema/kiln.pb.h"

namespace kiln::wire {

kiln::v1::FailureClass to_proto(metrics::FailureClass cls);
// nullopt for FAILURE_CLASS_UNSPECIFIED (or a value this build does not know).
std::optional<metrics::FailureClass> from_proto(kiln::v1::FailureClass cls);
// "sdc", …; empty for an unspecified class.
std::string_view failure_class_name(kiln::v1::FailureClass cls);

std::string_view to_string(kiln::v1::DetectionKind kind);   // "corruption", "hang", …
std::string_view to_string(kiln::v1::AlarmKind kind);       // "failure", "agent_lost", …
std::string_view to_string(kiln::v1::LiveVerdict verdict);  // "" for none, "running", "pass", …
std::string_view to_string(kiln::v1::LiveRunState state);   // "queued", "running", "ended"

}  // namespace kiln::wire
