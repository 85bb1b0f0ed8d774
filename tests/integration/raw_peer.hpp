#pragma once
// A peer that speaks raw frames to kilnd, to play a hostile agent or client
// in integration tests: it sends exactly what the test builds, and reads
// what comes back through the protocol's own decoder.

#include <array>
#include <chrono>
#include <optional>
#include <string>

#include <poll.h>
#include <sys/socket.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "schema/frame.hpp"
#include "schema/kiln.pb.h"

namespace kiln::testing {

class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }

  // False once the daemon has closed the connection (what a hostile peer
  // keeps sending after that is lost, as it would be).
  bool send(const kiln::v1::Envelope& envelope) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(wire::encode_envelope(envelope)), ec);
    return !ec;
  }

  void hello(kiln::v1::Role role, const std::string& identity, const std::string& credential) {
    kiln::v1::Envelope envelope;
    auto* h = envelope.mutable_hello();
    h->set_protocol_version(wire::kProtocolVersion);
    h->set_role(role);
    h->set_identity(identity);
    h->set_credential(credential);
    send(envelope);
  }

  // The next envelope other than a heartbeat; nullopt when the daemon closed
  // the connection or sent nothing within `limit`.
  std::optional<kiln::v1::Envelope> next(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      std::string payload;
      while (decoder_.next(payload) == wire::FrameDecoder::State::frame) {
        auto envelope = wire::decode_envelope(payload);
        if (!envelope) return std::nullopt;
        if (!envelope->has_heartbeat()) return std::move(envelope).value();
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) return std::nullopt;
      pollfd ready{socket_.native_handle(), POLLIN, 0};
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
      if (::poll(&ready, 1, static_cast<int>(wait.count()) + 1) <= 0) continue;
      std::array<char, 8192> buffer{};
      const ssize_t got = ::recv(socket_.native_handle(), buffer.data(), buffer.size(), 0);
      if (got <= 0) return std::nullopt;  // closed (or reset)
      decoder_.feed(buffer.data(), static_cast<std::size_t>(got));
    }
  }

  // Whether the daemon closes the connection within `limit`, reading (and
  // dropping) what it sends meanwhile.
  bool closed_within(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      pollfd ready{socket_.native_handle(), POLLIN, 0};
      if (::poll(&ready, 1, 20) <= 0) continue;
      std::array<char, 8192> buffer{};
      const ssize_t got = ::recv(socket_.native_handle(), buffer.data(), buffer.size(), 0);
      if (got <= 0) return true;
    }
    return false;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  wire::FrameDecoder decoder_;
};

}  // namespace kiln::testing
