#include "daemon/live_feed.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "metrics/catalog.hpp"
#include "schema/enums.hpp"

namespace kiln::daemon {

namespace {

using SteadyNow = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(100);
// Verdicts are committed by the writer thread shortly after a phase ends; a
// second read a little later catches what the first one raced.
constexpr auto kVerdictReread = std::chrono::seconds(2);
constexpr std::size_t kEndedRunsKept = 50;

bool is_bad(const std::string& verdict) { return verdict == "fail" || verdict == "error"; }

// A stored verdict (pass, marginal, …) as the feed carries it.
kiln::v1::LiveVerdict live_verdict(const std::string& verdict) {
  if (verdict == "pass") return kiln::v1::LIVE_VERDICT_PASS;
  if (verdict == "marginal") return kiln::v1::LIVE_VERDICT_MARGINAL;
  if (verdict == "inconclusive") return kiln::v1::LIVE_VERDICT_INCONCLUSIVE;
  if (verdict == "error") return kiln::v1::LIVE_VERDICT_ERROR;
  if (verdict == "fail") return kiln::v1::LIVE_VERDICT_FAIL;
  return kiln::v1::LIVE_VERDICT_RUNNING;
}

}  // namespace

LiveFeed::LiveFeed(boost::asio::any_io_executor executor, ProgressFn progress, FactsFn facts)
    : executor_(executor), timer_(executor), progress_(std::move(progress)), facts_(std::move(facts)) {
  arm();
}

LiveFeed::~LiveFeed() { stop(); }

void LiveFeed::stop() {
  if (stopped_) return;
  stopped_ = true;
  alive_.reset();
  timer_.cancel();
}

void LiveFeed::arm() {
  if (stopped_) return;
  timer_.expires_after(kTick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the feed is going away
    tick();
  });
}

void LiveFeed::subscribe(const std::shared_ptr<Session>& session, double max_hz) {
  const double hz = max_hz <= 0 ? kDefaultHz : std::clamp(max_hz, 0.2, 10.0);
  const auto interval = std::chrono::milliseconds(static_cast<long long>(1000.0 / hz));
  for (auto& s : subscribers_) {
    if (s.session.lock() == session) {
      s.interval = interval;
      return;
    }
  }
  Subscriber subscriber;
  subscriber.session = session;
  subscriber.interval = interval;
  subscriber.next_due = SteadyNow::now();  // the snapshot goes out on the next tick
  subscribers_.push_back(subscriber);
  spdlog::info("client {} subscribed to the live feed at {:.1f} Hz", session->peer(), hz);
}

LiveFeed::Chip& LiveFeed::chip(const std::string& serial) {
  auto [it, inserted] = chips_.try_emplace(serial);
  if (inserted) it->second.live.set_serial(serial);
  return it->second;
}

LiveFeed::Snapshot LiveFeed::snapshot() const {
  Snapshot out;
  out.chips.reserve(chips_.size());
  for (const auto& [serial, chip] : chips_) out.chips.push_back(chip.live);
  std::sort(out.chips.begin(), out.chips.end(),
            [](const kiln::v1::ChipLive& a, const kiln::v1::ChipLive& b) { return a.serial() < b.serial(); });
  out.metric_names = metric_names_;
  for (const auto& [id, run] : runs_) {
    if (run.live.state() != kiln::v1::LIVE_RUN_ENDED) out.runs.push_back(run.live);
  }
  for (const auto& [id, rack] : racks_) out.racks.push_back(rack.live);
  out.subscribers = subscribers_.size();
  return out;
}

std::uint32_t LiveFeed::metric_index(const std::string& name) {
  auto [it, inserted] = metric_ids_.try_emplace(name, static_cast<std::uint32_t>(metric_names_.size()));
  if (inserted) metric_names_.push_back(name);
  return it->second;
}

