#include "agents/chip_phase.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agents/fiber_sync.hpp"
#include "core/clock.hpp"

namespace kiln::agent {
namespace {

constexpr double kDefaultSampleHz = 10;
constexpr double kMaxSampleHz = 1000;
// A chip runs up to this far ahead of its time scale before it sleeps
// (ScaledClock::worth_sleeping): a sleep a tick at 60x and 10 Hz is 600
// sleeps a second a chip. It wakes on a grid of the same step
// (ScaledClock::on_grid), together with the rack's other chips.
constexpr auto kPacingSlack = std::chrono::milliseconds(20);

class PhaseLoop {
 public:
  PhaseLoop(device::Chip& chip, const kiln::v1::PhaseDispatch& dispatch, ChipRunState& state,
            const ChipPhaseOptions& options, Outbox& outbox, const PhaseCollectives& collectives,
            std::vector<kiln::v1::ChipStepResult>* reported)
      : chip_(chip),
        dispatch_(dispatch),
        state_(state),
        options_(options),
        outbox_(outbox),
        collectives_(collectives),
        reported_results_(reported) {}

  void run(const std::stop_token& stop) {
    if (!state_.started || state_.run_id != dispatch_.run_id()) {
      chip_.start_run(dispatch_.seed());
      state_ = ChipRunState{};
      state_.started = true;
      state_.run_id = dispatch_.run_id();
    }
    StepContext context;
    context.run_id = dispatch_.run_id();
    context.backend = options_.backend;
    context.collective = collectives_.rendezvous;
    context.no_collective_reason = collectives_.unavailable_reason;
    context.vote = collectives_.vote;
    context.tile_checks = collectives_.tile_checks;
    context.seed = dispatch_.seed();
    context.stop = stop;
    context.registry = options_.registry;
    context.factory = options_.factory;
    for (const auto& spec : dispatch_.steps()) {
      runners_.push_back(std::make_unique<StepRunner>(chip_, spec, context, state_, outbox_));
      reported_.push_back(false);
    }
    report_finished();

    const double dt = tick_seconds(dispatch_.sample_hz());
    const bool paced = std::isfinite(options_.time_scale) && options_.time_scale > 0;
    // The phase's time runs from its dispatch for every chip of it: a chip
    // whose loop started later (its rack's fibers start one after another)
    // is behind from the first tick, not paced from its own start.
    const SteadyClock::time_point began =
        collectives_.dispatched == SteadyClock::time_point{} ? SteadyClock::now() : collectives_.dispatched;
    ScaledClock clock(paced ? options_.time_scale : 1.0, began);
    double phase_t = 0;
    double paced_from = 0;  // phase time at the clock's last (re)start
    while (any_active()) {
      if (stop.stop_requested()) break;
      // A full outbox pauses sampling (backpressure, nothing dropped): the
      // chip waits here, between ticks, and its pacing starts afresh after.
      if (const auto waited = outbox_.wait_for_room(stop); waited.count() > 0) {
        paused_ += waited;
        clock.restart();
        paced_from = phase_t;
      }
      if (stop.stop_requested()) break;
      const double tick = next_tick(dt);
      phase_t += run_tick(tick);
      report_finished();
      const Seconds due(phase_t - paced_from);
      if (paced && clock.worth_sleeping(due, SteadyClock::now(), kPacingSlack) &&
          !sleep_until(ScaledClock::on_grid(clock.wall_at(due), kPacingSlack), stop))
        break;
    }
    // The slack is not taken at the end: a phase lasts its time at the scale.
    if (paced && !stop.stop_requested()) sleep_until(clock.wall_at(Seconds(phase_t - paced_from)), stop);
    abort_all(options_.abort_note);
  }

  // Ends whatever is still running (stop, or an exception escaping a tick).
  // Every step of the dispatch gets a result, even one whose runner was
  // never built, because the daemon waits for all of them.
  void abort_all(const std::string& note) {
    if (abandoned_) return;
    for (auto& r : runners_) r->abort(note);
    report_finished();
    for (int i = static_cast<int>(runners_.size()); i < dispatch_.steps_size(); ++i) {
      kiln::v1::ChipStepResult result;
      result.set_serial(chip_.identity().serial);
      result.set_run_id(dispatch_.run_id());
      result.set_step_index(dispatch_.steps(i).step_index());
      result.set_completed(false);
      result.set_note(note);
      report(std::move(result));
    }
    runners_.clear();
    reported_.clear();
    abandoned_ = true;
  }

