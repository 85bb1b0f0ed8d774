// Ingest that loses nothing (issue 11, part 2). Regression: with kilnd's
// database on a full filesystem 125 commits failed ("not stored, will be
// resent") and nothing was resent while the connection stayed up, ~313,000
// samples lost. Now such a commit is retried on the same connection, and a
// restarted agent's spooled batches of an earlier epoch are taken from it.

#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agents/agent.hpp"
#include "agents/outbox.hpp"
#include "tests/integration/lab_fixture.hpp"
#include "tests/integration/raw_peer.hpp"

namespace kiln::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const char* kLab = R"(
lab: itest
seed: 3
time_scale: 100
racks:
  - id: r01
    backend: sim
    topology: ring
    chips: {count: 2, sku: trn2-sim, serial_prefix: "D-"}
)";

// 12 s of wall time at the lab's time scale: agents send a chip's telemetry
// at most once a second (a chunk), so the run must outlast several batches
// with the disk full.
const char* kPlan = R"(
plan: full-disk
seed: 5
sample_hz: 10
steps:
  - name: gemm
    pattern: gemm
    duration: 1200s
    params: {dtype: bf16, verify: abft}
)";

// Files this process writes may not grow past `bytes` (RLIMIT_FSIZE): a
// full filesystem for the daemon's database, without root. SIGXFSZ is
// ignored so a write past it fails (EFBIG) instead of killing the process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit limited = saved_;
    limited.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() { lift(); }
  void lift() { setrlimit(RLIMIT_FSIZE, &saved_); }

 private:
  rlimit saved_{};
};

// Polls `done` (the fixture's own way of watching a lab) until it holds.
template <class Pred>
bool within(std::chrono::seconds limit, Pred done) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(IngestResilience, AFullDiskPausesIngestAndLosesNothingOnTheSameConnection) {
  LabFixture lab;
  lab.start(kLab);
  lab.wait_for_racks(1);
  const auto run_id = lab.submit(kPlan);
  // Telemetry is flowing and being committed.
  ASSERT_TRUE(within(30s, [&] { return lab.agent("r01").outbox().acked_through() >= 2; }));
  std::int64_t batches_before = 0;  // batches committed
  {
    FileSizeLimit disk_full(4096);  // any WAL frame write now fails: SQLITE_IOERR / SQLITE_FULL
    SQLite::Database db(lab.db_path().string(), SQLite::OPEN_READONLY);
    batches_before = db.execAndGet("SELECT count(*) FROM ingested_batches").getInt64();
    // Batches sent, none acknowledged: they wait with the agent (its window
    // is kDefaultMaxInFlight batches; past it the agent sends no more).
    ASSERT_TRUE(within(60s, [&] { return lab.agent("r01").outbox().unacked_count() >= 5; })) << "commits did not stall";
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM ingested_batches").getInt64(), batches_before) << "nothing commits";
    EXPECT_TRUE(lab.agent("r01").connected());
  }  // space returns
  const Json run = Json::parse(lab.wait_for_run(run_id));
  EXPECT_EQ(run["status"], "completed") << run.dump(2);
  expect_nothing_lost(lab.db_path(), run_id, 2);
  SQLite::Database db(lab.db_path().string(), SQLite::OPEN_READONLY);
  EXPECT_GT(db.execAndGet("SELECT count(*) FROM ingested_batches").getInt64(), batches_before);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM events WHERE kind = 'rack_lost'").getInt(), 0)
      << "the connection stayed up";
  const Json report = Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));
  for (const auto& chip : report["chips"]) EXPECT_EQ(chip["verdict"], "pass") << chip.dump(2);
}

kiln::v1::Envelope registration(std::uint64_t epoch, const std::string& key) {
  kiln::v1::Envelope envelope;
  auto* reg = envelope.mutable_register_rack();
  reg->set_rack("r09");
  reg->set_lab("itest");
  reg->set_backend("sim");
  reg->set_topology("ring");
  reg->set_epoch(epoch);
  reg->set_epoch_key(key);
  return envelope;
}

