#pragma once
// How fast and how hot a simulated chip runs a GEMM: achieved throughput as
// a fraction of the datasheet peak, and switching activity for power.

#include <cstdint>

#include "device/chip.hpp"
#include "device/sku.hpp"

namespace kiln::device {

// Fraction of peak a GEMM of this shape reaches at full clock, in [0, 1):
// ≈ 0.9 for large squares. The product of
//  - a base efficiency (instruction issue, synchronisation): kBaseEfficiency;
//  - padding: k is cut into pe_rows-deep and n into pe_cols-wide weight tiles,
//    a partial tile costs a full one;
//  - load balance of those tiles over the cores;
//  - pipeline fill: each pass streams m rows through an array that takes
//    pe_rows cycles to fill;
//  - a roofline cap: a thin GEMM is bound by HBM bandwidth, not by the PEs.
double shape_efficiency(const Sku& sku, DType dtype, std::int64_t m, std::int64_t n, std::int64_t k);

inline constexpr double kBaseEfficiency = 0.92;

// FLOPs per second a healthy chip achieves on `work` at `clock_mhz`: the
// SKU's peak for the dtype × shape_efficiency × clock / max clock.
double gemm_flops_per_second(const Sku& sku, const GemmWork& work, double clock_mhz);

// Operations of one full-size GEMM of `work`: 2·m·n·k.
double gemm_flops(const GemmWork& work);

// Share of the dynamic power range (tdp - idle) a busy chip switches at
// nominal voltage and max clock: narrower datapaths toggle more PEs per
// joule-limited cycle, so fp8 runs at TDP and fp32 well below.
double gemm_activity(DType dtype);

// Bytes of one element of the dtype in HBM.
double dtype_bytes(DType dtype);

// idle + (tdp - idle) × activity × (V / Vnom)² × (f / fmax).
double chip_power_w(const Sku& sku, double activity, double voltage_mv, double clock_mhz);

}  // namespace kiln::device
