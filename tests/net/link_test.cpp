// net::Link against a fake in-process server: the handshake, deadlines,
// reconnecting with backoff, request/reply with parts joined, the outgoing
// queue's policy and the final flush. Tests wait on events (statuses the
// link reports, envelopes the server received) with generous timeouts; no
// assertion depends on how fast this host is.
#include "net/link.hpp"

#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "tests/net/fake_server.hpp"

namespace kiln::net {
namespace {

using namespace std::chrono_literals;
using testing::count_of;
using testing::FakeServer;
using Body = kiln::v1::Envelope::BodyCase;
constexpr auto kGenerous = 10s;

// Records what the link reports, and lets a test wait for it.
class Recorder : public LinkHandler {
 public:
  std::function<void(LinkChannel&)> up_action;
  std::function<bool(LinkChannel&)> final_flush;
  AfterRefusal after_refusal = AfterRefusal::stop;

  void on_up(LinkChannel& channel, const kiln::v1::Welcome&) override {
    if (up_action) up_action(channel);
  }
  void on_message(LinkChannel&, kiln::v1::Envelope envelope) override {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(envelope));
    cv_.notify_all();
  }
  void on_tick(LinkChannel&) override {
    std::lock_guard lock(mutex_);
    ++ticks_;
    cv_.notify_all();
  }
  bool on_final_flush(LinkChannel& channel) override { return final_flush ? final_flush(channel) : true; }
  AfterRefusal on_refused(const std::string&) override { return after_refusal; }
  void on_status(const LinkStatus& status) override {
    std::lock_guard lock(mutex_);
    statuses_.push_back(status);
    cv_.notify_all();
  }

  // Waits until `done` holds over what was recorded.
  bool wait(const std::function<bool()>& done) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kGenerous, done);
  }
  bool wait_state(LinkState state, int count = 1) {
    return wait([&] { return count_state(state) >= count; });
  }
  bool wait_messages(std::size_t count) {
    return wait([&] { return messages_.size() >= count; });
  }
  bool wait_ticks(int count) {
    return wait([&] { return ticks_ >= count; });
  }
  int count_state(LinkState state) const {
    int n = 0;
    for (const auto& s : statuses_) n += s.state == state ? 1 : 0;
    return n;
  }
  std::vector<LinkStatus> statuses() {
    std::lock_guard lock(mutex_);
    return statuses_;
  }
  std::vector<kiln::v1::Envelope> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  int ticks() {
    std::lock_guard lock(mutex_);
    return ticks_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<LinkStatus> statuses_;
  std::vector<kiln::v1::Envelope> messages_;
  int ticks_ = 0;
};

LinkOptions options_for(std::uint16_t port) {
  LinkOptions o;
  o.endpoint = Endpoint{"127.0.0.1", port};
  o.hello = ClientHello{kiln::v1::ROLE_CLIENT, "link-test", "secret"};
  o.reconnect = BackoffPolicy{20ms, 160ms};
  return o;
}

// The reply to one request, waited for.
Result<kiln::v1::Envelope> call(Link& link, kiln::v1::Envelope request) {
  auto done = std::make_shared<std::promise<Result<kiln::v1::Envelope>>>();
  auto reply = done->get_future();
  link.request(std::move(request), [done](Result<kiln::v1::Envelope> r) { done->set_value(std::move(r)); });
  if (reply.wait_for(kGenerous) != std::future_status::ready) return make_error(ErrorCode::internal, "no answer");
  return reply.get();
}

kiln::v1::Envelope runs_query() {
  kiln::v1::Envelope e;
  e.mutable_query()->set_kind(kiln::v1::Query::RUNS);
  return e;
}