kiln::v1::Envelope batch(std::uint64_t epoch, std::uint64_t seq) {
  kiln::v1::Envelope envelope;
  auto* b = envelope.mutable_agent_batch();
  b->set_rack("r09");
  b->set_epoch(epoch);
  b->set_seq(seq);
  return envelope;
}

bool acked(RawPeer& peer, std::uint64_t epoch, std::uint64_t seq) {
  while (auto envelope = peer.next()) {
    if (envelope->has_batch_ack() && envelope->batch_ack().epoch() == epoch && envelope->batch_ack().seq() == seq)
      return !envelope->batch_ack().has_refused();
  }
  return false;
}

// A restarted agent registers a new epoch with its spool's key and resends
// the spool's batches of the earlier epoch: taken, once. Another key cannot.
TEST(IngestResilience, ASpoolsEarlierEpochIsTakenWithItsKeyAndOnlyWithIt) {
  LabFixture lab;
  lab.issue_rack_credential("r09");
  lab.start(kLab);
  lab.wait_for_racks(1);
  const std::string spool_key(64, 'a');
  const auto hello = [&](RawPeer& peer) {
    peer.hello(kiln::v1::ROLE_AGENT, "r09", LabFixture::rack_credential("r09"));
    return peer.next().value_or(kiln::v1::Envelope{}).has_welcome();
  };
  {
    RawPeer first(lab.port());  // the agent before its kill -9: batch 1 acknowledged, 2 and 3 only spooled
    ASSERT_TRUE(hello(first));
    first.send(registration(1000, spool_key));
    first.send(batch(1000, 1));
    ASSERT_TRUE(acked(first, 1000, 1));
  }
  {
    RawPeer restarted(lab.port());
    ASSERT_TRUE(hello(restarted));
    restarted.send(registration(2000, spool_key));
    for (std::uint64_t seq : {1, 2, 3}) restarted.send(batch(1000, seq));  // 1 again: acked, not stored twice
    restarted.send(batch(2000, 1));
    for (std::uint64_t seq : {1, 2, 3}) EXPECT_TRUE(acked(restarted, 1000, seq)) << seq;
    EXPECT_TRUE(acked(restarted, 2000, 1));
  }
  {
    RawPeer impostor(lab.port());  // the rack's credential, but not the spool's key
    ASSERT_TRUE(hello(impostor));
    impostor.send(registration(3000, std::string(64, 'b')));
    impostor.send(batch(1000, 4));
    EXPECT_TRUE(impostor.closed_within(5s));
  }
  SQLite::Database db(lab.db_path().string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM ingested_batches WHERE rack = 'r09' AND epoch = 1000").getInt(), 3);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM ingested_batches WHERE rack = 'r09' AND seq = 4").getInt(), 0);
}

}  // namespace
}  // namespace kiln::testing

namespace kiln::testing {
namespace {

// Bounded memory (DESIGN §8, "Bounded queues"): with room for almost nothing
// waiting for the writer, every batch read stops the agent being read until
// it is committed; the agent keeps its data meanwhile and nothing is lost.
TEST(IngestResilience, AFullWriterQueueStopsReadingAgentsAndLosesNothing) {
  LabExtensions tight;
  tight.ingest_queue_bytes = 1;
  LabFixture lab(tight);
  lab.start(kLab);
  lab.wait_for_racks(1);
  const auto run_id = lab.submit(R"(
plan: tight-queue
seed: 5
sample_hz: 10
steps:
  - {name: soak, pattern: idle, duration: 120s}
)");
  const Json run = Json::parse(lab.wait_for_run(run_id));
  EXPECT_EQ(run["status"], "completed") << run.dump(2);
  EXPECT_GT(lab.daemon().ingest_pauses(), 0u) << "the queue never filled: the test tests nothing";
  expect_nothing_lost(lab.db_path(), run_id, 2);
}

}  // namespace
}  // namespace kiln::testing
