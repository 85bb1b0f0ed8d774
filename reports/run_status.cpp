#include "reports/run_status.hpp"

#include <array>
#include <utility>

namespace kiln::reports {
namespace {

using kiln::v1::RunStatus;

constexpr std::array<std::pair<RunStatus, std::string_view>, 5> kWords{{
    {kiln::v1::RUN_QUEUED, "queued"},
    {kiln::v1::RUN_RUNNING, "running"},
    {kiln::v1::RUN_COMPLETED, "completed"},
    {kiln::v1::RUN_ABORTED, "aborted"},
    {kiln::v1::RUN_ERROR, "error"},
}};

}  // namespace

RunStatus run_status_of(std::string_view status) {
  for (const auto& [value, word] : kWords) {
    if (word == status) return value;
  }
  return kiln::v1::RUN_STATUS_UNSPECIFIED;
}

std::string_view to_string(RunStatus status) {
  for (const auto& [value, word] : kWords) {
    if (value == status) return word;
  }
  return "unknown";
}

bool is_finished(RunStatus status) {
  return status == kiln::v1::RUN_COMPLETED || status == kiln::v1::RUN_ABORTED || status == kiln::v1::RUN_ERROR;
}

}  // namespace kiln::reports
