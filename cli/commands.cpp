#include "cli/commands.hpp"

#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/client.hpp"
#include "cli/command_output.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "cli/read_source.hpp"
#include "core/clock.hpp"
#include "core/units.hpp"
#include "lifecycle/chip_state.hpp"
#include "net/error_reply.hpp"
#include "reports/chip_text.hpp"
#include "reports/digest.hpp"
#include "reports/report_formats.hpp"
#include "reports/report_text.hpp"
#include "reports/reproduce.hpp"
#include "reports/telemetry_json.hpp"
#include "testplans/loader.hpp"

namespace kiln::cli {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

kiln::v1::Query make_query(kiln::v1::Query::Kind kind, std::uint64_t run_id = 0, const std::string& serial = "",
                           const std::string& metric = "",
                           kiln::v1::Query::Answer answer = kiln::v1::Query::ANSWER_TEXT) {
  kiln::v1::Query q;
  q.set_kind(kind);
  q.set_run_id(run_id);
  q.set_serial(serial);
  q.set_metric(metric);
  q.set_answer(answer);
  return q;
}

// A reading command's text answer (JSON or CSV), from the daemon or a database file.
Result<std::string> ask(const GlobalOptions& global, kiln::v1::Query::Kind kind, std::uint64_t run_id = 0,
                        const std::string& serial = "", const std::string& metric = "") {
  KILN_TRY_ASSIGN(auto source, open_read_source(global));
  return source->query(make_query(kind, run_id, serial, metric)).transform([](kiln::v1::QueryReply reply) {
    return std::move(*reply.mutable_body());
  });
}

// A run's typed progress from `source`.
Result<kiln::v1::RunProgress> ask_progress(ReadSource& source, std::uint64_t run_id) {
  return source.query(make_query(kiln::v1::Query::RUN, run_id, "", "", kiln::v1::Query::ANSWER_TYPED))
      .and_then([](kiln::v1::QueryReply reply) -> Result<kiln::v1::RunProgress> {
        if (!reply.has_run_progress()) return make_error(ErrorCode::protocol, "the answer has no run progress");
        return std::move(*reply.mutable_run_progress());
      });
}

}  // namespace

int plan_check(const std::vector<std::string>& files) {
  plan::PatternRegistry registry;
  plan::register_builtin_patterns(registry);
  int status = 0;
  for (const auto& file : files) {
    auto loaded = plan::load_plan_file(file, registry);
    if (!loaded.plan) {
      for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << "\n";
      status = 1;
      continue;
    }
    std::size_t steps = plan::flatten(*loaded.plan).size();
    std::cout << fmt::format("{}: ok — plan {}, {} step(s), {} per repeat × {}\n", file, loaded.plan->name, steps,
                             format_duration(plan::total_duration(*loaded.plan) / loaded.plan->repeat),
                             loaded.plan->repeat);
  }
  return status;
}

