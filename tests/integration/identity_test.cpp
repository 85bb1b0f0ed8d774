// Identity and authority (issue 11): a peer is held to what it owns. Raw
// frames play the hostile peers of the tester's report: an agent that
// speaks for another rack's chip, and a second connection that claims a
// rack's epoch and its sequence numbers.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "schema/store.hpp"
#include "tests/integration/lab_fixture.hpp"
#include "tests/integration/raw_peer.hpp"

namespace kiln::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const char* kSdcLab = R"(
lab: itest
seed: 11
time_scale: 100
racks:
  - id: r01
    backend: sim
    topology: ring
    chips:
      - {slot: 0, serial: S-00, sku: trn2-sim}
      - {slot: 1, serial: S-01, sku: trn2-sim, faults: [{kind: sdc, core: 2, pe: [7, 99], bit: 25, rate: 1.0}]}
)";

const char* kGemmPlan = R"(
plan: identity
seed: 5
sample_hz: 5
steps:
  - name: gemm
    pattern: gemm
    duration: 60s
    params: {dtype: bf16, verify: abft}
    limits:
      sdc_errors: {max: 0}
      temperature_c: {max: 95}
)";

kiln::v1::Envelope registration(const std::string& rack, std::uint64_t epoch, const std::string& key) {
  kiln::v1::Envelope envelope;
  auto* reg = envelope.mutable_register_rack();
  reg->set_rack(rack);
  reg->set_lab("itest");
  reg->set_backend("sim");
  reg->set_topology("ring");
  reg->set_epoch(epoch);
  reg->set_epoch_key(key);
  return envelope;
}

kiln::v1::Envelope batch(const std::string& rack, std::uint64_t epoch, std::uint64_t seq) {
  kiln::v1::Envelope envelope;
  auto* b = envelope.mutable_agent_batch();
  b->set_rack(rack);
  b->set_epoch(epoch);
  b->set_seq(seq);
  return envelope;
}

// The BatchAck for `seq`, skipping whatever else comes first.
std::optional<kiln::v1::BatchAck> ack_of(RawPeer& peer, std::uint64_t seq) {
  while (auto envelope = peer.next()) {
    if (envelope->has_batch_ack() && envelope->batch_ack().seq() == seq) return envelope->batch_ack();
  }
  return std::nullopt;
}

void wait_until_running(LabFixture& lab, std::uint64_t run_id) {
  for (int i = 0; i < 500; ++i) {
    if (Json::parse(lab.query(kiln::v1::Query::RUN, run_id))["status"] == "running") return;
    std::this_thread::sleep_for(10ms);
  }
  FAIL() << "run " << run_id << " did not start";
}

const Json* chip_of(const Json& report, const std::string& serial) {
  for (const auto& c : report["chips"]) {
    if (c["serial"] == serial) return &c;
  }
  return nullptr;
}

