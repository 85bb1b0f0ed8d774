#pragma once
// One framed connection (DESIGN §8), over plain TCP or TLS (net/stream.hpp),
// the core both ends share: kilnd's
// sessions and the clients' links. Per connection a reader (bytes → frames
// → envelopes, through the pure codec of schema/frame.hpp), a writer
// draining a bounded outgoing queue, and a watchdog for its deadlines — as
// in Asio's chat_server and timeout_watchdog examples. Everything runs on
// the one thread of its io_context; no method may be called from another.
//
// What it does not know: who speaks first and what a Hello says (the
// handshakes are the layers above: net/link.cpp for clients,
// daemon/session.cpp for kilnd).
//
// Deadlines:
//   set_deadline(after, why)  a one-shot deadline (the handshake); cleared
//                             by clear_deadline()
//   set_heartbeat(every)      a Heartbeat whenever nothing was written for
//                             that long and nothing is queued (0: off)
//   set_silence(after)        closes after that long without a byte read (0: off)
// Heartbeats received are handed on like anything else: the layer above
// decides whether a Heartbeat is allowed yet.
//
// Lifetime: the coroutines hold the connection; it holds its handler until
// it closed and told the handler so (on_closed), which breaks any cycle
// between the two.
//
// TLS: start() shakes hands first and only then reads, writes or watches;
// envelopes sent before that wait in the queue, and the deadline set right
// after start() (the handshake's, the Hello's) covers the TLS handshake too.
// A failed TLS handshake closes with CloseCause::tls; a plaintext connection
// whose peer sends TLS records closes with CloseCause::peer_speaks_tls.
//
// Internal to kiln_net and kilnd (it names Boost.Asio); clients see
// net/link.hpp.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/result.hpp"
#include "net/outgoing_queue.hpp"
#include "net/stream.hpp"
#include "schema/frame.hpp"
#include "schema/kiln.pb.h"

namespace kiln::net {

class Connection;

// Why a connection closed.
enum class CloseCause {
  local,            // close() or close_after_flush() by the owner
  peer,             // the peer closed it, or reading/writing failed
  protocol,         // a bad frame or a bad envelope from the peer
  timeout,          // a deadline passed, or the peer went silent
  tls,              // the TLS handshake failed (a bad certificate, a wrong CA, a plaintext peer)
  peer_speaks_tls,  // plaintext here, but the peer sent TLS records
};

struct CloseReason {
  CloseCause cause = CloseCause::local;
  std::string text;
};

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void on_envelope(Connection& connection, kiln::v1::Envelope envelope) = 0;
  // Once, after the socket is closed; nothing is delivered after it.
  virtual void on_closed(Connection& connection, const CloseReason& reason) = 0;
  // The writer wrote everything queued (a producer may queue more now).
  virtual void on_drained(Connection& /*connection*/) {}
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static std::shared_ptr<Connection> create(Stream stream, std::shared_ptr<ConnectionHandler> handler,
                                            std::size_t max_queued_bytes = OutgoingQueue::kDefaultMaxBytes);
  static std::shared_ptr<Connection> create(boost::asio::ip::tcp::socket socket,
                                            std::shared_ptr<ConnectionHandler> handler,
                                            std::size_t max_queued_bytes = OutgoingQueue::kDefaultMaxBytes) {
    return create(Stream(std::move(socket)), std::move(handler), max_queued_bytes);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts the reader, the writer and the watchdog (after the TLS handshake).
  void start();

  // Queues an envelope. invalid_argument: it would not fit a frame (never
  // will); unavailable: the connection is closed or closing, or the queue
  // has no room for it (OutgoingQueue's policy: nothing is queued).
  Status send(const kiln::v1::Envelope& envelope);
  // Closes now; what is queued is dropped.
  void close(CloseReason reason);
  void close(std::string text) { close(CloseReason{CloseCause::local, std::move(text)}); }
  // Closes from the io loop, not from inside the caller: for a caller in
  // the middle of other work (a feed sending to many sessions) that must
  // not see on_closed run under its feet.
  void close_soon(CloseReason reason);
  // Stops reading, writes what is queued, then closes with `text`.
  void close_after_flush(std::string text);

  void set_deadline(std::chrono::milliseconds after, std::string why);
  void clear_deadline();
  void set_heartbeat(std::chrono::milliseconds every);
  void set_silence(std::chrono::milliseconds after);
  // The largest frame payload accepted from now on (wire::FrameDecoder):
  // a larger length prefix closes the connection before its body is read.
  void set_max_frame_bytes(std::size_t bytes) { decoder_.set_max_frame_bytes(bytes); }

  // Reading stops (frames already read wait too) until resumed: the
  // owner's backpressure on a peer that sends faster than it is served
  // (kilnd's ingest: the peer's data waits in its own outbox). The silence
  // deadline does not run meanwhile: the peer is not silent, we are not
  // listening.
  void pause_reading();
  void resume_reading();
  bool reading_paused() const { return paused_; }

  bool is_open() const { return !closed_; }
  bool closing() const { return closing_; }
  std::size_t queued_bytes() const { return queue_.bytes(); }
  std::size_t room() const { return queue_.room(); }
  // "127.0.0.1:51234", or "unknown peer".
  const std::string& peer() const { return peer_; }

 private:
  Connection(Stream stream, std::shared_ptr<ConnectionHandler> handler, std::size_t max_queued_bytes);
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> wait_while_paused();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> watchdog();
  // How often the watchdog looks: often enough for the shortest deadline.
  std::chrono::milliseconds watch_tick() const;

  Stream stream_;
  boost::asio::steady_timer write_signal_;  // cancelled to wake the writer
  boost::asio::steady_timer watch_timer_;   // cancelled when the intervals change
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer resume_signal_;  // cancelled to wake a paused reader
  std::shared_ptr<ConnectionHandler> handler_;
  std::string peer_;
  wire::FrameDecoder decoder_;
  OutgoingQueue queue_;
  std::chrono::milliseconds heartbeat_{0};
  std::chrono::milliseconds silence_{0};
  std::chrono::steady_clock::time_point last_heard_;
  std::chrono::steady_clock::time_point last_sent_;
  std::string flush_reason_;
  bool closing_ = false;  // flush, then close
  bool closed_ = false;
  bool paused_ = false;  // reading paused by the owner
};

}  // namespace kiln::net
