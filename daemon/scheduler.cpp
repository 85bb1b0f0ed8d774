// Scheduler: loading schedules, catch-up at start, and firing them.
// (Requests and JSON: scheduler_requests.cpp.)
#include "daemon/scheduler.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "core/units.hpp"
#include "schedule/fire_times.hpp"
#include "testplans/loader.hpp"

namespace kiln::daemon {

Scheduler::Scheduler(boost::asio::any_io_executor executor, IngestWriter& writer, const AgentDirectory& agents,
                     const plan::PatternRegistry& registry, Submit submit, SchedulerOptions options)
    : executor_(executor),
      writer_(writer),
      agents_(agents),
      registry_(registry),
      submit_(std::move(submit)),
      options_(std::move(options)),
      timer_(executor) {}

Scheduler::~Scheduler() { stop(); }

std::int64_t Scheduler::now_ms() const { return options_.now_unix_ms ? options_.now_unix_ms() : unix_ms_now(); }

Result<Scheduler::Entry> Scheduler::make_entry(store::ScheduleRow row) const {
  Entry entry;
  KILN_TRY_ASSIGN(entry.cron, schedule::CronExpression::parse(row.cron));
  KILN_TRY_ASSIGN(entry.zone, schedule::find_time_zone(row.time_zone));
  KILN_TRY_ASSIGN(entry.catch_up, schedule::parse_catch_up(row.catch_up.empty() ? "skip" : row.catch_up));
  plan::LoadResult loaded = plan::load_plan(row.plan_text, row.plan_path.empty() ? row.name : row.plan_path, registry_);
  if (!loaded.plan) {
    return make_error(ErrorCode::invalid_argument, "its plan does not load any more: {}",
                      loaded.diagnostics.empty() ? "no plan" : loaded.diagnostics.front().to_string());
  }
  entry.plan_all_racks = loaded.plan->targets.all_racks;
  entry.plan_racks = loaded.plan->targets.racks;
  entry.plan_sku = loaded.plan->targets.sku;
  entry.row = std::move(row);
  return entry;
}

Status Scheduler::load(store::Reader& reader) {
  KILN_TRY_ASSIGN(auto rows, reader.schedules());
  const std::int64_t now = now_ms();
  started_ms_ = now;
  for (auto& row : rows) {
    const std::uint64_t id = row.id;
    const std::string name = row.name;
    auto entry = make_entry(std::move(row));
    if (!entry) {
      // Kept in the database as it is; a person fixes or removes it.
      spdlog::error("schedule {} is not loaded: {}", name, entry.error().message);
      continue;
    }
    if (auto fires = reader.schedule_fires(id, 0, std::numeric_limits<std::int64_t>::max(), kRecentFires)) {
      entry->recent.assign(fires->begin(), fires->end());
    }
    auto [it, inserted] = entries_.emplace(id, std::move(entry).value());
    if (it->second.row.enabled) catch_up(it->second, now);
  }
  if (!entries_.empty()) spdlog::info("{} schedule(s) loaded", entries_.size());
  return {};
}

void Scheduler::catch_up(Entry& entry, std::int64_t now) {
  const auto decision = schedule::decide_catch_up(entry.cron, *entry.zone, entry.catch_up,
                                                  schedule::instant_of_unix_ms(entry.row.handled_until_unix_ms),
                                                  schedule::instant_of_unix_ms(now));
  if (decision.missed == 0) return;
  spdlog::warn("schedule {}: {}", entry.row.name, decision.reason);
  if (decision.run) {
    entry.pending = Pending{schedule::unix_ms_of(*decision.run), now, "catch-up: " + decision.reason, false, ""};
    return;
  }
  // Skipped: recorded as the latest missed fire, so the digest says so and
  // handled_until moves past them (at once in memory, so that the first
  // tick does not find them due again).
  const std::int64_t latest = schedule::unix_ms_of(*decision.latest);
  entry.row.handled_until_unix_ms = latest;
  record(entry.row.id, store::ScheduleFireRow{entry.row.id, latest, 0, "missed", decision.reason, now});
}

void Scheduler::start() {
  stopped_ = false;
  boost::asio::post(executor_, [this] { tick(); });
}

void Scheduler::stop() {
  stopped_ = true;
  timer_.cancel();
}

void Scheduler::arm() {
  if (stopped_) return;
  timer_.expires_after(options_.tick_interval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

std::optional<std::int64_t> Scheduler::next_fire_ms(const Entry& entry, std::int64_t after_ms) const {
  auto next = schedule::next_fire_after(entry.cron, *entry.zone, schedule::instant_of_unix_ms(after_ms));
  if (!next) return std::nullopt;
  return schedule::unix_ms_of(*next);
}

std::optional<std::int64_t> Scheduler::next_due_ms(const Entry& entry) const {
  auto fire = next_fire_ms(entry, entry.row.handled_until_unix_ms);
  if (!fire) return std::nullopt;
  return schedule::unix_ms_of(schedule::with_jitter(schedule::instant_of_unix_ms(*fire),
                                                    std::chrono::seconds(entry.row.jitter_s), entry.row.id));
}

void Scheduler::on_rack_registered() {
  const std::int64_t now = now_ms();
  for (auto& [id, entry] : entries_) {
    if (entry.row.enabled && entry.pending && !entry.pending->in_flight) try_fire(entry, now);
  }
}

void Scheduler::tick() {
  if (stopped_) return;
  const std::int64_t now = now_ms();
  for (auto& [id, entry] : entries_) {
    if (!entry.row.enabled) continue;
    if (!entry.pending) {
      auto due = next_due_ms(entry);
      if (!due || *due > now) continue;
      const std::int64_t fire = *next_fire_ms(entry, entry.row.handled_until_unix_ms);
      // Fire times passed while the daemon ran but could not look (the host
      // stalled, the clock jumped): the latest runs, the others are missed.
      std::int64_t latest = fire;
      std::size_t skipped = 0;
      for (auto later = next_fire_ms(entry, latest); later && later <= now && skipped < 100000;
           later = next_fire_ms(entry, latest)) {
        latest = *later;
        ++skipped;
      }
      std::string note;
      if (skipped > 0) {
        note = fmt::format(
            "{} earlier fire time{} passed while the scheduler could not look (the clock jumped or "
            "the host stalled): only the latest runs",
            skipped, skipped == 1 ? "" : "s");
        spdlog::warn("schedule {}: {}", entry.row.name, note);
      }
      entry.pending = Pending{latest, now, note, false, ""};
    }
    if (!entry.pending->in_flight) try_fire(entry, now);
  }
  arm();
}

void Scheduler::try_fire(Entry& entry, std::int64_t now) {
  Pending& pending = *entry.pending;
  const store::ScheduleRow& row = entry.row;
  // Which racks: the schedule's, else the plan's; with neither (the plan
  // targets every rack) or a SKU, the connected racks that fit.
  std::vector<std::string> named =
      !row.racks.empty() ? row.racks : (entry.plan_all_racks ? std::vector<std::string>{} : entry.plan_racks);
  const std::string sku = !row.sku.empty() ? row.sku : entry.plan_sku.value_or("");
  std::vector<std::string> racks;
  std::vector<std::string> missing;
  const bool waited_enough = now - pending.due_ms >= options_.rack_wait.count();
  if (!named.empty()) {
    for (const auto& rack : named) {
      (agents_.find(rack) != nullptr ? racks : missing).push_back(rack);
    }
    if (!missing.empty() && !waited_enough) {
      pending.waiting =
          fmt::format("waiting for the agent{} of {}", missing.size() == 1 ? "" : "s", fmt::join(missing, ", "));
      return;
    }
  } else {
    if (now - started_ms_ < options_.startup_grace.count() && !waited_enough) {
      pending.waiting = "waiting for agents to register after the daemon's start";
      return;
    }
    for (const auto& rack : agents_.racks()) {
      const ConnectedRack* connected = agents_.find(rack);
      const auto& chips = connected->registration.chips();
      if (sku.empty() || std::any_of(chips.begin(), chips.end(), [&](const auto& chip) { return chip.sku() == sku; })) {
        racks.push_back(rack);
      }
    }
  }
  std::string detail = pending.note;
  const auto add_detail = [&detail](const std::string& more) { detail += (detail.empty() ? "" : "; ") + more; };
  if (!missing.empty()) {
    add_detail(fmt::format("not tested: {} (its agent was not connected for {} after the fire time)",
                           fmt::join(missing, ", "), format_duration(Seconds(options_.rack_wait.count() / 1000.0))));
  }
  if (racks.empty()) {
    add_detail(sku.empty() ? "no rack's agent is connected"
                           : fmt::format("no connected rack has chips of sku {}", sku));
    record(row.id, store::ScheduleFireRow{row.id, pending.fire_ms, 0, "refused", detail, now});
    return;
  }
  kiln::v1::SubmitRun request;
  request.set_plan_text(row.plan_text);
  request.set_plan_path(row.plan_path);
  for (const auto& rack : racks) request.add_racks(rack);
  if (!sku.empty()) request.set_sku(sku);
  request.set_priority(row.priority);
  if (row.max_wall_s) request.set_max_wall_s(*row.max_wall_s);
  if (row.queue_timeout_s) request.set_queue_timeout_s(*row.queue_timeout_s);
  pending.in_flight = true;
  pending.waiting.clear();
  const std::uint64_t id = row.id;
  store::ScheduleFireRow fire{id, pending.fire_ms, 0, "submitted", detail, now};
  ++outstanding_;
  submit_(request, "schedule:" + row.name, fire, [this, id, fire](kiln::v1::SubmitRunReply reply) mutable {
    --outstanding_;
    if (reply.run_id() != 0) {
      fire.run_id = reply.run_id();
      decided(id, std::move(fire));
      return;
    }
    std::string why = reply.error();
    for (const auto& d : reply.diagnostics()) {
      why += fmt::format("{}{}:{}:{}: {}", why.empty() ? "" : "; ", d.file(), d.line(), d.column(), d.message());
    }
    fire.outcome = "refused";
    fire.detail = fire.detail.empty() ? why : fire.detail + "; " + why;
    record(id, std::move(fire));
  });
}

void Scheduler::record(std::uint64_t schedule_id, store::ScheduleFireRow fire) {
  if (auto it = entries_.find(schedule_id); it != entries_.end() && it->second.pending) {
    it->second.pending->in_flight = true;
  }
  ++outstanding_;
  writer_.submit([fire](store::Writer& w) { return w.record_schedule_fire(fire); },
                 [this, schedule_id, fire](Status status) mutable {
                   --outstanding_;
                   if (!status && status.error().code == ErrorCode::conflict) {
                     // Decided before (by an earlier daemon): nothing more to do.
                     spdlog::warn("schedule {}: {}", schedule_id, status.error().message);
                     status = Status{};
                   }
                   if (!status) {
                     // Tried again at the next tick: a fire time is never given up unrecorded.
                     spdlog::error("schedule {}: could not record fire time {}: {}", schedule_id,
                                   format_iso8601(fire.fire_unix_ms), status.error().message);
                     if (auto it = entries_.find(schedule_id); it != entries_.end() && it->second.pending) {
                       it->second.pending->in_flight = false;
                     }
                     return;
                   }
                   decided(schedule_id, std::move(fire));
                 });
}

void Scheduler::decided(std::uint64_t schedule_id, store::ScheduleFireRow fire) {
  auto it = entries_.find(schedule_id);
  if (it != entries_.end()) {
    Entry& entry = it->second;
    entry.row.handled_until_unix_ms = std::max(entry.row.handled_until_unix_ms, fire.fire_unix_ms);
    if (entry.pending && entry.pending->fire_ms <= fire.fire_unix_ms) entry.pending.reset();
    entry.recent.push_back(fire);
    while (entry.recent.size() > kRecentFires) entry.recent.pop_front();
    const std::string local = schedule::format_local(*entry.zone, schedule::instant_of_unix_ms(fire.fire_unix_ms));
    if (fire.outcome == "submitted") {
      spdlog::info("schedule {}: fire time {} submitted run {}{}{}", entry.row.name, local, fire.run_id,
                   fire.detail.empty() ? "" : ": ", fire.detail);
    } else {
      spdlog::warn("schedule {}: fire time {} {}: {}", entry.row.name, local, fire.outcome, fire.detail);
    }
    audit(fire.outcome == "submitted" ? "schedule_fired" : "schedule_" + fire.outcome, "kilnd", fire.run_id,
          {{"schedule", entry.row.name},
           {"fire", format_iso8601(fire.fire_unix_ms)},
           {"fire_local", local},
           {"detail", fire.detail}});
  }
  if (options_.on_decided) options_.on_decided(fire);
}

void Scheduler::audit(const std::string& kind, const std::string& actor, std::uint64_t run_id, nlohmann::json detail) {
  if (audit_) audit_(AuditEvent{kind, actor, "", run_id, detail.dump()});
}

}  // namespace kiln::daemon
