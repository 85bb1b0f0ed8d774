#pragma once
// Routes what sessions say to the parts of the daemon: hellos to the
// credential check, agent registrations to the directory, agent batches to
// the writer (ack after commit) and on to the run manager, client requests
// to the run manager or the query pool. Runs on the io thread.

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "daemon/agent_directory.hpp"
#include "daemon/audit_log.hpp"
#include "daemon/credentials.hpp"
#include "daemon/epoch_owners.hpp"
#include "daemon/ingest_budget.hpp"
#include "daemon/ingest_writer.hpp"
#include "daemon/lifecycle_keeper.hpp"
#include "daemon/live_feed.hpp"
#include "daemon/run_manager.hpp"
#include "daemon/scheduler.hpp"
#include "daemon/session.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::daemon {

class Hub final : public SessionHandler {
 public:
  Hub(boost::asio::any_io_executor executor, CredentialBook credentials, std::string db_path, IngestWriter& writer,
      const plan::PatternRegistry& registry, const metrics::MetricCatalog& catalog, RunQueueOptions queue = {},
      std::size_t ingest_queue_bytes = IngestBudget::kDefaultMaxBytes,
      lifecycle::LifecyclePolicy lifecycle_policy = lifecycle::LifecyclePolicy::defaults(),
      SchedulerOptions schedules = {});
  ~Hub() override;

  std::string on_hello(Session& session, const kiln::v1::Hello& hello) override;
  void on_message(Session& session, kiln::v1::Envelope envelope) override;
  void on_closed(Session& session, const std::string& reason) override;

  // Stops the query pool; pending queries finish first.
  void stop();
  RunManager& runs() { return runs_; }
  LifecycleKeeper& lifecycle() { return lifecycle_; }
  Scheduler& scheduler() { return scheduler_; }
  // An audit event (the daemon's own: connections it turned away).
  void audit(AuditEvent event) { audit_.record(std::move(event)); }
  // Queues the audit events held so far for the writer (on the io thread).
  void flush_audit() { audit_.flush(); }
  // Which agent owned each rack's last epoch, as the store remembers it.
  void remember_epochs(const std::vector<store::RackEpochRow>& rows);

  // The live feed, for /metrics (on the io thread).
  const LiveFeed& live() const { return live_; }
  const IngestBudget& ingest_budget() const { return ingest_budget_; }

 private:
  void on_agent_message(Session& session, kiln::v1::Envelope& envelope);
  // Stores an agent's batch and acknowledges it once committed; a commit
  // that fails for a passing reason (a full disk) is retried, not dropped.
  // `bytes` of it are counted in ingest_budget_ until it is stored or given up.
  void ingest(std::shared_ptr<const kiln::v1::AgentBatch> batch, std::weak_ptr<Session> weak, AuditEvent refusal,
              std::size_t bytes);
  // ingest()'s second half, once the batch's chunks are checked (on checks_);
  // a retry (`attempt` > 0) comes back here with the same check.
  void store_checked(std::shared_ptr<const kiln::v1::AgentBatch> batch,
                     std::shared_ptr<const Result<store::CheckedChunks>> checked, std::weak_ptr<Session> weak,
                     AuditEvent refusal, int attempt, std::size_t bytes);
  void on_register(Session& session, kiln::v1::RegisterRack registration);
  // Why a Hello is refused ('' when accepted); `actor` is set to the
  // credential's name once the secret is known.
  std::string check_hello(Session& session, const kiln::v1::Hello& hello, std::string& actor);
  void audit(const Session& session, std::string kind, nlohmann::json detail, std::uint64_t run_id = 0);
  // Records why, and closes the session.
  void refuse(Session& session, const std::string& why);
  void on_client_message(Session& session, kiln::v1::Envelope& envelope);
  void answer_query(Session& session, std::uint64_t request_id, const kiln::v1::Query& query);
  // Schedules (hub_schedules.cpp): add/disable/enable/remove, and the
  // SCHEDULES and SCHEDULE queries, answered on the io thread.
  void on_schedule_request(Session& session, std::uint64_t request_id, const kiln::v1::ScheduleRequest& request);
  void answer_schedule_query(Session& session, std::uint64_t request_id, const kiln::v1::Query& query);
  // A run a schedule's fire time submits, like a person's (live feed, audit).
  void submit_scheduled(const kiln::v1::SubmitRun& request, const std::string& actor,
                        const store::ScheduleFireRow& fire, Scheduler::SubmitReply reply);
  // Whether the session's credential may do what `needed` may; if not, a
  // permission_denied ErrorReply saying what `what` needs is sent.
  bool permitted(Session& session, std::uint64_t request_id, ClientRole needed, const char* what);
  // What the live feed shows of a run from the store, read on the query pool.
  void load_run_facts(std::uint64_t run_id, std::function<void(LiveFeed::RunFacts)> done);

  boost::asio::any_io_executor executor_;
  CredentialBook credentials_;
  std::string db_path_;
  IngestWriter& writer_;
  AgentDirectory agents_;
  EpochOwners epochs_;
  AuditLog audit_;
  IngestBudget ingest_budget_;
  boost::asio::thread_pool queries_{2};
  boost::asio::thread_pool checks_{1};  // agents' chunks checked before the writer stores them, in order
  RunManager runs_;
  LifecycleKeeper lifecycle_;  // after runs_ (it submits retests through it) and queries_ (it reads there)
  LiveFeed live_;              // its timer and callbacks use runs_ and queries_
  Scheduler scheduler_;        // last: it submits through runs_ and tells live_
};

}  // namespace kiln::daemon
