#include "agents/daemon_link.hpp"

#include <deque>
#include <limits>
#include <utility>

#include <spdlog/spdlog.h>

#include "agents/telemetry_chunker.hpp"
#include "net/link.hpp"
#include "schema/frame.hpp"

namespace kiln::agent {
namespace {

// Batches sent per flush tick at most, so that one tick cannot monopolize
// the link's thread; at 1 MiB per batch this is far above what a rack produces.
constexpr int kMaxBatchesPerFlush = 64;
// A batch is taken only when a frame of the largest size fits the queue.
constexpr std::size_t kBatchRoom = wire::kFrameHeaderBytes + wire::kMaxFrameBytes;

net::LinkOptions link_options(const LinkConfig& config) {
  net::LinkOptions options;
  options.endpoint = Endpoint{config.host, config.port};
  options.hello = net::ClientHello{kiln::v1::ROLE_AGENT, config.rack, config.credential};
  options.tls = config.tls;
  options.deadlines = net::Deadlines{config.handshake_timeout, config.heartbeat_interval, config.silence_timeout};
  options.reconnect = net::BackoffPolicy{config.initial_backoff, config.max_backoff};
  options.tick = config.flush_interval;
  options.name = "daemon link";
  return options;
}

}  // namespace

// Registration, batches and acks over the link; on the link's thread.
class DaemonLink::Impl final : public net::LinkHandler {
 public:
  // agent::LinkHandler: inside this class the bare name is net::LinkHandler, its base.
  Impl(const LinkConfig& config, kiln::v1::RegisterRack registration, Outbox& outbox, agent::LinkHandler& handler,
       std::atomic<bool>& connected, std::atomic<std::uint64_t>& sessions)
      : registration_(std::move(registration)),
        outbox_(outbox),
        handler_(handler),
        connected_(connected),
        sessions_(sessions),
        send_chunks_(config.send_chunks),
        link_(link_options(config), *this) {}

  void start() { link_.start(); }
  void flush_soon() { link_.tick_now(); }
  void stop(std::chrono::milliseconds grace) {
    link_.stop(grace);
    connected_ = false;
  }

  void on_up(net::LinkChannel& out, const kiln::v1::Welcome&) override {
    ++sessions_;
    kiln::v1::Envelope reg;
    *reg.mutable_register_rack() = registration_;
    reg.mutable_register_rack()->set_acked_through_seq(outbox_.acked_through());
    if (auto sent = out.send(reg); !sent) spdlog::warn("daemon link: RegisterRack not sent: {}", sent.error().message);
    const auto unacked = outbox_.unacked();
    resend_.assign(unacked.begin(), unacked.end());
    if (!resend_.empty()) spdlog::info("daemon link: resending {} unacknowledged batch(es)", resend_.size());
    pump(out, kMaxBatchesPerFlush);
  }

  void on_message(net::LinkChannel&, kiln::v1::Envelope envelope) override {
    switch (envelope.body_case()) {
      case kiln::v1::Envelope::kPhaseDispatch: handler_.on_dispatch(envelope.phase_dispatch()); break;
      case kiln::v1::Envelope::kPhaseAbort: handler_.on_abort(envelope.phase_abort()); break;
      case kiln::v1::Envelope::kBatchAck:
        if (envelope.batch_ack().has_refused()) {
          // Not stored, and resending cannot help: the daemon says why.
          spdlog::error("daemon link: batch {}/{} refused ({}): {}", envelope.batch_ack().epoch(),
                        envelope.batch_ack().seq(), envelope.batch_ack().refused().code(),
                        envelope.batch_ack().refused().message());
        }
        if (!outbox_.ack(envelope.batch_ack().epoch(), envelope.batch_ack().seq())) {
          spdlog::debug("daemon link: ack for unknown batch {}/{}", envelope.batch_ack().epoch(),
                        envelope.batch_ack().seq());
        }
        break;
      default:
        spdlog::warn("daemon link: ignoring unexpected message {} from the daemon",
                     static_cast<int>(envelope.body_case()));
        break;
    }
  }

  void on_tick(net::LinkChannel& out) override { pump(out, kMaxBatchesPerFlush); }

  bool on_final_flush(net::LinkChannel& out) override {
    pump(out, std::numeric_limits<int>::max());
    return resend_.empty() && outbox_.pending_items() == 0;
  }

  net::AfterRefusal on_refused(const std::string& reason) override {
    handler_.on_fatal(reason);  // retrying cannot help
    return net::AfterRefusal::stop;
  }

  void on_status(const net::LinkStatus& status) override { connected_ = status.state == net::LinkState::up; }

 private:
  // Unacknowledged batches first (in sequence order), then new ones, while
  // the outgoing queue has room; the rest waits in the outbox.
  void pump(net::LinkChannel& out, int max_batches) {
    for (int i = 0; i < max_batches && out.room() >= kBatchRoom; ++i) {
      BatchPtr batch;
      if (!resend_.empty()) {
        batch = std::move(resend_.front());
        resend_.pop_front();
      } else {
        batch = outbox_.take_batch();
      }
      if (!batch) return;
      if (!send_batch(out, batch)) return;
    }
  }

  // False when the link could not take it now (it is sent again later).
  bool send_batch(net::LinkChannel& out, const BatchPtr& batch) {
    kiln::v1::Envelope envelope;
    // Samples travel as chunks encoded here, on the agent (the outbox and
    // its spool keep them as they were pushed).
    *envelope.mutable_agent_batch() = send_chunks_ && batch->samples_size() > 0 ? with_samples_chunked(*batch) : *batch;
    auto sent = out.send(envelope);
    if (sent) return true;
    if (sent.error().code == ErrorCode::invalid_argument) {
      // Cannot happen with the outbox's batch cap unless one item alone is
      // over 4 MiB; resending it forever would wedge the link, so it goes.
      spdlog::error("daemon link: batch {} dropped: {}", batch->seq(), sent.error().message);
      (void)outbox_.ack(batch->epoch(), batch->seq());
      return true;
    }
    resend_.push_front(batch);
    return false;
  }

  const kiln::v1::RegisterRack registration_;
  Outbox& outbox_;
  agent::LinkHandler& handler_;
  std::atomic<bool>& connected_;
  std::atomic<std::uint64_t>& sessions_;
  const bool send_chunks_;
  std::deque<BatchPtr> resend_;  // unacknowledged batches still to send on this connection (link thread)
  net::Link link_;               // last: its thread calls into the members above
};

DaemonLink::DaemonLink(LinkConfig config, kiln::v1::RegisterRack registration, Outbox& outbox, LinkHandler& handler)
    : impl_(std::make_unique<Impl>(config, std::move(registration), outbox, handler, connected_, sessions_)) {}

DaemonLink::~DaemonLink() { stop(); }

void DaemonLink::start() { impl_->start(); }

void DaemonLink::stop(std::chrono::milliseconds grace) { impl_->stop(grace); }

void DaemonLink::flush_soon() { impl_->flush_soon(); }

}  // namespace kiln::agent