std::uint64_t LiveFeed::raise(kiln::v1::AlarmKind kind, std::string message, const std::string& serial,
                              const std::string& rack, std::uint64_t run_id, std::string step) {
  StoredAlarm stored;
  stored.alarm.set_id(next_alarm_id_++);
  stored.alarm.set_kind(kind);
  stored.alarm.set_serial(serial);
  stored.alarm.set_rack(rack);
  stored.alarm.set_run_id(run_id);
  stored.alarm.set_step(std::move(step));
  stored.alarm.set_message(std::move(message));
  stored.alarm.set_unix_ms(unix_ms_now());
  stored.alarm.set_updated_unix_ms(stored.alarm.unix_ms());
  stored.version = bump();
  const std::uint64_t id = stored.alarm.id();
  alarms_.push_back(std::move(stored));
  while (alarms_.size() > kAlarmsKept) alarms_.pop_front();
  return id;
}

void LiveFeed::alarm_failure(Run& run, std::uint64_t run_id, const Chip& chip, const std::string& message,
                             bool cleared) {
  const std::string& serial = chip.live.serial();
  auto known = run.alarms.find(serial);
  if (known == run.alarms.end()) {
    if (cleared) return;  // nothing was raised, so nothing to withdraw
    run.alarms[serial] = raise(kiln::v1::ALARM_FAILURE, message, serial, chip.live.rack(), run_id, chip.live.step());
    return;
  }
  for (auto& a : alarms_) {
    if (a.alarm.id() != known->second) continue;
    if (a.alarm.message() == message && a.alarm.cleared() == cleared) return;
    if (a.alarm.cleared() && !cleared) {  // raised again after it was withdrawn: it needs a look again
      a.alarm.clear_acknowledged_by();
      a.alarm.set_acknowledged_unix_ms(0);
    }
    a.alarm.set_message(message);
    a.alarm.set_cleared(cleared);
    a.alarm.set_updated_unix_ms(unix_ms_now());
    a.version = bump();
    return;
  }
}

void LiveFeed::show_concerns(Run& run, std::uint64_t run_id, const RunProgress& progress) {
  std::set<std::string> now;
  for (const RunProgress::Concern& concern : progress.concerns) {
    now.insert(concern.serial);
    Chip& c = chip(concern.serial);
    const auto shown = concern.failed ? kiln::v1::LIVE_VERDICT_FAIL : kiln::v1::LIVE_VERDICT_OVER_LIMIT;
    if (c.live.run_id() == run_id && (c.live.verdict() != shown || c.live.concern() != concern.reason)) {
      c.live.set_verdict(shown);
      c.live.set_concern(concern.reason);
      c.version = bump();
    }
    alarm_failure(run, run_id, c,
                  fmt::format("{}: {} in run {}: {}", concern.serial, concern.failed ? "failed" : "over a limit so far",
                              run_id, concern.reason),
                  false);
  }
  // The judge did not confirm what the live view showed (the step ended
  // inside its limits): the chip runs on, its alarm is withdrawn.
  for (const std::string& serial : run.concerned) {
    if (now.contains(serial)) continue;
    Chip& c = chip(serial);
    if (c.live.run_id() == run_id) {
      c.live.set_verdict(kiln::v1::LIVE_VERDICT_RUNNING);
      c.live.clear_concern();
      c.version = bump();
    }
    alarm_failure(run, run_id, c,
                  fmt::format("{}: cleared in run {}: the judge found it inside its limits", serial, run_id), true);
  }
  run.concerned = std::move(now);
}

void LiveFeed::on_rack_registered(const kiln::v1::RegisterRack& registration) {
  auto [it, inserted] = racks_.try_emplace(registration.rack());
  Rack& rack = it->second;
  const bool was_lost = !inserted && !rack.live.connected();
  rack.live.set_rack(registration.rack());
  rack.live.set_connected(true);
  rack.live.set_backend(registration.backend());
  rack.live.set_changed_unix_ms(unix_ms_now());
  rack.version = bump();
  rack.silent = false;
  if (was_lost) {
    raise(kiln::v1::ALARM_AGENT_BACK, fmt::format("agent of rack {} reconnected", registration.rack()), "",
          registration.rack(), 0, "");
  }
  for (const auto& info : registration.chips()) {
    Chip& c = chip(info.serial());
    c.live.set_rack(registration.rack());
    c.live.set_slot(info.slot());
    c.live.set_sku(info.sku());
    c.live.mutable_peaks()->clear();
    for (const auto& [key, value] : info.peaks()) (*c.live.mutable_peaks())[key] = value;
    c.version = bump();
    c.registered_version = c.version;
  }
}

