// RunManager: the fair queue and the rack leases (docs/scheduling.md). A run
// starts only once the store gave it a lease on every rack it needs; its
// leases are renewed while it runs, ended behind its end, and a lease that
// expires ends its run with the reason. Every lease taken, renewal refused,
// lease ended and lease expired is in the audit trail.
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "core/clock.hpp"
#include "core/units.hpp"
#include "daemon/run_manager.hpp"
#include "schedule/fire_times.hpp"
#include "schedule/run_queue.hpp"

namespace kiln::daemon {
namespace {

schedule::Instant instant(std::int64_t unix_ms) { return schedule::Instant(std::chrono::seconds(unix_ms / 1000)); }

const date::time_zone& utc() {
  static const date::time_zone* zone = schedule::find_time_zone("UTC").value();
  return *zone;
}

schedule::RackHold to_hold(const store::LeaseRow& lease) {
  schedule::RackHold hold;
  hold.kind = lease.kind == "run"           ? schedule::RackHold::Kind::run_lease
              : lease.kind == "reservation" ? schedule::RackHold::Kind::reservation
                                            : schedule::RackHold::Kind::maintenance;
  hold.run_id = lease.run_id;
  hold.by = lease.holder;
  hold.reason = lease.reason;
  if (lease.expires_unix_ms > 0) hold.until = instant(lease.expires_unix_ms);
  return hold;
}

nlohmann::ordered_json lease_json(const store::LeaseRow& lease) {
  nlohmann::ordered_json j{{"rack", lease.rack}, {"kind", lease.kind}};
  if (lease.run_id != 0) j["run"] = lease.run_id;
  j["holder"] = lease.holder;
  if (!lease.reason.empty()) j["reason"] = lease.reason;
  if (lease.id != 0) {
    j["lease"] = lease.id;
    j["since"] = format_iso8601(lease.acquired_unix_ms);
    j["until"] = format_iso8601(lease.expires_unix_ms);
  }
  return j;
}

}  // namespace

std::int64_t RunManager::lease_expiry(const Run& run, std::int64_t now) const {
  std::int64_t until = now + options_.lease_ttl.count();
  if (run.max_wall_s && run.started_unix_ms > 0) {
    until = std::min<std::int64_t>(until, run.started_unix_ms + std::int64_t{*run.max_wall_s} * 1000);
  } else if (run.max_wall_s) {
    until = std::min<std::int64_t>(until, now + std::int64_t{*run.max_wall_s} * 1000);
  }
  return until;
}

void RunManager::audit_lease(const std::string& kind, const store::LeaseRow& lease, nlohmann::json extra) {
  if (!audit_) return;
  nlohmann::json detail{{"rack", lease.rack}, {"lease", lease.id}, {"kind", lease.kind}};
  if (lease.expires_unix_ms > 0) detail["until"] = format_iso8601(lease.expires_unix_ms);
  if (!lease.reason.empty()) detail["reason"] = lease.reason;
  if (extra.is_object()) detail.update(extra);
  audit_(AuditEvent{kind, lease.holder, "", lease.run_id, detail.dump()});
}

void RunManager::schedule() {
  if (!ready_ || stopping_) return;
  const std::int64_t now = now_ms();
  std::vector<schedule::WaitingRun> runs;
  std::map<std::string, schedule::RackHold> holds;
  for (const auto& [rack, lease] : holds_) holds[rack] = to_hold(lease);
  for (const auto& run : waiting_) {
    schedule::WaitingRun w;
    w.id = run->id;
    w.priority = run->priority;
    w.queued_at = instant(run->queued_unix_ms);
    w.racks = run->racks;
    if (run->queue_timeout_s) w.queue_timeout = std::chrono::seconds(*run->queue_timeout_s);
    if (run->max_wall_s) w.max_wall = std::chrono::seconds(*run->max_wall_s);
    runs.push_back(std::move(w));
    for (const auto& rack : run->racks) {
      if (!holds.contains(rack) && context_.agents.find(rack) == nullptr) {
        holds[rack] = schedule::RackHold{schedule::RackHold::Kind::offline, 0, "", std::nullopt, ""};
      }
    }
  }
  if (runs.empty()) {
    waiting_reasons_.clear();
    return;
  }
  const schedule::QueueDecision decision =
      schedule::decide_queue(runs, holds, instant(now), schedule::QueueSettings{options_.aging}, utc());
  waiting_reasons_ = decision.waiting;
  const auto take = [&](std::uint64_t id) {
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const auto& r) { return r->id == id; });
    std::unique_ptr<Run> run = std::move(*it);
    waiting_.erase(it);
    return run;
  };
  for (const auto& [id, why] : decision.timed_out) {
    take(id);
    end_queued(id, "error", fmt::format("left the queue: {}", why));
  }
  for (const std::uint64_t id : decision.start) start_run(take(id));
}