TEST(Identity, AStepResultForAnotherRacksChipIsRefusedAndTheRealVerdictStands) {
  LabFixture lab;
  lab.issue_rack_credential("r99");
  lab.start(kSdcLab);
  lab.wait_for_racks(1);
  // The agent of a rack that is in no run (the tester's: one that does not
  // exist), with that rack's own credential.
  RawPeer forger(lab.port());
  forger.hello(kiln::v1::ROLE_AGENT, "r99", LabFixture::rack_credential("r99"));
  ASSERT_TRUE(forger.next().value_or(kiln::v1::Envelope{}).has_welcome());
  forger.send(registration("r99", 1, std::string(32, 'f')));

  const auto run_id = lab.submit(kGemmPlan);
  wait_until_running(lab, run_id);
  // The planted SDC chip's step, reported clean and complete before its own rack can.
  kiln::v1::Envelope forged = batch("r99", 1, 1);
  auto* result = forged.mutable_agent_batch()->add_results();
  result->set_serial("S-01");
  result->set_run_id(run_id);
  result->set_step_index(0);
  result->set_completed(true);
  result->set_ran_s(60);
  (*result->mutable_metrics())["sdc_errors"].set_count(300);
  forger.send(forged);
  const auto ack = ack_of(forger, 1);
  ASSERT_TRUE(ack);
  ASSERT_TRUE(ack->has_refused());
  EXPECT_EQ(ack->refused().code(), "permission_denied");
  EXPECT_NE(ack->refused().message().find("S-01"), std::string::npos) << ack->refused().message();
  // Telemetry for it is refused the same way.
  kiln::v1::Envelope samples = batch("r99", 1, 2);
  auto* sample = samples.mutable_agent_batch()->add_samples();
  sample->set_serial("S-01");
  sample->set_run_id(run_id);
  sample->set_t_s(1.5);
  auto* value = sample->add_values();
  value->set_name("temperature_c");
  value->set_value(20);
  forger.send(samples);
  const auto second = ack_of(forger, 2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->refused().code(), "permission_denied");

  const Json run = Json::parse(lab.wait_for_run(run_id));
  ASSERT_EQ(run["status"], "completed") << run.dump(2);
  const Json report = Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));
  const Json* planted = chip_of(report, "S-01");
  ASSERT_NE(planted, nullptr);
  EXPECT_EQ((*planted)["verdict"], "fail") << planted->dump(2);
  ASSERT_FALSE((*planted)["failures"].empty()) << planted->dump(2);
  EXPECT_EQ((*planted)["failures"][0]["class"], "sdc");
  EXPECT_EQ((*chip_of(report, "S-00"))["verdict"], "pass");
  // Nothing of the forger's is in the store: no value at t = 1.5 s from it, no chip of its own.
  auto reader = store::Reader::open(lab.db_path().string());
  ASSERT_TRUE(reader) << reader.error().message;
  int forged_values = 0;
  ASSERT_TRUE((*reader)->telemetry(run_id, "", "", [&](const store::TelemetryRow& row) {
    forged_values += row.value == 20 && row.t_s == 1.5 ? 1 : 0;
  }));
  EXPECT_EQ(forged_values, 0);
  SQLite::Database db(lab.db_path().string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM ingested_batches WHERE rack = 'r99'").getInt(), 0);
}

TEST(Identity, ASecondConnectionCannotTakeARacksEpochOrItsSequenceNumbers) {
  LabFixture lab;
  lab.start(kSdcLab);
  lab.wait_for_racks(1);
  const std::uint64_t epoch = lab.agent("r01").epoch();
  // Each impostor holds the rack's own credential (stolen): the worst case
  // short of the agent's memory. Another rack's credential is refused at its
  // Hello (ARacksCredentialSpeaksForThatRackOnly).

  // It claims the real epoch (readable from the database) with a key of its own: refused.
  {
    RawPeer impostor(lab.port());
    impostor.hello(kiln::v1::ROLE_AGENT, "r01", LabFixture::rack_credential("r01"));
    ASSERT_TRUE(impostor.next().value_or(kiln::v1::Envelope{}).has_welcome());
    impostor.send(registration("r01", epoch, std::string(64, '0')));
    const auto answer = impostor.next();
    ASSERT_TRUE(answer);
    ASSERT_TRUE(answer->has_refused());
    EXPECT_NE(answer->refused().reason().find("another agent process"), std::string::npos)
        << answer->refused().reason();
    EXPECT_TRUE(impostor.closed_within(2s));
  }
  // It sends the real epoch's future sequence numbers without registering: closed, nothing claimed.
  {
    RawPeer impostor(lab.port());
    impostor.hello(kiln::v1::ROLE_AGENT, "r01", LabFixture::rack_credential("r01"));
    ASSERT_TRUE(impostor.next().value_or(kiln::v1::Envelope{}).has_welcome());
    for (std::uint64_t seq = 1; seq <= 50; ++seq) impostor.send(batch("r01", epoch, seq));
    EXPECT_TRUE(impostor.closed_within(2s));
  }
  // It registers an epoch of its own, then sends the real epoch's numbers: closed too.
  {
    RawPeer impostor(lab.port());
    impostor.hello(kiln::v1::ROLE_AGENT, "r01", LabFixture::rack_credential("r01"));
    ASSERT_TRUE(impostor.next().value_or(kiln::v1::Envelope{}).has_welcome());
    impostor.send(registration("r01", epoch + 1, std::string(64, '1')));
    for (std::uint64_t seq = 1; seq <= 50; ++seq) impostor.send(batch("r01", epoch, seq + 50));
    EXPECT_TRUE(impostor.closed_within(2s));
  }
  {
    SQLite::Database db(lab.db_path().string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM ingested_batches").getInt(), 0);
  }
  // The real agent (which the third took the rack from for a moment) is back with its chips.
  for (int i = 0; i < 200; ++i) {
    const Json racks = Json::parse(lab.query(kiln::v1::Query::RACKS));
    if (racks["racks"].size() == 1 && racks["racks"][0]["chips"] == 2 && lab.agent("r01").connected()) break;
    std::this_thread::sleep_for(25ms);
  }
  const auto run_id = lab.submit(kGemmPlan);
  const Json run = Json::parse(lab.wait_for_run(run_id));
  ASSERT_EQ(run["status"], "completed") << run.dump(2);
  expect_nothing_lost(lab.db_path(), run_id, 2);
  const Json report = Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));
  EXPECT_EQ((*chip_of(report, "S-01"))["verdict"], "fail");
  EXPECT_EQ((*chip_of(report, "S-00"))["verdict"], "pass");
}

