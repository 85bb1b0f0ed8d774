#include "daemon/session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "core/version.hpp"
#include "net/error_reply.hpp"

namespace kiln::daemon {

// The connection's handler. It holds the session while the connection is
// open; the connection lets go of it once it closed.
class Session::Events final : public net::ConnectionHandler {
 public:
  explicit Events(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  void on_envelope(net::Connection&, kiln::v1::Envelope envelope) override {
    session_->on_envelope(std::move(envelope));
  }
  void on_closed(net::Connection&, const net::CloseReason& reason) override { session_->on_closed(reason); }
  void on_drained(net::Connection&) override { session_->feed_replies(); }

 private:
  std::shared_ptr<Session> session_;
};

Session::Session(boost::asio::ip::tcp::socket socket, SessionHandler& handler, std::uint64_t id,
                 SessionTimeouts timeouts, net::TlsContext tls)
    : socket_(std::move(socket)), tls_(std::move(tls)), handler_(handler), id_(id), timeouts_(timeouts) {
  boost::system::error_code ec;
  const auto endpoint = socket_->remote_endpoint(ec);
  peer_ = ec ? "unknown peer" : fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

void Session::start() {
  if (!socket_) return;
  net::Stream stream =
      tls_ ? net::Stream(std::move(*socket_), *tls_, net::Stream::Side::server) : net::Stream(std::move(*socket_));
  connection_ =
      net::Connection::create(std::move(stream), std::make_shared<Events>(shared_from_this()), kMaxQueuedBytes);
  socket_.reset();
  connection_->set_max_frame_bytes(kMaxHelloFrameBytes);
  connection_->start();
  // Covers the TLS handshake too: a peer that stalls it is closed like one that sends no Hello.
  connection_->set_deadline(timeouts_.hello, "no Hello in time");
}

std::string Session::who() const { return identity_.empty() ? "unauthenticated" : identity_; }

void Session::send(kiln::v1::Envelope envelope) {
  if (!connection_ || !connection_->is_open() || connection_->closing() || dropping_) return;
  auto sent = connection_->send(envelope);
  if (sent) return;
  if (sent.error().code == ErrorCode::invalid_argument) {
    spdlog::error("{} ({}): a {}-byte message not sent: {}", peer_, who(), envelope.ByteSizeLong(),
                  sent.error().message);
    return;
  }
  spdlog::warn("closing {} ({}): it does not read what it is sent ({})", peer_, who(), sent.error().message);
  // Not here: the sender may be the feed or the run manager in the middle of its own work.
  dropping_ = true;
  connection_->close_soon(net::CloseReason{net::CloseCause::local, "not reading"});
}

void Session::send_reply(std::uint64_t request_id, std::vector<kiln::v1::QueryReply> parts) {
  if (!connection_ || !connection_->is_open() || connection_->closing() || dropping_) return;
  std::vector<kiln::v1::Envelope> envelopes(parts.size());
  std::vector<std::size_t> sizes(parts.size());
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    envelopes[i].set_request_id(request_id);
    *envelopes[i].mutable_query_reply() = std::move(parts[i]);
    sizes[i] = envelopes[i].ByteSizeLong();
    bytes += sizes[i];
  }
  if (waiting_bytes_ + bytes > kMaxWaitingReplyBytes) {
    spdlog::warn("{} ({}): a {:.1f} MiB answer refused, {:.1f} MiB of answers already wait for it to read", peer_,
                 who(), bytes / 1048576.0, waiting_bytes_ / 1048576.0);
    send(net::error_reply(request_id,
                          make_error(ErrorCode::unavailable,
                                     "the answer is {:.1f} MiB and {:.1f} MiB of answers wait to be read: at most {} "
                                     "MiB may wait; ask for less (one chip, one metric) or read what was sent",
                                     bytes / 1048576.0, waiting_bytes_ / 1048576.0, kMaxWaitingReplyBytes >> 20)));
    return;
  }
  for (auto& envelope : envelopes) waiting_replies_.push_back(std::move(envelope));
  waiting_bytes_ += bytes;
  feed_replies();
}

bool Session::begin_query() {
  if (queries_in_flight_ >= kMaxQueriesInFlight) return false;
  ++queries_in_flight_;
  return true;
}

void Session::end_query() {
  if (queries_in_flight_ > 0) --queries_in_flight_;
}

// Moves waiting reply parts into the connection's queue while they fit.
void Session::feed_replies() {
  while (!waiting_replies_.empty() && connection_ && connection_->is_open()) {
    const std::size_t bytes = waiting_replies_.front().ByteSizeLong();
    if (bytes + wire::kFrameHeaderBytes + 16 > connection_->room()) return;  // on_drained calls again
    send(std::move(waiting_replies_.front()));
    waiting_replies_.pop_front();
    waiting_bytes_ -= bytes;
  }
}

void Session::close_after_flush(std::string reason) {
  if (connection_) connection_->close_after_flush(std::move(reason));
}

void Session::close(const std::string& reason) {
  if (connection_) connection_->close(reason);
}

void Session::on_closed(const net::CloseReason& reason) {
  waiting_replies_.clear();
  waiting_bytes_ = 0;
  std::string why = reason.text;
  switch (reason.cause) {
    case net::CloseCause::protocol: spdlog::warn("closing {} ({}): {}", peer_, who(), reason.text); break;
    case net::CloseCause::timeout:
      if (!authenticated_) {
        spdlog::warn("closing {}: no Hello within {} ms", peer_, timeouts_.hello.count());
        why = "no Hello in time";
      } else if (role_ == kiln::v1::ROLE_AGENT) {
        spdlog::warn("agent {} ({}) silent for {} ms: dropping it", identity_, peer_, timeouts_.agent_silence.count());
        why = "agent silent";
      } else {
        spdlog::warn("client {} ({}) silent for {} ms: closing it", identity_, peer_, timeouts_.client_silence.count());
        why = "client silent";
      }
      break;
    case net::CloseCause::tls:
      // A wrong CA, a missing client certificate, a plaintext client: the hub records it as a refusal.
      spdlog::warn("closing {}: {}", peer_, reason.text);
      break;
    case net::CloseCause::peer_speaks_tls:
      spdlog::warn("closing {}: a TLS client on this plaintext listener", peer_);
      why = "a TLS client on a plaintext listener (kilnd has no --tls-cert)";
      break;
    case net::CloseCause::local:
    case net::CloseCause::peer: break;
  }
  handler_.on_closed(*this, why);
}

void Session::on_envelope(kiln::v1::Envelope envelope) {
  if (!authenticated_) {
    if (!envelope.has_hello()) {
      spdlog::warn("closing {}: first message was not Hello", peer_);
      close("first message was not Hello");
      return;
    }
    const std::string refusal = handler_.on_hello(*this, envelope.hello());
    kiln::v1::Envelope reply;
    if (!refusal.empty()) {
      spdlog::warn("refused {} (identity '{}'): {}", peer_, envelope.hello().identity(), refusal);
      reply.mutable_refused()->set_reason(refusal);
      send(std::move(reply));
      close_after_flush("refused: " + refusal);
      return;
    }
    authenticated_ = true;
    role_ = envelope.hello().role();
    identity_ = envelope.hello().identity();
    connection_->clear_deadline();
    connection_->set_max_frame_bytes(wire::kMaxFrameBytes);
    connection_->set_heartbeat(timeouts_.heartbeat);
    connection_->set_silence(role_ == kiln::v1::ROLE_AGENT ? timeouts_.agent_silence : timeouts_.client_silence);
    reply.mutable_welcome()->set_daemon_version(version_line("kilnd"));
    reply.mutable_welcome()->set_server_time_unix_ms(unix_ms_now());
    send(std::move(reply));
    return;
  }
  if (envelope.has_hello()) {
    close("a second Hello");
    return;
  }
  if (envelope.has_heartbeat()) return;
  handler_.on_message(*this, std::move(envelope));
}

void Session::pause_reading() {
  if (connection_) connection_->pause_reading();
}

void Session::resume_reading() {
  if (connection_) connection_->resume_reading();
}

}  // namespace kiln::daemon
