#pragma once
// One step of a phase on one chip: parses the step's params, drives its
// pattern through the ticks the chip loop (chip_phase.hpp) gives it, samples
// telemetry after every tick, verifies GEMM tiles, keeps metric summaries and
// detections, watches the chip's health, and finally produces the
// ChipStepResult. Single-threaded: it lives on its chip's thread.
//
// Time is the step's own chip time: the sum of the ticks it was active in,
// whatever share of each tick its pattern got (steps of a parallel group run
// concurrently, so a 2-minute step lasts 2 minutes of chip time).

#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "agents/abft.hpp"
#include "agents/collective_rendezvous.hpp"
#include "agents/detection_log.hpp"
#include "agents/metric_summary.hpp"
#include "agents/outbox.hpp"
#include "agents/pattern_settings.hpp"
#include "agents/power_control.hpp"
#include "agents/shmoo_sweep.hpp"
#include "agents/step_params.hpp"
#include "agents/telemetry_values.hpp"
#include "agents/vote_board.hpp"
#include "core/units.hpp"
#include "device/chip.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

// What a chip carries from step to step within a run (DESIGN §7: counters
// are cumulative within a run). Owned by the chip's slot in the executor.
struct ChipRunState {
  bool started = false;
  std::uint64_t run_id = 0;
  std::uint64_t sdc_errors = 0;  // corrupted elements found by verification this run
  std::uint64_t memory_errors = 0;  // mismatching bits read back by memory patterns this run
  std::uint64_t data_errors = 0;  // corrupted words received in collectives this run
};

struct StepContext {
  std::uint64_t run_id = 0;
  std::string backend = "sim";  // named in "not supported by the … backend" notes
  // Where this phase's chips meet for collectives; null when the phase
  // cannot run them (no fabric, or not every chip of the rack takes part).
  CollectiveRendezvous* collective = nullptr;
  std::string no_collective_reason;
  // Where this phase's chips compare GEMM results (verify: vote); null
  // when the phase has no vote.
  VoteBoard* vote = nullptr;
  std::uint64_t seed = 0;  // the run's: seeds the inputs golden and vote share
  std::stop_token stop;  // the phase's: a collective stops waiting on it
};

// "a; b", or whichever is not empty.
std::string join_notes(const std::string& a, const std::string& b);

class StepRunner {
 public:
  StepRunner(device::Chip& chip, const kiln::v1::StepSpec& spec, const StepContext& context, ChipRunState& state);

  bool done() const { return done_; }
  // Whether the step wants a share of the chip's compute each tick (gemm);
  // an idle step only observes.
  bool uses_chip() const { return !done_ && kind_ != Kind::idle; }
  // Chip seconds left before the step's duration is reached.
  double remaining_s() const { return duration_s_ - elapsed_s_; }
  // The longest next tick this step allows: its remaining time, or less
  // where the pattern changes what it does (a shmoo's next point).
  double tick_limit_s() const;
  double elapsed_s() const { return elapsed_s_; }

  // Runs the step's pattern for `share` of chip time, its part of a tick of
  // `tick` chip time (parallel steps share the tick).
  void work(Seconds share, Seconds tick);
  // After every tick of `tick` chip time: one telemetry sample into
  // `outbox`, summaries, health watches; ends the step when its duration is
  // reached or the chip hung.
  void observe(Seconds tick, const device::Telemetry& telemetry, std::int64_t wall_unix_ms, Outbox& outbox);
  // Ends the step early, not completed (abort, agent stopping, error).
  void abort(const std::string& note);

  // The result, once done().
  const kiln::v1::ChipStepResult& result() const { return result_; }

 private:
  enum class Kind { gemm, idle, hbm, shmoo, power, collective };

