#include "device/sim/sim_backend.hpp"

#include <utility>

#include "device/sim/sim_chip.hpp"
#include "device/sim/sim_fabric.hpp"

namespace kiln::device {

Result<RackHardware> make_sim_rack(const Lab& lab, const RackSpec& rack, const SkuCatalog& catalog) {
  KILN_TRY_ASSIGN(auto chips, make_sim_chips(lab, rack, catalog));
  KILN_TRY_ASSIGN(auto fabric, make_sim_fabric(rack, chips));
  RackHardware hardware;
  hardware.chips = std::move(chips);
  hardware.fabric = std::move(fabric);
  return hardware;
}

void register_sim_backend(BackendRegistry& registry) { registry.add(Backend::sim, make_sim_rack); }

}  // namespace kiln::device
