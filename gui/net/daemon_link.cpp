#include "gui/net/daemon_link.hpp"

#include <fmt/format.h>

#include "core/clock.hpp"
#include "net/link.hpp"

namespace kiln::gui {

namespace {

constexpr auto kFirstBackoff = std::chrono::milliseconds(500);

kiln::v1::Envelope unavailable(const std::string& why) {
  kiln::v1::Envelope e;
  e.mutable_error_reply()->set_code("unavailable");
  e.mutable_error_reply()->set_message(why);
  return e;
}

net::LinkOptions link_options(const LinkConfig& config) {
  net::LinkOptions options;
  options.endpoint = config.endpoint;
  options.hello = net::ClientHello{kiln::v1::ROLE_CLIENT, "kiln-dash", config.credential};
  options.tls = config.tls;
  options.deadlines.handshake = config.connect_timeout;
  options.deadlines.silence = config.silence_timeout;
  options.reconnect = net::BackoffPolicy{kFirstBackoff, config.max_backoff};
  options.name = "kiln-dash link";
  return options;
}

}  // namespace

// Everything of one start(): its own link and thread, so that stop() and a
// new start() never share a half-finished connection.
class DaemonLink::Worker final : public net::LinkHandler {
 public:
  Worker(LiveStaging& staging, const LinkConfig& config)
      : staging_(staging),
        max_hz_(config.max_hz),
        endpoint_text_(fmt::format("{}:{}", config.endpoint.host, config.endpoint.port)),
        link_(link_options(config), *this) {}

  void start() { link_.start(); }
  void stop() {
    link_.stop();
    staging_.set_link(LinkState{LinkPhase::disconnected, endpoint_text_, "disconnected"});
  }

  void request(std::uint64_t id, kiln::v1::Envelope envelope) {
    link_.request(std::move(envelope), [this, id](Result<kiln::v1::Envelope> reply) {
      staging_.push_reply(Reply{id, reply ? std::move(reply).value() : unavailable(reply.error().message)});
    });
  }

  void on_up(net::LinkChannel& out, const kiln::v1::Welcome&) override {
    kiln::v1::Envelope subscribe;
    subscribe.mutable_subscribe()->set_max_hz(max_hz_);
    (void)out.send(subscribe);
  }

  void on_message(net::LinkChannel&, kiln::v1::Envelope envelope) override {
    if (envelope.has_live_update()) staging_.push_update(std::move(*envelope.mutable_live_update()));
  }

  // The reason is shown, and the engineer may fix the token while it retries.
  net::AfterRefusal on_refused(const std::string&) override { return net::AfterRefusal::retry; }

  void on_status(const net::LinkStatus& status) override {
    switch (status.state) {
      case net::LinkState::connecting:
        staging_.set_link(LinkState{LinkPhase::connecting, endpoint_text_, status.detail, status.attempt});
        break;
      case net::LinkState::up: staging_.set_link(LinkState{LinkPhase::connected, endpoint_text_, status.detail}); break;
      case net::LinkState::retrying:
        staging_.set_link(LinkState{LinkPhase::reconnecting, endpoint_text_, status.detail, status.attempt,
                                    unix_ms_now() + status.retry_in.count()});
        break;
      case net::LinkState::stopped:
        staging_.set_link(LinkState{LinkPhase::disconnected, endpoint_text_, status.detail});
        break;
    }
  }

 private:
  LiveStaging& staging_;
  const double max_hz_;
  const std::string endpoint_text_;
  net::Link link_;  // last: its thread calls into the members above
};

DaemonLink::DaemonLink(LiveStaging& staging) : staging_(staging) {}

DaemonLink::~DaemonLink() { stop(); }

void DaemonLink::start(LinkConfig config) {
  stop();
  worker_ = std::make_unique<Worker>(staging_, config);
  worker_->start();
}

void DaemonLink::stop() {
  if (!worker_) return;
  worker_->stop();
  worker_.reset();
}

std::uint64_t DaemonLink::request(kiln::v1::Envelope envelope) {
  const std::uint64_t id = next_request_id_++;
  if (!worker_) {
    staging_.push_reply(Reply{id, unavailable("not connected")});
    return id;
  }
  worker_->request(id, std::move(envelope));
  return id;
}

}  // namespace kiln::gui
