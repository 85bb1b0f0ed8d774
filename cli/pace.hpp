#pragma once
// How fast a run's simulated time went compared with what the lab asked
// for: `kiln lab` measures the plan's chip seconds done (RunProgress::
// elapsed_s, which follows the samples the daemon has stored) against its
// own wall clock from the moment the run started running, so the figure is
// end to end — twin, agents, the wire and ingest. "time scale 60x
// requested, 41x achieved".

#include <chrono>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace kiln::cli {

class PaceMeter {
 public:
  using Clock = std::chrono::steady_clock;

  // `requested`: the lab's time scale; 0 for an unpaced lab.
  explicit PaceMeter(double requested) : requested_(requested) {}

  // A progress reading: the run is running (or just finished) with
  // `elapsed_s` chip seconds of the plan done, at `now`.
  void observe(double elapsed_s, bool running, Clock::time_point now);
  // The run completed with `simulated_s` chip seconds, seen at `now`. A run
  // too short to be seen running (an unpaced smoke run between two polls)
  // is timed from the last poll that saw it not yet running: at worst one
  // poll long, so the figure errs low, never high.
  void finish(double simulated_s, Clock::time_point now);

  double requested() const { return requested_; }
  // Simulated seconds per wall second since the run started; nullopt
  // before there is anything to divide.
  std::optional<double> achieved() const;
  double wall_s() const;
  double simulated_s() const { return simulated_s_; }
  // Below 95% of what was asked (a paced lab only).
  bool behind() const;

  // "60x requested, 41x achieved" / "unpaced, 812x achieved"; empty before
  // anything was measured.
  std::string text() const;

 private:
  double requested_;
  std::optional<Clock::time_point> started_;
  std::optional<Clock::time_point> not_running_at_;  // the last poll before it ran
  bool finished_ = false;
  Clock::time_point last_{};
  double simulated_s_ = 0;
};

// The report JSON with run.time_scale {requested, achieved, simulated_s,
// wall_s, unpaced} added (docs/cli.md); the report as it was when nothing
// was measured.
Result<std::string> with_time_scale(const std::string& report_json, const PaceMeter& pace);

}  // namespace kiln::cli
