// The agent's disk spool (agents/spool.hpp) and the outbox over it: what a
// kill -9 leaves behind is read back, acks delete, a full spool pauses
// sampling, and a spool others may read is refused.
#include "agents/spool.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "agents/outbox.hpp"

namespace kiln::agent {
namespace {

namespace fs = std::filesystem;

// A private parent directory per test; the spool is created inside it.
class SpoolTest : public ::testing::Test {
 protected:
  SpoolTest() {
    static std::atomic<int> counter{0};
    parent_ = fs::temp_directory_path() /
              ("kiln-spool-test-" + std::to_string(std::random_device{}()) + "-" + std::to_string(counter++));
    fs::create_directories(parent_);
  }
  ~SpoolTest() override {
    std::error_code ignored;
    fs::remove_all(parent_, ignored);
  }

  SpoolOptions options(std::uint64_t max_bytes = SpoolOptions::kDefaultMaxBytes) const {
    return SpoolOptions{parent_ / "spool", max_bytes};
  }
  std::vector<fs::path> batch_files() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(parent_ / "spool")) {
      if (e.path().extension() == ".batch") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path parent_;
};

kiln::v1::Sample sample(double t) {
  kiln::v1::Sample s;
  s.set_serial("X-00");
  s.set_run_id(3);
  s.set_t_s(t);
  auto* v = s.add_values();
  v->set_name("temperature_c");
  v->set_value(40 + t);
  return s;
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST_F(SpoolTest, CreatesAPrivateDirectoryAndKey) {
  auto spool = Spool::open(options(), "r01");
  ASSERT_TRUE(spool) << spool.error().message;
  EXPECT_EQ(mode_of(parent_ / "spool"), 0700u);
  EXPECT_EQ(mode_of(parent_ / "spool" / "epoch.key"), 0600u);
  EXPECT_GE((*spool)->epoch_key().size(), 32u);
  ASSERT_TRUE((*spool)->append_sample(7, 1, sample(1)));
  ASSERT_EQ(batch_files().size(), 1u);
  EXPECT_EQ(mode_of(batch_files()[0]), 0600u);
  // The key is the spool's: a restarted agent proves its earlier epochs with it.
  const std::string key = (*spool)->epoch_key();
  spool->reset();
  auto again = Spool::open(options(), "r01");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->epoch_key(), key);
}

TEST_F(SpoolTest, RefusesADirectoryOthersMayEnter) {
  fs::create_directories(parent_ / "spool");
  ::chmod((parent_ / "spool").c_str(), 0755);
  auto spool = Spool::open(options(), "r01");
  ASSERT_FALSE(spool);
  EXPECT_EQ(spool.error().code, ErrorCode::permission_denied);
  EXPECT_NE(spool.error().message.find("mode 0755"), std::string::npos) << spool.error().message;
}

TEST_F(SpoolTest, RefusesAKeyOthersMayRead) {
  ASSERT_TRUE(Spool::open(options(), "r01"));
  ::chmod((parent_ / "spool" / "epoch.key").c_str(), 0644);
  auto spool = Spool::open(options(), "r01");
  ASSERT_FALSE(spool);
  EXPECT_NE(spool.error().message.find("epoch.key"), std::string::npos) << spool.error().message;
}

TEST_F(SpoolTest, RefusesADirectoryAnotherUserOwns) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the directory to another user";
  fs::create_directories(parent_ / "spool");
  ::chmod((parent_ / "spool").c_str(), 0700);
  ASSERT_EQ(::chown((parent_ / "spool").c_str(), 4242, 4242), 0);
  auto spool = Spool::open(options(), "r01");
  ASSERT_FALSE(spool);
  EXPECT_NE(spool.error().message.find("owned by uid 4242"), std::string::npos) << spool.error().message;
}

TEST_F(SpoolTest, RefusesAnotherRacksSpool) {
  {
    auto spool = Spool::open(options(), "r01");
    ASSERT_TRUE(spool);
    ASSERT_TRUE((*spool)->append_sample(7, 1, sample(1)));
  }
  auto other = Spool::open(options(), "r02");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("belongs to rack r01"), std::string::npos) << other.error().message;
}

TEST_F(SpoolTest, ReadsBackWhatWasSpooledWithItsEpochAndSeq) {
  {
    auto spool = Spool::open(options(), "r01");
    ASSERT_TRUE(spool);
    Outbox outbox("r01", 100, {}, spool->get());
    for (int i = 0; i < 5; ++i) outbox.push_sample(sample(i));
    auto first = outbox.take_batch();  // sent, never acknowledged
    ASSERT_NE(first, nullptr);
    outbox.push_sample(sample(10));  // pending: in the open file only
    // The agent dies here (no ack, no seal).
  }
  auto spool = Spool::open(options(), "r01");
  ASSERT_TRUE(spool);
  EXPECT_TRUE((*spool)->warnings().empty());
  EXPECT_EQ((*spool)->newest_epoch(), 100u);
  Outbox restarted("r01", 200, {}, spool->get());
  auto a = restarted.take_batch();
  auto b = restarted.take_batch();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->epoch(), 100u);
  EXPECT_EQ(a->seq(), 1u);
  EXPECT_EQ(a->samples_size(), 5);
  EXPECT_EQ(b->epoch(), 100u);
  EXPECT_EQ(b->seq(), 2u);
  ASSERT_EQ(b->samples_size(), 1);
  EXPECT_DOUBLE_EQ(b->samples(0).t_s(), 10);
  // The new epoch numbers its own batches from 1.
  restarted.push_sample(sample(20));
  auto c = restarted.take_batch();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->epoch(), 200u);
  EXPECT_EQ(c->seq(), 1u);
}

