#pragma once
// The RegisterRack an agent sends after every Welcome: its rack, epoch and
// chips with the peaks their SKU states (docs/protocol.md step 1).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "device/chip.hpp"
#include "device/collective.hpp"
#include "device/lab.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

// peaks: "tflops.<dtype>" for each dtype the SKU supports, "hbm_gbps" and
// "link_gbps" when the SKU has HBM and links, "tdp_w", and `rack_peaks`.
kiln::v1::ChipInfo chip_info(const device::Chip& chip, const std::map<std::string, double>& rack_peaks = {});

// What the rack's fabric offers every chip: "busbw_gbps.<op>" and
// "algbw_gbps.<op>" for each collective it can run (Fabric::peak_busbw_gbps).
std::map<std::string, double> collective_peaks(const device::Fabric& fabric);

// 256 random bits as hex. Without a spool an agent draws one with its epoch
// and holds it only in memory; with a spool the spool keeps one for all its
// epochs (agents/spool.hpp). It proves to the daemon whose epoch it is.
std::string random_epoch_key();

kiln::v1::RegisterRack make_registration(const device::Lab& lab, const device::RackSpec& rack,
                                         const std::vector<const device::Chip*>& chips, std::uint64_t epoch,
                                         const std::map<std::string, double>& rack_peaks = {});

}  // namespace kiln::agent
