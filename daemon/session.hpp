#pragma once
// One TCP connection to kilnd: a reader coroutine that turns bytes into
// envelopes (checking the Hello first), a writer coroutine draining an
// outgoing queue, and a watchdog for the hello deadline and silent agents.
// Everything runs on the daemon's single io thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "schema/frame.hpp"
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
  std::chrono::milliseconds hello{5000};        // time allowed before Hello
  std::chrono::milliseconds agent_silence{10000};  // an agent heard nothing from for this long is dropped
  std::chrono::milliseconds heartbeat{2000};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, SessionHandler& handler, std::uint64_t id, SessionTimeouts timeouts);

  void start();
  // Queues an envelope; dropped silently once the session is closed.
  void send(kiln::v1::Envelope envelope);
  // Sends what is queued, then closes.
  void close_after_flush(std::string reason);
  void close(const std::string& reason);

  std::uint64_t id() const { return id_; }
  kiln::v1::Role role() const { return role_; }
  const std::string& identity() const { return identity_; }
  const std::string& peer() const { return peer_; }
  bool is_open() const { return !closed_; }

 private:
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> watchdog();
  void handle(kiln::v1::Envelope envelope);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer write_signal_;
  boost::asio::steady_timer watchdog_timer_;
  SessionHandler& handler_;
  std::uint64_t id_;
  SessionTimeouts timeouts_;
  std::string peer_;
  wire::FrameDecoder decoder_;
  std::deque<std::string> outgoing_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_heard_;
  std::chrono::steady_clock::time_point last_sent_;
  kiln::v1::Role role_ = kiln::v1::ROLE_UNSPECIFIED;
  std::string identity_;
  bool authenticated_ = false;
  bool closing_ = false;  // flush, then close
  bool closed_ = false;
  std::string close_reason_;
};

}  // namespace kiln::daemon
