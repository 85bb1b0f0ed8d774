#include "cli/progress.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/units.hpp"

namespace kiln::cli {

std::string progress_line(const std::string& run_json) {
  auto run = nlohmann::json::parse(run_json, nullptr, false);
  if (run.is_discarded()) return "run: unreadable progress";
  std::string line = fmt::format("run {} {}", run.value("id", 0), run.value("plan", "?"));
  if (!run.contains("progress")) return line + "  " + run.value("status", "?");
  const auto& p = run["progress"];
  if (p.value("state", "") == "queued") return line + fmt::format("  queued (position {})", p.value("position", 0));
  const double elapsed = p.value("elapsed_s", 0.0);
  const double total = std::max(p.value("total_s", 0.0), 1e-9);
  const int width = 20;
  const int filled = std::clamp(static_cast<int>(elapsed / total * width + 0.5), 0, width);
  line += fmt::format("  phase {}/{} {:<12} [{}{}] {}/{}", p.value("phase", 0), p.value("phases", 0),
                      p.value("step", ""), std::string(filled, '#'), std::string(width - filled, '-'),
                      format_duration(Seconds{elapsed}), format_duration(Seconds{total}));
  const auto failing = p.value("failing", std::vector<std::string>{});
  line += failing.empty() ? "  no failures so far" : fmt::format("  failing: {}", fmt::join(failing, ", "));
  const auto lost = p.value("lost_racks", std::vector<std::string>{});
  if (!lost.empty()) line += fmt::format("  lost racks: {}", fmt::join(lost, ", "));
  return line;
}

bool run_finished(const std::string& run_json, std::string* status) {
  auto run = nlohmann::json::parse(run_json, nullptr, false);
  if (run.is_discarded()) return false;
  const std::string s = run.value("status", "");
  if (status != nullptr) *status = s;
  return s == "completed" || s == "aborted" || s == "error";
}

}  // namespace kiln::cli
