#include "agents/agent_options.hpp"

#include <filesystem>

namespace kiln::agent {
std::string default_sku_dir(const std::string& lab_path) {
  const std::filesystem::path lab(lab_path);
  return (lab.parent_path() / ".." / "skus").lexically_normal().string();
}

}  // namespace kiln::agent
