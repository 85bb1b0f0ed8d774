#pragma once
// The SQLite store: the single definition of what Kiln keeps. kilnd owns the
// only writer (one thread, batched transactions); readers (queries, the CLI's
// --db mode) open their own read-only connections.
//
// Schema: numbered migrations in schema/sql/NNN_name.sql, compiled into the
// library and applied in order by Writer::open(). WAL mode.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "schema/kiln.pb.h"
#include "schema/telemetry_chunk.hpp"

namespace SQLite {  // NOLINT(readability-identifier-naming): SQLiteCpp's
class Database;
}

namespace kiln::store {

class WalCheckpointer;  // schema/wal_checkpointer.hpp

// ------------------------------------------------------------------ vocabulary

// The values the schema accepts (DESIGN §5, §6); writes are checked against
// them before they reach SQL, so callers get invalid_argument, not a CHECK
// constraint message.
bool is_verdict(std::string_view verdict);             // pass | marginal | fail | inconclusive | error
bool is_run_status(std::string_view status);           // queued | running | completed | aborted | error
bool is_terminal_run_status(std::string_view status);  // completed | aborted | error
bool is_failure_class(std::string_view cls);           // sdc, margin, ..., hang

// ------------------------------------------------------------------ rows

struct StepRow {
  std::uint32_t step_index = 0;   // flattened index, unique in the run
  std::uint32_t phase_index = 0;  // steps of one `parallel:` group share a phase
  std::uint32_t repeat_index = 0;
  std::string name;
  std::string pattern;
  double duration_s = 0;
  std::string params_json;  // effective params, every default filled in
  std::string limits_json;  // the step's limits as written in the plan
};

struct NewRun {
  std::string plan_name;
  std::string plan_sha256;
  std::string plan_text;  // verbatim
  std::string plan_path;  // as the user gave it ("testplans/standard.yaml"); may be empty
  std::uint64_t seed = 0;
  std::string lab;
  std::vector<std::string> racks;
  double sample_hz = 10;
  std::int64_t submitted_unix_ms = 0;
  std::vector<StepRow> steps;
  // The fair queue (migration 009, docs/scheduling.md).
  std::int32_t priority = 0;
  std::optional<std::uint32_t> queue_timeout_s;
  std::optional<std::uint32_t> max_wall_s;
};

struct RunRow {
  std::uint64_t id = 0;
  std::string plan_name;
  std::string plan_sha256;
  std::string plan_path;  // as it was submitted; empty when not known
  std::uint64_t seed = 0;
  std::string lab;
  std::vector<std::string> racks;
  std::string status;  // queued | running | completed | aborted | error
  std::string reason;  // why aborted / error
  double sample_hz = 10;
  std::int64_t submitted_unix_ms = 0;
  std::optional<std::int64_t> started_unix_ms;
  std::optional<std::int64_t> ended_unix_ms;
  std::int32_t priority = 0;  // migration 009
  std::optional<std::uint32_t> queue_timeout_s;
  std::optional<std::uint32_t> max_wall_s;
  // Set when retention dropped the run's raw telemetry (its roll-ups stay).
  std::optional<std::int64_t> raw_telemetry_pruned_unix_ms;
};

struct ChipRow {
  std::string serial;
  std::string sku;
  std::string rack;
  std::uint32_t slot = 0;  // rack empty: no rack reports this chip now
  std::int64_t last_seen_unix_ms = 0;
  std::int64_t first_seen_unix_ms = 0;
};

// A chip's part in a run (one per targeted chip).
struct RunChipRow {
  std::string serial;
  std::string rack;
  std::uint32_t slot = 0;
  std::string sku;
  std::string verdict;  // empty until decided
};

struct MetricRow {
  std::string metric;
  double min = 0, avg = 0, max = 0;  // NaN where the agent sent NaN
  std::uint64_t count = 0;
};

// When written (set_chip_step_verdict), step_index and step_name are taken
// from the call, not from the row; an empty location/conditions is stored as {}.
struct FailureRow {
  std::string cls;
  std::uint32_t step_index = 0;
  std::string step_name;
  std::uint64_t count = 0;
  std::string location_json;    // {"core":1,"pe":[12,40],"bit":22}
  std::string conditions_json;  // {"temperature_c":71.3,...}
  double first_t_s = 0, last_t_s = 0;
  std::int64_t first_unix_ms = 0, last_unix_ms = 0;
  std::string detail;
};

// A shmoo step's pass/fail map: one row per voltage, one character per
// clock ('.' pass, 'X' fail, '-' refused by the chip, '?' not run).
struct ShmooMap {
  std::vector<double> voltages_mv;
  std::vector<double> clocks_mhz;
  std::vector<std::string> rows;
};

struct ChipStepRow {
  std::string serial;
  std::uint32_t step_index = 0;
  std::string verdict;  // empty until judged
  std::string reason;
  bool completed = false;
  double ran_s = 0;
  std::vector<MetricRow> metrics;
  std::vector<FailureRow> failures;
  std::string note;               // the agent's note: why not completed, what was unsupported
  bool unsupported = false;       // the backend could not run this pattern
  std::optional<ShmooMap> shmoo;  // shmoo steps
};

// What an agent detected during a step (kiln.v1.Detection), kept as evidence.
struct DetectionRow {
  std::string serial;
  std::uint32_t step_index = 0;
  std::string cls;
  std::string metric;
  std::uint64_t count = 0;
  double first_t_s = 0, last_t_s = 0;
  std::int64_t first_unix_ms = 0, last_unix_ms = 0;
  std::string conditions_json;  // {"temperature_c":71.3,...}: only the conditions the agent knew
  std::string location_json;    // {"core":1,"pe_row":12,...} as the agent sent it
  std::string detail;
  std::string kind;  // kiln.v1.DetectionKind in lower case (corruption, hang, …); '' before protocol 2
};

struct TelemetryRow {
  std::string serial;
  std::uint32_t step_index = 0;
  double t_s = 0;
  std::int64_t wall_unix_ms = 0;
  std::string metric;
  double value = 0;  // NaN where the agent sent NaN
};

// Each of a batch's telemetry chunks checked (names, sizes, decodability,
// the catalog's precision) and summarised, in the batch's order, with the
// chunk's own metric ids.
using CheckedChunks = std::vector<std::vector<chunk::SeriesSummary>>;
// Reads nothing but the batch: callable on any thread.
Result<CheckedChunks> check_chunks(const kiln::v1::AgentBatch& batch);

// min/avg/max of one metric over one stretch of a chip-step: a sealed
// chunk, or what is still open (docs/telemetry-storage.md).
// One telemetry chunk of a batch as ingest decoded it: per metric its
// figures (count, min, max, sum, the last value and time).
struct ChunkDigest {
  struct Metric {
    std::string name;
    chunk::SeriesStats stats;
  };
  std::string serial;
  std::uint64_t run_id = 0;
  std::uint32_t step_index = 0;
  std::uint64_t samples = 0;  // points of its longest series
  double last_t_s = 0;
  std::int64_t last_wall_unix_ms = 0;
  std::vector<Metric> metrics;
};

// A run whose raw telemetry retention dropped (Writer::prune_raw_telemetry).
struct PrunedRun {
  std::uint64_t run_id = 0;
  std::int64_t chunks = 0;
  std::int64_t samples = 0;  // values dropped
};

struct RollupRow {
  double first_t_s = 0, last_t_s = 0;
  std::uint64_t count = 0;           // values that were not NaN
  double min = 0, avg = 0, max = 0;  // NaN when count is 0
  bool sealed = true;                // false: the open values, not yet a chunk
};

// A span of one step's time (t_s since the step started), both ends included.
struct TelemetryWindow {
  std::uint32_t step_index = 0;
  double from_t_s = 0, to_t_s = 0;
};

// One roll-up of a chip's run (Reader::chip_rollups): its step and metric.
struct ChipRollupRow {
  std::uint32_t step_index = 0;
  std::string metric;
  RollupRow rollup;
};

struct HistoryRow {  // one run of one serial
  std::uint64_t run_id = 0;
  std::string plan_name;
  std::string rack;
  std::uint32_t slot = 0;
  std::string verdict;
  std::string status;
  std::int64_t submitted_unix_ms = 0;
};

// A metric of one step on one chip in the chip's baseline run: its last
// completed run of the same plan (by name) in which it passed.
struct BaselineRow {
  std::string serial;
  std::uint64_t run_id = 0;
  std::string step_name;  // the step's first repeat
  std::string metric;
  double avg = 0, max = 0;
  std::uint64_t count = 0;
};

// One entry of the audit trail (DESIGN §8).
struct EventRow {
  std::uint64_t id = 0;      // set when read
  std::uint64_t run_id = 0;  // 0: not about a run
  std::string serial;        // '': not about a chip
  std::string kind;          // connect, refused, run_submitted, …
  std::string actor;         // the credential's name; '' when none was accepted
  std::string peer;          // the peer's host address
  std::uint64_t count = 1;   // repeats within one second, written as one row
  std::string detail_json;   // a JSON object; '' is stored as {}
  std::int64_t unix_ms = 0;  // the first occurrence
};

// An alarm's acknowledgement (schema/sql/013_alarm_acks.sql). The alarm is
// named by its id and the time it was raised (ids restart with kilnd).
struct AlarmAckRow {
  std::uint64_t alarm_id = 0;
  std::int64_t raised_unix_ms = 0;
  std::string kind;  // failure, throttling, agent_lost, …
  std::string serial;
  std::string rack;
  std::uint64_t run_id = 0;  // 0: not about a run
  std::string message;
  std::string acknowledged_by;  // the credential's name
  std::int64_t acknowledged_unix_ms = 0;
};

// A rack lease (schema/sql/007_rack_leases.sql, docs/scheduling.md). The
// id is the fencing token.
struct LeaseRow {
  std::uint64_t id = 0;
  std::string rack;
  std::string kind;          // run | reservation | maintenance
  std::uint64_t run_id = 0;  // kind run
  std::string holder;
  std::string reason;
  std::int64_t acquired_unix_ms = 0;
  std::int64_t expires_unix_ms = 0;
  std::optional<std::int64_t> ended_unix_ms;  // none: active
  std::string end_reason;
};

// A chip's lifecycle record and its transitions (schema/sql/008_chip_lifecycle.sql,
// docs/lifecycle.md). States are the words of lifecycle/chip_state.hpp.
struct LifecycleRow {
  std::string serial;
  std::string state = "unknown";
  bool set_by_person = false;
  std::uint32_t clean_streak = 0;
  std::uint32_t retests_run = 0;
  std::uint32_t retests_failed = 0;
  std::uint64_t episode_run_id = 0;  // 0: none
  std::int64_t updated_unix_ms = 0;  // 0: never recorded (the chip is unknown)
};

struct TransitionRow {
  std::uint64_t id = 0;  // set when read
  std::string serial;
  std::string from_state;
  std::string to_state;
  std::string actor;
  std::string reason;
  std::uint64_t run_id = 0;  // 0: a person's change, no run
  std::string plan_sha256;
  std::int64_t unix_ms = 0;
};

struct NewLease {
  std::string kind;  // run | reservation | maintenance
  std::uint64_t run_id = 0;
  std::string holder;
  std::string reason;
  std::int64_t now_unix_ms = 0;
  std::int64_t expires_unix_ms = 0;
};

// A schedule (schema/sql/012_schedules.sql, docs/scheduling.md).
struct ScheduleRow {
  std::uint64_t id = 0;  // set when added
  std::string name;
  std::string plan_name;
  std::string plan_path;
  std::string plan_text;  // as it was when the schedule was added
  std::string cron;
  std::string time_zone;
  std::vector<std::string> racks;  // empty: the plan's targets, or the SKU's racks
  std::string sku;                 // '': every chip of the racks
  std::int32_t priority = 0;
  std::optional<std::uint32_t> max_wall_s;
  std::optional<std::uint32_t> queue_timeout_s;
  std::uint32_t jitter_s = 0;
  std::string catch_up = "skip";  // schedule/catch_up.hpp's words
  bool enabled = true;
  std::string created_by;
  std::int64_t created_unix_ms = 0;
  std::int64_t handled_until_unix_ms = 0;  // fire times at or before this are decided
};

// What became of one fire time of a schedule.
struct ScheduleFireRow {
  std::uint64_t schedule_id = 0;
  std::int64_t fire_unix_ms = 0;  // before jitter
  std::uint64_t run_id = 0;       // 0: no run
  std::string outcome;            // submitted | refused | missed
  std::string detail;             // why refused or missed; racks left out of a submitted run
  std::int64_t decided_unix_ms = 0;
};

struct RackEpochRow {
  std::string rack;
  std::uint64_t epoch = 0;
  std::string epoch_key_sha256;
};

// ------------------------------------------------------------------ writer

class Writer {
 public:
  // Opens (creating if needed) the database, sets WAL, applies migrations.
  // The file is created mode 0600 (and its -wal/-shm take its mode); an
  // existing one that group or others may read is made 0600, with a warning.
  static Result<std::unique_ptr<Writer>> open(const std::string& path);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Everything below runs inside the current transaction when one is open
  // (begin()/commit()), or in its own transaction otherwise. A call that fails
  // writes nothing either way: inside an open transaction it is undone back to
  // where it started and the transaction stays open for the caller to commit
  // or roll back. (Exception: if SQLite itself aborted the transaction, e.g.
  // disk full, it is gone; commit() then reports that.)
  // begin() while a transaction is open, or commit() without one: conflict.
  Status begin();
  Status commit();
  void rollback();
  bool in_transaction() const { return in_transaction_; }

