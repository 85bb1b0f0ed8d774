#pragma once
// The byte stream under a Connection: plain TCP, or TLS over TCP
// (Boost.Asio's ssl::stream). Both halves keep their address when a Stream
// moves, so a timer may hold the socket while the stream changes hands.
// One read and one write may be in flight at once, as Asio allows for both.
//
// Internal to kiln_net and kilnd (it names Boost.Asio).

#include <cstddef>
#include <memory>
#include <string>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

namespace kiln::net {

class Stream {
 public:
  using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  enum class Side { client, server };

  explicit Stream(boost::asio::ip::tcp::socket socket);
  // TLS over `socket`; the handshake is the Connection's, as `side`.
  Stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& context, Side side);

  bool is_tls() const { return tls_ != nullptr; }
  Side side() const { return side_; }
  TlsStream* tls() { return tls_.get(); }
  boost::asio::ip::tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }

  // Asio's asynchronous operations, on whichever layer there is: with one
  // completion token both answer the same type (an awaitable), and no
  // coroutine frame of our own sits between (GCC 12 misreads nested ones).
  // The TLS handshake is Connection's to start (tls() is null for plain TCP).
  template <typename Token>
  auto async_read_some(boost::asio::mutable_buffer buffer, Token&& token) {
    if (tls_) return tls_->async_read_some(buffer, std::forward<Token>(token));
    return plain_->async_read_some(buffer, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_write(boost::asio::const_buffer buffer, Token&& token) {
    if (tls_) return boost::asio::async_write(*tls_, buffer, std::forward<Token>(token));
    return boost::asio::async_write(*plain_, buffer, std::forward<Token>(token));
  }
  // Closes the TCP socket (no TLS close_notify: the protocol's own frames
  // say where a message ends, so a truncation cannot pass for one).
  void close();

 private:
  std::unique_ptr<boost::asio::ip::tcp::socket> plain_;
  std::unique_ptr<TlsStream> tls_;
  Side side_ = Side::client;
};

// Whether the first bytes a plaintext peer sent are a TLS record (a
// ClientHello, or an alert): a length prefix that large is never a frame.
bool looks_like_tls(const char* data, std::size_t size);

}  // namespace kiln::net
