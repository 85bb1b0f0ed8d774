// Fuzz target: the lab loader (device/lab.hpp) on any text, with the SKU
// catalog of the shipped SKUs (device/skus).
//
// Checked: a lab or diagnostics, never both and never neither; every
// diagnostic names file:line:col inside the text; a lab that loads is one
// the agents can run as it says (DESIGN §3): a valid name, time scale in
// (0, 600], at least one rack, rack ids and chip serials unique, sim racks
// with chips of known SKUs and unique slots, other racks without listed
// chips, and every fault within its chip: core, PE, HBM stack and channel,
// and link inside what the SKU and topology give it, its bit in range, an
// `after` set where its kind needs one.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "device/lab.hpp"
#include "device/sku.hpp"
#include "fuzz/fuzz_support.hpp"
#include "fuzz/yaml_checks.hpp"

namespace {

using kiln::device::FaultKind;

const kiln::device::SkuCatalog& catalog() {
  static const kiln::device::SkuCatalog skus = [] {
    auto loaded = kiln::device::SkuCatalog::load_directory(KILN_FUZZ_SKU_DIR);
    if (!loaded) {
      fmt::print(stderr, "lab_loader fuzz target: {}\n", loaded.error().message);
      std::abort();
    }
    return std::move(loaded).value();
  }();
  return skus;
}

bool valid_identifier(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  for (const char c : text) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

void check_fault(const kiln::device::Fault& f, const kiln::device::Sku& sku, int links, const std::string& serial) {
  const auto kind = kiln::device::to_string(f.kind);
  switch (f.kind) {
    case FaultKind::sdc:
      KILN_FUZZ_CHECK(f.core >= 0 && f.core < sku.cores, "{} {}: core {} of {}", serial, kind, f.core, sku.cores);
      KILN_FUZZ_CHECK(f.pe_row >= 0 && f.pe_row < sku.pe_rows && f.pe_col >= 0 && f.pe_col < sku.pe_cols,
                      "{} {}: PE [{}, {}] of {}x{}", serial, kind, f.pe_row, f.pe_col, sku.pe_rows, sku.pe_cols);
      KILN_FUZZ_CHECK(f.bit >= 0 && f.bit <= 31, "{} {}: bit {}", serial, kind, f.bit);
      KILN_FUZZ_CHECK(f.rate >= 0 && f.rate <= 1, "{} {}: rate {}", serial, kind, f.rate);
      break;
    case FaultKind::hbm_ce:
    case FaultKind::hbm_ue:
    case FaultKind::hbm_stuck:
      KILN_FUZZ_CHECK(
          f.stack >= 0 && f.stack < sku.hbm_stacks && f.channel >= 0 && f.channel < sku.hbm_channels_per_stack,
          "{} {}: stack {} channel {} of {}x{}", serial, kind, f.stack, f.channel, sku.hbm_stacks,
          sku.hbm_channels_per_stack);
      if (f.kind == FaultKind::hbm_stuck) KILN_FUZZ_CHECK(f.bit >= 0 && f.bit <= 63, "{}: bit {}", kind, f.bit);
      break;
    case FaultKind::link_crc:
    case FaultKind::link_degraded:
    case FaultKind::link_down:
      KILN_FUZZ_CHECK(f.link >= 0 && f.link < links, "{} {}: link {} of {}", serial, kind, f.link, links);
      break;
    case FaultKind::slow: KILN_FUZZ_CHECK(f.factor > 0 && f.factor <= 1, "slow factor {}", f.factor); break;
    case FaultKind::cooling:
      KILN_FUZZ_CHECK(f.r_th_factor > 0 && f.r_th_factor <= 100, "r_th_factor {}", f.r_th_factor);
      break;
    case FaultKind::margin:
    case FaultKind::hang: break;
  }
  const bool needs_after = f.kind == FaultKind::hbm_ue || f.kind == FaultKind::link_down || f.kind == FaultKind::hang;
  KILN_FUZZ_CHECK(f.after.has_value() == needs_after, "{} {}: after {}", serial, kind, f.after.has_value());
  if (f.after) KILN_FUZZ_CHECK(f.after->count() >= 0, "{} {}: after {} s", serial, kind, f.after->count());
}

void check_lab(const kiln::device::Lab& lab) {
  KILN_FUZZ_CHECK(valid_identifier(lab.name), "lab name '{}'", lab.name);
  KILN_FUZZ_CHECK(lab.time_scale > 0 && lab.time_scale <= 600, "time_scale {}", lab.time_scale);
  KILN_FUZZ_CHECK(std::isfinite(lab.ambient_c), "ambient {}", lab.ambient_c);
  KILN_FUZZ_CHECK(!lab.racks.empty(), "a lab without racks");
  std::set<std::string> racks, serials;
  for (const auto& rack : lab.racks) {
    KILN_FUZZ_CHECK(valid_identifier(rack.id), "rack id '{}'", rack.id);
    KILN_FUZZ_CHECK(racks.insert(rack.id).second, "rack '{}' twice", rack.id);
    KILN_FUZZ_CHECK(lab.find_rack(rack.id) == &rack, "find_rack('{}') finds another", rack.id);
    if (rack.backend != kiln::device::Backend::sim) {
      KILN_FUZZ_CHECK(rack.chips.empty(), "{} rack '{}' lists {} chips", kiln::device::to_string(rack.backend), rack.id,
                      rack.chips.size());
      continue;
    }
    KILN_FUZZ_CHECK(!rack.chips.empty(), "sim rack '{}' without chips", rack.id);
    std::set<std::uint32_t> slots;
    for (const auto& chip : rack.chips) {
      KILN_FUZZ_CHECK(valid_identifier(chip.serial), "serial '{}'", chip.serial);
      KILN_FUZZ_CHECK(serials.insert(chip.serial).second, "serial '{}' twice", chip.serial);
      KILN_FUZZ_CHECK(slots.insert(chip.slot).second, "slot {} twice in rack '{}'", chip.slot, rack.id);
      const kiln::device::Sku* sku = catalog().find(chip.sku);
      KILN_FUZZ_CHECK(sku != nullptr, "chip {} of unknown SKU '{}'", chip.serial, chip.sku);
      const int needed = kiln::device::topology_link_count(rack.topology, rack.chips.size());
      KILN_FUZZ_CHECK(sku->links >= needed, "rack '{}' needs {} links per chip, {} has {}", rack.id, needed, sku->name,
                      sku->links);
      const int links = kiln::device::chip_link_count(rack.topology, rack.chips.size(), *sku);
      for (const auto& fault : chip.faults) check_fault(fault, *sku, links, chip.serial);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kiln::fuzz::kMaxYamlInput) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kFile = "fuzz-lab.yaml";
  kiln::yaml::Diagnostics diagnostics{std::string(kFile)};
  const auto lab = kiln::device::load_lab(text, diagnostics, catalog());
  KILN_FUZZ_CHECK(lab.has_value() == diagnostics.empty(), "lab {} with {} diagnostics", lab.has_value(),
                  diagnostics.size());
  if (lab) {
    check_lab(*lab);
  } else {
    kiln::fuzz::check_diagnostics(diagnostics.list(), kFile, text);
  }
  return 0;
}
