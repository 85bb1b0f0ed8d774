#include "cli/client.hpp"

#include <array>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace kiln::cli {

namespace asio = boost::asio;
using boost::system::error_code;

ErrorCode error_code_from(const std::string& code) {
  if (code == "not_found") return ErrorCode::not_found;
  if (code == "conflict") return ErrorCode::conflict;
  if (code == "invalid_argument") return ErrorCode::invalid_argument;
  if (code == "unavailable") return ErrorCode::unavailable;
  return ErrorCode::internal;
}

DaemonClient::DaemonClient() : socket_(io_) {}

Result<std::unique_ptr<DaemonClient>> DaemonClient::connect(const Endpoint& endpoint, const std::string& credential,
                                                            std::chrono::milliseconds timeout) {
  std::unique_ptr<DaemonClient> client(new DaemonClient());
  client->endpoint_text_ = endpoint.host + ":" + std::to_string(endpoint.port);
  asio::ip::tcp::resolver resolver(client->io_);
  error_code ec;
  auto endpoints = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot resolve {}: {}", endpoint.host, ec.message());

  std::optional<error_code> connected;
  asio::async_connect(client->socket_, endpoints,
                      [&](const error_code& e, const asio::ip::tcp::endpoint&) { connected = e; });
  client->io_.run_for(timeout);
  if (!connected) {
    return make_error(ErrorCode::unavailable, "no daemon at {}: connection timed out", client->endpoint_text_);
  }
  if (*connected) {
    return make_error(ErrorCode::unavailable, "no daemon at {}: {}", client->endpoint_text_, connected->message());
  }
  client->io_.restart();

  kiln::v1::Envelope hello;
  hello.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
  hello.mutable_hello()->set_role(kiln::v1::ROLE_CLIENT);
  hello.mutable_hello()->set_identity("kiln-cli");
  hello.mutable_hello()->set_credential(credential);
  if (auto s = client->write(hello, timeout); !s) return s.error();
  auto reply = client->read(timeout);
  if (!reply) return reply.error();
  if (reply->has_refused()) {
    return make_error(ErrorCode::auth, "daemon at {} refused us: {}", client->endpoint_text_, reply->refused().reason());
  }
  if (!reply->has_welcome()) return make_error(ErrorCode::protocol, "daemon did not answer Hello with Welcome");
  return client;
}

Status DaemonClient::write(const kiln::v1::Envelope& envelope, std::chrono::milliseconds timeout) {
  const std::string frame = wire::encode_envelope(envelope);
  std::optional<error_code> done;
  asio::async_write(socket_, asio::buffer(frame), [&](const error_code& e, std::size_t) { done = e; });
  io_.run_for(timeout);
  io_.restart();
  if (!done) {
    socket_.close();
    io_.run();
    io_.restart();
    return make_error(ErrorCode::unavailable, "timed out sending to {}", endpoint_text_);
  }
  if (*done) return make_error(ErrorCode::unavailable, "lost connection to {}: {}", endpoint_text_, done->message());
  return {};
}

Result<kiln::v1::Envelope> DaemonClient::read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string payload;
  std::array<char, 64 * 1024> buffer{};
  for (;;) {
    const auto state = decoder_.next(payload);
    if (state == wire::FrameDecoder::State::frame) {
      auto envelope = wire::decode_envelope(payload);
      if (!envelope) return envelope.error();
      if (envelope->has_heartbeat()) continue;
      return envelope;
    }
    if (state == wire::FrameDecoder::State::error) {
      return make_error(ErrorCode::protocol, "bad frame from {}: {}", endpoint_text_, decoder_.error_message());
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0)) {
      return make_error(ErrorCode::unavailable, "timed out waiting for {}", endpoint_text_);
    }
    std::optional<std::pair<error_code, std::size_t>> got;
    socket_.async_read_some(asio::buffer(buffer), [&](const error_code& e, std::size_t n) { got.emplace(e, n); });
    io_.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(left));
    io_.restart();
    if (!got) {
      socket_.close();
      io_.run();
      io_.restart();
      return make_error(ErrorCode::unavailable, "timed out waiting for {}", endpoint_text_);
    }
    if (got->first) {
      return make_error(ErrorCode::unavailable, "lost connection to {}: {}", endpoint_text_,
                        got->first == asio::error::eof ? "closed by the daemon" : got->first.message());
    }
    decoder_.feed(buffer.data(), got->second);
  }
}

Result<kiln::v1::Envelope> DaemonClient::call(kiln::v1::Envelope request, std::chrono::milliseconds timeout) {
  const std::uint64_t id = next_request_id_++;
  request.set_request_id(id);
  if (auto s = write(request, timeout); !s) return s.error();
  std::string joined;
  for (;;) {
    auto reply = read(timeout);
    if (!reply) return reply.error();
    if (reply->request_id() != id) continue;  // a stale reply to an earlier, timed-out request
    if (!reply->has_query_reply() || !reply->query_reply().more()) {
      if (!joined.empty() && reply->has_query_reply()) {
        joined += reply->query_reply().body();
        reply->mutable_query_reply()->set_body(std::move(joined));
      }
      return reply;
    }
    joined += reply->query_reply().body();
  }
}

Result<std::string> DaemonClient::query(const kiln::v1::Query& query) {
  kiln::v1::Envelope request;
  *request.mutable_query() = query;
  auto reply = call(std::move(request));
  if (!reply) return reply.error();
  if (reply->has_error_reply()) {
    return Error{error_code_from(reply->error_reply().code()), reply->error_reply().message()};
  }
  if (!reply->has_query_reply()) return make_error(ErrorCode::protocol, "unexpected reply to a query");
  return reply->query_reply().body();
}

}  // namespace kiln::cli
