#pragma once
// Runs, from submission to the last verdict: validates and persists a
// submitted plan, keeps the fair queue (schedule/run_queue.hpp: priority
// with aging, all racks or none, backfill, queue timeout), takes a lease on
// every rack of a run before it starts and renews it while it runs, and
// hands each started run to its own RunDriver. Several runs run at once on
// disjoint racks; batches, registrations and lost agents go to the run that
// holds the rack. People reserve racks or put them in maintenance through
// the same leases (docs/scheduling.md). Lives on the io thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "daemon/agent_directory.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/ingest_writer.hpp"
#include "daemon/queue_options.hpp"
#include "daemon/run_driver.hpp"
#include "daemon/run_progress.hpp"
#include "daemon/run_state.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::daemon {

class RunManager {
 public:
  using SubmitReply = std::function<void(kiln::v1::SubmitRunReply)>;
  using HoldReply = std::function<void(Result<nlohmann::ordered_json>)>;

  RunManager(boost::asio::any_io_executor executor, IngestWriter& writer, AgentDirectory& agents,
             const plan::PatternRegistry& registry,
             const metrics::MetricCatalog& catalog = metrics::MetricCatalog::builtin(), RunQueueOptions options = {});
  ~RunManager();

  // `actor`: the submitting credential's name (the holder of the run's leases).
  // `fire`: the schedule's fire time that submits it, recorded with the run
  // in one transaction (its run_id is filled in), so it is submitted once.
  void submit(const kiln::v1::SubmitRun& request, SubmitReply reply, const std::string& actor = "",
              std::optional<store::ScheduleFireRow> fire = std::nullopt);
  Status abort(std::uint64_t run_id, const std::string& reason);
  // Live state of a queued or running run, merged into `kiln run show`.
  std::optional<RunProgress> progress(std::uint64_t run_id) const;
  // Why each queued run waits (run → "waiting for r02: …"), for `kiln run list`.
  std::map<std::uint64_t, std::string> waiting_reasons() const { return waiting_reasons_; }

  // Reserve, release, maintenance on/off (docs/scheduling.md); `actor` and
  // `peer` go into the audit trail. The reply holds the rack's hold as JSON.
  void hold_rack(const kiln::v1::RackHoldRequest& request, const std::string& actor, const std::string& peer,
                 HoldReply reply);
  // What holds each rack now (runs' leases, reservations, maintenance), for `kiln racks`.
  nlohmann::ordered_json holds_json() const;

  // `chunks`: what the batch's telemetry chunks held (store::Writer::ingest_batch).
  void on_batch_committed(const std::string& rack, const kiln::v1::AgentBatch& batch,
                          const std::vector<store::ChunkDigest>& chunks = {});
  // A rack's agent went away: its run's part waits for it to register
  // again (on_rack_registered) for rack_return_timeout, then it is lost.
  void on_rack_lost(const std::string& rack);
  // A rack's agent registered: what its chips still owe of the current
  // phase is dispatched to it again; a queued run waiting for it may start.
  void on_rack_registered(const kiln::v1::RegisterRack& registration);

  // Start-up, before the io thread runs: queues every run an earlier daemon
  // left queued, and resumes the ones left running on the leases they held
  // (docs/design.md, "Restarts").
  void resume(store::Reader& reader);
  // The daemon is stopping: running runs stay `running` in the database and
  // keep their leases, to be resumed by the next start.
  void on_stopping();
  void set_rack_return_timeout(std::chrono::milliseconds timeout) { context_.rack_return_timeout = timeout; }
  // Called on the io thread once a run's end is recorded.
  void set_on_run_recorded(std::function<void(std::uint64_t run_id)> hook) {
    context_.on_run_recorded = std::move(hook);
  }
  void set_audit(std::function<void(AuditEvent)> audit) { audit_ = std::move(audit); }

 private:
  std::int64_t now_ms() const;
  Result<std::unique_ptr<Run>> prepare(const kiln::v1::SubmitRun& request, kiln::v1::SubmitRunReply& reply);
  Result<std::unique_ptr<Run>> load_unfinished(store::Reader& reader, const store::RunRow& row);
  // Decides the queue now and starts what may start (run_leases.cpp).
  void schedule();
  void start_run(std::unique_ptr<Run> run);
  void launch(std::unique_ptr<Run> run);
  void on_run_ended(std::uint64_t run_id);
  // Takes back the leases of the runs an earlier daemon left running, then starts them.
  void resume_leases(std::vector<std::unique_ptr<Run>> running);
  void arm_sweep();
  void sweep();
  std::int64_t lease_expiry(const Run& run, std::int64_t now) const;
  void end_queued(std::uint64_t run_id, const std::string& status, const std::string& reason);
  void audit_lease(const std::string& kind, const store::LeaseRow& lease, nlohmann::json extra = {});
  std::shared_ptr<RunDriver> driver_for_rack(const std::string& rack) const;
  std::vector<const Run*> queue_order() const;

  RunContext context_;
  const plan::PatternRegistry& registry_;
  RunQueueOptions options_;
  std::function<void(AuditEvent)> audit_;
  std::vector<std::unique_ptr<Run>> waiting_;
  std::map<std::uint64_t, std::shared_ptr<RunDriver>> drivers_;
  // The active lease of each rack, as the store holds it; a run whose
  // leases are being taken holds its racks here with lease id 0.
  std::map<std::string, store::LeaseRow> holds_;
  std::map<std::uint64_t, std::string> waiting_reasons_;
  // Aborts asked for while a run's leases were being taken: applied as it
  // starts (or instead of its waiting again), never refused.
  std::map<std::uint64_t, std::string> aborts_pending_;
  bool ready_ = false;  // holds_ loaded and resumed runs' leases kept
  bool stopping_ = false;
  boost::asio::steady_timer sweep_timer_;
};

}  // namespace kiln::daemon
