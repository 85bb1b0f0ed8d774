#include "reports/report_html_matrix.hpp"

#include <fmt/format.h>

#include "reports/failure_text.hpp"
#include "reports/report_html_page.hpp"
#include "reports/shmoo_map.hpp"
#include "reports/step_names.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;

constexpr const char* kVerdicts[] = {"pass", "marginal", "inconclusive", "error", "fail"};

std::string e(const Json& j, const char* key) { return html_escape(json_text(j, key)); }

std::string verdict_cell(const std::string& verdict, const std::string& title) {
  return fmt::format("<td class=\"v {}\" title=\"{}\">{}</td>", verdict_css_class(verdict), html_escape(title),
                     verdict.empty() ? "-" : html_escape(verdict));
}

const char* shmoo_class(char point) {
  switch (point) {
    case '.': return "s-pass";
    case 'X': return "s-fail";
    case '-': return "s-refused";
    default: return "s-notrun";
  }
}

}  // namespace

std::string verdict_css_class(const std::string& verdict) {
  for (const char* v : kVerdicts) {
    if (verdict == v) return std::string("v-") + v;
  }
  return "v-none";
}

std::string html_verdict_legend() {
  std::string out = "<p class=\"legend\">";
  for (const char* v : kVerdicts) out += fmt::format("<span class=\"{}\">{}</span>", verdict_css_class(v), v);
  return out + "<span class=\"v-none\">- not judged</span></p>\n";
}

std::string html_verdict_matrix(const Json& chips) {
  std::string out =
      "<table class=\"matrix\" id=\"verdict-matrix\">\n<tr><th>serial</th><th>rack</th><th>slot</th>"
      "<th>sku</th><th>verdict</th>";
  if (!chips.empty() && chips[0].contains("steps")) {
    for (const Json& s : chips[0]["steps"]) out += fmt::format("<th>{}</th>", html_escape(step_label(s)));
  }
  out += "</tr>\n";
  for (const Json& c : chips) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>", e(c, "serial"), e(c, "rack"), e(c, "slot"),
                       e(c, "sku"));
    out += verdict_cell(json_text(c, "verdict"), json_text(c, "serial"));
    if (c.contains("steps")) {
      for (const Json& s : c["steps"]) out += verdict_cell(json_text(s, "verdict"), json_text(s, "reason"));
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string html_failures(const Json& chips) {
  std::string rows;
  for (const Json& c : chips) {
    if (!c.contains("failures")) continue;
    for (const Json& f : c["failures"]) {
      std::string conditions = f.contains("conditions") ? conditions_text(f["conditions"]) : "";
      rows += fmt::format(
          "<tr class=\"failure\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td><td>{}</td></tr>\n",
          e(c, "serial"), e(f, "class"), html_escape(step_label(f)), html_escape(location_text(f)), e(f, "count"),
          e(f, "first_at"), e(f, "last_at"), html_escape(conditions), e(f, "detail"));
    }
  }
  if (rows.empty()) return "";
  return "<table class=\"failures\" id=\"failures\">\n<tr><th>chip</th><th>class</th><th>step</th><th>location</th>"
         "<th>count</th><th>first</th><th>last</th><th>conditions at first</th><th>detail</th></tr>\n" +
         rows + "</table>\n";
}

std::string html_shmoo_maps(const Json& chips) {
  std::string out;
  for (const Json& c : chips) {
    if (!c.contains("steps")) continue;
    for (const Json& s : c["steps"]) {
      if (!s.contains("shmoo")) continue;
      const store::ShmooMap map = shmoo_from_json(s["shmoo"]);
      out += fmt::format("<h3>{} step {} ({})</h3>\n<table class=\"shmoo\"><tr><th>mV \\ MHz</th>", e(c, "serial"),
                         html_escape(step_label(s)), e(s, "verdict"));
      for (const double clock : map.clocks_mhz) out += fmt::format("<th>{:g}</th>", clock);
      out += "</tr>\n";
      for (std::size_t v = 0; v < map.rows.size(); ++v) {
        out += fmt::format("<tr><th>{:g}</th>", v < map.voltages_mv.size() ? map.voltages_mv[v] : 0.0);
        for (const char point : map.rows[v]) {
          out += fmt::format("<td class=\"{}\" title=\"{}\"></td>", shmoo_class(point),
                             html_escape(std::string(1, point)));
        }
        out += "</tr>\n";
      }
      out += "</table>\n";
    }
  }
  if (out.empty()) return "";
  return "<p class=\"legend\"><span class=\"s-pass\">pass</span><span class=\"s-fail\">fail</span>"
         "<span class=\"s-refused\">refused by the chip</span><span class=\"s-notrun\">not run</span></p>\n" +
         out;
}

}  // namespace kiln::reports