void LiveFeed::on_rack_lost(const std::string& name) {
  auto it = racks_.find(name);
  if (it == racks_.end()) return;
  it->second.live.set_connected(false);
  it->second.live.set_changed_unix_ms(unix_ms_now());
  it->second.version = bump();
  raise(kiln::v1::ALARM_AGENT_LOST, fmt::format("agent of rack {} disconnected", name), "", name, 0, "");
}

void LiveFeed::on_run_submitted(std::uint64_t run_id) {
  Run& run = runs_[run_id];
  run.live.set_run_id(run_id);
  run.live.set_state(kiln::v1::LIVE_RUN_QUEUED);
  run.version = bump();
}

void LiveFeed::on_batch(const kiln::v1::AgentBatch& batch, const std::vector<store::ChunkDigest>& chunks) {
  Rack& rack = racks_[batch.rack()];
  rack.last_batch = SteadyNow::now();
  rack.silent = false;
  for (const auto& sample : batch.samples()) {
    Chip& c = sampled(batch.rack(), sample.serial(), sample.run_id(), sample.step_index(), sample.t_s(),
                      sample.wall_unix_ms());
    for (const auto& v : sample.values()) {
      c.live.add_metric_index(metric_index(v.name()));
      c.live.add_metric_value(v.value());
      // Verdicts so far come from the judge's rules (RunManager::progress);
      // throttling is not a verdict, only news.
      if (v.name() == metrics::kThrottled)
        throttling(c, v.value() != 0, sample.serial(), batch.rack(), sample.run_id());
    }
    rack.busy = true;
  }
  for (const store::ChunkDigest& chunk : chunks) {
    Chip& c =
        sampled(batch.rack(), chunk.serial, chunk.run_id, chunk.step_index, chunk.last_t_s, chunk.last_wall_unix_ms);
    for (const store::ChunkDigest::Metric& m : chunk.metrics) {
      c.live.add_metric_index(metric_index(m.name));
      c.live.add_metric_value(m.stats.last);
      if (m.name != metrics::kThrottled) continue;
      // Throttled at any point of the chunk raises the alarm; the last value is the state.
      if (m.stats.count > 0 && m.stats.max != 0) throttling(c, true, chunk.serial, batch.rack(), chunk.run_id);
      c.throttled = m.stats.last != 0;
    }
    rack.busy = true;
  }
}

LiveFeed::Chip& LiveFeed::sampled(const std::string& rack, const std::string& serial, std::uint64_t run_id,
                                  std::uint32_t step_index, double t_s, std::int64_t wall_unix_ms) {
  Chip& c = chip(serial);
  Run& run = runs_[run_id];
  if (run.live.run_id() == 0) {  // a run this feed has not seen submitted (daemon restarted under it)
    run.live.set_run_id(run_id);
    run.live.set_state(kiln::v1::LIVE_RUN_RUNNING);
    run.version = bump();
  }
  if (!run.names_asked) {
    run.names_asked = true;
    load_facts(run_id);
  }
  if (c.live.run_id() != run_id) {
    c.live.set_verdict(kiln::v1::LIVE_VERDICT_RUNNING);
    c.live.clear_concern();
    c.throttled = false;
  }
  // The step's own name once the store told us; until then the phase's.
  auto named = run.step_names.find(step_index);
  if (named != run.step_names.end()) {
    if (c.live.step() != named->second) c.live.set_step(named->second);
  } else if (c.live.step_index() != step_index || c.live.step().empty()) {
    c.live.set_step(run.live.step());
  }
  c.live.set_rack(rack);
  c.live.set_run_id(run_id);
  c.live.set_step_index(step_index);
  c.live.set_wall_unix_ms(wall_unix_ms);
  c.live.set_t_s(t_s);
  c.live.clear_metric_index();
  c.live.clear_metric_value();
  c.version = bump();
  return c;
}

