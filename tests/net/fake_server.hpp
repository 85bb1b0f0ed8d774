#pragma once
// A scripted kilnd for the link tests (kiln_net's and the agent's), on
// loopback with its own io_context thread: answers Hello with Welcome (or
// Refused, or nothing), records every envelope, acks batches when told to,
// answers requests through a test's responder, and lets a test send frames
// or drop the connection. Tests wait on what it received (a condition
// variable), never on the clock.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
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
#include <boost/asio/write.hpp>

#include "schema/frame.hpp"

namespace kiln::net::testing {

class FakeServer {
 public:
  using Envelopes = std::vector<kiln::v1::Envelope>;
  // What to send back for a request (an envelope with request_id set); on the server's thread.
  using Responder = std::function<std::vector<kiln::v1::Envelope>(const kiln::v1::Envelope& request)>;

  explicit FakeServer(Responder responder = {})
      : responder_(std::move(responder)), acceptor_(io_, {boost::asio::ip::address_v4::loopback(), 0}) {
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~FakeServer() {
    boost::asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      close_current();
    });
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::atomic<bool> refuse{false};
  std::atomic<bool> answer_hello{true};
  std::atomic<bool> auto_ack{true};

  int connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

  Envelopes received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

  // Waits until `done(received)` holds; false on timeout.
  bool wait(const std::function<bool(const Envelopes&)>& done,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return done(received_); });
  }
  bool wait_connections(int count, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return connections_ >= count; });
  }

  void send(const kiln::v1::Envelope& envelope) { send_raw(wire::encode_envelope(envelope)); }

  void send_raw(std::string bytes) {
    boost::asio::post(io_, [this, bytes = std::move(bytes)] { write(bytes); });
  }

  void drop_connection() {
    boost::asio::post(io_, [this] { close_current(); });
  }

 private:
  using tcp = boost::asio::ip::tcp;

  void close_current() {
    if (current_) {
      boost::system::error_code ignored;
      current_->shutdown(tcp::socket::shutdown_both, ignored);
      current_->close(ignored);
    }
  }

  // Synchronous on the io thread: frames are small and loopback is fast,
  // and it keeps writes from interleaving.
  void write(const std::string& bytes) {
    if (!current_ || !current_->is_open()) return;
    boost::system::error_code ignored;
    boost::asio::write(*current_, boost::asio::buffer(bytes), ignored);
  }

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket accepted =
          co_await acceptor_.async_accept(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) co_return;
      auto socket = std::make_shared<tcp::socket>(std::move(accepted));
      close_current();  // one client connection at a time
      current_ = socket;
      {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      cv_.notify_all();
      boost::asio::co_spawn(io_, serve(socket), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> serve(std::shared_ptr<tcp::socket> socket) {
    wire::FrameDecoder decoder;
    std::array<char, 65536> buffer{};
    std::string payload;
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n = co_await socket->async_read_some(
          boost::asio::buffer(buffer), boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) co_return;
      decoder.feed(buffer.data(), n);
      while (decoder.next(payload) == wire::FrameDecoder::State::frame) {
        auto envelope = wire::decode_envelope(payload);
        if (!envelope) co_return;
        handle(*envelope);
      }
    }
  }

  void handle(const kiln::v1::Envelope& envelope) {
    {
      std::lock_guard lock(mutex_);
      received_.push_back(envelope);
    }
    cv_.notify_all();
    kiln::v1::Envelope reply;
    if (envelope.has_hello()) {
      if (!answer_hello) return;
      if (refuse) {
        reply.mutable_refused()->set_reason("unknown credential");
        write(wire::encode_envelope(reply));
        close_current();
        return;
      }
      reply.mutable_welcome()->set_daemon_version("fake-0");
      write(wire::encode_envelope(reply));
    } else if (envelope.has_agent_batch() && auto_ack) {
      reply.mutable_batch_ack()->set_epoch(envelope.agent_batch().epoch());
      reply.mutable_batch_ack()->set_seq(envelope.agent_batch().seq());
      write(wire::encode_envelope(reply));
    } else if (envelope.request_id() != 0 && responder_) {
      for (const auto& answer : responder_(envelope)) write(wire::encode_envelope(answer));
    }
  }

  Responder responder_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<tcp::socket> current_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  int connections_ = 0;
  Envelopes received_;
  std::thread thread_;
};

// Count of envelopes with a given body.
inline int count_of(const FakeServer::Envelopes& all, kiln::v1::Envelope::BodyCase body) {
  int n = 0;
  for (const auto& e : all) n += e.body_case() == body ? 1 : 0;
  return n;
}

}  // namespace kiln::net::testing
