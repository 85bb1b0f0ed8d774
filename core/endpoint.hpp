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
// ignored. Refused, with a reason that names the file: a missing or empty
// file, one that its group or others may read or write (it must be mode 0600
// or 0400), and a secret shorter than kMinTokenChars (128 bits written as
// hex; README shows one way to make one).
inline constexpr std::size_t kMinTokenChars = 32;
Result<std::string> read_token_file(const std::string& path);

}  // namespace kiln
