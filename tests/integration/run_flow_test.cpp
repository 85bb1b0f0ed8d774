// Integration: kilnd's Daemon and two Agents in one process on loopback, a
// temporary database, a plan submitted through the client protocol.
#include <thread>

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "schema/store.hpp"
#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const char* kLab = R"(
lab: itest
seed: 11
time_scale: 100
ambient_c: 25
racks:
  - id: r01
    backend: sim
    topology: ring
    chips: {count: 3, sku: trn2-sim, serial_prefix: "A-"}
  - id: r02
    backend: sim
    topology: ring
    chips:
      - {slot: 0, serial: B-00, sku: trn2-sim}
      - {slot: 1, serial: B-01, sku: trn2-sim, faults: [{kind: sdc, core: 2, pe: [7, 99], bit: 25, rate: 1.0}]}
      - {slot: 2, serial: B-02, sku: trn2-sim}
)";

const char* kPlan = R"(
plan: itest
seed: 5
sample_hz: 5
steps:
  - name: gemm
    pattern: gemm
    duration: 6s
    params: {dtype: bf16, verify: abft}
    limits:
      sdc_errors: {max: 0}
      temperature_c: {max: 95}
      tflops: {min: 0.5, of: peak}
  - name: rest
    pattern: idle
    duration: 2s
    limits: {temperature_c: {max: 95}}
)";

const char* kOneChipLab = R"(
lab: one
seed: 1
time_scale: 100
racks:
  - {id: r01, backend: sim, topology: ring, chips: {count: 1, sku: trn2-sim, serial_prefix: "Q-"}}
)";

const Json* chip_of(const Json& report, const std::string& serial) {
  for (const auto& c : report["chips"]) {
    if (c["serial"] == serial) return &c;
  }
  return nullptr;
}

TEST(RunFlow, TwoRacksRunThePlanAndOnlyTheFaultyChipFailsAtItsPe) {
  LabFixture lab;
  lab.start(kLab);
  lab.wait_for_racks(2);
  const auto run_id = lab.submit(kPlan);
  const Json run = Json::parse(lab.wait_for_run(run_id));
  ASSERT_EQ(run["status"], "completed") << run.dump(2);

  const Json report = Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));
  ASSERT_EQ(report["chips"].size(), 6u);
  EXPECT_EQ(report["run"]["seed"], 5);
  EXPECT_EQ(report["run"]["plan"], "itest");
  EXPECT_EQ(report["run"]["plan_sha256"].get<std::string>().size(), 64u);
  for (const auto& chip : report["chips"]) {
    if (chip["serial"] == "B-01") continue;
    EXPECT_EQ(chip["verdict"], "pass") << chip.dump(2);
  }
  const Json* faulty = chip_of(report, "B-01");
  ASSERT_NE(faulty, nullptr);
  EXPECT_EQ((*faulty)["verdict"], "fail");
  ASSERT_GE((*faulty)["failures"].size(), 1u) << faulty->dump(2);
  const Json& failure = (*faulty)["failures"][0];
  EXPECT_EQ(failure["class"], "sdc");
  EXPECT_EQ(failure["step"], "gemm");
  EXPECT_EQ(failure["core"], 2);
  EXPECT_EQ(failure["pe"], Json::array({7, 99}));
  EXPECT_EQ(failure["bit"], 25);
  EXPECT_GT(failure["count"].get<int>(), 10);
  EXPECT_TRUE(failure["conditions"].contains("temperature_c"));
  EXPECT_TRUE(failure["first_at"].is_string());

  // Everything is in the database for later, the same as the daemon says.
  auto reader = store::Reader::open(lab.db_path().string());
  ASSERT_TRUE(reader) << reader.error().message;
  auto chips = (*reader)->run_chips(run_id);
  ASSERT_TRUE(chips);
  EXPECT_EQ(chips->size(), 6u);
  std::size_t samples = 0;
  ASSERT_TRUE((*reader)->telemetry(run_id, "A-00", "temperature_c", [&](const store::TelemetryRow&) { ++samples; }));
  EXPECT_GE(samples, 35u);  // 8 simulated seconds at 5 Hz
}

TEST(RunFlow, AVerdictTheDatabaseRefusesEndsTheRunErrorWithTheReason) {
  LabFixture lab;
  lab.start(kOneChipLab);
  lab.wait_for_racks(1);
  {
    // The database refuses every verdict from now on, as a broken disk would.
    // Waits for the daemon's writer (registration) instead of failing "database is locked".
    SQLite::Database db(lab.db_path().string(), SQLite::OPEN_READWRITE, /*busyTimeoutMs=*/10'000);
    db.exec(
        "CREATE TRIGGER refuse_verdicts BEFORE UPDATE OF verdict ON chip_steps "
        "BEGIN SELECT RAISE(ABORT, 'verdicts refused by the test'); END");
    db.exec(
        "CREATE TRIGGER refuse_new_verdicts BEFORE INSERT ON chip_steps WHEN NEW.verdict IS NOT NULL "
        "BEGIN SELECT RAISE(ABORT, 'verdicts refused by the test'); END");
  }
  const auto run_id = lab.submit(kPlan);
  const Json run = Json::parse(lab.wait_for_run(run_id));
  EXPECT_EQ(run["status"], "error") << run.dump(2);
  const std::string reason = run.value("reason", "");
  EXPECT_NE(reason.find("could not record the verdicts of phase 1"), std::string::npos) << reason;
  EXPECT_NE(reason.find("verdicts refused by the test"), std::string::npos) << reason;
}

// An agent that goes and does not come back within the return deadline:
// the run goes on without its rack, whose chips get error with the reason.
TEST(RunFlow, AgentThatDoesNotComeBackIsGivenUpAtTheReturnDeadline) {
  LabExtensions extensions;
  extensions.rack_return_timeout = 300ms;
  LabFixture lab(extensions);
  lab.start(kLab);
  lab.wait_for_racks(2);
  const auto run_id = lab.submit(kPlan);
  // Let the first phase start, then take rack r02 away.
  for (int i = 0; i < 100; ++i) {
    const Json run = Json::parse(lab.query(kiln::v1::Query::RUN, run_id));
    if (run["status"] == "running") break;
    std::this_thread::sleep_for(20ms);
  }
  lab.stop_agent("r02");
  const Json run = Json::parse(lab.wait_for_run(run_id));
  EXPECT_EQ(run["status"], "completed");
  EXPECT_NE(run.value("reason", "").find("the agent of rack r02 did not register again within 0.3 s"),
            std::string::npos)
      << run.dump(2);
  const Json report = Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));
  for (const auto& chip : report["chips"]) {
    if (chip["rack"] == "r02") {
      EXPECT_TRUE(chip["verdict"] == "error" || chip["verdict"] == "fail") << chip.dump(2);
    } else {
      EXPECT_EQ(chip["verdict"], "pass") << chip.dump(2);
    }
  }
}

