#include "net/link.hpp"

#include <atomic>
#include <map>
#include <mutex>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/connection.hpp"
#include "net/io_thread.hpp"
#include "net/stream.hpp"
#include "net/tls_context.hpp"
#include "schema/frame.hpp"

namespace kiln::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

const char* to_string(LinkState state) {
  switch (state) {
    case LinkState::connecting: return "connecting";
    case LinkState::up: return "up";
    case LinkState::retrying: return "retrying";
    case LinkState::stopped: return "stopped";
  }
  return "?";
}

namespace {

const std::string& body_name(const kiln::v1::Envelope& envelope) {
  static const std::string nothing = "nothing";
  const auto* field = kiln::v1::Envelope::descriptor()->FindFieldByNumber(static_cast<int>(envelope.body_case()));
  return field != nullptr ? field->name() : nothing;
}

// How one connection ended, for the status and the requests it fails.
struct Ended {
  std::string reason;
  ErrorCode code = ErrorCode::unavailable;
  bool was_up = false;
  bool refused = false;
  std::string refusal;  // the daemon's reason
};

}  // namespace

Status check_tls(const TlsClientOptions& tls) {
  auto context = make_client_tls(tls);
  if (!context) return context.error();
  return {};
}

class Link::Impl final : public LinkChannel {
 public:
  Impl(LinkOptions options, LinkHandler& handler)
      : options_(std::move(options)),
        handler_(handler),
        io_(options_.name),
        retry_timer_(io_.context()),
        tick_timer_(io_.context()),
        closed_signal_(io_.context()),
        resolver_(io_.context()),
        joiner_(options_.max_reply_bytes),
        where_(fmt::format("{}:{}", options_.endpoint.host, options_.endpoint.port)) {
    auto tls = make_client_tls(options_.tls);
    if (tls) {
      tls_ = std::move(tls).value();
    } else {
      tls_error_ = tls.error();
    }
  }

  void start() {
    {
      std::lock_guard lock(run_mutex_);
      if (running_ || started_) return;
      running_ = started_ = true;
    }
    asio::co_spawn(io_.context(), run(), asio::detached);
    io_.start();
  }

  void stop(std::chrono::milliseconds grace) {
    bool was_running = false;
    {
      std::lock_guard lock(run_mutex_);
      was_running = std::exchange(running_, false);
    }
    if (was_running) asio::post(io_.context(), [this, grace] { begin_stop(grace); });
    io_.join();
  }

  std::uint64_t request(kiln::v1::Envelope envelope, ReplyFn on_reply) {
    const std::uint64_t id = next_request_id_++;
    envelope.set_request_id(id);
    {
      std::lock_guard lock(run_mutex_);
      if (running_) {
        asio::post(io_.context(), [this, id, envelope = std::move(envelope), on_reply = std::move(on_reply)]() mutable {
          dispatch(id, envelope, std::move(on_reply));
        });
        return id;
      }
    }
    on_reply(make_error(ErrorCode::unavailable, "not connected to {}", where_));
    return id;
  }

  void tick_now() {
    if (tick_asked_.exchange(true)) return;  // one is on its way
    std::lock_guard lock(run_mutex_);
    if (!running_) {
      tick_asked_ = false;
      return;
    }
    asio::post(io_.context(), [this] {
      tick_asked_ = false;
      if (up_ && !stopping_) handler_.on_tick(*this);
    });
  }

  LinkStatus status() const {
    std::lock_guard lock(status_mutex_);
    return status_;
  }

  // LinkChannel, on the io thread.
  Status send(const kiln::v1::Envelope& envelope) override {
    if (!up_ || !connection_) return make_error(ErrorCode::unavailable, "not connected to {}", where_);
    return connection_->send(envelope);
  }
  std::size_t room() const override { return up_ && connection_ ? connection_->room() : 0; }

