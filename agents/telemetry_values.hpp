#pragma once
// A chip's telemetry reading as DESIGN §7 metric names. A field the backend
// cannot read is left out, never written as 0.

#include <string>
#include <utility>
#include <vector>

#include "device/chip.hpp"

namespace kiln::agent {

using MetricValues = std::vector<std::pair<std::string, double>>;

// temperature_c, hbm_temperature_c, power_w, clock_mhz, voltage_mv,
// utilization, throttled, hbm_ce, hbm_ue, link{i}_gbps, link{i}_crc_errors,
// link{i}_up — those the reading has — and link_crc_errors, the sum over
// the links, which plans limit as a common metric.
MetricValues telemetry_values(const device::Telemetry& telemetry);
// The same into `out`, replacing what it held and reusing its strings'
// storage (the chip loop calls this every tick).
void telemetry_values(const device::Telemetry& telemetry, MetricValues& out);

// The cumulative counters among them (hbm_ce, hbm_ue, link{i}_crc_errors,
// link_crc_errors):
// a step's summary starts with their value at the step's start.
MetricValues counter_values(const device::Telemetry& telemetry);

}  // namespace kiln::agent
