#pragma once
// The simulator as a backend (`backend: sim`): a rack's SimChips, from the
// lab file's chips, faults and SKUs, and the SimFabric over their links.

#include "device/backend_registry.hpp"

namespace kiln::device {

Result<RackHardware> make_sim_rack(const Lab& lab, const RackSpec& rack, const SkuCatalog& catalog);

// Registers make_sim_rack for Backend::sim.
void register_sim_backend(BackendRegistry& registry);

}  // namespace kiln::device
