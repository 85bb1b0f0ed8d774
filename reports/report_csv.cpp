#include "reports/report_csv.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "reports/failure_text.hpp"
#include "reports/step_names.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;

std::string failures_of(const Json& chip, const std::string& label) {
  std::string out;
  if (!chip.contains("failures")) return out;
  for (const Json& f : chip["failures"]) {
    if (step_label(f) != label) continue;
    const std::string where = location_text(f);
    out += fmt::format("{}{}{}", out.empty() ? "" : "; ", json_text(f, "class"), where.empty() ? "" : " at " + where);
  }
  return out;
}

}  // namespace

std::string csv_field(const std::string& value) {
  const bool quote = value.find_first_of(",\"\r\n") != std::string::npos ||
                     (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::string> render_report_csv(const std::string& report_json) {
  const Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.contains("run") || !report.contains("chips") || !report["chips"].is_array()) {
    return make_error(ErrorCode::parse, "not a Kiln report");
  }
  const Json& run = report["run"];
  std::string out =
      "run,plan,seed,serial,rack,slot,sku,chip_verdict,step,step_index,step_verdict,completed,ran_s,reason,failures\n";
  for (const Json& chip : report["chips"]) {
    if (!chip.contains("steps")) continue;
    for (const Json& step : chip["steps"]) {
      const std::string label = step_label(step);
      const std::vector<std::string> fields{
          json_text(run, "id"),      json_text(run, "plan"),     json_text(run, "seed"),
          json_text(chip, "serial"), json_text(chip, "rack"),    json_text(chip, "slot"),
          json_text(chip, "sku"),    json_text(chip, "verdict"), label,
          json_text(step, "index"),  json_text(step, "verdict"), json_text(step, "completed"),
          json_text(step, "ran_s"),  json_text(step, "reason"),  failures_of(chip, label)};
      for (std::size_t i = 0; i < fields.size(); ++i) out += (i == 0 ? "" : ",") + csv_field(fields[i]);
      out += "\n";
    }
  }
  return out;
}

}  // namespace kiln::reports
