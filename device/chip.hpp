#pragma once
// What an agent needs from a chip, simulated or real: who it is, what it is,
// run a slice of work, and read its telemetry. A pattern runner (agents/)
// drives a chip through time slices; the chip advances its own time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/units.hpp"
#include "device/sku.hpp"

namespace kiln::device {

struct ChipIdentity {
  std::string serial;
  std::string rack;
  std::uint32_t slot = 0;
  std::string sku;
};

enum class DataKind { random, ones, max_toggle };

struct GemmWork {
  DType dtype = DType::bf16;
  std::int64_t m = 8192, n = 8192, k = 8192;
  DataKind data = DataKind::random;
  // Compute a verification tile this slice (verify != none).
  bool functional = true;
  // Draw the tile's random inputs from this seed instead of the chip's own
  // stream: chips given the same seed compute the same tile (verify: vote).
  std::optional<std::uint64_t> input_seed;
  // verify: golden on a chip that checks its own GEMMs (GemmSlice::check):
  // the first output that passes ABFT becomes the reference and every later
  // one must match it bit for bit.
  bool golden = false;
};

// A small GEMM the chip really computed, standing for the slice's work so
// that verification checks real numbers. It spans every processing element
// of every core once: rows = pe_rows, cols = cores * pe_cols, and output
// element (i, j) was computed by PE (i, j % pe_cols) of core j / pe_cols.
// Row-major fp32; inputs are already rounded to the work's dtype.
// c[i][j] = sum over p = 0..depth-1, in order, of a[i][p] * b[p][j] in fp32
// (no fused multiply-add), so a verifier can recompute an element exactly.
// The sum starts from +0.0f; device/gemm_tile.hpp's tile_reference_element()
// recomputes one element bit for bit.
struct GemmTile {
  int pe_rows = 0, pe_cols = 0;
  int rows = 0, cols = 0, depth = 0;
  std::vector<float> a;  // rows × depth
  std::vector<float> b;  // depth × cols
  std::vector<float> c;  // rows × cols
};

// A real backend verifies its GEMMs where their matrices are (the whole
// output, by ABFT checksums) and reports what it found instead of a tile.
// Locations are output coordinates: a host CPU has no fixed map from an
// output element to a core.
struct GemmCorruption {
  std::int64_t row = 0, col = 0;
  int bit = 0;  // highest differing bit of the fp32 patterns
  float expected = 0, actual = 0;
};
inline constexpr std::size_t kMaxReportedCorruptions = 64;

struct GemmCheck {
  std::uint64_t gemms_checked = 0;
  std::uint64_t corrupted = 0;              // elements found corrupted
  std::vector<GemmCorruption> corruptions;  // the first kMaxReportedCorruptions of them
  std::uint64_t unlocalized = 0;            // GEMMs whose checksums disagreed where no element was found
};

struct GemmSlice {
  Seconds elapsed{0};  // chip time this slice took (a sim chip: the dt asked for; a real one: at least one GEMM)
  double flops = 0;    // useful floating-point operations done
  double gemms = 0;    // full-size GEMMs completed (fractional)
  // Shared so that a chip can reuse a tile's storage (a sim tile is up to
  // ~0.6 MiB and is made every slice) once whoever verified it let go of it,
  // without a method on Chip for that, and so that chips computing the same
  // clean tile can hand out one copy (device/sim/shared_tile_cache.hpp).
  // Immutable once returned: a verifier may rely on an object it has
  // already checked staying what it checked.
  std::shared_ptr<const GemmTile> tile;
  std::optional<GemmCheck> check;
};

// Memory patterns (DESIGN §4 `hbm`). A pattern really writes, reads back and
// compares data; on a simulated chip it runs on a scaled-down image of each
// HBM channel that stands for the slice's traffic (see docs/simulation.md).
enum class MemoryPattern { bandwidth, walking_ones, moving_inversions, random };
const char* to_string(MemoryPattern pattern);
std::optional<MemoryPattern> parse_memory_pattern(std::string_view text);

struct MemoryWork {
  MemoryPattern pattern = MemoryPattern::moving_inversions;
  double fraction = 0.9;  // share of each channel the pattern covers, (0, 1]
};

// One bit that read back differently from what was written.
struct MemoryMismatch {
  int stack = 0, channel = 0;  // -1 where the memory has none (host memory)
  int bit = 0;                 // 0..63 of the channel's 64-bit word
  std::uint64_t address = 0;   // byte address within the channel
  bool expected = false;       // the bit's written value
};

struct MemorySlice {
  Seconds elapsed{0};
  double bytes = 0;                        // bytes moved (read + written) this slice
  double gbps = 0;                         // bytes / elapsed / 1e9
  std::uint64_t mismatch_count = 0;        // every mismatching bit read this slice
  std::vector<MemoryMismatch> mismatches;  // the first kMaxReportedMismatches distinct of them
};
inline constexpr std::size_t kMaxReportedMismatches = 64;

// One telemetry reading (DESIGN §7). std::nullopt = the backend cannot read
// it, never 0.
struct LinkTelemetry {
  std::optional<double> gbps;
  std::optional<double> crc_errors;  // cumulative within the run
  std::optional<bool> up;
  std::optional<double> rate_gbps;  // the rate the link trained at, per direction (nvidia-smi nvlink -s)
};

// Where ECC errors happened, as the memory controller logs them.
struct MemoryErrorSite {
  int stack = 0, channel = 0;
  double ce = 0, ue = 0;  // cumulative within the run
};

struct Telemetry {
  std::optional<double> temperature_c;
  std::optional<double> hbm_temperature_c;
  std::optional<double> power_w;
  std::optional<double> clock_mhz;
  std::optional<double> voltage_mv;
  std::optional<double> utilization;  // 0..1 over the last slice
  std::optional<bool> throttled;      // while the clock is held down by temperature/power
  std::optional<double> hbm_ce;       // cumulative within the run
  std::optional<double> hbm_ue;
  std::optional<double> hbm_gbps;  // HBM traffic over the last slice, GB/s
  std::vector<LinkTelemetry> links;
  std::vector<MemoryErrorSite> hbm_error_sites;  // sites with hbm_ce or hbm_ue, where the backend knows them
};

class Chip {
 public:
  virtual ~Chip() = default;

