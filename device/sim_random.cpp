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

SimRandom::SimRandom(std::uint64_t seed) {
  // Consecutive splitmix64 outputs, as the xoshiro authors recommend; they
  // are never all zero.
  for (auto& word : s_) {
    word = splitmix64(seed);
    seed += 0x9e3779b97f4a7c15ULL;
  }
}

double SimRandom::exponential(double rate) {
  // 1 - u is in (0, 1], so the log is finite.
  return -std::log(1.0 - uniform01()) / rate;
}

std::uint64_t SimRandom::poisson(double mean) {
  constexpr double kPoissonExactMean = 30.0;
  if (!(mean > 0)) return 0;
  if (mean <= kPoissonExactMean) {
    // Inversion: walk the cumulative distribution; at most a few dozen steps.
    const double u = uniform01();
    double p = std::exp(-mean), cumulative = p;
    std::uint64_t k = 0;
    while (u >= cumulative && k < 1000) {
      ++k;
      p *= mean / static_cast<double>(k);
      cumulative += p;
    }
    return k;
  }
  // Box-Muller with both uniforms drawn, so the stream advances by a fixed
  // two draws.
  const double u1 = 1.0 - uniform01(), u2 = uniform01();
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  const double x = std::round(mean + std::sqrt(mean) * z);
  return x <= 0 ? 0 : static_cast<std::uint64_t>(x);
}

}  // namespace kiln::device
