#include "device/sim/hbm_model.hpp"

#include <algorithm>

#include "device/memory_patterns.hpp"

namespace kiln::device {

double memory_pattern_efficiency(MemoryPattern pattern) {
  switch (pattern) {
    case MemoryPattern::bandwidth: return 0.92;  // long sequential bursts
    case MemoryPattern::walking_ones: return 0.88;
    case MemoryPattern::moving_inversions: return 0.88;  // read-modify-write sweeps: bus turnarounds
    case MemoryPattern::random: return 0.70;             // row misses on scattered addresses
  }
  return 0.0;
}

// One pass of a pattern over the first `words` words of one channel's
// image: writes go through the channel's stuck lines, reads compare with
// what was written and report each differing bit.
class HbmModel::Pass {
 public:
  Pass(HbmModel& model, int channel, int words, MemorySlice& out)
      : model_(model),
        channel_(channel),
        words_(words),
        out_(out),
        base_(model.image_.data() + static_cast<std::size_t>(channel) * kHbmImageWords) {}

  void write(int word, std::uint64_t value) { base_[word] = model_.stored(channel_, value); }

  void read(int word, std::uint64_t expected) {
    const std::uint64_t diff = base_[word] ^ expected;
    if (diff == 0) return;
    for (int bit = 0; bit < 64; ++bit) {
      if (((diff >> bit) & 1U) == 0) continue;
      ++out_.mismatch_count;
      report(word, bit, ((expected >> bit) & 1U) != 0);
    }
  }

  int words() const { return words_; }

 private:
  void report(int word, int bit, bool expected) {
    const int stack = channel_ / model_.channels_per_stack_;
    const int channel = channel_ % model_.channels_per_stack_;
    const std::uint64_t address = static_cast<std::uint64_t>(word) * model_.stride_bytes_;
    for (const auto& m : out_.mismatches) {
      if (m.stack == stack && m.channel == channel && m.bit == bit && m.address == address) return;
    }
    if (out_.mismatches.size() < kMaxReportedMismatches) {
      out_.mismatches.push_back(MemoryMismatch{stack, channel, bit, address, expected});
    }
  }

  HbmModel& model_;
  int channel_;
  int words_;
  MemorySlice& out_;
  std::uint64_t* base_;
};

HbmModel::HbmModel(const Sku& sku, const std::vector<Fault>& faults, std::uint64_t silicon_seed)
    : stacks_(std::max(0, sku.hbm_stacks)),
      channels_per_stack_(std::max(0, sku.hbm_channels_per_stack)),
      bandwidth_gbps_(sku.hbm_bandwidth_gbps) {
  const int channels = stacks_ * channels_per_stack_;
  const double channel_bytes = channels > 0 ? sku.hbm_capacity_gib * 1073741824.0 / channels : 0.0;
  // A whole number of 8-byte words, so reported addresses are word aligned.
  stride_bytes_ = std::max<std::uint64_t>(8, static_cast<std::uint64_t>(channel_bytes / kHbmImageWords) / 8 * 8);
  SimRandom polarity(silicon_seed);
  for (const auto& f : faults) {
    if (f.kind != FaultKind::hbm_stuck) continue;
    if (f.stack >= stacks_ || f.channel >= channels_per_stack_ || f.bit < 0 || f.bit > 63) continue;
    stuck_.push_back(
        StuckLine{f.stack * channels_per_stack_ + f.channel, std::uint64_t{1} << f.bit, (polarity.next() & 1U) != 0});
  }
}

void HbmModel::start_run(std::uint64_t data_seed) { data_rng_ = SimRandom(data_seed); }

std::uint64_t HbmModel::stored(int channel, std::uint64_t value) const {
  for (const auto& s : stuck_) {
    if (s.channel == channel) value = s.value ? (value | s.mask) : (value & ~s.mask);
  }
  return value;
}

bool HbmModel::has_stuck_line(int channel) const {
  return std::any_of(stuck_.begin(), stuck_.end(), [&](const StuckLine& s) { return s.channel == channel; });
}

double HbmModel::achieved_gbps(MemoryPattern pattern, double hbm_c) const {
  const double refresh = hbm_c > kHbmHotRefreshC ? kHbmHotRefreshFactor : 1.0;
  return bandwidth_gbps_ * memory_pattern_efficiency(pattern) * refresh;
}

MemorySlice HbmModel::run(const MemoryWork& work, Seconds dt, double hbm_c) {
  MemorySlice slice;
  slice.elapsed = dt;
  if (dt.count() <= 0) return slice;
  slice.gbps = achieved_gbps(work.pattern, hbm_c);
  slice.bytes = slice.gbps * 1e9 * dt.count();
  // Allocated on first use: a lab of GEMM-only chips never pays for it.
  if (image_.empty()) image_.assign(static_cast<std::size_t>(channels()) * kHbmImageWords, 0);
  const double fraction = std::clamp(work.fraction, 0.0, 1.0);
  const int words = std::clamp(static_cast<int>(fraction * kHbmImageWords), fraction > 0 ? 1 : 0, kHbmImageWords);
  // One seed per slice, drawn whatever the pattern, so the data stream does
  // not depend on which patterns ran before.
  const std::uint64_t seed = data_rng_.next();
  for (int c = 0; c < channels() && words > 0; ++c) {
    // A channel without a stuck line reads back exactly what was written
    // (there is no other memory fault kind, and a pass writes every word it
    // reads): its pass could only find nothing, so it is not run. Same
    // results bit for bit; the data stream above is drawn either way.
    if (!has_stuck_line(c)) continue;
    Pass pass(*this, c, words, slice);
    switch (work.pattern) {
      case MemoryPattern::bandwidth: random_data(pass, splitmix64(seed ^ static_cast<std::uint64_t>(c)), false); break;
      case MemoryPattern::walking_ones: walking_ones(pass); break;
      case MemoryPattern::moving_inversions: moving_inversions(pass); break;
      case MemoryPattern::random: random_data(pass, splitmix64(seed ^ static_cast<std::uint64_t>(c)), true); break;
    }
  }
  return slice;
}

}  // namespace kiln::device
