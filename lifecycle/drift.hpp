#pragma once
// Drift (docs/lifecycle.md): the figures that age — GEMM TFLOPS at a fixed
// clock, HBM bandwidth, temperature at a given power, correctable-error rate
// — compared with the chip's own history (one-sided CUSUM against a robust
// baseline) and with its SKU's peers (median/MAD). Drift past the threshold
// makes the chip suspect; `kiln chip SERIAL --drift` prints what this finds.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::lifecycle {

enum class Better { higher, lower };  // TFLOPS: higher; temperature, error rate: lower

struct DriftPoint {
  std::uint64_t run_id = 0;
  double value = 0;
};

struct DriftSettings {
  std::size_t baseline_runs = 3;  // the chip's first runs set its baseline (their median)
  double slack_sigma = 0.5;       // CUSUM allowance k, in σ
  double alarm_sigma = 5.0;       // CUSUM decision threshold h, in σ
  // σ never below this share of the baseline: a chip whose figures barely
  // move must not alarm on a 0.1 % wobble.
  double min_relative_sigma = 0.01;
  double peer_robust_z = 3.5;       // |x − median| / (1.4826·MAD) past this, on the bad side
  double peer_min_relative = 0.03;  // and at least this far from the peers' median
};

struct DriftFinding {
  std::string figure;
  bool alarm = false;
  std::optional<std::uint64_t> since_run;  // own history: the run at which the CUSUM crossed
  double baseline = 0;
  double latest = 0;
  double change = 0;  // (latest − baseline) / baseline
  std::string reason;
};

// The chip against its own history, in run order.
DriftFinding drift_against_history(const std::string& figure, Better better, const std::vector<DriftPoint>& history,
                                   const DriftSettings& settings = {});

// The chip's latest value against its SKU's peers' latest values.
DriftFinding drift_against_peers(const std::string& figure, Better better, double value,
                                 const std::vector<double>& peers, const DriftSettings& settings = {});

}  // namespace kiln::lifecycle
