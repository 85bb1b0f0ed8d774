#include "reports/report_html_heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "metrics/catalog.hpp"
#include "reports/failure_text.hpp"
#include "reports/report_html_page.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;

struct LinkCell {
  std::optional<double> gbps;  // the best step average
  double errors = 0;
  bool down = false;
};

struct ChipLinks {
  std::string serial;
  std::string slot;
  std::map<int, LinkCell> links;
};

std::string rgb(double r, double g, double b) {
  auto c = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0))); };
  return fmt::format("#{:02x}{:02x}{:02x}", c(r), c(g), c(b));
}

double number(const Json& summary, const char* key) {
  return summary.contains(key) && summary[key].is_number() ? summary[key].get<double>() : NAN;
}

ChipLinks links_of(const Json& chip) {
  ChipLinks out{json_text(chip, "serial"), json_text(chip, "slot"), {}};
  const auto& catalog = metrics::MetricCatalog::builtin();
  if (!chip.contains("steps")) return out;
  for (const Json& step : chip["steps"]) {
    if (!step.contains("metrics") || !step["metrics"].is_object()) continue;
    for (const auto& [name, summary] : step["metrics"].items()) {
      const metrics::MetricRef ref = catalog.resolve(name);
      if (ref.def == nullptr || !ref.link) continue;
      LinkCell& cell = out.links[*ref.link];
      if (ref.def->name == metrics::kLinkGbpsOf) {
        const double avg = number(summary, "avg");
        if (!std::isnan(avg)) cell.gbps = std::max(cell.gbps.value_or(avg), avg);
      } else if (ref.def->name == metrics::kLinkCrcErrorsOf) {
        const double max = number(summary, "max");
        if (!std::isnan(max)) cell.errors = std::max(cell.errors, max);
      } else if (ref.def->name == metrics::kLinkUpOf) {
        if (number(summary, "min") == 0) cell.down = true;
      }
    }
  }
  return out;
}

}  // namespace

std::string bandwidth_colour(double fraction) {
  if (std::isnan(fraction)) return "#ffffff";
  const double f = std::clamp(fraction, 0.0, 1.0);
  // red (229,57,53) → amber (255,193,7) → green (67,160,71)
  if (f < 0.5) {
    const double t = f / 0.5;
    return rgb(229 + (255 - 229) * t, 57 + (193 - 57) * t, 53 + (7 - 53) * t);
  }
  const double t = (f - 0.5) / 0.5;
  return rgb(255 + (67 - 255) * t, 193 + (160 - 193) * t, 7 + (71 - 7) * t);
}

std::string error_colour(double errors) {
  if (!(errors > 0)) return "#e8f5e9";
  // 1 error is already a clear pink; 10^4 and more the deepest red.
  const double t = std::clamp(std::log10(errors) / 4.0, 0.0, 1.0);
  return rgb(255 + (183 - 255) * t, 205 + (28 - 205) * t, 210 + (28 - 210) * t);
}

std::string html_link_heatmaps(const Json& chips) {
  std::map<std::string, std::vector<ChipLinks>> racks;
  for (const Json& c : chips) {
    ChipLinks links = links_of(c);
    if (!links.links.empty()) racks[json_text(c, "rack")].push_back(std::move(links));
  }
  std::string out;
  for (const auto& [rack, rows] : racks) {
    int width = 0;
    double best = 0;
    for (const ChipLinks& r : rows) {
      for (const auto& [link, cell] : r.links) {
        width = std::max(width, link + 1);
        best = std::max(best, cell.gbps.value_or(0));
      }
    }
    out += fmt::format("<h3>rack {}</h3>\n", html_escape(rack));
    if (best <= 0) out += "<p class=\"note\">No traffic on this rack's links in any step.</p>\n";
    out += "<table class=\"heat\"><tr><th>slot</th><th>serial</th>";
    for (int l = 0; l < width; ++l) out += fmt::format("<th>link {}</th>", l);
    out += "</tr>\n";
    for (const ChipLinks& r : rows) {
      out += fmt::format("<tr><td>{}</td><td>{}</td>", html_escape(r.slot), html_escape(r.serial));
      for (int l = 0; l < width; ++l) {
        const auto it = r.links.find(l);
        if (it == r.links.end()) {
          out += "<td class=\"l\">-</td>";
          continue;
        }
        const LinkCell& cell = it->second;
        const double fraction = cell.gbps && best > 0 ? *cell.gbps / best : NAN;
        const std::string outline = cell.errors > 0 || cell.down ? "outline:3px solid #b71c1c;" : "";
        std::string text = cell.gbps ? fmt::format("{:.1f} Gb/s", *cell.gbps) : "unavailable";
        text +=
            fmt::format("<br><span style=\"background:{}\">{:g} CRC</span>", error_colour(cell.errors), cell.errors);
        if (cell.down) text += "<br><b>down</b>";
        out += fmt::format("<td class=\"l\" style=\"background:{};{}\">{}</td>", bandwidth_colour(fraction), outline,
                           text);
      }
      out += "</tr>\n";
    }
    out += "</table>\n";
  }
  if (out.empty()) return "";
  return "<p class=\"note\">Colour: the link's best step-average bandwidth against the rack's best link (green = as "
         "good, red = none); a red outline marks CRC errors or a link that went down.</p>\n" +
         out;
}

}  // namespace kiln::reports