TEST(Identity, ARacksCredentialSpeaksForThatRackOnly) {
  LabFixture lab;
  lab.issue_rack_credential("r02");
  lab.start(kSdcLab);
  lab.wait_for_racks(1);
  struct Attempt {
    kiln::v1::Role role;
    std::string identity;
    std::string credential;
    std::string refusal;
  };
  const std::vector<Attempt> attempts = {
      {kiln::v1::ROLE_AGENT, "r02", LabFixture::rack_credential("r01"), "speaks for rack r01, not r02"},
      {kiln::v1::ROLE_AGENT, "r01", LabFixture::rack_credential("r02"), "speaks for rack r02, not r01"},
      {kiln::v1::ROLE_AGENT, "r01", lab.credential(), "not an agent's"},
      {kiln::v1::ROLE_CLIENT, "kiln-cli", LabFixture::rack_credential("r01"), "not a client's"},
  };
  for (const auto& a : attempts) {
    RawPeer peer(lab.port());
    peer.hello(a.role, a.identity, a.credential);
    // Refused at the Hello: nothing it could send next is read.
    kiln::v1::Envelope reg = registration(a.identity, 7, std::string(32, '7'));
    reg.mutable_register_rack()->add_chips()->set_serial("FAKE-0");
    peer.send(reg);
    const auto answer = peer.next();
    ASSERT_TRUE(answer) << a.refusal;
    ASSERT_TRUE(answer->has_refused()) << a.refusal;
    EXPECT_NE(answer->refused().reason().find(a.refusal), std::string::npos) << answer->refused().reason();
    EXPECT_TRUE(peer.closed_within(2s));
  }
  // Nothing was written: no fake chip, r01 still its real agent's.
  const Json chips = Json::parse(lab.query(kiln::v1::Query::CHIPS));
  ASSERT_EQ(chips["chips"].size(), 2u) << chips.dump();
  for (const auto& c : chips["chips"]) EXPECT_EQ(c["rack"], "r01") << c.dump();
  EXPECT_TRUE(lab.agent("r01").connected());
}

TEST(Identity, AViewerMayQueryButNotSubmitOrAbortAndAnOperatorMay) {
  LabFixture lab;
  lab.start(kSdcLab);
  lab.wait_for_racks(1);
  auto viewer = lab.client(lab.client_credential(daemon::ClientRole::viewer));
  kiln::v1::Envelope submit;
  // Long enough (60 s of wall time) that the abort below finds it running.
  submit.mutable_submit_run()->set_plan_text(R"(
plan: long
sample_hz: 1
steps:
  - {name: soak, pattern: gemm, duration: 6000s, params: {dtype: bf16}}
)");
  submit.mutable_submit_run()->add_racks("r01");
  auto refused = viewer->call(submit);
  ASSERT_TRUE(refused) << refused.error().message;
  ASSERT_TRUE(refused->has_error_reply());
  EXPECT_EQ(refused->error_reply().code(), "permission_denied");
  EXPECT_NE(refused->error_reply().message().find("viewer"), std::string::npos) << refused->error_reply().message();
  EXPECT_TRUE(Json::parse(lab.query(kiln::v1::Query::RUNS))["runs"].empty());

  auto operator_client = lab.client(lab.client_credential(daemon::ClientRole::run_operator));
  auto accepted = operator_client->call(submit);
  ASSERT_TRUE(accepted) << accepted.error().message;
  ASSERT_TRUE(accepted->has_submit_run_reply());
  const std::uint64_t run_id = accepted->submit_run_reply().run_id();
  ASSERT_NE(run_id, 0u);
  kiln::v1::Envelope abort;
  abort.mutable_abort_run()->set_run_id(run_id);
  auto not_aborted = viewer->call(abort);
  ASSERT_TRUE(not_aborted);
  EXPECT_EQ(not_aborted->error_reply().code(), "permission_denied");
  // A viewer still reads everything.
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::RUN);
  q.set_run_id(run_id);
  EXPECT_TRUE(viewer->query(q));
  auto aborted = operator_client->call(abort);
  ASSERT_TRUE(aborted);
  EXPECT_FALSE(aborted->has_error_reply()) << aborted->error_reply().message();
  EXPECT_EQ(Json::parse(lab.wait_for_run(run_id))["status"], "aborted");
}

