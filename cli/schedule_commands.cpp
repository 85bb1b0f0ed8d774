#include "cli/schedule_commands.hpp"

#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/client.hpp"
#include "cli/command_output.hpp"
#include "cli/read_source.hpp"
#include "core/units.hpp"
#include "net/error_reply.hpp"
#include "schedule/catch_up.hpp"
#include "schedule/cron_expression.hpp"
#include "schedule/fire_times.hpp"
#include "testplans/loader.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::cli {
namespace {

using Json = nlohmann::json;

// Schedules live in kilnd: there is nothing to read from a database file alone.
Result<std::unique_ptr<DaemonClient>> schedule_daemon(const GlobalOptions& global) {
  if (!global.db.empty()) {
    return make_error(ErrorCode::invalid_argument,
                      "kiln schedule talks to a running kilnd (schedules fire there); --db is not used");
  }
  return connect_daemon(global);
}

Result<std::string> call(const GlobalOptions& global, kiln::v1::Envelope request) {
  KILN_TRY_ASSIGN(auto client, schedule_daemon(global));
  KILN_TRY_ASSIGN(auto reply, client->call(std::move(request)));
  if (reply.has_error_reply()) return net::error_from(reply.error_reply());
  return std::move(*reply.mutable_query_reply()->mutable_body());
}

Result<std::string> ask(const GlobalOptions& global, kiln::v1::Query::Kind kind, const std::string& name = "") {
  KILN_TRY_ASSIGN(auto client, schedule_daemon(global));
  kiln::v1::Query q;
  q.set_kind(kind);
  q.set_name(name);
  return client->query(q);
}

Result<std::uint32_t> seconds_of(const std::string& flag, const std::string& text) {
  auto seconds = parse_duration(text);
  if (!seconds) return make_error(ErrorCode::invalid_argument, "{} {}: {}", flag, text, seconds.error().message);
  if (seconds->count() < 0 || seconds->count() > 30 * 24 * 3600) {
    return make_error(ErrorCode::invalid_argument, "{} {}: out of range (0 to 30 days)", flag, text);
  }
  return static_cast<std::uint32_t>(seconds->count());
}

std::string target_of(const Json& s) {
  const std::string sku = s.value("sku", "");
  if (s["racks"].empty()) return sku.empty() ? "the plan's racks" : "every connected rack with sku " + sku;
  std::string target = fmt::format("{}", fmt::join(s["racks"], ","));
  if (!sku.empty()) target += " (sku " + sku + " only)";
  return target;
}

std::string next_of(const Json& s) {
  if (!s.value("enabled", true)) return "disabled";
  if (s["next_fire_local"].is_null()) return "never";
  std::string next = s["next_fire_local"].get<std::string>();
  if (s.contains("waiting")) next += " (" + s["waiting"].get<std::string>() + ")";
  return next;
}

}  // namespace

int schedule_add(const GlobalOptions& global, const ScheduleAddOptions& options) {
  // What can be checked here is, before the daemon is asked: the plan with
  // file:line:col, the cron expression with its column, the zone, the policy.
  plan::LoadResult loaded = plan::load_plan_file(options.plan, plan::PatternRegistry::builtin());
  if (!loaded.plan) {
    for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << "\n";
    return 1;
  }
  if (auto cron = schedule::CronExpression::parse(options.cron); !cron) return fail(cron.error());
  // An unknown zone is a bad --tz (exit 1), not a missing object (exit 3).
  if (auto zone = schedule::find_time_zone(options.time_zone); !zone) {
    return fail(make_error(ErrorCode::invalid_argument, "--tz: {}", zone.error().message));
  }
  if (auto policy = schedule::parse_catch_up(options.catch_up); !policy) return fail(policy.error());

  kiln::v1::Envelope request;
  auto* add = request.mutable_schedule();
  add->set_action(kiln::v1::ScheduleRequest::ADD);
  add->set_name(options.name);
  add->set_plan_text(loaded.plan->text);
  add->set_plan_path(options.plan);
  add->set_cron(options.cron);
  add->set_time_zone(options.time_zone);
  for (const auto& rack : options.racks) add->add_racks(rack);
  add->set_sku(options.sku);
  add->set_priority(options.priority);
  add->set_catch_up(options.catch_up);
  if (options.max_wall) {
    auto s = seconds_of("--max-wall", *options.max_wall);
    if (!s) return fail(s.error());
    add->set_max_wall_s(*s);
  }
  if (options.queue_timeout) {
    auto s = seconds_of("--queue-timeout", *options.queue_timeout);
    if (!s) return fail(s.error());
    add->set_queue_timeout_s(*s);
  }
  if (!options.jitter.empty()) {
    auto s = seconds_of("--jitter", options.jitter);
    if (!s) return fail(s.error());
    add->set_jitter_s(*s);
  }
  auto body = call(global, std::move(request));
  if (!body) return fail(body.error());
  if (options.json) return emit(*body, "");
  const Json s = Json::parse(*body, nullptr, false);
  std::cout << fmt::format("schedule {} added: {} \"{}\" ({}) on {}; next fire {} ({})\n", cell(s, "name"),
                           cell(s, "plan"), cell(s, "cron"), cell(s, "time_zone"), target_of(s), next_of(s),
                           cell(s, "next_fire"));
  return 0;
}

