#pragma once
// A blocking client of kilnd for the CLI: connect, say Hello, then send a
// request and wait for its reply, each step with a deadline.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/endpoint.hpp"
#include "core/result.hpp"
#include "schema/frame.hpp"
#include "schema/kiln.pb.h"

namespace kiln::cli {

class DaemonClient {
 public:
  static Result<std::unique_ptr<DaemonClient>> connect(const Endpoint& endpoint, const std::string& credential,
                                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Sends `request` (request_id is set here) and returns its reply. A
  // QueryReply sent in several parts comes back joined.
  Result<kiln::v1::Envelope> call(kiln::v1::Envelope request,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // A Query's body, or the daemon's ErrorReply as an Error.
  Result<std::string> query(const kiln::v1::Query& query);

 private:
  DaemonClient();
  Status write(const kiln::v1::Envelope& envelope, std::chrono::milliseconds timeout);
  Result<kiln::v1::Envelope> read(std::chrono::milliseconds timeout);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  wire::FrameDecoder decoder_;
  std::uint64_t next_request_id_ = 1;
  std::string endpoint_text_;
};

// Maps a daemon ErrorReply code back to an ErrorCode.
ErrorCode error_code_from(const std::string& code);

}  // namespace kiln::cli
