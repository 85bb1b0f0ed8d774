#pragma once
// Kiln's version, from the top-level project() in CMakeLists.txt (one
// place to bump), as every binary's --version and kilnd's Welcome say it.

#include <string>
#include <string_view>

namespace kiln {

inline constexpr std::string_view kVersion = KILN_VERSION_STRING;

// "kiln 0.1.0" for program "kiln".
inline std::string version_line(std::string_view program) { return std::string(program) + " " + std::string(kVersion); }

}  // namespace kiln