TEST(Identity, KilnRunSubmitWithAViewersTokenExitsNonZeroSayingWhy) {
  LabFixture lab;
  lab.start(kSdcLab);
  lab.wait_for_racks(1);
  const auto dir = lab.db_path().parent_path();
  const auto token = dir / "viewer.token";
  std::ofstream(token) << lab.client_credential(daemon::ClientRole::viewer) << "\n";
  std::filesystem::permissions(token, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto plan = dir / "plan.yaml";
  std::ofstream(plan) << kGemmPlan;
  cli::GlobalOptions global;
  global.daemon = "127.0.0.1:" + std::to_string(lab.port());
  global.token_file = token.string();
  cli::SubmitOptions options;
  options.file = plan.string();
  ::testing::internal::CaptureStderr();
  const int status = cli::run_submit(global, options);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 5);
  EXPECT_NE(err.find("kiln: permission denied: credential 'itest-viewer' is a viewer: it may not submit runs"),
            std::string::npos)
      << err;
  EXPECT_TRUE(Json::parse(lab.query(kiln::v1::Query::RUNS))["runs"].empty());
}

// The events of `kind` in the audit trail, once at least `count` of them
// (summing their counts) are there: the daemon writes them once a second.
Json events_of(LabFixture& lab, const std::string& kind, std::uint64_t count) {
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::EVENTS);
  auto admin = lab.client();
  Json found = Json::array();
  std::string last;
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto body = admin->query(q);
    if (!body) throw std::runtime_error(body.error().message);
    last = *body;
    found = Json::array();
    std::uint64_t total = 0;
    const Json all = Json::parse(*body);  // named: a range-for over a temporary's member would dangle
    for (const auto& e : all["events"]) {
      if (e["kind"] != kind) continue;
      found.push_back(e);
      total += e["count"].get<std::uint64_t>();
    }
    if (total >= count) return found;
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "fewer than " << count << " events " << kind << ": " << found.dump(2) << "\nof " << last;
  return found;
}

