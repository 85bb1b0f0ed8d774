#include "agents/sdc_coverage.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "agents/patterns/gemm_verifier.hpp"
#include "testplans/builtin_pattern_names.hpp"

namespace kiln::agent {
namespace {

bool uses_chip(const plan::Step& step) { return step.pattern != plan::pattern_names::kIdle; }

// Chip time each step of a phase gets: while n steps that use the chip run
// together, each gets 1/n of it (agents/chip_phase.cpp gives equal shares).
std::vector<double> chip_seconds(const plan::Phase& phase) {
  std::vector<double> ends;
  for (const auto& s : phase.steps) {
    if (uses_chip(s)) ends.push_back(s.duration.count());
  }
  std::sort(ends.begin(), ends.end());
  std::vector<double> out;
  for (const auto& s : phase.steps) {
    double got = 0;
    if (uses_chip(s)) {
      double from = 0;
      for (std::size_t i = 0; i < ends.size() && from < s.duration.count(); ++i) {
        const double to = std::min(ends[i], s.duration.count());
        if (to > from) got += (to - from) / static_cast<double>(ends.size() - i);
        from = std::max(from, to);
      }
    }
    out.push_back(got);
  }
  return out;
}

}  // namespace

double bitwise_share(const std::string& verify) {
  if (verify == to_string(Verify::golden) || verify == to_string(Verify::vote)) return 1.0;
  if (verify == to_string(Verify::abft_golden)) return 0.5;  // every other slice
  return 0.0;
}

double hit_probability(double rate, double gemms) {
  if (!(rate > 0) || !(gemms > 0)) return 0.0;
  if (rate >= 1) return 1.0;
  return -std::expm1(gemms * std::log1p(-rate));
}

double SdcCoverage::catch_probability(double rate) const { return hit_probability(rate, bitwise_gemms); }

double SdcCoverage::rate_caught_with(double probability) const {
  if (!(bitwise_gemms > 0)) return std::numeric_limits<double>::infinity();
  // 1 − (1 − r)^G = p  ⇔  r = 1 − (1 − p)^(1/G)
  return -std::expm1(std::log1p(-probability) / bitwise_gemms);
}

SdcCoverage sdc_coverage(const plan::Plan& plan, const GemmRate& gemms_per_second) {
  SdcCoverage out;
  for (std::uint32_t r = 0; r < plan.repeat; ++r) {
    for (const auto& phase : plan.phases) {
      const std::vector<double> seconds = chip_seconds(phase);
      for (std::size_t i = 0; i < phase.steps.size(); ++i) {
        const plan::Step& step = phase.steps[i];
        if (step.pattern != plan::pattern_names::kGemm) continue;
        StepCoverage c;
        c.step = step.name;
        c.repeat_index = r;
        c.verify = step.values.choice("verify");
        c.chip_seconds = seconds[i];
        const double gemms = c.chip_seconds * gemms_per_second(gemm_work_from(step.values));
        const double share = bitwise_share(c.verify);
        c.bitwise_gemms = gemms * share;
        c.checksum_gemms = c.verify == to_string(Verify::abft) || c.verify == to_string(Verify::abft_golden)
                               ? gemms * (1.0 - share)
                               : 0.0;
        out.bitwise_gemms += c.bitwise_gemms;
        out.checksum_gemms += c.checksum_gemms;
        out.steps.push_back(std::move(c));
      }
    }
  }
  return out;
}

}  // namespace kiln::agent
