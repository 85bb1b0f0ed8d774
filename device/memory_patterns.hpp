#pragma once
// The memory test algorithms, shared by the simulated HBM (hbm_model.cpp,
// on channel images) and the cpu backend (host_memory.cpp, on real host
// memory). Each runs one whole pass over `pass.words()` words through a
// Pass that offers write(word, value) and read(word, expected); the Pass
// decides what a word is and reports every bit that reads back wrong.

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "device/sim_random.hpp"

namespace kiln::device {

inline constexpr std::uint64_t kAllOnes = ~std::uint64_t{0};

// A one walking through every bit position of every word.
void walking_ones(auto& pass) {
  for (int bit = 0; bit < 64; ++bit) {
    const std::uint64_t value = std::uint64_t{1} << bit;
    for (int w = 0; w < pass.words(); ++w) pass.write(w, value);
    for (int w = 0; w < pass.words(); ++w) pass.read(w, value);
  }
}

// March C− (van de Goor): ⇕(w0) ⇑(r0,w1) ⇑(r1,w0) ⇓(r0,w1) ⇓(r1,w0) ⇕(r0),
// with 0 / 1 meaning all-zero / all-one words. Finds every stuck-at,
// transition and most coupling faults.
void moving_inversions(auto& pass) {
  const int n = pass.words();
  for (int w = 0; w < n; ++w) pass.write(w, 0);
  for (int w = 0; w < n; ++w) {
    pass.read(w, 0);
    pass.write(w, kAllOnes);
  }
  for (int w = 0; w < n; ++w) {
    pass.read(w, kAllOnes);
    pass.write(w, 0);
  }
  for (int w = n - 1; w >= 0; --w) {
    pass.read(w, 0);
    pass.write(w, kAllOnes);
  }
  for (int w = n - 1; w >= 0; --w) {
    pass.read(w, kAllOnes);
    pass.write(w, 0);
  }
  for (int w = 0; w < n; ++w) pass.read(w, 0);
}

// Random data, in sequential (bandwidth) or shuffled (random) address
// order; the data is regenerated from its seed to check.
void random_data(auto& pass, std::uint64_t seed, bool shuffle) {
  std::vector<int> order(static_cast<std::size_t>(pass.words()));
  std::iota(order.begin(), order.end(), 0);
  SimRandom rng(seed);
  if (shuffle) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
  }
  const std::uint64_t data_seed = rng.next();
  SimRandom data(data_seed);
  for (const int w : order) pass.write(w, data.next());
  SimRandom expected(data_seed);
  for (const int w : order) pass.read(w, expected.next());
}

}  // namespace kiln::device