int schedule_list(const GlobalOptions& global, bool json) {
  auto body = ask(global, kiln::v1::Query::SCHEDULES);
  if (!body) return fail(body.error());
  if (json) return emit(*body, "");
  const Json list = Json::parse(*body, nullptr, false);
  if (list.is_discarded() || !list.contains("schedules")) return fail("the daemon's answer is not a schedule list");
  const Json& schedules = list["schedules"];
  if (schedules.empty()) {
    std::cout << "no schedules (kiln schedule add NAME --plan F --cron EXPR --tz ZONE)\n";
    return 0;
  }
  std::cout << fmt::format("{:<16} {:<16} {:<16} {:<18} {:<28} {}\n", "NAME", "PLAN", "CRON", "ZONE", "NEXT FIRE",
                           "LAST");
  for (const auto& s : schedules) {
    std::cout << fmt::format("{:<16} {:<16} {:<16} {:<18} {:<28} {}\n", cell(s, "name"), cell(s, "plan"),
                             cell(s, "cron"), cell(s, "time_zone"), next_of(s), cell(s, "last_outcome"));
  }
  return 0;
}

int schedule_show(const GlobalOptions& global, const std::string& name, bool json) {
  auto body = ask(global, kiln::v1::Query::SCHEDULE, name);
  if (!body) return fail(body.error());
  if (json) return emit(*body, "");
  const Json s = Json::parse(*body, nullptr, false);
  if (s.is_discarded()) return fail("the daemon's answer is not JSON");
  std::ostringstream out;
  out << fmt::format("schedule {} ({}), added by {} at {}\n", cell(s, "name"),
                     s.value("enabled", true) ? "enabled" : "disabled", cell(s, "created_by"), cell(s, "created"));
  out << fmt::format("  plan      {} ({}, sha256 {})\n", cell(s, "plan"), cell(s, "plan_path"),
                     cell(s, "plan_sha256").substr(0, 12));
  out << fmt::format("  when      \"{}\" in {}, jitter {} s, catch-up {}\n", cell(s, "cron"), cell(s, "time_zone"),
                     cell(s, "jitter_s"), cell(s, "catch_up"));
  out << fmt::format(
      "  on        {}, priority {}, max wall {}, queue timeout {}\n", target_of(s), cell(s, "priority"),
      s["max_wall_s"].is_null() ? "none" : format_duration(Seconds(s["max_wall_s"].get<double>())),
      s["queue_timeout_s"].is_null() ? "none" : format_duration(Seconds(s["queue_timeout_s"].get<double>())));
  if (s.contains("waiting")) out << "  waiting   " << s["waiting"].get<std::string>() << "\n";
  out << "  coming:\n";
  if (s["coming"].empty()) out << "    (none)\n";
  for (const auto& c : s["coming"]) {
    out << fmt::format("    {:<26} {}{}\n", cell(c, "local"), cell(c, "fire"),
                       c["starts"] != c["fire"] ? " (starts " + cell(c, "starts") + " with jitter)" : "");
  }
  out << "  fires so far (latest last):\n";
  if (s["fires"].empty()) out << "    (none yet)\n";
  for (const auto& f : s["fires"]) {
    const std::string what = f["run"].is_null() ? cell(f, "outcome") : "run " + cell(f, "run");
    const std::string detail = f.value("detail", "");
    out << fmt::format("    {:<26} {:<10} {}\n", cell(f, "local"), what, detail);
  }
  return emit(out.str(), "");
}

int schedule_change(const GlobalOptions& global, const std::string& name, const std::string& action) {
  using Request = kiln::v1::ScheduleRequest;
  kiln::v1::Envelope request;
  auto* change = request.mutable_schedule();
  change->set_name(name);
  change->set_action(action == "disable" ? Request::DISABLE : action == "enable" ? Request::ENABLE : Request::REMOVE);
  auto body = call(global, std::move(request));
  if (!body) return fail(body.error());
  const Json s = Json::parse(*body, nullptr, false);
  std::cout << fmt::format("schedule {} {}", name, action == "remove" ? "removed" : action + "d");
  if (action == "enable") std::cout << fmt::format("; next fire {}", next_of(s));
  std::cout << "\n";
  return 0;
}

}  // namespace kiln::cli
