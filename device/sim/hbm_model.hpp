#pragma once
// The HBM of a simulated chip: stacks × channels, bandwidth, and a small
// functional image of every channel on which memory patterns really write,
// read back and compare 64-bit words.
//
// The image (kHbmImageWords words per channel) stands for the whole channel
// the way the GEMM verification tile stands for a slice's GEMMs: a word of
// the image represents a stride of the channel's address space. A stuck bit
// (`hbm_stuck`) is a stuck data line of its channel: every word read there
// has that bit forced to the stuck value, so any pattern that writes the
// opposite value finds it, at its exact (stack, channel, bit).

#include <cstdint>
#include <vector>

#include "core/units.hpp"
#include "device/chip.hpp"
#include "device/lab.hpp"
#include "device/sim_random.hpp"
#include "device/sku.hpp"

namespace kiln::device {

inline constexpr int kHbmImageWords = 512;  // 4 KiB per channel
// Refresh doubles above 85 °C (JEDEC extended temperature range), which
// costs a few percent of bandwidth.
inline constexpr double kHbmHotRefreshC = 85.0;
inline constexpr double kHbmHotRefreshFactor = 0.97;

// Share of the peak bandwidth a pattern reaches: streaming writes then
// reads (bandwidth) is the best case; random addresses pay row misses.
double memory_pattern_efficiency(MemoryPattern pattern);

class HbmModel {
 public:
  // `faults`: the chip's faults (only hbm_stuck matters here). The stuck
  // value of each stuck line is drawn from `silicon_seed`: a property of
  // the die, the same in every run.
  HbmModel(const Sku& sku, const std::vector<Fault>& faults, std::uint64_t silicon_seed);

  // A new run: the pattern data stream is reseeded.
  void start_run(std::uint64_t data_seed);

  // One slice of `work` at HBM temperature `hbm_c`. Runs one full pass of
  // the pattern over `fraction` of every channel's image.
  MemorySlice run(const MemoryWork& work, Seconds dt, double hbm_c);

  // GB/s the pattern reaches at this temperature.
  double achieved_gbps(MemoryPattern pattern, double hbm_c) const;
  // Bytes of the real channel one image word stands for.
  std::uint64_t word_stride_bytes() const { return stride_bytes_; }
  int channels() const { return stacks_ * channels_per_stack_; }

 private:
  struct StuckLine {
    int channel = 0;  // flat index stack × channels_per_stack + channel
    std::uint64_t mask = 0;
    bool value = false;
  };

  class Pass;  // one pattern pass over one channel (hbm_model.cpp)

  std::uint64_t stored(int channel, std::uint64_t value) const;
  bool has_stuck_line(int channel) const;

  int stacks_;
  int channels_per_stack_;
  double bandwidth_gbps_;
  std::uint64_t stride_bytes_;
  std::vector<StuckLine> stuck_;
  std::vector<std::uint64_t> image_;  // channels × kHbmImageWords, once a pattern ran
  SimRandom data_rng_;
};

}  // namespace kiln::device
