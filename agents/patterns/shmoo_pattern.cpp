// shmoo: a verified GEMM at every voltage × clock point of a grid
// (shmoo_sweep.hpp); the result is a pass/fail map (ShmooResult). A point
// the chip refuses is a hole in the map, not a failure.
#include <cmath>

#include <fmt/format.h>

#include "agents/patterns/builtin_patterns.hpp"
#include "agents/patterns/dtype_support.hpp"
#include "agents/patterns/gemm_verifier.hpp"
#include "agents/shmoo_sweep.hpp"
#include "metrics/catalog.hpp"

namespace kiln::agent {
namespace {

class ShmooPattern final : public Pattern {
 public:
  ShmooPattern(PatternEnv& env, const plan::ParamSet& params)
      : env_(env),
        verifier_(env, Verify::abft),
        sweep_(params.numbers("voltage_mv"), params.numbers("clock_mhz"), env.duration_s) {
    // The GEMM params are gemm's, with ABFT verification always on.
    gemm_ = gemm_work_from(params);
    gemm_.data = device::DataKind::random;
    gemm_.functional = true;
  }

  std::optional<Skip> init(const device::Telemetry&) override { return dtype_unsupported(env_.chip, gemm_.dtype); }

  double tick_limit_s(double remaining_s) const override {
    return std::min(remaining_s, sweep_.to_next_point(env_.elapsed_s));
  }

  std::optional<Skip> run(Seconds share, Seconds) override {
    const std::size_t point = sweep_.point_at(env_.elapsed_s);
    if (!started_ || point != point_) {
      started_ = true;
      point_ = point;
      const Status set = env_.chip.set_operating_point(sweep_.voltage_mv(point), sweep_.clock_mhz(point));
      if (set.ok()) point_set_ = true;
      if (!set.ok()) {
        if (set.error().code != ErrorCode::invalid_argument) {
          env_.chip.idle(share);
          return Skip{set.error().message, set.error().code == ErrorCode::unavailable};
        }
        // Outside what the chip accepts: a hole in the map, not a failure.
        // The refused point's time is idled at stock, not at the last point.
        sweep_.mark(point, PointOutcome::refused);
        if (point_set_) env_.chip.clear_operating_point();
        point_set_ = false;
        if (first_refusal_.empty()) first_refusal_ = set.error().message;
      }
    }
    if (sweep_.outcome(point) == PointOutcome::refused) {
      env_.chip.idle(share);
      return std::nullopt;
    }
    verifier_.run(gemm_, share);
    ran_ = true;
    return std::nullopt;
  }

  void observe(const Moment& at, Seconds, const device::Telemetry&, MetricValues& values) override {
    if (ran_) {
      const bool failed = verifier_.tick_found_corruption();
      const bool was_failed = sweep_.outcome(point_) == PointOutcome::fail;
      sweep_.mark(point_, failed ? PointOutcome::fail : PointOutcome::pass);
      if (failed && !was_failed) {
        env_.detections.record({metrics::FailureClass::margin, kiln::v1::DETECTION_POINT_FAILED},
                               metrics::kShmooFailures,
                               {{"voltage_mv", std::llround(sweep_.voltage_mv(point_))},
                                {"clock_mhz", std::llround(sweep_.clock_mhz(point_))}},
                               1, at);
      }
    }
    // Corruption past a point's margin is what a shmoo measures, not SDC.
    verifier_.drop_tick_findings();
    verifier_.record_findings(at);  // what a self-checking chip listed still counts
    (void)verifier_.take_flops();
    ran_ = false;
    values.push_back({metrics::kShmooFailures.value, static_cast<double>(sweep_.failures())});
  }

  void finish(StepEnd& end, kiln::v1::ChipStepResult& result) override {
    if (point_set_) env_.chip.clear_operating_point();
    point_set_ = false;
    sweep_.write_to(*result.mutable_shmoo());
    std::string summary = fmt::format("shmoo: {} of {} point(s) failed", sweep_.failures(), sweep_.size());
    if (sweep_.refused() > 0) {
      summary += fmt::format("; {} point(s) refused by the chip ({})", sweep_.refused(), first_refusal_);
    }
    const std::size_t tested = sweep_.size() - sweep_.refused();
    if (end.completed && verifier_.tiles_verified() == 0) {
      // Nothing was measured: no map to vouch for (every point refused, or
      // the step had no time).
      end.completed = false;
      summary += tested == 0 ? "; the chip accepted none of the points" : "; no point was tested";
    }
    env_.summaries.add(metrics::kShmooFailures, static_cast<double>(sweep_.failures()));
    end.note = join_notes(end.note, summary);
    verifier_.finish(end, true, true);
  }

 private:
  PatternEnv& env_;
  GemmVerifier verifier_;
  ShmooSweep sweep_;
  device::GemmWork gemm_;
  std::size_t point_ = 0;   // the point the chip is set to
  bool started_ = false;    // point_ is the point entered
  bool point_set_ = false;  // an operating point is in force
  bool ran_ = false;        // this tick ran a GEMM at point_
  std::string first_refusal_;
};

}  // namespace

std::unique_ptr<Pattern> make_shmoo_pattern(PatternEnv& env, const plan::ParamSet& params) {
  return std::make_unique<ShmooPattern>(env, params);
}

}  // namespace kiln::agent
