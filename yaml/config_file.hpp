#pragma once
// Reading a configuration file (lab, SKU) from disk with the strict YAML
// loaders' size cap, refusing an oversized file before reading it whole
// (DESIGN §4).

#include <cstddef>
#include <string>

#include "core/result.hpp"

namespace kiln::yaml {

inline constexpr std::size_t kMaxConfigBytes = std::size_t{1} << 20;  // 1 MiB, as for plans

// The whole text of `path`; not_found / io errors name the path, a file
// over `max_bytes` is an invalid_argument error.
Result<std::string> read_config_file(const std::string& path, std::size_t max_bytes = kMaxConfigBytes);

}  // namespace kiln::yaml
