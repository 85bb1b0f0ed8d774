// Scheduler: add, disable, enable and remove requests, and the JSON that
// `kiln schedule list|show` prints.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "daemon/scheduler.hpp"
#include "daemon/sha256.hpp"
#include "schedule/fire_times.hpp"
#include "testplans/loader.hpp"

namespace kiln::daemon {

namespace {

constexpr std::size_t kMaxPlanPathBytes = 4096;
constexpr std::size_t kMaxRacks = 256;
constexpr std::size_t kMaxNameBytes = 64;
constexpr std::int32_t kMaxPriority = 1000;
constexpr std::uint32_t kMaxWaitS = 30 * 24 * 3600;
constexpr std::uint32_t kMaxJitterS = 12 * 3600;
constexpr int kComingFires = 5;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

nlohmann::ordered_json optional_json(const std::optional<std::uint32_t>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

Status check_rack_name(const std::string& rack) {
  if (rack.empty() || rack.size() > kMaxNameBytes || !std::all_of(rack.begin(), rack.end(), is_name_char)) {
    return make_error(ErrorCode::invalid_argument, "rack \"{}\": 1–64 of A-Z a-z 0-9 . _ -", rack.substr(0, 80));
  }
  return {};
}

}  // namespace

Status check_schedule_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes || !std::all_of(name.begin(), name.end(), is_name_char) ||
      name.front() == '.' || name.front() == '-') {
    return make_error(ErrorCode::invalid_argument,
                      "schedule name \"{}\": 1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit",
                      name.substr(0, 80));
  }
  return {};
}

Scheduler::Entry* Scheduler::find(const std::string& name) {
  for (auto& [id, entry] : entries_) {
    if (entry.row.name == name) return &entry;
  }
  return nullptr;
}

const Scheduler::Entry* Scheduler::find(const std::string& name) const {
  return const_cast<Scheduler*>(this)->find(name);
}

Result<store::ScheduleRow> Scheduler::validate_add(const kiln::v1::ScheduleRequest& request,
                                                   const std::string& actor) const {
  KILN_TRY(check_schedule_name(request.name()));
  store::ScheduleRow row;
  row.name = request.name();
  const std::string& path = request.plan_path();
  if (path.size() > kMaxPlanPathBytes ||
      std::any_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return make_error(ErrorCode::invalid_argument, "plan_path must be at most {} bytes with no control characters",
                      kMaxPlanPathBytes);
  }
  plan::LoadResult loaded = plan::load_plan(request.plan_text(), path.empty() ? "plan" : path, registry_);
  if (!loaded.plan) {
    std::string errors;
    for (std::size_t i = 0; i < loaded.diagnostics.size() && i < 5; ++i) {
      errors += "\n  " + loaded.diagnostics[i].to_string();
    }
    return make_error(ErrorCode::invalid_argument, "the plan has {} error(s):{}", loaded.diagnostics.size(), errors);
  }
  row.plan_name = loaded.plan->name;
  row.plan_path = path;
  row.plan_text = request.plan_text();
  KILN_TRY_ASSIGN(auto cron, schedule::CronExpression::parse(request.cron()));
  row.cron = cron.text();
  KILN_TRY(schedule::find_time_zone(request.time_zone()));
  row.time_zone = request.time_zone();
  KILN_TRY_ASSIGN(auto catch_up, schedule::parse_catch_up(request.catch_up().empty() ? "skip" : request.catch_up()));
  row.catch_up = schedule::to_string(catch_up);
  if (static_cast<std::size_t>(request.racks_size()) > kMaxRacks) {
    return make_error(ErrorCode::invalid_argument, "at most {} racks", kMaxRacks);
  }
  for (const auto& rack : request.racks()) {
    KILN_TRY(check_rack_name(rack));
    if (std::find(row.racks.begin(), row.racks.end(), rack) == row.racks.end()) row.racks.push_back(rack);
  }
  if (!request.sku().empty()) {
    if (request.sku().size() > kMaxNameBytes || !std::all_of(request.sku().begin(), request.sku().end(), is_name_char))
      return make_error(ErrorCode::invalid_argument, "sku \"{}\": 1–64 of A-Z a-z 0-9 . _ -",
                        request.sku().substr(0, 80));
    row.sku = request.sku();
  }
  if (request.priority() < -kMaxPriority || request.priority() > kMaxPriority) {
    return make_error(ErrorCode::invalid_argument, "priority must be from {} to {}", -kMaxPriority, kMaxPriority);
  }
  row.priority = request.priority();
  if (request.has_max_wall_s()) {
    if (request.max_wall_s() == 0 || request.max_wall_s() > kMaxWaitS)
      return make_error(ErrorCode::invalid_argument, "max wall time must be from 1 s to 30 days");
    row.max_wall_s = request.max_wall_s();
  }
  if (request.has_queue_timeout_s()) {
    if (request.queue_timeout_s() == 0 || request.queue_timeout_s() > kMaxWaitS)
      return make_error(ErrorCode::invalid_argument, "queue timeout must be from 1 s to 30 days");
    row.queue_timeout_s = request.queue_timeout_s();
  }
  if (request.jitter_s() > kMaxJitterS) return make_error(ErrorCode::invalid_argument, "jitter must be at most 12h");
  row.jitter_s = request.jitter_s();
  row.created_by = actor.empty() ? "unknown" : actor;
  row.created_unix_ms = now_ms();
  row.handled_until_unix_ms = row.created_unix_ms;  // fire times from now on
  return row;
}