void RunManager::start_run(std::unique_ptr<Run> run) {
  const std::int64_t now = now_ms();
  store::NewLease lease;
  lease.kind = "run";
  lease.run_id = run->id;
  lease.holder = run->submitted_by.empty() ? "kilnd" : run->submitted_by;
  lease.reason = fmt::format("run {} ({})", run->id, run->plan->name);
  lease.now_unix_ms = now;
  lease.expires_unix_ms = lease_expiry(*run, now);
  // Its racks are held while the store takes the leases: nothing else starts on them.
  for (const auto& rack : run->racks) {
    store::LeaseRow pending;  // id 0: not in the store yet
    pending.rack = rack;
    pending.kind = "run";
    pending.run_id = run->id;
    pending.holder = lease.holder;
    pending.acquired_unix_ms = now;
    holds_[rack] = pending;
  }
  auto rows = std::make_shared<std::vector<store::LeaseRow>>();
  auto owned = std::make_shared<std::unique_ptr<Run>>(std::move(run));
  context_.writer.submit(
      [rows, racks = (*owned)->racks, lease](store::Writer& w) -> Status {
        KILN_TRY_ASSIGN(*rows, w.acquire_leases(racks, lease));
        return {};
      },
      [this, rows, owned, now](const Status& status) {
        std::unique_ptr<Run> run = std::move(*owned);
        for (const auto& rack : run->racks) holds_.erase(rack);
        const auto pending_abort = aborts_pending_.find(run->id);
        std::optional<std::string> abort_reason;
        if (pending_abort != aborts_pending_.end()) {
          abort_reason = pending_abort->second;
          aborts_pending_.erase(pending_abort);
        }
        if (!status && abort_reason) {
          end_queued(run->id, "aborted", *abort_reason);
          schedule();
          return;
        }
        if (!status) {
          // The store refused (a hold this daemon did not know of, or an I/O
          // error): the run waits on, and the next decision says why.
          spdlog::warn("run {}: could not take its leases: {}", run->id, status.error().message);
          waiting_.push_back(std::move(run));
          schedule();
          return;
        }
        if (stopping_) return;  // it stays queued in the database; its leases end by expiry
        for (const auto& row : *rows) {
          holds_[row.rack] = row;
          run->leases[row.rack] = row.id;
          audit_lease("lease_taken", row);
        }
        run->started_unix_ms = now;
        const std::uint64_t id = run->id;
        launch(std::move(run));
        if (abort_reason) {
          if (const auto driver = drivers_.find(id); driver != drivers_.end() && !driver->second->ended()) {
            if (auto aborted = driver->second->abort(*abort_reason); !aborted) {
              spdlog::error("run {}: abort asked for as it started failed: {}", id, aborted.error().message);
            }
          }
        }
      });
}

void RunManager::launch(std::unique_ptr<Run> run) {
  // Chips' peak figures as their agents registered them (a run queued by an
  // earlier daemon knows only its chips).
  for (auto& chip : run->chips) {
    if (!chip.peaks.empty()) continue;
    if (const ConnectedRack* rack = context_.agents.find(chip.rack)) {
      for (const auto& c : rack->registration.chips()) {
        if (c.serial() == chip.serial) chip.peaks = {c.peaks().begin(), c.peaks().end()};
      }
    }
  }
  const std::uint64_t id = run->id;
  auto driver =
      std::make_shared<RunDriver>(context_, std::move(run), [this](std::uint64_t ended) { on_run_ended(ended); });
  drivers_[id] = driver;
  driver->start();
}