TEST(Identity, TheAuditTrailRecordsWhoConnectedWasRefusedSubmittedAndAborted) {
  LabFixture lab;
  lab.start(kSdcLab);
  lab.wait_for_racks(1);
  // A flood of refused Hellos from one host: a few rows with counts, not one row each.
  constexpr int kFlood = 60;
  for (int i = 0; i < kFlood; ++i) {
    RawPeer guess(lab.port());
    guess.hello(kiln::v1::ROLE_CLIENT, "guesser", "guess-" + std::to_string(i) + "-0123456789abcdef0123456789");
    ASSERT_TRUE(guess.next().value_or(kiln::v1::Envelope{}).has_refused());
  }
  auto viewer = lab.client(lab.client_credential(daemon::ClientRole::viewer));
  kiln::v1::Envelope submit;
  submit.mutable_submit_run()->set_plan_text(R"(
plan: long
sample_hz: 1
steps:
  - {name: soak, pattern: gemm, duration: 6000s, params: {dtype: bf16}}
)");
  submit.mutable_submit_run()->add_racks("r01");
  ASSERT_EQ(viewer->call(submit).value().error_reply().code(), "permission_denied");
  // Nor may a viewer read the trail.
  kiln::v1::Query trail;
  trail.set_kind(kiln::v1::Query::EVENTS);
  auto denied = viewer->query(trail);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::permission_denied);
  auto operator_client = lab.client(lab.client_credential(daemon::ClientRole::run_operator));
  const std::uint64_t run_id = operator_client->call(submit).value().submit_run_reply().run_id();
  ASSERT_NE(run_id, 0u);
  kiln::v1::Envelope abort;
  abort.mutable_abort_run()->set_run_id(run_id);
  abort.mutable_abort_run()->set_reason("audit test");
  ASSERT_FALSE(operator_client->call(abort).value().has_error_reply());

  const Json refused = events_of(lab, "refused", kFlood + 1);
  std::uint64_t guesses = 0, guess_rows = 0;
  bool viewer_refused = false;
  for (const auto& e : refused) {
    if (e["detail"].value("reason", "") == "unknown credential") {
      guesses += e["count"].get<std::uint64_t>();
      ++guess_rows;
      EXPECT_EQ(e["peer"], "127.0.0.1");
      EXPECT_EQ(e["actor"], "");
    }
    viewer_refused |= e["actor"] == "itest-viewer" && e["detail"]["reason"] == "a viewer may not submit runs";
  }
  EXPECT_EQ(guesses, static_cast<std::uint64_t>(kFlood));
  EXPECT_LE(guess_rows, 10u) << "one row per host and second, not per connection";
  EXPECT_TRUE(viewer_refused) << refused.dump(2);

  const Json submitted = events_of(lab, "run_submitted", 1);
  ASSERT_EQ(submitted.size(), 1u);
  EXPECT_EQ(submitted[0]["actor"], "itest-operator");
  EXPECT_EQ(submitted[0]["run"], run_id);
  const Json aborted = events_of(lab, "run_aborted", 1);
  ASSERT_EQ(aborted.size(), 1u);
  EXPECT_EQ(aborted[0]["actor"], "itest-operator");
  EXPECT_EQ(aborted[0]["run"], run_id);
  EXPECT_EQ(aborted[0]["detail"]["reason"], "audit test");
  bool agent_connected = false, operator_connected = false;
  for (const auto& e : events_of(lab, "connect", 3)) {
    agent_connected |= e["actor"] == "rack-r01" && e["detail"]["role"] == "agent";
    operator_connected |= e["actor"] == "itest-operator" && e["detail"]["role"] == "client";
  }
  EXPECT_TRUE(agent_connected);
  EXPECT_TRUE(operator_connected);
  const Json registered = events_of(lab, "rack_registered", 1);
  EXPECT_EQ(registered[0]["actor"], "rack-r01");
  EXPECT_EQ(registered[0]["detail"]["rack"], "r01");
  EXPECT_EQ(registered[0]["detail"]["new_epoch"], true);

  // kiln events shows them, filtered to the run.
  const auto token = lab.db_path().parent_path() / "admin.token";
  std::ofstream(token) << lab.credential() << "\n";
  std::filesystem::permissions(token, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  cli::GlobalOptions global;
  global.daemon = "127.0.0.1:" + std::to_string(lab.port());
  global.token_file = token.string();
  cli::EventsOptions options;
  options.run_id = run_id;
  ::testing::internal::CaptureStdout();
  const int status = cli::events(global, options);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("run_submitted"), std::string::npos) << out;
  EXPECT_NE(out.find("run_aborted"), std::string::npos) << out;
  EXPECT_NE(out.find("itest-operator"), std::string::npos) << out;
  EXPECT_EQ(out.find("connect "), std::string::npos) << "not about the run: " << out;
}

TEST(Identity, SinceTakesADurationBackOrAUtcTime) {
  EXPECT_EQ(cli::parse_since("", 10'000).value(), 0);
  EXPECT_EQ(cli::parse_since("10s", 60'000).value(), 50'000);
  EXPECT_EQ(cli::parse_since("1970-01-01T00:01:00Z", 0).value(), 60'000);
  EXPECT_FALSE(cli::parse_since("yesterday", 0));
  EXPECT_FALSE(cli::parse_since("2026-12-02T05:00:00+01:00", 0));
}

}  // namespace
}  // namespace kiln::testing
