#pragma once
// kilnd's scheduler (docs/scheduling.md): keeps the schedules of the
// database, and at each fire time of a schedule's cron expression (in its
// time zone, moved later by its jitter) submits its plan through the fair
// queue, on the racks it targets that have an agent. A fire time whose
// racks' agents are not all connected waits for them for `rack_wait`, then
// runs on those that are, saying which were not tested and why. Each fire
// time is decided once, even across restarts: the run and its fire row are
// written in one transaction, and `handled_until` moves with them. At start
// the fire times missed while the daemon was down are skipped or run once,
// as the schedule's catch-up policy says. Lives on the io thread; every
// time is read from `now_unix_ms`, so tests move the clock.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
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
#include "schedule/catch_up.hpp"
#include "schedule/cron_expression.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::daemon {

struct SchedulerOptions {
  std::function<std::int64_t()> now_unix_ms;  // null: the wall clock
  // How often (real time) the scheduler looks at the clock.
  std::chrono::milliseconds tick_interval{std::chrono::seconds(1)};
  // How long (by now_unix_ms) a fire time waits for the agents of its racks.
  std::chrono::milliseconds rack_wait{std::chrono::minutes(5)};
  // After a start, fire times of schedules that target every rack or a SKU's
  // racks wait this long for agents to register, so that a catch-up run
  // does not go out to the first agent back only.
  std::chrono::milliseconds startup_grace{std::chrono::minutes(1)};
  // Called once each fire time's outcome is recorded (tests wait on it).
  std::function<void(const store::ScheduleFireRow&)> on_decided;
};

class Scheduler {
 public:
  using SubmitReply = std::function<void(kiln::v1::SubmitRunReply)>;
  // Submits a run for a fire time; `fire` goes into the run's transaction.
  using Submit = std::function<void(const kiln::v1::SubmitRun& request, const std::string& actor,
                                    const store::ScheduleFireRow& fire, SubmitReply reply)>;
  using Reply = std::function<void(Result<nlohmann::ordered_json>)>;

  static constexpr std::size_t kMaxSchedules = 1000;
  static constexpr std::size_t kRecentFires = 20;

  Scheduler(boost::asio::any_io_executor executor, IngestWriter& writer, const AgentDirectory& agents,
            const plan::PatternRegistry& registry, Submit submit, SchedulerOptions options = {});
  ~Scheduler();

  // Start-up, before the io thread runs: loads the schedules and decides
  // what to do about the fire times missed while no daemon ran.
  Status load(store::Reader& reader);
  void start();
  void stop();

  // A rack's agent registered: a fire time waiting for it may go.
  void on_rack_registered();
  // Add, disable, enable, remove (operator or admin; checked by the caller).
  void request(const kiln::v1::ScheduleRequest& request, const std::string& actor, Reply reply);
  // `kiln schedule list`: every schedule with its next fire time.
  nlohmann::ordered_json list_json() const;
  // `kiln schedule show NAME`: one schedule, its coming fire times, its recent fires.
  Result<nlohmann::ordered_json> show_json(const std::string& name) const;
  void set_audit(std::function<void(AuditEvent)> audit) { audit_ = std::move(audit); }
  // Looks at the clock now (what the timer does).
  void tick();
  // Whether a fire time's outcome is being written or a submission answered.
  bool busy() const { return outstanding_ > 0; }

 private:
  struct Pending {
    std::int64_t fire_ms = 0;  // the fire time, before jitter
    std::int64_t due_ms = 0;   // when it became due (jitter applied)
    std::string note;          // catch-up: why it runs now
    bool in_flight = false;    // submitted, its reply not yet back
    std::string waiting;       // why it has not gone yet
  };
  struct Entry {
    store::ScheduleRow row;
    schedule::CronExpression cron;
    const date::time_zone* zone = nullptr;
    schedule::CatchUpPolicy catch_up;
    std::vector<std::string> plan_racks;  // the plan's targets when the schedule names none
    bool plan_all_racks = false;
    std::optional<std::string> plan_sku;
    std::optional<Pending> pending;
    std::deque<store::ScheduleFireRow> recent;  // newest last, at most kRecentFires
  };

  std::int64_t now_ms() const;
  void arm();
  Result<Entry> make_entry(store::ScheduleRow row) const;
  Result<store::ScheduleRow> validate_add(const kiln::v1::ScheduleRequest& request, const std::string& actor) const;
  void add(const kiln::v1::ScheduleRequest& request, const std::string& actor, Reply reply);
  void change(const kiln::v1::ScheduleRequest& request, const std::string& actor, Reply reply);
  // The next fire time after handled_until, jittered (ms); none: never again.
  std::optional<std::int64_t> next_due_ms(const Entry& entry) const;
  std::optional<std::int64_t> next_fire_ms(const Entry& entry, std::int64_t after_ms) const;
  void catch_up(Entry& entry, std::int64_t now);
  void try_fire(Entry& entry, std::int64_t now);
  void decided(std::uint64_t schedule_id, store::ScheduleFireRow fire);
  void record(std::uint64_t schedule_id, store::ScheduleFireRow fire);
  Entry* find(const std::string& name);
  const Entry* find(const std::string& name) const;
  nlohmann::ordered_json entry_json(const Entry& entry) const;
  void audit(const std::string& kind, const std::string& actor, std::uint64_t run_id, nlohmann::json detail);

  boost::asio::any_io_executor executor_;
  IngestWriter& writer_;
  const AgentDirectory& agents_;
  const plan::PatternRegistry& registry_;
  Submit submit_;
  SchedulerOptions options_;
  std::function<void(AuditEvent)> audit_;
  std::map<std::uint64_t, Entry> entries_;  // by schedule id
  std::int64_t started_ms_ = 0;
  std::size_t outstanding_ = 0;  // submissions and fire records not yet answered
  bool stopped_ = false;
  boost::asio::steady_timer timer_;
};

// A schedule's name: 1–64 of [A-Za-z0-9._-], starting with a letter or digit.
Status check_schedule_name(const std::string& name);

}  // namespace kiln::daemon
