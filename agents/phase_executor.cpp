#include "agents/phase_executor.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agents/patterns/pattern_factory.hpp"
#include "testplans/param_wire.hpp"

namespace kiln::agent {

PhaseExecutor::PhaseExecutor(std::vector<std::unique_ptr<device::Chip>> chips, Outbox& outbox, ChipPhaseOptions options,
                             std::unique_ptr<device::Fabric> fabric)
    : outbox_(outbox), options_(std::move(options)), fabric_(std::move(fabric)), tasks_(options_.loops) {
  for (auto& chip : chips) {
    auto slot = std::make_unique<Slot>();
    slot->chip = std::move(chip);
    slots_.push_back(std::move(slot));
  }
}

PhaseExecutor::~PhaseExecutor() { stop_all(); }

PhaseExecutor::Slot* PhaseExecutor::find(const std::string& serial) {
  for (auto& slot : slots_) {
    if (slot->chip->identity().serial == serial) return slot.get();
  }
  return nullptr;
}

bool PhaseExecutor::running(const Slot& slot) const {
  std::lock_guard lock(idle_mutex_);
  return slot.running;
}

void PhaseExecutor::reject(const kiln::v1::PhaseDispatch& dispatch, const std::string& serial,
                           const std::string& note) {
  // Answer every step anyway: the daemon waits for a result per chip and step.
  spdlog::warn("run {} phase {}: {}: {}", dispatch.run_id(), dispatch.phase_index(), serial, note);
  for (const auto& step : dispatch.steps()) {
    kiln::v1::ChipStepResult result;
    result.set_serial(serial);
    result.set_run_id(dispatch.run_id());
    result.set_step_index(step.step_index());
    result.set_completed(false);
    result.set_note(note);
    outbox_.push_result(std::move(result));
  }
}

PhaseNeeds PhaseExecutor::needs(const kiln::v1::PhaseDispatch& dispatch) const {
  // Asked of the same factory that builds the steps' patterns; a step whose
  // params do not read needs nothing here (its runner rejects it).
  const PatternFactory& factory = options_.factory != nullptr ? *options_.factory : PatternFactory::builtin();
  PhaseNeeds out;
  for (const auto& step : dispatch.steps()) {
    const PatternEntry* entry = factory.find(step.pattern());
    if (entry == nullptr || !entry->needs) continue;
    auto params = plan::read_params(step.params());
    if (!params) continue;
    const PhaseNeeds n = entry->needs(*params);
    out.collective = out.collective || n.collective;
    out.vote = out.vote || n.vote;
  }
  return out;
}

void PhaseExecutor::prepare_collectives(SharedPhase& phase) {
  if (!fabric_) {
    phase.collectives.unavailable_reason = fmt::format("the {} backend cannot run collectives", options_.backend);
    return;
  }
  std::vector<std::string> serials;
  std::size_t taking_part = 0;
  for (const auto& slot : slots_) {
    serials.push_back(slot->chip->identity().serial);
    const auto& wanted_serials = phase.dispatch.serials();
    if (std::find(wanted_serials.begin(), wanted_serials.end(), serials.back()) != wanted_serials.end()) ++taking_part;
  }
  if (taking_part != slots_.size()) {
    phase.collectives.unavailable_reason = fmt::format(
        "a collective needs every chip of the rack: this phase has {} of its {}", taking_part, slots_.size());
    return;
  }
  phase.rendezvous = std::make_unique<CollectiveRendezvous>(*fabric_, std::move(serials));
  phase.collectives.rendezvous = phase.rendezvous.get();
}

void PhaseExecutor::prepare_vote(SharedPhase& phase) {
  // The voters: this rack's chips the phase runs on, each with its SKU.
  std::vector<std::string> serials, skus;
  for (const std::string& serial : phase.dispatch.serials()) {
    if (Slot* slot = find(serial)) {
      serials.push_back(serial);
      skus.push_back(slot->chip->sku().name);
    }
  }
  phase.vote = std::make_unique<VoteBoard>(std::move(serials), std::move(skus));
  phase.collectives.vote = phase.vote.get();
}

std::uint64_t PhaseExecutor::fencing_token() const {
  std::lock_guard lock(mutex_);
  return highest_token_;
}

void PhaseExecutor::start(const kiln::v1::PhaseDispatch& dispatch) {
  std::lock_guard lock(mutex_);
  // Token 0: a daemon without leases; anything else must not be older than the newest seen.
  if (dispatch.fencing_token() != 0 && dispatch.fencing_token() < highest_token_) {
    const std::string why = fmt::format(
        "refused: fencing token {} is older than {}, the newest lease seen for rack {} (another run holds the rack)",
        dispatch.fencing_token(), highest_token_, outbox_.rack());
    for (const std::string& serial : dispatch.serials()) reject(dispatch, serial, why);
    return;
  }
  highest_token_ = std::max(highest_token_, dispatch.fencing_token());
  auto phase = std::make_shared<SharedPhase>();
  phase->dispatch = dispatch;
  phase->collectives.tile_checks = &tile_checks_;
  phase->collectives.dispatched = SteadyClock::now();
  const PhaseNeeds wanted = needs(dispatch);
  if (wanted.collective) prepare_collectives(*phase);
  if (wanted.vote) prepare_vote(*phase);
  std::shared_ptr<const SharedPhase> shared = phase;
  struct Launch {
    Slot* slot;
    std::shared_ptr<ChipTask> previous;
    std::uint64_t generation;
  };
  std::vector<Launch> launches;
  for (const std::string& serial : dispatch.serials()) {
    Slot* slot = find(serial);
    if (slot == nullptr) {
      reject(dispatch, serial, fmt::format("chip {} is not in rack {}", serial, outbox_.rack()));
      continue;
    }
    if (stopped_) {
      reject(dispatch, serial, "aborted: the agent is stopping");
      continue;
    }
    if (std::any_of(launches.begin(), launches.end(), [slot](const Launch& l) { return l.slot == slot; })) {
      spdlog::warn("{}: run {} phase {} names the chip twice; it runs once", serial, dispatch.run_id(),
                   dispatch.phase_index());
      continue;
    }
    if (resend_finished(*slot, dispatch)) continue;
    if (running(*slot)) {
      if (slot->run_id == dispatch.run_id() && slot->phase_index == dispatch.phase_index() &&
          slot->repeat_index == dispatch.repeat_index()) {
        spdlog::info("{}: run {} phase {} is already running", serial, dispatch.run_id(), dispatch.phase_index());
        continue;
      }
      spdlog::warn("{}: run {} phase {} replaces run {} phase {} still running", serial, dispatch.run_id(),
                   dispatch.phase_index(), slot->run_id, slot->phase_index);
    }
    // start() runs on the link's io thread, and a chip may be inside a tick
    // that runs whole GEMMs: waiting here would stall heartbeats and acks.
    // The new phase's task waits for the old one to end before it touches
    // the chip, so the chip's side does the waiting.
    std::shared_ptr<ChipTask> previous = std::move(slot->task);
    if (previous) previous->request_stop();
    slot->run_id = dispatch.run_id();
    slot->phase_index = dispatch.phase_index();
    slot->repeat_index = dispatch.repeat_index();
    launches.push_back({slot, std::move(previous), 0});
  }
  {
    // Every chip of the dispatch is running before any is launched: a chip
    // that finishes at once must not find the rack idle while the next is
    // still to be marked.
    std::lock_guard idle(idle_mutex_);
    for (Launch& launch : launches) {
      launch.slot->running = true;
      launch.slot->finished.clear();
      launch.generation = ++launch.slot->generation;
    }
  }
  for (Launch& launch : launches) {
    Slot* slot = launch.slot;
    slot->task = tasks_.launch(
        [this, slot, shared, generation = launch.generation](std::stop_token stop) {
          std::vector<kiln::v1::ChipStepResult> reported;
          run_chip_phase(*slot->chip, shared->dispatch, slot->state, options_, outbox_, std::move(stop),
                         shared->collectives, &reported);
          bool rack_idle = false;
          {
            // Only the latest phase of the slot says it is idle: an older
            // one ends while its successor is still to run.
            std::lock_guard idle(idle_mutex_);
            if (slot->generation == generation) {
              slot->running = false;
              slot->finished = std::move(reported);
              rack_idle = std::none_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->running; });
            }
          }
          idle_cv_.notify_all();
          // Not while the agent stops: its link's final flush sends what is left.
          if (rack_idle && idle_listener_ && !stopping_) idle_listener_();
        },
        std::move(launch.previous));
  }
  spdlog::info("run {} phase {}: {} step(s) started on {} chip(s)", dispatch.run_id(), dispatch.phase_index(),
               dispatch.steps_size(), dispatch.serials_size());
}

