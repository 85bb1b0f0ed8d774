#include "reports/report_text.hpp"

#include "metrics/catalog.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "reports/cause_lines.hpp"
#include "reports/failure_text.hpp"
#include "reports/shmoo_map.hpp"
#include "reports/step_names.hpp"

namespace kiln::reports {
namespace {

constexpr int kMaxLocationsShown = 5;  // per chip, failure class and step

using Json = nlohmann::json;

std::string text_or(const Json& j, const char* key, const char* fallback = "-") {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (j[key].is_string()) return j[key].get<std::string>();
  return j[key].dump();
}

// run.time_scale, which `kiln lab` adds (cli/pace.hpp): how fast simulated
// time went, and whether that was what the lab asked for.
std::string time_scale_line(const Json& t) {
  if (!t.is_object() || !t.contains("achieved") || !t["achieved"].is_number()) return {};
  const double achieved = t["achieved"].get<double>();
  const bool paced = t.contains("requested") && t["requested"].is_number();
  const std::string asked = paced ? fmt::format("{:g}x requested", t["requested"].get<double>()) : "unpaced";
  std::string line = fmt::format("Time scale: {}, {:.1f}x achieved", asked, achieved);
  if (t.contains("simulated_s") && t.contains("wall_s") && t["wall_s"].is_number()) {
    line += fmt::format(" ({:.0f} s simulated in {:.1f} s)", t["simulated_s"].get<double>(), t["wall_s"].get<double>());
  }
  if (t.value("behind", false)) line += ": this host could not keep up";
  return line + "\n";
}

}  // namespace

Result<std::string> render_report_text(const std::string& report_json) {
  Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.contains("run") || !report.contains("chips")) {
    return make_error(ErrorCode::parse, "not a Kiln report");
  }
  const Json& run = report["run"];
  std::string out;
  const std::string sha = text_or(run, "plan_sha256");
  out +=
      fmt::format("Run {}  plan {} (sha256 {})  seed {}  lab {}  status {}\n", run["id"].dump(), text_or(run, "plan"),
                  sha.substr(0, 12), run["seed"].dump(), text_or(run, "lab"), text_or(run, "status"));
  out += fmt::format("started {}  ended {}\n", text_or(run, "started"), text_or(run, "ended"));
  if (run.contains("reason")) out += fmt::format("reason: {}\n", text_or(run, "reason"));
  out += "\n";

  // A column per step, as wide as its label or the widest verdict.
  constexpr std::size_t kVerdictWidth = 12;
  std::vector<std::size_t> widths;
  std::string step_header;
  if (!report["chips"].empty()) {
    for (const auto& s : report["chips"][0]["steps"]) {
      const std::string label = step_label(s);
      widths.push_back(std::max(kVerdictWidth, label.size()));
      step_header += fmt::format(" {:<{}}", label, widths.back());
    }
  }
  std::size_t serial_width = 6;
  for (const auto& c : report["chips"]) serial_width = std::max(serial_width, c["serial"].get<std::string>().size());
  std::string header =
      fmt::format("{:<{}}  {:<5} {:>4}  {:<10} {:<12}", "SERIAL", serial_width, "RACK", "SLOT", "SKU", "VERDICT");
  out += header + step_header + "\n";

  std::map<std::string, int> totals;
  std::string failures_text;
  std::string shmoo_text;
  for (const auto& c : report["chips"]) {
    std::string verdict = text_or(c, "verdict", "pending");
    ++totals[verdict];
    std::string shown = verdict == "fail" ? "FAIL" : verdict;
    std::string line = fmt::format("{:<{}}  {:<5} {:>4}  {:<10} {:<12}", c["serial"].get<std::string>(), serial_width,
                                   text_or(c, "rack"), c["slot"].dump(), text_or(c, "sku"), shown);
    std::size_t column = 0;
    for (const auto& s : c["steps"]) {
      const std::size_t width = column < widths.size() ? widths[column] : kVerdictWidth;
      line += fmt::format(" {:<{}}", text_or(s, "verdict", "-"), width);
      ++column;
    }
    out += line + "\n";
    // A fault that corrupts random places (a short timing margin) leaves
    // hundreds of locations: show the first few of each class and step.
    std::map<std::pair<std::string, std::string>, std::pair<int, double>> hidden;  // (class, step) → (locations, count)
    std::map<std::pair<std::string, std::string>, int> shown_per_kind;
    for (const auto& f : c["failures"]) {
      const auto kind = std::pair{text_or(f, "class"), step_label(f)};
      if (++shown_per_kind[kind] > kMaxLocationsShown) {
        auto& h = hidden[kind];
        ++h.first;
        h.second += f["count"].is_number() ? f["count"].get<double>() : 0;
        continue;
      }
      failures_text += fmt::format("  {} {} in step {}: {} ×{}", c["serial"].get<std::string>(), text_or(f, "class"),
                                   step_label(f), location_text(f), f["count"].dump());
      if (f.contains("first_at") && !f["first_at"].is_null()) {
        failures_text += fmt::format(", first at {}", f["first_at"].get<std::string>());
      }
      const std::string cond = f.contains("conditions") ? conditions_text(f["conditions"]) : "";
      if (!cond.empty()) failures_text += fmt::format(" ({})", cond);
      failures_text += "\n";
      if (f.contains("detail")) failures_text += fmt::format("      {}\n", f["detail"].get<std::string>());
    }
    for (const auto& [kind, h] : hidden) {
      failures_text +=
          fmt::format("  {} {} in step {}: … and {} more location(s), {:g} occurrence(s) (all in the JSON report)\n",
                      c["serial"].get<std::string>(), kind.first, kind.second, h.first, h.second);
    }
    for (const auto& s : c["steps"]) {
      if (!s.contains("shmoo")) continue;
      const store::ShmooMap map = shmoo_from_json(s["shmoo"]);
      shmoo_text += fmt::format("  {} step {} ({}):\n", c["serial"].get<std::string>(), step_label(s),
                                text_or(s, "verdict", "-"));
      shmoo_text += shmoo_grid(map, "    ");
    }
    // Marginal reasons carry the chip's own figures: one line per chip. What
    // could not be judged is folded by cause below.
    for (const auto& s : c["steps"]) {
      if (text_or(s, "verdict", "") == "marginal" && s.contains("reason")) {
        failures_text += fmt::format("  {} marginal in step {}: {}\n", c["serial"].get<std::string>(), step_label(s),
                                     s["reason"].get<std::string>());
      }
    }
  }
  failures_text += inconclusive_by_cause(report["chips"]);
  out += "\n";
  std::string summary;
  for (const char* v : {"pass", "marginal", "inconclusive", "error", "fail", "pending"}) {
    if (totals.contains(v)) summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", totals[v], v);
  }
  out += fmt::format("{} chips: {}\n", report["chips"].size(), summary);
  if (report["run"].contains("time_scale")) out += time_scale_line(report["run"]["time_scale"]);
  if (!failures_text.empty()) out += "\nFindings:\n" + failures_text;
  if (!shmoo_text.empty()) out += "\nShmoo maps (. pass, X fail, - refused by the chip, ? not run):\n" + shmoo_text;
  if (report.contains("reproduce")) out += fmt::format("\nReproduce: {}\n", report["reproduce"].get<std::string>());
  return out;
}

}  // namespace kiln::reports
