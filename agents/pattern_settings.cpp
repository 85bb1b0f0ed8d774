#include "agents/pattern_settings.hpp"

namespace kiln::agent {

Result<device::MemoryWork> parse_hbm_settings(const StepParams& params) {
  device::MemoryWork work;
  auto test = params.choice("test", {"bandwidth", "walking_ones", "moving_inversions", "random"});
  if (!test) return test.error();
  // The choice list above is the device's list, so this always parses.
  work.pattern = device::parse_memory_pattern(*test).value_or(device::MemoryPattern::moving_inversions);
  auto fraction = params.number("fraction", 0.01, 1);
  if (!fraction) return fraction.error();
  work.fraction = *fraction;
  return work;
}

Result<ShmooSettings> parse_shmoo_settings(const StepParams& params) {
  ShmooSettings out;
  // The registry's ranges; what a given chip accepts is narrower and is
  // answered per point by set_operating_point.
  auto voltages = params.numbers("voltage_mv", 300, 1500);
  if (!voltages) return voltages.error();
  auto clocks = params.numbers("clock_mhz", 100, 5000);
  if (!clocks) return clocks.error();
  out.voltages_mv = std::move(voltages).value();
  out.clocks_mhz = std::move(clocks).value();

  // The GEMM params are gemm's, with ABFT verification always on.
  auto dtype = params.choice("dtype", {"fp32", "bf16", "fp16", "fp8"});
  if (!dtype) return dtype.error();
  if (*dtype == "fp32") out.gemm.dtype = device::DType::fp32;
  else if (*dtype == "bf16") out.gemm.dtype = device::DType::bf16;
  else if (*dtype == "fp16") out.gemm.dtype = device::DType::fp16;
  else out.gemm.dtype = device::DType::fp8;
  constexpr std::int64_t kMaxSide = std::int64_t{1} << 20;
  for (auto [name, field] : {std::pair{"m", &out.gemm.m}, std::pair{"n", &out.gemm.n}, std::pair{"k", &out.gemm.k}}) {
    auto v = params.integer(name, 1, kMaxSide);
    if (!v) return v.error();
    *field = *v;
  }
  out.gemm.data = device::DataKind::random;
  out.gemm.functional = true;
  return out;
}

Result<PowerSettings> parse_power_settings(const StepParams& params) {
  PowerSettings out;
  auto target = params.number("target_w", 0, 5000);
  if (!target) return target.error();
  auto pulse = params.number("pulse_hz", 0, 1000);
  if (!pulse) return pulse.error();
  out.target_w = *target;
  out.pulse_hz = *pulse;
  return out;
}

Result<CollectiveSettings> parse_collective_settings(const StepParams& params) {
  CollectiveSettings out;
  auto op = params.choice("op", {"allreduce", "allgather", "reduce_scatter", "alltoall", "sendrecv"});
  if (!op) return op.error();
  out.op = device::parse_collective_op(*op).value_or(device::CollectiveOp::allreduce);
  constexpr double kMaxBytes = 64.0 * 1024 * 1024 * 1024;  // the registry's bound
  auto sizes = params.numbers("sizes", 1, kMaxBytes);
  if (!sizes) return sizes.error();
  for (const double bytes : *sizes) out.sizes.push_back(static_cast<std::uint64_t>(bytes));
  auto check = params.boolean("check");
  if (!check) return check.error();
  out.check = *check;
  return out;
}

}  // namespace kiln::agent
