#include "agents/daemon_link.hpp"

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "schema/frame.hpp"
#include "tests/net/fake_server.hpp"

namespace kiln::agent {
namespace {

using namespace std::chrono_literals;
using FakeDaemon = net::testing::FakeServer;
using net::testing::count_of;
using Body = kiln::v1::Envelope::BodyCase;

class RecordingHandler : public LinkHandler {
 public:
  void on_dispatch(const kiln::v1::PhaseDispatch& d) override {
    std::lock_guard lock(mutex);
    dispatches.push_back(d);
  }
  void on_abort(const kiln::v1::PhaseAbort& a) override {
    std::lock_guard lock(mutex);
    aborts.push_back(a);
  }
  void on_fatal(const std::string& reason) override {
    std::lock_guard lock(mutex);
    fatal = reason;
  }
  std::mutex mutex;
  std::vector<kiln::v1::PhaseDispatch> dispatches;
  std::vector<kiln::v1::PhaseAbort> aborts;
  std::string fatal;
};

LinkConfig fast_config(std::uint16_t port) {
  LinkConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.rack = "r-test";
  c.credential = "secret";
  c.flush_interval = 20ms;
  c.initial_backoff = 20ms;
  c.max_backoff = 100ms;
  return c;
}

kiln::v1::RegisterRack registration(std::uint64_t epoch) {
  kiln::v1::RegisterRack r;
  r.set_rack("r-test");
  r.set_epoch(epoch);
  r.add_chips()->set_serial("F-00");
  return r;
}

kiln::v1::Sample sample(double t) {
  kiln::v1::Sample s;
  s.set_serial("F-00");
  s.set_t_s(t);
  return s;
}

// For what only the agent's side shows (connected, the outbox): polled
// with a generous timeout, never asserted on how soon it holds.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10000ms) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(DaemonLinkTest, HelloRegisterThenBatchesUntilAcked) {
  FakeDaemon daemon;
  Outbox outbox("r-test", 42);
  RecordingHandler handler;
  DaemonLink link(fast_config(daemon.port()), registration(42), outbox, handler);
  link.start();

  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  ASSERT_TRUE(eventually([&] { return link.connected(); }));
  const auto first = daemon.received();
  ASSERT_GE(first.size(), 2u);
  ASSERT_TRUE(first[0].has_hello());
  EXPECT_EQ(first[0].version(), wire::kProtocolVersion);
  EXPECT_EQ(first[0].hello().protocol_version(), wire::kProtocolVersion);
  EXPECT_EQ(first[0].hello().role(), kiln::v1::ROLE_AGENT);
  EXPECT_EQ(first[0].hello().identity(), "r-test");
  EXPECT_EQ(first[0].hello().credential(), "secret");
  ASSERT_TRUE(first[1].has_register_rack());
  EXPECT_EQ(first[1].register_rack().epoch(), 42u);
  EXPECT_EQ(first[1].register_rack().chips(0).serial(), "F-00");

  outbox.push_sample(sample(1));
  outbox.push_sample(sample(2));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) >= 1; }));
  const auto all = daemon.received();
  const kiln::v1::AgentBatch* batch = nullptr;
  for (const auto& e : all) {
    if (e.has_agent_batch()) batch = &e.agent_batch();
  }
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->rack(), "r-test");
  EXPECT_EQ(batch->epoch(), 42u);
  EXPECT_EQ(batch->seq(), 1u);
  EXPECT_EQ(batch->samples_size(), 2);
  EXPECT_TRUE(eventually([&] { return outbox.idle(); })) << "acked batches leave the outbox";
  link.stop();
  EXPECT_FALSE(link.connected());
}

TEST(DaemonLinkTest, RefusedIsFatalAndNotRetried) {
  FakeDaemon daemon;
  daemon.refuse = true;
  Outbox outbox("r-test", 1);
  RecordingHandler handler;
  DaemonLink link(fast_config(daemon.port()), registration(1), outbox, handler);
  link.start();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(handler.mutex);
    return !handler.fatal.empty();
  }));
  {
    std::lock_guard lock(handler.mutex);
    EXPECT_EQ(handler.fatal, "unknown credential");
  }
  // The link decides not to retry before it tells the handler: no second connection can follow.
  link.stop();
  EXPECT_EQ(daemon.connections(), 1);
  EXPECT_EQ(count_of(daemon.received(), Body::kRegisterRack), 0);
}

TEST(DaemonLinkTest, ReconnectsAndResendsUnackedBatchesInOrder) {
  FakeDaemon daemon;
  daemon.auto_ack = false;
  Outbox outbox("r-test", 9);
  RecordingHandler handler;
  DaemonLink link(fast_config(daemon.port()), registration(9), outbox, handler);
  link.start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  outbox.push_sample(sample(1));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) == 1; }));
  outbox.push_sample(sample(2));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) == 2; }));

  daemon.drop_connection();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) == 4; }));
  EXPECT_EQ(daemon.connections(), 2);
  EXPECT_EQ(link.sessions(), 2u);
  // Second connection: Hello, RegisterRack again, then batches 1 and 2.
  const auto all = daemon.received();
  std::vector<std::string> order;
  for (const auto& e : all) {
    if (e.has_hello()) order.push_back("hello");
    if (e.has_register_rack()) order.push_back("register");
    if (e.has_agent_batch()) order.push_back("batch" + std::to_string(e.agent_batch().seq()));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"hello", "register", "batch1", "batch2", "hello", "register", "batch1",
                                             "batch2"}));
  kiln::v1::Envelope ack;
  ack.mutable_batch_ack()->set_epoch(9);
  ack.mutable_batch_ack()->set_seq(1);
  daemon.send(ack);
  ASSERT_TRUE(eventually([&] { return outbox.unacked_count() == 1; }));
  EXPECT_EQ(outbox.acked_through(), 1u);
  link.stop();
}

