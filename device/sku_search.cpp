#include "device/sku_search.hpp"

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace kiln::device {
namespace fs = std::filesystem;

std::vector<std::string> SkuSearch::builtin_sku_dirs() { return {KILN_INSTALLED_SKU_DIR, KILN_SOURCE_SKU_DIR}; }

std::vector<std::string> sku_search_path(const SkuSearch& search) {
  if (!search.given.empty()) return {search.given};
  std::vector<std::string> dirs;
  std::stringstream env(search.env);
  for (std::string entry; std::getline(env, entry, ':');) {
    if (!entry.empty()) dirs.push_back(entry);
  }
  if (!search.lab_path.empty()) {
    const fs::path lab_dir = fs::path(search.lab_path).parent_path();
    dirs.push_back((lab_dir / "skus").lexically_normal().string());
    dirs.push_back((lab_dir / ".." / "skus").lexically_normal().string());
  }
  if (!search.program_path.empty()) {
    const fs::path program_dir = fs::path(search.program_path).parent_path();
    dirs.push_back((program_dir / ".." / "share" / "kiln" / "skus").lexically_normal().string());
  }
  for (const auto& d : search.fixed) dirs.push_back(d);
  return dirs;
}

Result<std::string> find_sku_directory(const SkuSearch& search) {
  const std::vector<std::string> dirs = sku_search_path(search);
  for (const auto& d : dirs) {
    std::error_code ec;
    if (fs::is_directory(d, ec)) return d;
  }
  if (!search.given.empty()) return make_error(ErrorCode::not_found, "no such SKU directory {}", search.given);
  std::string tried;
  for (const auto& d : dirs) tried += (tried.empty() ? "" : ", ") + d;
  return make_error(ErrorCode::not_found,
                    "no SKU directory found for {} (tried {}); give one with --skus or KILN_SKU_PATH", search.lab_path,
                    tried);
}

std::string this_program_path() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.string();
}

std::string sku_path_from_environment() {
  const char* env = std::getenv("KILN_SKU_PATH");
  return env != nullptr ? env : "";
}

}  // namespace kiln::device
