#include "daemon/run_manager.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "schedule/run_queue.hpp"

namespace kiln::daemon {

RunManager::RunManager(boost::asio::any_io_executor executor, IngestWriter& writer, AgentDirectory& agents,
                       const plan::PatternRegistry& registry, const metrics::MetricCatalog& catalog,
                       RunQueueOptions options)
    : context_{executor, writer, agents, catalog, std::chrono::minutes(5), {}},
      registry_(registry),
      options_(std::move(options)),
      sweep_timer_(executor) {}

RunManager::~RunManager() { sweep_timer_.cancel(); }

std::int64_t RunManager::now_ms() const { return options_.now_unix_ms ? options_.now_unix_ms() : unix_ms_now(); }

std::shared_ptr<RunDriver> RunManager::driver_for_rack(const std::string& rack) const {
  const auto held = holds_.find(rack);
  if (held == holds_.end() || held->second.kind != "run") return nullptr;
  const auto driver = drivers_.find(held->second.run_id);
  return driver == drivers_.end() ? nullptr : driver->second;
}

std::vector<const Run*> RunManager::queue_order() const {
  std::vector<const Run*> order;
  for (const auto& r : waiting_) order.push_back(r.get());
  const auto now = schedule::Instant(std::chrono::seconds(now_ms() / 1000));
  const schedule::QueueSettings settings{options_.aging};
  const auto effective = [&](const Run* r) {
    schedule::WaitingRun w;
    w.priority = r->priority;
    w.queued_at = schedule::Instant(std::chrono::seconds(r->queued_unix_ms / 1000));
    return schedule::effective_priority(w, now, settings);
  };
  std::stable_sort(order.begin(), order.end(), [&](const Run* a, const Run* b) {
    const double pa = effective(a);
    const double pb = effective(b);
    if (pa != pb) return pa > pb;
    if (a->queued_unix_ms != b->queued_unix_ms) return a->queued_unix_ms < b->queued_unix_ms;
    return a->id < b->id;
  });
  return order;
}

std::optional<RunProgress> RunManager::progress(std::uint64_t run_id) const {
  const auto order = queue_order();
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i]->id != run_id) continue;
    RunProgress queued;
    queued.queue_position = static_cast<std::uint32_t>(i + 1);
    if (auto why = waiting_reasons_.find(run_id); why != waiting_reasons_.end()) queued.waiting = why->second;
    return queued;
  }
  if (auto driver = drivers_.find(run_id); driver != drivers_.end() && !driver->second->ended()) {
    return driver->second->progress();
  }
  // Its leases are being taken: it starts in a moment.
  for (const auto& [rack, hold] : holds_) {
    if (hold.kind == "run" && hold.run_id == run_id && hold.id == 0) {
      RunProgress starting;
      starting.waiting = "starting: taking its leases";
      return starting;
    }
  }
  return std::nullopt;
}

void RunManager::end_queued(std::uint64_t run_id, const std::string& status, const std::string& reason) {
  context_.writer.submit([run_id, status, reason,
                          now = now_ms()](store::Writer& w) { return w.set_run_status(run_id, status, reason, now); },
                         [run_id, status, reason, hook = context_.on_run_recorded](const Status& s) {
                           // Otherwise it stays queued in the database, and the next start queues it again.
                           if (!s) {
                             spdlog::error("run {}: could not record that it is {}: {}", run_id, status,
                                           s.error().message);
                             return;
                           }
                           spdlog::info("run {} {} ({})", run_id, status, reason);
                           if (hook) hook(run_id);
                         });
}

Status RunManager::abort(std::uint64_t run_id, const std::string& reason) {
  const std::string why = reason.empty() ? "aborted by user" : reason;
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if ((*it)->id != run_id) continue;
    waiting_.erase(it);
    waiting_reasons_.erase(run_id);
    end_queued(run_id, "aborted", why);
    schedule();  // what waited behind it may start
    return {};
  }
  for (const auto& [rack, hold] : holds_) {
    if (hold.kind == "run" && hold.run_id == run_id && hold.id == 0) {
      aborts_pending_[run_id] = why;  // its leases are being taken: aborted once they are
      return {};
    }
  }
  const auto driver = drivers_.find(run_id);
  if (driver == drivers_.end() || driver->second->ended()) {
    return make_error(ErrorCode::conflict, "run {} is not queued or running", run_id);
  }
  return driver->second->abort(why);
}

void RunManager::on_batch_committed(const std::string& rack, const kiln::v1::AgentBatch& batch,
                                    const std::vector<store::ChunkDigest>& chunks) {
  if (auto driver = driver_for_rack(rack)) driver->on_batch_committed(rack, batch, chunks);
}

void RunManager::on_rack_lost(const std::string& rack) {
  if (stopping_) return;
  if (auto driver = driver_for_rack(rack)) driver->on_rack_lost(rack);
}

void RunManager::on_rack_registered(const kiln::v1::RegisterRack& registration) {
  if (stopping_) return;
  if (auto driver = driver_for_rack(registration.rack())) driver->on_rack_registered(registration);
  schedule();  // a run waiting for this rack's agent may start
}

void RunManager::on_stopping() {
  stopping_ = true;
  sweep_timer_.cancel();
  for (const auto& [id, driver] : drivers_) {
    if (!driver->ended()) driver->on_stopping();
  }
}

}  // namespace kiln::daemon
