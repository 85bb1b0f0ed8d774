#pragma once
// The lab file (DESIGN §3): which racks exist, their backend and topology,
// and for simulated racks the chips and their injected faults.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/units.hpp"
#include "device/sku.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::device {

enum class Backend { sim, cpu, cuda };
enum class Topology { ring, torus2d, full };
const char* to_string(Backend backend);
const char* to_string(Topology topology);
std::optional<Backend> parse_backend(std::string_view text);
std::optional<Topology> parse_topology(std::string_view text);

// Links of one chip in a rack of `chips` chips: ring 2 (0 = to the next slot,
// 1 = to the previous), torus2d 4, full chips - 1 (one to every other chip).
int topology_link_count(Topology topology, std::size_t chips);
// The links a chip really has: the topology's, capped by what the SKU has
// (a full mesh of 16 chips cannot give a 4-link chip 15 links). Telemetry
// reports link0…link{n-1} and `link:` fault indices are below this.
int chip_link_count(Topology topology, std::size_t chips, const Sku& sku);

enum class FaultKind {
  sdc,
  margin,
  slow,
  cooling,
  hbm_ce,
  hbm_ue,
  hbm_stuck,
  link_crc,
  link_degraded,
  link_down,
  hang
};
const char* to_string(FaultKind kind);
std::optional<FaultKind> parse_fault_kind(std::string_view text);

// One injected fault; which fields matter depends on `kind` (DESIGN §3).
// The member initialisers are the defaults a lab file gets for a field it
// leaves out, chosen so that a fault given only its kind still does
// something. A field that does not belong to the kind is an error in the file.
//   sdc            core, pe [row, col], bit (0..31 of the fp32 result), rate, above_c?, above_mhz?
//   margin         fmax_offset_mhz
//   slow           factor (0, 1]
//   cooling        r_th_factor (0, 100]
//   hbm_ce         stack, channel, rate_per_hour
//   hbm_ue         stack, channel, after
//   hbm_stuck      stack, channel, bit (0..63 of the channel's 64-bit word)
//   link_crc       link, ber
//   link_degraded  link, bandwidth_factor (0, 1]
//   link_down      link, after
//   hang           after
struct Fault {
  FaultKind kind = FaultKind::sdc;
  int core = 0;
  int pe_row = 0, pe_col = 0;
  int bit = 0;
  double rate = 1e-3;             // sdc: per GEMM probability
  std::optional<double> above_c;  // gates: absent = always
  std::optional<double> above_mhz;
  double fmax_offset_mhz = -100;  // margin: negative = less margin than a healthy chip
  double factor = 0.9;            // slow
  double r_th_factor = 1.5;       // cooling
  int stack = 0, channel = 0;     // hbm_*
  double rate_per_hour = 60;      // hbm_ce
  std::optional<Seconds> after;   // hbm_ue, link_down, hang: the loader sets 0s when absent
  int link = 0;                   // link_*
  double ber = 1e-8;              // link_crc
  double bandwidth_factor = 0.5;  // link_degraded
  yaml::Mark mark;
};

// Count form `{count: 8, sku: trn2-sim, serial_prefix: "R01-"}` expands to
// slots 0…count-1 with serials prefix + two-digit slot (R01-00 … R01-07);
// serial_prefix defaults to the rack id in upper case plus "-".
struct ChipSpec {
  std::uint32_t slot = 0;
  std::string serial;
  std::string sku;
  std::vector<Fault> faults;
};

struct RackSpec {
  std::string id;
  Backend backend = Backend::sim;
  Topology topology = Topology::ring;
  std::vector<ChipSpec> chips;  // for sim racks; real backends enumerate their own
  int cpu_chips = 1;            // cpu racks: how many chips the host's cores are split into
};

struct Lab {
  std::string name;
  std::uint64_t seed = 0;
  double time_scale = 1.0;  // simulated seconds per wall second (sim only), (0, 600]
  // `time_scale: unpaced`: sim chips run as fast as the host allows
  // (time_scale is then left at 1 for whoever divides by it).
  bool unpaced = false;
  double ambient_c = 25.0;
  std::vector<RackSpec> racks;
  std::string source_path;

  const RackSpec* find_rack(std::string_view id) const;
};

// Strict YAML rules as for plans. Faults are checked against the SKU
// (core, PE, stack/channel, link index in range) when `catalog` knows it;
// an unknown SKU name is an error.
std::optional<Lab> load_lab(std::string_view text, yaml::Diagnostics& diagnostics, const SkuCatalog& catalog);
Result<Lab> load_lab_file(const std::string& path, const SkuCatalog& catalog);  // error lists all diagnostics

}  // namespace kiln::device
