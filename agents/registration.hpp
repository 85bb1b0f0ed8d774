#pragma once
// The RegisterRack an agent sends after every Welcome: its rack, epoch and
// chips with the peaks their SKU states (docs/protocol.md step 1).

#include <cstdint>
#include <vector>

#include "device/chip.hpp"
#include "device/lab.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

// peaks: "tflops.<dtype>" for each dtype the SKU supports, "hbm_gbps" and
// "link_gbps" when the SKU has HBM and links.
kiln::v1::ChipInfo chip_info(const device::Chip& chip);

kiln::v1::RegisterRack make_registration(const device::Lab& lab, const device::RackSpec& rack,
                                         const std::vector<const device::Chip*>& chips, std::uint64_t epoch);

}  // namespace kiln::agent
