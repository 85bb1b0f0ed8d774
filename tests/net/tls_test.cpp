// TLS under net::Link and net::Connection: a round trip, the daemon's
// certificate checked against the CA and the address dialled, mutual TLS,
// and a plaintext end meeting a TLS end (either way round) refused with a
// reason that says so, on both sides. Certificates come from
// net::write_lab_tls (what kilnd --init-tls writes). Tests wait on statuses
// and recorded closes, never on the clock.
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include "net/link.hpp"
#include "net/tls_context.hpp"
#include "net/tls_files.hpp"
#include "tests/net/tls_server.hpp"

namespace kiln::net {
namespace {

using namespace std::chrono_literals;
using testing::TlsTestServer;

// Two labs' worth of certificates: `lab` and, signed by another CA, `other`.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kiln-tls-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    auto lab = write_lab_tls((root_ / "lab").string());
    ASSERT_TRUE(lab) << lab.error().message;
    lab_ = *lab;
    auto other = write_lab_tls((root_ / "other").string());
    ASSERT_TRUE(other) << other.error().message;
    other_ = *other;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  static TlsContext server_tls(const TlsServerOptions& options) {
    auto context = make_server_tls(options);
    EXPECT_TRUE(context) << context.error().message;
    return context ? *context : TlsContext{};
  }

