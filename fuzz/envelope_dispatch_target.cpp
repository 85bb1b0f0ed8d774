// Fuzz target: kilnd's side of a connection (daemon/session.hpp over
// net/connection.hpp), fed the input as a peer's byte stream in chunks
// whose sizes come from the input. No network: the session's socket is one
// end of a socketpair, the fuzzer writes the other. Behind the session a
// recording handler plays the hub: it accepts one credential, and runs
// what the receiving side would parse of a message: the plan of a
// SubmitRun (the daemon's loader) and the params of a PhaseDispatch (what
// an agent reads off the wire).
//
// Input: [chunker: count, sizes…][stream…], at most kMaxInput bytes.
//
// Checked against a model that walks the stream's frames at once: the
// handler is given exactly the envelopes the protocol lets through, in
// order, whatever the chunking (nothing before an accepted Hello, no
// Heartbeat, no second Hello, nothing after a bad frame, a bad envelope or
// a frame over the pre-Hello cap); each has the protocol version and a body;
// the peer is answered Welcome for an accepted Hello, Refused with the
// reason for a refused one, and nothing otherwise; the session closes
// exactly once when the peer hangs up.

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "daemon/session.hpp"
#include "fuzz/fuzz_support.hpp"
#include "schema/frame.hpp"
#include "schema/kiln.pb.h"
#include "testplans/loader.hpp"
#include "testplans/param_wire.hpp"

