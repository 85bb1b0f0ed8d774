#include "device/cpu/cpu_backend.hpp"

#include <utility>

#include "device/cpu/cpu_chip.hpp"
#include "device/cpu/cpu_fabric.hpp"

namespace kiln::device {

Result<RackHardware> make_cpu_rack(const Lab& lab, const RackSpec& rack, const SkuCatalog& /*catalog*/) {
  KILN_TRY_ASSIGN(auto chips, make_cpu_chips(lab, rack));
  RackHardware hardware;
  // A host split into chips links them through shared memory; one chip has
  // nothing to link.
  if (chips.size() > 1) hardware.fabric = std::make_unique<CpuFabric>(static_cast<int>(chips.size()));
  hardware.chips = std::move(chips);
  return hardware;
}

void register_cpu_backend(BackendRegistry& registry) { registry.add(Backend::cpu, make_cpu_rack); }

}  // namespace kiln::device
