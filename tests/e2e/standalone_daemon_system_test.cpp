// `kiln run submit PLAN --wait --fail-on LEVEL` as a CI job runs it against
// a standalone kilnd with its racks' agents (not `kiln lab`): exit 4 with the
// failing chip named on stderr when a planted fault fails it, exit 0 with
// --fail-on never. kilnd and the agents are real processes; the test waits
// on kilnd's own log lines (listening, each rack registered), never on time.
#include <signal.h>
#include <sys/types.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/spawned.hpp"
#include "tests/e2e/system_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using kiln::e2e::Outcome;
using kiln::e2e::Spawned;
using kiln::e2e::System;
using kiln::e2e::write_private;

constexpr const char* kOperatorSecret = "operator-secret-of-the-submit-test-0123456789";

// kilnd on a free port with the demo lab's two racks' agents, and an
// operator credential (ci.token) for the clients under test.
class StandaloneDaemon : public System {
 protected:
  void SetUp() override {
    System::SetUp();
    start();
  }
  void TearDown() override {
    agents_.clear();
    daemon_.reset();
    System::TearDown();
  }
  void start() {
    const fs::path credentials = dir_ / "credentials.yaml";
    std::string yaml = "credentials:\n";
    yaml += "  - {name: ci, role: operator, secret: " + std::string(kOperatorSecret) + "}\n";
    for (const char* rack : {"r01", "r02"}) {
      const std::string secret = std::string("agent-secret-of-rack-") + rack + "-0123456789abcdef";
      yaml += "  - {name: agent-" + std::string(rack) + ", rack: " + rack + ", secret: " + secret + "}\n";
      write_private(dir_ / (std::string(rack) + ".token"), secret + "\n");
    }
    write_private(credentials, yaml);
    write_private(dir_ / "ci.token", std::string(kOperatorSecret) + "\n");

    // No automatic retests of the SDC chip: the tests count runs.
    kiln::e2e::write_policy_without_retests(dir_);
    daemon_ =
        std::make_unique<Spawned>(bin("kilnd") + " --lifecycle-policy '" + (dir_ / "no-retests.yaml").string() +
                                  "' --db '" + (dir_ / "kiln.db").string() + "' --listen 127.0.0.1:0 --credentials '" +
                                  credentials.string() + "' --log-level info");
    const auto listening = daemon_->wait_for(std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)"));
    ASSERT_EQ(listening.size(), 1u) << daemon_->output();
    address_ = "127.0.0.1:" + listening[0][1];

    for (const char* rack : {"r01", "r02"}) {
      agents_.push_back(std::make_unique<Spawned>("sh -c \"cd '" + std::string(KILN_SOURCE_DIR) + "' && exec " +
                                                  bin("kiln-agent") + " --rack " + rack + " --daemon " + address_ +
                                                  " --token-file '" + (dir_ / (std::string(rack) + ".token")).string() +
                                                  "' --lab device/labs/demo.yaml --skus device/skus\""));
    }
    ASSERT_EQ(daemon_->wait_for(std::regex("agent of rack r0[12] registered"), 2).size(), 2u) << daemon_->output();
  }
  std::string client_options() const {
    return " --daemon " + address_ + " --token-file '" + (dir_ / "ci.token").string() + "'";
  }

  std::string address_;
  std::unique_ptr<Spawned> daemon_;
  std::vector<std::unique_ptr<Spawned>> agents_;
};

TEST_F(StandaloneDaemon, RunSubmitWaitExitsByFailOn) {
  const std::string kiln = bin("kiln") + client_options();
  Outcome strict = run(kiln + " run submit testplans/smoke.yaml --wait --fail-on fail");
  EXPECT_EQ(strict.status, 4) << strict.err;
  EXPECT_NE(strict.err.find("TRN-0205 (fail)"), std::string::npos) << strict.err;
  EXPECT_NE(strict.out.find("sdc in step gemm-bf16: core 1 pe [12,40] bit 22"), std::string::npos) << strict.out;

  Outcome lenient = run(kiln + " run submit testplans/smoke.yaml --wait --fail-on never");
  EXPECT_EQ(lenient.status, 0) << lenient.err;
  EXPECT_NE(lenient.out.find("TRN-0205"), std::string::npos) << lenient.out;
}

// examples/python/kiln_client.py, built at test time from schema/kiln.proto
// with protoc and Debian's python3-protobuf, asks the live daemon.
TEST_F(StandaloneDaemon, PythonExampleClientReadsRunsAndAReport) {
  if (!fs::exists("/usr/bin/python3") || !fs::exists("/usr/bin/protoc") ||
      std::system("/usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs /usr/bin/python3 with python3-protobuf and protoc (scripts/install-deps.sh)";
  }
  ASSERT_EQ(run(bin("kiln") + client_options() + " run submit testplans/smoke.yaml --wait --fail-on never").status, 0);
  const fs::path generated = dir_ / "pb2";
  fs::create_directories(generated);
  Outcome protoc = run("/usr/bin/protoc --python_out='" + generated.string() + "' -I schema schema/kiln.proto");
  ASSERT_EQ(protoc.status, 0) << protoc.err;
  const std::string python = "PYTHONPATH='" + generated.string() + "' /usr/bin/python3 examples/python/kiln_client.py";
  Outcome runs = run(python + client_options() + " runs");
  ASSERT_EQ(runs.status, 0) << runs.err;
  const auto listed = nlohmann::json::parse(runs.out);
  ASSERT_EQ(listed["runs"].size(), 1u) << runs.out;
  EXPECT_EQ(listed["runs"][0]["plan"], "smoke");
  Outcome report = run(python + client_options() + " report 1");
  ASSERT_EQ(report.status, 0) << report.err;
  const auto parsed = nlohmann::json::parse(report.out);
  bool planted_failed = false;
  for (const auto& chip : parsed["chips"]) planted_failed |= chip["serial"] == "TRN-0205" && chip["verdict"] == "fail";
  EXPECT_TRUE(planted_failed) << report.out;
  // A rack's credential is not a client's: refused, and it says so.
  Outcome wrong = run(python + " --daemon " + address_ + " --token-file '" + (dir_ / "r01.token").string() + "' runs");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.err.find("kiln_client"), std::string::npos) << wrong.err;
}

}  // namespace
