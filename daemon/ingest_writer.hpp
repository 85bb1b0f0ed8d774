#pragma once
// The daemon's only database writer: one thread that takes queued jobs,
// runs as many as are waiting inside one transaction, commits, and only then
// reports each job's outcome back on the io thread. An agent's batch is
// acknowledged from that completion, so an ack always means "committed".

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/any_io_executor.hpp>

#include "core/result.hpp"
#include "schema/store.hpp"

namespace kiln::daemon {

class IngestWriter {
 public:
  using Job = std::function<Status(store::Writer&)>;
  using Done = std::function<void(const Status&)>;

  IngestWriter(std::unique_ptr<store::Writer> writer, boost::asio::any_io_executor completions);
  ~IngestWriter();
  IngestWriter(const IngestWriter&) = delete;
  IngestWriter& operator=(const IngestWriter&) = delete;

  // `done` runs on the completions executor after the job's transaction
  // committed (or failed).
  void submit(Job job, Done done);
  // Runs every job already queued, then stops the thread.
  void stop();

  struct Stats {
    std::uint64_t jobs = 0;
    std::uint64_t transactions = 0;
    std::uint64_t failed_jobs = 0;
    std::size_t queued = 0;                // jobs waiting now
    std::int64_t last_commit_unix_ms = 0;  // 0: none yet
  };
  Stats stats() const;

 private:
  struct Pending {
    Job job;
    Done done;
  };
  void loop();
  void run_batch(std::deque<Pending>& batch);

  std::unique_ptr<store::Writer> writer_;
  boost::asio::any_io_executor completions_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace kiln::daemon
