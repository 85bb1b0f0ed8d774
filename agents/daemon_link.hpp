#pragma once
// The agent's side of its connection to kilnd (docs/protocol.md): what it
// says and does over a net::Link, which owns the connection, the handshake,
// heartbeats, the silence timeout and reconnecting.
//
// Per connection: Hello → Welcome (or Refused: fatal, the agent stops) →
// RegisterRack → every unacknowledged batch again, in order → then, every
// flush interval, the outbox's pending items as new batches (a Heartbeat
// goes out when nothing was sent for heartbeat_interval). Incoming
// PhaseDispatch and PhaseAbort go to the handler (on the link's thread, so
// it must return quickly); BatchAck drops the batch from the outbox. Any
// error — refused connect, a bad frame from the daemon, 10 s of silence —
// closes the connection and reconnects after a backoff of 250 ms doubling
// to 5 s.
//
// Backpressure: a batch is taken from the outbox only when the link's
// outgoing queue has room for a whole frame and fewer than the outbox's
// max_in_flight batches are unacknowledged; while the daemon does not read
// or cannot commit (a full disk), the data waits in the outbox and its
// spool (nothing is dropped; when that is full, sampling pauses).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agents/outbox.hpp"
#include "net/tls_options.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

struct LinkConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7450;
  std::string rack;
  std::string credential;
  net::TlsClientOptions tls;
  std::chrono::milliseconds flush_interval{200};
  std::chrono::milliseconds heartbeat_interval{2000};
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{5000};
  // Connect + Hello/Welcome must finish within this.
  std::chrono::milliseconds handshake_timeout{10000};
  // The daemon heartbeats every 2 s; this much silence means it is gone.
  std::chrono::milliseconds silence_timeout{10000};
  // Samples go out as agent-encoded TelemetryChunks (docs/telemetry-storage.md);
  // false: as Sample messages, the protocol's older form (kilnd takes both).
  bool send_chunks = true;
};

// Receives what the daemon asks for. Called on the link's thread.
class LinkHandler {
 public:
  virtual ~LinkHandler() = default;
  virtual void on_dispatch(const kiln::v1::PhaseDispatch& dispatch) = 0;
  virtual void on_abort(const kiln::v1::PhaseAbort& abort) = 0;
  // The daemon refused us (bad credential, …): retrying cannot help.
  virtual void on_fatal(const std::string& reason) = 0;
};

class DaemonLink {
 public:
  // `registration` is sent after every Welcome (acked_through_seq filled in
  // then). `outbox` and `handler` must outlive the link.
  DaemonLink(LinkConfig config, kiln::v1::RegisterRack registration, Outbox& outbox, LinkHandler& handler);
  ~DaemonLink();  // stop()
  DaemonLink(const DaemonLink&) = delete;
  DaemonLink& operator=(const DaemonLink&) = delete;

  void start();
  // Sends what is pending (for at most `grace`), closes, joins the thread.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));

  // Thread-safe: sends what the outbox holds now rather than at the next
  // flush interval (the daemon waits for a phase's last results to go on).
  void flush_soon();

  bool connected() const { return connected_.load(); }
  // Connections that reached Welcome so far.
  std::uint64_t sessions() const { return sessions_.load(); }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> sessions_{0};
};

}  // namespace kiln::agent
