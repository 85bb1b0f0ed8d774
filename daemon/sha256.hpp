#pragma once
#include <string>
#include <string_view>

namespace kiln::daemon {
// Lower-case hex SHA-256 of `data` (OpenSSL), stored with every run's plan.
std::string sha256_hex(std::string_view data);
}  // namespace kiln::daemon
