#pragma once
// kilnd's chip lifecycle (docs/lifecycle.md): after every recorded run, one
// run at a time and in the order they were recorded, the run's facts are
// read on the query pool (what only reads committed rows stays off the
// writer thread), then the policy is applied on the writer thread
// (lifecycle_apply.hpp); here, on the io thread, what that decided is said
// (log) and the retests it asked for are submitted as runs. A person's state
// (`kiln chip SERIAL set`) goes through here too. Counts per state and SKU
// are kept for /metrics.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>

#include "daemon/ingest_writer.hpp"
#include "daemon/lifecycle_apply.hpp"
#include "lifecycle/policy.hpp"
#include "schema/kiln.pb.h"

namespace kiln::daemon {

class LifecycleKeeper {
 public:
  using SubmitReply = std::function<void(kiln::v1::SubmitRunReply)>;
  // How a retest run is submitted (RunManager::submit).
  using Submit = std::function<void(const kiln::v1::SubmitRun&, SubmitReply)>;
  // (state, sku) → chips.
  using Counts = std::map<std::pair<std::string, std::string>, std::uint64_t>;

  // `io`: where the keeper lives; `reads`: where it reads the store (a pool).
  LifecycleKeeper(boost::asio::any_io_executor io, boost::asio::any_io_executor reads, IngestWriter& writer,
                  std::string db_path, lifecycle::LifecyclePolicy policy, Submit submit);
  ~LifecycleKeeper();
  LifecycleKeeper(const LifecycleKeeper&) = delete;
  LifecycleKeeper& operator=(const LifecycleKeeper&) = delete;

  // A run's end is recorded: apply the policy to its chips.
  void on_run_recorded(std::uint64_t run_id);
  // Called once a run's lifecycle is applied and its retests asked for (an
  // observer: tests wait on it).
  void set_on_applied(std::function<void(std::uint64_t run_id)> hook) { on_applied_ = std::move(hook); }
  // A person sets a chip's state; `done` gets the reply's JSON or the error.
  void set_state(const kiln::v1::SetChipState& request, const std::string& actor,
                 std::function<void(Result<std::string>)> done);
  // At start: applies the runs an earlier kilnd recorded but stopped before
  // applying (runs_to_catch_up), in order, before any run recorded from now on.
  void catch_up();
  // Reads the counts from the store (at start, and after every change).
  void refresh_counts();
  const Counts& counts() const { return counts_; }
  const lifecycle::LifecyclePolicy& policy() const { return policy_; }

 private:
  void submit_retest(const RetestPlan& plan);
  void apply_next();
  void applied(const AppliedRun& applied);

  boost::asio::any_io_executor io_;
  boost::asio::any_io_executor reads_;
  IngestWriter& writer_;
  std::string db_path_;
  lifecycle::LifecyclePolicy policy_;
  Submit submit_;
  std::deque<std::uint64_t> pending_;  // runs recorded, not yet applied
  std::function<void(std::uint64_t)> on_applied_;
  bool applying_ = false;
  Counts counts_;
};

}  // namespace kiln::daemon
