#pragma once
// A synthetic rack agent for the ingest benchmark: the real Outbox and
// DaemonLink (so the real protocol, acks, backpressure and resends), with
// telemetry made up as fast as the host allows instead of by chips. When
// the daemon dispatches a phase it streams `seconds` of simulated telemetry
// of every dispatched chip at the plan's sample_hz (19 series per chip:
// smooth temperatures, noisy power and bandwidth, a throttling clock,
// counters, flags, two links), then each chip's step result.
//
// Two encodings of the same values: `samples` (one Sample message per chip
// and tick, as kiln-agent sends them) or `chunks` (TelemetryChunk messages
// encoded on the agent, agents/telemetry_chunker.hpp).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "agents/daemon_link.hpp"
#include "agents/outbox.hpp"
#include "net/tls_options.hpp"

namespace kiln::bench {

enum class Encoding { samples, chunks };

struct SyntheticRack {
  std::string rack;
  std::string credential;
  int chips = 64;
  std::uint16_t port = 0;
  Encoding encoding = Encoding::chunks;
  std::size_t outbox_memory_bytes = std::size_t{64} << 20;
  net::TlsClientOptions tls;  // enabled: mutual TLS, as kiln lab runs its agents
};

class SyntheticAgent final : public agent::LinkHandler {
 public:
  explicit SyntheticAgent(SyntheticRack rack);
  ~SyntheticAgent() override;

  void start();
  void stop();
  bool connected() const { return link_->connected(); }
  // Every dispatched phase generated, sent and acknowledged.
  bool done() const { return finished_.load() && outbox_.idle(); }
  std::uint64_t values_sent() const { return values_.load(); }
  std::chrono::steady_clock::time_point dispatched_at() const { return dispatched_at_; }

  void on_dispatch(const kiln::v1::PhaseDispatch& dispatch) override;
  void on_abort(const kiln::v1::PhaseAbort&) override {}
  void on_fatal(const std::string& reason) override;

 private:
  void generate(kiln::v1::PhaseDispatch dispatch, std::stop_token stop);

  SyntheticRack config_;
  agent::Outbox outbox_;
  std::unique_ptr<agent::DaemonLink> link_;
  std::jthread worker_;
  std::atomic<bool> started_{false};
  std::atomic<bool> finished_{false};
  std::atomic<std::uint64_t> values_{0};
  std::chrono::steady_clock::time_point dispatched_at_{};
};

}  // namespace kiln::bench
