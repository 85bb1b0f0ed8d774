#include "cli/lab_command.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/child_process.hpp"
#include "cli/client.hpp"
#include "cli/interrupt.hpp"
#include "cli/lab_credentials.hpp"
#include "cli/pace.hpp"
#include "cli/progress.hpp"
#include "core/units.hpp"
#include "device/lab.hpp"
#include "device/sku_search.hpp"
#include "net/tls_options.hpp"
#include "reports/report_formats.hpp"
#include "reports/reproduce.hpp"
#include "reports/run_status.hpp"
#include "testplans/loader.hpp"

namespace kiln::cli {
namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tail_of(const std::string& path, std::size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "    " + all[i] + "\n";
  return out;
}

fs::path own_directory() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

// Everything `kiln lab` starts, stopped in reverse order on every way out.
struct LabProcesses {
  std::optional<ChildProcess> daemon;
  std::vector<ChildProcess> agents;
  std::optional<ChildProcess> dashboard;  // --gui; not a lab part: closing it never fails the run
  fs::path temp_dir;

  ~LabProcesses() {
    if (dashboard) dashboard->stop(3s);
    for (auto& a : agents) a.stop(3s);
    if (daemon) daemon->stop(10s);  // kilnd drains its writer before exiting
    std::error_code ec;
    if (!temp_dir.empty()) fs::remove_all(temp_dir, ec);
  }

  std::optional<std::string> dead_child() {
    if (daemon && daemon->poll()) return fmt::format("kilnd exited with status {}", *daemon->poll());
    for (auto& a : agents) {
      if (a.poll()) return fmt::format("an agent ({}) exited with status {}", a.name(), *a.poll());
    }
    return std::nullopt;
  }
};

int fail(const std::string& message) {
  std::cerr << "kiln lab: " << message << "\n";
  return 1;
}

// kilnd --init-tls DIR, waited for: the lab's private CA and certificates.
Result<net::TlsFiles> init_lab_tls(const fs::path& bin, const fs::path& dir, const std::string& log_path) {
  auto init = ChildProcess::spawn((bin / "kilnd").string(), {"--init-tls", dir.string()}, log_path);
  if (!init) return init.error();
  for (auto waited = 0ms;; waited += 20ms) {
    if (auto status = init->poll()) {
      if (*status != 0) {
        return make_error(ErrorCode::internal, "kilnd --init-tls {} exited with status {}; see {}", dir.string(),
                          *status, log_path);
      }
      return net::lab_tls_paths(dir.string());
    }
    if (waited > 15s) {
      init->stop(1s);
      return make_error(ErrorCode::unavailable, "kilnd --init-tls did not finish within 15 s");
    }
    std::this_thread::sleep_for(20ms);
  }
}

// The TLS options of one lab process, as command-line arguments.
void add_client_tls_args(std::vector<std::string>& args, const net::TlsClientOptions& tls) {
  if (!tls.enabled()) return;
  args.insert(args.end(), {"--tls-ca", tls.ca_file});
  if (!tls.cert_file.empty()) args.insert(args.end(), {"--tls-cert", tls.cert_file, "--tls-key", tls.key_file});
}

// A relative lab or plan path that is not under the current directory is
// looked up in the installed shared data (<prefix>/share/kiln/labs/…,
// …/testplans/…), so `kiln lab` runs from anywhere after `cmake --install`.
std::string shipped_or_given(const std::string& given) {
  const fs::path path(given);
  std::error_code ec;
  if (path.is_absolute() || fs::exists(path, ec)) return given;
  std::string relative = path.lexically_normal().string();
  if (relative.rfind("device/", 0) == 0) relative = relative.substr(7);
  const fs::path installed = own_directory() / ".." / "share" / "kiln" / relative;
  return fs::exists(installed, ec) ? installed.lexically_normal().string() : given;
}

}  // namespace

