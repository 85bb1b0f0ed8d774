#include "net/connection.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/clock.hpp"
#include "net/tls_context.hpp"

// GCC 12 reports Asio's awaitable frames, allocated and freed by Asio's own
// operator new/delete, as mismatched once an ssl::stream operation is
// awaited here (a known false positive of its coroutine lowering).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace kiln::net {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kMaxWatchTick = std::chrono::milliseconds(250);
constexpr auto kMinWatchTick = std::chrono::milliseconds(5);
}  // namespace

std::shared_ptr<Connection> Connection::create(Stream stream, std::shared_ptr<ConnectionHandler> handler,
                                               std::size_t max_queued_bytes) {
  return std::shared_ptr<Connection>(new Connection(std::move(stream), std::move(handler), max_queued_bytes));
}

Connection::Connection(Stream stream, std::shared_ptr<ConnectionHandler> handler, std::size_t max_queued_bytes)
    : stream_(std::move(stream)),
      write_signal_(stream_.socket().get_executor()),
      watch_timer_(stream_.socket().get_executor()),
      deadline_(stream_.socket().get_executor()),
      resume_signal_(stream_.socket().get_executor()),
      handler_(std::move(handler)),
      queue_(max_queued_bytes) {
  error_code ec;
  const auto endpoint = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? "unknown peer" : fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
  write_signal_.expires_at(Clock::time_point::max());
  resume_signal_.expires_at(Clock::time_point::max());
  last_heard_ = last_sent_ = Clock::now();
}

void Connection::pause_reading() { paused_ = true; }

void Connection::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  last_heard_ = Clock::now();  // the silence deadline starts again from now
  resume_signal_.cancel();
}

void Connection::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      stream_.socket().get_executor(), [self] { return self->run(); }, asio::detached);
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  if (auto* tls = stream_.tls()) {
    error_code ec;
    co_await tls->async_handshake(
        stream_.side() == Stream::Side::client ? asio::ssl::stream_base::client : asio::ssl::stream_base::server,
        asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) co_return;  // closed (a deadline, the owner) while shaking hands
    if (ec) {
      close(CloseReason{CloseCause::tls, "TLS handshake failed: " + tls_failure_text(ec, *tls)});
      co_return;
    }
  }
  last_heard_ = last_sent_ = Clock::now();
  const auto executor = stream_.socket().get_executor();
  asio::co_spawn(
      executor, [self] { return self->reader(); }, asio::detached);
  asio::co_spawn(
      executor, [self] { return self->writer(); }, asio::detached);
  asio::co_spawn(
      executor, [self] { return self->watchdog(); }, asio::detached);
}

Status Connection::send(const kiln::v1::Envelope& envelope) {
  if (closed_ || closing_) return make_error(ErrorCode::unavailable, "the connection to {} is closed", peer_);
  KILN_TRY_ASSIGN(std::string frame, wire::try_encode_envelope(envelope));
  if (!queue_.push(std::move(frame))) {
    return make_error(ErrorCode::unavailable, "outgoing queue to {} is full ({} of {} bytes queued)", peer_,
                      queue_.bytes(), queue_.max_bytes());
  }
  write_signal_.cancel_one();
  return {};
}

void Connection::close(CloseReason reason) {
  if (closed_) return;
  closed_ = true;
  stream_.close();
  write_signal_.cancel();
  watch_timer_.cancel();
  deadline_.cancel();
  resume_signal_.cancel();
  queue_.clear();
  // Released here: the handler may own this connection (a cycle until now).
  if (auto handler = std::move(handler_)) handler->on_closed(*this, reason);
}

void Connection::close_soon(CloseReason reason) {
  std::weak_ptr<Connection> weak = shared_from_this();
  asio::post(stream_.socket().get_executor(), [weak, reason = std::move(reason)] {
    if (auto self = weak.lock()) self->close(reason);
  });
}

void Connection::close_after_flush(std::string text) {
  if (closed_ || closing_) return;
  closing_ = true;
  flush_reason_ = std::move(text);
  write_signal_.cancel_one();
}

void Connection::set_deadline(std::chrono::milliseconds after, std::string why) {
  if (closed_) return;
  deadline_.expires_after(after);
  std::weak_ptr<Connection> weak = shared_from_this();
  deadline_.async_wait([weak, why = std::move(why)](const error_code& ec) {
    if (ec) return;  // cleared, moved, or the connection closed
    if (auto self = weak.lock()) self->close(CloseReason{CloseCause::timeout, why});
  });
}

