#include "agents/patterns/gemm_verifier.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agents/tile_checks.hpp"
#include "agents/tile_compare.hpp"
#include "agents/vote_board.hpp"
#include "device/gemm_tile.hpp"
#include "device/sim_random.hpp"
#include "metrics/catalog.hpp"

namespace kiln::agent {
namespace {

constexpr Finding kSdc{metrics::FailureClass::sdc, kiln::v1::DETECTION_CORRUPTION};

}  // namespace

const char* to_string(Verify verify) {
  switch (verify) {
    case Verify::none: return "none";
    case Verify::abft: return "abft";
    case Verify::golden: return "golden";
    case Verify::vote: return "vote";
    case Verify::abft_golden: return "abft+golden";
  }
  return "?";
}

device::GemmWork gemm_work_from(const plan::ParamSet& params) {
  device::GemmWork work;
  // The registry's choices are the device's dtypes, so this always reads.
  work.dtype = device::parse_dtype(params.choice("dtype")).value_or(device::DType::bf16);
  work.m = params.integer("m");
  work.n = params.integer("n");
  work.k = params.integer("k");
  return work;
}

std::optional<Skip> GemmVerifier::join_vote() {
  if (verify_ != Verify::vote) return std::nullopt;
  const auto member =
      env_.context.vote != nullptr ? env_.context.vote->member(env_.chip.identity().serial) : std::nullopt;
  if (!member) return Skip{"verify: vote needs the phase's chips to vote together, and this chip has no board", true};
  vote_member_ = *member;
  return std::nullopt;
}

void GemmVerifier::run(const device::GemmWork& work, Seconds share) {
  switch (verify_) {
    case Verify::abft: run_abft(work, share); break;
    case Verify::golden: run_compared(share, work, false); break;
    case Verify::vote: run_compared(share, work, true); break;
    case Verify::abft_golden:
      // Even slices abft, odd slices golden: both see every operating point.
      if (slices_ % 2 == 0) {
        run_abft(work, share);
      } else {
        run_compared(share, work, false);
      }
      break;
    case Verify::none:
      tick_flops_ += env_.chip.run_gemm(work, share).flops;
      ++slices_;
      break;
  }
}

void GemmVerifier::take_check(const device::GemmSlice& slice) {
  // A real backend checked its whole output itself (device/cpu_abft.hpp).
  tiles_verified_ += slice.check->gemms_checked;
  for (const auto& c : slice.check->corruptions) tick_corruptions_.push_back(c);
  tick_unreported_corruptions_ += slice.check->corrupted - slice.check->corruptions.size();
  tick_unlocalized_ += slice.check->unlocalized;
}

void GemmVerifier::run_abft(const device::GemmWork& base, Seconds share) {
  // Random inputs that change every slice, taken in turn from the step's
  // kAbftInputSets sets, the same on every chip of the run at the same
  // slice: a simulated rack then computes each clean tile once per step
  // (device/sim/shared_tile_cache.hpp keeps them all) and the agent checks
  // it once (tile_checks.hpp). A chip that checks its own GEMMs ignores the seed.
  device::GemmWork work = base;
  if (work.functional && work.data == device::DataKind::random) {
    work.input_seed = device::splitmix64(abft_input_seed() ^ (abft_slices_++ % kAbftInputSets));
  }
  device::GemmSlice slice = env_.chip.run_gemm(work, share);
  ++slices_;
  tick_flops_ += slice.flops;
  if (slice.check) take_check(slice);
  if (!slice.tile) return;

  auto report = check_abft(env_.context.tile_checks, slice.tile);
  if (!report) {
    // A malformed tile is a backend defect: the step cannot vouch for its
    // results, so it will not count as completed.
    if (tile_errors_++ == 0) first_tile_error_ = report.error().message;
    return;
  }
  ++tiles_verified_;
  tick_findings_.insert(tick_findings_.end(), report->findings.begin(), report->findings.end());
  if (report->unlocalized) ++tick_unlocalized_;
}

std::uint64_t GemmVerifier::shared_input_seed() const {
  return device::splitmix64(env_.context.seed ^ (0x766f7465ULL << 24) ^ env_.spec.step_index());  // "vote"
}

std::uint64_t GemmVerifier::abft_input_seed() const {
  return device::splitmix64(env_.context.seed ^ (0x61626674ULL << 24) ^ env_.spec.step_index());  // "abft"
}

void GemmVerifier::run_compared(Seconds share, const device::GemmWork& base, bool vote) {
  if (vote_stopped_) {
    env_.chip.idle(share);
    return;
  }
  device::GemmWork work = base;
  work.functional = true;
  work.input_seed = vote ? device::splitmix64(shared_input_seed() ^ slices_) : shared_input_seed();
  work.golden = !vote;
  device::GemmSlice slice = env_.chip.run_gemm(work, share);
  ++slices_;
  tick_flops_ += slice.flops;
  if (!vote && slice.check) {
    // A chip that keeps its own golden reference (cpu) reports what differed.
    take_check(slice);
    return;
  }
  // A missing or malformed tile is a backend defect: nothing may read it
  // (the golden reference is computed from it), and a voter leaves.
  std::string unusable;
  if (!slice.tile) {
    unusable = "the chip returned no tile to compare";
  } else if (auto valid = check_valid(env_.context.tile_checks, slice.tile); !valid) {
    unusable = valid.error().message;
  } else if (golden_ && (golden_->rows != slice.tile->rows || golden_->cols != slice.tile->cols ||
                         golden_->depth != slice.tile->depth)) {
    unusable = fmt::format("tile {}x{}x{} differs in shape from the reference {}x{}x{}", slice.tile->rows,
                           slice.tile->cols, slice.tile->depth, golden_->rows, golden_->cols, golden_->depth);
  }
  if (!unusable.empty()) {
    if (tile_errors_++ == 0) first_tile_error_ = unusable;
    if (vote && vote_member_ >= 0) {
      env_.context.vote->leave(env_.spec.step_index(), vote_member_);
      vote_member_ = -1;
      vote_stopped_ = fmt::format("vote: {}", unusable);
    }
    return;
  }
  TileDifferences diff;
  if (vote) {
    auto outcome = env_.context.vote->vote(env_.spec.step_index(), vote_member_, *slice.tile, env_.context.stop);
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
    if (!golden_) golden_ = golden_reference(env_.context.tile_checks, slice.tile);
    diff = compare_with(env_.context.tile_checks, slice.tile, golden_);
    ++tiles_verified_;
  }
  tick_findings_.insert(tick_findings_.end(), diff.findings.begin(), diff.findings.end());
  if (diff.count > diff.findings.size()) tick_unlocalized_ += diff.count - diff.findings.size();
  // `slice` goes out of scope here: the chip reuses the tile's storage next slice.
}

void GemmVerifier::drop_tick_findings() {
  tick_findings_.clear();
  tick_unlocalized_ = 0;
}

double GemmVerifier::take_flops() {
  const double flops = tick_flops_;
  tick_flops_ = 0;
  return flops;
}

void GemmVerifier::record_findings(const Moment& at) {
  auto& state = env_.state;
  auto& detections = env_.detections;
  for (const AbftFinding& f : tick_findings_) {
    ++state.sdc_errors;
    detections.record(kSdc, metrics::kSdcErrors,
                      {{"core", f.core}, {"pe_row", f.pe_row}, {"pe_col", f.pe_col}, {"bit", f.bit}}, 1, at);
  }
  for (const device::GemmCorruption& c : tick_corruptions_) {
    ++state.sdc_errors;
    detections.record(kSdc, metrics::kSdcErrors, {{"row", c.row}, {"col", c.col}, {"bit", c.bit}}, 1, at,
                      "output element off its ABFT recomputation");
  }
  if (tick_unreported_corruptions_ > 0) {
    state.sdc_errors += tick_unreported_corruptions_;
    detections.record(kSdc, metrics::kSdcErrors, {}, tick_unreported_corruptions_, at,
                      "more corrupted elements than a slice lists");
  }
  tick_corruptions_.clear();
  tick_unreported_corruptions_ = 0;
  if (tick_unlocalized_ > 0) {
    // At least one corrupted element per tile whose checksums disagreed.
    state.sdc_errors += tick_unlocalized_;
    detections.record(kSdc, metrics::kSdcErrors, {}, tick_unlocalized_, at,
                      "ABFT checksums disagreed but the corrupted element could not be localized");
  }
  drop_tick_findings();
}

void GemmVerifier::finish(StepEnd& end, bool check_results, bool even_with_note) {
  // Leave by serial: a step rejected before it joined must not be waited for.
  if (env_.context.vote != nullptr) {
    if (const auto member = env_.context.vote->member(env_.chip.identity().serial)) {
      env_.context.vote->leave(env_.spec.step_index(), *member);
    }
    vote_member_ = -1;
  }
  if (verify_ == Verify::vote || verify_ == Verify::golden || verify_ == Verify::abft_golden) {
    if (vote_stopped_ && end.completed) {
      end.completed = false;
      end.note = join_notes(end.note, *vote_stopped_);
    }
    if (undecided_ > 0) {
      // Ticks nobody could vouch for: the step cannot pass on them.
      end.completed = false;
      end.note = join_notes(
          end.note, fmt::format("vote undecided in {} of {} slices: {}", undecided_, slices_, undecided_reason_));
    }
  }
  // A normal end (not a hang) vouches for verification only if it happened.
  if (check_results && end.completed && (end.note.empty() || even_with_note) && !env_.chip.hung()) {
    if (tile_errors_ > 0) {
      end.completed = false;
      end.note = join_notes(end.note, fmt::format("abft could not check {} of {} tiles: {}", tile_errors_,
                                                  tile_errors_ + tiles_verified_, first_tile_error_));
    } else if (tiles_verified_ == 0 && slices_ > 0) {
      end.completed = false;
      end.note = join_notes(end.note, fmt::format("{}: the chip returned no verification tile", to_string(verify_)));
    }
  }
  if (tile_errors_ > 0)
    spdlog::warn("{}: step {}: {}", env_.chip.identity().serial, env_.spec.name(), first_tile_error_);
}

}  // namespace kiln::agent
