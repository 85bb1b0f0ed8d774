#pragma once
// An in-process lab for integration tests: kilnd's Daemon on a free loopback
// port with a temporary database, and one Agent per rack of a lab given as
// YAML text, all in this test process.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/agent.hpp"
#include "cli/client.hpp"
#include "daemon/daemon.hpp"
#include "device/lab.hpp"

namespace kiln::testing {

// A lab of one simulated ring rack "r01" (time_scale 100) of `count` trn2-sim
// chips <prefix>0, <prefix>1, …; chip `faulty` (if in range) carries
// `faults` (a YAML flow sequence, e.g. "[{kind: slow, factor: 0.8}]").
std::string one_rack_lab(const std::string& prefix, int count, std::uint64_t seed, int faulty = -1,
                         const std::string& faults = "");

// What a lab runs beyond the built-ins, the same for its daemon and agents
// (a toy pattern and metric); null members: the built-in ones.
struct LabExtensions {
  std::shared_ptr<const plan::PatternRegistry> patterns;
  std::shared_ptr<const agent::PatternFactory> pattern_factory;
  std::shared_ptr<const metrics::MetricCatalog> metrics;
  bool serve_metrics = false;  // the daemon serves /metrics on a free loopback port
  // How long a run waits for a rack's agent that went away (DaemonConfig).
  std::chrono::milliseconds rack_return_timeout{std::chrono::minutes(5)};
  // The fair queue and its leases (DaemonConfig::queue): tests inject the clock.
  daemon::RunQueueOptions queue;
  // When schedules fire (DaemonConfig::schedules): tests inject the clock.
  daemon::SchedulerOptions schedules;
  // Agent batches the daemon holds before it stops reading agents (DaemonConfig).
  std::size_t ingest_queue_bytes = std::size_t{64} << 20;
  // How chips move between lifecycle states after each run (DaemonConfig).
  // No automatic retests unless a test asks for them (with_retests): they
  // add runs, alarms and live updates to whatever a test is watching.
  lifecycle::LifecyclePolicy lifecycle_policy = without_retests(lifecycle::LifecyclePolicy::defaults());
  static lifecycle::LifecyclePolicy without_retests(lifecycle::LifecyclePolicy policy) {
    policy.retests_same_seed = 0;
    policy.retests_new_seeds = 0;
    policy.rma_after_failed_retests = 0;
    return policy;
  }
};

class LabFixture {
 public:
  explicit LabFixture(LabExtensions extensions = {});
  ~LabFixture();

  // Starts the daemon (once) and an agent per rack of `lab_yaml`, each with
  // its rack's credential (or `credential`, when given). The daemon knows a
  // credential for every rack of the first lab and of issue_rack_credential,
  // and one client credential of each role.
  void start(const std::string& lab_yaml, const std::string& credential = "");
  // Before start(): a credential for a rack the lab does not have.
  void issue_rack_credential(const std::string& rack);
  agent::Agent& agent(const std::string& rack);
  void stop_agent(const std::string& rack);

  // A client with `credential` (default: the admin's).
  std::unique_ptr<cli::DaemonClient> client(const std::string& credential = "");
  // Submits plan text on the lab's racks; returns the run id (fails the test on refusal).
  std::uint64_t submit(const std::string& plan_yaml, std::optional<std::uint64_t> seed = std::nullopt);
  // Submits `request` as it is (its racks, priority, …); returns the run id.
  std::uint64_t submit(kiln::v1::SubmitRun request);
  // Polls until the run ends; returns its final `run` JSON.
  std::string wait_for_run(std::uint64_t run_id, std::chrono::seconds timeout = std::chrono::seconds(120));
  std::string query(kiln::v1::Query::Kind kind, std::uint64_t run_id = 0);
  // Submits `plan_yaml`, expects the run to complete, returns its JSON report.
  nlohmann::json run_report(const std::string& plan_yaml);
  void wait_for_racks(std::size_t count, std::chrono::seconds timeout = std::chrono::seconds(20));
  // Evaluates `done` now and again after each thing the daemon decides (a
  // run's lifecycle applied, a schedule's fire time recorded), until it
  // holds or `timeout` passes; whether it held. No polling: between two
  // decisions nothing `done` reads can have changed.
  bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(120));

  std::uint16_t port() const { return daemon_->port(); }
  std::uint16_t metrics_port() const { return daemon_->metrics_port(); }
  const daemon::Daemon& daemon() const { return *daemon_; }
  // The admin client's secret.
  const std::string& credential() const { return client_secrets_.at(daemon::ClientRole::admin); }
  const std::string& client_credential(daemon::ClientRole role) const { return client_secrets_.at(role); }
  // The secret of `rack`'s agent credential.
  static std::string rack_credential(const std::string& rack) {
    return "rack-" + rack + "-secret-0123456789abcdef0123456789";
  }
  const std::filesystem::path& db_path() const { return db_path_; }
  const device::SkuCatalog& catalog() const { return catalog_; }

 private:
  LabExtensions extensions_;
  std::filesystem::path dir_;
  std::filesystem::path db_path_;
  std::map<daemon::ClientRole, std::string> client_secrets_ = {
      {daemon::ClientRole::viewer, "viewer-secret-0123456789abcdef0123"},
      {daemon::ClientRole::run_operator, "operator-secret-0123456789abcdef01"},
      {daemon::ClientRole::admin, "admin-secret-0123456789abcdef012345"}};
  std::vector<std::string> extra_racks_;
  device::SkuCatalog catalog_;
  std::optional<device::Lab> lab_;
  // What wait_until waits on: bumped (and notified) by the daemon's observers.
  struct Decisions {
    std::mutex mutex;
    std::condition_variable changed;
    std::uint64_t count = 0;
    void bump();
  };
  std::shared_ptr<Decisions> decisions_ = std::make_shared<Decisions>();
  std::unique_ptr<daemon::Daemon> daemon_;
  std::vector<std::unique_ptr<agent::Agent>> agents_;
};

// The samples each chip's agent counted in its step summaries, against the
// telemetry rows stored, for `chips` chips of the run: what a dropped batch
// loses, or a batch stored twice duplicates.
void expect_nothing_lost(const std::filesystem::path& db_path, std::uint64_t run_id, int chips);

// The text of a shipped plan, testplans/<name> ("standard.yaml").
std::string shipped_plan(const std::string& name);

// Starts `lab_yaml` in a fresh fixture and returns run_report(plan_yaml).
nlohmann::json run_on_new_lab(const std::string& lab_yaml, const std::string& plan_yaml);

}  // namespace kiln::testing