void RunManager::on_run_ended(std::uint64_t run_id) {
  // Behind the run's end in the writer's queue: a rack is free only once its run is recorded ended.
  const std::int64_t now = now_ms();
  context_.writer.submit(
      [run_id, now](store::Writer& w) -> Status {
        return w.end_leases(run_id, 0, fmt::format("run {} ended", run_id), now).transform([](int) {});
      },
      [this, run_id](const Status& status) {
        if (!status) spdlog::error("run {}: could not end its leases: {}", run_id, status.error().message);
        for (auto it = holds_.begin(); it != holds_.end();) {
          if (it->second.kind == "run" && it->second.run_id == run_id && status) {
            audit_lease("lease_ended", it->second, {{"end_reason", fmt::format("run {} ended", run_id)}});
            it = holds_.erase(it);
          } else {
            ++it;
          }
        }
        schedule();
      });
  // Not from inside the driver's own call: it is dropped once that returns.
  boost::asio::post(context_.executor, [this, run_id] { drivers_.erase(run_id); });
}

void RunManager::resume_leases(std::vector<std::unique_ptr<Run>> running) {
  struct Kept {
    std::map<std::uint64_t, std::vector<store::LeaseRow>> leases;  // run → its leases
    std::map<std::uint64_t, std::string> failed;                   // run → why it could not keep them
    std::vector<store::LeaseRow> active;                           // every active lease after
  };
  auto kept = std::make_shared<Kept>();
  std::vector<std::tuple<std::uint64_t, std::vector<std::string>, std::int64_t, std::string>> wanted;
  const std::int64_t now = now_ms();
  for (const auto& run : running) {
    wanted.emplace_back(run->id, run->racks, lease_expiry(*run, now),
                        fmt::format("run {} ({})", run->id, run->plan->name));
  }
  auto owned = std::make_shared<std::vector<std::unique_ptr<Run>>>(std::move(running));
  context_.writer.submit(
      [kept, wanted, now](store::Writer& w) -> Status {
        // A lease left by the earlier daemon is kept (renewed, the same fencing
        // token); a rack whose lease ended is taken again, if free.
        for (const auto& [id, racks, until, reason] : wanted) {
          KILN_TRY_ASSIGN(const auto active, w.active_leases());
          KILN_TRY(w.renew_leases(id, 0, until).transform([](int) {}));
          std::vector<std::string> missing;
          for (const auto& rack : racks) {
            // (A structured binding is not captured by [&] before C++20 as clang reads it: name the run.)
            const std::uint64_t run_id = id;
            const bool has = std::any_of(active.begin(), active.end(), [&](const store::LeaseRow& l) {
              return l.rack == rack && l.kind == "run" && l.run_id == run_id;
            });
            if (!has) missing.push_back(rack);
          }
          if (!missing.empty()) {
            store::NewLease lease{"run", id, "kilnd", reason, now, until};
            auto taken = w.acquire_leases(missing, lease);
            if (!taken) {
              kept->failed[id] = taken.error().message;
              continue;
            }
          }
        }
        // A run that was not left running holds no rack (a stopping daemon may
        // have taken leases for a run it never started).
        std::set<std::uint64_t> resumed;
        for (const auto& entry : wanted) resumed.insert(std::get<0>(entry));
        KILN_TRY_ASSIGN(const auto before, w.active_leases());
        for (const auto& lease : before) {
          if (lease.kind == "run" && !resumed.contains(lease.run_id)) {
            KILN_TRY(
                w.end_leases(0, lease.id, "its run was not running when kilnd started", now).transform([](int) {}));
          }
        }
        KILN_TRY_ASSIGN(kept->active, w.active_leases());
        for (const auto& lease : kept->active) {
          if (lease.kind == "run") kept->leases[lease.run_id].push_back(lease);
        }
        return {};
      },
      [this, kept, owned](const Status& status) {
        if (!status) spdlog::error("the leases of resumed runs could not be read or kept: {}", status.error().message);
        for (const auto& lease : kept->active) holds_[lease.rack] = lease;
        ready_ = true;
        for (auto& run : *owned) {
          const auto failed = kept->failed.find(run->id);
          const auto leases = kept->leases.find(run->id);
          if (!status || failed != kept->failed.end() || leases == kept->leases.end()) {
            const std::string why =
                fmt::format("could not keep its rack leases after a daemon restart: {}",
                            !status ? status.error().message
                                    : (failed != kept->failed.end() ? failed->second : std::string("no lease found")));
            end_queued(run->id, "error", why);
            on_run_ended(run->id);
            continue;
          }
          for (const auto& lease : leases->second) {
            run->leases[lease.rack] = lease.id;
            run->started_unix_ms = run->started_unix_ms > 0 ? run->started_unix_ms : lease.acquired_unix_ms;
            audit_lease("lease_kept", lease, {{"after", "daemon restart"}});
          }
          launch(std::move(run));
        }
        arm_sweep();
        schedule();
      });
}

