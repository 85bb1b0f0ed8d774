#pragma once
// A chip's stored telemetry reduced to min/avg/max per time bucket, on the
// run's time axis (chip seconds since the run's first phase began): what the
// HTML report charts. There are no stored roll-ups yet, so chip_rollup reads
// the raw series (the typed TELEMETRY answer) and reduces them here; when the
// store keeps roll-ups, chip_rollup is the one function that asks for them
// instead.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "reports/report_sources.hpp"
#include "schema/kiln.pb.h"

namespace kiln::reports {

inline constexpr std::size_t kChartBuckets = 200;

struct RollupBucket {
  double t0_s = 0, t1_s = 0;  // [t0, t1) on the run's time axis
  double min = 0, avg = 0, max = 0;
  std::size_t count = 0;  // 0: no available sample fell in it (a gap, never a zero)
};

struct TimedValue {
  double t_s = 0;  // on the run's time axis
  double value = 0;
};

// `buckets` equal buckets over [0, end_s); NaN values (unavailable) are left
// out, values outside the span go to the nearest end bucket.
std::vector<RollupBucket> reduce_to_buckets(const std::vector<TimedValue>& samples, double end_s, std::size_t buckets);

// Where each step starts on the run's time axis: its phase's start (a
// phase lasts as long as its longest step), by step_index.
std::map<std::uint32_t, double> step_starts(const kiln::v1::RunPlan& plan);
// The run's length on that axis.
double run_length_s(const kiln::v1::RunPlan& plan);

struct MetricRollup {
  std::string metric;
  std::vector<RollupBucket> buckets;
};

// One chip's rolled-up series for `metrics` (those with no stored sample are
// left out), in the order given.
Result<std::vector<MetricRollup>> chip_rollup(const ReportSources& sources, const kiln::v1::RunPlan& plan,
                                              const std::string& serial, const std::vector<std::string>& metrics,
                                              std::size_t buckets = kChartBuckets);

}  // namespace kiln::reports
