// The patterns every agent backend implements (DESIGN §4). Defaults are the
// values a run records when the plan leaves a param out, in canonical text
// (testplans/param_text.hpp).

#include <utility>

#include "metrics/catalog.hpp"
#include "testplans/builtin_pattern_names.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::plan {
namespace {

namespace m = metrics;

ParamSpec choice(std::string name, std::vector<std::string> choices, std::string default_text, std::string help) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::choice;
  p.choices = std::move(choices);
  p.default_text = std::move(default_text);
  p.help = std::move(help);
  return p;
}

ParamSpec ranged(std::string name, ParamType type, std::string default_text, double min, double max, std::string help) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = type;
  p.default_text = std::move(default_text);
  p.min = min;
  p.max = max;
  p.help = std::move(help);
  return p;
}

ParamSpec boolean(std::string name, std::string default_text, std::string help) {
  return ranged(std::move(name), ParamType::boolean, std::move(default_text), 0, 0, std::move(help));
}

constexpr double kMaxMatrixDim = 65536;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

ParamSpec dtype_param() {
  return choice("dtype", {"fp32", "bf16", "fp16", "fp8"}, "bf16", "element type of the matrices");
}

// m, n, k of one GEMM: C[m×n] = A[m×k] · B[k×n].
std::vector<ParamSpec> gemm_shape(const char* default_dim) {
  return {ranged("m", ParamType::integer, default_dim, 1, kMaxMatrixDim, "rows of A and C"),
          ranged("n", ParamType::integer, default_dim, 1, kMaxMatrixDim, "columns of B and C"),
          ranged("k", ParamType::integer, default_dim, 1, kMaxMatrixDim, "columns of A, rows of B (the reduction)")};
}

PatternSpec gemm() {
  PatternSpec s;
  s.name = pattern_names::kGemm;
  s.help = "back-to-back matrix multiplies at full load, each result verified";
  s.params.push_back(dtype_param());
  for (auto& p : gemm_shape("8192")) s.params.push_back(std::move(p));
  s.params.push_back(choice("verify", {"abft", "golden", "vote", "abft+golden", "none"}, "abft",
                            "abft: row/column checksums; golden: compare with a reference result bit for bit; "
                            "vote: compare with peer chips; abft+golden: alternate slices of both (sees any "
                            "flipped bit); none: speed only"));
  s.params.push_back(choice("data", {"random", "ones", "max_toggle"}, "random",
                            "input values; max_toggle flips every bit between operands to draw the most power"));
  s.metrics = {m::kTflops.str(), m::kSdcErrors.str()};
  return s;
}

PatternSpec hbm() {
  PatternSpec s;
  s.name = pattern_names::kHbm;
  s.help = "memory bandwidth and march tests over a fraction of HBM";
  s.params.push_back(choice("test", {"bandwidth", "walking_ones", "moving_inversions", "random"}, "moving_inversions",
                            "bandwidth: streaming copy; the others: pattern tests that find bad bits"));
  s.params.push_back(ranged("fraction", ParamType::number, "0.9", 0.01, 1, "share of free HBM the test covers"));
  s.metrics = {m::kHbmGbps.str(), m::kMemoryErrors.str()};
  return s;
}

PatternSpec collective() {
  PatternSpec s;
  s.name = pattern_names::kCollective;
  s.help = "collective operations over the rack's links (nccl-tests algbw/busbw definitions)";
  s.params.push_back(choice("op", {"allreduce", "allgather", "reduce_scatter", "alltoall", "sendrecv"}, "allreduce",
                            "collective operation"));
  s.params.push_back(ranged("sizes", ParamType::size_list, "1048576,67108864,1073741824", 1, 64 * kGiB,
                            "message sizes, cycled through for the step's duration"));
  s.params.push_back(boolean("check", "true", "verify every result (finds corruption on the links)"));
  s.metrics = {m::kBusbwGbps.str(), m::kAlgbwGbps.str(), m::kLinkCrcErrors.str(), m::kLinkGbps.str(),
               m::kDataErrors.str()};
  return s;
}

PatternSpec power() {
  PatternSpec s;
  s.name = pattern_names::kPower;
  s.help = "holds the chip at a power target, steady or pulsed (power delivery and thermal stress)";
  s.params.push_back(
      ranged("target_w", ParamType::number, "0", 0, 5000, "power to draw in watts; 0 means the SKU's TDP"));
  s.params.push_back(ranged("pulse_hz", ParamType::number, "0", 0, 1000,
                            "square-wave load between idle and target at this rate; 0 means steady"));
  s.metrics = {m::kPowerW.str()};
  return s;
}

PatternSpec shmoo() {
  PatternSpec s;
  s.name = pattern_names::kShmoo;
  s.help = "runs a verified GEMM at every voltage × clock point; the result is a pass/fail map";
  // A grid around typical accelerator operating points; a plan narrows it
  // per SKU. The step's duration is shared evenly between the points.
  s.params.push_back(ranged("voltage_mv", ParamType::number_list, "700,750,800,850,900", 300, 1500,
                            "core voltages to try, in millivolts"));
  s.params.push_back(
      ranged("clock_mhz", ParamType::number_list, "1200,1600,2000,2400,2800", 100, 5000, "core clocks to try, in MHz"));
  s.params.push_back(dtype_param());
  // Smaller than gemm's default so that each point gets many verified multiplies.
  for (auto& p : gemm_shape("2048")) s.params.push_back(std::move(p));
  s.metrics = {m::kShmooFailures.str()};
  return s;
}

PatternSpec idle() {
  PatternSpec s;
  s.name = pattern_names::kIdle;
  s.help = "no load: cool-down, idle power and leakage";
  return s;
}

}  // namespace

void register_builtin_patterns(PatternRegistry& registry) {
  registry.add(gemm());
  registry.add(hbm());
  registry.add(collective());
  registry.add(power());
  registry.add(shmoo());
  registry.add(idle());
}

}  // namespace kiln::plan