TEST(DaemonLinkTest, HandsDispatchAndAbortToTheHandler) {
  FakeDaemon daemon;
  Outbox outbox("r-test", 1);
  RecordingHandler handler;
  DaemonLink link(fast_config(daemon.port()), registration(1), outbox, handler);
  link.start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  kiln::v1::Envelope dispatch;
  dispatch.mutable_phase_dispatch()->set_run_id(5);
  dispatch.mutable_phase_dispatch()->add_serials("F-00");
  daemon.send(dispatch);
  kiln::v1::Envelope abort;
  abort.mutable_phase_abort()->set_run_id(5);
  abort.mutable_phase_abort()->set_reason("operator");
  daemon.send(abort);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(handler.mutex);
    return handler.dispatches.size() == 1 && handler.aborts.size() == 1;
  }));
  std::lock_guard lock(handler.mutex);
  EXPECT_EQ(handler.dispatches[0].run_id(), 5u);
  EXPECT_EQ(handler.aborts[0].reason(), "operator");
}

TEST(DaemonLinkTest, BadFrameFromTheDaemonClosesAndReconnects) {
  FakeDaemon daemon;
  Outbox outbox("r-test", 1);
  RecordingHandler handler;
  DaemonLink link(fast_config(daemon.port()), registration(1), outbox, handler);
  link.start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  daemon.send_raw(std::string("\xff\xff\xff\xff", 4));  // a 4 GiB frame
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 2; }));
  EXPECT_EQ(daemon.connections(), 2);
  // A frame that is not an Envelope does the same.
  daemon.send_raw(wire::encode_frame("not protobuf \xff\xff"));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 3; }));
}

TEST(DaemonLinkTest, HeartbeatsWhenIdleAndReconnectsAfterSilence) {
  FakeDaemon daemon;
  Outbox outbox("r-test", 1);
  RecordingHandler handler;
  LinkConfig config = fast_config(daemon.port());
  config.heartbeat_interval = 50ms;
  config.silence_timeout = 400ms;  // the fake daemon never heartbeats
  DaemonLink link(config, registration(1), outbox, handler);
  link.start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kHeartbeat) >= 2; }));
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) >= 2; }));
}

TEST(DaemonLinkTest, KeepsRetryingWhileNoDaemonListens) {
  std::uint16_t port = 0;
  {
    FakeDaemon gone;  // learn a free port, then close it
    port = gone.port();
  }
  Outbox outbox("r-test", 1);
  RecordingHandler handler;
  LinkConfig config = fast_config(port);
  config.initial_backoff = config.max_backoff = 60s;
  DaemonLink link(config, registration(1), outbox, handler);
  link.start();
  EXPECT_FALSE(link.connected());
  const auto before = std::chrono::steady_clock::now();
  link.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 30s) << "stop does not wait for the 60 s backoff";
  std::lock_guard lock(handler.mutex);
  EXPECT_TRUE(handler.fatal.empty());
}

TEST(DaemonLinkTest, StopFlushesWhatIsPending) {
  FakeDaemon daemon;
  Outbox outbox("r-test", 3);
  RecordingHandler handler;
  LinkConfig config = fast_config(daemon.port());
  config.flush_interval = 10s;  // only the final flush can send it
  DaemonLink link(config, registration(3), outbox, handler);
  link.start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  outbox.push_sample(sample(1));
  link.stop();
  EXPECT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) == 1; }));
}

TEST(DaemonLinkTest, FlushSoonSendsWithoutWaitingForTheInterval) {
  FakeDaemon daemon;
  Outbox outbox("r-test", 3);
  RecordingHandler handler;
  LinkConfig config = fast_config(daemon.port());
  config.flush_interval = std::chrono::minutes(10);  // never within the test: only flush_soon() can send it
  DaemonLink link(config, registration(3), outbox, handler);
  link.flush_soon();  // before the link is up: nothing to do, and no harm
  link.start();
  ASSERT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kRegisterRack) == 1; }));
  kiln::v1::ChipStepResult result;
  result.set_serial("F-00");
  result.set_completed(true);
  outbox.push_result(result);
  link.flush_soon();
  link.flush_soon();  // asked twice before it ran: one send
  EXPECT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) == 1; }));
  outbox.push_result(result);
  link.flush_soon();
  EXPECT_TRUE(daemon.wait([](const auto& all) { return count_of(all, Body::kAgentBatch) == 2; }));
  link.stop(std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace kiln::agent