int run_submit(const GlobalOptions& global, const SubmitOptions& options) {
  std::ifstream in(options.file, std::ios::binary);
  if (!in) return fail(fmt::format("cannot read {}", options.file));
  std::ostringstream text;
  text << in.rdbuf();
  auto client = connect_daemon(global);
  if (!client) return fail(client.error());
  kiln::v1::Envelope request;
  auto* submit = request.mutable_submit_run();
  submit->set_plan_text(text.str());
  submit->set_plan_path(options.file);
  for (const auto& r : options.racks) submit->add_racks(r);
  if (options.seed) submit->set_seed(*options.seed);
  submit->set_priority(options.priority);
  for (const auto& [given, setter] : {std::pair{&options.queue_timeout, &kiln::v1::SubmitRun::set_queue_timeout_s},
                                      std::pair{&options.max_wall, &kiln::v1::SubmitRun::set_max_wall_s}}) {
    if (!*given) continue;
    auto seconds = parse_duration(**given);
    if (!seconds) return fail(seconds.error());
    if (seconds->count() < 1) return fail(fmt::format("{}: at least 1s", **given));
    (submit->*setter)(static_cast<std::uint32_t>(seconds->count()));
  }
  auto reply = (*client)->call(std::move(request));
  if (!reply) return fail(reply.error());
  if (reply->has_error_reply()) return fail(net::error_from(reply->error_reply()));
  if (!reply->has_submit_run_reply()) return fail("unexpected reply to the submission");
  const auto& answer = reply->submit_run_reply();
  if (answer.run_id() == 0) {
    for (const auto& d : answer.diagnostics()) {
      std::cerr << fmt::format("{}:{}:{}: {}\n", d.file(), d.line(), d.column(), d.message());
    }
    if (!answer.error().empty()) std::cerr << "kiln: " << answer.error() << "\n";
    return 1;
  }
  std::cout << Json{{"run", answer.run_id()}, {"status", "queued"}}.dump() << "\n";
  if (!options.wait) return 0;

  install_interrupt_handler();
  std::string last;
  kiln::v1::RunProgress progress;
  while (!interrupted()) {
    auto reply =
        (*client)->ask(make_query(kiln::v1::Query::RUN, answer.run_id(), "", "", kiln::v1::Query::ANSWER_TYPED));
    if (!reply) return fail(reply.error());
    progress = reply->run_progress();
    const std::string line = progress_line(progress);
    if (line != last) std::cerr << line << "\n";
    last = line;
    if (run_finished(progress)) break;
    std::this_thread::sleep_for(500ms);
  }
  if (interrupted()) {
    std::cerr << "kiln: stopped waiting; run " << answer.run_id() << " goes on (kiln run abort " << answer.run_id()
              << " stops it)\n";
    return 130;
  }
  // This command was given the plan's path: the reproduce line names it.
  auto report =
      (*client)->query(make_query(kiln::v1::Query::REPORT, answer.run_id())).and_then([&](const std::string& body) {
        return reports::with_plan_path(body, options.file);
      });
  if (!report) return fail(report.error());
  auto text_report = reports::render_report_text(*report);
  if (!text_report) return fail(text_report.error());
  std::cout << *text_report;
  if (progress.status() != kiln::v1::RUN_COMPLETED) return 1;
  auto met = reports::fail_on_message(*report, options.fail_on);
  if (!met) return fail(met.error());
  if (met->empty()) return 0;
  std::cerr << *met << "\n";
  return reports::kExitChipsMetFailOn;
}

int run_list(const GlobalOptions& global, bool json) {
  auto body = ask(global, kiln::v1::Query::RUNS);
  if (!body) return fail(body.error());
  if (json) return emit(*body, "");
  Json runs = Json::parse(*body, nullptr, false);
  std::cout << fmt::format("{:>5}  {:<20} {:<10} {:>20}  {:<24}  {}\n", "RUN", "PLAN", "STATUS", "SEED", "SUBMITTED",
                           "RACKS");
  for (const auto& r : runs["runs"]) {
    std::string racks;
    for (const auto& name : r["racks"]) {
      if (!racks.empty()) racks += ',';
      racks += name.get<std::string>();
    }
    std::cout << fmt::format("{:>5}  {:<20} {:<10} {:>20}  {:<24}  {}\n", cell(r, "id"), cell(r, "plan"),
                             cell(r, "status"), cell(r, "seed"), cell(r, "submitted"), racks);
    if (r.contains("waiting")) std::cout << fmt::format("{:>5}  {}\n", "", cell(r, "waiting"));
  }
  return 0;
}

int run_show(const GlobalOptions& global, std::uint64_t run_id, bool json) {
  auto source = open_read_source(global);
  if (!source) return fail(source.error());
  auto reply = (*source)->query(make_query(kiln::v1::Query::RUN, run_id));
  if (!reply) return fail(reply.error());
  const std::string& body = reply->body();
  if (json) return emit(body, "");
  auto progress = ask_progress(**source, run_id);
  if (!progress) return fail(progress.error());
  Json run = Json::parse(body, nullptr, false);
  std::cout << progress_line(*progress) << "\n";
  std::cout << fmt::format("plan {} (sha256 {}), seed {}, lab {}, racks {}\n", cell(run, "plan"),
                           cell(run, "plan_sha256"), cell(run, "seed"), cell(run, "lab"), run["racks"].dump());
  std::cout << fmt::format("submitted {}, started {}, ended {}\n", cell(run, "submitted"), cell(run, "started"),
                           cell(run, "ended"));
  if (run.contains("reason")) std::cout << "reason: " << cell(run, "reason") << "\n";
  if (run.contains("raw_telemetry_pruned")) {
    std::cout << "raw telemetry pruned on " << cell(run, "raw_telemetry_pruned")
              << " (kilnd --keep-raw); roll-ups, verdicts and failures are kept\n";
  }
  for (const auto& s : run["steps"]) {
    std::cout << fmt::format("  step {} {:<16} {:<10} {}s\n", cell(s, "index"), cell(s, "name"), cell(s, "pattern"),
                             cell(s, "duration_s"));
  }
  std::cout << "verdicts: " << run["verdicts"].dump() << "\n";
  return 0;
}

