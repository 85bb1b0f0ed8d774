#pragma once
// The host's floating-point peak, measured rather than looked up: every
// thread runs independent chains of fused multiply-adds (enough of them to
// hide the FMA latency) for a short while, and the rates add up. This is
// the figure `tflops {of: peak}` scales on a cpu chip, recorded at agent
// start like a SKU's datasheet figure.
//
// bf16: where the CPU has AVX512_BF16 (two bf16 multiply-adds per fp32
// lane), twice the fp32 figure; where oneDNN runs bf16 only by converting
// to fp32, the fp32 figure; where it cannot run bf16 at all, none.

#include <chrono>

namespace kiln::device {

struct CpuPeak {
  double fp32_gflops = 0;
  double bf16_gflops = 0;  // 0: no bf16 GEMM on this host
  int threads = 0;
  const char* kernel = "";  // "avx2+fma", "scalar fma"
};

// Runs `threads` threads for about `duration` each.
CpuPeak measure_cpu_peak(int threads, std::chrono::milliseconds duration = std::chrono::milliseconds(200));

// Whether oneDNN can run a bf16 matmul here (and so whether bf16 is a dtype of the cpu chip).
bool cpu_has_bf16_gemm();

}  // namespace kiln::device