void Connection::clear_deadline() { deadline_.cancel(); }

void Connection::set_heartbeat(std::chrono::milliseconds every) {
  heartbeat_ = every;
  watch_timer_.cancel();  // the watchdog looks again at the new intervals
}

void Connection::set_silence(std::chrono::milliseconds after) {
  silence_ = after;
  last_heard_ = Clock::now();
  watch_timer_.cancel();
}

std::chrono::milliseconds Connection::watch_tick() const {
  auto tick = kMaxWatchTick;
  for (const auto interval : {heartbeat_, silence_}) {
    if (interval.count() > 0) tick = std::min(tick, interval / 4);
  }
  return std::max(tick, kMinWatchTick);
}

asio::awaitable<void> Connection::reader() {
  auto self = shared_from_this();
  std::array<char, std::size_t{64} << 10> buffer{};
  std::string payload;
  bool first = true;
  while (!closed_ && !closing_) {
    if (co_await wait_while_paused(); closed_ || closing_) co_return;
    error_code ec;
    const std::size_t n =
        co_await stream_.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) co_return;
    if (ec) {
      // No close_notify is sent (Stream::close), so a TLS peer's close reads as a truncated stream.
      const bool ended = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      std::string why = ended              ? "peer closed the connection"
                        : stream_.is_tls() ? "TLS: " + tls_failure_text(ec, *stream_.tls())
                                           : ec.message();
      close(CloseReason{CloseCause::peer, std::move(why)});
      co_return;
    }
    if (std::exchange(first, false) && !stream_.is_tls() && looks_like_tls(buffer.data(), n)) {
      close(CloseReason{CloseCause::peer_speaks_tls, "the peer speaks TLS on a plaintext connection"});
      co_return;
    }
    last_heard_ = Clock::now();
    decoder_.feed(buffer.data(), n);
    while (!closed_ && !closing_) {
      if (co_await wait_while_paused(); closed_ || closing_) co_return;
      const auto state = decoder_.next(payload);
      if (state == wire::FrameDecoder::State::need_more) break;
      if (state == wire::FrameDecoder::State::error) {
        close(CloseReason{CloseCause::protocol, decoder_.error_message()});
        co_return;
      }
      auto envelope = wire::decode_envelope(payload);
      if (!envelope) {
        close(CloseReason{CloseCause::protocol, envelope.error().message});
        co_return;
      }
      // A copy: the handler may close the connection (and so release it) while it runs.
      if (auto handler = handler_) handler->on_envelope(*this, std::move(envelope).value());
    }
  }
}

asio::awaitable<void> Connection::wait_while_paused() {
  while (paused_ && !closed_) {
    error_code ec;
    co_await resume_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    resume_signal_.expires_at(Clock::time_point::max());
  }
}

asio::awaitable<void> Connection::writer() {
  auto self = shared_from_this();
  while (!closed_) {
    if (queue_.empty()) {
      if (closing_) {
        close(CloseReason{CloseCause::local, flush_reason_});
        co_return;
      }
      error_code ignored;
      co_await write_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      continue;
    }
    error_code ec;
    co_await stream_.async_write(asio::buffer(queue_.front()), asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) co_return;
    if (ec) {
      close(CloseReason{CloseCause::peer, "write failed: " + ec.message()});
      co_return;
    }
    queue_.pop();
    last_sent_ = Clock::now();
    if (queue_.empty()) {
      if (auto handler = handler_) handler->on_drained(*this);
    }
  }
}

asio::awaitable<void> Connection::watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    watch_timer_.expires_after(watch_tick());
    error_code ignored;
    co_await watch_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (closed_) co_return;
    const auto now = Clock::now();
    if (silence_.count() > 0 && !paused_ && now - last_heard_ > silence_) {
      close(CloseReason{CloseCause::timeout, fmt::format("nothing heard for {} ms", silence_.count())});
      co_return;
    }
    if (heartbeat_.count() > 0 && !closing_ && queue_.empty() && now - last_sent_ >= heartbeat_) {
      kiln::v1::Envelope beat;
      beat.mutable_heartbeat()->set_sent_unix_ms(unix_ms_now());
      (void)send(beat);
      last_sent_ = now;  // counted from now, not from when the write completes
    }
  }
}

}  // namespace kiln::net
