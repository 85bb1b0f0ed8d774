#include "schema/enums.hpp"

namespace kiln::wire {

// The proto enum lists the classes in metrics::FailureClass's order, from 1.
static_assert(kiln::v1::FAILURE_SDC == static_cast<int>(metrics::FailureClass::sdc) + 1);
static_assert(kiln::v1::FAILURE_HANG == static_cast<int>(metrics::FailureClass::hang) + 1);
static_assert(kiln::v1::FailureClass_MAX == kiln::v1::FAILURE_HANG);

kiln::v1::FailureClass to_proto(metrics::FailureClass cls) {
  return static_cast<kiln::v1::FailureClass>(static_cast<int>(cls) + 1);
}

std::optional<metrics::FailureClass> from_proto(kiln::v1::FailureClass cls) {
  if (cls < kiln::v1::FAILURE_SDC || cls > kiln::v1::FAILURE_HANG) return std::nullopt;
  return static_cast<metrics::FailureClass>(static_cast<int>(cls) - 1);
}

std::string_view failure_class_name(kiln::v1::FailureClass cls) {
  const auto known = from_proto(cls);
  return known ? metrics::to_string(*known) : std::string_view{};
}

std::string_view to_string(kiln::v1::DetectionKind kind) {
  switch (kind) {
    case kiln::v1::DETECTION_CORRUPTION: return "corruption";
    case kiln::v1::DETECTION_ERROR_COUNT: return "error_count";
    case kiln::v1::DETECTION_UNCORRECTABLE: return "uncorrectable";
    case kiln::v1::DETECTION_LINK_DROPPED: return "link_dropped";
    case kiln::v1::DETECTION_HANG: return "hang";
    case kiln::v1::DETECTION_CRITICAL_TEMPERATURE: return "critical_temperature";
    case kiln::v1::DETECTION_POINT_FAILED: return "point_failed";
    case kiln::v1::DETECTION_SHORTFALL: return "shortfall";
    default: return "unspecified";
  }
}

std::string_view to_string(kiln::v1::AlarmKind kind) {
  switch (kind) {
    case kiln::v1::ALARM_FAILURE: return "failure";
    case kiln::v1::ALARM_THROTTLING: return "throttling";
    case kiln::v1::ALARM_AGENT_LOST: return "agent_lost";
    case kiln::v1::ALARM_AGENT_BACK: return "agent_back";
    case kiln::v1::ALARM_AGENT_SILENT: return "agent_silent";
    default: return "unspecified";
  }
}

std::string_view to_string(kiln::v1::LiveVerdict verdict) {
  switch (verdict) {
    case kiln::v1::LIVE_VERDICT_RUNNING: return "running";
    case kiln::v1::LIVE_VERDICT_PASS: return "pass";
    case kiln::v1::LIVE_VERDICT_MARGINAL: return "marginal";
    case kiln::v1::LIVE_VERDICT_INCONCLUSIVE: return "inconclusive";
    case kiln::v1::LIVE_VERDICT_ERROR: return "error";
    case kiln::v1::LIVE_VERDICT_FAIL: return "fail";
    case kiln::v1::LIVE_VERDICT_OVER_LIMIT: return "over_limit";
    default: return "";
  }
}

std::string_view to_string(kiln::v1::LiveRunState state) {
  switch (state) {
    case kiln::v1::LIVE_RUN_QUEUED: return "queued";
    case kiln::v1::LIVE_RUN_RUNNING: return "running";
    case kiln::v1::LIVE_RUN_ENDED: return "ended";
    default: return "";
  }
}

}  // namespace kiln::wire