bool PhaseExecutor::resend_finished(const Slot& slot, const kiln::v1::PhaseDispatch& dispatch) {
  std::vector<kiln::v1::ChipStepResult> again;
  {
    std::lock_guard idle(idle_mutex_);
    if (slot.running || slot.finished.empty() || slot.run_id != dispatch.run_id() ||
        slot.phase_index != dispatch.phase_index() || slot.repeat_index != dispatch.repeat_index()) {
      return false;
    }
    again = slot.finished;
  }
  spdlog::info("{}: run {} phase {} already ran here; its {} result(s) are sent again", slot.chip->identity().serial,
               dispatch.run_id(), dispatch.phase_index(), again.size());
  for (auto& result : again) outbox_.push_result(std::move(result));
  return true;
}

void PhaseExecutor::abort(std::uint64_t run_id) {
  std::lock_guard lock(mutex_);
  for (auto& slot : slots_) {
    if (slot->run_id == run_id && running(*slot) && slot->task) slot->task->request_stop();
  }
}

void PhaseExecutor::stop_all() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  stopping_ = true;
  for (auto& slot : slots_) {
    if (slot->task) slot->task->request_stop();
  }
  tasks_.join_all();
}

bool PhaseExecutor::busy() const {
  std::lock_guard lock(idle_mutex_);
  return std::any_of(slots_.begin(), slots_.end(), [](const auto& slot) { return slot->running; });
}

bool PhaseExecutor::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(idle_mutex_);
  return idle_cv_.wait_for(lock, timeout, [this] {
    return std::none_of(slots_.begin(), slots_.end(), [](const auto& slot) { return slot->running; });
  });
}

std::vector<const device::Chip*> PhaseExecutor::chips() const {
  std::vector<const device::Chip*> out;
  for (const auto& slot : slots_) out.push_back(slot->chip.get());
  return out;
}

}  // namespace kiln::agent
