#include "device/backend_registry.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace kiln::device {

void BackendRegistry::add(Backend backend, RackFactory factory) {
  if (!factory) throw std::logic_error(std::string("empty factory for backend ") + to_string(backend));
  if (!factories_.emplace(backend, std::move(factory)).second) {
    throw std::logic_error(std::string("backend registered twice: ") + to_string(backend));
  }
}

bool BackendRegistry::has(Backend backend) const { return factories_.contains(backend); }

std::vector<Backend> BackendRegistry::backends() const {
  std::vector<Backend> out;
  out.reserve(factories_.size());
  for (const auto& [backend, factory] : factories_) out.push_back(backend);
  return out;
}

Result<RackHardware> BackendRegistry::make_rack(const Lab& lab, const RackSpec& rack, const SkuCatalog& catalog) const {
  const auto it = factories_.find(rack.backend);
  if (it == factories_.end()) {
    std::string built;
    for (const auto& [backend, factory] : factories_)
      built += (built.empty() ? "" : ", ") + std::string(to_string(backend));
    return make_error(ErrorCode::invalid_argument, "backend {} is not built into this binary (built: {})",
                      to_string(rack.backend), built.empty() ? "none" : built);
  }
  return it->second(lab, rack, catalog);
}

}  // namespace kiln::device
