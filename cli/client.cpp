#include "cli/client.hpp"

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "net/error_reply.hpp"
#include "net/link.hpp"

namespace kiln::cli {

// Tells connect() how the handshake went.
class DaemonClient::Events final : public net::LinkHandler {
 public:
  net::AfterRefusal on_refused(const std::string& reason) override {
    refusal_ = reason;
    return net::AfterRefusal::stop;
  }
  void on_status(const net::LinkStatus& status) override {
    if (status.state != net::LinkState::up && status.state != net::LinkState::stopped) return;
    std::lock_guard lock(mutex_);
    if (!first_) first_ = status;
    cv_.notify_all();
  }

  // The first outcome (up, or stopped with the reason), within `timeout`.
  std::optional<net::LinkStatus> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return first_.has_value(); });
    return first_;
  }
  // Written before the stopped status that follows it, on the link's thread.
  const std::string& refusal() const { return refusal_; }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<net::LinkStatus> first_;
  std::string refusal_;
};

DaemonClient::DaemonClient(std::string where) : where_(std::move(where)), events_(std::make_unique<Events>()) {}

DaemonClient::~DaemonClient() {
  if (link_) link_->stop();
}

Result<std::unique_ptr<DaemonClient>> DaemonClient::connect(const Endpoint& endpoint, const std::string& credential,
                                                            const net::TlsClientOptions& tls,
                                                            std::chrono::milliseconds timeout) {
  KILN_TRY(net::check_tls(tls));
  std::unique_ptr<DaemonClient> client(new DaemonClient(fmt::format("{}:{}", endpoint.host, endpoint.port)));
  net::LinkOptions options;
  options.endpoint = endpoint;
  options.hello = net::ClientHello{kiln::v1::ROLE_CLIENT, "kiln-cli", credential};
  options.tls = tls;
  options.deadlines.handshake = timeout;
  options.deadlines.silence = std::chrono::milliseconds(0);  // each call has its own deadline
  options.reconnect = std::nullopt;
  options.name = "kiln";
  client->link_ = std::make_unique<net::Link>(options, *client->events_);
  client->link_->start();
  // The link's own handshake deadline decides; this wait only guards against it not answering.
  const auto outcome = client->events_->wait(timeout + std::chrono::seconds(5));
  if (!outcome) return make_error(ErrorCode::unavailable, "no daemon at {}: connection timed out", client->where_);
  if (outcome->state == net::LinkState::up) return client;
  switch (outcome->code) {
    case ErrorCode::auth:
      if (client->events_->refusal().empty()) {  // TLS: a certificate, a CA
        return make_error(ErrorCode::auth, "daemon at {}: {}", client->where_, outcome->detail);
      }
      return make_error(ErrorCode::auth, "daemon at {} refused us: {}", client->where_, client->events_->refusal());
    case ErrorCode::protocol:
      return make_error(ErrorCode::protocol, "daemon at {} did not answer Hello with Welcome: {}", client->where_,
                        outcome->detail);
    default: return make_error(ErrorCode::unavailable, "no daemon at {}: {}", client->where_, outcome->detail);
  }
}

Result<kiln::v1::Envelope> DaemonClient::call(kiln::v1::Envelope request, std::chrono::milliseconds timeout) {
  // Shared with the link's thread: a reply after the timeout lands here harmlessly.
  auto done = std::make_shared<std::promise<Result<kiln::v1::Envelope>>>();
  auto reply = done->get_future();
  link_->request(std::move(request), [done](Result<kiln::v1::Envelope> r) { done->set_value(std::move(r)); });
  if (reply.wait_for(timeout) != std::future_status::ready) {
    return make_error(ErrorCode::unavailable, "timed out waiting for {}", where_);
  }
  return reply.get().or_else([&](const Error& e) -> Result<kiln::v1::Envelope> {
    return make_error(e.code, "daemon at {}: {}", where_, e.message);
  });
}

Result<kiln::v1::QueryReply> DaemonClient::ask(const kiln::v1::Query& query, std::chrono::milliseconds timeout) {
  kiln::v1::Envelope request;
  *request.mutable_query() = query;
  return call(std::move(request), timeout).and_then([](kiln::v1::Envelope reply) -> Result<kiln::v1::QueryReply> {
    if (reply.has_error_reply()) return net::error_from(reply.error_reply());
    if (!reply.has_query_reply()) return make_error(ErrorCode::protocol, "unexpected reply to a query");
    return std::move(*reply.mutable_query_reply());
  });
}

Result<std::string> DaemonClient::query(const kiln::v1::Query& query) {
  return ask(query).transform([](kiln::v1::QueryReply reply) { return std::move(*reply.mutable_body()); });
}

Result<kiln::v1::RunPlan> DaemonClient::plan(std::uint64_t run_id) {
  kiln::v1::Envelope request;
  request.mutable_get_plan()->set_run_id(run_id);
  return call(std::move(request)).and_then([](kiln::v1::Envelope reply) -> Result<kiln::v1::RunPlan> {
    if (reply.has_error_reply()) return net::error_from(reply.error_reply());
    if (!reply.has_query_reply() || !reply.query_reply().has_run_plan())
      return make_error(ErrorCode::protocol, "unexpected reply to GetPlan");
    return std::move(*reply.mutable_query_reply()->mutable_run_plan());
  });
}

}  // namespace kiln::cli