  // The rack, its lab, and its chips (serial, sku, slot, now in this rack).
  // Chips this rack reported before but not now are no longer placed in it.
  // epoch_key_sha256: what the daemon keeps of the agent's epoch key (the
  // key itself is never stored); the first one given for an epoch stays.
  Status upsert_rack(const kiln::v1::RegisterRack& rack, std::int64_t now_unix_ms,
                     const std::string& epoch_key_sha256 = "");
  // Every epoch racks registered with a key, and the SHA-256 of that key:
  // what a starting daemon needs to know which agent owns which epoch.
  Result<std::vector<RackEpochRow>> rack_epochs();
  // Status "queued". Stores the plan once per distinct sha256 (64 hex digits,
  // kept lowercase; the same hash with another text: conflict). An empty
  // params_json/limits_json is stored as {}; invalid JSON: invalid_argument.
  Result<std::uint64_t> create_run(const NewRun& run);
  // Adding a chip again updates its rack/slot/sku and keeps its verdict. A
  // verdict may be given or left empty. Unknown serials are added to chips.
  Status add_run_chips(std::uint64_t run_id, const std::vector<RunChipRow>& chips);
  // Sets started on running (first time only), ended on terminal states.
  // not_found: no such run; conflict: the run already reached a terminal state.
  Status set_run_status(std::uint64_t run_id, const std::string& status, const std::string& reason,
                        std::int64_t now_unix_ms);
  // False when (rack, epoch, seq) was ingested before: nothing is written then.
  // Stores telemetry (a value resent under another batch number is kept once),
  // chip-step results (completed, ran_s, note, metric summaries: a result sent
  // again replaces the earlier one, keeping any verdict) and detections.
  // invalid_argument, and nothing written, when the batch refers to a
  // run/step that does not exist or carries a NaN/infinite t_s: resending it
  // cannot help. permission_denied, and nothing written, when a sample or
  // result is for a chip that is not the batch's rack's in that run
  // (run_chips): a rack speaks only for its own chips.
  // A batch's telemetry chunks (AgentBatch.chunks) are decoded once, to
  // validate them (owner, names, sizes, decodability, the catalog's
  // precision) and, when `digests` is given, to say what each held (the
  // judge and the live view read those instead of decoding again). Every
  // chunk is stored as it came (no row per value); a chip-step's small ones
  // (a chip behind its time scale sends one a second) are merged into one
  // well-compressed chunk once they hold enough values or the step ends.
  // `checked`: the batch's check_chunks(), made ahead on another thread so
  // that the writer's thread does not decode (kilnd); its error, if any, is
  // the batch's at the point ingest_batch would have found it. Null: checked here.
  Result<bool> ingest_batch(const kiln::v1::AgentBatch& batch, std::vector<ChunkDigest>* digests = nullptr,
                            const Result<CheckedChunks>* checked = nullptr);
  // Retention (kilnd --keep-raw): drops the raw telemetry (chunks and open
  // rows) of at most `max_runs` runs that ended more than `keep_raw_ms`
  // before `now_unix_ms`, and records each in telemetry_pruned; roll-ups,
  // step results, verdicts, failures and detections stay. Returns what it
  // dropped (empty: nothing was due).
  Result<std::vector<PrunedRun>> prune_raw_telemetry(std::int64_t keep_raw_ms, std::int64_t now_unix_ms,
                                                     int max_runs = 16);
  // Upserts the chip-step's verdict/reason and replaces its failures.
  Status set_chip_step_verdict(std::uint64_t run_id, std::uint32_t step_index, const std::string& serial,
                               const std::string& verdict, const std::string& reason,
                               const std::vector<FailureRow>& failures);
  // not_found when the chip is not part of the run (add_run_chips).
  Status set_run_chip_verdict(std::uint64_t run_id, const std::string& serial, const std::string& verdict);
  // run_id 0: not about a run; empty serial: not about a chip. detail_json
  // empty is stored as {}.
  Status add_event(std::uint64_t run_id, const std::string& serial, const std::string& kind,
                   const std::string& detail_json, std::int64_t now_unix_ms);
  // An audit event with who did it: not_found for a run that does not
  // exist, invalid_argument for an empty kind, bad JSON or a count of 0.
  Status add_event(const EventRow& event);
  // Runs left queued/running by a daemon that stopped: marked error on start,
  // with ended = now; their chips and chip-steps still without a verdict get
  // verdict "error" (an infrastructure fault, not the chip's). Returns how
  // many runs were marked.
  Result<int> fail_unfinished_runs(const std::string& reason, std::int64_t now_unix_ms);

