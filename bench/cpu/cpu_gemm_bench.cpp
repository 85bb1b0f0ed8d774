// cpu_gemm_bench [--sizes 1024,2048,4096] [--min-time 1.0]
//
// For each size and each library/dtype the host can run: the raw library
// GEMM (CpuGemm::run, one library call) and the verified GEMM (the same
// call followed by the whole-output ABFT check, as the cpu chip runs a
// `verify: abft` step), interleaved so that both see the same machine
// state, each for at least --min-time seconds. Reports median GFLOPS, the
// verified/raw ratio, and verified/peak against the FMA peak measured
// first. Goals (issue 4): verified ≥ 0.97 × raw, ≥ 0.90 × peak.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "device/cpu/cpu_abft.hpp"
#include "device/cpu/cpu_gemm.hpp"
#include "device/cpu/cpu_peak.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using kiln::device::CpuAbft;
using kiln::device::CpuGemm;
using kiln::device::CpuGemmLibrary;
using kiln::device::CpuGemmShape;
using kiln::device::DataKind;
using kiln::device::DType;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

nlohmann::ordered_json measure(CpuGemm& gemm, double min_time, double peak_gflops) {
  const auto& s = gemm.shape();
  // As the cpu chip builds it for a `data: random` step.
  CpuAbft abft(gemm.a(), gemm.b(), s.m, s.n, s.k, false,
               gemm.library() == CpuGemmLibrary::openblas ? kiln::device::ChecksumPass::openblas_gemv
                                                          : kiln::device::ChecksumPass::double_loop);
  kiln::device::GemmCheck check;
  gemm.run();  // warm-up: first-touch pages, library set-up
  abft.verify(gemm.c(), check);
  std::vector<double> raw, verified, checks;
  double raw_total = 0, verified_total = 0;
  while (raw.size() < 3 || raw_total < min_time || verified_total < min_time) {
    auto t = Clock::now();
    gemm.run();
    raw.push_back(seconds_since(t));
    raw_total += raw.back();
    t = Clock::now();
    gemm.run();
    const auto checked = Clock::now();
    abft.verify(gemm.c(), check);
    verified.push_back(seconds_since(t));
    checks.push_back(seconds_since(checked));
    verified_total += verified.back();
  }
  const double raw_gflops = gemm.flops() / median(raw) / 1e9;
  const double verified_gflops = gemm.flops() / median(verified) / 1e9;
  nlohmann::ordered_json out;
  out["library"] = kiln::device::to_string(gemm.library());
  out["dtype"] = kiln::device::to_string(s.dtype);
  out["n"] = s.n;
  out["reps"] = raw.size();
  out["raw_gflops"] = raw_gflops;
  out["verified_gflops"] = verified_gflops;
  out["verified_over_raw"] = verified_gflops / raw_gflops;
  out["abft_share_of_gemm"] = median(checks) / median(raw);
  out["verified_over_peak"] = peak_gflops > 0 ? verified_gflops / peak_gflops : 0.0;
  out["corrupted"] = check.corrupted;  // must stay 0: a clean run
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"GEMM throughput of the cpu backend: raw libraries vs ABFT-verified"};
  std::vector<std::int64_t> sizes{1024, 2048, 4096};
  double min_time = 1.0;
  app.add_option("--sizes", sizes, "matrix sizes n (n×n×n)")->delimiter(',')->check(CLI::Range(64, 16384));
  app.add_option("--min-time", min_time, "seconds per measurement, at least")->check(CLI::Range(0.0, 600.0));
  CLI11_PARSE(app, argc, argv);

  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const kiln::device::CpuPeak peak = kiln::device::measure_cpu_peak(threads, std::chrono::milliseconds(500));
  nlohmann::ordered_json doc;
  doc["threads"] = threads;
  doc["peak"] = {{"kernel", peak.kernel}, {"fp32_gflops", peak.fp32_gflops}, {"bf16_gflops", peak.bf16_gflops}};
  doc["goals"] = {{"verified_over_raw", 0.97}, {"verified_over_peak", 0.90}};
  doc["results"] = nlohmann::ordered_json::array();
  struct Config {
    CpuGemmLibrary library;
    DType dtype;
  };
  for (const std::int64_t n : sizes) {
    for (const Config c : {Config{CpuGemmLibrary::openblas, DType::fp32}, Config{CpuGemmLibrary::onednn, DType::fp32},
                           Config{CpuGemmLibrary::onednn, DType::bf16}}) {
      auto gemm = CpuGemm::make(CpuGemmShape{c.dtype, n, n, n, DataKind::random}, c.library, 42);
      if (!gemm) {
        doc["results"].push_back({{"library", kiln::device::to_string(c.library)},
                                  {"dtype", kiln::device::to_string(c.dtype)},
                                  {"n", n},
                                  {"unavailable", gemm.error().message}});
        continue;
      }
      const double p = c.dtype == DType::bf16 ? peak.bf16_gflops : peak.fp32_gflops;
      doc["results"].push_back(measure(**gemm, min_time, p));
      std::fprintf(stderr, "%s\n", doc["results"].back().dump().c_str());
    }
  }
  std::printf("%s\n", doc.dump(2).c_str());
  return 0;
}