int run_abort(const GlobalOptions& global, std::uint64_t run_id) {
  auto client = connect_daemon(global);
  if (!client) return fail(client.error());
  kiln::v1::Envelope request;
  request.mutable_abort_run()->set_run_id(run_id);
  request.mutable_abort_run()->set_reason("aborted with kiln run abort");
  auto reply = (*client)->call(std::move(request));
  if (!reply) return fail(reply.error());
  if (reply->has_error_reply()) return fail(net::error_from(reply->error_reply()));
  return emit(reply->query_reply().body(), "");
}

int report(const GlobalOptions& global, std::uint64_t run_id, const std::string& format, const std::string& output) {
  const reports::ReportFormat* chosen = reports::find_report_format(format);
  if (chosen == nullptr) return fail(make_error(ErrorCode::invalid_argument, "unknown report format {}", format));
  auto source = open_read_source(global);
  if (!source) return fail(source.error());
  auto body = (*source)->query(make_query(kiln::v1::Query::REPORT, run_id));
  if (!body) return fail(body.error());
  const reports::ReportSources sources = report_sources(**source);
  auto text = reports::render_report(*chosen, body->body(), &sources);
  if (!text) return fail(text.error());
  return emit(*text, output);
}

int telemetry(const GlobalOptions& global, std::uint64_t run_id, const std::string& chip, const std::string& metric,
              const std::string& format, const std::string& output) {
  if (format == "json") {
    auto source = open_read_source(global);
    if (!source) return fail(source.error());
    auto reply =
        (*source)->query(make_query(kiln::v1::Query::TELEMETRY, run_id, chip, metric, kiln::v1::Query::ANSWER_TYPED));
    if (!reply) return fail(reply.error());
    auto plan = (*source)->plan(run_id);
    if (!plan) return fail(plan.error());
    return emit(reports::telemetry_json(reply->telemetry(), *plan), output);
  }
  auto body = ask(global, kiln::v1::Query::TELEMETRY, run_id, chip, metric);
  if (!body) return fail(body.error());
  return emit(*body, output);
}

int chips(const GlobalOptions& global, bool json, const std::string& state) {
  if (!state.empty() && !lifecycle::parse_chip_state(state)) {
    return fail(make_error(ErrorCode::invalid_argument,
                           "--state {}: one of unknown, healthy, suspect, quarantined, rma, retired, maintenance",
                           state));
  }
  auto body = ask(global, kiln::v1::Query::CHIPS);
  if (!body) return fail(body.error());
  Json list = Json::parse(*body, nullptr, false);
  if (!state.empty() && list.contains("chips")) {
    Json kept = Json::array();
    for (const auto& c : list["chips"]) {
      if (c.value("state", "unknown") == state) kept.push_back(c);
    }
    list["chips"] = kept;
  }
  if (json) return emit(list.dump(2), "");
  std::cout << fmt::format("{:<14} {:<10} {:<6} {:>4}  {:<12} {}\n", "SERIAL", "SKU", "RACK", "SLOT", "STATE",
                           "LAST SEEN");
  for (const auto& c : list["chips"]) {
    std::cout << fmt::format("{:<14} {:<10} {:<6} {:>4}  {:<12} {}\n", cell(c, "serial"), cell(c, "sku"),
                             cell(c, "rack"), cell(c, "slot"), cell(c, "state"), cell(c, "last_seen"));
  }
  return 0;
}

