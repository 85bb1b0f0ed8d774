#pragma once
// The params of the sim backend's non-GEMM patterns (testplans' registry:
// hbm, shmoo, power, collective), read from canonical text like parse_gemm_settings.

#include <cstdint>
#include <vector>

#include "agents/step_params.hpp"
#include "core/result.hpp"
#include "device/chip.hpp"
#include "device/collective.hpp"

namespace kiln::agent {

// hbm: test, fraction.
Result<device::MemoryWork> parse_hbm_settings(const StepParams& params);

// shmoo: voltage_mv × clock_mhz grid and the verified GEMM run at each point.
struct ShmooSettings {
  std::vector<double> voltages_mv;
  std::vector<double> clocks_mhz;
  device::GemmWork gemm;  // functional: every point is verified by ABFT
};
Result<ShmooSettings> parse_shmoo_settings(const StepParams& params);

// power: target_w (0 = the SKU's TDP, resolved by the runner), pulse_hz (0 = steady).
struct PowerSettings {
  double target_w = 0;
  double pulse_hz = 0;
};
Result<PowerSettings> parse_power_settings(const StepParams& params);

// collective: op, the sizes swept (each gets an equal share of the step), check.
struct CollectiveSettings {
  device::CollectiveOp op = device::CollectiveOp::allreduce;
  std::vector<std::uint64_t> sizes;
  bool check = true;
};
Result<CollectiveSettings> parse_collective_settings(const StepParams& params);

}  // namespace kiln::agent
