#include "cli/command_output.hpp"

#include <fstream>
#include <iostream>

#include <fmt/format.h>

namespace kiln::cli {

int fail(const Error& error) {
  if (error.code == ErrorCode::permission_denied) {
    std::cerr << "kiln: permission denied: " << error.message << "\n";
    return 5;  // docs/cli.md, Exit status (4: a chip met --fail-on)
  }
  std::cerr << "kiln: " << error.message << "\n";
  return error.code == ErrorCode::not_found ? 3 : 1;
}

int fail(const std::string& message) {
  std::cerr << "kiln: " << message << "\n";
  return 1;
}

int emit(const std::string& text, const std::string& output) {
  if (output.empty() || output == "-") {
    std::cout << text;
    if (!text.empty() && text.back() != '\n') std::cout << "\n";
    return 0;
  }
  std::ofstream out(output, std::ios::binary);
  out << text;
  if (!out) return fail(fmt::format("cannot write {}", output));
  return 0;
}

std::string cell(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

}  // namespace kiln::cli
