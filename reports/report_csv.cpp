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

std::string text_of(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string failures_of(const Json& chip, const std::string& label) {
  std::string out;
  if (!chip.contains("failures")) return out;
  for (const Json& f : chip["failures"]) {
    if (step_label(f) != label) continue;
    const std::string where = location_text(f);
    out += fmt::format("{}{}{}", out.empty() ? "" : "; ", text_of(f, "class"), where.empty() ? "" : " at " + where);
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
          text_of(run, "id"),      text_of(run, "plan"),     text_of(run, "seed"),
          text_of(chip, "serial"), text_of(chip, "rack"),    text_of(chip, "slot"),
          text_of(chip, "sku"),    text_of(chip, "verdict"), label,
          text_of(step, "index"),  text_of(step, "verdict"), text_of(step, "completed"),
          text_of(step, "ran_s"),  text_of(step, "reason"),  failures_of(chip, label)};
      for (std::size_t i = 0; i < fields.size(); ++i) out += (i == 0 ? "" : ",") + csv_field(fields[i]);
      out += "\n";
    }
  }
  return out;
}

}  // namespace kiln::reports