  // Chip lifecycle (store_lifecycle.cpp). The chip's record; a chip never
  // recorded reads `unknown` with zero counts; not_found for a serial never seen.
  Result<LifecycleRow> lifecycle(const std::string& serial);
  // Stores `next` and, when given, its transition, in one transaction. The
  // transition's from_state must be the stored state (conflict otherwise:
  // two deciders raced); its to_state must be next.state.
  Status record_lifecycle(const LifecycleRow& next, const std::optional<TransitionRow>& transition);

  // Alarm acknowledgements (store_alarm_acks.cpp), in one transaction. kilnd
  // decides which acknowledgement counts (the first; again after the alarm
  // was raised anew): one for an alarm stored before replaces it.
  // invalid_argument for an alarm id of 0 or no one named.
  Status acknowledge_alarms(const std::vector<AlarmAckRow>& acks);

  // Rack leases (store_writer_leases.cpp). Takes every rack of `racks` or
  // none: conflict, naming each rack's holder, when any has an active lease
  // (the database's one-active-lease index holds it even against a bug here).
  // Returns the new leases in the order of `racks`.
  Result<std::vector<LeaseRow>> acquire_leases(const std::vector<std::string>& racks, const NewLease& lease);
  // Moves the expiry of the active leases of `run_id` (or of lease `lease_id`
  // when run_id is 0) to `expires_unix_ms`; returns how many. A lease that
  // already ended is not renewed: its run learns it lost the rack.
  Result<int> renew_leases(std::uint64_t run_id, std::uint64_t lease_id, std::int64_t expires_unix_ms);
  // Ends the active leases of `run_id` (or lease `lease_id` when run_id is 0).
  Result<int> end_leases(std::uint64_t run_id, std::uint64_t lease_id, const std::string& reason,
                         std::int64_t now_unix_ms);
  // Ends every active lease whose expiry is at or before `now` with reason
  // "expired", and returns them: the daemon ends their runs with that reason.
  Result<std::vector<LeaseRow>> expire_leases(std::int64_t now_unix_ms);
  // Active leases, by rack.
  Result<std::vector<LeaseRow>> active_leases();

