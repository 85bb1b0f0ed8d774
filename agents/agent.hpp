#pragma once
// A rack's agent: its chips, the phase executor that drives them, the outbox
// and the link to kilnd. Usable in-process (tests run a daemon and several
// agents in one process) and by kiln-agent's main.cpp.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agents/outbox.hpp"
#include "agents/spool.hpp"
#include "core/result.hpp"
#include "device/backend_registry.hpp"
#include "device/chip.hpp"
#include "device/collective.hpp"
#include "device/lab.hpp"
#include "device/sku.hpp"
#include "net/tls_options.hpp"

namespace kiln::plan {
class PatternRegistry;
}

namespace kiln::agent {

class PatternFactory;

struct AgentConfig {
  std::string rack;
  std::string host;
  std::uint16_t port = 0;
  std::string credential;
  net::TlsClientOptions tls;  // TLS to kilnd when tls.ca_file is set
  device::Lab lab;
  device::SkuCatalog catalog;
  std::chrono::milliseconds flush_interval{200};
  // Where unacknowledged batches persist (agents/spool.hpp); none: memory only.
  std::optional<SpoolOptions> spool;
  OutboxLimits outbox;
  // What steps' patterns and params are checked against, and what builds
  // them; null: the built-in ones (tests add toy patterns, as DaemonConfig
  // takes them).
  std::shared_ptr<const plan::PatternRegistry> patterns;
  std::shared_ptr<const PatternFactory> pattern_factory;
};

class PhaseExecutor;
class DaemonLink;

class Agent {
 public:
  // Builds the rack's chips (and their fabric) from the lab with every
  // backend built into this binary (device/builtin_backends.hpp): sim, cpu.
  // Any other (cuda today) is refused: "backend cuda is not built into this
  // binary (built: sim, cpu)".
  static Result<std::unique_ptr<Agent>> create(AgentConfig config);
  // The same with the backends the caller registered.
  static Result<std::unique_ptr<Agent>> create(AgentConfig config, const device::BackendRegistry& backends);
  // With chips the caller made (fakes in tests, backends not in the lab),
  // and optionally the fabric that links them (collectives).
  static Result<std::unique_ptr<Agent>> create(AgentConfig config, std::vector<std::unique_ptr<device::Chip>> chips,
                                               std::unique_ptr<device::Fabric> fabric = nullptr);
  ~Agent();  // stop()
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Connects (and keeps reconnecting) to the daemon; returns at once.
  void start();
  // Aborts running steps (they report completed=false "aborted"), sends
  // what is pending for up to a second, disconnects. Idempotent and final:
  // a stopped agent does not start again.
  void stop();

  // The daemon refused this agent (bad credential, …): it will not retry.
  bool fatal() const;
  std::string fatal_reason() const;

  bool connected() const;
  std::uint64_t epoch() const { return epoch_; }
  const std::string& rack() const { return config_.rack; }
  const Outbox& outbox() const { return *outbox_; }

 private:
  class Handler;
  Agent(AgentConfig config, std::vector<std::unique_ptr<device::Chip>> chips, std::unique_ptr<device::Fabric> fabric,
        std::unique_ptr<Spool> spool);

  AgentConfig config_;
  std::uint64_t epoch_ = 0;
  std::unique_ptr<Spool> spool_;  // before the outbox, which writes to it
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<PhaseExecutor> executor_;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<DaemonLink> link_;  // destroyed first: it calls into the others
  bool stopped_ = false;
};

}  // namespace kiln::agent