void LiveFeed::throttling(Chip& c, bool throttled, const std::string& serial, const std::string& rack,
                          std::uint64_t run_id) {
  if (throttled && !c.throttled) {
    raise(kiln::v1::ALARM_THROTTLING, fmt::format("{} throttling in {} (run {})", serial, c.live.step(), run_id),
          serial, rack, run_id, c.live.step());
  }
  c.throttled = throttled;
}

void LiveFeed::tick() {
  const auto now = SteadyNow::now();
  poll_runs(now);
  watch_silence(now);
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    auto session = it->session.lock();
    if (!session || !session->is_open()) {
      it = subscribers_.erase(it);
      continue;
    }
    if (now >= it->next_due && (!it->primed || it->sent_version < version_)) {
      send_update(*it, *session);
      it->next_due = now + it->interval;
    }
    ++it;
  }
  arm();
}

void LiveFeed::poll_runs(SteadyNow::time_point now) {
  bool any_running = false;
  for (auto& [id, run] : runs_) {
    if (run.live.state() == kiln::v1::LIVE_RUN_ENDED) continue;
    auto progress = progress_(id);
    kiln::v1::RunLive next = run.live;
    if (!progress) {
      next.set_state(kiln::v1::LIVE_RUN_ENDED);
      next.clear_failing();
      run.reload_at = now + kVerdictReread;
      load_facts(id);
    } else {
      const RunProgress& p = *progress;
      next.set_state(p.state == RunProgress::State::queued ? kiln::v1::LIVE_RUN_QUEUED : kiln::v1::LIVE_RUN_RUNNING);
      next.set_queue_position(p.queue_position);
      next.set_waiting(p.waiting);
      next.set_phase(p.phase);
      next.set_phases(p.phases);
      next.set_step(p.step);
      next.set_elapsed_s(p.elapsed_s);
      next.set_total_s(p.total_s);
      next.clear_failing();
      next.clear_over_limit();
      next.clear_lost_racks();
      for (const auto& s : p.failing()) next.add_failing(s);
      for (const auto& s : p.over_limit()) next.add_over_limit(s);
      for (const auto& r : p.lost_racks) next.add_lost_racks(r);
      any_running = any_running || next.state() == kiln::v1::LIVE_RUN_RUNNING;
      if (next.phase() > 1 && next.phase() != run.verdicts_phase) {
        run.verdicts_phase = next.phase();
        run.reload_at = now + kVerdictReread;
        load_facts(id);
      }
      show_concerns(run, id, p);
    }
    if (next.SerializeAsString() != run.live.SerializeAsString()) {
      run.live = std::move(next);
      run.version = bump();
    }
    if (run.reload_at && now >= *run.reload_at) {
      run.reload_at.reset();
      load_facts(id);
    }
  }
  if (!any_running) {
    for (auto& [name, rack] : racks_) rack.busy = false;
  }
  // Forget the oldest ended runs beyond a few dozen.
  std::size_t ended = 0;
  for (const auto& [id, run] : runs_) ended += run.live.state() == kiln::v1::LIVE_RUN_ENDED ? 1 : 0;
  for (auto it = runs_.begin(); ended > kEndedRunsKept && it != runs_.end();) {
    if (it->second.live.state() == kiln::v1::LIVE_RUN_ENDED && !it->second.reload_at) {
      it = runs_.erase(it);
      --ended;
    } else {
      ++it;
    }
  }
}

void LiveFeed::watch_silence(SteadyNow::time_point now) {
  for (auto& [name, rack] : racks_) {
    if (!rack.live.connected() || !rack.busy || rack.silent) continue;
    if (now - rack.last_batch < kSilentAfter) continue;
    rack.silent = true;
    raise(kiln::v1::ALARM_AGENT_SILENT,
          fmt::format("no data from the agent of rack {} for {} s during a run", name, kSilentAfter.count()), "", name,
          0, "");
  }
}