TEST_F(SpoolTest, AgentEncodedChunksAreSpooledAndReadBackWithTheirBatch) {
  kiln::v1::TelemetryChunk chunk;
  chunk.set_serial("r01-00");
  chunk.set_run_id(3);
  chunk.add_metrics("temperature_c");
  chunk.set_values(1);
  chunk.set_data("KTC-bytes");
  {
    auto spool = Spool::open(options(), "r01");
    ASSERT_TRUE(spool);
    Outbox outbox("r01", 100, {}, spool->get());
    outbox.push_chunk(chunk);
    outbox.push_sample(sample(1));
    ASSERT_NE(outbox.take_batch(), nullptr);  // sent, never acknowledged: the agent dies
  }
  auto spool = Spool::open(options(), "r01");
  ASSERT_TRUE(spool);
  EXPECT_TRUE((*spool)->warnings().empty());
  Outbox restarted("r01", 200, {}, spool->get());
  auto batch = restarted.take_batch();
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->seq(), 1u);
  ASSERT_EQ(batch->chunks_size(), 1);
  EXPECT_EQ(batch->chunks(0).SerializeAsString(), chunk.SerializeAsString());
  EXPECT_EQ(batch->samples_size(), 1);
}

TEST_F(SpoolTest, AckDeletesTheBatchFile) {
  auto spool = Spool::open(options(), "r01");
  ASSERT_TRUE(spool);
  Outbox outbox("r01", 5, {}, spool->get());
  outbox.push_sample(sample(1));
  auto batch = outbox.take_batch();
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch_files().size(), 1u);
  EXPECT_GT((*spool)->bytes(), 0u);
  EXPECT_TRUE(outbox.ack(5, batch->seq()));
  EXPECT_TRUE(batch_files().empty());
  EXPECT_EQ((*spool)->bytes(), 0u);
  EXPECT_TRUE(outbox.idle());
}

TEST_F(SpoolTest, ATornLastRecordIsSkippedWithAWarning) {
  {
    auto spool = Spool::open(options(), "r01");
    ASSERT_TRUE(spool);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*spool)->append_sample(9, 1, sample(i)));
  }
  const fs::path file = batch_files().at(0);
  fs::resize_file(file, fs::file_size(file) - 3);  // kill -9 in the middle of the last write
  auto spool = Spool::open(options(), "r01");
  ASSERT_TRUE(spool) << spool.error().message;
  ASSERT_EQ((*spool)->warnings().size(), 1u);
  EXPECT_NE((*spool)->warnings()[0].find("torn"), std::string::npos) << (*spool)->warnings()[0];
  auto recovered = (*spool)->take_recovered();
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].samples_size(), 2);
}

TEST_F(SpoolTest, ACorruptRecordFailsItsChecksum) {
  {
    auto spool = Spool::open(options(), "r01");
    ASSERT_TRUE(spool);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE((*spool)->append_sample(9, 1, sample(i)));
  }
  const fs::path file = batch_files().at(0);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.put('\x7f');
  }
  auto spool = Spool::open(options(), "r01");
  ASSERT_TRUE(spool);
  ASSERT_EQ((*spool)->warnings().size(), 1u);
  EXPECT_NE((*spool)->warnings()[0].find("checksum"), std::string::npos) << (*spool)->warnings()[0];
  EXPECT_EQ((*spool)->take_recovered().at(0).samples_size(), 1);
}

TEST_F(SpoolTest, AFullSpoolPausesSamplingUntilAnAck) {
  auto spool = Spool::open(options(4096), "r01");
  ASSERT_TRUE(spool);
  Outbox outbox("r01", 5, {}, spool->get());
  while (!outbox.full()) outbox.push_sample(sample(1));
  auto batch = outbox.take_batch();
  ASSERT_NE(batch, nullptr);
  EXPECT_TRUE(outbox.full());
  std::atomic<bool> resumed{false};
  std::thread chip([&] {
    (void)outbox.wait_for_room(std::stop_token{});
    resumed = true;
  });
  EXPECT_FALSE(resumed.load());  // not a proof, but a paused chip must not have run past the wait
  ASSERT_TRUE(outbox.ack(5, batch->seq()));
  chip.join();  // returns only because the ack made room
  EXPECT_TRUE(resumed.load());
  EXPECT_FALSE(outbox.full());
}