Result<std::int64_t> parse_since(const std::string& text, std::int64_t now_unix_ms) {
  if (text.empty()) return std::int64_t{0};
  if (auto ago = parse_duration(text)) return now_unix_ms - static_cast<std::int64_t>(ago->count() * 1000.0);
  // YYYY-MM-DDTHH:MM:SS[Z], UTC.
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) {
    return make_error(ErrorCode::invalid_argument,
                      "--since '{}': give a duration back from now (10m, 24h) or a UTC time 2026-12-02T05:00:00Z",
                      text);
  }
  std::string rest;
  in >> rest;
  if (!rest.empty() && rest != "Z") {
    return make_error(ErrorCode::invalid_argument, "--since '{}': only UTC times (ending in Z) are understood", text);
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

int events(const GlobalOptions& global, const EventsOptions& options) {
  auto since = parse_since(options.since, unix_ms_now());
  if (!since) return fail(since.error());
  auto source = open_read_source(global);
  if (!source) return fail(source.error());
  kiln::v1::Query q = make_query(kiln::v1::Query::EVENTS, options.run_id);
  q.set_since_unix_ms(*since);
  q.set_limit(static_cast<std::uint32_t>(options.limit));
  auto reply = (*source)->query(q);
  if (!reply) return fail(reply.error());
  if (options.json) return emit(reply->body(), "");
  Json list = Json::parse(reply->body(), nullptr, false);
  std::cout << fmt::format("{:<24} {:<16} {:<14} {:<15} {:>5} {:>5}  {}\n", "TIME", "KIND", "ACTOR", "PEER", "RUN",
                           "COUNT", "DETAIL");
  for (const auto& e : list["events"]) {
    std::cout << fmt::format("{:<24} {:<16} {:<14} {:<15} {:>5} {:>5}  {}\n", cell(e, "time"), cell(e, "kind"),
                             e.value("actor", "").empty() ? "-" : cell(e, "actor"),
                             e.value("peer", "").empty() ? "-" : cell(e, "peer"), cell(e, "run"), cell(e, "count"),
                             e["detail"].dump());
  }
  return 0;
}

int chip(const GlobalOptions& global, const std::string& serial, bool json, bool drift) {
  auto body = ask(global, kiln::v1::Query::CHIP, 0, serial);
  if (!body) return fail(body.error());
  if (json) return emit(*body, "");
  Json c = Json::parse(*body, nullptr, false);
  std::cout << fmt::format("{} ({}) in rack {} slot {}\n", cell(c, "serial"), cell(c, "sku"), cell(c, "rack"),
                           cell(c, "slot"));
  const Json life = c.value("lifecycle", Json::object());
  if (drift) {
    std::cout << reports::drift_text(life.value("drift", Json::object()).dump());
    return 0;
  }
  if (!life.empty()) std::cout << reports::lifecycle_text(life.dump());
  std::cout << fmt::format("{:>5}  {:<20} {:<6} {:>4}  {:<12} {:<10} {}\n", "RUN", "PLAN", "RACK", "SLOT", "VERDICT",
                           "STATUS", "SUBMITTED");
  for (const auto& r : c["runs"]) {
    std::cout << fmt::format("{:>5}  {:<20} {:<6} {:>4}  {:<12} {:<10} {}\n", cell(r, "run"), cell(r, "plan"),
                             cell(r, "rack"), cell(r, "slot"), cell(r, "verdict"), cell(r, "status"),
                             cell(r, "submitted"));
  }
  return 0;
}

int racks(const GlobalOptions& global, bool json) {
  auto body = ask(global, kiln::v1::Query::RACKS);
  if (!body) return fail(body.error());
  if (json) return emit(*body, "");
  Json list = Json::parse(*body, nullptr, false);
  // Connected racks, then held racks whose agent is not connected.
  Json rows = list["racks"];
  for (const auto& h : list["holds"]) {
    bool connected = false;
    for (const auto& r : list["racks"]) connected = connected || r["rack"] == h["rack"];
    if (!connected) rows.push_back(Json{{"rack", h["rack"]}, {"connected", false}, {"hold", h}});
  }
  std::cout << fmt::format("{:<12} {:<9} {:<8} {:>5}  {}\n", "RACK", "AGENT", "BACKEND", "CHIPS", "HELD");
  for (const auto& r : rows) {
    std::string held = "free";
    if (r.contains("hold")) {
      const Json& h = r["hold"];
      const std::string kind = h.value("kind", "");
      held = kind == "run"
                 ? fmt::format("run {}", cell(h, "run"))
                 : fmt::format("{} by {}", kind == "maintenance" ? "in maintenance" : "reserved", cell(h, "holder"));
      if (h.contains("until")) held += " until " + cell(h, "until");
      if (h.contains("reason") && kind != "run") held += " (" + cell(h, "reason") + ")";
    }
    std::cout << fmt::format(
        "{:<12} {:<9} {:<8} {:>5}  {}\n", cell(r, "rack"), r.value("connected", false) ? "connected" : "offline",
        r.contains("backend") ? cell(r, "backend") : "-", r.contains("chips") ? cell(r, "chips") : "-", held);
  }
  return 0;
}

int rack_hold(const GlobalOptions& global, const RackHoldOptions& options) {
  using Action = kiln::v1::RackHoldRequest;
  kiln::v1::Envelope request;
  auto* hold = request.mutable_rack_hold();
  hold->set_rack(options.rack);
  hold->set_reason(options.reason);
  const std::map<std::string, Action::Action> actions = {{"reserve", Action::RESERVE},
                                                         {"release", Action::RELEASE},
                                                         {"maintenance-on", Action::MAINTENANCE_ON},
                                                         {"maintenance-off", Action::MAINTENANCE_OFF}};
  const auto action = actions.find(options.action);
  if (action == actions.end()) return fail(fmt::format("unknown rack action {}", options.action));
  hold->set_action(action->second);
  if (!options.duration.empty()) {
    auto seconds = parse_duration(options.duration);
    if (!seconds) return fail(seconds.error());
    if (seconds->count() < 1 || seconds->count() > 1e9)
      return fail(fmt::format("--for {}: out of range", options.duration));
    hold->set_duration_s(static_cast<std::uint32_t>(seconds->count()));
  }
  auto client = connect_daemon(global);
  if (!client) return fail(client.error());
  auto reply = (*client)->call(std::move(request));
  if (!reply) return fail(reply.error());
  if (reply->has_error_reply()) return fail(net::error_from(reply->error_reply()));
  return emit(reply->query_reply().body(), "");
}

int chip_set(const GlobalOptions& global, const ChipSetOptions& options) {
  if (options.reason.empty()) return fail("kiln chip SERIAL set STATE needs --reason TEXT: why, for the history");
  if (!lifecycle::parse_chip_state(options.state)) {
    return fail(make_error(ErrorCode::invalid_argument,
                           "no state {}: one of unknown, healthy, suspect, quarantined, rma, retired, maintenance",
                           options.state));
  }
  auto client = connect_daemon(global);
  if (!client) return fail(client.error());
  kiln::v1::Envelope request;
  auto* set = request.mutable_set_chip_state();
  set->set_serial(options.serial);
  set->set_state(options.state);
  set->set_reason(options.reason);
  set->set_hand_back(options.hand_back);
  auto reply = (*client)->call(std::move(request));
  if (!reply) return fail(reply.error());
  if (reply->has_error_reply()) return fail(net::error_from(reply->error_reply()));
  if (options.json) return emit(reply->query_reply().body(), "");
  const Json t = Json::parse(reply->query_reply().body(), nullptr, false);
  std::cout << fmt::format("{}: {} -> {} by {}{}: {}\n", cell(t, "serial"), cell(t, "from"), cell(t, "to"),
                           cell(t, "actor"), t.value("sticky", true) ? " (sticky)" : " (handed back to the policy)",
                           cell(t, "reason"));
  return 0;
}

int digest(const GlobalOptions& global, const DigestOptions& options) {
  const std::int64_t now = unix_ms_now();
  auto since = parse_since(options.since, now);
  if (!since) return fail(since.error());
  auto source = open_read_source(global);
  if (!source) return fail(source.error());
  kiln::v1::Query q = make_query(kiln::v1::Query::DIGEST);
  q.set_since_unix_ms(*since);
  q.set_until_unix_ms(now);
  auto reply = (*source)->query(q);
  if (!reply) return fail(reply.error());
  if (options.format == "json") return emit(reply->body(), "");
  return emit(reports::digest_text(reply->body()), "");
}

}  // namespace kiln::cli
