#include "reports/reproduce.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace kiln::reports {
namespace {

// The path as one shell word: as it is when it holds only characters no
// shell treats specially, else in single quotes (a path comes from whoever
// submitted the run, and the line is made to be pasted into a shell).
std::string shell_word(const std::string& text) {
  const bool plain = !text.empty() && text.find_first_not_of(
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_./+,:@%=-") == std::string::npos;
  if (plain) return text;
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::string reproduce_command(const RunToReproduce& run) {
  const std::string plan = shell_word(run.plan_path.empty() ? run.plan_name + ".yaml" : run.plan_path);
  const std::string known = run.plan_path.empty() ? "; the path it was submitted with is not recorded" : "";
  return fmt::format("kiln run submit {} --seed {} --racks {}  (plan sha256 {}{})", plan, run.seed,
                     fmt::join(run.racks, ","), run.plan_sha256, known);
}

Result<std::string> with_plan_path(const std::string& report_json, const std::string& plan_path) {
  using Json = nlohmann::ordered_json;
  Json report = Json::parse(report_json, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded() || !report.contains("run") || !report["run"].is_object()) {
    return make_error(ErrorCode::parse, "not a Kiln report");
  }
  if (plan_path.empty()) return report_json;
  Json& run = report["run"];
  run["plan_path"] = plan_path;
  RunToReproduce r;
  r.plan_path = plan_path;
  r.plan_name = run.value("plan", "");
  r.seed = run.contains("seed") && run["seed"].is_number_unsigned() ? run["seed"].get<std::uint64_t>() : 0;
  if (run.contains("racks") && run["racks"].is_array()) {
    for (const auto& rack : run["racks"]) {
      if (rack.is_string()) r.racks.push_back(rack.get<std::string>());
    }
  }
  r.plan_sha256 = run.value("plan_sha256", "");
  report["reproduce"] = reproduce_command(r);
  return report.dump(2);
}

}  // namespace kiln::reports