void LiveFeed::load_facts(std::uint64_t run_id) {
  if (!facts_) return;
  std::weak_ptr<bool> alive = alive_;
  facts_(run_id, [this, alive, run_id](RunFacts facts) {
    if (alive.expired()) return;
    apply_facts(run_id, facts);
  });
}

void LiveFeed::apply_facts(std::uint64_t run_id, const RunFacts& facts) {
  auto run_it = runs_.find(run_id);
  const bool ended = run_it == runs_.end() || run_it->second.live.state() == kiln::v1::LIVE_RUN_ENDED;
  if (run_it != runs_.end() && !facts.step_names.empty() && run_it->second.step_names.empty()) {
    run_it->second.step_names = facts.step_names;
    for (auto& [serial, c] : chips_) {
      if (c.live.run_id() != run_id) continue;
      auto named = facts.step_names.find(c.live.step_index());
      if (named != facts.step_names.end() && c.live.step() != named->second) {
        c.live.set_step(named->second);
        c.version = bump();
      }
    }
  }
  for (const auto& [serial, verdict] : facts.verdicts) {
    auto it = chips_.find(serial);
    if (it == chips_.end() || it->second.live.run_id() != run_id || verdict.empty()) continue;
    Chip& c = it->second;
    // While running, a passing step leaves the chip shown as running; only a
    // worse verdict shows through. Once the run ended, its verdict is final.
    // While running, the live view's concerns (show_concerns) decide what
    // shows beyond "running"; once the run ended, its verdict is final.
    if (!ended) {
      if (is_bad(verdict) && c.live.verdict() != kiln::v1::LIVE_VERDICT_FAIL) {
        c.live.set_verdict(kiln::v1::LIVE_VERDICT_FAIL);
        c.version = bump();
      }
      continue;
    }
    const kiln::v1::LiveVerdict shown = live_verdict(verdict);
    if (shown != c.live.verdict()) {
      c.live.set_verdict(shown);
      c.live.clear_concern();
      c.version = bump();
    }
    if (run_it == runs_.end()) continue;
    Run& run = run_it->second;
    if (is_bad(verdict)) {
      // The final word replaces what the live view said.
      alarm_failure(run, run_id, c, fmt::format("{}: verdict {} in run {}", serial, verdict, run_id), false);
    } else if (run.alarms.contains(serial)) {
      alarm_failure(run, run_id, c,
                    fmt::format("{}: verdict {} in run {}: the failure was not confirmed", serial, verdict, run_id),
                    true);
    }
  }
}

void LiveFeed::send_update(Subscriber& subscriber, Session& session) {
  const std::uint64_t since = subscriber.sent_version;
  const bool full = !subscriber.primed;
  std::vector<const Chip*> changed;
  for (const auto& [serial, c] : chips_) {
    if (full || c.version > since) changed.push_back(&c);
  }
  std::size_t pos = 0;
  bool first = true;
  do {
    kiln::v1::Envelope envelope;
    auto* update = envelope.mutable_live_update();
    update->set_full(full);
    update->set_sent_unix_ms(unix_ms_now());
    for (const auto& name : metric_names_) update->add_metric_names(name);
    if (first) {
      for (const auto& [id, run] : runs_) {
        if (full || run.version > since) *update->add_runs() = run.live;
      }
      for (const auto& [name, rack] : racks_) {
        if (full || rack.version > since) *update->add_racks() = rack.live;
      }
      for (const auto& a : alarms_) {
        if (full || a.version > since) *update->add_alarms() = a.alarm;
      }
    }
    const std::size_t end = std::min(changed.size(), pos + kChipsPerFrame);
    for (; pos < end; ++pos) {
      auto* out = update->add_chips();
      *out = changed[pos]->live;
      // Peaks do not change between registrations: only snapshots carry them.
      if (!full && changed[pos]->registered_version <= since) out->mutable_peaks()->clear();
    }
    update->set_more(pos < changed.size());
    session.send(std::move(envelope));
    first = false;
  } while (pos < changed.size());
  subscriber.sent_version = version_;
  subscriber.primed = true;
}

}  // namespace kiln::daemon
