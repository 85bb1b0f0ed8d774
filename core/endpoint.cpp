#include "core/endpoint.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace kiln {

Result<Endpoint> parse_endpoint(std::string_view text, bool allow_any_port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return make_error(ErrorCode::invalid_argument, "'{}' is not HOST:PORT", text);
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port > 65535 || (port == 0 && !allow_any_port)) {
    return make_error(ErrorCode::invalid_argument, "'{}': bad port '{}'", text, port_text);
  }
  return Endpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

Result<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::io, "cannot read token file {}", path);
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r\n");
  const auto last = line.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return make_error(ErrorCode::invalid_argument, "token file {} is empty", path);
  return line.substr(first, last - first + 1);
}

}  // namespace kiln