TEST(Link, HelloSaysWhoWeAreThenTheLinkIsUp) {
  FakeServer server;
  Recorder recorder;
  LinkOptions options = options_for(server.port());
  options.hello = ClientHello{kiln::v1::ROLE_AGENT, "r07", "s3cret"};
  Link link(options, recorder);
  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::up));
  EXPECT_EQ(link.status().state, LinkState::up);
  EXPECT_EQ(link.status().detail, "fake-0");
  const auto got = server.received();
  ASSERT_FALSE(got.empty());
  ASSERT_TRUE(got[0].has_hello());
  EXPECT_EQ(got[0].version(), wire::kProtocolVersion);
  EXPECT_EQ(got[0].hello().protocol_version(), wire::kProtocolVersion);
  EXPECT_EQ(got[0].hello().role(), kiln::v1::ROLE_AGENT);
  EXPECT_EQ(got[0].hello().identity(), "r07");
  EXPECT_EQ(got[0].hello().credential(), "s3cret");
  link.stop();
  EXPECT_EQ(link.status().state, LinkState::stopped);
}

TEST(Link, ARefusedHelloStopsTheLinkWhenTheHandlerSaysSo) {
  FakeServer server;
  server.refuse = true;
  Recorder recorder;
  Link link(options_for(server.port()), recorder);
  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::stopped));
  const LinkStatus last = recorder.statuses().back();
  EXPECT_EQ(last.code, ErrorCode::auth);
  EXPECT_NE(last.detail.find("unknown credential"), std::string::npos) << last.detail;
  EXPECT_EQ(server.connections(), 1) << "stopped for good: no second attempt";
  EXPECT_EQ(recorder.count_state(LinkState::up), 0);
}

TEST(Link, ARefusedHelloIsRetriedWhenTheHandlerSaysSo) {
  FakeServer server;
  server.refuse = true;
  Recorder recorder;
  recorder.after_refusal = AfterRefusal::retry;
  Link link(options_for(server.port()), recorder);
  link.start();
  ASSERT_TRUE(server.wait_connections(3));
  ASSERT_TRUE(recorder.wait_state(LinkState::retrying));
  const LinkStatus retrying = recorder.statuses()[1];
  EXPECT_EQ(retrying.state, LinkState::retrying);
  EXPECT_EQ(retrying.code, ErrorCode::auth);
  EXPECT_NE(retrying.detail.find("refused"), std::string::npos) << retrying.detail;
}

TEST(Link, ReconnectsWithABackoffThatDoublesAndStartsOverOnceUp) {
  std::uint16_t port = 0;
  {
    FakeServer gone;  // learn a free port, then close it
    port = gone.port();
  }
  Recorder recorder;
  Link link(options_for(port), recorder);
  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::retrying, 5));
  std::vector<std::chrono::milliseconds> delays;
  for (const auto& s : recorder.statuses()) {
    if (s.state != LinkState::retrying) continue;
    delays.push_back(s.retry_in);
    EXPECT_EQ(s.attempt, static_cast<int>(delays.size()));
    EXPECT_EQ(s.code, ErrorCode::unavailable);
    EXPECT_FALSE(s.detail.empty());
  }
  ASSERT_GE(delays.size(), 5u);
  EXPECT_EQ(delays[0], 20ms);
  EXPECT_EQ(delays[1], 40ms);
  EXPECT_EQ(delays[2], 80ms);
  EXPECT_EQ(delays[3], 160ms);
  EXPECT_EQ(delays[4], 160ms) << "capped";
  link.stop();

  // Once a connection got as far as Welcome, the next failure waits the first delay again.
  FakeServer server;
  Recorder again;
  Link relink(options_for(server.port()), again);
  relink.start();
  ASSERT_TRUE(again.wait_state(LinkState::up));
  server.drop_connection();
  ASSERT_TRUE(again.wait_state(LinkState::up, 2)) << "connected again";
  for (const auto& s : again.statuses()) {
    if (s.state == LinkState::retrying) {
      EXPECT_EQ(s.retry_in, 20ms);
      EXPECT_EQ(s.attempt, 1);
      EXPECT_EQ(s.detail, "the daemon closed the connection");
    }
  }
}

