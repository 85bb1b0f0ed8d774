#include "daemon/raw_retention.hpp"

#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "core/units.hpp"

namespace kiln::daemon {

RawRetention::RawRetention(boost::asio::any_io_executor executor, IngestWriter& writer, RetentionConfig config)
    : executor_(executor), writer_(writer), config_(std::move(config)), timer_(executor) {
  if (!config_.now_unix_ms) config_.now_unix_ms = [] { return unix_ms_now(); };
}

void RawRetention::start() {
  if (config_.keep_raw.count() <= 0) {
    spdlog::info("retention: raw telemetry is kept forever (--keep-raw 0)");
    return;
  }
  spdlog::info(
      "retention: raw telemetry of runs that ended more than {} ago is dropped (--keep-raw); roll-ups, "
      "verdicts and failures are kept",
      format_duration(Seconds(config_.keep_raw.count() / 1000.0)));
  schedule(config_.first_after);
}

void RawRetention::stop() {
  stopped_ = true;
  timer_.cancel();
}

void RawRetention::schedule(std::chrono::milliseconds after) {
  if (stopped_) return;
  timer_.expires_after(after);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    prune_now([this](std::uint64_t) { schedule(config_.every); });
  });
}

void RawRetention::prune_now(std::function<void(std::uint64_t)> done) {
  if (config_.keep_raw.count() <= 0) {
    if (done) done(0);
    return;
  }
  prune_batch(std::make_shared<std::uint64_t>(0), std::move(done));
}

void RawRetention::prune_batch(std::shared_ptr<std::uint64_t> total, std::function<void(std::uint64_t)> done) {
  auto pruned = std::make_shared<std::vector<store::PrunedRun>>();
  const std::int64_t keep = config_.keep_raw.count();
  const std::int64_t now = config_.now_unix_ms();
  const int per = config_.runs_per_transaction;
  writer_.submit(
      [pruned, keep, now, per](store::Writer& w) -> Status {
        KILN_TRY_ASSIGN(*pruned, w.prune_raw_telemetry(keep, now, per));
        return {};
      },
      [this, pruned, total, done = std::move(done), per](const Status& status) mutable {
        if (!status) {
          spdlog::error("retention: pruning failed, tried again next time: {}", status.error().message);
          if (done) done(*total);
          return;
        }
        for (const store::PrunedRun& p : *pruned) {
          spdlog::info("retention: dropped the raw telemetry of run {} ({} values in {} chunks); its roll-ups stay",
                       p.run_id, p.samples, p.chunks);
        }
        *total += pruned->size();
        if (static_cast<int>(pruned->size()) == per && !stopped_) {
          prune_batch(total, std::move(done));  // more may be due
          return;
        }
        if (done) done(*total);
      });
}

}  // namespace kiln::daemon
