#pragma once
// What a step saw, aggregated per (class, metric, location): an SDC at the
// same PE and bit seen 17 times is one Detection with count 17, its first and
// last time, and the conditions at the first occurrence (DESIGN §5).
//
// Distinct locations are capped so that one ChipStepResult always fits a
// frame even when a margin fault corrupts random PEs; past the cap, new
// locations are counted in one detection of that class without a location.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "device/chip.hpp"
#include "metrics/failure_class.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

using Location = std::vector<std::pair<std::string, std::int64_t>>;  // core, pe_row, pe_col, bit, link, …

// What was seen: its failure class and what happened (the judge's rules
// read the kind, never the detail text).
struct Finding {
  metrics::FailureClass cls = metrics::FailureClass::sdc;
  kiln::v1::DetectionKind kind = kiln::v1::DETECTION_CORRUPTION;
};

// When something was seen: step time, wall time, and the chip's reading then.
struct Moment {
  double t_s = 0;
  std::int64_t wall_unix_ms = 0;
  const device::Telemetry* telemetry = nullptr;  // may be null: no conditions
};

class DetectionLog {
 public:
  static constexpr std::size_t kMaxDistinct = 256;

  explicit DetectionLog(std::size_t max_distinct = kMaxDistinct) : max_distinct_(max_distinct) {}

  void record(Finding what, std::string_view metric, const Location& location, std::uint64_t count, const Moment& at,
              std::string_view detail = {});

  // Total count of one class over every location.
  std::uint64_t count(metrics::FailureClass cls) const;
  std::size_t size() const { return order_.size(); }
  // In first-seen order.
  void write_to(kiln::v1::ChipStepResult& result) const;

 private:
  kiln::v1::Detection& slot(Finding what, std::string_view metric, const Location& location, const Moment& at,
                            std::string_view detail, bool& created);

  std::size_t max_distinct_;
  std::map<std::string, kiln::v1::Detection> by_key_;
  std::vector<std::string> order_;
};

kiln::v1::Conditions conditions_of(const device::Telemetry& telemetry);

}  // namespace kiln::agent