 private:
  bool any_active() const {
    return std::any_of(runners_.begin(), runners_.end(), [](const auto& r) { return !r->done(); });
  }

  double next_tick(double dt) const {
    double tick = dt;
    for (const auto& r : runners_) {
      if (!r->done()) tick = std::min(tick, std::max(r->tick_limit_s(), 0.0));
    }
    return tick;
  }

  // Returns the chip time the tick took: `tick`, or more where a real
  // chip's work ran over (a GEMM cannot stop half way), so that rates and
  // step time are what the chip really did.
  double run_tick(double tick) {
    const double started = chip_.now().count();
    std::vector<StepRunner*> users;
    for (auto& r : runners_) {
      if (r->uses_chip()) users.push_back(r.get());
    }
    if (users.empty()) {
      chip_.idle(Seconds(tick));
    } else {
      const Seconds share(tick / static_cast<double>(users.size()));
      for (StepRunner* r : users) r->work(share, Seconds(tick));
    }
    // A simulated chip's clock moves by exactly the shares it was given (up
    // to rounding, which must not leak into step time: determinism).
    const double ran = chip_.now().count() - started;
    const double took = ran > tick * (1 + 1e-9) ? ran : tick;
    const device::Telemetry telemetry = chip_.telemetry();
    const std::int64_t wall = unix_ms_now();
    for (auto& r : runners_) r->observe(Seconds(took), telemetry, wall);
    return took;
  }

  void report_finished() {
    for (std::size_t i = 0; i < runners_.size(); ++i) {
      if (runners_[i]->done() && !reported_[i]) {
        reported_[i] = true;
        kiln::v1::ChipStepResult result = runners_[i]->result();
        if (paused_.count() > 0) {
          // The report says so: telemetry has a gap of wall time, never a silent one.
          result.set_note(fmt::format("{}{}sampling paused {:.1f} s in this phase: the agent's outbox was full",
                                      result.note(), result.note().empty() ? "" : "; ", paused_.count() / 1000.0));
        }
        report(std::move(result));
      }
    }
  }

  void report(kiln::v1::ChipStepResult result) {
    if (reported_results_ != nullptr) reported_results_->push_back(result);
    outbox_.push_result(std::move(result));
  }

  device::Chip& chip_;
  const kiln::v1::PhaseDispatch& dispatch_;
  ChipRunState& state_;
  const ChipPhaseOptions& options_;
  Outbox& outbox_;
  const PhaseCollectives& collectives_;
  std::vector<kiln::v1::ChipStepResult>* reported_results_;
  std::vector<std::unique_ptr<StepRunner>> runners_;
  std::vector<bool> reported_;
  bool abandoned_ = false;
  std::chrono::milliseconds paused_{0};  // waiting for outbox room, this phase
};

// The thread boundary: nothing may escape, not even from reporting the failure.
void fail(PhaseLoop& loop, const device::Chip& chip, const kiln::v1::PhaseDispatch& dispatch, const char* what) {
  try {
    spdlog::error("{}: phase {} of run {} failed: {}", chip.identity().serial, dispatch.phase_index(),
                  dispatch.run_id(), what);
    loop.abort_all(std::string("internal error: ") + what);
  } catch (...) {
    spdlog::critical("{}: could not report the failure of phase {}", chip.identity().serial, dispatch.phase_index());
  }
}

}  // namespace

double tick_seconds(double sample_hz) {
  if (!std::isfinite(sample_hz) || sample_hz <= 0 || sample_hz > kMaxSampleHz) sample_hz = kDefaultSampleHz;
  return 1.0 / sample_hz;
}

void run_chip_phase(device::Chip& chip, const kiln::v1::PhaseDispatch& dispatch, ChipRunState& state,
                    const ChipPhaseOptions& options, Outbox& outbox, std::stop_token stop,
                    const PhaseCollectives& collectives, std::vector<kiln::v1::ChipStepResult>* reported) {
  PhaseLoop loop(chip, dispatch, state, options, outbox, collectives, reported);
  try {
    loop.run(stop);
  } catch (const std::exception& e) {
    fail(loop, chip, dispatch, e.what());
  } catch (...) {
    fail(loop, chip, dispatch, "unknown exception");
  }
}

}  // namespace kiln::agent
