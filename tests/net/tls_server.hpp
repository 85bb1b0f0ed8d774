#pragma once
// A kilnd stand-in for the TLS tests, built on kiln_net's own Connection
// (so the server side of the TLS handshake under test is kilnd's): answers
// Hello with Welcome and records why each connection closed. Plain TCP
// when given no context. Tests wait on what it recorded, never on the clock.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/connection.hpp"
#include "net/stream.hpp"
#include "net/tls_context.hpp"

namespace kiln::net::testing {

class TlsTestServer {
 public:
  explicit TlsTestServer(TlsContext tls, boost::asio::ip::address address = boost::asio::ip::address_v4::loopback())
      : tls_(std::move(tls)), acceptor_(io_, {address, 0}) {
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsTestServer() {
    boost::asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (auto& weak : connections_) {
        if (auto c = weak.lock()) c->close("server stopping");
      }
    });
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  int hellos() const {
    std::lock_guard lock(state_->mutex);
    return state_->hellos;
  }
  // Waits for the first connection to close; its reason (cause local, text "none" on timeout).
  CloseReason first_close(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock lock(state_->mutex);
    if (!state_->cv.wait_for(lock, timeout, [&] { return !state_->closes.empty(); })) {
      return CloseReason{CloseCause::local, "none"};
    }
    return state_->closes.front();
  }

 private:
  struct State {
    mutable std::mutex mutex;
    std::condition_variable cv;
    int hellos = 0;
    std::vector<CloseReason> closes;
  };

  class Handler final : public ConnectionHandler {
   public:
    explicit Handler(std::shared_ptr<State> state) : state_(std::move(state)) {}
    void on_envelope(Connection& connection, kiln::v1::Envelope envelope) override {
      if (!envelope.has_hello()) return;
      {
        std::lock_guard lock(state_->mutex);
        ++state_->hellos;
      }
      state_->cv.notify_all();
      kiln::v1::Envelope welcome;
      welcome.mutable_welcome()->set_daemon_version("tls-test-0");
      (void)connection.send(welcome);
    }
    void on_closed(Connection&, const CloseReason& reason) override {
      {
        std::lock_guard lock(state_->mutex);
        state_->closes.push_back(reason);
      }
      state_->cv.notify_all();
    }

   private:
    std::shared_ptr<State> state_;
  };

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      auto socket = co_await acceptor_.async_accept(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) co_return;
      Stream stream = tls_ ? Stream(std::move(socket), *tls_, Stream::Side::server) : Stream(std::move(socket));
      auto connection = Connection::create(std::move(stream), std::make_shared<Handler>(state_));
      connections_.push_back(connection);
      connection->start();
      connection->set_deadline(std::chrono::seconds(10), "no Hello in time");
    }
  }

  TlsContext tls_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::weak_ptr<Connection>> connections_;
  std::thread thread_;
};

}  // namespace kiln::net::testing