TEST(Link, AMultiPartReplyIsJoinedAndMessagesBetweenItsPartsGoToTheHandler) {
  FakeServer server([](const kiln::v1::Envelope& request) {
    std::vector<kiln::v1::Envelope> out;
    const bool typed = request.query().answer() == kiln::v1::Query::ANSWER_TYPED;
    for (int i = 0; i < 3; ++i) {
      kiln::v1::Envelope part;
      part.set_request_id(request.request_id());
      auto* reply = part.mutable_query_reply();
      if (typed) {
        auto* series = reply->mutable_telemetry()->add_series();
        series->set_serial("C-0");
        series->set_metric("temperature_c");
        series->add_t_s(i);
        series->add_values(40 + i);
      } else {
        reply->set_body(std::string(1, static_cast<char>('a' + i)) + "|");
        reply->set_content_type("text/csv");
      }
      reply->set_more(i < 2);
      out.push_back(part);
      if (i == 0) {
        kiln::v1::Envelope live;  // the daemon's own traffic between two parts
        live.mutable_live_update()->set_full(true);
        out.push_back(live);
      }
    }
    return out;
  });
  Recorder recorder;
  Link link(options_for(server.port()), recorder);
  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::up));

  auto text = call(link, runs_query());
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text->query_reply().body(), "a|b|c|");
  EXPECT_EQ(text->query_reply().content_type(), "text/csv");
  EXPECT_FALSE(text->query_reply().more());

  kiln::v1::Envelope typed_request = runs_query();
  typed_request.mutable_query()->set_answer(kiln::v1::Query::ANSWER_TYPED);
  auto typed = call(link, typed_request);
  ASSERT_TRUE(typed) << typed.error().message;
  ASSERT_TRUE(typed->query_reply().has_telemetry());
  const auto& series = typed->query_reply().telemetry().series();
  ASSERT_EQ(series.size(), 3);
  EXPECT_DOUBLE_EQ(series[2].values(0), 42);

  ASSERT_TRUE(recorder.wait_messages(2));
  const auto messages = recorder.messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0].has_live_update());
  EXPECT_NE(text->request_id(), typed->request_id());
}

TEST(Link, RequestsFailWhileDownAndWhenTheConnectionIsLost) {
  FakeServer server;  // answers no request
  Recorder recorder;
  Link link(options_for(server.port()), recorder);
  auto before_start = call(link, runs_query());
  ASSERT_FALSE(before_start);
  EXPECT_EQ(before_start.error().code, ErrorCode::unavailable);

  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::up));
  auto done = std::make_shared<std::promise<Result<kiln::v1::Envelope>>>();
  auto reply = done->get_future();
  link.request(runs_query(), [done](Result<kiln::v1::Envelope> r) { done->set_value(std::move(r)); });
  ASSERT_TRUE(server.wait([](const auto& all) { return count_of(all, Body::kQuery) == 1; }));
  server.drop_connection();
  ASSERT_EQ(reply.wait_for(kGenerous), std::future_status::ready);
  const auto lost = reply.get();
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, ErrorCode::unavailable);
  EXPECT_NE(lost.error().message.find("connection lost"), std::string::npos) << lost.error().message;

  link.stop();
  auto after_stop = call(link, runs_query());
  ASSERT_FALSE(after_stop) << "answered at once on the caller's thread";
}

TEST(Link, AFullOutgoingQueueRefusesAndQueuesNothing) {
  FakeServer server;
  Recorder recorder;
  LinkOptions options = options_for(server.port());
  options.max_queued_bytes = 0;  // raised to one largest frame: 4 MiB + 4
  std::promise<std::vector<std::size_t>> rooms;
  std::promise<Status> refused;
  recorder.up_action = [&](LinkChannel& channel) {
    // All on the link's thread, in one go: the writer cannot drain meanwhile.
    kiln::v1::Envelope big;
    big.mutable_query_reply()->set_body(std::string(1 << 20, 'x'));
    std::vector<std::size_t> seen{channel.room()};
    for (;;) {
      auto sent = channel.send(big);
      seen.push_back(channel.room());
      if (!sent) {
        refused.set_value(sent);
        break;
      }
    }
    rooms.set_value(seen);
  };
  Link link(options, recorder);
  link.start();
  auto rooms_seen = rooms.get_future();
  ASSERT_EQ(rooms_seen.wait_for(kGenerous), std::future_status::ready);
  const auto seen = rooms_seen.get();
  const Status why = refused.get_future().get();
  ASSERT_EQ(seen.size(), 5u) << "three 1 MiB frames fit a 4 MiB queue, the fourth does not";
  EXPECT_LT(seen[1], seen[0]);
  EXPECT_EQ(seen[4], seen[3]) << "the refused frame took no room";
  EXPECT_EQ(why.error().code, ErrorCode::unavailable);
  EXPECT_NE(why.error().message.find("full"), std::string::npos) << why.error().message;
  EXPECT_TRUE(server.wait([](const auto& all) { return count_of(all, Body::kQueryReply) == 3; }))
      << "what was queued is written";
}

