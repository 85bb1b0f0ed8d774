#pragma once
// Drops raw telemetry older than kilnd --keep-raw in the background
// (docs/telemetry-storage.md, "Retention"): every `every` it asks the
// writer to prune runs that ended more than keep_raw ago, a few runs per
// transaction so ingest is never held up for long, until none is due.
// Roll-ups, verdicts, failures and detections are kept forever. On the io
// thread; the clock is injected so tests need no waiting.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/ingest_writer.hpp"

namespace kiln::daemon {

struct RetentionConfig {
  static constexpr std::chrono::milliseconds kDefaultKeepRaw{std::chrono::hours(24 * 30)};
  std::chrono::milliseconds keep_raw = kDefaultKeepRaw;  // 0: keep raw telemetry forever
  std::chrono::milliseconds every{std::chrono::hours(1)};
  std::chrono::milliseconds first_after{std::chrono::minutes(1)};  // after kilnd starts
  int runs_per_transaction = 8;
  std::function<std::int64_t()> now_unix_ms;  // null: the system clock
};

class RawRetention {
 public:
  RawRetention(boost::asio::any_io_executor executor, IngestWriter& writer, RetentionConfig config);
  void start();
  void stop();
  // One pass now (what the timer does); `done` gets the runs pruned in it.
  void prune_now(std::function<void(std::uint64_t runs_pruned)> done = {});

 private:
  void schedule(std::chrono::milliseconds after);
  void prune_batch(std::shared_ptr<std::uint64_t> total, std::function<void(std::uint64_t)> done);

  boost::asio::any_io_executor executor_;
  IngestWriter& writer_;
  RetentionConfig config_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace kiln::daemon
