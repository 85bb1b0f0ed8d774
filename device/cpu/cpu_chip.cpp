#include "device/cpu/cpu_chip.hpp"

#include <unistd.h>

#include <bit>
#include <cctype>
#include <cstring>
#include <thread>

#include "device/sim_random.hpp"

namespace kiln::device {
namespace {

using Clock = std::chrono::steady_clock;

std::string host_serial() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') std::strcpy(name, "host");
  std::string serial;
  for (const char* p = name; *p != '\0' && *p != '.'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    serial += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '-';
  }
  return serial + "-CPU0";
}

bool same_shape(const GemmWork& a, const GemmWork& b) {
  return a.dtype == b.dtype && a.m == b.m && a.n == b.n && a.k == b.k && a.data == b.data;
}

}  // namespace

Sku cpu_sku(const CpuPeak& peak, int cores) {
  Sku sku;
  sku.name = "cpu";
  sku.description = "the host CPU, peak measured at start";
  sku.cores = cores;
  if (peak.fp32_gflops > 0) sku.peak_tflops[DType::fp32] = peak.fp32_gflops / 1000.0;
  if (peak.bf16_gflops > 0) sku.peak_tflops[DType::bf16] = peak.bf16_gflops / 1000.0;
  return sku;
}

CpuChip::CpuChip(CpuChipConfig config)
    : config_(std::move(config)),
      sku_(cpu_sku(config_.peak, config_.cores)),
      start_(Clock::now()),
      memory_(config_.memory_budget_bytes),
      sensors_(config_.sensor_root, config_.cpus) {}

void CpuChip::start_run(std::uint64_t run_seed) {
  run_seed_ = run_seed;
  start_ = Clock::now();
  gemm_.reset();
  abft_.reset();
  gemm_error_.reset();
  golden_.clear();
}

Seconds CpuChip::now() const { return std::chrono::duration<double>(Clock::now() - start_); }

bool CpuChip::prepare(const GemmWork& work, std::string& error) {
  if ((gemm_ || gemm_error_) && same_shape(work, gemm_work_)) {
    if (gemm_error_) error = *gemm_error_;
    return gemm_ != nullptr;
  }
  gemm_.reset();
  abft_.reset();
  gemm_error_.reset();
  golden_.clear();
  gemm_work_ = work;
  const CpuGemmShape shape{work.dtype, work.m, work.n, work.k, work.data};
  const bool shared_host = config_.gemm_threads > 0;
  const auto library = work.dtype == DType::bf16 || shared_host ? CpuGemmLibrary::onednn : CpuGemmLibrary::openblas;
  auto made = CpuGemm::make(shape, library,
                            derive_seed(config_.lab_seed, config_.identity.serial, run_seed_, RandomStream::tile_data),
                            config_.gemm_threads);
  if (!made) {
    gemm_error_ = made.error().message;
    error = *gemm_error_;
    return false;
  }
  gemm_ = std::move(made).value();
  return true;
}

GemmSlice CpuChip::run_gemm(const GemmWork& work, Seconds dt) {
  GemmSlice slice;
  const auto start = Clock::now();
  std::string error;
  if (!prepare(work, error)) {
    // Nothing ran; the slice's time passes idle and no check vouches for it.
    idle(dt);
    slice.elapsed = std::chrono::duration<double>(Clock::now() - start);
    return slice;
  }
  if (work.functional && !abft_) {
    abft_ = std::make_unique<CpuAbft>(
        gemm_->a(), gemm_->b(), work.m, work.n, work.k, work.data != DataKind::random,
        gemm_->library() == CpuGemmLibrary::openblas ? ChecksumPass::openblas_gemv : ChecksumPass::double_loop);
  }
  if (work.functional) slice.check.emplace();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(dt);
  do {
    gemm_->run();
    if (flip_) {
      float& x = gemm_->mutable_c()[static_cast<std::size_t>(flip_->row * work.n + flip_->col)];
      x = std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) ^ (1u << flip_->bit));
    }
    slice.flops += gemm_->flops();
    slice.gemms += 1;
    if (work.functional && work.golden) {
      check_golden(*slice.check);
    } else if (work.functional) {
      abft_->verify(gemm_->c(), *slice.check);
    }
  } while (Clock::now() < until);
  slice.elapsed = std::chrono::duration<double>(Clock::now() - start);
  return slice;
}

void CpuChip::check_golden(GemmCheck& check) {
  const std::size_t n = static_cast<std::size_t>(gemm_work_.m * gemm_work_.n);
  const float* c = gemm_->c();
  if (golden_.empty()) {
    // The reference must itself be right: it is taken only once ABFT clears it.
    const std::uint64_t corrupted = check.corrupted, unlocalized = check.unlocalized;
    abft_->verify(c, check);
    if (check.corrupted == corrupted && check.unlocalized == unlocalized) golden_.assign(c, c + n);
    return;
  }
  ++check.gemms_checked;
  if (std::memcmp(c, golden_.data(), n * sizeof(float)) == 0) return;
  for (std::size_t e = 0; e < n; ++e) {
    const auto got = std::bit_cast<std::uint32_t>(c[e]);
    const auto want = std::bit_cast<std::uint32_t>(golden_[e]);
    if (got == want) continue;
    ++check.corrupted;
    if (check.corruptions.size() < kMaxReportedCorruptions) {
      const auto cols = static_cast<std::size_t>(gemm_work_.n);
      check.corruptions.push_back(GemmCorruption{static_cast<std::int64_t>(e / cols),
                                                 static_cast<std::int64_t>(e % cols), 31 - std::countl_zero(got ^ want),
                                                 golden_[e], c[e]});
    }
  }
}

void CpuChip::idle(Seconds dt) { std::this_thread::sleep_for(std::chrono::duration_cast<Clock::duration>(dt)); }

Result<MemorySlice> CpuChip::run_memory(const MemoryWork& work, Seconds dt) {
  return memory_.run(work, dt,
                     derive_seed(config_.lab_seed, config_.identity.serial, run_seed_, RandomStream::memory_data));
}

Telemetry CpuChip::telemetry() const { return sensors_.read(); }

Result<std::vector<std::unique_ptr<Chip>>> make_cpu_chips(const Lab& lab, const RackSpec& rack) {
  if (rack.backend != Backend::cpu) {
    return make_error(ErrorCode::invalid_argument, "rack '{}' has backend {}, not cpu", rack.id,
                      to_string(rack.backend));
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int count = std::max(1, rack.cpu_chips);
  if (count > cores) {
    return make_error(ErrorCode::invalid_argument, "rack '{}': cpu_chips {} but this host has {} core(s)", rack.id,
                      count, cores);
  }
  const int per_chip = cores / count;
  CpuPeak peak = measure_cpu_peak(cores);
  peak.fp32_gflops /= count;
  peak.bf16_gflops /= count;
  const std::string host = host_serial();
  std::vector<std::unique_ptr<Chip>> chips;
  for (int i = 0; i < count; ++i) {
    CpuChipConfig config;
    config.identity = ChipIdentity{host.substr(0, host.size() - 1) + std::to_string(i), rack.id,
                                   static_cast<std::uint32_t>(i), "cpu"};
    config.lab_seed = lab.seed;
    config.cores = per_chip;
    config.peak = peak;
    config.memory_budget_bytes = host_memory_budget() / static_cast<std::uint64_t>(count);
    if (count > 1) {
      config.gemm_threads = per_chip;
      for (int c = 0; c < per_chip; ++c) config.cpus.push_back(i * per_chip + c);
    }
    chips.push_back(std::make_unique<CpuChip>(std::move(config)));
  }
  return chips;
}

}  // namespace kiln::device
