// StepRunner's comparing verifications (step_runner.cpp holds ABFT):
//   golden  the step's inputs are fixed; the agent computes the reference
//           tile once, exactly as the chip must (device/gemm_tile.hpp), and
//           every tile after must match it bit for bit. A chip that checks
//           its own GEMMs (cpu) keeps the reference itself: its first
//           output that passes ABFT (GemmWork::golden).
//   vote    every chip of the phase computes the same inputs each tick and
//           the rack's majority decides (vote_board.hpp).
// Both locate a difference to (core, PE, bit) through the tile's geometry.
#include <fmt/format.h>

#include "agents/step_runner.hpp"
#include "agents/tile_compare.hpp"
#include "device/gemm_tile.hpp"
#include "device/sim_random.hpp"

namespace kiln::agent {

std::uint64_t StepRunner::shared_input_seed() const {
  return device::splitmix64(context_.seed ^ (0x766f7465ULL << 24) ^ spec_.step_index());  // "vote"
}

void StepRunner::run_compared_gemm(Seconds share) {
  if (vote_stopped_) {
    chip_.idle(share);
    return;
  }
  device::GemmWork work = gemm_.work;
  work.functional = true;
  const bool vote = gemm_.verify == Verify::vote;
  work.input_seed = vote ? device::splitmix64(shared_input_seed() ^ gemm_slices_) : shared_input_seed();
  work.golden = !vote;
  device::GemmSlice slice = chip_.run_gemm(work, share);
  ++gemm_slices_;
  tick_flops_ += slice.flops;
  if (!vote && slice.check) {
    // A chip that keeps its own golden reference (cpu) reports what differed.
    tiles_verified_ += slice.check->gemms_checked;
    for (const auto& c : slice.check->corruptions) tick_corruptions_.push_back(c);
    tick_unreported_corruptions_ += slice.check->corrupted - slice.check->corruptions.size();
    tick_unlocalized_ += slice.check->unlocalized;
    return;
  }
  if (!slice.tile) {
    if (tile_errors_++ == 0) first_tile_error_ = "the chip returned no tile to compare";
    if (vote && vote_member_ >= 0) {
      context_.vote->leave(spec_.step_index(), vote_member_);
      vote_member_ = -1;
      vote_stopped_ = "vote: the chip returned no tile";
    }
    return;
  }
  TileDifferences diff;
  if (vote) {
    auto outcome = context_.vote->vote(spec_.step_index(), vote_member_, *slice.tile, context_.stop);
    if (!outcome) {
      vote_stopped_ = fmt::format("vote: {}", outcome.error().message);
      vote_member_ = -1;  // it left the board
    } else if (!outcome->decided) {
      ++undecided_;
      if (undecided_reason_.empty()) undecided_reason_ = outcome->undecided_reason;
    } else {
      ++tiles_verified_;
      diff.count = outcome->differing;
      diff.findings = std::move(outcome->differences);
    }
  } else {
    if (!golden_) {
      golden_ = *slice.tile;
      device::compute_gemm_tile(*golden_);
    }
    diff = compare_tiles(*slice.tile, *golden_);
    ++tiles_verified_;
  }
  tick_findings_.insert(tick_findings_.end(), diff.findings.begin(), diff.findings.end());
  if (diff.count > diff.findings.size()) tick_unlocalized_ += diff.count - diff.findings.size();
  chip_.recycle(std::move(*slice.tile));
}

void StepRunner::finish_compared(bool& completed, std::string& note) {
  // Leave by serial: a step rejected before it joined must not be waited for.
  if (context_.vote != nullptr) {
    if (const auto member = context_.vote->member(chip_.identity().serial)) {
      context_.vote->leave(spec_.step_index(), *member);
    }
    vote_member_ = -1;
  }
  if (kind_ != Kind::gemm || (gemm_.verify != Verify::vote && gemm_.verify != Verify::golden)) return;
  if (vote_stopped_ && completed) {
    completed = false;
    note = join_notes(note, *vote_stopped_);
  }
  if (undecided_ > 0) {
    // Ticks nobody could vouch for: the step cannot pass on them.
    completed = false;
    note = join_notes(note, fmt::format("vote undecided in {} of {} slices: {}", undecided_, gemm_slices_,
                                        undecided_reason_));
  }
}

}  // namespace kiln::agent
