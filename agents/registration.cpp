#include "agents/registration.hpp"

#include <string>

namespace kiln::agent {

kiln::v1::ChipInfo chip_info(const device::Chip& chip) {
  const device::Sku& sku = chip.sku();
  kiln::v1::ChipInfo info;
  info.set_serial(chip.identity().serial);
  info.set_slot(chip.identity().slot);
  info.set_sku(sku.name);
  auto& peaks = *info.mutable_peaks();
  for (const auto& [dtype, tflops] : sku.peak_tflops) {
    if (tflops > 0) peaks[std::string("tflops.") + device::to_string(dtype)] = tflops;
  }
  if (const auto bf16 = sku.peak_tflops.find(device::DType::bf16); bf16 != sku.peak_tflops.end()) {
    info.set_peak_tflops_bf16(bf16->second);
  }
  if (sku.hbm_bandwidth_gbps > 0) peaks["hbm_gbps"] = sku.hbm_bandwidth_gbps;
  if (sku.links > 0 && sku.link_bandwidth_gbps > 0) peaks["link_gbps"] = sku.link_bandwidth_gbps;
  // The daemon's `power_w {of: peak}` refers to the TDP.
  if (sku.tdp_w > 0) peaks["tdp_w"] = sku.tdp_w;
  return info;
}

kiln::v1::RegisterRack make_registration(const device::Lab& lab, const device::RackSpec& rack,
                                         const std::vector<const device::Chip*>& chips, std::uint64_t epoch) {
  kiln::v1::RegisterRack reg;
  reg.set_rack(rack.id);
  reg.set_lab(lab.name);
  reg.set_backend(device::to_string(rack.backend));
  reg.set_topology(device::to_string(rack.topology));
  reg.set_epoch(epoch);
  reg.set_time_scale(lab.time_scale);
  for (const device::Chip* chip : chips) *reg.add_chips() = chip_info(*chip);
  return reg;
}

}  // namespace kiln::agent
