#include "reports/report_junit.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "reports/failure_text.hpp"
#include "reports/step_names.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;

std::string attr(const std::string& name, const std::string& value) {
  return fmt::format(" {}=\"{}\"", name, xml_escape(value));
}

std::string property(const std::string& name, const std::string& value) {
  return fmt::format("      <property{}{}/>\n", attr("name", name), attr("value", value));
}

std::string failure_body(const Json& f) {
  std::string body = fmt::format("class: {}\n", json_text(f, "class"));
  const std::string where = location_text(f);
  if (!where.empty()) body += fmt::format("location: {}\n", where);
  if (f.contains("conditions"))
    body += fmt::format("conditions at first occurrence: {}\n", conditions_text(f["conditions"]));
  if (f.contains("count")) body += fmt::format("count: {}\n", json_text(f, "count"));
  if (f.contains("first_at"))
    body += fmt::format("first: {}  last: {}\n", json_text(f, "first_at"), json_text(f, "last_at"));
  if (f.contains("detail")) body += fmt::format("detail: {}\n", json_text(f, "detail"));
  return body;
}

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double seconds = 0;
};

std::string testcase(const Json& chip, const Json& step, const std::string& classname, Counts& counts) {
  const std::string label = step_label(step);
  const std::string verdict = json_text(step, "verdict");
  const double seconds = step.contains("ran_s") && step["ran_s"].is_number() ? step["ran_s"].get<double>() : 0.0;
  ++counts.tests;
  counts.seconds += seconds;
  std::string out = fmt::format("    <testcase{}{}{}>\n", attr("name", label), attr("classname", classname),
                                attr("time", fmt::format("{:.3f}", seconds)));
  const std::string reason = json_text(step, "reason");
  if (verdict == "fail") {
    ++counts.failures;
    bool listed = false;
    if (chip.contains("failures")) {
      for (const Json& f : chip["failures"]) {
        if (step_label(f) != label) continue;
        listed = true;
        const std::string where = location_text(f);
        out +=
            fmt::format("      <failure{}{}>{}</failure>\n", attr("type", json_text(f, "class")),
                        attr("message", where.empty() ? json_text(f, "class") : json_text(f, "class") + " at " + where),
                        xml_escape(failure_body(f)));
      }
    }
    // A failing step always says why, even if its failure rows went elsewhere.
    if (!listed) out += fmt::format("      <failure{}{}/>\n", attr("type", "fail"), attr("message", reason));
  } else if (verdict == "error") {
    ++counts.errors;
    out += fmt::format("      <error{}{}/>\n", attr("type", "error"), attr("message", reason));
  } else if (verdict == "inconclusive") {
    ++counts.skipped;
    out += fmt::format("      <skipped{}/>\n", attr("message", "inconclusive: " + reason));
  } else if (verdict == "marginal") {
    out += fmt::format("      <system-out>{}</system-out>\n", xml_escape("marginal: " + reason));
  }
  out += "    </testcase>\n";
  return out;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;  // kept in attributes, harmless in text
      case '\t': out += "&#9;"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\xEF\xBF\xBD";  // U+FFFD: XML 1.0 has no way to carry it
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

Result<std::string> render_report_junit(const std::string& report_json) {
  const Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.contains("run") || !report.contains("chips") || !report["chips"].is_array()) {
    return make_error(ErrorCode::parse, "not a Kiln report");
  }
  const Json& run = report["run"];
  const std::string plan = json_text(run, "plan");
  Counts total;
  std::string suites;
  for (const Json& chip : report["chips"]) {
    const std::string serial = json_text(chip, "serial");
    Counts counts;
    std::string cases;
    if (chip.contains("steps")) {
      for (const Json& step : chip["steps"]) cases += testcase(chip, step, plan + "." + serial, counts);
    }
    suites += fmt::format(
        "  <testsuite{}{}{}{}{}{}{}{}>\n", attr("name", serial), attr("tests", std::to_string(counts.tests)),
        attr("failures", std::to_string(counts.failures)), attr("errors", std::to_string(counts.errors)),
        attr("skipped", std::to_string(counts.skipped)), attr("time", fmt::format("{:.3f}", counts.seconds)),
        attr("timestamp", json_text(run, "started")), attr("hostname", json_text(chip, "rack")));
    suites += "    <properties>\n";
    suites += property("rack", json_text(chip, "rack"));
    suites += property("slot", json_text(chip, "slot"));
    suites += property("sku", json_text(chip, "sku"));
    suites += property("verdict", json_text(chip, "verdict"));
    suites += property("run", json_text(run, "id"));
    suites += property("plan", plan);
    suites += property("seed", json_text(run, "seed"));
    suites += property("reproduce", json_text(report, "reproduce"));
    suites += "    </properties>\n";
    suites += cases;
    suites += "  </testsuite>\n";
    total.tests += counts.tests;
    total.failures += counts.failures;
    total.errors += counts.errors;
    total.skipped += counts.skipped;
    total.seconds += counts.seconds;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out +=
      fmt::format("<testsuites{}{}{}{}{}{}>\n", attr("name", fmt::format("kiln run {} {}", json_text(run, "id"), plan)),
                  attr("tests", std::to_string(total.tests)), attr("failures", std::to_string(total.failures)),
                  attr("errors", std::to_string(total.errors)), attr("skipped", std::to_string(total.skipped)),
                  attr("time", fmt::format("{:.3f}", total.seconds)));
  out += suites;
  out += "</testsuites>\n";
  return out;
}

}  // namespace kiln::reports
