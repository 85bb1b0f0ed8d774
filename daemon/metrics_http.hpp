#pragma once
// kilnd's Prometheus endpoint (`kilnd --metrics HOST:PORT`): GET /metrics
// answers the text of daemon/prometheus_text.hpp; another path 404, another
// method 405. HTTP by Boost.Beast on the daemon's io thread, where
// the live feed lives. Bounded: requests of at most 8 KiB of headers and no
// body, 5 s to send one, 16 connections at once (more are closed at
// accept), one request per connection. Like the main listener it refuses a
// non-loopback address unless allowed: the page names every chip.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/result.hpp"

namespace kiln::daemon {

class MetricsHttp {
 public:
  using Render = std::function<std::string()>;  // the page, built on the io thread

  static constexpr std::size_t kMaxConnections = 16;
  static constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;

  static Result<std::unique_ptr<MetricsHttp>> listen(boost::asio::io_context& io, const std::string& host,
                                                     std::uint16_t port, bool allow_non_loopback, Render render);
  ~MetricsHttp();

  std::uint16_t port() const { return port_; }
  void start();
  // Stops accepting; call on the io thread.
  void close();

 private:
  MetricsHttp(boost::asio::io_context& io, Render render);
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Render render_;
  std::uint16_t port_ = 0;
  std::shared_ptr<std::size_t> open_ = std::make_shared<std::size_t>(0);
};

}  // namespace kiln::daemon
