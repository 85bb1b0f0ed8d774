#pragma once
// What every loader target checks of a refusal: at least one diagnostic,
// each naming the file and a line and column inside the text, with a
// message, printed as `file:line:col: message`.

#include <string_view>
#include <vector>

#include "yaml/strict_yaml.hpp"

namespace kiln::fuzz {

void check_diagnostics(const std::vector<yaml::Diagnostic>& diagnostics, std::string_view file, std::string_view text);

// Loader inputs above this are cut (the loaders' own 1 MiB cap is tested by
// their unit tests; a fuzzer gains nothing from megabytes).
inline constexpr std::size_t kMaxYamlInput = 64u << 10;

}  // namespace kiln::fuzz
