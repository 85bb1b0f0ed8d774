#pragma once
// A client's link to kilnd (docs/protocol.md), on an io thread of its own:
// connects, says Hello (role, identity, credential, protocol version) and
// waits for Welcome or Refused within the handshake deadline (a Refused
// later, e.g. of an agent's RegisterRack, is as final); then
// heartbeats when idle, closes when the daemon goes silent, and — when told
// to — connects again after a backoff. Requests carry a request_id and
// their replies (joined when they come in parts) go to the request's
// callback; everything else the daemon sends goes to the LinkHandler.
//
// The agent (persistent, reconnecting, final flush on stop), the dashboard
// (persistent, reconnecting, requests from the GUI thread) and the CLI (one
// connection, blocking calls) are each a LinkHandler over this.
//
// Boost.Asio stays inside kiln_net: this header names none of it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/endpoint.hpp"
#include "core/result.hpp"
#include "net/backoff.hpp"
#include "net/outgoing_queue.hpp"
#include "net/reply_parts.hpp"
#include "net/tls_options.hpp"
#include "schema/kiln.pb.h"

namespace kiln::net {

// Who the client says it is in its Hello.
struct ClientHello {
  kiln::v1::Role role = kiln::v1::ROLE_CLIENT;
  std::string identity;    // the rack id for an agent; free text for a client
  std::string credential;  // the shared secret
};

struct Deadlines {
  std::chrono::milliseconds handshake{10000};  // connect + Hello → Welcome
  std::chrono::milliseconds heartbeat{2000};   // a Heartbeat after this long with nothing sent
  std::chrono::milliseconds silence{10000};    // nothing heard for this long: closed (0: never)
};

struct LinkOptions {
  Endpoint endpoint;
  ClientHello hello;
  // TLS when tls.ca_file is set (docs/protocol.md "TLS"): the daemon's
  // certificate must chain to that CA and name endpoint.host.
  TlsClientOptions tls;
  Deadlines deadlines;
  // Connect again after a failure or a lost connection, or (nullopt) stop
  // after the first connection ends.
  std::optional<BackoffPolicy> reconnect = BackoffPolicy{};
  // LinkHandler::on_tick while up, every this long (0: never).
  std::chrono::milliseconds tick{0};
  std::size_t max_queued_bytes = OutgoingQueue::kDefaultMaxBytes;
  std::size_t max_reply_bytes = ReplyJoiner::kDefaultMaxBytes;
  std::string name = "daemon link";  // in log lines
};

enum class LinkState {
  connecting,  // the first attempt
  up,          // Welcome received
  retrying,    // down, next attempt after retry_in
  stopped,     // stop(), a refusal the handler would not retry, or no reconnect
};
const char* to_string(LinkState state);

struct LinkStatus {
  LinkState state = LinkState::stopped;
  // up: the daemon's version. Otherwise why it is not up ("no daemon:
  // Connection refused", "the daemon refused us: unknown credential",
  // "TLS handshake failed: certificate verify failed: …", …).
  std::string detail;
  // Not up: auth when refused or when TLS failed (a certificate, a CA),
  // protocol when the daemon broke the protocol or speaks TLS to a
  // plaintext link, invalid_argument for unusable TLS options,
  // unavailable otherwise.
  ErrorCode code = ErrorCode::unavailable;
  int attempt = 0;  // failed attempts since the link was last up
  std::chrono::milliseconds retry_in{0};
};

// What a handler may do on the link's thread, while the link is up.
class LinkChannel {
 public:
  virtual ~LinkChannel() = default;
  // See Connection::send: unavailable when down or when the outgoing queue
  // has no room (nothing is queued then), invalid_argument when too large.
  virtual Status send(const kiln::v1::Envelope& envelope) = 0;
  // Bytes the outgoing queue can still take.
  virtual std::size_t room() const = 0;
};

// Whether `tls` can be used (files there and readable, a key that is the
// certificate's): for a command to refuse bad options before it starts a
// link, which would otherwise stop at once with the same error.
Status check_tls(const TlsClientOptions& tls);

enum class AfterRefusal { retry, stop };

// Called on the link's thread: each must return quickly.
class LinkHandler {
 public:
  virtual ~LinkHandler() = default;
  // Welcome arrived: what goes first on every connection (RegisterRack, Subscribe).
  virtual void on_up(LinkChannel& /*channel*/, const kiln::v1::Welcome& /*welcome*/) {}
  // Anything the daemon sends that is neither a reply nor a Heartbeat.
  virtual void on_message(LinkChannel& /*channel*/, kiln::v1::Envelope /*envelope*/) {}
  // Every LinkOptions::tick while up.
  virtual void on_tick(LinkChannel& /*channel*/) {}
  // stop(grace) while up: queue what must still go out. Asked again each
  // time the queue drained; true when nothing is left (the link closes).
  virtual bool on_final_flush(LinkChannel& /*channel*/) { return true; }
  // The daemon refused the Hello.
  virtual AfterRefusal on_refused(const std::string& /*reason*/) { return AfterRefusal::stop; }
  virtual void on_status(const LinkStatus& /*status*/) {}
};

class Link {
 public:
  // The reply, or why there is none: unavailable when the link is down or
  // goes down before the reply came (an ErrorReply from the daemon is a reply).
  using ReplyFn = std::function<void(Result<kiln::v1::Envelope>)>;

  // `handler` must outlive the link.
  Link(LinkOptions options, LinkHandler& handler);
  ~Link();  // stop()
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  void start();
  // Ends the link and joins its thread. Up, with a grace: the handler's
  // final flush goes out first, for at most `grace`. Idempotent. Not from
  // the link's own thread (a handler), which it would wait for.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  // Thread-safe. Sets request_id and sends; `on_reply` runs once, on the
  // link's thread (or on the caller's, at once, when the link is stopped).
  std::uint64_t request(kiln::v1::Envelope request, ReplyFn on_reply);
  // Thread-safe. Calls the handler's on_tick soon, on the link's thread,
  // without waiting for the next tick (nothing when the link is down): for
  // what the daemon waits on, e.g. the last result of a phase. Calls made
  // before that on_tick ran are one.
  void tick_now();
  LinkStatus status() const;  // thread-safe

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::net
