#pragma once
// Checkpoints the writer's WAL on a thread of its own (docs/telemetry-storage.md,
// "Checkpoints"). SQLite's automatic checkpoint runs inside the commit that
// takes the WAL past 1000 pages: it copies the WAL back into the database and
// syncs it on the committing thread. In kilnd that thread is the one writer,
// and in the 1024-chip lab those commits took up to 150 ms, half the writer's
// commit time, at every phase's end. Here a commit only appends to the WAL;
// this thread copies the pages back with its own connection (PASSIVE: it
// never waits for the writer or for readers).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <SQLiteCpp/Database.h>

#include "core/result.hpp"

struct sqlite3;

namespace kiln::store {

class WalCheckpointer {
 public:
  struct Limits {
    // Pages in the WAL after a commit that wake the thread (SQLite's own
    // automatic checkpoint threshold).
    int wake_frames = 1000;
    // Pages after which the writer's commit checkpoints itself, as SQLite
    // would: the thread fell behind, and the WAL must stay bounded
    // (65536 pages of 4 KiB: 256 MiB).
    int writer_frames = 65536;
  };
  struct Stats {
    std::uint64_t checkpoints = 0;         // run on the thread
    std::uint64_t writer_checkpoints = 0;  // run in a commit (the thread fell behind)
    std::uint64_t frames_backfilled = 0;   // the WAL's frames in the database after the thread's last checkpoint
  };

  // Follows the commits of `writer` (a connection to `path` in WAL mode)
  // and checkpoints on a connection of its own. `writer` must outlive it.
  static Result<std::unique_ptr<WalCheckpointer>> start(SQLite::Database& writer, const std::string& path,
                                                        Limits limits);
  static Result<std::unique_ptr<WalCheckpointer>> start(SQLite::Database& writer, const std::string& path) {
    return start(writer, path, Limits{});
  }
  // Stops the thread (a checkpoint under way finishes first) and gives the
  // writer back SQLite's automatic checkpoint.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  Stats stats() const;
  // Waits until the thread has run `checkpoints` checkpoints in all; false
  // on timeout.
  bool wait_for(std::uint64_t checkpoints, std::chrono::milliseconds timeout) const;

 private:
  WalCheckpointer(SQLite::Database& writer, std::unique_ptr<SQLite::Database> own, Limits limits);
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  void loop();

  SQLite::Database& writer_;
  std::unique_ptr<SQLite::Database> own_;
  const Limits limits_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool wanted_ = false;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace kiln::store