// Every rack of a run gone for good: the run ends `error` with the reason,
// instead of waiting for ever.
TEST(RunFlow, RunWhoseRacksNeverComeBackEndsWithAReason) {
  LabExtensions extensions;
  extensions.rack_return_timeout = 300ms;
  LabFixture lab(extensions);
  lab.start(kLab);
  lab.wait_for_racks(2);
  const auto run_id = lab.submit(kPlan);
  lab.stop_agent("r01");
  lab.stop_agent("r02");
  const Json run = Json::parse(lab.wait_for_run(run_id));
  EXPECT_EQ(run["status"], "error") << run.dump(2);
  EXPECT_NE(run.value("reason", "").find("did not register again within 0.3 s"), std::string::npos) << run.dump(2);
}

TEST(RunFlow, WrongCredentialIsRefusedAndNothingIsWritten) {
  LabFixture lab;
  lab.start(R"(
lab: one
seed: 1
time_scale: 100
racks:
  - {id: r09, backend: sim, topology: ring, chips: {count: 2, sku: trn2-sim, serial_prefix: "Z-"}}
)",
            "not-the-secret");
  for (int i = 0; i < 200 && !lab.agent("r09").fatal(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(lab.agent("r09").fatal());
  EXPECT_NE(lab.agent("r09").fatal_reason().find("unknown credential"), std::string::npos)
      << lab.agent("r09").fatal_reason();
  const Json chips = Json::parse(lab.query(kiln::v1::Query::CHIPS));
  EXPECT_TRUE(chips["chips"].empty()) << chips.dump();
  const Json racks = Json::parse(lab.query(kiln::v1::Query::RACKS));
  EXPECT_TRUE(racks["racks"].empty());
  // A client with the wrong secret is refused too.
  auto refused = cli::DaemonClient::connect(Endpoint{"127.0.0.1", lab.port()}, "guess");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::auth);
}

// Sends raw bytes and reports whether the daemon closed the connection.
bool daemon_closes_after(std::uint16_t port, const std::string& bytes) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(socket, boost::asio::buffer(bytes));
  std::array<char, 256> buffer{};
  boost::system::error_code ec;
  for (int i = 0; i < 8; ++i) {
    socket.read_some(boost::asio::buffer(buffer), ec);
    if (ec) return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }
  return false;
}

TEST(RunFlow, GarbageAndOversizedFramesCloseOnlyThatConnection) {
  LabFixture lab;
  lab.start(kOneChipLab);
  lab.wait_for_racks(1);
  auto healthy = lab.client();
  // A length prefix of 4 GiB: refused from the header alone.
  EXPECT_TRUE(daemon_closes_after(lab.port(), std::string("\xff\xff\xff\xff", 4)));
  // A well-sized frame of garbage.
  EXPECT_TRUE(daemon_closes_after(lab.port(), std::string("\x00\x00\x00\x05hello", 9)));
  // Everyone else is still served.
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::RACKS);
  auto racks = healthy->query(q);
  ASSERT_TRUE(racks) << racks.error().message;
  EXPECT_EQ(Json::parse(*racks)["racks"].size(), 1u);
  EXPECT_TRUE(lab.agent("r01").connected());
}

TEST(RunFlow, BadPlanIsRefusedWithLineAndColumn) {
  LabFixture lab;
  lab.start(kOneChipLab);
  lab.wait_for_racks(1);
  kiln::v1::Envelope request;
  request.mutable_submit_run()->set_plan_text(
      "plan: bad\nsteps:\n  - {name: a, pattern: gemm, duration: 5s, colour: red}\n");
  request.mutable_submit_run()->set_plan_path("bad.yaml");
  auto reply = lab.client()->call(std::move(request));
  ASSERT_TRUE(reply);
  const auto& answer = reply->submit_run_reply();
  EXPECT_EQ(answer.run_id(), 0u);
  ASSERT_GE(answer.diagnostics_size(), 1);
  EXPECT_EQ(answer.diagnostics(0).file(), "bad.yaml");
  EXPECT_EQ(answer.diagnostics(0).line(), 3u);
  EXPECT_NE(answer.diagnostics(0).message().find("colour"), std::string::npos);
  const Json runs = Json::parse(lab.query(kiln::v1::Query::RUNS));
  EXPECT_TRUE(runs["runs"].empty());
}

TEST(RunFlow, UnknownRunIsNotFound) {
  LabFixture lab;
  lab.start(kOneChipLab);
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::REPORT);
  q.set_run_id(999);
  auto body = lab.client()->query(q);
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace kiln::testing
