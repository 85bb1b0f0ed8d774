#include "device/sim_random.hpp"

#include <cmath>

namespace kiln::device {

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::uint64_t splitmix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t derive_seed(std::uint64_t lab_seed, std::string_view serial, std::uint64_t run_seed,
                          RandomStream stream) {
  // Chained mixing: each input passes through a full-avalanche step before
  // the next is folded in, so nearby seeds or serials give unrelated streams.
  std::uint64_t h = splitmix64(lab_seed ^ 0x6b696c6e2d6c6162ULL);  // "kiln-lab"
  h = splitmix64(h ^ fnv1a64(serial));
  h = splitmix64(h ^ run_seed);
  h = splitmix64(h ^ static_cast<std::uint64_t>(stream));
  return h;
}

namespace {
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

SimRandom::SimRandom(std::uint64_t seed) {
  // Consecutive splitmix64 outputs, as the xoshiro authors recommend; they
  // are never all zero.
  for (auto& word : s_) {
    word = splitmix64(seed);
    seed += 0x9e3779b97f4a7c15ULL;
  }
}

std::uint64_t SimRandom::next() {
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

double SimRandom::uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

float SimRandom::uniform_pm1() {
  // 24 random bits as a signed integer in [-2^23, 2^23), scaled by 2^-23:
  // both steps are exact in fp32.
  const auto bits = static_cast<std::int32_t>(next() >> 40);
  return static_cast<float>(bits - (1 << 23)) * 0x1.0p-23f;
}

double SimRandom::exponential(double rate) {
  // 1 - u is in (0, 1], so the log is finite.
  return -std::log(1.0 - uniform01()) / rate;
}

}  // namespace kiln::device
