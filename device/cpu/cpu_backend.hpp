#pragma once
// The host CPU as a backend (`backend: cpu`): the host's cores split into
// the rack's cpu chips, and, when there are several, the shared-memory
// CpuFabric between them.

#include "device/backend_registry.hpp"

namespace kiln::device {

// `catalog` is not used: a cpu chip's SKU is measured on this host.
Result<RackHardware> make_cpu_rack(const Lab& lab, const RackSpec& rack, const SkuCatalog& catalog);

// Registers make_cpu_rack for Backend::cpu.
void register_cpu_backend(BackendRegistry& registry);

}  // namespace kiln::device