void RunManager::arm_sweep() {
  if (stopping_) return;
  sweep_timer_.expires_after(options_.sweep_interval);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    sweep();
  });
}

void RunManager::sweep() {
  struct Swept {
    std::map<std::uint64_t, Result<int>> renewed;  // run → leases renewed
    std::vector<store::LeaseRow> expired;
    std::vector<store::LeaseRow> active;
  };
  const std::int64_t now = now_ms();
  std::vector<std::tuple<std::uint64_t, std::int64_t, std::size_t>> renewals;  // run, until, leases held
  for (const auto& [id, driver] : drivers_) {
    if (driver->ended()) continue;
    const std::int64_t until = lease_expiry(driver->run(), now);
    if (until > now) renewals.emplace_back(id, until, driver->run().leases.size());
  }
  auto swept = std::make_shared<Swept>();
  context_.writer.submit(
      [swept, renewals, now](store::Writer& w) -> Status {
        for (const auto& [id, until, held] : renewals) swept->renewed.emplace(id, w.renew_leases(id, 0, until));
        KILN_TRY_ASSIGN(swept->expired, w.expire_leases(now));
        KILN_TRY_ASSIGN(swept->active, w.active_leases());
        return {};
      },
      [this, swept, renewals, now](const Status& status) {
        if (stopping_) return;
        for (const auto& [id, until, held] : renewals) {
          const auto& renewed = swept->renewed.at(id);
          if (renewed && static_cast<std::size_t>(*renewed) == held) continue;
          const std::string why =
              renewed ? fmt::format("{} of its {} lease(s) could not be renewed: they ended", held - *renewed, held)
                      : renewed.error().message;
          spdlog::error("run {}: lease renewal failed: {}", id, why);
          for (const auto& [rack, lease] : holds_) {
            if (lease.kind == "run" && lease.run_id == id) audit_lease("lease_renew_failed", lease, {{"error", why}});
          }
        }
        if (!status) {
          spdlog::error("lease sweep failed: {}", status.error().message);
          arm_sweep();
          return;
        }
        // The store's word, but racks of runs whose leases are being taken stay theirs.
        std::erase_if(holds_, [](const auto& entry) { return entry.second.id != 0; });
        for (const auto& lease : swept->active) holds_.try_emplace(lease.rack, lease);
        for (const auto& lease : swept->expired) {
          audit_lease("lease_expired", lease);
          if (lease.kind != "run") continue;
          const auto driver = drivers_.find(lease.run_id);
          if (driver == drivers_.end() || driver->second->ended()) continue;
          const Run& run = driver->second->run();
          const bool wall = run.max_wall_s && now >= run.started_unix_ms + std::int64_t{*run.max_wall_s} * 1000;
          driver->second->end_for(
              fmt::format("its lease on rack {} expired at {}{}", lease.rack, format_iso8601(lease.expires_unix_ms),
                          wall ? fmt::format(": the run reached its maximum wall time of {}",
                                             format_duration(Seconds(static_cast<double>(*run.max_wall_s))))
                               : std::string(": it was not renewed in time")));
        }
        arm_sweep();
        schedule();
      });
}