TEST(Link, ADaemonThatGoesSilentIsLeftAndConnectedAgain) {
  FakeServer server;  // never heartbeats
  Recorder recorder;
  LinkOptions options = options_for(server.port());
  options.deadlines.silence = 200ms;
  options.deadlines.heartbeat = 0ms;
  Link link(options, recorder);
  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::retrying));
  bool silent = false;
  for (const auto& s : recorder.statuses()) silent = silent || s.detail.find("went silent") != std::string::npos;
  EXPECT_TRUE(silent);
  EXPECT_TRUE(recorder.wait_state(LinkState::up, 2));
}

TEST(Link, NoWelcomeWithinTheHandshakeDeadline) {
  FakeServer server;
  server.answer_hello = false;
  Recorder recorder;
  LinkOptions options = options_for(server.port());
  options.deadlines.handshake = 150ms;
  options.reconnect = std::nullopt;
  Link link(options, recorder);
  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::stopped));
  EXPECT_EQ(recorder.statuses().back().detail, "no Welcome from the daemon in time");
  EXPECT_EQ(server.connections(), 1) << "no reconnect asked for";
}

TEST(Link, HeartbeatsWhenIdleAndTicksWhileUp) {
  FakeServer server;
  Recorder recorder;
  LinkOptions options = options_for(server.port());
  options.deadlines.heartbeat = 20ms;
  options.tick = 20ms;
  Link link(options, recorder);
  link.start();
  EXPECT_TRUE(server.wait([](const auto& all) { return count_of(all, Body::kHeartbeat) >= 3; }));
  EXPECT_TRUE(recorder.wait_ticks(3));
  // Heartbeats only after Welcome: the daemon reads nothing but Hello first.
  const auto got = server.received();
  ASSERT_TRUE(got[0].has_hello());
}

TEST(Link, StopSendsTheHandlersFinalFlushFirst) {
  FakeServer server;
  Recorder recorder;
  int asked = 0;
  recorder.final_flush = [&](LinkChannel& channel) {
    ++asked;
    kiln::v1::Envelope last;
    last.mutable_abort_run()->set_reason("final " + std::to_string(asked));
    EXPECT_TRUE(channel.send(last));
    return asked == 2;  // asked again once the first drained
  };
  Link link(options_for(server.port()), recorder);
  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::up));
  link.stop(5s);
  EXPECT_EQ(asked, 2);
  EXPECT_TRUE(server.wait([](const auto& all) { return count_of(all, Body::kAbortRun) == 2; }));
}

TEST(Link, StopDoesNotWaitForTheBackoff) {
  std::uint16_t port = 0;
  {
    FakeServer gone;
    port = gone.port();
  }
  Recorder recorder;
  LinkOptions options = options_for(port);
  options.reconnect = BackoffPolicy{60s, 60s};
  Link link(options, recorder);
  link.start();
  ASSERT_TRUE(recorder.wait_state(LinkState::retrying));
  const auto before = std::chrono::steady_clock::now();
  link.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 30s) << "the 60 s backoff is cut short";
  EXPECT_EQ(link.status().state, LinkState::stopped);
}

}  // namespace
}  // namespace kiln::net
