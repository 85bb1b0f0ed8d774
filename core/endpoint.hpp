#pragma once
// HOST:PORT arguments and token files, shared by every Kiln executable.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace kiln {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

// "127.0.0.1:7450", "localhost:7450", "[::1]:7450". Port 0 is accepted only
// when allow_any_port (a listener asking for a free port).
Result<Endpoint> parse_endpoint(std::string_view text, bool allow_any_port = false);

// A token file holds one line, the shared secret. Surrounding whitespace is
// ignored; an empty or missing file is an error that names the file.
Result<std::string> read_token_file(const std::string& path);

}  // namespace kiln