int run_lab(const LabOptions& given_options) {
  LabOptions options = given_options;
  options.lab = shipped_or_given(options.lab);
  options.plan = shipped_or_given(options.plan);
  const fs::path dash_path = own_directory() / "kiln-dash";
  if (options.gui && !fs::exists(dash_path)) {
    return fail("--gui needs kiln-dash next to kiln (" + dash_path.string() + "), and this build has none");
  }
  // 1. Everything is checked before anything starts.
  const fs::path lab_path = fs::absolute(options.lab);
  auto found_skus = device::find_sku_directory(
      {options.skus, device::sku_path_from_environment(), lab_path.string(), device::this_program_path()});
  if (!found_skus) return fail(found_skus.error().message);
  const std::string skus = *found_skus;
  auto catalog = device::SkuCatalog::load_directory(skus);
  if (!catalog) return fail(catalog.error().message);
  auto lab = device::load_lab_file(lab_path.string(), *catalog);
  if (!lab) {
    std::cerr << lab.error().message << (lab.error().message.ends_with("\n") ? "" : "\n");
    return 1;
  }
  plan::PatternRegistry registry;
  plan::register_builtin_patterns(registry);
  auto loaded = plan::load_plan_file(options.plan, registry);
  if (!loaded.plan) {
    for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << "\n";
    return 1;
  }
  const fs::path db_path = fs::absolute(options.db);
  const std::string log_path = db_path.string() + ".log";
  std::size_t chip_count = 0;
  for (const auto& rack : lab->racks) chip_count += rack.chips.size();
  const double simulated = plan::total_duration(*loaded.plan).count();
  const bool unpaced = options.unpaced || lab->unpaced;
  const std::string pacing =
      unpaced ? std::string("unpaced: as fast as this host allows")
              : fmt::format("~{} at {}x", format_duration(Seconds{simulated / lab->time_scale}), lab->time_scale);
  std::cerr << fmt::format("kiln lab: {} ({} racks, {} chips), plan {} (~{} simulated, {}); logs in {}\n", lab->name,
                           lab->racks.size(), chip_count, loaded.plan->name, format_duration(Seconds{simulated}),
                           pacing, log_path);

  install_interrupt_handler();
  LabProcesses processes;
  char temp_template[] = "/tmp/kiln-lab-XXXXXX";
  if (mkdtemp(temp_template) == nullptr) return fail("cannot create a temporary directory");
  processes.temp_dir = temp_template;
  std::vector<std::string> rack_ids;
  for (const auto& rack : lab->racks) rack_ids.push_back(rack.id);
  auto credentials = write_lab_credentials(processes.temp_dir, rack_ids);
  if (!credentials) return fail(credentials.error().message);
  const std::string port_path = (processes.temp_dir / "port").string();
  const fs::path bin = own_directory();
  net::TlsClientOptions client_tls;  // what every client of this lab's kilnd gives
  std::vector<std::string> daemon_args = {
      "--db",        db_path.string(), "--listen",    "127.0.0.1:0", "--credentials", credentials->credentials_file,
      "--port-file", port_path,        "--log-level", "info"};
  if (!options.plaintext) {
    auto tls = init_lab_tls(bin, processes.temp_dir / "tls", log_path);
    if (!tls) return fail(tls.error().message);
    const net::TlsServerOptions server = tls->server(/*mutual=*/true);
    daemon_args.insert(daemon_args.end(), {"--tls-cert", server.cert_file, "--tls-key", server.key_file,
                                           "--tls-client-ca", server.client_ca_file});
    client_tls = tls->client(/*mutual=*/true);
  }

  // 2. The daemon, on a free loopback port it reports back.
  auto daemon = ChildProcess::spawn((bin / "kilnd").string(), daemon_args, log_path);
  if (!daemon) return fail(daemon.error().message);
  processes.daemon.emplace(std::move(*daemon));
  std::uint16_t port = 0;
  for (auto waited = 0ms; port == 0; waited += 50ms) {
    if (auto dead = processes.dead_child())
      return fail(*dead + "; last lines of " + log_path + ":\n" + tail_of(log_path, 5));
    if (waited > 15s) return fail("kilnd did not start listening within 15 s; see " + log_path);
    if (interrupted()) return 130;
    std::ifstream in(port_path);
    unsigned p = 0;
    if (in >> p) port = static_cast<std::uint16_t>(p);
    if (port == 0) std::this_thread::sleep_for(50ms);
  }
  const std::string address = fmt::format("127.0.0.1:{}", port);

  // 3. One agent per rack, each spooling to its own directory in the lab's
  // private (0700) state directory.
  for (const auto& rack : lab->racks) {
    const std::string spool = (processes.temp_dir / ("spool-" + rack.id)).string();
    std::vector<std::string> args = {
        "--rack", rack.id,           "--daemon", address, "--token-file", credentials->rack_tokens.at(rack.id),
        "--lab",  lab_path.string(), "--skus",   skus,    "--spool",      spool};
    if (options.unpaced) args.emplace_back("--unpaced");
    add_client_tls_args(args, client_tls);
    auto agent = ChildProcess::spawn((bin / "kiln-agent").string(), args, log_path);
    if (!agent) return fail(agent.error().message);
    processes.agents.push_back(std::move(*agent));
  }

  auto client = DaemonClient::connect(Endpoint{"127.0.0.1", port}, credentials->admin_secret, client_tls);
  if (!client) return fail(client.error().message);
  kiln::v1::Query racks_query;
  racks_query.set_kind(kiln::v1::Query::RACKS);
  for (auto waited = 0ms;; waited += 100ms) {
    auto body = (*client)->query(racks_query);
    if (!body) return fail(body.error().message);
    auto racks = nlohmann::json::parse(*body, nullptr, false);
    if (!racks.is_discarded() && racks["racks"].size() == lab->racks.size()) break;
    if (auto dead = processes.dead_child())
      return fail(*dead + "; last lines of " + log_path + ":\n" + tail_of(log_path, 5));
    if (waited > 20s) return fail("not every rack's agent registered within 20 s; see " + log_path);
    if (interrupted()) return 130;
    std::this_thread::sleep_for(100ms);
  }

  // 4. The run.
  kiln::v1::Envelope submit;
  auto* request = submit.mutable_submit_run();
  request->set_plan_text(read_file(options.plan));
  request->set_plan_path(options.plan);
  for (const auto& rack : lab->racks) request->add_racks(rack.id);
  if (options.seed) request->set_seed(*options.seed);
  auto submitted = (*client)->call(std::move(submit));
  if (!submitted) return fail(submitted.error().message);
  if (submitted->has_error_reply()) return fail(submitted->error_reply().message());
  if (!submitted->has_submit_run_reply()) return fail("unexpected reply to the submission");
  const auto& reply = submitted->submit_run_reply();
  if (reply.run_id() == 0) {
    for (const auto& d : reply.diagnostics()) {
      std::cerr << fmt::format("{}:{}:{}: {}\n", d.file(), d.line(), d.column(), d.message());
    }
    return fail(reply.error().empty() ? "the plan was refused" : reply.error());
  }
  const std::uint64_t run_id = reply.run_id();
  if (options.gui) {
    std::vector<std::string> args = {"--daemon", address, "--token-file", credentials->admin_token};
    add_client_tls_args(args, client_tls);
    auto dash = ChildProcess::spawn(dash_path.string(), args, log_path);
    if (!dash) return fail(dash.error().message);
    processes.dashboard.emplace(std::move(*dash));
    std::cerr << "kiln lab: dashboard opened (kiln-dash --daemon " << address << ")\n";
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  kiln::v1::Query run_query;
  run_query.set_kind(kiln::v1::Query::RUN);
  run_query.set_run_id(run_id);
  run_query.set_answer(kiln::v1::Query::ANSWER_TYPED);
  kiln::v1::RunProgress progress;
  PaceMeter pace(unpaced ? 0.0 : lab->time_scale);
  std::string last_line;
  auto last_print = std::chrono::steady_clock::now() - 1h;
  bool abort_sent = false;
  for (;;) {
    auto reply = (*client)->ask(run_query);
    if (!reply) return fail(reply.error().message);
    progress = reply->run_progress();
    const bool finished = run_finished(progress);
    const auto now = std::chrono::steady_clock::now();
    if (progress.live() && progress.state() == kiln::v1::LIVE_RUN_RUNNING) {
      pace.observe(progress.elapsed_s(), true, now);
    } else if (finished && progress.status() == kiln::v1::RUN_COMPLETED) {
      pace.finish(simulated, now);  // the whole plan, stored
    } else if (!finished) {
      pace.observe(0, false, now);  // queued: not yet running
    }
    std::string line = progress_line(progress);
    // Seconds, not tenths: the line changes when the figure does, not every poll.
    if (const std::string scale = pace.text(); !scale.empty() && !finished) line += "  " + scale;
    if (tty) {
      std::cerr << "\r\033[K" << line << std::flush;
    } else if (line != last_line && (now - last_print > 2s || finished)) {
      std::cerr << line << "\n";
      last_print = now;
    }
    last_line = line;
    if (finished) break;
    if (auto dead = processes.dead_child()) {
      if (tty) std::cerr << "\n";
      return fail(*dead + " during the run; last lines of " + log_path + ":\n" + tail_of(log_path, 5));
    }
    if (interrupted() && !abort_sent) {
      abort_sent = true;
      std::cerr << (tty ? "\n" : "") << "kiln lab: interrupted; aborting run " << run_id << "\n";
      kiln::v1::Envelope abort;
      abort.mutable_abort_run()->set_run_id(run_id);
      abort.mutable_abort_run()->set_reason("interrupted (Ctrl-C)");
      (void)(*client)->call(std::move(abort), 5s);
    }
    std::this_thread::sleep_for(tty ? 100ms : 250ms);
  }
  if (tty) std::cerr << "\n";

  kiln::v1::Query report_query;
  report_query.set_kind(kiln::v1::Query::REPORT);
  report_query.set_run_id(run_id);
  // This command was given the plan's path: the reproduce line names it.
  auto report = (*client)
                    ->query(report_query)
                    .and_then([&](const std::string& body) { return reports::with_plan_path(body, options.plan); })
                    .and_then([&](const std::string& body) { return with_time_scale(body, pace); });
  if (!report) return fail(report.error().message);
  const reports::ReportFormat* format = reports::find_report_format(options.report_format);
  if (format == nullptr) return fail("unknown report format " + options.report_format);
  DaemonClient& daemon_client = **client;
  const reports::ReportSources sources{[&](const kiln::v1::Query& q) { return daemon_client.ask(q); },
                                       [&](std::uint64_t id) { return daemon_client.plan(id); }};
  auto text = reports::render_report(*format, *report, &sources);
  if (!text) return fail(text.error().message);
  std::cout << *text;
  std::cerr << fmt::format("kiln lab: run {} {}{}; database {} (try: kiln --db {} report {} --format json)\n", run_id,
                           reports::to_string(progress.status()), pace.text().empty() ? "" : "; " + pace.text(),
                           db_path.string(), options.db, run_id);
  if (processes.dashboard && !processes.dashboard->poll() && !interrupted()) {
    // The engineer is looking at the results: the lab stays up until the window closes.
    std::cerr << "kiln lab: the lab stays up while the dashboard is open; close it (or Ctrl-C) to stop\n";
    while (!processes.dashboard->poll() && !interrupted() && !processes.dead_child())
      std::this_thread::sleep_for(200ms);
  }
  if (abort_sent || interrupted()) return 130;
  if (progress.status() != kiln::v1::RUN_COMPLETED) return 1;
  auto met = reports::fail_on_message(*report, options.fail_on);
  if (!met) return fail(met.error().message);
  if (met->empty()) return 0;
  std::cerr << *met << "\n";
  return reports::kExitChipsMetFailOn;
}

}  // namespace kiln::cli
