#pragma once
// Pure helpers behind kiln-agent's command line, kept in the library so that
// tests reach them.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace kiln::agent {

struct DaemonAddress {
  std::string host;
  std::uint16_t port = 0;
};

// "HOST:PORT", "[::1]:PORT". The port is 1..65535.
Result<DaemonAddress> parse_daemon_address(std::string_view text);

// A token file holds one line, the shared secret (DESIGN §9): the first
// line, trimmed of surrounding whitespace, which must not be empty.
Result<std::string> read_token_file(const std::string& path);

// <directory of lab_path>/../skus
std::string default_sku_dir(const std::string& lab_path);

}  // namespace kiln::agent
