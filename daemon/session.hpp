#pragma once
// One client or agent connected to kilnd: the shared framed connection of
// net/connection.hpp (reader, writer, bounded outgoing queue, deadlines)
// with the daemon's side of the handshake on top — nothing but a Hello is
// read first, the handler checks it, Welcome or Refused goes back — and the
// daemon's deadlines: a Hello within `hello`, heartbeats when idle, and an
// agent heard nothing from for `agent_silence` is dropped. Everything runs
// on the daemon's single io thread.
//
// TLS (kilnd --tls-cert): the connection shakes hands before anything is
// read, within the same `hello` deadline; a failed handshake closes the
// session unauthenticated, with the reason, which the hub records.
//
// Bounded whoever the peer is: before its Hello is accepted a peer may send
// one frame of at most kMaxHelloFrameBytes (a larger length prefix closes the
// connection before its body is read), within `hello`. Afterwards every
// role must be heard from (heartbeats count) within its silence deadline.
//
// Outgoing, when full: a session that does not read what is sent to it
// (its connection's queue is full) is closed with a logged reason; a
// multi-part reply is fed in as the queue drains, at most
// kMaxWaitingReplyBytes of replies wait for that (an answer that would pass
// it is refused with an error reply), and at most kMaxQueriesInFlight
// queries are being answered at once.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/ip/tcp.hpp>

#include "daemon/credentials.hpp"
#include "net/connection.hpp"
#include "net/tls_context.hpp"
#include "schema/kiln.pb.h"

namespace kiln::daemon {

class Session;

// What the daemon does with a session's traffic (implemented by Hub).
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // Empty string: accepted. Otherwise the reason it is refused.
  virtual std::string on_hello(Session& session, const kiln::v1::Hello& hello) = 0;
  virtual void on_message(Session& session, kiln::v1::Envelope envelope) = 0;
  virtual void on_closed(Session& session, const std::string& reason) = 0;
};

struct SessionTimeouts {
  std::chrono::milliseconds hello{5000};            // time allowed before Hello
  std::chrono::milliseconds agent_silence{10000};   // an agent heard nothing from for this long is dropped
  std::chrono::milliseconds client_silence{30000};  // a client (CLI, dashboard) likewise; they heartbeat every 2 s
  std::chrono::milliseconds heartbeat{2000};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr std::size_t kMaxHelloFrameBytes = 4096;
  static constexpr std::size_t kMaxQueuedBytes = std::size_t{16} << 20;
  static constexpr std::size_t kMaxWaitingReplyBytes = std::size_t{32} << 20;
  static constexpr int kMaxQueriesInFlight = 8;

  // `tls` null: plain TCP.
  Session(boost::asio::ip::tcp::socket socket, SessionHandler& handler, std::uint64_t id, SessionTimeouts timeouts,
          net::TlsContext tls = {});

  void start();
  // Queues an envelope; dropped silently once the session is closed.
  void send(kiln::v1::Envelope envelope);
  // A reply to `request_id` in parts (net::split_reply), sent in order as
  // the outgoing queue makes room.
  void send_reply(std::uint64_t request_id, std::vector<kiln::v1::QueryReply> parts);
  // Sends what is queued, then closes.
  void close_after_flush(std::string reason);
  void close(const std::string& reason);
  // Backpressure (daemon/ingest_budget.hpp): nothing more is read from the
  // peer until resumed; its silence deadline waits too.
  void pause_reading();
  void resume_reading();

  // A query starts being answered: false (and nothing counted) when
  // kMaxQueriesInFlight are already; end_query() when its answer is sent.
  bool begin_query();
  void end_query();
  bool authenticated() const { return authenticated_; }
  // The accepted credential (set by the handler's on_hello): its name, and
  // for a client its role.
  void set_credential(std::string name, ClientRole role) {
    credential_name_ = std::move(name);
    client_role_ = role;
  }
  const std::string& credential_name() const { return credential_name_; }
  ClientRole client_role() const { return client_role_; }

  std::uint64_t id() const { return id_; }
  kiln::v1::Role role() const { return role_; }
  const std::string& identity() const { return identity_; }
  const std::string& peer() const { return peer_; }
  bool is_open() const { return connection_ ? connection_->is_open() : socket_.has_value(); }

 private:
  class Events;
  void on_envelope(kiln::v1::Envelope envelope);
  void on_closed(const net::CloseReason& reason);
  void feed_replies();
  std::string who() const;

  std::optional<boost::asio::ip::tcp::socket> socket_;  // until start()
  net::TlsContext tls_;
  std::shared_ptr<net::Connection> connection_;
  SessionHandler& handler_;
  std::uint64_t id_;
  SessionTimeouts timeouts_;
  std::string peer_;
  std::deque<kiln::v1::Envelope> waiting_replies_;  // parts not yet in the connection's queue
  std::size_t waiting_bytes_ = 0;
  kiln::v1::Role role_ = kiln::v1::ROLE_UNSPECIFIED;
  std::string identity_;
  std::string credential_name_;
  ClientRole client_role_ = ClientRole::viewer;
  bool authenticated_ = false;
  bool dropping_ = false;
  int queries_in_flight_ = 0;  // closing for not reading: nothing more is queued
};

}  // namespace kiln::daemon
