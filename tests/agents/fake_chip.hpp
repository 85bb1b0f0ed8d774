#pragma once
// A scripted device::Chip for agent tests: fixed SKU, telemetry the test
// sets, a real (small) verification tile each slice with optional planted
// corruption, and a hang after a given number of slices.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "device/chip.hpp"
#include "device/gemm_tile.hpp"
#include "device/number_format.hpp"
#include "device/sim_random.hpp"

namespace kiln::agent::testing {

inline device::Sku fake_sku() {
  device::Sku sku;
  sku.name = "fake-sku";
  sku.peak_tflops = {{device::DType::bf16, 100.0}, {device::DType::fp32, 25.0}};
  sku.cores = 2;
  sku.pe_rows = 16;
  sku.pe_cols = 8;
  sku.hbm_stacks = 2;
  sku.hbm_channels_per_stack = 8;
  sku.hbm_bandwidth_gbps = 1000;
  sku.links = 2;
  sku.link_bandwidth_gbps = 50;
  sku.max_clock_mhz = 2000;
  sku.critical_c = 105;
  sku.throttle_c = 90;
  return sku;
}

// One planted bit flip in every tile, at PE (pe_row, pe_col) of `core`.
struct PlantedFlip {
  int core = 0;
  int pe_row = 0;
  int pe_col = 0;
  int bit = 22;
};

class FakeChip final : public device::Chip {
 public:
  explicit FakeChip(std::string serial, std::uint32_t slot = 0) {
    identity_ = {std::move(serial), "r-test", slot, "fake-sku"};
    sku_ = fake_sku();
    telemetry_.temperature_c = 50;
    telemetry_.power_w = 300;
    telemetry_.clock_mhz = 2000;
    telemetry_.voltage_mv = 750;
    telemetry_.utilization = 1;
    telemetry_.throttled = false;
    telemetry_.hbm_ce = 0;
    telemetry_.hbm_ue = 0;
    telemetry_.links.resize(2);
    for (auto& l : telemetry_.links) {
      l.gbps = 40;
      l.crc_errors = 0;
      l.up = true;
    }
  }

  const device::ChipIdentity& identity() const override { return identity_; }
  const device::Sku& sku() const override { return sku_; }
  void start_run(std::uint64_t run_seed) override {
    ++runs_started;
    last_run_seed = run_seed;
    now_ = Seconds(0);
    rng_ = device::SimRandom(run_seed + 1);
  }
  Seconds now() const override { return now_; }

  device::GemmSlice run_gemm(const device::GemmWork& work, Seconds dt) override {
    ++gemm_calls;
    device::GemmSlice slice;
    slice.elapsed = dt;
    now_ += dt;
    if (hung()) return slice;
    // Flops such that a full tick gives exactly `tflops_at_full` TFLOPS.
    slice.flops = tflops_at_full * 1e12 * dt.count();
    if (work.functional) {
      auto tile = std::make_shared<device::GemmTile>();
      device::make_gemm_tile(sku_, work, rng_, *tile);
      for (const auto& flip : flips) {
        auto& c = tile->c;
        const auto col = static_cast<std::size_t>(flip.core * sku_.pe_cols + flip.pe_col);
        const auto i = static_cast<std::size_t>(flip.pe_row) * static_cast<std::size_t>(tile->cols) + col;
        c[i] = device::flip_bit(c[i], flip.bit);
      }
      slice.tile = std::move(tile);
    }
    if (mangle_slice) mangle_slice(slice);
    if (after_slice) after_slice(*this);
    return slice;
  }

  void idle(Seconds dt) override {
    ++idle_calls;
    now_ += dt;
    if (after_slice) after_slice(*this);
  }

  device::Telemetry telemetry() const override { return telemetry_; }
  bool hung() const override { return hang_after_calls && gemm_calls + idle_calls > *hang_after_calls; }

  // Test controls.
  device::Telemetry telemetry_;
  std::vector<PlantedFlip> flips;
  std::optional<int> hang_after_calls;
  double tflops_at_full = 80;
  std::function<void(FakeChip&)> after_slice;
  // Applied to each GEMM slice before it is returned (a broken backend).
  std::function<void(device::GemmSlice&)> mangle_slice;
  int gemm_calls = 0;
  int idle_calls = 0;
  int runs_started = 0;
  std::uint64_t last_run_seed = 0;

 private:
  device::ChipIdentity identity_;
  device::Sku sku_;
  Seconds now_{0};
  device::SimRandom rng_{1};
};

}  // namespace kiln::agent::testing
