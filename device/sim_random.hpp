#pragma once
// Portable, reproducible randomness for the simulator. The standard
// library's engines are portable but its distributions are not (their
// output is implementation-defined), and std::hash differs between
// standard libraries, so everything here is spelled out by hand: the same
// (lab seed, serial, run seed) gives the same numbers on every platform.

#include <array>
#include <cstdint>
#include <string_view>

namespace kiln::device {

// 64-bit FNV-1a of the bytes of `text`.
std::uint64_t fnv1a64(std::string_view text);

// The splitmix64 finaliser: a bijective 64-bit mixer.
std::uint64_t splitmix64(std::uint64_t x);

// Independent streams of one chip, so that turning one kind of draw on or
// off (e.g. verification tiles) does not shift the others.
// `silicon` is drawn with run seed 0: properties of the die (process
// corner, stuck-bit polarity) that no run changes.
enum class RandomStream : std::uint64_t {
  tile_data = 1,
  sdc = 2,
  hbm = 3,
  margin = 4,
  silicon = 5,
  memory_data = 6,
  link = 7,
  collective_data = 8
};

// Seed of one stream of one chip in one run.
std::uint64_t derive_seed(std::uint64_t lab_seed, std::string_view serial, std::uint64_t run_seed, RandomStream stream);

// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class SimRandom {
 public:
  explicit SimRandom(std::uint64_t seed = 0);

  // Inline: the verification tile draws tens of thousands per slice.
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [-1, 1) on a grid of 2^-23: 24 random bits as a signed
  // integer in [-2^23, 2^23), scaled by 2^-23; both steps are exact in fp32.
  float uniform_pm1() {
    const auto bits = static_cast<std::int32_t>(next() >> 40);
    return static_cast<float>(bits - (1 << 23)) * 0x1.0p-23f;
  }
  // Exponentially distributed with the given rate (> 0), by inversion.
  double exponential(double rate);
  // Poisson distributed with the given mean (>= 0): exact (by inversion)
  // up to kPoissonExactMean, a rounded normal approximation above it.
  std::uint64_t poisson(double mean);

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::array<std::uint64_t, 4> s_{};
};

}  // namespace kiln::device