 private:
  // The handler of one connection: hands its events to the link.
  class Attempt final : public ConnectionHandler {
   public:
    explicit Attempt(Impl& link) : link_(link) {}
    void on_envelope(Connection& c, kiln::v1::Envelope envelope) override { link_.on_envelope(c, std::move(envelope)); }
    void on_closed(Connection&, const CloseReason& reason) override { link_.on_closed(reason); }
    void on_drained(Connection&) override { link_.on_drained(); }

   private:
    Impl& link_;
  };

  void set_status(LinkStatus status) {
    {
      std::lock_guard lock(status_mutex_);
      status_ = status;
    }
    handler_.on_status(status);
  }

  // While the daemon stays unreachable, only the first failure and every
  // 12th after it (about a minute at a 5 s backoff) are logged above debug.
  spdlog::level::level_enum failure_level(int failures) const {
    if (!options_.reconnect) return spdlog::level::debug;
    return failures <= 1 || failures % 12 == 0 ? spdlog::level::warn : spdlog::level::debug;
  }

  asio::awaitable<void> run() {
    Backoff backoff(options_.reconnect.value_or(BackoffPolicy{}));
    set_status(LinkStatus{LinkState::connecting, "connecting"});
    Ended ended;
    if (tls_error_) {
      ended = Ended{tls_error_->message, tls_error_->code};
      spdlog::error("{}: {}", options_.name, ended.reason);
    }
    while (!stopping_ && !tls_error_) {
      ended = co_await connect_once();
      fail_pending("connection lost: " + ended.reason);
      if (stopping_) break;
      if (ended.refused) {
        spdlog::error("{}: {} refused {}: {}", options_.name, where_, options_.hello.identity, ended.refusal);
        if (handler_.on_refused(ended.refusal) == AfterRefusal::stop) break;
      }
      if (!options_.reconnect) break;
      if (ended.was_up) backoff.reset();
      const auto delay = backoff.next();
      spdlog::log(failure_level(backoff.failures()), "{}: {}: {}; connecting again in {} ms", options_.name, where_,
                  ended.reason, delay.count());
      set_status(LinkStatus{LinkState::retrying, ended.reason, ended.code, backoff.failures(), delay});
      retry_timer_.expires_after(delay);
      error_code ignored;
      co_await retry_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    {
      // From here request() answers at once: nothing would send it.
      std::lock_guard lock(run_mutex_);
      running_ = false;
    }
    set_status(LinkStatus{LinkState::stopped,
                          stopping_ ? std::string("stopped") : ended.reason,
                          stopping_ ? ErrorCode::unavailable : ended.code,
                          0,
                          {}});
  }

  // One connection, from resolving the address until it closed.
  asio::awaitable<Ended> connect_once() {
    ended_ = Ended{};
    error_code ec;
    const auto started = Clock::now();
    const auto endpoints = co_await resolver_.async_resolve(
        options_.endpoint.host, std::to_string(options_.endpoint.port), asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) co_return Ended{"stopped"};
    if (ec) co_return Ended{fmt::format("cannot resolve {}: {}", options_.endpoint.host, ec.message())};

    // The connect counts against the handshake deadline too.
    auto socket = std::make_shared<tcp::socket>(io_.context());
    auto timed_out = std::make_shared<bool>(false);
    asio::steady_timer connect_deadline(io_.context());
    connect_deadline.expires_after(options_.deadlines.handshake);
    connect_deadline.async_wait([socket, timed_out](const error_code& e) {
      if (e) return;
      *timed_out = true;
      error_code ignored;
      socket->close(ignored);
    });
    connecting_ = socket;
    co_await asio::async_connect(*socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
    connect_deadline.cancel();
    connecting_.reset();
    if (stopping_) co_return Ended{"stopped"};
    if (ec) co_return Ended{*timed_out ? std::string("connection timed out") : ec.message()};
    socket->set_option(tcp::no_delay(true), ec);

    Stream stream = tls_ ? Stream(std::move(*socket), *tls_, Stream::Side::client) : Stream(std::move(*socket));
    if (stream.is_tls()) {
      if (auto named = expect_peer_name(*stream.tls(), options_.endpoint.host); !named) {
        co_return Ended{named.error().message, named.error().code};
      }
    }
    // The TLS handshake runs inside the connection, under the deadline set below.
    connection_ = Connection::create(std::move(stream), std::make_shared<Attempt>(*this), options_.max_queued_bytes);
    connection_->start();
    const auto left =
        options_.deadlines.handshake - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    connection_->set_deadline(std::max(left, std::chrono::milliseconds(1)), "no Welcome from the daemon in time");
    kiln::v1::Envelope hello;
    auto* h = hello.mutable_hello();
    h->set_protocol_version(wire::kProtocolVersion);
    h->set_role(options_.hello.role);
    h->set_identity(options_.hello.identity);
    h->set_credential(options_.hello.credential);
    if (auto sent = connection_->send(hello); !sent) connection_->close(sent.error().message);
    while (connection_->is_open()) {
      closed_signal_.expires_at(Clock::time_point::max());
      error_code ignored;
      co_await closed_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    connection_.reset();
    co_return ended_;
  }

  void on_envelope(Connection& connection, kiln::v1::Envelope envelope) {
    if (!up_) {
      handshake(connection, envelope);
      return;
    }
    if (envelope.has_heartbeat()) return;
    if (envelope.has_refused()) {
      // Refused after Welcome (an agent's RegisterRack): as final as at the handshake.
      ended_.refused = true;
      ended_.refusal = envelope.refused().reason();
      connection.close("the daemon refused us: " + ended_.refusal);
      return;
    }
    if (envelope.request_id() != 0) {
      deliver_reply(std::move(envelope));
      return;
    }
    handler_.on_message(*this, std::move(envelope));
  }

  void handshake(Connection& connection, const kiln::v1::Envelope& envelope) {
    if (envelope.has_heartbeat()) return;
    if (envelope.has_refused()) {
      ended_.refused = true;
      ended_.refusal = envelope.refused().reason();
      connection.close("the daemon refused us: " + ended_.refusal);
      return;
    }
    if (!envelope.has_welcome()) {
      connection.close(CloseReason{CloseCause::protocol, "expected Welcome, got " + body_name(envelope)});
      return;
    }
    connection.clear_deadline();
    connection.set_heartbeat(options_.deadlines.heartbeat);
    connection.set_silence(options_.deadlines.silence);
    up_ = true;
    ended_.was_up = true;
    spdlog::info("{}: connected to {} at {}", options_.name, envelope.welcome().daemon_version(), where_);
    set_status(LinkStatus{LinkState::up, envelope.welcome().daemon_version()});
    handler_.on_up(*this, envelope.welcome());
    if (options_.tick.count() > 0) asio::co_spawn(io_.context(), ticks(++tick_generation_), asio::detached);
  }

  void on_closed(const CloseReason& reason) {
    const bool was_up = up_;
    up_ = false;
    tick_timer_.cancel();
    closed_signal_.cancel();
    if (ended_.refused) {
      ended_.reason = "the daemon refused us: " + ended_.refusal;
      ended_.code = ErrorCode::auth;
      return;
    }
    switch (reason.cause) {
      case CloseCause::local: ended_.reason = reason.text; break;
      case CloseCause::peer:
        if (reason.text != "peer closed the connection") {
          ended_.reason = reason.text;
        } else if (was_up || tls_) {
          ended_.reason = "the daemon closed the connection";
        } else {
          // A TLS daemon drops a plaintext Hello it cannot read as a handshake.
          ended_.reason = "the daemon closed the connection before Welcome (a TLS daemon? give its CA with --tls-ca)";
        }
        if (!was_up && tls_ && reason.text.starts_with("TLS: ")) ended_.code = ErrorCode::auth;
        break;
      case CloseCause::tls:
        ended_.reason = reason.text;
        ended_.code = ErrorCode::auth;
        break;
      case CloseCause::peer_speaks_tls:
        ended_.reason = "the daemon speaks TLS: give the CA that signed its certificate with --tls-ca (or KILN_TLS_CA)";
        ended_.code = ErrorCode::protocol;
        break;
      case CloseCause::protocol:
        ended_.reason = "bad frame from the daemon: " + reason.text;
        ended_.code = ErrorCode::protocol;
        break;
      case CloseCause::timeout:
        ended_.reason = was_up ? "the daemon went silent (" + reason.text + ")" : reason.text;
        break;
    }
  }

  void on_drained() {
    if (final_flushing_) final_flush();
  }

  void deliver_reply(kiln::v1::Envelope envelope) {
    const std::uint64_t id = envelope.request_id();
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // a reply to a request failed already
    auto joined = joiner_.add(std::move(envelope));
    if (joined && !*joined) return;  // more parts to come
    ReplyFn done = std::move(it->second);
    pending_.erase(it);
    if (!joined) {
      done(joined.error());
    } else {
      done(std::move(**joined));
    }
  }

  void dispatch(std::uint64_t id, const kiln::v1::Envelope& envelope, ReplyFn on_reply) {
    if (stopping_) {
      on_reply(make_error(ErrorCode::unavailable, "the link to {} is stopping", where_));
      return;
    }
    if (auto sent = send(envelope); !sent) {
      on_reply(sent.error());
      return;
    }
    pending_.emplace(id, std::move(on_reply));
  }

  void fail_pending(const std::string& why) {
    auto pending = std::exchange(pending_, {});
    joiner_.clear();
    for (auto& [id, done] : pending) done(Error{ErrorCode::unavailable, why});
  }

  asio::awaitable<void> ticks(std::uint64_t generation) {
    while (up_ && !stopping_ && generation == tick_generation_) {
      tick_timer_.expires_after(options_.tick);
      error_code ignored;
      co_await tick_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      if (!up_ || stopping_ || generation != tick_generation_) co_return;
      handler_.on_tick(*this);
    }
  }

  void begin_stop(std::chrono::milliseconds grace) {
    stopping_ = true;
    retry_timer_.cancel();
    tick_timer_.cancel();
    resolver_.cancel();
    if (connecting_) {
      error_code ignored;
      connecting_->close(ignored);
    }
    if (!connection_) return;
    if (up_ && grace.count() > 0) {
      connection_->set_deadline(grace, "the final flush did not finish in time");
      final_flushing_ = true;
      final_flush();
    } else {
      connection_->close("stopped");
    }
  }

  void final_flush() {
    if (!connection_ || !connection_->is_open() || connection_->closing()) return;
    if (handler_.on_final_flush(*this)) connection_->close_after_flush("stopped");
  }

  const LinkOptions options_;
  LinkHandler& handler_;
  IoThread io_;
  asio::steady_timer retry_timer_;
  asio::steady_timer tick_timer_;
  asio::steady_timer closed_signal_;  // cancelled when the current connection closed
  tcp::resolver resolver_;
  ReplyJoiner joiner_;
  const std::string where_;         // host:port
  TlsContext tls_;                  // null: plain TCP
  std::optional<Error> tls_error_;  // the options could not be used: no attempt is made

  // The io thread's.
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<tcp::socket> connecting_;
  Ended ended_;
  std::map<std::uint64_t, ReplyFn> pending_;
  std::uint64_t tick_generation_ = 0;
  bool up_ = false;
  bool stopping_ = false;
  bool final_flushing_ = false;

  std::atomic<std::uint64_t> next_request_id_{1};
  std::atomic<bool> tick_asked_{false};  // a tick_now() is posted and has not run
  std::mutex run_mutex_;                 // running_: request() posts only while the thread runs
  bool running_ = false;
  bool started_ = false;
  mutable std::mutex status_mutex_;
  LinkStatus status_;
};

Link::Link(LinkOptions options, LinkHandler& handler) : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Link::~Link() { stop(); }

void Link::start() { impl_->start(); }

void Link::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

std::uint64_t Link::request(kiln::v1::Envelope request, ReplyFn on_reply) {
  return impl_->request(std::move(request), std::move(on_reply));
}

void Link::tick_now() { impl_->tick_now(); }

LinkStatus Link::status() const { return impl_->status(); }

}  // namespace kiln::net
