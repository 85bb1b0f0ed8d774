#pragma once
// The cpu backend's `hbm` pattern: the same memory tests as the simulated
// HBM (memory_patterns.hpp) on a buffer of real host memory, block by
// block, for as long as a slice lasts. There is no stack or channel on a
// host: mismatches carry stack = channel = -1, the bit, and the byte
// offset in the test buffer. One thread: the figure is what one core
// streams, not the socket's bandwidth.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/units.hpp"
#include "device/chip.hpp"

namespace kiln::device {

// How much host memory the pattern may cover at fraction 1: a quarter of
// MemAvailable, at most 1 GiB; 256 MiB when /proc/meminfo cannot be read.
std::uint64_t host_memory_budget(const std::string& meminfo_path = "/proc/meminfo");

class HostMemory {
 public:
  explicit HostMemory(std::uint64_t budget_bytes) : budget_bytes_(budget_bytes) {}

  // Whole blocks of `work` until `dt` has passed (at least one block).
  MemorySlice run(const MemoryWork& work, Seconds dt, std::uint64_t seed);

  // Tests: make a bit of a word (in the buffer at fraction 1) read back as `value`.
  void plant_stuck_bit(std::uint64_t word, int bit, bool value);

 private:
  class Pass;
  std::uint64_t budget_bytes_;
  std::vector<std::uint64_t> buffer_;
  std::size_t cursor_ = 0;  // next block's first word
  std::uint64_t pass_ = 0;  // blocks run, seeds the data
  struct Stuck {
    std::uint64_t word;
    std::uint64_t mask;
    bool value;
  };
  std::optional<Stuck> stuck_;
};

}  // namespace kiln::device
