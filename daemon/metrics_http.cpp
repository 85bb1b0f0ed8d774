#include "daemon/metrics_http.hpp"

#include <chrono>

#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "core/version.hpp"

namespace kiln::daemon {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

MetricsHttp::MetricsHttp(asio::io_context& io, Render render) : io_(io), acceptor_(io), render_(std::move(render)) {}

MetricsHttp::~MetricsHttp() = default;

Result<std::unique_ptr<MetricsHttp>> MetricsHttp::listen(asio::io_context& io, const std::string& host,
                                                         std::uint16_t port, bool allow_non_loopback, Render render) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return make_error(ErrorCode::invalid_argument, "bad --metrics address '{}': {}", host, ec.message());
  if (!address.is_loopback() && !allow_non_loopback) {
    return make_error(ErrorCode::invalid_argument,
                      "--metrics on {} would publish every chip's state to the network: use 127.0.0.1, or pass "
                      "--allow-plaintext on a network you trust",
                      host);
  }
  std::unique_ptr<MetricsHttp> server(new MetricsHttp(io, std::move(render)));
  const asio::ip::tcp::endpoint endpoint(address, port);
  server->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) server->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) server->acceptor_.bind(endpoint, ec);
  if (!ec) server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot serve /metrics on {}:{}: {}", host, port, ec.message());
  server->port_ = server->acceptor_.local_endpoint().port();
  return server;
}

void MetricsHttp::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void MetricsHttp::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> MetricsHttp::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    asio::ip::tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: pause instead of spinning.
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (*open_ >= kMaxConnections) {
      socket.close(ec);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> MetricsHttp::serve(asio::ip::tcp::socket socket) {
  const auto open = open_;
  ++*open;
  struct Leave {
    std::shared_ptr<std::size_t> count;
    ~Leave() { --*count; }
  } leave{open};

  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(5));
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(0);
  boost::system::error_code ec;
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;  // malformed, too big or too slow: nothing to answer
  const auto& request = parser.get();

  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(false);
  response.set(http::field::server, version_line("kilnd"));
  if (request.target() != "/metrics") {
    response.result(http::status::not_found);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "kilnd serves /metrics only\n";
  } else if (request.method() != http::verb::get) {
    response.result(http::status::method_not_allowed);
    response.set(http::field::allow, "GET");
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "GET /metrics\n";
  } else {
    response.result(http::status::ok);
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    try {
      response.body() = render_();
    } catch (const std::exception& e) {
      spdlog::error("/metrics: {}", e.what());
      response.result(http::status::internal_server_error);
      response.body() = "kilnd could not build the page; see its log\n";
    }
  }
  response.prepare_payload();
  stream.expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace kiln::daemon
