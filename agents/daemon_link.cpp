#include "agents/daemon_link.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include <limits>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <google/protobuf/descriptor.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "schema/frame.hpp"

namespace kiln::agent {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

// Batches sent per flush tick at most, so that one tick cannot monopolize
// the thread; at 1 MiB per batch this is far above what a rack produces.
constexpr int kMaxBatchesPerFlush = 64;

// A daemon that broke the protocol: the connection is closed and retried.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const char* body_name(const kiln::v1::Envelope& envelope) {
  const auto* field = kiln::v1::Envelope::descriptor()->FindFieldByNumber(static_cast<int>(envelope.body_case()));
  return field != nullptr ? field->name().c_str() : "nothing";
}

// One TCP connection and what belongs to it. Shared by the coroutines that
// use it; close() ends all of them.
struct Session {
  explicit Session(const asio::any_io_executor& executor) : socket(executor), wake(executor), deadline(executor) {}

  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    wake.cancel();
    deadline.cancel();
  }

  tcp::socket socket;
  asio::steady_timer wake;      // the writer's flush tick; cancelled to wake it early
  asio::steady_timer deadline;  // handshake timeout, then the stop grace period
  wire::FrameDecoder decoder;
  std::array<char, 64 * 1024> read_buffer{};
  bool closed = false;
  bool welcomed = false;
  SteadyClock::time_point last_heard = SteadyClock::now();
  SteadyClock::time_point last_sent = SteadyClock::now();
};

void arm_deadline(const std::shared_ptr<Session>& session, std::chrono::milliseconds after, const char* why) {
  session->deadline.expires_after(after);
  session->deadline.async_wait([session, why](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: finished in time
    if (!session->closed) spdlog::warn("daemon link: {}", why);
    session->close();
  });
}

}  // namespace

class DaemonLink::Impl {
 public:
  Impl(LinkConfig config, kiln::v1::RegisterRack registration, Outbox& outbox, LinkHandler& handler,
       std::atomic<bool>& connected, std::atomic<std::uint64_t>& sessions)
      : config_(std::move(config)),
        registration_(std::move(registration)),
        outbox_(outbox),
        handler_(handler),
        connected_(connected),
        sessions_(sessions),
        retry_timer_(io_) {}

