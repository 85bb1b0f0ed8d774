#pragma once
// The patterns a plan may name, each with its typed parameters (and their
// defaults) and the metrics it produces. The plan loader validates against
// it, so an unknown pattern, parameter or metric is an error before a run
// starts. Registered by plain function calls, no static initialisers.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::plan {

enum class ParamType {
  choice,      // one of `choices`
  integer,     // within [min, max]
  number,      // within [min, max]
  boolean,     // true | false
  size,        // "64MiB"; canonical text is the byte count
  duration,    // "90s"; canonical text is seconds
  size_list,   // [1MiB, 64MiB]; canonical text is "1048576,67108864"
  number_list  // [700, 750, 800]; canonical text is "700,750,800"
};

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::number;
  std::string default_text;  // canonical text; every param has a default
  std::vector<std::string> choices;
  // Inclusive range for integer, number, size (bytes), duration (seconds)
  // and each element of a list; checked only when min < max.
  double min = 0;
  double max = 0;
  std::string help;
};

struct PatternSpec {
  std::string name;
  std::string help;
  std::vector<ParamSpec> params;
  std::vector<std::string> metrics;  // metrics this pattern produces, usable in limits
  const ParamSpec* find_param(std::string_view name) const;
};

class PatternRegistry {
 public:
  // The built-in patterns (register_builtin_patterns). Immutable.
  static const PatternRegistry& builtin();

  // Names are unique: adding a second pattern of the same name is a
  // programming error and throws std::logic_error.
  void add(PatternSpec spec);
  const PatternSpec* find(std::string_view name) const;
  std::vector<std::string> names() const;  // in registration order
  // Metrics every step can limit whatever its pattern: chip telemetry
  // (temperature_c, power_w, …) and derived ones (throttle_fraction).
  static const std::vector<std::string>& common_metrics();
  bool is_known_metric(const PatternSpec& pattern, std::string_view metric) const;

 private:
  std::vector<PatternSpec> specs_;
};

// gemm, hbm, collective, power, shmoo, idle.
void register_builtin_patterns(PatternRegistry& registry);

}  // namespace kiln::plan
