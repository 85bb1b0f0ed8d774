#include "device/sim/compute_model.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::device {
namespace {

double ceil_div(double a, double b) { return std::ceil(a / b); }

// Useful share when x is cut into tiles of `tile`: x / (tiles × tile).
double padding(double x, double tile) { return x / (ceil_div(x, tile) * tile); }

}  // namespace

double shape_efficiency(const Sku& sku, DType dtype, std::int64_t m, std::int64_t n, std::int64_t k) {
  if (m <= 0 || n <= 0 || k <= 0) return 0.0;
  const auto md = static_cast<double>(m), nd = static_cast<double>(n), kd = static_cast<double>(k);
  const double rows = sku.pe_rows, cols = sku.pe_cols, cores = sku.cores;

  const double pad = padding(kd, rows) * padding(nd, cols);
  const double tiles = ceil_div(kd, rows) * ceil_div(nd, cols);
  const double balance = tiles / (ceil_div(tiles, cores) * cores);
  const double fill = md / (md + rows);
  const double compute = kBaseEfficiency * pad * balance * fill;

  // Each operand read once and the result written once: the minimum traffic.
  const double flops = 2.0 * md * nd * kd;
  const double bytes = dtype_bytes(dtype) * (md * kd + kd * nd + md * nd);
  const double peak_flops = sku.peak(dtype) * 1e12;
  if (peak_flops <= 0) return 0.0;
  const double memory_bound = (flops / bytes) * sku.hbm_bandwidth_gbps * 1e9 / peak_flops;
  return std::min(compute, memory_bound);
}

double gemm_activity(DType dtype) {
  switch (dtype) {
    case DType::fp8: return 1.0;
    case DType::bf16: return 0.95;
    case DType::fp16: return 0.95;
    case DType::fp32: return 0.8;
  }
  return 1.0;
}

double dtype_bytes(DType dtype) {
  switch (dtype) {
    case DType::fp32: return 4;
    case DType::bf16: return 2;
    case DType::fp16: return 2;
    case DType::fp8: return 1;
  }
  return 4;
}

double gemm_flops_per_second(const Sku& sku, const GemmWork& work, double clock_mhz) {
  return sku.peak(work.dtype) * 1e12 * shape_efficiency(sku, work.dtype, work.m, work.n, work.k) *
         (clock_mhz / sku.max_clock_mhz);
}

double gemm_flops(const GemmWork& work) {
  return 2.0 * static_cast<double>(work.m) * static_cast<double>(work.n) * static_cast<double>(work.k);
}

double chip_power_w(const Sku& sku, double activity, double voltage_mv, double clock_mhz) {
  const double v = voltage_mv / sku.nominal_voltage_mv;
  const double f = clock_mhz / sku.max_clock_mhz;
  return sku.idle_w + (sku.tdp_w - sku.idle_w) * activity * v * v * f;
}

}  // namespace kiln::device
