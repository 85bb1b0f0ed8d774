#pragma once
// What every kiln subcommand does with its outcome (docs/cli.md): errors to
// stderr as "kiln: <reason>" with the exit status their kind calls for, and
// output to stdout or -o FILE.

#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace kiln::cli {

// Exit 5 for permission_denied, 3 for not_found, else 1.
int fail(const Error& error);
int fail(const std::string& message);
// Writes to `output` when given (and not "-"), else stdout, with a final newline.
int emit(const std::string& text, const std::string& output);
// A JSON value as a table cell: strings as they are, null or missing as "-".
std::string cell(const nlohmann::json& j, const char* key);

}  // namespace kiln::cli
