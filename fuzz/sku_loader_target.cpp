// Fuzz target: the SKU loader (device/sku_loader.hpp) on any text.
//
// Checked: a SKU or diagnostics, never both and never neither; every
// diagnostic names file:line:col inside the text; a SKU that loads holds
// every bound the file format states (device/sku.hpp, DESIGN §3): a valid
// name, counts in range, rates and powers positive, idle below TDP, the
// maximum clock at least the base clock, critical above throttle; the
// public load_sku agrees with the loader that also marks the name.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "device/sku.hpp"
#include "device/sku_loader.hpp"
#include "fuzz/fuzz_support.hpp"
#include "fuzz/yaml_checks.hpp"

namespace {

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool positive(double value) { return std::isfinite(value) && value > 0; }

void check_sku(const kiln::device::Sku& sku, const kiln::yaml::Mark& name_mark) {
  KILN_FUZZ_CHECK(valid_name(sku.name), "SKU name '{}'", sku.name);
  KILN_FUZZ_CHECK(name_mark.line >= 1 && name_mark.column >= 1, "the name has no mark");
  KILN_FUZZ_CHECK(!sku.peak_tflops.empty(), "a SKU without peaks");
  for (const auto& [dtype, tflops] : sku.peak_tflops) {
    KILN_FUZZ_CHECK(positive(tflops), "peak {} = {}", kiln::device::to_string(dtype), tflops);
    KILN_FUZZ_CHECK(sku.peak(dtype) == tflops, "peak() disagrees for {}", kiln::device::to_string(dtype));
  }
  KILN_FUZZ_CHECK(sku.cores >= 1 && sku.cores <= 4096, "cores {}", sku.cores);
  KILN_FUZZ_CHECK(sku.pe_rows >= 1 && sku.pe_rows <= 1024, "pe_rows {}", sku.pe_rows);
  KILN_FUZZ_CHECK(sku.pe_cols >= 1 && sku.pe_cols <= 1024, "pe_cols {}", sku.pe_cols);
  KILN_FUZZ_CHECK(sku.hbm_stacks >= 1 && sku.hbm_stacks <= 64, "hbm_stacks {}", sku.hbm_stacks);
  KILN_FUZZ_CHECK(sku.hbm_channels_per_stack >= 1 && sku.hbm_channels_per_stack <= 256, "channels {}",
                  sku.hbm_channels_per_stack);
  KILN_FUZZ_CHECK(sku.links >= 0 && sku.links <= 1024, "links {}", sku.links);
  for (const double v : {sku.hbm_capacity_gib, sku.hbm_bandwidth_gbps, sku.tdp_w, sku.base_clock_mhz, sku.max_clock_mhz,
                         sku.nominal_voltage_mv, sku.thermal_resistance_c_per_w, sku.thermal_capacitance_j_per_c,
                         sku.throttle_c, sku.critical_c}) {
    KILN_FUZZ_CHECK(positive(v), "a rate, power, clock or temperature of {}", v);
  }
  KILN_FUZZ_CHECK(sku.links == 0 || positive(sku.link_bandwidth_gbps), "{} links of {} GB/s", sku.links,
                  sku.link_bandwidth_gbps);
  KILN_FUZZ_CHECK(std::isfinite(sku.idle_w) && sku.idle_w >= 0 && sku.idle_w < sku.tdp_w, "idle {} W, TDP {} W",
                  sku.idle_w, sku.tdp_w);
  KILN_FUZZ_CHECK(sku.max_clock_mhz >= sku.base_clock_mhz, "clocks {} / {}", sku.base_clock_mhz, sku.max_clock_mhz);
  KILN_FUZZ_CHECK(sku.critical_c > sku.throttle_c && sku.critical_c <= 250 && sku.throttle_c <= 200,
                  "throttle {} °C, critical {} °C", sku.throttle_c, sku.critical_c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kiln::fuzz::kMaxYamlInput) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kFile = "fuzz-sku.yaml";

  kiln::yaml::Diagnostics diagnostics{std::string(kFile)};
  kiln::yaml::Mark name_mark;
  const auto sku = kiln::device::detail::load_sku_with_mark(text, diagnostics, &name_mark);
  KILN_FUZZ_CHECK(sku.has_value() == diagnostics.empty(), "SKU {} with {} diagnostics", sku.has_value(),
                  diagnostics.size());
  if (sku) {
    check_sku(*sku, name_mark);
  } else {
    kiln::fuzz::check_diagnostics(diagnostics.list(), kFile, text);
  }

  kiln::yaml::Diagnostics again{std::string(kFile)};
  const auto public_sku = kiln::device::load_sku(text, again);
  KILN_FUZZ_CHECK(public_sku.has_value() == sku.has_value() && again.to_string() == diagnostics.to_string(),
                  "load_sku and load_sku_with_mark disagree");
  if (sku) KILN_FUZZ_CHECK(public_sku->name == sku->name, "names '{}' and '{}'", public_sku->name, sku->name);
  return 0;
}
