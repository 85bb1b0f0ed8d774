#include "daemon/ingest_writer.hpp"

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "core/clock.hpp"

namespace kiln::daemon {

namespace {
constexpr std::size_t kMaxJobsPerTransaction = 512;
}

IngestWriter::IngestWriter(std::unique_ptr<store::Writer> writer, boost::asio::any_io_executor completions)
    : writer_(std::move(writer)), completions_(std::move(completions)), thread_([this] { loop(); }) {}

IngestWriter::~IngestWriter() { stop(); }

void IngestWriter::submit(Job job, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Pending{std::move(job), std::move(done)});
  }
  wake_.notify_one();
}

void IngestWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

IngestWriter::Stats IngestWriter::stats() const {
  std::lock_guard lock(mutex_);
  Stats out = stats_;
  out.queued = queue_.size();
  return out;
}

void IngestWriter::loop() {
  for (;;) {
    std::deque<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < kMaxJobsPerTransaction) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    try {
      run_batch(batch);
    } catch (const std::exception& e) {
      // A job must never take the writer thread down: report it failed.
      spdlog::error("ingest writer: {}", e.what());
      for (auto& p : batch) {
        if (p.done) {
          Status failed = make_error(ErrorCode::internal, "writer: {}", e.what());
          boost::asio::post(completions_, [done = std::move(p.done), failed] { done(failed); });
        }
      }
    }
  }
}

void IngestWriter::run_batch(std::deque<Pending>& batch) {
  std::vector<Status> outcomes(batch.size());
  auto finish = [&] {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].done) continue;
      boost::asio::post(completions_, [done = std::move(batch[i].done), status = outcomes[i]] { done(status); });
    }
  };

  bool all_ok = false;
  if (auto begun = writer_->begin(); begun) {
    all_ok = true;
    for (std::size_t i = 0; i < batch.size() && all_ok; ++i) {
      outcomes[i] = batch[i].job(*writer_);
      all_ok = outcomes[i].ok();
    }
    if (all_ok) {
      if (auto committed = writer_->commit(); !committed) {
        spdlog::error("ingest writer: commit failed: {}", committed.error().message);
        writer_->rollback();
        for (auto& o : outcomes) o = committed.error();
        all_ok = true;  // nothing more to retry: the whole transaction is gone
      }
    } else {
      writer_->rollback();
    }
  }
  if (!all_ok) {
    // One job failed and took the shared transaction with it: run each job on
    // its own so the others still land and the failure is pinned to its job.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (auto begun = writer_->begin(); !begun) {
        outcomes[i] = begun.error();
        continue;
      }
      outcomes[i] = batch[i].job(*writer_);
      if (outcomes[i].ok()) {
        if (auto committed = writer_->commit(); !committed) outcomes[i] = committed.error();
      } else {
        writer_->rollback();
      }
    }
  }
  std::lock_guard lock(mutex_);
  stats_.jobs += batch.size();
  stats_.transactions += all_ok ? 1 : batch.size();
  for (const auto& o : outcomes) stats_.failed_jobs += o.ok() ? 0 : 1;
  if (std::any_of(outcomes.begin(), outcomes.end(), [](const Status& o) { return o.ok(); })) {
    stats_.last_commit_unix_ms = unix_ms_now();
  }
  finish();
}

}  // namespace kiln::daemon
