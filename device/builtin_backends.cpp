#include "device/builtin_backends.hpp"

#include "device/cpu/cpu_backend.hpp"
#include "device/sim/sim_backend.hpp"

namespace kiln::device {

// A backend that is only built where its toolkit is found gets a compile
// definition from device/CMakeLists.txt (KILN_BACKEND_<NAME>) and an
// #ifdef here; see docs/extending.md, "Add a backend".
void register_builtin_backends(BackendRegistry& registry) {
  register_sim_backend(registry);
  register_cpu_backend(registry);
}

}  // namespace kiln::device