TEST_F(SpoolTest, AStoppedChipLeavesAPausedWait) {
  auto spool = Spool::open(options(4096), "r01");
  ASSERT_TRUE(spool);
  Outbox outbox("r01", 5, {}, spool->get());
  while (!outbox.full()) outbox.push_sample(sample(1));
  std::stop_source stop;
  std::thread chip([&] { (void)outbox.wait_for_room(stop.get_token()); });
  stop.request_stop();
  chip.join();
  EXPECT_TRUE(outbox.full());
}

TEST_F(SpoolTest, PastTheMemoryCapBatchesLiveOnlyOnDisk) {
  auto spool = Spool::open(options(), "r01");
  ASSERT_TRUE(spool);
  OutboxLimits limits;
  limits.memory_bytes = 64 << 10;
  Outbox outbox("r01", 5, limits, spool->get());
  const std::size_t items = 3 * Outbox::kDefaultBatchItems;  // sealed as they fill
  for (std::size_t i = 0; i < items; ++i) outbox.push_sample(sample(static_cast<double>(i)));
  EXPECT_LE(outbox.memory_bytes(), limits.memory_bytes);
  EXPECT_GT(outbox.bytes_held(), limits.memory_bytes);
  std::size_t seen = 0;
  double next_t = 0;
  while (auto batch = outbox.take_batch()) {
    for (const auto& s : batch->samples()) {
      EXPECT_DOUBLE_EQ(s.t_s(), next_t);
      next_t += 1;
    }
    seen += static_cast<std::size_t>(batch->samples_size());
    ASSERT_TRUE(outbox.ack(5, batch->seq()));
  }
  EXPECT_EQ(seen, items);
  EXPECT_TRUE(batch_files().empty());
}

// A real kill -9: a child process spools 25 batches' worth, has batches 1–10
// acknowledged, sends 11–24 unacknowledged, leaves the 25th pending (its
// file still open), says so through a pipe and is killed (no destructor). Everything not acknowledged is read back,
// once, with its epoch and seq, and the samples in the order they were pushed.
TEST_F(SpoolTest, AfterKillNineEverythingUnacknowledgedIsReadBackOnce) {
  constexpr int kSamplesPerBatch = 7;
  constexpr int kBatches = 25;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto spool = Spool::open(options(), "r01");
    if (!spool) ::_exit(2);
    Outbox outbox("r01", 42, {}, spool->get());
    int t = 0;
    for (int b = 1; b <= kBatches; ++b) {
      for (int i = 0; i < kSamplesPerBatch; ++i) outbox.push_sample(sample(t++));
      if (b == kBatches) break;  // the last stays pending, its file open
      auto batch = outbox.take_batch();
      if (!batch || batch->seq() != static_cast<std::uint64_t>(b)) ::_exit(3);
      if (b <= 10) (void)outbox.ack(42, batch->seq());  // 11–24: sent, never acknowledged
    }
    const char done = 'k';
    (void)::write(ready[1], &done, 1);
    ::pause();  // killed here
    ::_exit(0);
  }
  ::close(ready[1]);
  char got = 0;
  ASSERT_EQ(::read(ready[0], &got, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto spool = Spool::open(options(), "r01");
  ASSERT_TRUE(spool) << spool.error().message;
  EXPECT_TRUE((*spool)->warnings().empty());
  const auto recovered = (*spool)->take_recovered();
  ASSERT_EQ(recovered.size(), static_cast<std::size_t>(kBatches - 10));
  double t = 10 * kSamplesPerBatch;
  for (std::size_t i = 0; i < recovered.size(); ++i) {
    EXPECT_EQ(recovered[i].epoch(), 42u);
    EXPECT_EQ(recovered[i].seq(), 11 + i);
    ASSERT_EQ(recovered[i].samples_size(), kSamplesPerBatch);
    for (const auto& s : recovered[i].samples()) EXPECT_DOUBLE_EQ(s.t_s(), t++);
  }
}

TEST(MemoryOutboxTest, WithoutASpoolTheMemoryCapPausesSampling) {
  OutboxLimits limits;
  limits.memory_bytes = 1024;
  Outbox outbox("r01", 5, limits);
  while (!outbox.full()) outbox.push_sample(sample(1));
  auto batch = outbox.take_batch();
  ASSERT_NE(batch, nullptr);
  EXPECT_TRUE(outbox.ack(5, batch->seq()));
  EXPECT_FALSE(outbox.full());
}

TEST(MemoryOutboxTest, AtMostMaxInFlightBatchesAreUnacknowledged) {
  OutboxLimits limits;
  limits.max_in_flight = 2;
  Outbox outbox("r01", 5, limits);
  for (int i = 0; i < 3; ++i) {
    outbox.push_sample(sample(i));
    if (i < 2) {
      ASSERT_NE(outbox.take_batch(), nullptr);
    }
  }
  EXPECT_EQ(outbox.take_batch(), nullptr) << "the window is full: the daemon has not acknowledged";
  ASSERT_TRUE(outbox.ack(5, 1));
  EXPECT_NE(outbox.take_batch(), nullptr);
}

}  // namespace
}  // namespace kiln::agent
