#pragma once
// A pattern's own figure for a metric the telemetry also reads.

#include <algorithm>

#include "agents/telemetry_values.hpp"
#include "metrics/catalog.hpp"

namespace kiln::agent {

// Replaces telemetry's reading of `name` (the chip's view of its last
// slice) with the step's own figure for the whole tick.
inline void put_own(MetricValues& values, metrics::MetricName name, double value) {
  std::erase_if(values, [&](const MetricValue& v) { return v.name == name.value; });
  values.push_back({name.value, value});
}

}  // namespace kiln::agent