void RunManager::hold_rack(const kiln::v1::RackHoldRequest& request, const std::string& actor, const std::string& peer,
                           HoldReply reply) {
  using Action = kiln::v1::RackHoldRequest;
  constexpr std::size_t kMaxReason = 200;
  const std::string& rack = request.rack();
  if (rack.empty() || rack.size() > 64 || !std::all_of(rack.begin(), rack.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      })) {
    return reply(make_error(ErrorCode::invalid_argument, "a rack id is 1 to 64 letters, digits, '-', '_', '.'"));
  }
  if (request.reason().size() > kMaxReason || std::any_of(request.reason().begin(), request.reason().end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20;
      })) {
    return reply(
        make_error(ErrorCode::invalid_argument, "a reason is at most {} bytes with no control characters", kMaxReason));
  }
  const bool reserve = request.action() == Action::RESERVE;
  const bool maintenance_on = request.action() == Action::MAINTENANCE_ON;
  const std::int64_t now = now_ms();
  if (reserve || maintenance_on) {
    const auto longest = reserve ? options_.max_reservation : options_.max_maintenance;
    std::int64_t seconds = request.duration_s();
    if (maintenance_on && seconds == 0) seconds = longest.count();
    if (seconds <= 0 || seconds > longest.count()) {
      return reply(make_error(ErrorCode::invalid_argument, "{} lasts from 1 s to {} (asked: {} s)",
                              reserve ? "a reservation" : "maintenance",
                              format_duration(Seconds(static_cast<double>(longest.count()))), request.duration_s()));
    }
    if (request.reason().empty()) return reply(make_error(ErrorCode::invalid_argument, "say why (--reason)"));
    if (!ready_) return reply(make_error(ErrorCode::unavailable, "kilnd is still taking back its leases"));
    store::NewLease lease{reserve ? "reservation" : "maintenance",
                          0,
                          actor.empty() ? "unknown" : actor,
                          request.reason(),
                          now,
                          now + seconds * 1000};
    auto rows = std::make_shared<std::vector<store::LeaseRow>>();
    context_.writer.submit(
        [rows, rack, lease](store::Writer& w) -> Status {
          KILN_TRY_ASSIGN(*rows, w.acquire_leases({rack}, lease));
          return {};
        },
        [this, rows, peer, reply = std::move(reply)](const Status& status) {
          if (!status) return reply(status.error());
          const store::LeaseRow& row = rows->front();
          holds_[row.rack] = row;
          if (audit_) {
            audit_(AuditEvent{row.kind == "reservation" ? "rack_reserved" : "rack_maintenance_on", row.holder, peer, 0,
                              nlohmann::json(lease_json(row)).dump()});
          }
          reply(lease_json(row));
          schedule();
        });
    return;
  }
  if (request.action() != Action::RELEASE && request.action() != Action::MAINTENANCE_OFF) {
    return reply(
        make_error(ErrorCode::invalid_argument, "unknown rack hold action {}", static_cast<int>(request.action())));
  }
  const std::string kind = request.action() == Action::RELEASE ? "reservation" : "maintenance";
  const auto held = holds_.find(rack);
  if (held == holds_.end() || held->second.kind != kind || held->second.id == 0) {
    return reply(make_error(ErrorCode::not_found, "rack {} is not {}", rack,
                            kind == "reservation" ? "reserved" : "in maintenance"));
  }
  const store::LeaseRow row = held->second;
  const std::string why = fmt::format("{} by {}", kind == "reservation" ? "released" : "maintenance ended",
                                      actor.empty() ? "unknown" : actor);
  context_.writer.submit(
      [id = row.id, why, now](store::Writer& w) -> Status {
        return w.end_leases(0, id, why, now).transform([](int) {});
      },
      [this, row, why, actor, peer, reply = std::move(reply)](const Status& status) {
        if (!status) return reply(status.error());
        if (auto it = holds_.find(row.rack); it != holds_.end() && it->second.id == row.id) holds_.erase(it);
        if (audit_) {
          nlohmann::json detail = lease_json(row);
          detail["end_reason"] = why;
          audit_(AuditEvent{row.kind == "reservation" ? "rack_released" : "rack_maintenance_off", actor, peer, 0,
                            detail.dump()});
        }
        reply(nlohmann::ordered_json{{"rack", row.rack}, {"kind", "free"}, {"ended", why}});
        schedule();
      });
}

nlohmann::ordered_json RunManager::holds_json() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& [rack, lease] : holds_) out.push_back(lease_json(lease));
  return out;
}

}  // namespace kiln::daemon
