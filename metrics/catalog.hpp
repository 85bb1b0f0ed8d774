#pragma once
// The one table of metrics (DESIGN §7): every metric Kiln measures, judges,
// stores or draws is declared here once, with its unit, its kind, the
// failure class a violated limit on it stands for, the peak figure an
// `of: peak` limit scales, and the precision it is stored at. Every room asks
// this table; none spells a metric name of its own (use the constants below).
//
// Per-link metrics are declared once as a template, "link{}_gbps", and
// instantiated per link index: link_metric(kLinkGbps, 3) is "link3_gbps".

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/failure_class.hpp"

namespace kiln::metrics {

enum class MetricKind {
  gauge,    // a reading at one moment (temperature, bandwidth)
  counter,  // cumulative within a run; a step's own count is max − min of its summary
  flag,     // true or false, carried as 1 or 0 (throttled, a link being up)
};
std::string_view to_string(MetricKind kind);

// Where a metric's values come from.
enum class MetricOrigin {
  telemetry,  // every telemetry sample of every step, when the backend can read it
  pattern,    // the figures of the patterns that list it (testplans' registry)
  step,       // one figure per step, derived from the step's telemetry
};

struct MetricDef {
  std::string name;   // "temperature_c"; a per-link template holds "{}" where the link index goes
  std::string label;  // for people: "Temperature"
  std::string unit;   // "°C", "TFLOPS"; empty for plain counts and ratios
  MetricKind kind = MetricKind::gauge;
  MetricOrigin origin = MetricOrigin::telemetry;
  // A limit on it may be set in any step, whatever its pattern (chip
  // telemetry and per-step figures); the others only in the steps of the
  // patterns that produce them.
  bool common = false;
  FailureClass failure_class = FailureClass::underperforming;  // when a limit on it is violated
  // The chip's peak figure that `of: peak` scales: empty for none, else a
  // key of the peaks an agent registers ("tdp_w"). With peak_param set the
  // key is "<peak_key>.<the step's value of that param>" ("tflops.bf16").
  std::string peak_key;
  std::string peak_param;
  std::string peak_param_default;  // when the step does not have that param
  // Stored resolution in the metric's unit: a value is kept exact to this
  // step (0.01 °C). Counters and flags are exact (1).
  double precision = 1;
  std::string help;

  bool per_link() const { return name.find("{}") != std::string::npos; }
};

// A metric name the code refers to: a compile-time constant, so that a
// misspelling does not compile. Its definition is in the catalog.
struct MetricName {
  std::string_view value;
  constexpr operator std::string_view() const { return value; }  // NOLINT(google-explicit-constructor)
  std::string str() const { return std::string(value); }
  // name == kTemperatureC for a std::string or string_view name (either order).
  friend constexpr bool operator==(MetricName a, std::string_view b) { return a.value == b; }
};

// Chip telemetry (DESIGN §7).
inline constexpr MetricName kTemperatureC{"temperature_c"};
inline constexpr MetricName kHbmTemperatureC{"hbm_temperature_c"};
inline constexpr MetricName kPowerW{"power_w"};
inline constexpr MetricName kClockMhz{"clock_mhz"};
inline constexpr MetricName kVoltageMv{"voltage_mv"};
inline constexpr MetricName kUtilization{"utilization"};
inline constexpr MetricName kThrottled{"throttled"};
inline constexpr MetricName kHbmCe{"hbm_ce"};
inline constexpr MetricName kHbmUe{"hbm_ue"};
inline constexpr MetricName kHbmGbps{"hbm_gbps"};
inline constexpr MetricName kLinkGbpsOf{"link{}_gbps"};             // per link
inline constexpr MetricName kLinkCrcErrorsOf{"link{}_crc_errors"};  // per link
inline constexpr MetricName kLinkUpOf{"link{}_up"};                 // per link
inline constexpr MetricName kLinkCrcErrors{"link_crc_errors"};      // the sum over the links
// Pattern figures.
inline constexpr MetricName kTflops{"tflops"};
inline constexpr MetricName kSdcErrors{"sdc_errors"};
inline constexpr MetricName kMemoryErrors{"memory_errors"};
inline constexpr MetricName kBusbwGbps{"busbw_gbps"};
inline constexpr MetricName kAlgbwGbps{"algbw_gbps"};
inline constexpr MetricName kLinkGbps{"link_gbps"};
inline constexpr MetricName kDataErrors{"data_errors"};
inline constexpr MetricName kShmooFailures{"shmoo_failures"};
// Per-step figures.
inline constexpr MetricName kThrottleFraction{"throttle_fraction"};
inline constexpr MetricName kLinkDown{"link_down"};

// Peak figures a chip registers that no metric is named after.
inline constexpr MetricName kTdpPeak{"tdp_w"};

// "link3_gbps" from kLinkGbpsOf and 3.
std::string link_metric(MetricName per_link, int link);

// A resolved name: the definition and, for a per-link instance, its link.
struct MetricRef {
  const MetricDef* def = nullptr;
  std::optional<int> link;
};

class MetricCatalog {
 public:
  // Every metric Kiln ships. Immutable.
  static const MetricCatalog& builtin();

  MetricCatalog() = default;
  // Names are unique: a second metric of the same name, or a per-link
  // template that is not "<prefix>{}<suffix>", is a programming error and
  // throws std::logic_error.
  void add(MetricDef def);

  // "temperature_c" → its definition; "link3_gbps" → the link{}_gbps
  // template with link 3. nullptr / def == nullptr when unknown.
  const MetricDef* find(std::string_view name) const;
  MetricRef resolve(std::string_view name) const;
  // The definition of a name the code refers to; it is always there.
  const MetricDef& at(MetricName name) const;

  // The key of the chip's peak figure an `of: peak` limit on `name` scales:
  // the definition's peak_key, with ".<the step's value of peak_param>" (its
  // default when the step has none) where it names one — "tflops.bf16",
  // "busbw_gbps.allreduce", "tdp_w". Empty when the metric has no peak.
  // `param` answers a step param's value (std::nullopt: not set).
  using ParamLookup = std::function<std::optional<std::string>(std::string_view param)>;
  std::string peak_key_for(std::string_view name, const ParamLookup& param) const;

  bool is_counter(std::string_view name) const;
  bool is_flag(std::string_view name) const;
  // The metrics a limit may name in any step.
  std::vector<std::string> common_names() const;
  const std::vector<MetricDef>& all() const { return defs_; }

 private:
  std::vector<MetricDef> defs_;
};

}  // namespace kiln::metrics
