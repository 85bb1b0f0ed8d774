#pragma once
// The host CPU as a chip (DESIGN §4, backend `cpu`): real GEMMs through
// OpenBLAS or oneDNN, each verified by ABFT over its whole output
// (cpu_abft.hpp), telemetry from procfs/sysfs (host_sensors.hpp), and a SKU
// filled in at start: its fp32 (and bf16) peak measured by an FMA
// microbenchmark (cpu_peak.hpp). Chip time is wall time.
//
// By default one chip per host with every core; a rack's `cpu_chips: N`
// splits the cores into N chips (cpu_fabric.hpp links them for collectives).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device/chip.hpp"
#include "device/cpu/cpu_abft.hpp"
#include "device/cpu/cpu_gemm.hpp"
#include "device/cpu/cpu_peak.hpp"
#include "device/cpu/host_memory.hpp"
#include "device/cpu/host_sensors.hpp"
#include "device/lab.hpp"

namespace kiln::device {

struct CpuChipConfig {
  ChipIdentity identity;
  std::uint64_t lab_seed = 0;
  CpuPeak peak;
  int cores = 1;
  std::string sensor_root = "/";
  std::uint64_t memory_budget_bytes = std::uint64_t{256} << 20;  // host memory a pattern covers at fraction 1
  // A host split into several chips: each GEMM through oneDNN on this
  // many OpenMP threads (OpenBLAS's one process-wide pool cannot be
  // shared out); 0 = one chip with the whole host, fp32 through OpenBLAS.
  int gemm_threads = 0;
  std::vector<int> cpus;  // the cores this chip owns (sensors); empty = all
};

// The "cpu" SKU of a host whose peak is `peak`.
Sku cpu_sku(const CpuPeak& peak, int cores);

class CpuChip final : public Chip {
 public:
  explicit CpuChip(CpuChipConfig config);

  const ChipIdentity& identity() const override { return config_.identity; }
  const Sku& sku() const override { return sku_; }
  void start_run(std::uint64_t run_seed) override;
  Seconds now() const override;
  // Whole GEMMs until `dt` has passed (at least one): the slice can run over.
  GemmSlice run_gemm(const GemmWork& work, Seconds dt) override;
  void idle(Seconds dt) override;
  // Memory patterns on host memory (host_memory.hpp).
  Result<MemorySlice> run_memory(const MemoryWork& work, Seconds dt) override;
  Telemetry telemetry() const override;
  bool hung() const override { return false; }

  // For tests: corrupt one element of C after each GEMM, as a faulty
  // core would (the cpu backend has no fault injection of its own).
  struct PlantedFlip {
    std::int64_t row = 0, col = 0;
    int bit = 0;
  };
  void plant_flip(std::optional<PlantedFlip> flip) { flip_ = flip; }
  HostMemory& memory() { return memory_; }

 private:
  bool prepare(const GemmWork& work, std::string& error);
  void check_golden(GemmCheck& check);

  CpuChipConfig config_;
  Sku sku_;
  std::uint64_t run_seed_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::unique_ptr<CpuGemm> gemm_;
  std::unique_ptr<CpuAbft> abft_;
  std::optional<std::string> gemm_error_;  // the shape in gemm_ could not be made
  GemmWork gemm_work_;
  HostMemory memory_;
  mutable HostSensors sensors_;  // rates since the last read: reading changes it
  std::optional<PlantedFlip> flip_;
  std::vector<float> golden_;  // verify: golden's reference output (empty until one passed ABFT)
};

// The cpu rack's chips: this host's cores split into rack.cpu_chips equal
// groups (invalid_argument when there are fewer cores), serials
// "<HOSTNAME>-CPU0", "-CPU1", …. Measures the peak on every core at once
// (about 0.2 s) and gives each chip its share.
Result<std::vector<std::unique_ptr<Chip>>> make_cpu_chips(const Lab& lab, const RackSpec& rack);

}  // namespace kiln::device
