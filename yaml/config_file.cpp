#include "yaml/config_file.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace kiln::yaml {

Result<std::string> read_config_file(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return make_error(ErrorCode::not_found, "{}: no such file", path);
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(ErrorCode::io, "{}: {}", path, ec.message());
  if (size > max_bytes) {
    return make_error(ErrorCode::invalid_argument, "{}: file is {} bytes, larger than the {} byte limit", path, size,
                      max_bytes);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io, "{}: cannot open", path);
  std::string text;
  text.reserve(static_cast<std::size_t>(size));
  // Read at most one byte past the cap: the file may have grown since stat.
  std::istreambuf_iterator<char> it(in), end;
  for (; it != end && text.size() <= max_bytes; ++it) text.push_back(*it);
  if (in.bad()) return make_error(ErrorCode::io, "{}: read error", path);
  if (text.size() > max_bytes) {
    return make_error(ErrorCode::invalid_argument, "{}: file is larger than the {} byte limit", path, max_bytes);
  }
  return text;
}

}  // namespace kiln::yaml
