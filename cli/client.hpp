#pragma once
// The CLI's blocking calls to kilnd over a net::Link of one connection (no
// reconnect: a command that loses the daemon fails with the reason): connect
// and say Hello within a timeout, then send a request and wait for its reply,
// each with a deadline.

#include <chrono>
#include <memory>
#include <string>

#include "core/endpoint.hpp"
#include "core/result.hpp"
#include "net/tls_options.hpp"
#include "schema/kiln.pb.h"

namespace kiln::net {
class Link;
}

namespace kiln::cli {

class DaemonClient {
 public:
  // TLS when tls.ca_file is set.
  static Result<std::unique_ptr<DaemonClient>> connect(const Endpoint& endpoint, const std::string& credential,
                                                       const net::TlsClientOptions& tls = {},
                                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~DaemonClient();
  DaemonClient(const DaemonClient&) = delete;
  DaemonClient& operator=(const DaemonClient&) = delete;

  // Sends `request` (request_id is set by the link) and returns its reply;
  // one sent in several parts comes back joined.
  Result<kiln::v1::Envelope> call(kiln::v1::Envelope request,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // A Query's reply, or the daemon's ErrorReply as an Error.
  Result<kiln::v1::QueryReply> ask(const kiln::v1::Query& query,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // The body of a Query's text answer (JSON or CSV).
  Result<std::string> query(const kiln::v1::Query& query);
  // The run's plan as its typed steps and limits (GetPlan).
  Result<kiln::v1::RunPlan> plan(std::uint64_t run_id);

 private:
  class Events;
  DaemonClient(std::string where);

  std::string where_;  // host:port
  std::unique_ptr<Events> events_;
  std::unique_ptr<net::Link> link_;
};

}  // namespace kiln::cli
