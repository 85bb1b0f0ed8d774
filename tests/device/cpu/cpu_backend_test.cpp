// The cpu backend: real GEMMs through OpenBLAS and oneDNN, ABFT over the
// whole output (clean data never flags, a flipped bit is found at its row,
// column and bit), the measured peak, host sensors from a fake sysfs tree.
#include <unistd.h>

#include <bit>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "device/cpu/cpu_abft.hpp"
#include "device/cpu/cpu_chip.hpp"
#include "device/cpu/cpu_fabric.hpp"
#include "device/cpu/cpu_gemm.hpp"
#include "device/cpu/cpu_peak.hpp"
#include "device/cpu/host_memory.hpp"
#include "device/cpu/host_sensors.hpp"

namespace kiln::device {
namespace {

std::unique_ptr<CpuGemm> gemm(std::int64_t n, DType dtype, CpuGemmLibrary library, DataKind data, std::uint64_t seed) {
  auto made = CpuGemm::make(CpuGemmShape{dtype, n, n, n, data}, library, seed);
  if (!made) return nullptr;
  return std::move(made).value();
}

TEST(CpuGemm, ComputesTheProductItsInputsDefine) {
  auto g = gemm(64, DType::fp32, CpuGemmLibrary::openblas, DataKind::random, 3);
  ASSERT_NE(g, nullptr);
  g->run();
  for (const auto& [i, j] : {std::pair{0, 0}, std::pair{17, 40}, std::pair{63, 63}}) {
    double expected = 0;
    for (int p = 0; p < 64; ++p) expected += static_cast<double>(g->a()[i * 64 + p]) * g->b()[p * 64 + j];
    EXPECT_NEAR(g->c()[i * 64 + j], expected, 1e-4);
  }
}

TEST(CpuGemm, RefusesWhatItCannotRun) {
  EXPECT_EQ(
      CpuGemm::make(CpuGemmShape{DType::fp8, 64, 64, 64, DataKind::random}, CpuGemmLibrary::openblas, 1).error().code,
      ErrorCode::unavailable);
  EXPECT_EQ(
      CpuGemm::make(CpuGemmShape{DType::bf16, 64, 64, 64, DataKind::random}, CpuGemmLibrary::openblas, 1).error().code,
      ErrorCode::unavailable);
  EXPECT_EQ(
      CpuGemm::make(CpuGemmShape{DType::fp32, 0, 64, 64, DataKind::random}, CpuGemmLibrary::openblas, 1).error().code,
      ErrorCode::invalid_argument);
}

struct CleanCase {
  std::int64_t n;
  DType dtype;
  CpuGemmLibrary library;
  DataKind data;
};

// Readable test names in ctest: "n1024 fp32 openblas random".
void PrintTo(const CleanCase& c, std::ostream* os) {
  const char* data = c.data == DataKind::random ? "random" : c.data == DataKind::ones ? "ones" : "max_toggle";
  *os << "n" << c.n << " " << to_string(c.dtype) << " " << to_string(c.library) << " " << data;
}

class CpuAbftClean : public ::testing::TestWithParam<CleanCase> {};

// The tolerance has margin: the clean residual stays well inside it.
TEST_P(CpuAbftClean, CleanOutputNeverFlagsAndStaysWellInsideTheTolerance) {
  const CleanCase p = GetParam();
  for (const std::uint64_t seed : {1u, 2u}) {
    auto g = gemm(p.n, p.dtype, p.library, p.data, seed);
    if (g == nullptr && p.dtype == DType::bf16) GTEST_SKIP() << "oneDNN has no bf16 matmul on this CPU";
    ASSERT_NE(g, nullptr);
    g->run();
    CpuAbft abft(g->a(), g->b(), p.n, p.n, p.n, p.data != DataKind::random,
                 p.library == CpuGemmLibrary::openblas ? ChecksumPass::openblas_gemv : ChecksumPass::double_loop);
    GemmCheck check;
    abft.verify(g->c(), check);
    EXPECT_EQ(check.gemms_checked, 1u);
    EXPECT_EQ(check.corrupted, 0u);
    EXPECT_EQ(check.unlocalized, 0u);
    EXPECT_LT(abft.last_worst_ratio(), 0.25) << "n " << p.n << " seed " << seed;
    RecordProperty(fmt::format("worst_ratio_seed{}", seed), fmt::format("{:.4f}", abft.last_worst_ratio()));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuAbftClean,
                         ::testing::Values(CleanCase{256, DType::fp32, CpuGemmLibrary::openblas, DataKind::random},
                                           CleanCase{1024, DType::fp32, CpuGemmLibrary::openblas, DataKind::random},
                                           CleanCase{2048, DType::fp32, CpuGemmLibrary::openblas, DataKind::random},
                                           CleanCase{4096, DType::fp32, CpuGemmLibrary::openblas, DataKind::random},
                                           CleanCase{1024, DType::fp32, CpuGemmLibrary::openblas, DataKind::max_toggle},
                                           CleanCase{1024, DType::fp32, CpuGemmLibrary::openblas, DataKind::ones},
                                           CleanCase{1024, DType::fp32, CpuGemmLibrary::onednn, DataKind::random},
                                           CleanCase{1024, DType::bf16, CpuGemmLibrary::onednn, DataKind::random}));

TEST(CpuAbft, FlippedBitIsFoundAtItsRowColumnAndBit) {
  auto g = gemm(512, DType::fp32, CpuGemmLibrary::openblas, DataKind::random, 9);
  ASSERT_NE(g, nullptr);
  for (const auto pass : {ChecksumPass::openblas_gemv, ChecksumPass::double_loop}) {
    CpuAbft abft(g->a(), g->b(), 512, 512, 512, false, pass);
    for (const int bit : {31, 30, 27, 22, 19}) {
      SCOPED_TRACE(bit);
      g->run();
      float& x = g->mutable_c()[100 * 512 + 333];
      x = std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) ^ (1u << bit));
      GemmCheck check;
      abft.verify(g->c(), check);
      ASSERT_EQ(check.corrupted, 1u);
      ASSERT_EQ(check.corruptions.size(), 1u);
      EXPECT_EQ(check.corruptions[0].row, 100);
      EXPECT_EQ(check.corruptions[0].col, 333);
      EXPECT_EQ(check.corruptions[0].bit, bit);
      EXPECT_EQ(check.unlocalized, 0u);
    }
  }
}

TEST(CpuAbft, NonFiniteOutputIsCorruption) {
  auto g = gemm(128, DType::fp32, CpuGemmLibrary::openblas, DataKind::random, 4);
  ASSERT_NE(g, nullptr);
  g->run();
  g->mutable_c()[5 * 128 + 6] = std::numeric_limits<float>::quiet_NaN();
  CpuAbft abft(g->a(), g->b(), 128, 128, 128);
  GemmCheck check;
  abft.verify(g->c(), check);
  ASSERT_EQ(check.corruptions.size(), 1u);
  EXPECT_EQ(check.corruptions[0].row, 5);
  EXPECT_EQ(check.corruptions[0].col, 6);
}

// Every GEMM of the slice reported the planted flip, at its place and bit.
void expect_every_gemm_corrupted_at(const GemmSlice& slice, std::int64_t row, std::int64_t col, int bit) {
  ASSERT_TRUE(slice.check);
  EXPECT_EQ(slice.check->corrupted, slice.check->gemms_checked);
  ASSERT_FALSE(slice.check->corruptions.empty());
  EXPECT_EQ(slice.check->corruptions[0].row, row);
  EXPECT_EQ(slice.check->corruptions[0].col, col);
  EXPECT_EQ(slice.check->corruptions[0].bit, bit);
}

TEST(CpuChip, RunsVerifiedGemmsForTheSliceAndReportsAPlantedFlip) {
  CpuChipConfig config;
  config.identity = ChipIdentity{"HOST-CPU0", "host", 0, "cpu"};
  config.peak.fp32_gflops = 100;
  CpuChip chip(config);
  chip.start_run(1);
  GemmWork work;
  work.dtype = DType::fp32;
  work.m = work.n = work.k = 256;
  work.functional = true;
  GemmSlice slice = chip.run_gemm(work, Seconds{0.05});
  EXPECT_GE(slice.elapsed.count(), 0.05);
  EXPECT_GE(slice.gemms, 1);
  EXPECT_DOUBLE_EQ(slice.flops, slice.gemms * 2.0 * 256 * 256 * 256);
  ASSERT_TRUE(slice.check);
  EXPECT_EQ(slice.check->gemms_checked, static_cast<std::uint64_t>(slice.gemms));
  EXPECT_EQ(slice.check->corrupted, 0u);

  chip.plant_flip(CpuChip::PlantedFlip{12, 200, 29});
  expect_every_gemm_corrupted_at(chip.run_gemm(work, Seconds{0.01}), 12, 200, 29);

  // fp8 is not a dtype of the cpu chip: nothing runs and nothing is vouched for.
  work.dtype = DType::fp8;
  slice = chip.run_gemm(work, Seconds{0.01});
  EXPECT_EQ(slice.gemms, 0);
  EXPECT_FALSE(slice.check);
  EXPECT_EQ(chip.sku().peak(DType::fp8), 0);
  EXPECT_DOUBLE_EQ(chip.sku().peak(DType::fp32), 0.1);
}

TEST(CpuChip, GoldenCatchesALowBitFlipThatAbftCannotSee) {
  CpuChipConfig config;
  config.identity = ChipIdentity{"HOST-CPU0", "host", 0, "cpu"};
  CpuChip chip(config);
  chip.start_run(3);
  GemmWork work;
  work.dtype = DType::fp32;
  work.m = work.n = work.k = 256;
  work.functional = true;
  work.golden = true;
  // Clean GEMMs: the first becomes the reference (after ABFT), the rest match it bit for bit.
  GemmSlice slice = chip.run_gemm(work, Seconds{0.05});
  ASSERT_TRUE(slice.check);
  EXPECT_EQ(slice.check->corrupted, 0u);
  EXPECT_GE(slice.check->gemms_checked, 2u);
  // An intermittent flip in the lowest mantissa bit: far inside ABFT's tolerance, exact for golden.
  chip.plant_flip(CpuChip::PlantedFlip{40, 41, 2});
  expect_every_gemm_corrupted_at(chip.run_gemm(work, Seconds{0.01}), 40, 41, 2);
  // ABFT alone does not see it.
  work.golden = false;
  slice = chip.run_gemm(work, Seconds{0.01});
  ASSERT_TRUE(slice.check);
  EXPECT_EQ(slice.check->corrupted, 0u);
}

TEST(CpuFabric, EveryCollectiveDeliversTheExactResultToEveryChip) {
  for (const int chips : {2, 3, 4}) {
    CpuFabric fabric(chips);
    for (const auto op : {CollectiveOp::allreduce, CollectiveOp::allgather, CollectiveOp::reduce_scatter,
                          CollectiveOp::alltoall, CollectiveOp::sendrecv}) {
      SCOPED_TRACE(fmt::format("{} chips, {}", chips, to_string(op)));
      auto slice = fabric.run_collective(CollectiveWork{op, 1 << 20, true}, Seconds{0.005});
      ASSERT_TRUE(slice) << slice.error().message;
      EXPECT_GE(slice->collectives, 1);
      EXPECT_GT(slice->algbw_gbps, 0.0);
      EXPECT_DOUBLE_EQ(slice->busbw_gbps, slice->algbw_gbps * busbw_factor(op, chips));
      ASSERT_EQ(slice->result_errors.size(), static_cast<std::size_t>(chips));
      for (const auto wrong : slice->result_errors) EXPECT_EQ(wrong, 0u);
    }
  }
}

TEST(CpuFabric, ACorruptedReceiveShowsAtThatChipOnly) {
  CpuFabric fabric(3);
  fabric.plant_corruption(1);
  auto slice = fabric.run_collective(CollectiveWork{CollectiveOp::allreduce, 1 << 16, true}, Seconds{0});
  ASSERT_TRUE(slice);
  EXPECT_EQ(slice->result_errors[0], 0u);
  EXPECT_GT(slice->result_errors[1], 0u);
  EXPECT_EQ(slice->result_errors[2], 0u);
  EXPECT_FALSE(fabric.run_collective(CollectiveWork{CollectiveOp::allreduce, 0, true}, Seconds{0}));
  EXPECT_FALSE(CpuFabric(1).run_collective(CollectiveWork{}, Seconds{0}));
}

TEST(CpuPeak, MeasuresAPlausibleFmaRate) {
  const CpuPeak peak = measure_cpu_peak(1, std::chrono::milliseconds(50));
  EXPECT_EQ(peak.threads, 1);
  // A core does at least one scalar FMA per nanosecond and at most a few hundred flops per cycle.
  EXPECT_GT(peak.fp32_gflops, 1.0);
  EXPECT_LT(peak.fp32_gflops, 2000.0);
}

TEST(HostMemory, CleanMemoryPassesEveryPatternAndCountsItsTraffic) {
  HostMemory memory(std::uint64_t{8} << 20);
  for (const auto pattern : {MemoryPattern::bandwidth, MemoryPattern::walking_ones, MemoryPattern::moving_inversions,
                             MemoryPattern::random}) {
    SCOPED_TRACE(to_string(pattern));
    const MemorySlice slice = memory.run(MemoryWork{pattern, 1.0}, Seconds{0.01}, 5);
    EXPECT_EQ(slice.mismatch_count, 0u);
    EXPECT_GT(slice.bytes, 2.0 * 8 * (1 << 18) - 1);  // at least one 2 MiB block written and read
    EXPECT_GT(slice.gbps, 0.0);
    EXPECT_GE(slice.elapsed.count(), 0.01);
  }
}

TEST(HostMemory, StuckBitIsFoundByTheMarchAtItsBitAndAddress) {
  HostMemory memory(std::uint64_t{4} << 20);  // two blocks
  memory.plant_stuck_bit(12345, 37, true);
  bool found = false;
  for (int slice_no = 0; slice_no < 2 && !found; ++slice_no) {  // the block holding word 12345 comes first
    const MemorySlice slice = memory.run(MemoryWork{MemoryPattern::moving_inversions, 1.0}, Seconds{0}, 1);
    for (const auto& m : slice.mismatches) {
      EXPECT_EQ(m.stack, -1);
      EXPECT_EQ(m.bit, 37);
      EXPECT_EQ(m.address, 12345u * 8);
      EXPECT_FALSE(m.expected);  // stuck at 1: reads 1 where 0 was written
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(HostMemory, BudgetIsAQuarterOfAvailableMemoryCappedAt1GiB) {
  namespace fs = std::filesystem;
  const fs::path path = fs::temp_directory_path() / fmt::format("kiln-meminfo-{}", ::getpid());
  std::ofstream(path) << "MemTotal:       8000000 kB\nMemAvailable:    2000000 kB\n";
  EXPECT_EQ(host_memory_budget(path.string()), 2000000ULL * 1024 / 4);
  std::ofstream(path) << "MemAvailable:   64000000 kB\n";
  EXPECT_EQ(host_memory_budget(path.string()), 1ULL << 30);
  fs::remove(path);
  EXPECT_EQ(host_memory_budget(path.string()), 256ULL << 20);
}

TEST(HostSensors, ParsesProcStatAndCpuinfo) {
  const char* stat =
      "cpu  100 0 50 800 50 0 0 0 0 0\n"
      "cpu0 60 0 20 400 20 0 0 0 0 0\n"
      "cpu1 40 0 30 400 30 0 0 0 0 0\n"
      "intr 12345\n";
  auto all = parse_proc_stat(stat, {});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->total, 1000u);
  EXPECT_EQ(all->busy, 150u);
  auto one = parse_proc_stat(stat, {1});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->total, 500u);
  EXPECT_EQ(one->busy, 70u);
  EXPECT_FALSE(parse_proc_stat("garbage\n", {}));
  EXPECT_FALSE(parse_proc_stat("cpu 1 2\n", {}));

  const char* info = "processor\t: 0\ncpu MHz\t\t: 2000.0\n\nprocessor\t: 1\ncpu MHz\t\t: 3000.0\n";
  EXPECT_DOUBLE_EQ(*parse_cpuinfo_mhz(info, {}), 2500.0);
  EXPECT_DOUBLE_EQ(*parse_cpuinfo_mhz(info, {1}), 3000.0);
  EXPECT_FALSE(parse_cpuinfo_mhz("processor: 0\n", {}));
}

TEST(HostSensors, ReadsWhatTheTreeHasAndNothingElse) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / fmt::format("kiln-sensors-{}", ::getpid());
  fs::remove_all(root);
  const auto put = [&](const std::string& path, const std::string& text) {
    fs::create_directories((root / path).parent_path());
    std::ofstream(root / path) << text;
  };
  put("proc/stat", "cpu  100 0 0 900 0 0 0 0\n");
  put("proc/cpuinfo", "processor : 0\ncpu MHz : 2400.5\n");
  HostSensors bare(root.string());
  Telemetry t = bare.read();
  EXPECT_FALSE(t.temperature_c);  // no sensor: unavailable, not 0
  EXPECT_FALSE(t.power_w);
  EXPECT_FALSE(t.utilization);  // a rate: needs two reads
  EXPECT_DOUBLE_EQ(*t.clock_mhz, 2400.5);
  put("proc/stat", "cpu  200 0 0 1000 0 0 0 0\n");
  t = bare.read();
  ASSERT_TRUE(t.utilization);
  EXPECT_DOUBLE_EQ(*t.utilization, 0.5);

  put("sys/class/thermal/thermal_zone0/type", "acpitz\n");
  put("sys/class/thermal/thermal_zone0/temp", "40000\n");
  put("sys/class/thermal/thermal_zone1/type", "x86_pkg_temp\n");
  put("sys/class/thermal/thermal_zone1/temp", "61500\n");
  EXPECT_DOUBLE_EQ(*HostSensors(root.string()).read().temperature_c, 61.5);
  put("sys/class/hwmon/hwmon3/name", "k10temp\n");
  put("sys/class/hwmon/hwmon3/temp1_input", "70250\n");
  put("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "3100000\n");
  const Telemetry full = HostSensors(root.string()).read();
  EXPECT_DOUBLE_EQ(*full.temperature_c, 70.25);
  EXPECT_DOUBLE_EQ(*full.clock_mhz, 3100.0);
  fs::remove_all(root);
}

}  // namespace
}  // namespace kiln::device
