#pragma once
// Building simulated chips straight from a SKU and a fault list.

#include <cstring>
#include <vector>

#include "device/sim/sim_chip.hpp"
#include "tests/device/test_support.hpp"

namespace kiln::device::test {

inline SimChipConfig chip_config(const Sku& sku, std::vector<Fault> faults = {}, std::string serial = "T-0") {
  SimChipConfig config;
  config.identity = ChipIdentity{serial, "r01", 0, sku.name};
  config.sku = sku;
  config.faults = std::move(faults);
  config.lab_seed = 42;
  config.ambient_c = 25.0;
  config.links = 2;
  return config;
}

inline Fault sdc_fault(double rate, int core = 1, int row = 12, int col = 40, int bit = 22) {
  Fault f;
  f.kind = FaultKind::sdc;
  f.core = core;
  f.pe_row = row;
  f.pe_col = col;
  f.bit = bit;
  f.rate = rate;
  return f;
}

inline GemmWork big_gemm(DType dtype = DType::bf16, bool functional = true, DataKind data = DataKind::random) {
  GemmWork work;
  work.dtype = dtype;
  work.m = work.n = work.k = 8192;
  work.data = data;
  work.functional = functional;
  return work;
}

inline bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// Runs `chip` until `seconds` of chip time have passed, in `dt` slices.
inline void run_for(Chip& chip, const GemmWork& work, double seconds, double dt = 0.1) {
  const int slices = static_cast<int>(seconds / dt + 0.5);
  for (int i = 0; i < slices; ++i) (void)chip.run_gemm(work, Seconds{dt});
}

inline void idle_for(Chip& chip, double seconds, double dt = 0.1) {
  const int slices = static_cast<int>(seconds / dt + 0.5);
  for (int i = 0; i < slices; ++i) chip.idle(Seconds{dt});
}

}  // namespace kiln::device::test
