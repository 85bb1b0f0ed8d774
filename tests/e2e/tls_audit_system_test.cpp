// kilnd with mutual TLS, as a lab runs it off loopback: a client without
// TLS and a client without a certificate are refused, and both refusals are
// in the audit trail (`kiln events`), with the peer and the reason, for an
// admin to read over TLS.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/spawned.hpp"
#include "tests/e2e/system_fixture.hpp"

namespace {

using kiln::e2e::Json;
using kiln::e2e::Outcome;
using kiln::e2e::Spawned;
using kiln::e2e::System;
using kiln::e2e::write_private;

constexpr const char* kAdminSecret = "admin-secret-of-the-tls-audit-test-0123456789";

class TlsAudit : public System {
 protected:
  void SetUp() override {
    System::SetUp();
    const Outcome init = run(bin("kilnd") + " --init-tls '" + tls("").string() + "'");
    ASSERT_EQ(init.status, 0) << init.err;
    write_private(dir_ / "credentials.yaml",
                  "credentials:\n  - {name: lab-admin, role: admin, secret: " + std::string(kAdminSecret) + "}\n");
    write_private(dir_ / "admin.token", std::string(kAdminSecret) + "\n");
    daemon_ = std::make_unique<Spawned>(
        bin("kilnd") + " --db '" + (dir_ / "kiln.db").string() + "' --listen 127.0.0.1:0 --credentials '" +
        (dir_ / "credentials.yaml").string() + "' --tls-cert '" + tls("server.pem").string() + "' --tls-key '" +
        tls("server.key").string() + "' --tls-client-ca '" + tls("ca.pem").string() + "'");
    const auto listening = daemon_->wait_for(std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)"));
    ASSERT_EQ(listening.size(), 1u) << daemon_->output();
    address_ = "127.0.0.1:" + listening[0][1];
  }
  void TearDown() override {
    daemon_.reset();
    System::TearDown();
  }
  std::filesystem::path tls(const std::string& file) const { return dir_ / "tls" / file; }
  // `kiln` as the admin, with `tls_options` (none: plain TCP).
  Outcome kiln(const std::string& tls_options, const std::string& command) {
    return run(bin("kiln") + " --daemon " + address_ + " --token-file '" + (dir_ / "admin.token").string() + "'" +
               tls_options + " " + command);
  }
  std::string server_ca_only() const { return " --tls-ca '" + tls("ca.pem").string() + "'"; }
  std::string mutual() const {
    return server_ca_only() + " --tls-cert '" + tls("client.pem").string() + "' --tls-key '" +
           tls("client.key").string() + "'";
  }

  std::unique_ptr<Spawned> daemon_;
  std::string address_;
};

TEST_F(TlsAudit, TlsRefusalsAreInTheAuditTrail) {
  const Outcome plain = kiln("", "run list");
  EXPECT_NE(plain.status, 0);
  EXPECT_TRUE(plain.err.starts_with("kiln: ")) << plain.err;
  EXPECT_NE(plain.err.find("--tls-ca"), std::string::npos) << "says what is missing: " << plain.err;
  const Outcome no_certificate = kiln(server_ca_only(), "run list");
  EXPECT_NE(no_certificate.status, 0);
  EXPECT_TRUE(no_certificate.err.starts_with("kiln: ")) << no_certificate.err;
  EXPECT_NE(no_certificate.err.find("certificate required"), std::string::npos) << no_certificate.err;
  // kilnd logs each refusal as it closes the connection; the trail is
  // written within its window (about a second) after that.
  ASSERT_EQ(daemon_->wait_for(std::regex("TLS handshake failed"), 2).size(), 2u) << daemon_->output();
  Json tls_refusals = Json::array();
  std::uint64_t refused = 0;  // repeats within a window share a row, with a count
  for (int attempt = 0; attempt < 200 && refused < 2; ++attempt) {
    const Outcome events = kiln(mutual(), "events --json");
    ASSERT_EQ(events.status, 0) << events.err;
    tls_refusals = Json::array();
    refused = 0;
    const Json trail = Json::parse(events.out);
    for (const auto& e : trail["events"]) {
      if (e["kind"] == "refused" && e["detail"].value("reason", "").find("TLS") != std::string::npos) {
        tls_refusals.push_back(e);
        refused += e["count"].get<std::uint64_t>();
      }
    }
  }
  EXPECT_EQ(refused, 2u) << tls_refusals.dump(2);
  for (const auto& e : tls_refusals) {
    EXPECT_EQ(e["peer"], "127.0.0.1") << e.dump(2);
    EXPECT_EQ(e["actor"], "") << "nobody was authenticated";
  }
}

}  // namespace
