#pragma once
// Runs a pattern's GEMMs and checks their results, for gemm and shmoo:
//   abft    the chip's tile (or its own check, device/cpu_abft.hpp) is
//           verified by row/column checksums (agents/abft.hpp).
//   golden  the step's inputs are fixed; the agent computes the reference
//           tile once, exactly as the chip must (device/gemm_tile.hpp), and
//           every tile after must match it bit for bit. A chip that checks
//           its own GEMMs (cpu) keeps the reference itself: its first
//           output that passes ABFT (GemmWork::golden).
//   vote    every chip of the phase computes the same inputs each tick and
//           the rack's majority decides (vote_board.hpp).
//   abft+golden  slices alternate: abft on fresh random data, then golden
//           on the step's fixed inputs. ABFT's checksums cannot see a flip
//           below their rounding bound (agents/abft.hpp); the golden slices
//           see any flip, at every operating point the step reaches.
// Each tick's findings become SDC detections (record_findings), unless the
// pattern takes them for something else (a shmoo's failing point).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/abft.hpp"
#include "agents/patterns/pattern.hpp"
#include "testplans/param_value.hpp"

namespace kiln::agent {

enum class Verify { none, abft, golden, vote, abft_golden };

// How many random input sets abft slices take in turn within a step: many
// values at every processing element (what ABFT's bound lets through
// depends on them), few enough that a simulated rack computes each clean
// tile once and keeps them (under SharedTileCache::kDefaultCapacity, with
// room for the golden inputs).
inline constexpr std::uint64_t kAbftInputSets = 32;
const char* to_string(Verify verify);

// The GEMM the params describe: dtype, m, n, k (gemm's and shmoo's).
device::GemmWork gemm_work_from(const plan::ParamSet& params);

class GemmVerifier {
 public:
  GemmVerifier(PatternEnv& env, Verify verify) : env_(env), verify_(verify) {}

  Verify verify() const { return verify_; }
  // verify: vote takes a seat on the phase's board; skips without one.
  std::optional<Skip> join_vote();
  // One slice of `work` for `share` of the tick, checked as verify() says.
  void run(const device::GemmWork& work, Seconds share);

  // This tick's corruption found by the checks, before record_findings().
  bool tick_found_corruption() const { return !tick_findings_.empty() || tick_unlocalized_ > 0; }
  // Drops the tick's located and unlocalized findings (a shmoo's point
  // failing is what it measures, not SDC).
  void drop_tick_findings();
  // The tick's findings as SDC detections, counted in the run's sdc_errors.
  void record_findings(const Moment& at);
  // FLOPs done since the last call.
  double take_flops();

  std::uint64_t tiles_verified() const { return tiles_verified_; }
  // Leaves the vote board, and says why the step cannot vouch for its
  // results: undecided votes, and (`check_results`) tiles that could not be
  // checked or never came. `even_with_note`: also after a note (shmoo).
  void finish(StepEnd& end, bool check_results, bool even_with_note);

 private:
  void run_abft(const device::GemmWork& work, Seconds share);
  void run_compared(Seconds share, const device::GemmWork& base, bool vote);
  std::uint64_t shared_input_seed() const;
  std::uint64_t abft_input_seed() const;
  void take_check(const device::GemmSlice& slice);

  PatternEnv& env_;
  const Verify verify_;

  double tick_flops_ = 0;
  std::vector<AbftFinding> tick_findings_;
  std::uint64_t tick_unlocalized_ = 0;
  std::vector<device::GemmCorruption> tick_corruptions_;  // from chips that check their own GEMMs
  std::uint64_t tick_unreported_corruptions_ = 0;

  std::uint64_t tiles_verified_ = 0;
  std::uint64_t slices_ = 0;
  std::uint64_t abft_slices_ = 0;
  std::uint64_t tile_errors_ = 0;
  std::string first_tile_error_;

  int vote_member_ = -1;
  std::shared_ptr<const device::GemmTile> golden_;  // the reference, computed once from the step's fixed inputs
  std::uint64_t undecided_ = 0;                     // ticks the vote could not decide
  std::string undecided_reason_;
  std::optional<std::string> vote_stopped_;
};

}  // namespace kiln::agent
