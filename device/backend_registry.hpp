#pragma once
// Which backends this binary can make a rack's hardware with. Each backend
// library (device/sim, device/cpu, later device/cuda) offers a plain
// registration function; device/builtin_backends.hpp registers every one
// that was built. The agent asks the registry for a rack's chips and never
// names a backend's types, so a backend that is not built into a binary is
// refused with that reason instead of failing to link.

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/result.hpp"
#include "device/chip.hpp"
#include "device/collective.hpp"
#include "device/lab.hpp"
#include "device/sku.hpp"

namespace kiln::device {

// One rack's hardware as its backend made it: the chips in slot order, and
// the fabric that links them (nullptr: the rack cannot run collectives,
// e.g. a host that is one cpu chip). The fabric may refer to the chips, so
// the two travel together and the chips must outlive it.
struct RackHardware {
  std::vector<std::unique_ptr<Chip>> chips;
  std::unique_ptr<Fabric> fabric;
};

// Makes the hardware of `rack` (one of `lab`'s racks, of the factory's
// backend); `catalog` holds the lab's SKUs, for backends that take the
// chips' datasheets from it.
using RackFactory =
    std::function<Result<RackHardware>(const Lab& lab, const RackSpec& rack, const SkuCatalog& catalog)>;

class BackendRegistry {
 public:
  // One factory per backend: registering a backend twice is a programming
  // error and throws std::logic_error (as PatternRegistry does).
  void add(Backend backend, RackFactory factory);
  bool has(Backend backend) const;
  std::vector<Backend> backends() const;  // in the order of the Backend enum

  // The rack's hardware from its backend's factory. A backend with no
  // factory here is invalid_argument: "backend cuda is not built into this
  // binary (built: sim, cpu)".
  Result<RackHardware> make_rack(const Lab& lab, const RackSpec& rack, const SkuCatalog& catalog) const;

 private:
  std::map<Backend, RackFactory> factories_;
};

}  // namespace kiln::device
