#include "daemon/session.hpp"

#include <array>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"

namespace kiln::daemon {

namespace asio = boost::asio;
using boost::system::error_code;

Session::Session(asio::ip::tcp::socket socket, SessionHandler& handler, std::uint64_t id, SessionTimeouts timeouts)
    : socket_(std::move(socket)),
      write_signal_(socket_.get_executor()),
      watchdog_timer_(socket_.get_executor()),
      handler_(handler),
      id_(id),
      timeouts_(timeouts) {
  error_code ec;
  auto endpoint = socket_.remote_endpoint(ec);
  peer_ = ec ? "unknown peer" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  write_signal_.expires_at(std::chrono::steady_clock::time_point::max());
  started_ = last_heard_ = last_sent_ = std::chrono::steady_clock::now();
}

void Session::start() {
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self] { return self->reader(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self] { return self->writer(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self] { return self->watchdog(); }, asio::detached);
}

void Session::send(kiln::v1::Envelope envelope) {
  if (closed_ || closing_) return;
  outgoing_.push_back(wire::encode_envelope(envelope));
  write_signal_.cancel_one();
}

void Session::close_after_flush(std::string reason) {
  if (closed_) return;
  closing_ = true;
  close_reason_ = std::move(reason);
  write_signal_.cancel_one();
}

void Session::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  write_signal_.cancel();
  watchdog_timer_.cancel();
  handler_.on_closed(*this, reason);
}

asio::awaitable<void> Session::reader() {
  auto self = shared_from_this();
  std::array<char, 64 * 1024> buffer{};
  std::string payload;
  while (!closed_) {
    error_code ec;
    const std::size_t n =
        co_await socket_.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      close(ec == asio::error::eof ? "peer closed the connection" : ec.message());
      co_return;
    }
    last_heard_ = std::chrono::steady_clock::now();
    decoder_.feed(buffer.data(), n);
    for (;;) {
      const auto state = decoder_.next(payload);
      if (state == wire::FrameDecoder::State::need_more) break;
      if (state == wire::FrameDecoder::State::error) {
        spdlog::warn("closing {} ({}): {}", peer_, identity_.empty() ? "unauthenticated" : identity_,
                     decoder_.error_message());
        close(decoder_.error_message());
        co_return;
      }
      auto envelope = wire::decode_envelope(payload);
      if (!envelope) {
        spdlog::warn("closing {} ({}): {}", peer_, identity_.empty() ? "unauthenticated" : identity_,
                     envelope.error().message);
        close(envelope.error().message);
        co_return;
      }
      handle(std::move(*envelope));
      if (closed_ || closing_) co_return;
    }
  }
}

void Session::handle(kiln::v1::Envelope envelope) {
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
    reply.mutable_welcome()->set_daemon_version("kilnd 0.1.0");
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

asio::awaitable<void> Session::writer() {
  auto self = shared_from_this();
  while (!closed_) {
    if (outgoing_.empty()) {
      if (closing_) {
        close(close_reason_);
        co_return;
      }
      error_code ec;
      co_await write_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(outgoing_.front()), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      close("write failed: " + ec.message());
      co_return;
    }
    outgoing_.pop_front();
    last_sent_ = std::chrono::steady_clock::now();
  }
}

asio::awaitable<void> Session::watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    watchdog_timer_.expires_after(std::chrono::milliseconds(250));
    error_code ec;
    co_await watchdog_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) co_return;
    const auto now = std::chrono::steady_clock::now();
    if (!authenticated_ && now - started_ > timeouts_.hello) {
      spdlog::warn("closing {}: no Hello within {} ms", peer_, timeouts_.hello.count());
      close("no Hello in time");
      co_return;
    }
    if (authenticated_ && role_ == kiln::v1::ROLE_AGENT && now - last_heard_ > timeouts_.agent_silence) {
      spdlog::warn("agent {} ({}) silent for {} ms: dropping it", identity_, peer_, timeouts_.agent_silence.count());
      close("agent silent");
      co_return;
    }
    if (authenticated_ && outgoing_.empty() && now - last_sent_ > timeouts_.heartbeat) {
      kiln::v1::Envelope beat;
      beat.mutable_heartbeat()->set_sent_unix_ms(unix_ms_now());
      send(std::move(beat));
    }
  }
}

}  // namespace kiln::daemon
