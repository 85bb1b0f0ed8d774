#pragma once
// Internal: one `faults:` entry of a lab file, checked against the chip's
// SKU and its rack's topology.

#include <optional>
#include <string>

#include "device/lab.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::device::detail {

struct FaultContext {
  const Sku* sku = nullptr;  // nullptr when the SKU is unknown (already reported): SKU ranges go unchecked
  Topology topology = Topology::ring;
  int topology_links = 0;  // topology_link_count() of the rack
  int links = 0;           // chip_link_count() of the chip (== topology_links when the SKU is unknown)
};

// `what` names the entry in messages, e.g. "racks[1].chips[5].faults[0]".
std::optional<Fault> load_fault(const yaml::Node& node, yaml::Diagnostics& diagnostics, const std::string& what,
                                const FaultContext& context);

}  // namespace kiln::device::detail
