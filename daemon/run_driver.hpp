#pragma once
// Drives one running run on the racks it leases: dispatches each phase to
// the agents of its racks (with the lease's fencing token), collects the
// chips' step results as their batches commit, judges them and records
// verdicts, waits for agents that went away, handles aborts and the loss of
// a lease. RunManager keeps the queue and routes to each run's driver what
// concerns that run's racks. Lives on the io thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/agent_directory.hpp"
#include "daemon/ingest_writer.hpp"
#include "daemon/run_progress.hpp"
#include "daemon/run_state.hpp"
#include "metrics/catalog.hpp"

namespace kiln::daemon {

// What every run's driver uses, owned by RunManager.
struct RunContext {
  boost::asio::any_io_executor executor;
  IngestWriter& writer;
  AgentDirectory& agents;
  const metrics::MetricCatalog& catalog;
  std::chrono::milliseconds rack_return_timeout{std::chrono::minutes(5)};
  // Called on the io thread once the run's end is recorded (or refused).
  std::function<void(std::uint64_t run_id)> on_run_recorded;
};

class RunDriver : public std::enable_shared_from_this<RunDriver> {
 public:
  // Called once, when the run's end has been queued for the writer (its
  // leases may then be ended behind it). The driver may be destroyed then.
  using Ended = std::function<void(std::uint64_t run_id)>;

  RunDriver(const RunContext& context, std::unique_ptr<Run> run, Ended ended);
  ~RunDriver();
  RunDriver(const RunDriver&) = delete;
  RunDriver& operator=(const RunDriver&) = delete;

  // Records the start (unless resumed), loads baselines, dispatches the first phase due.
  void start();
  void on_batch_committed(const std::string& rack, const kiln::v1::AgentBatch& batch,
                          const std::vector<store::ChunkDigest>& chunks);
  void on_rack_lost(const std::string& rack);
  void on_rack_registered(const kiln::v1::RegisterRack& registration);
  Status abort(const std::string& reason);
  // The run lost the right to drive its racks (a lease expired or could not
  // be kept): its agents are stopped and it ends `error` with `reason`.
  void end_for(const std::string& reason);
  // A write of this run failed: it ends `error` with the reason.
  void on_write_failed(const std::string& reason);
  void on_stopping() const;

  RunProgress progress() const;
  const Run& run() const { return *run_; }
  bool ended() const { return ended_; }

 private:
  void load_baselines();
  kiln::v1::Envelope make_dispatch(const std::string& rack, const std::vector<const plan::FlatStep*>& steps) const;
  void dispatch_phase();
  // Sends the current phase to `rack` for its chips still owing results.
  void redispatch_rack(const std::string& rack, bool restarted);
  void mark_away(const std::string& rack);
  void rack_gone(const std::string& rack);
  void arm_deadline();
  void wait_for_deadline(std::size_t phase);
  void send_abort(const std::string& reason) const;

  // run_verdicts.cpp: judging and recording.
  void finish_phase(const std::string& missing_reason, Verdict missing_verdict);
  void mark_not_run(const std::string& reason, Verdict verdict);
  void finish_run(const std::string& status, const std::string& reason);
  // Queues a write of the run; a failed one ends the run `error` with its reason.
  void record(std::string what, IngestWriter::Job job);
  // Judges `result` by the rules that more data cannot undo, and updates the chip's concern.
  void watch(const kiln::v1::ChipStepResult& result);
  JudgeInput judge_input(const RunChip& chip, const plan::FlatStep& step) const;

  const RunContext& context_;
  std::unique_ptr<Run> run_;
  Ended ended_callback_;
  bool ended_ = false;
  boost::asio::steady_timer deadline_;
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> return_deadlines_;  // per away rack
};

}  // namespace kiln::daemon
