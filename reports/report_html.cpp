#include "reports/report_html.hpp"

#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metrics/catalog.hpp"
#include "reports/failure_text.hpp"
#include "reports/report_html_chart.hpp"
#include "reports/report_html_heatmap.hpp"
#include "reports/report_html_matrix.hpp"
#include "reports/report_html_page.hpp"
#include "reports/telemetry_rollup.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;

// Chip telemetry worth a chart: every non-per-link telemetry metric of the
// catalog (links have the heatmap).
std::vector<std::string> charted_metrics() {
  std::vector<std::string> names;
  for (const metrics::MetricDef& def : metrics::MetricCatalog::builtin().all()) {
    if (def.origin == metrics::MetricOrigin::telemetry && !def.per_link()) names.push_back(def.name);
  }
  return names;
}

std::vector<ChartLimit> limits_for(const kiln::v1::RunPlan& plan, const std::string& metric) {
  const auto starts = step_starts(plan);
  std::vector<ChartLimit> out;
  for (const auto& step : plan.steps()) {
    for (const auto& limit : step.limits()) {
      // `of: peak|peers|baseline` need figures the report does not keep.
      if (limit.metric() != metric || limit.of() != kiln::v1::LIMIT_OF_ABSOLUTE) continue;
      auto opt = [](bool has, double v) { return has ? std::optional<double>(v) : std::nullopt; };
      const double x0 = starts.at(step.step_index());
      out.push_back({x0, x0 + step.duration_s(), opt(limit.has_min(), limit.min()), opt(limit.has_max(), limit.max()),
                     opt(limit.has_marginal_min(), limit.marginal_min()),
                     opt(limit.has_marginal_max(), limit.marginal_max())});
    }
  }
  return out;
}

std::string chip_charts(const ReportSources& sources, const kiln::v1::RunPlan& plan, const std::string& serial) {
  auto rollups = chip_rollup(sources, plan, serial, charted_metrics());
  if (!rollups)
    return fmt::format("<p class=\"note\">Telemetry unavailable: {}</p>\n", html_escape(rollups.error().message));
  if (rollups->empty()) return "<p class=\"note\">No telemetry stored for this chip.</p>\n";
  std::set<double> boundaries;
  for (const auto& [index, start] : step_starts(plan)) {
    if (start > 0) boundaries.insert(start);
  }
  std::string out = "<div class=\"charts\">\n";
  const auto& catalog = metrics::MetricCatalog::builtin();
  for (const MetricRollup& m : *rollups) {
    const metrics::MetricDef* def = catalog.find(m.metric);
    ChartInput chart{def != nullptr && !def->label.empty() ? def->label : m.metric,
                     def != nullptr ? def->unit : "",
                     run_length_s(plan),
                     m.buckets,
                     limits_for(plan, m.metric),
                     {boundaries.begin(), boundaries.end()}};
    out += fmt::format(
        "<figure>{}<figcaption>{}: min–max per {:.3g} s bucket (band), average (line)</figcaption></figure>\n",
        svg_chart(chart), html_escape(m.metric), m.buckets.empty() ? 0.0 : m.buckets[0].t1_s - m.buckets[0].t0_s);
  }
  return out + "</div>\n";
}

std::string racks_text(const Json& run) {
  std::string out;
  if (!run.contains("racks") || !run["racks"].is_array()) return out;
  for (const Json& r : run["racks"])
    out += (out.empty() ? "" : ", ") + (r.is_string() ? r.get<std::string>() : r.dump());
  return out;
}

Result<std::string> render(const std::string& report_json, const ReportSources* sources) {
  const Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.contains("run") || !report.contains("chips") || !report["chips"].is_array()) {
    return make_error(ErrorCode::parse, "not a Kiln report");
  }
  const Json& run = report["run"];
  const Json& chips = report["chips"];
  const auto e = [](const Json& j, const char* key) { return html_escape(json_text(j, key)); };
  std::string body = fmt::format("<h1>Kiln run {} — plan {}</h1>\n", e(run, "id"), e(run, "plan"));
  body += fmt::format(
      "<p class=\"meta\">status <b>{}</b> · lab {} · racks {} · seed {} · plan sha256 <code>{}</code><br>"
      "started {} · ended {}</p>\n",
      e(run, "status"), e(run, "lab"), html_escape(racks_text(run)), e(run, "seed"), e(run, "plan_sha256"),
      e(run, "started"), e(run, "ended"));
  if (run.contains("reason")) body += fmt::format("<p>reason: {}</p>\n", e(run, "reason"));

  body += "<h2>Verdicts</h2>\n" + html_verdict_legend() + html_verdict_matrix(chips);
  const std::string failures = html_failures(chips);
  body += "<h2>Failures</h2>\n" + (failures.empty() ? "<p>No chip failed.</p>\n" : failures);
  if (report.contains("reproduce")) {
    body += fmt::format("<h2>Reproduce</h2>\n<pre class=\"repro\" id=\"reproduce\">{}</pre>\n", e(report, "reproduce"));
  }

  body += "<h2>Telemetry of failing chips</h2>\n";
  std::optional<kiln::v1::RunPlan> plan;
  std::string plan_problem = "this rendering had only the JSON report";
  if (sources != nullptr && run.contains("id") && run["id"].is_number_unsigned()) {
    auto got = sources->plan(run["id"].get<std::uint64_t>());
    if (got)
      plan = std::move(*got);
    else
      plan_problem = got.error().message;
  }
  bool any_failing = false;
  for (const Json& c : chips) {
    if (json_text(c, "verdict") != "fail") continue;
    any_failing = true;
    body += fmt::format("<h3 id=\"chip-{}\">{} (rack {}, slot {})</h3>\n", e(c, "serial"), e(c, "serial"), e(c, "rack"),
                        e(c, "slot"));
    if (!plan) {
      body += fmt::format("<p class=\"note\">Telemetry not at hand: {}.</p>\n", html_escape(plan_problem));
      continue;
    }
    body += chip_charts(*sources, *plan, json_text(c, "serial"));
  }
  if (!any_failing) body += "<p>No chip failed.</p>\n";
  if (any_failing && plan) {
    body +=
        "<p class=\"note\">Shaded: red beyond a limit, amber in its marginal band; dotted lines are phase "
        "boundaries. Limits relative to a peak, peers or a baseline are not drawn.</p>\n";
  }

  const std::string shmoo = html_shmoo_maps(chips);
  if (!shmoo.empty()) body += "<h2>Shmoo maps</h2>\n" + shmoo;
  const std::string heat = html_link_heatmaps(chips);
  if (!heat.empty()) body += "<h2>Links</h2>\n" + heat;
  return html_page(fmt::format("Kiln run {} {}", json_text(run, "id"), json_text(run, "plan")), body);
}

}  // namespace

Result<std::string> render_report_html_with(const std::string& report_json, const ReportSources& sources) {
  return render(report_json, &sources);
}

Result<std::string> render_report_html(const std::string& report_json) { return render(report_json, nullptr); }

}  // namespace kiln::reports