void Scheduler::request(const kiln::v1::ScheduleRequest& request, const std::string& actor, Reply reply) {
  using Action = kiln::v1::ScheduleRequest;
  if (request.action() == Action::ADD) {
    add(request, actor, std::move(reply));
  } else if (request.action() == Action::DISABLE || request.action() == Action::ENABLE ||
             request.action() == Action::REMOVE) {
    change(request, actor, std::move(reply));
  } else {
    reply(make_error(ErrorCode::invalid_argument, "schedule request without an action (add, disable, enable, remove)"));
  }
}

void Scheduler::add(const kiln::v1::ScheduleRequest& request, const std::string& actor, Reply reply) {
  if (entries_.size() >= kMaxSchedules) {
    reply(make_error(ErrorCode::conflict, "at most {} schedules: remove one first", kMaxSchedules));
    return;
  }
  if (find(request.name()) != nullptr) {
    reply(make_error(ErrorCode::conflict, "a schedule named {} exists: remove it first, or choose another name",
                     request.name()));
    return;
  }
  auto row = validate_add(request, actor);
  if (!row) {
    reply(row.error());
    return;
  }
  auto entry = make_entry(*row);
  if (!entry) {
    reply(entry.error());
    return;
  }
  if (!next_fire_ms(*entry, row->created_unix_ms)) {
    reply(make_error(ErrorCode::invalid_argument, "cron \"{}\" never fires", row->cron));
    return;
  }
  auto id = std::make_shared<std::uint64_t>(0);
  writer_.submit(
      [row = *row, id](store::Writer& w) -> Status {
        KILN_TRY_ASSIGN(*id, w.add_schedule(row));
        return {};
      },
      [this, id, entry = std::move(entry).value(), actor, reply = std::move(reply)](const Status& status) mutable {
        if (!status) {
          reply(status.error());
          return;
        }
        entry.row.id = *id;
        const auto [it, inserted] = entries_.emplace(*id, std::move(entry));
        spdlog::info("schedule {} added by {}: {} ({}) {}", it->second.row.name, actor, it->second.row.cron,
                     it->second.row.time_zone, it->second.row.plan_path);
        audit("schedule_added", actor, 0,
              {{"schedule", it->second.row.name},
               {"cron", it->second.row.cron},
               {"time_zone", it->second.row.time_zone},
               {"plan_sha256", sha256_hex(it->second.row.plan_text)}});
        reply(entry_json(it->second));
      });
}

void Scheduler::change(const kiln::v1::ScheduleRequest& request, const std::string& actor, Reply reply) {
  using Action = kiln::v1::ScheduleRequest;
  Entry* entry = find(request.name());
  if (entry == nullptr) {
    reply(make_error(ErrorCode::not_found, "no schedule {}", request.name()));
    return;
  }
  const std::string name = entry->row.name;
  const std::uint64_t id = entry->row.id;
  const Action::Action action = request.action();
  const std::int64_t now = now_ms();
  writer_.submit(
      [name, id, action, now](store::Writer& w) -> Status {
        if (action == Action::REMOVE) return w.remove_schedule(name, now);
        KILN_TRY(w.set_schedule_enabled(name, action == Action::ENABLE));
        // Fire times that passed while it was disabled are not run when it is enabled again.
        if (action == Action::ENABLE) return w.set_schedule_handled(id, now);
        return {};
      },
      [this, id, name, action, now, actor, reply = std::move(reply)](const Status& status) {
        if (!status) {
          reply(status.error());
          return;
        }
        auto it = entries_.find(id);
        if (it == entries_.end()) {
          reply(make_error(ErrorCode::not_found, "no schedule {}", name));
          return;
        }
        const std::string done = action == Action::REMOVE   ? "removed"
                                 : action == Action::ENABLE ? "enabled"
                                                            : "disabled";
        audit("schedule_" + done, actor, 0, {{"schedule", name}});
        spdlog::info("schedule {}: {} by {}", name, done, actor);
        nlohmann::ordered_json answer;
        if (action == Action::REMOVE) {
          answer = entry_json(it->second);
          answer["removed"] = true;
          entries_.erase(it);
        } else {
          Entry& entry = it->second;
          entry.row.enabled = action == Action::ENABLE;
          if (!entry.pending || !entry.pending->in_flight) entry.pending.reset();
          if (entry.row.enabled) entry.row.handled_until_unix_ms = std::max(entry.row.handled_until_unix_ms, now);
          answer = entry_json(entry);
        }
        reply(std::move(answer));
      });
}