  bool setup_gemm();
  bool setup_hbm();
  bool setup_shmoo();
  bool setup_power();
  bool setup_collective();
  bool dtype_supported(device::DType dtype);
  void finish_shmoo(bool& completed, std::string& note);
  void reject(const std::string& note, bool unsupported);
  void run_verified_gemm(const device::GemmWork& work, Seconds share);
  void run_compared_gemm(Seconds share);  // verify: golden or vote
  void finish_compared(bool& completed, std::string& note);
  std::uint64_t shared_input_seed() const;
  void work_hbm(Seconds share);
  void work_shmoo(Seconds share);
  void work_power(Seconds share, Seconds tick);
  void work_collective(Seconds share);
  std::size_t collective_size_at(double t_s) const;
  void observe_collective(const Moment& at, const device::Telemetry& telemetry, MetricValues& values);
  void finish_collective(bool& completed, std::string& note);
  void observe_hbm(const Moment& at, double tick_s, MetricValues& values);
  void observe_shmoo(const Moment& at, MetricValues& values);
  void finish(bool completed, std::string note);
  void record_findings(const Moment& at);
  void watch_health(const device::Telemetry& telemetry, const Moment& at);

  device::Chip& chip_;
  kiln::v1::StepSpec spec_;
  StepContext context_;
  ChipRunState& state_;

  Kind kind_ = Kind::idle;
  GemmSettings gemm_;
  device::MemoryWork memory_;
  std::optional<ShmooSweep> sweep_;
  device::GemmWork shmoo_gemm_;
  std::size_t shmoo_point_ = 0;        // the point the chip is set to
  bool shmoo_started_ = false;         // shmoo_point_ is the point entered
  bool shmoo_point_set_ = false;       // an operating point is in force
  bool shmoo_ran_ = false;             // this tick ran a GEMM at shmoo_point_
  std::string first_refusal_;
  std::optional<PowerControl> power_;
  bool power_loaded_ = false;  // this tick computed

  CollectiveSettings collective_;
  int member_ = -1;  // this chip's index in the rendezvous
  struct SizeFigures {
    double seconds = 0;         // chip time spent on this size
    double busbw_seconds = 0;   // this chip's busbw × time
    double rack_busbw_seconds = 0;
  };
  std::vector<SizeFigures> size_figures_;  // per size in collective_.sizes
  double tick_collective_s_ = 0;
  double tick_busbw_s_ = 0, tick_algbw_s_ = 0;  // this chip's figures × time, largest size only
  double tick_largest_s_ = 0;
  std::vector<device::CollectiveMismatch> tick_link_mismatches_;
  std::uint64_t tick_data_errors_ = 0;
  std::optional<std::string> stall_note_;  // the collective cannot go on: ends the step after this tick
  bool collective_done_ = false;           // another chip completed the step: this one ends with it
  std::vector<double> last_crc_;           // per link, at the previous sample
  // A pattern error that ends the step at the next observe().
  std::optional<std::pair<std::string, bool>> pending_error_;  // note, unsupported
  double duration_s_ = 0;
  double elapsed_s_ = 0;
  bool done_ = false;

  // This tick's work, turned into a sample by observe().
  double tick_flops_ = 0;
  std::vector<AbftFinding> tick_findings_;
  std::uint64_t tick_unlocalized_ = 0;
  std::vector<device::GemmCorruption> tick_corruptions_;  // from chips that check their own GEMMs
  std::uint64_t tick_unreported_corruptions_ = 0;
  double tick_bytes_ = 0;
  std::uint64_t tick_memory_errors_ = 0;
  std::vector<device::MemoryMismatch> tick_mismatches_;

  std::uint64_t tiles_verified_ = 0;
  std::uint64_t gemm_slices_ = 0;
  std::uint64_t tile_errors_ = 0;
  std::string first_tile_error_;

  // verify: golden / vote
  int vote_member_ = -1;
  std::optional<device::GemmTile> golden_;  // the reference, computed once from the step's fixed inputs
  std::uint64_t undecided_ = 0;             // ticks the vote could not decide
  std::string undecided_reason_;
  std::optional<std::string> vote_stopped_;

  std::uint64_t throttle_known_ = 0;
  std::uint64_t throttled_ticks_ = 0;
  std::optional<double> last_hbm_ue_;
  // Per (stack, channel): ECC counts at the previous sample (located errors).
  std::map<std::pair<int, int>, std::pair<double, double>> last_sites_;  // → (ce, ue)
  std::vector<std::optional<bool>> last_link_up_;
  std::vector<bool> link_seen_down_;
  bool link_state_known_ = false;

  MetricSummaries summaries_;
  DetectionLog detections_;
  kiln::v1::ChipStepResult result_;
};

}  // namespace kiln::agent
