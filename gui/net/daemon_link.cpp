#include "gui/net/daemon_link.hpp"

#include <array>
#include <deque>
#include <map>
#include <set>
#include <thread>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "core/clock.hpp"
#include "schema/frame.hpp"

namespace kiln::gui {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kHeartbeat = std::chrono::seconds(2);
constexpr auto kWatchTick = std::chrono::milliseconds(200);
constexpr auto kFirstBackoff = std::chrono::milliseconds(500);

kiln::v1::Envelope unavailable(const std::string& why) {
  kiln::v1::Envelope e;
  e.mutable_error_reply()->set_code("unavailable");
  e.mutable_error_reply()->set_message(why);
  return e;
}
}  // namespace

// Everything of one start(): its own io_context and thread, so stop() and a
// new start() never share half-finished coroutines.
class DaemonLink::Worker {
 public:
  Worker(LiveStaging& staging, LinkConfig config)
      : staging_(staging), config_(std::move(config)), socket_(io_), write_signal_(io_), backoff_(io_) {
    endpoint_text_ = fmt::format("{}:{}", config_.endpoint.host, config_.endpoint.port);
  }

  void start() {
    asio::co_spawn(io_, run(), asio::detached);
    thread_ = std::thread([this] {
      try {
        io_.run();
      } catch (const std::exception&) {
        // A bug in a handler: the link shows as disconnected rather than taking the window down.
        set_link(LinkPhase::disconnected, "network thread stopped unexpectedly");
      }
    });
  }

  void stop() {
    asio::post(io_, [this] {
      stopping_ = true;
      error_code ignored;
      socket_.close(ignored);
      backoff_.cancel();
      write_signal_.cancel();
    });
    if (thread_.joinable()) thread_.join();
    set_link(LinkPhase::disconnected, "disconnected");
  }

  void request(std::uint64_t id, kiln::v1::Envelope envelope) {
    envelope.set_request_id(id);
    asio::post(io_, [this, id, envelope = std::move(envelope)]() mutable {
      if (!connected_) {
        staging_.push_reply(Reply{id, unavailable("not connected to " + endpoint_text_)});
        return;
      }
      pending_.insert(id);
      queue(envelope);
    });
  }

 private:
  void set_link(LinkPhase phase, std::string detail, int attempt = 0, std::int64_t next_try = 0) {
    staging_.set_link(LinkState{phase, endpoint_text_, std::move(detail), attempt, next_try});
  }

  void queue(const kiln::v1::Envelope& envelope) {
    outgoing_.push_back(wire::encode_envelope(envelope));
    last_sent_ = Clock::now();
    write_signal_.cancel_one();
  }

