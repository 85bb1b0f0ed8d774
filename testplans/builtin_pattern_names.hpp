#pragma once
// The built-in patterns' names, spelled once: the registry declares them
// (builtin_patterns.cpp) and the agent's factory keys its objects by them.

#include <string_view>

namespace kiln::plan::pattern_names {

inline constexpr std::string_view kGemm = "gemm";
inline constexpr std::string_view kHbm = "hbm";
inline constexpr std::string_view kCollective = "collective";
inline constexpr std::string_view kPower = "power";
inline constexpr std::string_view kShmoo = "shmoo";
inline constexpr std::string_view kIdle = "idle";

}  // namespace kiln::plan::pattern_names
