#pragma once
// Every backend built into this binary (target kiln_backends): the simulator
// and the cpu backend today; cuda where CUDA was found at build time.

#include "device/backend_registry.hpp"

namespace kiln::device {

void register_builtin_backends(BackendRegistry& registry);

}  // namespace kiln::device