  asio::awaitable<void> run() {
    int attempt = 0;
    while (!stopping_) {
      set_link(attempt == 0 ? LinkPhase::connecting : LinkPhase::reconnecting, "connecting", attempt);
      const std::string why = co_await connect_once();
      ++generation_;  // ends this connection's watchdog and writer
      write_signal_.cancel();
      connected_ = false;
      for (const auto id : pending_) staging_.push_reply(Reply{id, unavailable("connection lost: " + why)});
      pending_.clear();
      partial_.clear();
      outgoing_.clear();
      if (stopping_) break;
      if (was_up_) attempt = 0;
      ++attempt;
      auto delay = std::min<std::chrono::milliseconds>(config_.max_backoff, kFirstBackoff * (1 << std::min(attempt - 1, 4)));
      set_link(LinkPhase::reconnecting, why, attempt, unix_ms_now() + delay.count());
      backoff_.expires_after(delay);
      error_code ec;
      co_await backoff_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // One connection's life; returns why it ended.
  asio::awaitable<std::string> connect_once() {
    was_up_ = false;
    error_code ec;
    socket_ = asio::ip::tcp::socket(io_);
    asio::ip::tcp::resolver resolver(io_);
    auto endpoints = co_await resolver.async_resolve(config_.endpoint.host, std::to_string(config_.endpoint.port),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return "cannot resolve " + config_.endpoint.host + ": " + ec.message();
    deadline_ = Clock::now() + config_.connect_timeout;
    timed_out_ = false;
    end_reason_.clear();
    const std::uint64_t generation = ++generation_;
    asio::co_spawn(io_, watchdog(generation), asio::detached);
    co_await asio::async_connect(socket_, endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return timed_out_ ? std::string("connection timed out") : "no daemon: " + ec.message();
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);

    kiln::v1::Envelope hello;
    hello.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
    hello.mutable_hello()->set_role(kiln::v1::ROLE_CLIENT);
    hello.mutable_hello()->set_identity("kiln-dash");
    hello.mutable_hello()->set_credential(config_.credential);
    outgoing_.clear();
    queue(hello);
    asio::co_spawn(io_, writer(generation), asio::detached);

    decoder_ = wire::FrameDecoder();
    std::array<char, 64 * 1024> buffer{};
    std::string payload;
    for (;;) {
      const std::size_t n =
          co_await socket_.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!end_reason_.empty()) co_return std::exchange(end_reason_, {});
        if (timed_out_) co_return connected_ ? "the daemon went silent" : "no answer to Hello";
        co_return ec == asio::error::eof ? std::string("the daemon closed the connection") : ec.message();
      }
      last_heard_ = Clock::now();
      decoder_.feed(buffer.data(), n);
      for (;;) {
        const auto state = decoder_.next(payload);
        if (state == wire::FrameDecoder::State::need_more) break;
        if (state == wire::FrameDecoder::State::error) {
          close("bad frame from the daemon: " + decoder_.error_message());
          break;
        }
        auto envelope = wire::decode_envelope(payload);
        if (!envelope) {
          close("bad message from the daemon: " + envelope.error().message);
          break;
        }
        handle(std::move(*envelope));
      }
    }
  }

  void close(std::string why) {
    if (end_reason_.empty()) end_reason_ = std::move(why);
    error_code ignored;
    socket_.close(ignored);
  }

  void handle(kiln::v1::Envelope envelope) {
    if (envelope.has_heartbeat()) return;
    if (envelope.has_refused()) {
      close("the daemon refused us: " + envelope.refused().reason());
      return;
    }
    if (envelope.has_welcome()) {
      connected_ = was_up_ = true;
      set_link(LinkPhase::connected, envelope.welcome().daemon_version());
      kiln::v1::Envelope subscribe;
      subscribe.mutable_subscribe()->set_max_hz(config_.max_hz);
      queue(subscribe);
      return;
    }
    if (envelope.has_live_update()) {
      staging_.push_update(std::move(*envelope.mutable_live_update()));
      return;
    }
    const std::uint64_t id = envelope.request_id();
    if (!pending_.contains(id)) return;  // a reply to a request that was failed already
    if (envelope.has_query_reply() && envelope.query_reply().more()) {
      partial_[id] += envelope.query_reply().body();
      return;
    }
    if (envelope.has_query_reply()) {
      if (auto it = partial_.find(id); it != partial_.end()) {
        it->second += envelope.query_reply().body();
        envelope.mutable_query_reply()->set_body(std::move(it->second));
        partial_.erase(it);
      }
    }
    pending_.erase(id);
    staging_.push_reply(Reply{id, std::move(envelope)});
  }

  asio::awaitable<void> writer(std::uint64_t generation) {
    while (generation == generation_ && socket_.is_open()) {
      if (outgoing_.empty()) {
        write_signal_.expires_at(Clock::time_point::max());
        error_code ignored;
        co_await write_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        continue;
      }
      const std::string frame = std::move(outgoing_.front());
      outgoing_.pop_front();
      error_code ec;
      co_await asio::async_write(socket_, asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        close("lost the connection: " + ec.message());
        co_return;
      }
    }
  }

  // Deadlines: the connect and Hello must finish in time, and a connected
  // daemon must be heard from (it heartbeats); our own heartbeats go out here.
  asio::awaitable<void> watchdog(std::uint64_t generation) {
    asio::steady_timer timer(io_);
    while (generation == generation_ && !stopping_) {
      timer.expires_after(kWatchTick);
      error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (generation != generation_) co_return;
      const auto now = Clock::now();
      if (!connected_ && now > deadline_) {
        timed_out_ = true;
        error_code ignored;
        socket_.close(ignored);
        co_return;
      }
      if (connected_ && now - last_heard_ > config_.silence_timeout) {
        timed_out_ = true;
        error_code ignored;
        socket_.close(ignored);
        co_return;
      }
      if (connected_ && now - last_sent_ > kHeartbeat) {
        kiln::v1::Envelope beat;
        beat.mutable_heartbeat()->set_sent_unix_ms(unix_ms_now());
        queue(beat);
      }
    }
  }

  LiveStaging& staging_;
  LinkConfig config_;
  std::string endpoint_text_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer write_signal_;
  asio::steady_timer backoff_;
  std::thread thread_;
  wire::FrameDecoder decoder_;
  std::deque<std::string> outgoing_;
  std::set<std::uint64_t> pending_;
  std::map<std::uint64_t, std::string> partial_;
  std::string end_reason_;
  Clock::time_point deadline_;
  Clock::time_point last_heard_ = Clock::now();
  Clock::time_point last_sent_ = Clock::now();
  std::uint64_t generation_ = 0;
  bool connected_ = false;
  bool was_up_ = false;
  bool timed_out_ = false;
  bool stopping_ = false;
};

DaemonLink::DaemonLink(LiveStaging& staging) : staging_(staging) {}

DaemonLink::~DaemonLink() { stop(); }

void DaemonLink::start(LinkConfig config) {
  stop();
  worker_ = std::make_shared<Worker>(staging_, std::move(config));
  worker_->start();
}

void DaemonLink::stop() {
  if (!worker_) return;
  worker_->stop();
  worker_.reset();
}

std::uint64_t DaemonLink::request(kiln::v1::Envelope envelope) {
  const std::uint64_t id = next_request_id_++;
  if (!worker_) {
    staging_.push_reply(Reply{id, unavailable("not connected")});
    return id;
  }
  worker_->request(id, std::move(envelope));
  return id;
}

}  // namespace kiln::gui
