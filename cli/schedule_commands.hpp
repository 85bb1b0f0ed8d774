#pragma once
// kiln schedule add|list|show|disable|enable|remove (docs/scheduling.md):
// nightly work that kilnd submits at each fire time of a cron expression in
// an explicit time zone. Each returns the process exit status.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace kiln::cli {

struct ScheduleAddOptions {
  std::string name;
  std::string plan;  // a plan file, checked here first (file:line:col)
  std::string cron;
  std::string time_zone;
  std::vector<std::string> racks;
  std::string sku;
  std::int32_t priority = 0;
  std::optional<std::string> max_wall;  // durations: "6h"
  std::optional<std::string> queue_timeout;
  std::string jitter;
  std::string catch_up = "skip";  // skip | run-once | "run-once-within 6h"
  bool json = false;
};
int schedule_add(const GlobalOptions& global, const ScheduleAddOptions& options);
int schedule_list(const GlobalOptions& global, bool json);
int schedule_show(const GlobalOptions& global, const std::string& name, bool json);
// action: disable | enable | remove
int schedule_change(const GlobalOptions& global, const std::string& name, const std::string& action);

}  // namespace kiln::cli
