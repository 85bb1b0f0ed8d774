#include "fuzz/yaml_checks.hpp"

#include <algorithm>
#include <string>

#include "fuzz/fuzz_support.hpp"

namespace kiln::fuzz {

void check_diagnostics(const std::vector<yaml::Diagnostic>& diagnostics, std::string_view file, std::string_view text) {
  KILN_FUZZ_CHECK(!diagnostics.empty(), "refused without a diagnostic");
  // YAML breaks lines at \n, \r and \r\n; a mark may sit just past the last line.
  const auto breaks =
      static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n') + std::count(text.begin(), text.end(), '\r'));
  for (std::size_t i = 0; i < diagnostics.size(); ++i) {
    const auto& d = diagnostics[i];
    KILN_FUZZ_CHECK(d.file == file, "diagnostic for '{}', not '{}': {}", d.file, file, d.message);
    // The plan loader shows the first errors, then counts the rest on a
    // line of its own ("file: 900 more errors not shown"), which has no place.
    if (i > 0 && i + 1 == diagnostics.size() && d.mark.line == 0 && d.message.ends_with(" more errors not shown")) {
      KILN_FUZZ_CHECK(d.to_string() == fmt::format("{}: {}", file, d.message), "'{}'", d.to_string());
      break;
    }
    KILN_FUZZ_CHECK(!d.message.empty(), "an empty message at {}:{}", d.mark.line, d.mark.column);
    KILN_FUZZ_CHECK(d.mark.line >= 1 && d.mark.column >= 1, "no line and column: {}", d.to_string());
    KILN_FUZZ_CHECK(d.mark.line <= breaks + 1, "line {} of a {}-line text: {}", d.mark.line, breaks + 1, d.to_string());
    KILN_FUZZ_CHECK(d.mark.column <= text.size() + 1, "column {} of a {}-byte text: {}", d.mark.column, text.size(),
                    d.to_string());
    const std::string prefix = fmt::format("{}:{}:{}: ", file, d.mark.line, d.mark.column);
    KILN_FUZZ_CHECK(d.to_string().starts_with(prefix), "'{}' does not start with '{}'", d.to_string(), prefix);
  }
}

}  // namespace kiln::fuzz
