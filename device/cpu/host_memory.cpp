#include "device/cpu/host_memory.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "device/memory_patterns.hpp"
#include "device/sim_random.hpp"

namespace kiln::device {
namespace {

constexpr std::uint64_t kMaxBudget = std::uint64_t{1} << 30;
constexpr std::uint64_t kFallbackBudget = std::uint64_t{256} << 20;
constexpr std::size_t kBlockWords = std::size_t{1} << 18;  // 2 MiB: milliseconds per pass

}  // namespace

std::uint64_t host_memory_budget(const std::string& meminfo_path) {
  std::ifstream in(meminfo_path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    std::uint64_t kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return std::min(kMaxBudget, kib * 1024 / 4);
  }
  return kFallbackBudget;
}

class HostMemory::Pass {
 public:
  Pass(HostMemory& memory, std::size_t first, int words, MemorySlice& out)
      : memory_(memory), first_(first), words_(words), out_(out) {}

  void write(int word, std::uint64_t value) {
    const std::size_t at = first_ + static_cast<std::size_t>(word);
    if (memory_.stuck_ && memory_.stuck_->word == at) {
      value = memory_.stuck_->value ? (value | memory_.stuck_->mask) : (value & ~memory_.stuck_->mask);
    }
    memory_.buffer_[at] = value;
    out_.bytes += 8;
  }

  void read(int word, std::uint64_t expected) {
    const std::size_t at = first_ + static_cast<std::size_t>(word);
    const std::uint64_t diff = memory_.buffer_[at] ^ expected;
    out_.bytes += 8;
    if (diff == 0) return;
    for (int bit = 0; bit < 64; ++bit) {
      if (((diff >> bit) & 1U) == 0) continue;
      ++out_.mismatch_count;
      if (out_.mismatches.size() < kMaxReportedMismatches) {
        out_.mismatches.push_back(MemoryMismatch{-1, -1, bit, at * 8, ((expected >> bit) & 1U) != 0});
      }
    }
  }

  int words() const { return words_; }

 private:
  HostMemory& memory_;
  std::size_t first_;
  int words_;
  MemorySlice& out_;
};

void HostMemory::plant_stuck_bit(std::uint64_t word, int bit, bool value) {
  stuck_ = Stuck{word, std::uint64_t{1} << (bit & 63), value};
}

MemorySlice HostMemory::run(const MemoryWork& work, Seconds dt, std::uint64_t seed) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  MemorySlice slice;
  const double fraction = std::clamp(work.fraction, 0.0, 1.0);
  const std::size_t words =
      std::max<std::size_t>(kBlockWords, static_cast<std::size_t>(fraction * static_cast<double>(budget_bytes_) / 8) /
                                             kBlockWords * kBlockWords);
  if (buffer_.size() != words) {
    buffer_.assign(words, 0);
    cursor_ = 0;
  }
  const auto until = start + std::chrono::duration_cast<Clock::duration>(dt);
  do {
    Pass pass(*this, cursor_, static_cast<int>(kBlockWords), slice);
    const std::uint64_t block_seed = splitmix64(seed ^ pass_++);
    switch (work.pattern) {
      case MemoryPattern::bandwidth: random_data(pass, block_seed, false); break;
      case MemoryPattern::walking_ones: walking_ones(pass); break;
      case MemoryPattern::moving_inversions: moving_inversions(pass); break;
      case MemoryPattern::random: random_data(pass, block_seed, true); break;
    }
    cursor_ = (cursor_ + kBlockWords) % buffer_.size();
  } while (Clock::now() < until);
  slice.elapsed = std::chrono::duration<double>(Clock::now() - start);
  slice.gbps = slice.elapsed.count() > 0 ? slice.bytes / slice.elapsed.count() / 1e9 : 0;
  return slice;
}

}  // namespace kiln::device
