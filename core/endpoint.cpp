#include "core/endpoint.hpp"

#include <charconv>
#include <fstream>

#include <sys/stat.h>

namespace kiln {

namespace {

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kSpace);
  return s.substr(first, last - first + 1);
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text, bool allow_any_port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return make_error(ErrorCode::invalid_argument, "address '{}' is not HOST:PORT", text);
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return make_error(ErrorCode::invalid_argument, "address '{}': bad [IPv6] host", text);
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return make_error(ErrorCode::invalid_argument, "address '{}': write an IPv6 host as [ADDR]:PORT", text);
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  const unsigned lowest = allow_any_port ? 0 : 1;
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < lowest || port > 65535) {
    return make_error(ErrorCode::invalid_argument, "address '{}': port must be {}..65535", text, lowest);
  }
  return Endpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

Result<std::string> read_token_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(ErrorCode::io, "cannot read token file '{}'", path);
  if ((st.st_mode & 077) != 0) {
    return make_error(ErrorCode::invalid_argument,
                      "token file '{}' may be read or written by others (mode {:04o}): chmod 600 it", path,
                      st.st_mode & 07777);
  }
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::io, "cannot read token file '{}'", path);
  std::string line;
  std::getline(in, line);
  const std::string_view token = trim(line);
  if (token.empty()) return make_error(ErrorCode::invalid_argument, "token file '{}': the first line is empty", path);
  if (token.size() < kMinTokenChars) {
    return make_error(ErrorCode::invalid_argument,
                      "token file '{}': the secret is {} characters, at least {} are needed (128 bits as hex)", path,
                      token.size(), kMinTokenChars);
  }
  return std::string(token);
}

}  // namespace kiln