  std::filesystem::path root_;
  TlsFiles lab_;
  TlsFiles other_;
};

// What one link reported, until it stopped (no reconnect) or came up.
class Outcome : public LinkHandler {
 public:
  void on_status(const LinkStatus& status) override {
    std::lock_guard lock(mutex_);
    if (status.state == LinkState::up || status.state == LinkState::stopped) final_ = status;
    cv_.notify_all();
  }
  LinkStatus wait() {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, 10s, [&] { return final_.has_value(); });
    return final_.value_or(LinkStatus{LinkState::connecting, "no outcome in 10 s"});
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<LinkStatus> final_;
};

LinkStatus connect_once(const std::string& host, std::uint16_t port, const TlsClientOptions& tls) {
  LinkOptions options;
  options.endpoint = Endpoint{host, port};
  options.hello = ClientHello{kiln::v1::ROLE_CLIENT, "tls-test", "secret"};
  options.tls = tls;
  options.reconnect = std::nullopt;
  options.deadlines.handshake = 10s;
  Outcome outcome;
  Link link(options, outcome);
  link.start();
  const LinkStatus status = outcome.wait();
  link.stop();
  return status;
}

TEST_F(TlsTest, TheLabFilesAreOwnerOnly) {
  for (const auto& path :
       {lab_.ca_cert, lab_.ca_key, lab_.server_cert, lab_.server_key, lab_.client_cert, lab_.client_key}) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
}

TEST_F(TlsTest, ALinkComesUpOverTlsAndHelloCrossesIt) {
  TlsTestServer server(server_tls(lab_.server(false)));
  const LinkStatus status = connect_once("127.0.0.1", server.port(), lab_.client(false));
  EXPECT_EQ(status.state, LinkState::up) << status.detail;
  EXPECT_EQ(status.detail, "tls-test-0");
  EXPECT_EQ(server.hellos(), 1);
}

TEST_F(TlsTest, TheDaemonIsCheckedByNameToo) {
  TlsTestServer server(server_tls(lab_.server(false)));
  const LinkStatus status = connect_once("localhost", server.port(), lab_.client(false));
  EXPECT_EQ(status.state, LinkState::up) << status.detail;
}

TEST_F(TlsTest, ACertificateFromAnotherCaIsRefused) {
  TlsTestServer server(server_tls(lab_.server(false)));
  const LinkStatus status = connect_once("127.0.0.1", server.port(), other_.client(false));
  EXPECT_EQ(status.state, LinkState::stopped);
  EXPECT_EQ(status.code, ErrorCode::auth);
  EXPECT_NE(status.detail.find("TLS handshake failed: certificate verify failed"), std::string::npos) << status.detail;
  EXPECT_EQ(server.hellos(), 0);
  EXPECT_EQ(server.first_close().cause, CloseCause::tls);
}

TEST_F(TlsTest, ACertificateThatDoesNotNameTheAddressDialledIsRefused) {
  // Bound to every address, dialled on one its certificate does not name.
  TlsTestServer server(server_tls(lab_.server(false)), boost::asio::ip::address_v4::any());
  const LinkStatus status = connect_once("127.0.0.2", server.port(), lab_.client(false));
  EXPECT_EQ(status.state, LinkState::stopped);
  EXPECT_NE(status.detail.find("IP address mismatch"), std::string::npos) << status.detail;
  EXPECT_EQ(server.hellos(), 0);
}

TEST_F(TlsTest, APlaintextClientOfATlsServerIsToldSoAndRecorded) {
  TlsTestServer server(server_tls(lab_.server(false)));
  const LinkStatus status = connect_once("127.0.0.1", server.port(), TlsClientOptions{});
  EXPECT_EQ(status.state, LinkState::stopped);
  EXPECT_NE(status.detail.find("--tls-ca"), std::string::npos) << status.detail;
  const CloseReason closed = server.first_close();
  EXPECT_EQ(closed.cause, CloseCause::tls) << closed.text;
  EXPECT_NE(closed.text.find("TLS handshake failed"), std::string::npos) << closed.text;
  EXPECT_EQ(server.hellos(), 0);
}

TEST_F(TlsTest, ATlsClientOfAPlaintextServerIsToldSoAndRecorded) {
  TlsTestServer server(TlsContext{});
  const LinkStatus status = connect_once("127.0.0.1", server.port(), lab_.client(false));
  EXPECT_EQ(status.state, LinkState::stopped);
  EXPECT_NE(status.detail.find("does it speak TLS?"), std::string::npos) << status.detail;
  EXPECT_EQ(server.first_close().cause, CloseCause::peer_speaks_tls);
}

TEST_F(TlsTest, MutualTlsAcceptsTheLabsClientCertificate) {
  TlsTestServer server(server_tls(lab_.server(true)));
  const LinkStatus status = connect_once("127.0.0.1", server.port(), lab_.client(true));
  EXPECT_EQ(status.state, LinkState::up) << status.detail;
}

TEST_F(TlsTest, MutualTlsRefusesAClientWithoutACertificate) {
  TlsTestServer server(server_tls(lab_.server(true)));
  const LinkStatus status = connect_once("127.0.0.1", server.port(), lab_.client(false));
  EXPECT_EQ(status.state, LinkState::stopped);
  EXPECT_NE(status.detail.find("certificate required"), std::string::npos) << status.detail;
  const CloseReason closed = server.first_close();
  EXPECT_EQ(closed.cause, CloseCause::tls);
  EXPECT_NE(closed.text.find("did not return a certificate"), std::string::npos) << closed.text;
  EXPECT_EQ(server.hellos(), 0);
}

TEST_F(TlsTest, MutualTlsRefusesACertificateFromAnotherCa) {
  TlsTestServer server(server_tls(lab_.server(true)));
  TlsClientOptions tls = lab_.client(true);
  tls.cert_file = other_.client_cert;
  tls.key_file = other_.client_key;
  const LinkStatus status = connect_once("127.0.0.1", server.port(), tls);
  EXPECT_EQ(status.state, LinkState::stopped);
  EXPECT_EQ(server.first_close().cause, CloseCause::tls);
  EXPECT_EQ(server.hellos(), 0);
}

TEST_F(TlsTest, UnusableOptionsAreRefusedNamingTheOptionAndTheFile) {
  auto missing = check_tls(TlsClientOptions{(root_ / "nope.pem").string()});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("--tls-ca"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find("nope.pem"), std::string::npos);

  auto not_pem = check_tls(TlsClientOptions{lab_.ca_key});
  ASSERT_FALSE(not_pem);
  EXPECT_NE(not_pem.error().message.find("no PEM certificate"), std::string::npos) << not_pem.error().message;

  auto wrong_key = check_tls(TlsClientOptions{lab_.ca_cert, lab_.client_cert, lab_.server_key});
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().message.find("is not the key of"), std::string::npos) << wrong_key.error().message;

  auto half = check_tls(TlsClientOptions{lab_.ca_cert, lab_.client_cert, ""});
  ASSERT_FALSE(half);
  auto server_half = make_server_tls(TlsServerOptions{lab_.server_cert, "", ""});
  ASSERT_FALSE(server_half);
  EXPECT_NE(server_half.error().message.find("--tls-key"), std::string::npos);
}

TEST_F(TlsTest, ALinkWithUnusableOptionsStopsAtOnceWithTheReason) {
  const LinkStatus status = connect_once("127.0.0.1", 1, TlsClientOptions{(root_ / "nope.pem").string()});
  EXPECT_EQ(status.state, LinkState::stopped);
  EXPECT_EQ(status.code, ErrorCode::invalid_argument);
  EXPECT_NE(status.detail.find("nope.pem"), std::string::npos) << status.detail;
}

}  // namespace
}  // namespace kiln::net
