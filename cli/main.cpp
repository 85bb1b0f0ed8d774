// kiln: the command-line client (DESIGN §9). A thin main over kiln_cli_lib.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/lab_command.hpp"
#include "cli/schedule_commands.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "net/tls_flags.hpp"
#include "reports/fail_on.hpp"
#include "reports/report_formats.hpp"

namespace {

// Exit status for a command line kiln cannot parse (docs/cli.md).
constexpr int kExitUsage = 2;
constexpr const char* kFailOnHelp =
    "exit 4 when a chip's verdict is this or worse (pass < marginal < inconclusive < error < fail); never: only "
    "errors make the exit status non-zero";

}  // namespace

int main(int argc, char** argv) {
  using namespace kiln::cli;
  namespace reports = kiln::reports;
  CLI::App app{"kiln — validate and burn in AI accelerator chips"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kiln::version_line("kiln"));
  // Global options may follow the subcommand too (`kiln report 1 --db F`):
  // a subcommand hands the options it does not know to its parent.
  app.fallthrough();
  // Every error starts "kiln: ", argument errors included (docs/cli.md).
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "kiln: " + std::string(e.what()) + "\nRun with --help for more information.\n";
  });
  GlobalOptions global;
  app.add_option("--daemon", global.daemon, "kilnd address HOST:PORT (default 127.0.0.1:7450)")->envname("KILN_DAEMON");
  app.add_option("--token-file", global.token_file, "file holding the daemon's shared secret")
      ->envname("KILN_TOKEN_FILE");
  app.add_option("--db", global.db, "read this database file directly instead of asking a daemon");
  kiln::net::add_tls_client_flags(app, global.tls);

  int status = 0;

  // kiln lab
  LabOptions lab;
  std::uint64_t lab_seed = 0;
  auto* lab_cmd = app.add_subcommand("lab", "run a plan on a whole simulated lab on this machine");
  lab_cmd->add_option("--lab", lab.lab, "lab file")->capture_default_str();
  lab_cmd->add_option("--plan", lab.plan, "test plan")->capture_default_str();
  lab_cmd->add_option("--db", lab.db, "database to record into (kept afterwards)")->capture_default_str();
  lab_cmd->add_option(
      "--skus", lab.skus,
      "SKU directory (default: $KILN_SKU_PATH, then next to the lab, then the installed share/kiln/skus)");
  auto* lab_seed_opt = lab_cmd->add_option("--seed", lab_seed, "run seed (default: the plan's, else drawn)");
  lab_cmd->add_option("--format", lab.report_format, "report format printed at the end")
      ->check(CLI::IsMember(kiln::reports::report_format_names()))
      ->capture_default_str();
  lab_cmd->add_flag("--gui", lab.gui, "open the dashboard on the lab");
  lab_cmd->add_flag("--plaintext", lab.plaintext, "plain TCP between the lab's processes instead of mutual TLS");
  lab_cmd->add_flag("--unpaced", lab.unpaced,
                    "run the simulated chips as fast as this host allows, whatever the lab's time_scale");
  std::string lab_fail_on = reports::to_string(reports::kDefaultFailOn);
  lab_cmd->add_option("--fail-on", lab_fail_on, kFailOnHelp)
      ->check(CLI::IsMember(reports::fail_on_names()))
      ->capture_default_str();
  lab_cmd->callback([&] {
    if (*lab_seed_opt) lab.seed = lab_seed;
    lab.fail_on = *reports::parse_fail_on(lab_fail_on);
    status = run_lab(lab);
  });

  // kiln plan check
  auto* plan_cmd = app.add_subcommand("plan", "test plans");
  plan_cmd->require_subcommand(1);
  std::vector<std::string> plan_files;
  auto* check = plan_cmd->add_subcommand("check", "validate plans; errors as file:line:col, exit 1");
  check->add_option("files", plan_files, "plan files")->required()->check(CLI::ExistingFile);
  check->callback([&] { status = plan_check(plan_files); });

  // kiln run …
  auto* run_cmd = app.add_subcommand("run", "submit, list, show and abort runs");
  run_cmd->require_subcommand(1);
  SubmitOptions submit;
  std::uint64_t submit_seed = 0;
  std::string racks_csv;
  auto* submit_cmd = run_cmd->add_subcommand("submit", "queue a plan on the daemon");
  submit_cmd->add_option("file", submit.file, "plan file")->required()->check(CLI::ExistingFile);
  submit_cmd->add_option("--racks", racks_csv, "comma-separated racks (default: the plan's targets)");
  auto* seed_opt = submit_cmd->add_option("--seed", submit_seed, "run seed (default: the plan's, else drawn)");
  submit_cmd->add_option("--priority", submit.priority, "queue priority, -1000 to 1000 (higher first; ages +1 per 30m)")
      ->capture_default_str();
  std::string queue_timeout;
  std::string max_wall;
  auto* queue_timeout_opt =
      submit_cmd->add_option("--queue-timeout", queue_timeout, "leave the queue after waiting this long (2h)");
  auto* max_wall_opt =
      submit_cmd->add_option("--max-wall", max_wall, "end the run after running this long (its leases expire)");
  submit_cmd->add_flag("--wait", submit.wait, "wait for the run, showing progress, then print its report");
  std::string submit_fail_on = reports::to_string(reports::kDefaultFailOn);
  submit_cmd->add_option("--fail-on", submit_fail_on, std::string(kFailOnHelp) + " (with --wait)")
      ->check(CLI::IsMember(reports::fail_on_names()))
      ->capture_default_str();
  submit_cmd->callback([&] {
    if (*seed_opt) submit.seed = submit_seed;
    if (*queue_timeout_opt) submit.queue_timeout = queue_timeout;
    if (*max_wall_opt) submit.max_wall = max_wall;
    submit.fail_on = *reports::parse_fail_on(submit_fail_on);
    std::stringstream ss(racks_csv);
    for (std::string r; std::getline(ss, r, ',');) {
      if (!r.empty()) submit.racks.push_back(r);
    }
    status = run_submit(global, submit);
  });
  bool json = false;
  auto* list_cmd = run_cmd->add_subcommand("list", "list runs");
  list_cmd->add_flag("--json", json, "JSON output");
  list_cmd->callback([&] { status = run_list(global, json); });
  std::uint64_t run_id = 0;
  auto* show_cmd = run_cmd->add_subcommand("show", "a run's plan, steps, progress and verdict counts");
  show_cmd->add_option("id", run_id, "run id")->required();
  show_cmd->add_flag("--json", json, "JSON output");
  show_cmd->callback([&] { status = run_show(global, run_id, json); });
  auto* abort_cmd = run_cmd->add_subcommand("abort", "abort a queued or running run");
  abort_cmd->add_option("id", run_id, "run id")->required();
  abort_cmd->callback([&] { status = run_abort(global, run_id); });

  // kiln report
  std::string format = "text";
  std::string output;
  auto* report_cmd = app.add_subcommand("report", "a run's report: verdicts, failures and how to reproduce");
  report_cmd->add_option("id", run_id, "run id")->required();
  report_cmd->add_option("--format", format, "report format")
      ->check(CLI::IsMember(kiln::reports::report_format_names()))
      ->capture_default_str();
  report_cmd->add_option("-o,--output", output, "write to this file instead of stdout");
  report_cmd->callback([&] { status = report(global, run_id, format, output); });

  // kiln telemetry
  std::string chip_serial, metric, telemetry_format = "csv";
  auto* telemetry_cmd = app.add_subcommand("telemetry", "a run's telemetry samples");
  telemetry_cmd->add_option("id", run_id, "run id")->required();
  telemetry_cmd->add_option("--chip", chip_serial, "only this serial");
  telemetry_cmd->add_option("--metric", metric, "only this metric (e.g. temperature_c)");
  telemetry_cmd
      ->add_option("--format", telemetry_format,
                   "csv (a row per sample) or json (an object per series with t_s and values columns)")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  telemetry_cmd->add_option("-o,--output", output, "write to this file instead of stdout");
  telemetry_cmd->callback([&] { status = telemetry(global, run_id, chip_serial, metric, telemetry_format, output); });

  // kiln chips | chip SERIAL
  std::string state_filter;
  std::string chip_format = "text";
  auto* chips_cmd = app.add_subcommand("chips", "inventory: every chip seen, by serial, with its lifecycle state");
  chips_cmd->add_flag("--json", json, "JSON output");
  chips_cmd->add_option("--state", state_filter, "only chips in this lifecycle state");
  chips_cmd->callback([&] { status = chips(global, json, state_filter); });
  bool drift = false;
  auto* chip_cmd =
      app.add_subcommand("chip", "one chip's lifecycle state, retests (failed X of Y), slots, transitions and runs");
  chip_cmd->add_option("serial", chip_serial, "serial")->required();
  chip_cmd->add_flag("--json", json, "JSON output");
  chip_cmd->add_option("--format", chip_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  chip_cmd->add_flag("--drift", drift, "the trend of the figures that age, against its history and its peers");
  ChipSetOptions chip_set_options;
  auto* chip_set_cmd = chip_cmd->add_subcommand(
      "set", "set the chip's lifecycle state by hand (operator or admin): sticky until a person changes it");
  chip_set_cmd
      ->add_option("state", chip_set_options.state,
                   "unknown, healthy, suspect, quarantined, rma, retired or maintenance")
      ->required();
  chip_set_cmd->add_option("--reason", chip_set_options.reason, "why (kept in the chip's history)")->required();
  chip_set_cmd->add_flag("--hand-back", chip_set_options.hand_back,
                         "not sticky: the policy decides again from this state on");
  chip_set_cmd->add_flag("--json", chip_set_options.json, "JSON output");
  chip_set_cmd->callback([&] {
    chip_set_options.serial = chip_serial;
    status = chip_set(global, chip_set_options);
  });
  chip_cmd->callback([&] {
    if (chip_set_cmd->parsed()) return;
    status = chip(global, chip_serial, json || chip_format == "json", drift);
  });

  // kiln digest
  DigestOptions digest_options;
  auto* digest_cmd = app.add_subcommand(
      "digest", "the morning digest: what ran, new failures, lifecycle changes, drift, errored runs, untested racks");
  digest_cmd->add_option("--since", digest_options.since, "a duration back (24h) or UTC time (…Z)")
      ->capture_default_str();
  digest_cmd->add_option("--format", digest_options.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  digest_cmd->callback([&] { status = digest(global, digest_options); });

  // kiln racks | rack reserve|release|maintenance
  auto* racks_cmd = app.add_subcommand("racks", "racks: connected agents and what holds each rack");
  racks_cmd->add_flag("--json", json, "JSON output");
  racks_cmd->callback([&] { status = racks(global, json); });
  auto* rack_cmd = app.add_subcommand("rack", "reserve, release or put a rack in maintenance (operator, admin)");
  rack_cmd->require_subcommand(1);
  RackHoldOptions hold;
  auto* reserve_cmd = rack_cmd->add_subcommand("reserve", "hold a rack for people: runs wait for it");
  reserve_cmd->add_option("rack", hold.rack, "rack id")->required();
  reserve_cmd->add_option("--for", hold.duration, "how long (at most 24h)")->required();
  reserve_cmd->add_option("--reason", hold.reason, "why (shown to every run that waits)")->required();
  reserve_cmd->callback([&] {
    hold.action = "reserve";
    status = rack_hold(global, hold);
  });
  auto* release_cmd = rack_cmd->add_subcommand("release", "end a rack's reservation");
  release_cmd->add_option("rack", hold.rack, "rack id")->required();
  release_cmd->callback([&] {
    hold.action = "release";
    status = rack_hold(global, hold);
  });
  auto* maintenance_cmd = rack_cmd->add_subcommand("maintenance", "take a rack out of service, or put it back");
  maintenance_cmd->add_option("rack", hold.rack, "rack id")->required();
  std::string on_off;
  maintenance_cmd->add_option("state", on_off, "on | off")->required()->check(CLI::IsMember({"on", "off"}));
  maintenance_cmd->add_option("--for", hold.duration, "with on: how long (default and at most 7 days)");
  maintenance_cmd->add_option("--reason", hold.reason, "with on: why");
  maintenance_cmd->callback([&] {
    hold.action = on_off == "on" ? "maintenance-on" : "maintenance-off";
    if (on_off == "on" && hold.reason.empty()) hold.reason = "maintenance";
    status = rack_hold(global, hold);
  });

  // kiln schedule add|list|show|disable|enable|remove
  auto* schedule_cmd = app.add_subcommand(
      "schedule", "nightly work: plans kilnd submits at cron times in a time zone (operator, admin)");
  schedule_cmd->require_subcommand(1);
  ScheduleAddOptions add;
  auto* add_cmd = schedule_cmd->add_subcommand("add", "add a schedule: the plan is kept as it is now");
  add_cmd->add_option("name", add.name, "the schedule's name (A-Z a-z 0-9 . _ -)")->required();
  add_cmd->add_option("--plan", add.plan, "test plan file")->required()->check(CLI::ExistingFile);
  add_cmd->add_option("--cron", add.cron, "minute hour day-of-month month day-of-week, or @daily …")->required();
  add_cmd->add_option("--tz", add.time_zone, "IANA time zone the cron times are read in (Europe/Berlin, UTC)")
      ->required();
  add_cmd->add_option("--racks", add.racks, "racks to run on (default: the plan's targets)")->delimiter(',');
  add_cmd->add_option("--sku", add.sku, "only this SKU's chips, on every connected rack that has them");
  add_cmd->add_option("--priority", add.priority, "queue priority, -1000 to 1000 (higher first)")
      ->capture_default_str();
  add_cmd->add_option("--max-wall", add.max_wall, "each run ends after this long running (6h)");
  add_cmd->add_option("--queue-timeout", add.queue_timeout, "each run leaves the queue after waiting this long");
  add_cmd->add_option("--jitter", add.jitter, "start up to this much after each fire time (10m; at most 12h)");
  add_cmd
      ->add_option("--catch-up", add.catch_up,
                   "fire times missed while kilnd was down: skip, run-once, or \"run-once-within 6h\"")
      ->capture_default_str();
  add_cmd->add_flag("--json", add.json, "JSON output");
  add_cmd->callback([&] { status = schedule_add(global, add); });
  auto* schedules_cmd = schedule_cmd->add_subcommand("list", "every schedule with its next fire time");
  schedules_cmd->add_flag("--json", json, "JSON output");
  schedules_cmd->callback([&] { status = schedule_list(global, json); });
  std::string schedule_name;
  auto* show_schedule_cmd =
      schedule_cmd->add_subcommand("show", "one schedule: its coming fire times and what its fires did");
  show_schedule_cmd->add_option("name", schedule_name, "schedule name")->required();
  show_schedule_cmd->add_flag("--json", json, "JSON output");
  show_schedule_cmd->callback([&] { status = schedule_show(global, schedule_name, json); });
  for (const char* action : {"disable", "enable", "remove"}) {
    auto* change_cmd = schedule_cmd->add_subcommand(
        action, std::string(action) == "disable"  ? "stop firing (fire times while disabled are not caught up)"
                : std::string(action) == "enable" ? "fire again, from the next fire time on"
                                                  : "remove a schedule (its runs and fires are kept)");
    change_cmd->add_option("name", schedule_name, "schedule name")->required();
    change_cmd->callback([&, action] { status = schedule_change(global, schedule_name, action); });
  }

  // kiln events
  EventsOptions events_options;
  auto* events_cmd = app.add_subcommand("events", "the audit trail: connections, refusals, submissions, aborts");
  events_cmd->add_option("--run", events_options.run_id, "only this run's events");
  events_cmd->add_option("--since", events_options.since, "only since: a duration back (10m, 24h) or UTC time (…Z)");
  events_cmd->add_option("--limit", events_options.limit, "the latest this many (0: all)")->capture_default_str();
  events_cmd->add_flag("--json", events_options.json, "JSON output");
  events_cmd->callback([&] { status = events(global, events_options); });

  try {
    (void)kiln::setup_logging("kiln", "warn");
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "kiln: fatal: " << e.what() << "\n";
    return 1;
  }
  return status;
}