  void start() {
    if (thread_.joinable()) return;
    asio::co_spawn(io_, main_loop(), [](const std::exception_ptr& error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::critical("daemon link stopped: {}", e.what());
      } catch (...) {
        spdlog::critical("daemon link stopped: unknown exception");
      }
    });
    thread_ = std::thread([this] { run_io(); });
  }

  void stop(std::chrono::milliseconds grace) {
    if (!thread_.joinable()) return;
    asio::post(io_, [this, grace] {
      stopping_ = true;
      retry_timer_.cancel();
      if (auto session = current_.lock()) {
        if (session->welcomed) {
          // The writer sends what is pending, then closes; the deadline
          // bounds that.
          arm_deadline(session, grace, "final flush did not finish in time");
          session->wake.cancel();
        } else {
          session->close();
        }
      }
    });
    thread_.join();
  }

 private:
  // The thread boundary: an exception escaping a handler is logged and the
  // loop resumes, it never terminates the process.
  void run_io() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("daemon link: {}", e.what());
      } catch (...) {
        spdlog::error("daemon link: unknown exception");
      }
    }
  }

  asio::awaitable<void> main_loop() {
    auto backoff = config_.initial_backoff;
    while (!stopping_ && !fatal_) {
      const bool welcomed = co_await session();
      if (stopping_ || fatal_) break;
      if (welcomed) backoff = config_.initial_backoff;
      spdlog::log(loud() ? spdlog::level::info : spdlog::level::debug, "daemon link: reconnecting to {}:{} in {} ms",
                  config_.host, config_.port, backoff.count());
      retry_timer_.expires_after(backoff);
      boost::system::error_code ignored;
      co_await retry_timer_.async_wait(asio::redirect_error(use_awaitable, ignored));
      backoff = std::min(backoff * 2, config_.max_backoff);
    }
  }

  // One connection from connect to close. True when it got as far as Welcome.
  asio::awaitable<bool> session() {
    const auto executor = co_await asio::this_coro::executor;
    auto s = std::make_shared<Session>(executor);
    current_ = s;
    try {
      arm_deadline(s, config_.handshake_timeout, "no Welcome from the daemon in time");
      tcp::resolver resolver(executor);
      const auto endpoints = co_await resolver.async_resolve(config_.host, std::to_string(config_.port), use_awaitable);
      co_await asio::async_connect(s->socket, endpoints, use_awaitable);
      s->socket.set_option(tcp::no_delay(true));

      kiln::v1::Envelope hello;
      hello.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
      hello.mutable_hello()->set_role(kiln::v1::ROLE_AGENT);
      hello.mutable_hello()->set_identity(config_.rack);
      hello.mutable_hello()->set_credential(config_.credential);
      co_await send(*s, hello);

      const kiln::v1::Envelope first = co_await read_envelope(*s);
      if (first.has_refused()) {
        fatal_ = true;
        spdlog::error("daemon {}:{} refused rack {}: {}", config_.host, config_.port, config_.rack,
                      first.refused().reason());
        s->close();
        handler_.on_fatal(first.refused().reason());
        co_return false;
      }
      if (!first.has_welcome()) throw ProtocolError(fmt::format("expected Welcome, got {}", body_name(first)));
      s->deadline.cancel();
      s->welcomed = true;
      failures_ = 0;
      connected_ = true;
      ++sessions_;
      spdlog::info("daemon link: connected to kilnd {} at {}:{}", first.welcome().daemon_version(), config_.host,
                   config_.port);

      kiln::v1::Envelope reg;
      *reg.mutable_register_rack() = registration_;
      reg.mutable_register_rack()->set_acked_through_seq(outbox_.acked_through());
      co_await send(*s, reg);
      const auto unacked = outbox_.unacked();
      for (const BatchPtr& batch : unacked) co_await send_batch(*s, *batch);
      if (!unacked.empty()) spdlog::info("daemon link: resent {} unacknowledged batch(es)", unacked.size());

      asio::co_spawn(executor, reader(s), [s](const std::exception_ptr& error) {
        if (error && !s->closed) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            spdlog::warn("daemon link: {}", e.what());
          } catch (...) {
            spdlog::warn("daemon link: reader failed");
          }
        }
        s->close();
      });
      co_await writer(s);
    } catch (const std::exception& e) {
      if (!stopping_) {
        ++failures_;
        spdlog::log(loud() && !s->closed ? spdlog::level::warn : spdlog::level::debug, "daemon link: {}:{}: {}",
                    config_.host, config_.port, e.what());
      }
    }
    connected_ = false;
    s->close();
    co_return s->welcomed;
  }

  asio::awaitable<void> send(Session& s, const kiln::v1::Envelope& envelope) {
    auto frame = wire::try_encode_envelope(envelope);
    if (!frame) throw ProtocolError(frame.error().message);
    co_await asio::async_write(s.socket, asio::buffer(*frame), use_awaitable);
    s.last_sent = SteadyClock::now();
  }

  asio::awaitable<void> send_batch(Session& s, const kiln::v1::AgentBatch& batch) {
    kiln::v1::Envelope envelope;
    *envelope.mutable_agent_batch() = batch;
    auto frame = wire::try_encode_envelope(envelope);
    if (!frame) {
      // Cannot happen with the outbox's batch cap unless one item alone is
      // over 4 MiB; resending it forever would wedge the link, so it goes.
      spdlog::error("daemon link: batch {} dropped: {}", batch.seq(), frame.error().message);
      (void)outbox_.ack(batch.epoch(), batch.seq());
      co_return;
    }
    co_await asio::async_write(s.socket, asio::buffer(*frame), use_awaitable);
    s.last_sent = SteadyClock::now();
  }

  // Next complete envelope, reading as needed. Throws on a bad frame.
  asio::awaitable<kiln::v1::Envelope> read_envelope(Session& s) {
    std::string payload;
    for (;;) {
      switch (s.decoder.next(payload)) {
        case wire::FrameDecoder::State::frame: {
          auto envelope = wire::decode_envelope(payload);
          if (!envelope) throw ProtocolError("bad frame from the daemon: " + envelope.error().message);
          co_return std::move(envelope).value();
        }
        case wire::FrameDecoder::State::error:
          throw ProtocolError("bad frame from the daemon: " + s.decoder.error_message());
        case wire::FrameDecoder::State::need_more:
          break;
      }
      const std::size_t n = co_await s.socket.async_read_some(asio::buffer(s.read_buffer), use_awaitable);
      s.decoder.feed(s.read_buffer.data(), n);
      s.last_heard = SteadyClock::now();
    }
  }

  asio::awaitable<void> reader(std::shared_ptr<Session> s) {
    while (!s->closed) {
      const kiln::v1::Envelope envelope = co_await read_envelope(*s);
      dispatch(envelope);
    }
  }

  void dispatch(const kiln::v1::Envelope& envelope) {
    switch (envelope.body_case()) {
      case kiln::v1::Envelope::kPhaseDispatch:
        handler_.on_dispatch(envelope.phase_dispatch());
        break;
      case kiln::v1::Envelope::kPhaseAbort:
        handler_.on_abort(envelope.phase_abort());
        break;
      case kiln::v1::Envelope::kBatchAck:
        if (!outbox_.ack(envelope.batch_ack().epoch(), envelope.batch_ack().seq())) {
          spdlog::debug("daemon link: ack for unknown batch {}/{}", envelope.batch_ack().epoch(),
                        envelope.batch_ack().seq());
        }
        break;
      case kiln::v1::Envelope::kHeartbeat:
        break;
      default:
        spdlog::warn("daemon link: ignoring unexpected {} from the daemon", body_name(envelope));
        break;
    }
  }

  asio::awaitable<void> writer(std::shared_ptr<Session> s) {
    while (!s->closed) {
      if (stopping_) {
        co_await flush(*s, std::numeric_limits<int>::max());
        s->close();
        co_return;
      }
      s->wake.expires_after(config_.flush_interval);
      boost::system::error_code ignored;
      co_await s->wake.async_wait(asio::redirect_error(use_awaitable, ignored));
      if (s->closed || stopping_) continue;
      const auto now = SteadyClock::now();
      if (now - s->last_heard > config_.silence_timeout) {
        spdlog::warn("daemon link: nothing from the daemon for {} ms", config_.silence_timeout.count());
        s->close();
        co_return;
      }
      const bool sent = co_await flush(*s, kMaxBatchesPerFlush);
      if (!sent && now - s->last_sent >= config_.heartbeat_interval) {
        kiln::v1::Envelope heartbeat;
        heartbeat.mutable_heartbeat()->set_sent_unix_ms(unix_ms_now());
        co_await send(*s, heartbeat);
      }
    }
  }

  // Sends up to `max_batches` new batches; true when it sent any.
  asio::awaitable<bool> flush(Session& s, int max_batches) {
    bool sent = false;
    for (int i = 0; i < max_batches; ++i) {
      const BatchPtr batch = outbox_.take_batch();
      if (!batch) break;
      co_await send_batch(s, *batch);
      sent = true;
    }
    co_return sent;
  }

  // While the daemon stays unreachable, only every 12th failure (about a
  // minute at the 5 s backoff cap) is logged above debug.
  bool loud() const { return failures_ <= 1 || failures_ % 12 == 0; }

  const LinkConfig config_;
  const kiln::v1::RegisterRack registration_;
  Outbox& outbox_;
  LinkHandler& handler_;
  std::atomic<bool>& connected_;
  std::atomic<std::uint64_t>& sessions_;

  asio::io_context io_;
  asio::steady_timer retry_timer_;
  std::weak_ptr<Session> current_;
  bool stopping_ = false;  // io thread only
  bool fatal_ = false;     // io thread only
  std::uint64_t failures_ = 0;  // failed connections in a row (io thread only)
  std::thread thread_;
};

DaemonLink::DaemonLink(LinkConfig config, kiln::v1::RegisterRack registration, Outbox& outbox, LinkHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(registration), outbox, handler, connected_,
                                   sessions_)) {}

DaemonLink::~DaemonLink() { stop(); }

void DaemonLink::start() { impl_->start(); }

void DaemonLink::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

}  // namespace kiln::agent