namespace {

using Body = kiln::v1::Envelope::BodyCase;
using kiln::daemon::Session;

constexpr std::string_view kCredential = "fuzz-credential";
constexpr std::string_view kRefusal = "unknown credential";
// Smaller than the pre-Hello cap, so that no frame over it can be complete
// and what the session delivers cannot depend on when the cap was raised.
constexpr std::size_t kMaxInput = Session::kMaxHelloFrameBytes;

// What a frame's payload is to the protocol (the model's own reading of
// DESIGN §8, not the decoder's).
std::optional<kiln::v1::Envelope> valid_envelope(std::string_view payload) {
  kiln::v1::Envelope envelope;
  if (!envelope.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  if (envelope.version() != kiln::wire::kProtocolVersion || envelope.body_case() == kiln::v1::Envelope::BODY_NOT_SET)
    return std::nullopt;
  return envelope;
}

struct Expected {
  std::vector<Body> delivered;
  Body reply = kiln::v1::Envelope::BODY_NOT_SET;  // Welcome, Refused or none
  // The peer broke a rule (a bad frame or envelope, a second Hello): the
  // session closes at once and drops what it had queued, a Welcome too.
  bool violation = false;
};

Expected model(std::string_view stream) {
  Expected out;
  bool authenticated = false;
  std::size_t pos = 0;
  while (stream.size() - pos >= kiln::wire::kFrameHeaderBytes) {
    std::uint32_t length = 0;
    for (std::size_t i = 0; i < 4; ++i) length = (length << 8) | static_cast<unsigned char>(stream[pos + i]);
    pos += kiln::wire::kFrameHeaderBytes;
    // Over the pre-Hello cap: refused, or after a Hello too when its header
    // came in the same read as the Hello (nothing may follow a Hello unread).
    if (length > Session::kMaxHelloFrameBytes) {
      out.violation = true;
      break;
    }
    if (stream.size() - pos < length) break;  // incomplete when the peer hangs up
    const auto envelope = valid_envelope(stream.substr(pos, length));
    pos += length;
    if (!envelope || (!authenticated && !envelope->has_hello()) || (authenticated && envelope->has_hello())) {
      out.violation = true;
      break;
    }
    if (!authenticated) {
      if (envelope->hello().credential() != kCredential) {
        out.reply = kiln::v1::Envelope::kRefused;
        break;
      }
      out.reply = kiln::v1::Envelope::kWelcome;
      authenticated = true;
      continue;
    }
    if (envelope->has_heartbeat()) continue;
    out.delivered.push_back(envelope->body_case());
  }
  return out;
}

// Plays the hub for one session.
class Recorder final : public kiln::daemon::SessionHandler {
 public:
  std::string on_hello(Session& session, const kiln::v1::Hello& hello) override {
    KILN_FUZZ_CHECK(!session.authenticated(), "a Hello on an authenticated session");
    KILN_FUZZ_CHECK(++hellos == 1, "{} Hellos offered", hellos);
    return hello.credential() == kCredential ? std::string() : std::string(kRefusal);
  }

  void on_message(Session& session, kiln::v1::Envelope envelope) override {
    KILN_FUZZ_CHECK(closes == 0, "a message after the session closed");
    KILN_FUZZ_CHECK(session.authenticated(), "a message before the Hello was accepted");
    KILN_FUZZ_CHECK(envelope.version() == kiln::wire::kProtocolVersion, "version {}", envelope.version());
    KILN_FUZZ_CHECK(envelope.body_case() != kiln::v1::Envelope::BODY_NOT_SET, "an envelope without a body");
    KILN_FUZZ_CHECK(!envelope.has_hello() && !envelope.has_heartbeat(), "a {} reached the handler",
                    static_cast<int>(envelope.body_case()));
    if (envelope.has_submit_run()) check_plan(envelope.submit_run().plan_text());
    if (envelope.has_phase_dispatch()) {
      for (const auto& step : envelope.phase_dispatch().steps()) check_params(step);
    }
    delivered.push_back(envelope.body_case());
  }

  void on_closed(Session&, const std::string&) override { ++closes; }

  int hellos = 0;
  int closes = 0;
  std::vector<Body> delivered;

 private:
  static void check_plan(const std::string& text) {
    const auto loaded = kiln::plan::load_plan(text, "submitted", kiln::plan::PatternRegistry::builtin());
    KILN_FUZZ_CHECK(loaded.plan.has_value() == loaded.diagnostics.empty(), "a submitted plan {} with {} diagnostics",
                    loaded.plan.has_value(), loaded.diagnostics.size());
  }

  // The agent's reading of a step's params: what reads, writes back the same.
  static void check_params(const kiln::v1::StepSpec& step) {
    const auto read = kiln::plan::read_params(step.params());
    if (!read) return;
    google::protobuf::Map<std::string, kiln::v1::ParamValue> wire;
    kiln::plan::write_params(*read, wire);
    const auto again = kiln::plan::read_params(wire);
    KILN_FUZZ_CHECK(again.ok() && again->texts() == read->texts(), "step {}: params change on a round trip",
                    step.step_index());
  }
};

std::size_t unread_bytes(int fd) {
  int pending = 0;
  if (::ioctl(fd, FIONREAD, &pending) != 0) return 0;
  return pending > 0 ? static_cast<std::size_t>(pending) : 0;
}

// Lets the session read what was written, until it has or stops reading.
void pump(boost::asio::io_context& io, const Recorder& recorder, int session_fd) {
  for (int i = 0; i < 10000 && recorder.closes == 0; ++i) {
    const std::size_t ran = io.poll();
    if (recorder.closes != 0 || unread_bytes(session_fd) == 0) return;
    if (ran == 0) return;  // not reading (closing after a Refused)
  }
}

std::vector<kiln::v1::Envelope> read_replies(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  kiln::wire::FrameDecoder decoder;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    decoder.feed(buffer, static_cast<std::size_t>(n));
  }
  std::vector<kiln::v1::Envelope> replies;
  std::string payload;
  while (decoder.next(payload) == kiln::wire::FrameDecoder::State::frame) {
    auto envelope = kiln::wire::decode_envelope(payload);
    KILN_FUZZ_CHECK(envelope.ok(), "the session sent a bad envelope: {}", envelope.error().message);
    replies.push_back(std::move(envelope).value());
  }
  KILN_FUZZ_CHECK(decoder.buffered() == 0, "the session sent {} bytes of a partial frame", decoder.buffered());
  return replies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);  // the session logs every refusal; here they are the point
    return true;
  }();
  (void)quiet;
  if (size > kMaxInput) return 0;
  kiln::fuzz::InputReader input({data, size});
  kiln::fuzz::Chunker chunker(input);
  const auto stream_bytes = input.rest();
  const std::string_view stream(reinterpret_cast<const char*>(stream_bytes.data()), stream_bytes.size());

  int fds[2];
  KILN_FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "no socketpair");
  const int session_fd = fds[0];
  const int peer_fd = fds[1];

  Recorder recorder;  // outlives the io_context, whose handlers hold the session
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.assign(boost::asio::ip::tcp::v4(), session_fd);
    // Deadlines far beyond a run: this target is about bytes, not time.
    kiln::daemon::SessionTimeouts timeouts;
    timeouts.hello = timeouts.agent_silence = timeouts.client_silence = timeouts.heartbeat = std::chrono::minutes(10);
    auto session = std::make_shared<Session>(std::move(socket), recorder, 1, timeouts);
    session->start();

    std::size_t written = 0;
    while (written < stream.size() && recorder.closes == 0) {
      const std::size_t chunk = chunker.next_size(stream.size() - written);
      const ssize_t n = ::send(peer_fd, stream.data() + written, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) break;  // the session closed its end
      written += static_cast<std::size_t>(n);
      pump(io, recorder, session_fd);
    }
    ::shutdown(peer_fd, SHUT_WR);  // the peer hangs up: the session sees EOF
    for (int i = 0; i < 1000 && recorder.closes == 0; ++i) io.run_one_for(std::chrono::milliseconds(100));
    KILN_FUZZ_CHECK(recorder.closes == 1, "the session closed {} times after the peer hung up", recorder.closes);
    session.reset();
    io.poll();  // the coroutines finish and let go of the session
  }

  const std::vector<kiln::v1::Envelope> replies = read_replies(peer_fd);
  ::close(peer_fd);

  const Expected expected = model(stream);
  KILN_FUZZ_CHECK(recorder.delivered == expected.delivered, "{} envelopes delivered, the protocol lets {} through",
                  recorder.delivered.size(), expected.delivered.size());
  if (expected.reply == kiln::v1::Envelope::BODY_NOT_SET) {
    KILN_FUZZ_CHECK(replies.empty(), "{} replies without a Hello", replies.size());
  } else if (expected.reply == kiln::v1::Envelope::kWelcome && expected.violation) {
    KILN_FUZZ_CHECK(replies.size() <= 1 && (replies.empty() || replies[0].has_welcome()),
                    "{} replies after a violation, the first {}", replies.size(),
                    replies.empty() ? 0 : static_cast<int>(replies[0].body_case()));
  } else {
    KILN_FUZZ_CHECK(replies.size() == 1 && replies[0].body_case() == expected.reply,
                    "{} replies, the first {}, expected only {}", replies.size(),
                    replies.empty() ? 0 : static_cast<int>(replies[0].body_case()), static_cast<int>(expected.reply));
  }
  if (!replies.empty()) {
    if (expected.reply == kiln::v1::Envelope::kRefused) {
      KILN_FUZZ_CHECK(replies[0].refused().reason() == kRefusal, "refused with '{}'", replies[0].refused().reason());
    } else {
      KILN_FUZZ_CHECK(!replies[0].welcome().daemon_version().empty(), "a Welcome without a version");
    }
  }
  return 0;
}
