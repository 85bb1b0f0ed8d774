#pragma once
// A chip's telemetry reading as DESIGN §7 metric names. A field the backend
// cannot read is left out, never written as 0.

#include <string_view>
#include <vector>

#include "device/chip.hpp"
#include "metrics/catalog.hpp"

namespace kiln::agent {

// One value of a tick. `name` refers to storage that outlives every step:
// a catalog constant (metrics::kTflops.value) or link_metric_name()'s, so
// that a tick's values copy no string (a step records every one of them).
struct MetricValue {
  std::string_view name;
  double value = 0;
};
using MetricValues = std::vector<MetricValue>;

// "link3_gbps" (metrics::link_metric), from storage that lives as long as
// the process: made once per name, not every tick.
std::string_view link_metric_name(metrics::MetricName per_link, int link);

// temperature_c, hbm_temperature_c, power_w, clock_mhz, voltage_mv,
// utilization, throttled, hbm_ce, hbm_ue, link{i}_gbps, link{i}_crc_errors,
// link{i}_up — those the reading has — and link_crc_errors, the sum over
// the links, which plans limit as a common metric.
MetricValues telemetry_values(const device::Telemetry& telemetry);
// The same into `out`, replacing what it held (the chip loop calls this
// every tick, reusing the vector's storage).
void telemetry_values(const device::Telemetry& telemetry, MetricValues& out);

// The cumulative counters among them (hbm_ce, hbm_ue, link{i}_crc_errors,
// link_crc_errors):
// a step's summary starts with their value at the step's start.
MetricValues counter_values(const device::Telemetry& telemetry);

}  // namespace kiln::agent
