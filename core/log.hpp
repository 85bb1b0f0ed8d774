#pragma once
// Logging setup for Kiln's processes: one line per event on stderr,
// prefixed with the process name, so that the logs of kilnd and its
// agents stay readable when `kiln lab` interleaves them.

#include <string_view>

#include "core/result.hpp"

namespace kiln {

// level: trace, debug, info, warn, error, off.
Status setup_logging(std::string_view process_name, std::string_view level);

}  // namespace kiln