nlohmann::ordered_json Scheduler::entry_json(const Entry& entry) const {
  const store::ScheduleRow& row = entry.row;
  nlohmann::ordered_json j{{"id", row.id},
                           {"name", row.name},
                           {"plan", row.plan_name},
                           {"plan_path", row.plan_path},
                           {"cron", row.cron},
                           {"time_zone", row.time_zone},
                           {"racks", row.racks},
                           {"sku", row.sku},
                           {"priority", row.priority},
                           {"max_wall_s", optional_json(row.max_wall_s)},
                           {"queue_timeout_s", optional_json(row.queue_timeout_s)},
                           {"jitter_s", row.jitter_s},
                           {"catch_up", row.catch_up},
                           {"enabled", row.enabled},
                           {"created_by", row.created_by},
                           {"next_fire", nullptr},
                           {"next_fire_local", nullptr},
                           {"last_fire", nullptr},
                           {"last_run", nullptr},
                           {"last_outcome", nullptr}};
  if (row.enabled) {
    if (entry.pending) {
      j["next_fire"] = format_iso8601(entry.pending->fire_ms);
      j["next_fire_local"] = schedule::format_local(*entry.zone, schedule::instant_of_unix_ms(entry.pending->fire_ms));
      if (!entry.pending->waiting.empty()) j["waiting"] = entry.pending->waiting;
    } else if (auto due = next_due_ms(entry)) {
      j["next_fire"] = format_iso8601(*due);
      j["next_fire_local"] = schedule::format_local(*entry.zone, schedule::instant_of_unix_ms(*due));
    }
  }
  if (!entry.recent.empty()) {
    const store::ScheduleFireRow& last = entry.recent.back();
    j["last_fire"] = format_iso8601(last.fire_unix_ms);
    if (last.run_id != 0) j["last_run"] = last.run_id;
    j["last_outcome"] = last.outcome == "submitted" ? fmt::format("run {} submitted{}{}", last.run_id,
                                                                  last.detail.empty() ? "" : ": ", last.detail)
                                                    : fmt::format("{}: {}", last.outcome, last.detail);
  }
  return j;
}

nlohmann::ordered_json Scheduler::list_json() const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::vector<const Entry*> sorted;
  for (const auto& [id, entry] : entries_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) { return a->row.name < b->row.name; });
  for (const Entry* entry : sorted) list.push_back(entry_json(*entry));
  return nlohmann::ordered_json{{"schedules", std::move(list)}};
}

Result<nlohmann::ordered_json> Scheduler::show_json(const std::string& name) const {
  const Entry* entry = find(name);
  if (entry == nullptr) return make_error(ErrorCode::not_found, "no schedule {}", name);
  nlohmann::ordered_json j = entry_json(*entry);
  j["plan_sha256"] = sha256_hex(entry->row.plan_text);
  j["created"] = format_iso8601(entry->row.created_unix_ms);
  nlohmann::ordered_json coming = nlohmann::ordered_json::array();
  if (entry->row.enabled) {
    std::int64_t after = entry->row.handled_until_unix_ms;
    for (int i = 0; i < kComingFires; ++i) {
      auto fire = next_fire_ms(*entry, after);
      if (!fire) break;
      const auto due = schedule::with_jitter(schedule::instant_of_unix_ms(*fire),
                                             std::chrono::seconds(entry->row.jitter_s), entry->row.id);
      coming.push_back({{"fire", format_iso8601(*fire)},
                        {"starts", format_iso8601(schedule::unix_ms_of(due))},
                        {"local", schedule::format_local(*entry->zone, schedule::instant_of_unix_ms(*fire))}});
      after = *fire;
    }
  }
  j["coming"] = std::move(coming);
  nlohmann::ordered_json fires = nlohmann::ordered_json::array();
  for (const auto& f : entry->recent) {
    nlohmann::ordered_json one{
        {"fire", format_iso8601(f.fire_unix_ms)},
        {"local", schedule::format_local(*entry->zone, schedule::instant_of_unix_ms(f.fire_unix_ms))},
        {"outcome", f.outcome},
        {"run", f.run_id == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.run_id)},
        {"detail", f.detail},
        {"decided", format_iso8601(f.decided_unix_ms)}};
    fires.push_back(std::move(one));
  }
  j["fires"] = std::move(fires);
  return j;
}

}  // namespace kiln::daemon
