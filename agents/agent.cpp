#include "agents/agent.hpp"

#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "agents/daemon_link.hpp"
#include "agents/outbox.hpp"
#include "agents/phase_executor.hpp"
#include "agents/registration.hpp"
#include "core/clock.hpp"
#include "device/builtin_backends.hpp"

namespace kiln::agent {

// What the link hands over, on the link's thread.
class Agent::Handler final : public LinkHandler {
 public:
  explicit Handler(PhaseExecutor& executor) : executor_(executor) {}

  void on_dispatch(const kiln::v1::PhaseDispatch& dispatch) override { executor_.start(dispatch); }

  void on_abort(const kiln::v1::PhaseAbort& abort) override {
    spdlog::info("run {}: abort ({})", abort.run_id(), abort.reason());
    executor_.abort(abort.run_id());
  }

  void on_fatal(const std::string& reason) override {
    std::lock_guard lock(mutex_);
    fatal_ = true;
    reason_ = reason;
  }

  bool fatal() const {
    std::lock_guard lock(mutex_);
    return fatal_;
  }
  std::string reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
  }

 private:
  PhaseExecutor& executor_;
  mutable std::mutex mutex_;
  bool fatal_ = false;
  std::string reason_;
};

namespace {

Status check_config(const AgentConfig& config) {
  if (config.rack.empty()) return make_error(ErrorCode::invalid_argument, "no rack id");
  if (config.host.empty()) return make_error(ErrorCode::invalid_argument, "no daemon host");
  if (config.port == 0) return make_error(ErrorCode::invalid_argument, "no daemon port");
  if (config.credential.empty()) return make_error(ErrorCode::invalid_argument, "empty credential");
  if (config.lab.find_rack(config.rack) == nullptr) {
    return make_error(ErrorCode::not_found, "rack '{}' is not in lab '{}'", config.rack, config.lab.name);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Agent>> Agent::create(AgentConfig config) {
  device::BackendRegistry backends;
  device::register_builtin_backends(backends);
  return create(std::move(config), backends);
}

Result<std::unique_ptr<Agent>> Agent::create(AgentConfig config, const device::BackendRegistry& backends) {
  KILN_TRY(check_config(config));
  KILN_TRY_ASSIGN(auto hardware, backends.make_rack(config.lab, *config.lab.find_rack(config.rack), config.catalog));
  return create(std::move(config), std::move(hardware.chips), std::move(hardware.fabric));
}

Result<std::unique_ptr<Agent>> Agent::create(AgentConfig config, std::vector<std::unique_ptr<device::Chip>> chips,
                                             std::unique_ptr<device::Fabric> fabric) {
  KILN_TRY(check_config(config));
  for (const auto& chip : chips) {
    if (!chip) return make_error(ErrorCode::invalid_argument, "null chip");
  }
  if (fabric && fabric->chip_count() != static_cast<int>(chips.size())) {
    return make_error(ErrorCode::invalid_argument, "the fabric links {} chips, the rack has {}", fabric->chip_count(),
                      chips.size());
  }
  std::unique_ptr<Spool> spool;
  if (config.spool) {
    KILN_TRY_ASSIGN(spool, Spool::open(*config.spool, config.rack));
    for (const auto& warning : spool->warnings()) spdlog::warn("spool: {}", warning);
  }
  return std::unique_ptr<Agent>(new Agent(std::move(config), std::move(chips), std::move(fabric), std::move(spool)));
}

Agent::Agent(AgentConfig config, std::vector<std::unique_ptr<device::Chip>> chips,
             std::unique_ptr<device::Fabric> fabric, std::unique_ptr<Spool> spool)
    : config_(std::move(config)), epoch_(static_cast<std::uint64_t>(unix_ms_now())), spool_(std::move(spool)) {
  const device::RackSpec& rack = *config_.lab.find_rack(config_.rack);
  // A new epoch per process, later than any the spool still holds batches of.
  if (spool_ && spool_->newest_epoch() >= epoch_) epoch_ = spool_->newest_epoch() + 1;
  outbox_ = std::make_unique<Outbox>(config_.rack, epoch_, config_.outbox, spool_.get());
  ChipPhaseOptions options;
  // Unpaced: 0, which the chips' loops take as "as fast as the host allows".
  options.time_scale = rack.backend != device::Backend::sim ? 1.0 : config_.lab.unpaced ? 0.0 : config_.lab.time_scale;
  options.backend = device::to_string(rack.backend);
  // Simulated chips never block a thread: the rack's loops run as fibers of one.
  options.loops = rack.backend == device::Backend::sim ? ChipLoops::fibers : ChipLoops::thread_per_chip;
  options.registry = config_.patterns.get();  // config_ outlives the executor
  options.factory = config_.pattern_factory.get();
  const std::map<std::string, double> rack_peaks = fabric ? collective_peaks(*fabric) : std::map<std::string, double>{};
  executor_ = std::make_unique<PhaseExecutor>(std::move(chips), *outbox_, options, std::move(fabric));
  handler_ = std::make_unique<Handler>(*executor_);

  LinkConfig link;
  link.host = config_.host;
  link.port = config_.port;
  link.rack = config_.rack;
  link.credential = config_.credential;
  link.tls = config_.tls;
  link.flush_interval = config_.flush_interval;
  kiln::v1::RegisterRack registration = make_registration(config_.lab, rack, executor_->chips(), epoch_, rack_peaks);
  // With a spool its key, the same for all its epochs: kilnd then takes
  // the spooled batches of earlier epochs from this process (DESIGN §8).
  registration.set_epoch_key(spool_ ? spool_->epoch_key() : random_epoch_key());
  link_ = std::make_unique<DaemonLink>(link, std::move(registration), *outbox_, *handler_);
  // The daemon goes on to the next phase when every chip reported: the
  // rack's last results go out now, not at the next flush interval.
  executor_->set_idle_listener([link = link_.get()] { link->flush_soon(); });
}

Agent::~Agent() { stop(); }

void Agent::start() {
  if (stopped_) {
    spdlog::warn("agent for rack {}: start() after stop() is ignored; create a new Agent", config_.rack);
    return;
  }
  spdlog::info("agent for rack {} (epoch {}, {} chip(s)) connecting to {}:{}", config_.rack, epoch_,
               executor_->chips().size(), config_.host, config_.port);
  link_->start();
}

void Agent::stop() {
  if (stopped_) return;
  stopped_ = true;
  outbox_->close();  // a chip paused for room must not hold up the stop
  // Chips first, so that their "aborted" results are in the outbox before
  // the link's final flush.
  executor_->stop_all();
  link_->stop();
}

bool Agent::fatal() const { return handler_->fatal(); }
std::string Agent::fatal_reason() const { return handler_->reason(); }
bool Agent::connected() const { return link_->connected(); }

}  // namespace kiln::agent
