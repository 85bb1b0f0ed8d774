// How much simulated time the digital twin produces per wall second: 1,024
// simulated trn2-sim chips run a bf16 8192³ GEMM in 0.1 s slices (the
// agent's slicing at sample_hz 10) and produce their telemetry every slice
// (built, not sent). Goal: 60,000 chip-seconds per second (1,024 chips at
// 60× real time) on a 2-core machine.
//
// Three variants, because the verification tile is what costs:
//   functional:0  the physics, faults and telemetry only (GemmWork.functional
//                 = false: the agent's `verify: none`)
//   functional:1  plus the real verification GEMM tile every slice
//                 (128 × 1024 × 16 multiply-adds on trn2-sim), each chip
//                 drawing its own inputs (the agent's abft before issue 12);
//                 checking it is the agent's cost, not counted.
//   functional:2  the same tile from inputs every chip shares per slice
//                 (GemmWork::input_seed, as the agent's abft and golden ask
//                 now), computed once per rack of 64 by its SharedTileCache.
// Each benchmark thread drives its own share of the chips, as the agent's
// per-chip threads do.
//
//   build/<dir>/bin/sim_bench --benchmark_format=json
// Counter chip_seconds_per_second: simulated chip-seconds per wall second,
// summed over threads.

#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "device/sim/sim_chip.hpp"

namespace kiln::device {
namespace {

constexpr int kChips = 1024;
constexpr double kSliceS = 0.1;  // sample_hz 10

const Sku& bench_sku() {
  static const Sku sku = [] {
    auto catalog = SkuCatalog::load_directory(std::string(KILN_SOURCE_DIR) + "/device/skus");
    if (!catalog || catalog->find("trn2-sim") == nullptr) std::abort();
    return *catalog->find("trn2-sim");
  }();
  return sku;
}

// This thread's share of the 1,024 chips: racks of 8 in a ring, as a lab would have them.
std::vector<std::unique_ptr<SimChip>> make_share(int thread, int threads, bool share_tiles) {
  std::vector<std::unique_ptr<SimChip>> chips;
  std::shared_ptr<SharedTileCache> tiles;
  for (int i = thread; i < kChips; i += threads) {
    if (share_tiles && chips.size() % 64 == 0) tiles = std::make_shared<SharedTileCache>();
    SimChipConfig config;
    config.identity =
        ChipIdentity{fmt::format("B-{}", i), fmt::format("b{}", i / 8), static_cast<std::uint32_t>(i % 8), "trn2-sim"};
    config.sku = bench_sku();
    config.lab_seed = 42;
    config.links = 2;
    config.tiles = tiles;
    chips.push_back(std::make_unique<SimChip>(std::move(config)));
    chips.back()->start_run(7);
  }
  return chips;
}

void BM_SimChipSeconds(benchmark::State& state) {
  (void)bench_sku();
  const bool shared = state.range(0) == 2;
  auto chips = make_share(state.thread_index(), state.threads(), shared);
  GemmWork work;
  work.dtype = DType::bf16;
  work.functional = state.range(0) != 0;
  std::uint64_t slice_seed = 1;
  if (shared) work.input_seed = slice_seed;
  // One untimed slice first: each chip allocates its tile storage (about
  // 0.6 MiB on trn2-sim, 600 MiB for 1,024 chips) and reuses it from then
  // on once the slice that held it is dropped, as under the agent.
  for (auto& chip : chips) (void)chip->run_gemm(work, Seconds{kSliceS});
  double chip_seconds = 0;
  for (auto _ : state) {
    for (auto& chip : chips) {
      GemmSlice slice = chip->run_gemm(work, Seconds{kSliceS});
      const Telemetry telemetry = chip->telemetry();
      benchmark::DoNotOptimize(telemetry);
      benchmark::DoNotOptimize(slice.flops);
    }
    if (shared) work.input_seed = ++slice_seed;  // fresh inputs every slice, as abft draws them
    chip_seconds += kSliceS * static_cast<double>(chips.size());
  }
  state.counters["chip_seconds_per_second"] = benchmark::Counter(chip_seconds, benchmark::Counter::kIsRate);
  state.counters["chips"] = benchmark::Counter(static_cast<double>(chips.size()), benchmark::Counter::kDefaults);
}

BENCHMARK(BM_SimChipSeconds)->ArgName("functional")->Arg(0)->Threads(1)->Threads(2)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_SimChipSeconds)->ArgName("functional")->Arg(1)->Threads(1)->Threads(2)->UseRealTime()->MinTime(8.0);
BENCHMARK(BM_SimChipSeconds)->ArgName("functional")->Arg(2)->Threads(1)->Threads(2)->UseRealTime()->MinTime(4.0);

}  // namespace
}  // namespace kiln::device

BENCHMARK_MAIN();
