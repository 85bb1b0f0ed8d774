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

// `kiln schedule` against a live kilnd: checked before it is sent (the plan
// with file:line:col, the cron with its column), listed with its next fire
// time in its zone, shown, disabled and enabled, removed; an unknown name
// exits 3. The cron fires only on 29 February, so nothing fires meanwhile.
TEST_F(StandaloneDaemon, ScheduleCommandsAddListShowDisableAndRemove) {
  const std::string kiln = bin("kiln") + client_options();
  Outcome bad_cron =
      run(kiln + " schedule add leap --plan testplans/smoke.yaml --cron '0 25 29 2 *' --tz Europe/Berlin");
  EXPECT_EQ(bad_cron.status, 1);
  EXPECT_NE(bad_cron.err.find("column 3: hour field \"25\""), std::string::npos) << bad_cron.err;
  write_private(dir_ / "broken.yaml", "plan: broken\nsteps:\n  - {name: a, pattern: nope, duration: 1s}\n");
  Outcome bad_plan = run(kiln + " schedule add leap --plan '" + (dir_ / "broken.yaml").string() +
                         "' --cron '0 3 29 2 *' --tz Europe/Berlin");
  EXPECT_EQ(bad_plan.status, 1);
  EXPECT_NE(bad_plan.err.find("broken.yaml:3:"), std::string::npos) << bad_plan.err;
  Outcome bad_zone = run(kiln + " schedule add leap --plan testplans/smoke.yaml --cron '0 3 29 2 *' --tz Mars/Base");
  EXPECT_EQ(bad_zone.status, 1);
  EXPECT_NE(bad_zone.err.find("Mars/Base"), std::string::npos) << bad_zone.err;

  Outcome added = run(kiln + " schedule add leap --plan testplans/smoke.yaml --cron '0 3 29 2 *' --tz Europe/Berlin" +
                      " --racks r01 --max-wall 2h --jitter 10m --catch-up 'run-once-within 6h'");
  ASSERT_EQ(added.status, 0) << added.err;
  EXPECT_NE(added.out.find("schedule leap added: smoke \"0 3 29 2 *\" (Europe/Berlin) on r01"), std::string::npos)
      << added.out;
  Outcome again = run(kiln + " schedule add leap --plan testplans/smoke.yaml --cron '@daily' --tz UTC");
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;

  Outcome listed = run(kiln + " schedule list");
  ASSERT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(listed.out.find("2028-02-29 03:"), std::string::npos) << listed.out;
  const auto json = nlohmann::json::parse(run(kiln + " schedule list --json").out);
  ASSERT_EQ(json["schedules"].size(), 1u);
  EXPECT_EQ(json["schedules"][0]["catch_up"], "run-once-within 6h");
  EXPECT_EQ(json["schedules"][0]["max_wall_s"], 7200);

  Outcome shown = run(kiln + " schedule show leap");
  ASSERT_EQ(shown.status, 0) << shown.err;
  EXPECT_NE(shown.out.find("2032-02-29 03:00 CET"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("(none yet)"), std::string::npos) << shown.out;

  EXPECT_EQ(run(kiln + " schedule disable leap").status, 0);
  EXPECT_NE(run(kiln + " schedule list").out.find("disabled"), std::string::npos);
  Outcome enabled = run(kiln + " schedule enable leap");
  EXPECT_EQ(enabled.status, 0) << enabled.err;
  EXPECT_NE(enabled.out.find("next fire 2028-02-29"), std::string::npos) << enabled.out;
  EXPECT_EQ(run(kiln + " schedule remove leap").status, 0);
  EXPECT_NE(run(kiln + " schedule list").out.find("no schedules"), std::string::npos);
  Outcome unknown = run(kiln + " schedule remove leap");
  EXPECT_EQ(unknown.status, 3);
  EXPECT_NE(unknown.err.find("no schedule leap"), std::string::npos) << unknown.err;
}
