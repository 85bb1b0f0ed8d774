#include "agents/registration.hpp"

#include <random>
#include <string>

#include <fmt/format.h>

#include "metrics/catalog.hpp"

namespace kiln::agent {

kiln::v1::ChipInfo chip_info(const device::Chip& chip, const std::map<std::string, double>& rack_peaks) {
  const device::Sku& sku = chip.sku();
  kiln::v1::ChipInfo info;
  info.set_serial(chip.identity().serial);
  info.set_slot(chip.identity().slot);
  info.set_sku(sku.name);
  auto& peaks = *info.mutable_peaks();
  for (const auto& [dtype, tflops] : sku.peak_tflops) {
    if (tflops > 0) peaks[fmt::format("{}.{}", metrics::kTflops.value, device::to_string(dtype))] = tflops;
  }
  if (const auto bf16 = sku.peak_tflops.find(device::DType::bf16); bf16 != sku.peak_tflops.end()) {
    info.set_peak_tflops_bf16(bf16->second);
  }
  if (sku.hbm_bandwidth_gbps > 0) peaks[metrics::kHbmGbps.str()] = sku.hbm_bandwidth_gbps;
  if (sku.links > 0 && sku.link_bandwidth_gbps > 0) peaks[metrics::kLinkGbps.str()] = sku.link_bandwidth_gbps;
  // The daemon's `power_w {of: peak}` refers to the TDP.
  if (sku.tdp_w > 0) peaks[metrics::kTdpPeak.str()] = sku.tdp_w;
  for (const auto& [key, value] : rack_peaks) peaks[key] = value;
  return info;
}

std::map<std::string, double> collective_peaks(const device::Fabric& fabric) {
  std::map<std::string, double> out;
  for (const auto op :
       {device::CollectiveOp::allreduce, device::CollectiveOp::allgather, device::CollectiveOp::reduce_scatter,
        device::CollectiveOp::alltoall, device::CollectiveOp::sendrecv}) {
    const double busbw = fabric.peak_busbw_gbps(op);
    const double factor = device::busbw_factor(op, fabric.chip_count());
    if (!(busbw > 0) || !(factor > 0)) continue;
    out[fmt::format("{}.{}", metrics::kBusbwGbps.value, device::to_string(op))] = busbw;
    out[fmt::format("{}.{}", metrics::kAlgbwGbps.value, device::to_string(op))] = busbw / factor;
  }
  return out;
}

std::string random_epoch_key() {
  std::random_device entropy;
  std::string key;
  for (int i = 0; i < 8; ++i) key += fmt::format("{:08x}", entropy());
  return key;
}

kiln::v1::RegisterRack make_registration(const device::Lab& lab, const device::RackSpec& rack,
                                         const std::vector<const device::Chip*>& chips, std::uint64_t epoch,
                                         const std::map<std::string, double>& rack_peaks) {
  kiln::v1::RegisterRack reg;
  reg.set_rack(rack.id);
  reg.set_lab(lab.name);
  reg.set_backend(device::to_string(rack.backend));
  reg.set_topology(device::to_string(rack.topology));
  reg.set_epoch(epoch);
  // Real hardware runs in real time, whatever the lab scales its sim racks by.
  // 0 for an unpaced lab: the daemon then allows a phase its real-time length.
  reg.set_time_scale(rack.backend != device::Backend::sim ? 1.0 : lab.unpaced ? 0.0 : lab.time_scale);
  for (const device::Chip* chip : chips) *reg.add_chips() = chip_info(*chip, rack_peaks);
  return reg;
}

}  // namespace kiln::agent
