#pragma once
// What a plan's GEMM verification can catch on one chip, computed from what
// the plan runs: which steps check their results bit for bit, for how long,
// with what share of the chip, and how many full-size GEMMs that is at the
// chip's rate. docs/verdicts.md quotes these figures for the shipped plans
// (bench/abft's sdc_coverage prints them); a test checks them against the
// twin (tests/integration/sdc_coverage_test.cpp).
//
// A silent data corruption that strikes each GEMM independently with
// probability `rate` escapes a bit-for-bit check of G GEMMs with probability
// (1 − rate)^G, whichever bit it flips. ABFT (verify: abft) sees only flips
// above its rounding bound (agents/abft.hpp), so its GEMMs are listed apart
// and not counted in the catch probability.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "device/chip.hpp"
#include "testplans/plan.hpp"

namespace kiln::agent {

// Full-size GEMMs of this shape and dtype one chip completes per second of
// chip time it is given (0 when it cannot run them).
using GemmRate = std::function<double(const device::GemmWork&)>;

struct StepCoverage {
  std::string step;
  std::uint32_t repeat_index = 0;
  std::string verify;
  double chip_seconds = 0;    // chip time the step's GEMMs get (shared in a parallel phase)
  double bitwise_gemms = 0;   // GEMMs compared bit for bit (golden, vote, half of abft+golden)
  double checksum_gemms = 0;  // GEMMs checked by ABFT only
};

struct SdcCoverage {
  std::vector<StepCoverage> steps;  // gemm steps only, in execution order
  double bitwise_gemms = 0;
  double checksum_gemms = 0;

  // Probability that an SDC of `rate` per GEMM, at any bit, that holds
  // through the whole plan is caught by a bit-for-bit check.
  double catch_probability(double rate) const;
  // The smallest per-GEMM rate caught with `probability` (0 < p < 1);
  // infinity when nothing is compared bit for bit.
  double rate_caught_with(double probability) const;
};

// Share of a gemm step's GEMMs its `verify` compares bit for bit.
double bitwise_share(const std::string& verify);

SdcCoverage sdc_coverage(const plan::Plan& plan, const GemmRate& gemms_per_second);

// Probability that `gemms` independent GEMMs with per-GEMM `rate` hold at
// least one corruption: 1 − (1 − rate)^gemms, without cancellation.
double hit_probability(double rate, double gemms);

}  // namespace kiln::agent
