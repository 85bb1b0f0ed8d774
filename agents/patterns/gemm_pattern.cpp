// gemm: back-to-back matrix multiplies at full load, each result verified
// as its `verify` param says (gemm_verifier.hpp).
#include <fmt/format.h>

#include "agents/patterns/builtin_patterns.hpp"
#include "agents/patterns/dtype_support.hpp"
#include "agents/patterns/gemm_verifier.hpp"
#include "metrics/catalog.hpp"

namespace kiln::agent {
namespace {

Verify verify_from(const std::string& choice) {
  if (choice == "golden") return Verify::golden;
  if (choice == "abft+golden") return Verify::abft_golden;
  if (choice == "vote") return Verify::vote;
  if (choice == "none") return Verify::none;
  return Verify::abft;
}

device::DataKind data_from(const std::string& choice) {
  if (choice == "ones") return device::DataKind::ones;
  if (choice == "max_toggle") return device::DataKind::max_toggle;
  return device::DataKind::random;
}

class GemmPattern final : public Pattern {
 public:
  GemmPattern(PatternEnv& env, const plan::ParamSet& params)
      : env_(env), verifier_(env, verify_from(params.choice("verify"))) {
    work_ = gemm_work_from(params);
    work_.data = data_from(params.choice("data"));
    work_.functional = verifier_.verify() != Verify::none;
  }

  std::optional<Skip> init(const device::Telemetry&) override {
    if (auto skip = verifier_.join_vote()) return skip;
    if (auto skip = dtype_unsupported(env_.chip, work_.dtype)) return skip;
    // The run's count when the step began: max − min is what it added.
    if (verifier_.verify() != Verify::none) {
      env_.summaries.add(metrics::kSdcErrors, static_cast<double>(env_.state.sdc_errors));
    }
    return std::nullopt;
  }

  std::optional<Skip> run(Seconds share, Seconds) override {
    verifier_.run(work_, share);
    return std::nullopt;
  }

  void observe(const Moment& at, Seconds tick, const device::Telemetry&, MetricValues& values) override {
    verifier_.record_findings(at);
    // Useful work per chip second of the whole tick: parallel steps each
    // report the throughput they got.
    const double flops = verifier_.take_flops();
    if (tick.count() > 0) values.push_back({metrics::kTflops.value, flops / tick.count() / 1e12});
    if (verifier_.verify() != Verify::none) {
      values.push_back({metrics::kSdcErrors.value, static_cast<double>(env_.state.sdc_errors)});
    }
  }

  void finish(StepEnd& end, kiln::v1::ChipStepResult&) override {
    verifier_.finish(end, verifier_.verify() != Verify::none, false);
  }

 private:
  PatternEnv& env_;
  GemmVerifier verifier_;
  device::GemmWork work_;
};

}  // namespace

std::unique_ptr<Pattern> make_gemm_pattern(PatternEnv& env, const plan::ParamSet& params) {
  return std::make_unique<GemmPattern>(env, params);
}

PhaseNeeds gemm_needs(const plan::ParamSet& params) {
  const auto* verify = params.find("verify");
  const auto* choice = verify != nullptr ? std::get_if<plan::ChoiceValue>(verify) : nullptr;
  return PhaseNeeds{.vote = choice != nullptr && choice->value == "vote"};
}

}  // namespace kiln::agent
