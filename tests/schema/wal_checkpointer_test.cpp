// The writer's WAL is checkpointed on a thread of its own, and by the writer
// itself only when that thread falls far behind (schema/wal_checkpointer.hpp).

#include "schema/wal_checkpointer.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "store_test_support.hpp"

namespace kiln::store {
namespace {

using namespace std::chrono_literals;
using testing::must;

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  }
  // One transaction of `pages` 4 KiB pages' worth of rows.
  void commit_pages(int pages) {
    db_.exec("BEGIN");
    SQLite::Statement insert(db_, "INSERT INTO blobs (data) VALUES (zeroblob(4000))");
    for (int i = 0; i < pages; ++i) {
      insert.exec();
      insert.reset();
    }
    db_.exec("COMMIT");
  }
  // The database file's size in rows' pages: what checkpoints copied into it.
  std::uintmax_t pages_in_database_file() const { return std::filesystem::file_size(path_) / 4096; }

  testing::TempDir dir_;
  std::string path_ = dir_.file("wal.db");
  SQLite::Database db_{path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE};
};

TEST_F(WalCheckpointerTest, CommitsPastTheThresholdAreCheckpointedOnItsThreadNotInTheCommit) {
  auto checkpointer = must(WalCheckpointer::start(db_, path_, {/*wake_frames=*/20, /*writer_frames=*/1'000'000}));
  commit_pages(5);
  EXPECT_EQ(checkpointer->stats().checkpoints, 0u) << "below the threshold nothing is checkpointed";
  EXPECT_LT(pages_in_database_file(), 5u);
  commit_pages(40);
  ASSERT_TRUE(checkpointer->wait_for(1, 30s));
  const WalCheckpointer::Stats stats = checkpointer->stats();
  EXPECT_EQ(stats.writer_checkpoints, 0u) << "the writer's commit did not checkpoint";
  EXPECT_GE(stats.frames_backfilled, 45u) << "both commits' pages were copied into the database";
  EXPECT_GE(pages_in_database_file(), 45u);
}

TEST_F(WalCheckpointerTest, AWriterFarAheadOfTheThreadCheckpointsItselfSoTheWalStaysBounded) {
  // The thread is never woken; past writer_frames the commit checkpoints, as SQLite would.
  auto checkpointer = must(WalCheckpointer::start(db_, path_, {/*wake_frames=*/1'000'000, /*writer_frames=*/30}));
  commit_pages(10);
  EXPECT_EQ(checkpointer->stats().writer_checkpoints, 0u);
  EXPECT_LT(pages_in_database_file(), 10u);
  commit_pages(40);
  const WalCheckpointer::Stats stats = checkpointer->stats();
  EXPECT_EQ(stats.writer_checkpoints, 1u);
  EXPECT_EQ(stats.checkpoints, 0u);
  EXPECT_GE(pages_in_database_file(), 50u);
}

TEST_F(WalCheckpointerTest, OnceStoppedTheWriterCheckpointsAsSqliteDoesAgain) {
  {
    auto checkpointer =
        must(WalCheckpointer::start(db_, path_, {/*wake_frames=*/1'000'000, /*writer_frames=*/1'000'000}));
  }
  commit_pages(1100);  // past SQLite's own 1000 pages
  EXPECT_GE(pages_in_database_file(), 1100u);
}

}  // namespace
}  // namespace kiln::store