  // Schedules (store_schedules.cpp). Returns the new id; conflict when a
  // schedule of that name exists (and is not removed).
  Result<std::uint64_t> add_schedule(const ScheduleRow& schedule);
  // not_found for a name with no schedule.
  Status set_schedule_enabled(const std::string& name, bool enabled);
  Status remove_schedule(const std::string& name, std::int64_t now_unix_ms);
  // Records a fire time's outcome and moves the schedule's handled_until
  // to it (never back); conflict when that fire time was recorded before,
  // so a fire time submits at most one run. Written in the transaction of
  // the run it submitted (RunManager::submit), when it submitted one.
  Status record_schedule_fire(const ScheduleFireRow& fire);
  // Moves handled_until forward (never back) without a fire: what a start
  // decided about fire times missed while the daemon was down.
  Status set_schedule_handled(std::uint64_t schedule_id, std::int64_t until_unix_ms);

  // Reads (on the writer's connection, so it sees every commit): the
  // baselines of every chip that passed a completed run of `plan_name`
  // before run `before_run_id` (`of: baseline`, DESIGN §5).
  Result<std::vector<BaselineRow>> baselines(const std::string& plan_name, std::uint64_t before_run_id);

 private:
  explicit Writer(std::unique_ptr<SQLite::Database> db);
  // Seals every chip-step's open telemetry into chunks (what a stopped
  // daemon or migration 006 left open) and gives the freed pages back.
  Status seal_open_telemetry();
  // Runs `body` in its own transaction or savepoint, undoing it on failure,
  // and turns exceptions into an Error prefixed with `what`.
  Status atomically(const char* what, const std::function<void()>& body);
  struct Statements;  // prepared statements and the id caches they fill
  std::unique_ptr<SQLite::Database> db_;
  std::unique_ptr<Statements> stmts_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // stopped before the connection closes
  bool in_transaction_ = false;
};

// ------------------------------------------------------------------ reader

// One Reader per thread (a connection runs one statement at a time); any
// number of Readers may read while the Writer writes (WAL).
class Reader {
 public:
  // Read-only; fails with not_found when the file does not exist, with
  // invalid_argument when it is not a Kiln database, and with conflict when
  // its schema is older/newer than this build understands (open it with a
  // kilnd of this version first to migrate it).
  static Result<std::unique_ptr<Reader>> open(const std::string& path);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // True: this connection cannot change the database.
  bool read_only() const;

