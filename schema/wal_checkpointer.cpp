// The writer's WAL checkpointed off its thread (schema/wal_checkpointer.hpp).

#include "schema/wal_checkpointer.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "schema/store_internal.hpp"

namespace kiln::store {
namespace {
constexpr int kSqliteAutocheckpointFrames = 1000;  // SQLite's default
}  // namespace

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(SQLite::Database& writer, const std::string& path,
                                                                Limits limits) {
  return detail::guarded("start the WAL checkpointer", [&]() -> Result<std::unique_ptr<WalCheckpointer>> {
    auto own = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE, detail::kBusyTimeoutMs);
    // Reading opens the file, and tells that it is in WAL mode: a connection
    // that never read it has no WAL to checkpoint.
    if (const std::string mode = own->execAndGet("PRAGMA journal_mode").getString(); mode != "wal") {
      return make_error(ErrorCode::invalid_argument, "{} is not in WAL mode (journal_mode {})", path, mode);
    }
    return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(writer, std::move(own), limits));
  });
}

WalCheckpointer::WalCheckpointer(SQLite::Database& writer, std::unique_ptr<SQLite::Database> own, Limits limits)
    : writer_(writer), own_(std::move(own)), limits_(limits) {
  thread_ = std::thread([this] { loop(); });
  // Replaces SQLite's automatic checkpoint on the writer's connection.
  sqlite3_wal_hook(writer_.getHandle(), &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_autocheckpoint(writer_.getHandle(), kSqliteAutocheckpointFrames);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
  auto& me = *static_cast<WalCheckpointer*>(self);
  if (frames >= me.limits_.writer_frames) {
    // What SQLite's own hook does; PASSIVE, so a busy reader only shortens it.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    std::lock_guard lock(me.mutex_);
    ++me.stats_.writer_checkpoints;
  } else if (frames >= me.limits_.wake_frames) {
    {
      std::lock_guard lock(me.mutex_);
      me.wanted_ = true;
    }
    me.changed_.notify_all();
  }
  return SQLITE_OK;
}

void WalCheckpointer::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    lock.unlock();
    int frames = 0, backfilled = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(own_->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &backfilled);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      // The next commit past the threshold tries again; the writer's own
      // checkpoint keeps the WAL bounded meanwhile.
      spdlog::warn("store: WAL checkpoint of {} failed: {}", own_->getFilename(), sqlite3_errstr(rc));
    }
    lock.lock();
    ++stats_.checkpoints;
    if (backfilled >= 0) stats_.frames_backfilled = static_cast<std::uint64_t>(backfilled);  // -1: not WAL
    changed_.notify_all();
  }
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool WalCheckpointer::wait_for(std::uint64_t checkpoints, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return stats_.checkpoints >= checkpoints; });
}

}  // namespace kiln::store