  virtual const ChipIdentity& identity() const = 0;
  virtual const Sku& sku() const = 0;

  // A new run begins: cumulative counters restart and the chip's randomness
  // is re-derived from (lab seed, serial, run_seed). Physical state
  // (temperature) carries over, as it would on real silicon.
  virtual void start_run(std::uint64_t run_seed) = 0;
  // Chip time since start_run (simulated seconds for a sim chip).
  virtual Seconds now() const = 0;

  // Runs GEMMs for `dt` of chip time.
  virtual GemmSlice run_gemm(const GemmWork& work, Seconds dt) = 0;
  // Does nothing for `dt`: the chip cools towards ambient.
  virtual void idle(Seconds dt) = 0;

  // Runs a memory pattern for `dt` of chip time. Chips that cannot run
  // memory patterns answer ErrorCode::unavailable (the step is unsupported,
  // not passed).
  virtual Result<MemorySlice> run_memory(const MemoryWork& /*work*/, Seconds /*dt*/) {
    return make_error(ErrorCode::unavailable, "memory patterns are not supported by this chip");
  }

  // A shmoo point: core voltage and clock to run at until cleared (or the
  // next start_run). Thermal throttling still applies below the clock.
  // invalid_argument outside what the chip accepts; unavailable where the
  // backend cannot set it.
  virtual Status set_operating_point(double /*voltage_mv*/, double /*clock_mhz*/) {
    return make_error(ErrorCode::unavailable, "this chip cannot set its voltage and clock");
  }
  // Back to the stock voltage and clock.
  virtual void clear_operating_point() {}

  virtual Telemetry telemetry() const = 0;
  // True when the chip stopped making progress (hang fault, critical temperature).
  virtual bool hung() const = 0;
};

}  // namespace kiln::device