  // Every per-run query answers not_found for an unknown run id.
  Result<std::vector<RunRow>> list_runs();  // by id
  Result<RunRow> run(std::uint64_t run_id);
  Result<std::string> plan_text(std::uint64_t run_id);
  Result<std::vector<StepRow>> steps(std::uint64_t run_id);         // by step_index
  Result<std::vector<RunChipRow>> run_chips(std::uint64_t run_id);  // by rack, slot, serial
  // With metrics (by name) and failures; ordered by serial, step_index.
  Result<std::vector<ChipStepRow>> chip_steps(std::uint64_t run_id);
  Result<std::vector<DetectionRow>> detections(std::uint64_t run_id);  // by serial, step, arrival
  Result<std::vector<ChipRow>> chips();                                // by serial
  // Oldest run first; not_found for a serial never seen.
  Result<std::vector<HistoryRow>> chip_history(const std::string& serial);
  // Streams rows ordered by serial, step, t, metric; empty serial/metric =
  // all; t_s of a sealed value is to the microsecond and its value at the
  // metric's stored precision (docs/telemetry-storage.md); not_found for an unknown run, serial or metric name. The
  // read transaction stays open while rows are streamed. An exception thrown by `row` stops the stream and comes back
  // as an internal error.
  Status telemetry(std::uint64_t run_id, const std::string& serial, const std::string& metric,
                   const std::function<void(const TelemetryRow&)>& row);
  // The same, only the values inside `windows` (none: all): a step no window
  // names is skipped, and so is every chunk outside its step's windows.
  Status telemetry(std::uint64_t run_id, const std::string& serial, const std::string& metric,
                   const std::vector<TelemetryWindow>& windows, const std::function<void(const TelemetryRow&)>& row);
  // The roll-ups of one metric of one chip in one step, by time: one per
  // sealed chunk, then one for the values still open. not_found for an
  // unknown run, serial or metric.
  Result<std::vector<RollupRow>> rollups(std::uint64_t run_id, const std::string& serial, const std::string& metric,
                                         std::uint32_t step_index);
  // Every roll-up of one chip in a run (what a whole-run chart draws), by
  // step, metric name, then time: each chip-step-metric's sealed chunks, then
  // its open values. not_found for an unknown run or serial.
  Result<std::vector<ChipRollupRow>> chip_rollups(std::uint64_t run_id, const std::string& serial);
  // A chip's lifecycle transitions, oldest first; not_found for a serial never seen.
  Result<std::vector<TransitionRow>> lifecycle_transitions(const std::string& serial);
  // Every chip's lifecycle state, by serial (unknown for chips never recorded).
  Result<std::vector<LifecycleRow>> lifecycle_states();
  // The audit trail, oldest first: the latest `limit` events (0: all) at or
  // after since_unix_ms, of run `run_id` only when it is not 0.
  Result<std::vector<EventRow>> events(std::uint64_t run_id, std::int64_t since_unix_ms, std::size_t limit);
  // Alarm acknowledgements at or after since_unix_ms, oldest first.
  Result<std::vector<AlarmAckRow>> alarm_acks(std::int64_t since_unix_ms);
  // Schedules not removed, by name.
  Result<std::vector<ScheduleRow>> schedules();
  // Fires decided in [since, until), oldest first, of every schedule
  // (schedule_id 0) or one; at most `limit` of the latest (0: all).
  Result<std::vector<ScheduleFireRow>> schedule_fires(std::uint64_t schedule_id, std::int64_t since_unix_ms,
                                                      std::int64_t until_unix_ms, std::size_t limit);
  // The name a schedule had (removed ones too); not_found for an unknown id.
  Result<std::string> schedule_name(std::uint64_t schedule_id);

 private:
  explicit Reader(std::unique_ptr<SQLite::Database> db);
  std::unique_ptr<SQLite::Database> db_;
};

}  // namespace kiln::store
