#include "device/cpu/cpu_peak.hpp"

#include <atomic>
#include <cmath>
#include <latch>
#include <thread>
#include <vector>

#include "device/cpu/cpu_gemm.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::device {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kChains = 12;  // independent accumulators: FMA latency × units
constexpr long kItersPerRound = 1 << 16;

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) double fma_rounds_avx2(Clock::time_point until, double* flops) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(0.001f * static_cast<float>(c));
  const __m256 mul = _mm256_set1_ps(0.999999f);
  const __m256 add = _mm256_set1_ps(1e-7f);
  double done = 0;
  while (Clock::now() < until) {
    for (long i = 0; i < kItersPerRound; ++i) {
      for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
    }
    done += static_cast<double>(kItersPerRound) * kChains * 8 * 2;
  }
  float sink[8];
  __m256 total = acc[0];
  for (int c = 1; c < kChains; ++c) total = _mm256_add_ps(total, acc[c]);
  _mm256_storeu_ps(sink, total);
  *flops = done;
  return static_cast<double>(sink[0]);  // keeps the chains alive
}
#endif

double fma_rounds_scalar(Clock::time_point until, double* flops) {
  float acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = 0.001f * static_cast<float>(c);
  double done = 0;
  while (Clock::now() < until) {
    for (long i = 0; i < kItersPerRound; ++i) {
      for (float& a : acc) a = std::fma(a, 0.999999f, 1e-7f);
    }
    done += static_cast<double>(kItersPerRound) * kChains * 2;
  }
  *flops = done;
  double sum = 0;
  for (const float a : acc) sum += a;
  return sum;
}

bool has_avx2_fma() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool has_avx512_bf16() {
#if defined(__x86_64__) && defined(__GNUC__) && __GNUC__ >= 12
  return __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

}  // namespace

bool cpu_has_bf16_gemm() {
  CpuGemmShape tiny;
  tiny.dtype = DType::bf16;
  tiny.m = tiny.n = tiny.k = 16;
  return CpuGemm::make(tiny, CpuGemmLibrary::onednn, 1).ok();
}

CpuPeak measure_cpu_peak(int threads, std::chrono::milliseconds duration) {
  CpuPeak peak;
  peak.threads = threads < 1 ? 1 : threads;
  const bool avx2 = has_avx2_fma();
  peak.kernel = avx2 ? "avx2+fma" : "scalar fma";
  std::vector<double> flops(static_cast<std::size_t>(peak.threads), 0);
  std::vector<double> seconds(static_cast<std::size_t>(peak.threads), 0);
  std::atomic<double> sink{0};
  std::latch ready(peak.threads);
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < peak.threads; ++t) {
      pool.emplace_back([&, t] {
        ready.arrive_and_wait();
        const auto start = Clock::now();
        double f = 0;
        double s = 0;
#if defined(__x86_64__)
        s = avx2 ? fma_rounds_avx2(start + duration, &f) : fma_rounds_scalar(start + duration, &f);
#else
        s = fma_rounds_scalar(start + duration, &f);
#endif
        seconds[static_cast<std::size_t>(t)] = std::chrono::duration<double>(Clock::now() - start).count();
        flops[static_cast<std::size_t>(t)] = f;
        sink.store(s, std::memory_order_relaxed);
      });
    }
  }
  for (std::size_t t = 0; t < flops.size(); ++t) {
    if (seconds[t] > 0) peak.fp32_gflops += flops[t] / seconds[t] / 1e9;
  }
  if (cpu_has_bf16_gemm()) peak.bf16_gflops = has_avx512_bf16() ? 2 * peak.fp32_gflops : peak.fp32_gflops;
  return peak;
}

}  // namespace kiln::device
