// The writer: opening, transactions, and everything but telemetry ingest
// (store_writer_ingest.cpp). One Writer per database, used by one thread.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "schema/store.hpp"
#include "schema/store_internal.hpp"
#include "schema/store_writer_statements.hpp"
#include "schema/wal_checkpointer.hpp"

namespace kiln::store {

using detail::execute;
using detail::fail;
using detail::query_int64;
using detail::to_db;

namespace {

// False once SQLite has rolled back on its own (it does on some errors, such
// as a full disk), even though the writer believes a transaction is open.
bool sqlite_in_transaction(SQLite::Database& db) { return sqlite3_get_autocommit(db.getHandle()) == 0; }

Error lost_transaction(const char* what) {
  return make_error(ErrorCode::io,
                    "store: {}: SQLite rolled back the open transaction after an earlier error; nothing since "
                    "begin() was stored (call rollback())",
                    what);
}

// Plans are keyed by their SHA-256 in lowercase hex.
std::string normalized_sha256(const std::string& sha256) {
  std::string lower = sha256;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool hex = std::all_of(lower.begin(), lower.end(), [](char c) { return std::isxdigit(c) != 0; });
  if (lower.size() != 64 || !hex) fail(ErrorCode::invalid_argument, "plan_sha256 '{}' is not 64 hex digits", sha256);
  return lower;
}

void bind_optional(SQLite::Statement& statement, int index, const std::optional<std::int64_t>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

}  // namespace

namespace {

// The database holds every result and who did what: its owner's only. The
// file is created 0600 before SQLite opens it, and SQLite gives its -wal and
// -shm files the database file's mode; one that others may read is made
// 0600. (Not by umask: that is the whole process's, and other threads run.)
Status make_private(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) return {};
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::io, "cannot open or create {}: {}", path, std::strerror(errno));
  struct stat st {};
  const bool known = ::fstat(fd, &st) == 0;
  if (known && (st.st_mode & 077) != 0) {
    spdlog::warn("database {} was readable by others (mode {:04o}): made 0600", path, st.st_mode & 07777);
    (void)::fchmod(fd, 0600);
  }
  ::close(fd);
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string side = path + suffix;
    if (::stat(side.c_str(), &st) == 0 && (st.st_mode & 077) != 0) (void)::chmod(side.c_str(), 0600);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Writer>> Writer::open(const std::string& path) {
  const std::string what = "open " + path;
  KILN_TRY(make_private(path));
  return detail::guarded(what.c_str(), [&]() -> Result<std::unique_ptr<Writer>> {
    auto db =
        std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, detail::kBusyTimeoutMs);
    // A new file gives back the pages sealing frees (docs/telemetry-storage.md);
    // auto_vacuum can only be chosen before anything, WAL mode included, is written.
    KILN_TRY_ASSIGN(const int version, detail::schema_version(*db));
    if (version == 0) db->exec("PRAGMA auto_vacuum = INCREMENTAL");
    KILN_TRY(detail::configure_writer(*db));
    KILN_TRY(detail::migrate(*db, unix_ms_now()));
    auto writer = std::unique_ptr<Writer>(new Writer(std::move(db)));
    KILN_TRY_ASSIGN(writer->checkpointer_, WalCheckpointer::start(*writer->db_, path));
    KILN_TRY(writer->seal_open_telemetry());
    return writer;
  });
}

Writer::Writer(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)), stmts_(std::make_unique<Statements>(*db_)) {}

Status Writer::seal_open_telemetry() {
  int sealed = 0;
  KILN_TRY(atomically("seal open telemetry", [&] { sealed = stmts_->sealer.seal_all(unix_ms_now()); }));
  if (sealed == 0) return {};
  return detail::guarded("reclaim telemetry pages", [&]() -> Status {
    // A database migrated from row-per-value telemetry (006) is mostly free
    // pages now: rewrite it once, choosing incremental vacuum from then on.
    const auto pages = db_->execAndGet("PRAGMA page_count").getInt64();
    const auto free_pages = db_->execAndGet("PRAGMA freelist_count").getInt64();
    if (db_->execAndGet("PRAGMA auto_vacuum").getInt() == 0 && free_pages * 2 > pages) {
      spdlog::info("store: telemetry sealed into chunks; compacting {} ({} of {} pages free)", db_->getFilename(),
                   free_pages, pages);
      db_->exec("PRAGMA auto_vacuum = INCREMENTAL");
      db_->exec("VACUUM");
    } else {
      db_->exec("PRAGMA incremental_vacuum");
    }
    return {};
  });
}

Writer::~Writer() {
  rollback();      // an uncommitted transaction is dropped, as a crash would drop it
  stmts_.reset();  // statements before the connection they belong to
  checkpointer_.reset();
}

Status Writer::begin() {
  if (in_transaction_) return make_error(ErrorCode::conflict, "store: begin: a transaction is already open");
  try {
    execute(stmts_->begin);
  } catch (const SQLite::Exception& e) {
    return detail::to_error("begin", e);
  }
  in_transaction_ = true;
  return {};
}

Status Writer::commit() {
  if (!in_transaction_) return make_error(ErrorCode::conflict, "store: commit: no transaction is open");
  in_transaction_ = false;
  if (!sqlite_in_transaction(*db_)) {
    stmts_->forget_cached_ids();
    return lost_transaction("commit");
  }
  try {
    execute(stmts_->commit);
    return {};
  } catch (const SQLite::Exception& e) {
    // Whatever the failure (busy, disk full), nothing of it must stay pending.
    db_->tryExec("ROLLBACK");
    stmts_->forget_cached_ids();
    return detail::to_error("commit", e);
  }
}

void Writer::rollback() {
  if (!in_transaction_) return;
  in_transaction_ = false;
  stmts_->forget_cached_ids();
  if (sqlite_in_transaction(*db_)) db_->tryExec("ROLLBACK");
}

Status Writer::atomically(const char* what, const std::function<void()>& body) {
  const bool nested = in_transaction_;
  if (nested && !sqlite_in_transaction(*db_)) return lost_transaction(what);
  const auto undo = [&] {
    stmts_->forget_cached_ids();
    if (!sqlite_in_transaction(*db_)) return;  // never started, or SQLite already rolled back
    if (nested) {
      db_->tryExec("ROLLBACK TO kiln_op");
      db_->tryExec("RELEASE kiln_op");
    } else {
      db_->tryExec("ROLLBACK");
    }
  };
  try {
    execute(nested ? stmts_->savepoint : stmts_->begin);
    body();
    execute(nested ? stmts_->release : stmts_->commit);
    return {};
  } catch (const detail::OpError& e) {
    undo();
    return e.error;
  } catch (const SQLite::Exception& e) {
    undo();
    return detail::to_error(what, e);
  } catch (const std::exception& e) {
    undo();
    return detail::to_error(what, e);
  }
}

Status Writer::upsert_rack(const kiln::v1::RegisterRack& rack, std::int64_t now_unix_ms,
                           const std::string& epoch_key_sha256) {
  return atomically("upsert_rack", [&] {
    Statements& s = *stmts_;
    if (rack.rack().empty()) fail(ErrorCode::invalid_argument, "rack registration without a rack id");
    std::optional<std::int64_t> lab_id;
    if (!rack.lab().empty()) {
      s.upsert_lab.bind(1, rack.lab());
      s.upsert_lab.bind(2, now_unix_ms);
      lab_id = query_int64(s.upsert_lab);
    }
    s.upsert_rack.bind(1, rack.rack());
    bind_optional(s.upsert_rack, 2, lab_id);
    s.upsert_rack.bind(3, rack.backend());
    s.upsert_rack.bind(4, rack.topology());
    if (rack.time_scale() > 0) {
      s.upsert_rack.bind(5, rack.time_scale());
    } else {
      s.upsert_rack.bind(5);  // real hardware: no simulated time
    }
    s.upsert_rack.bind(6, to_db(rack.epoch()));
    s.upsert_rack.bind(7, now_unix_ms);
    const std::int64_t rack_id = query_int64(s.upsert_rack).value();
    if (!epoch_key_sha256.empty()) {
      s.insert_rack_epoch.bind(1, rack.rack());
      s.insert_rack_epoch.bind(2, to_db(rack.epoch()));
      s.insert_rack_epoch.bind(3, epoch_key_sha256);
      s.insert_rack_epoch.bind(4, now_unix_ms);
      execute(s.insert_rack_epoch);
    }

    // The registration is the rack's whole inventory: chips it no longer
    // reports are not in it any more (they reappear wherever they register).
    s.unplace_rack_chips.bind(1, rack_id);
    execute(s.unplace_rack_chips);
    for (const kiln::v1::ChipInfo& chip : rack.chips()) {
      if (chip.serial().empty()) fail(ErrorCode::invalid_argument, "rack {}: a chip without a serial", rack.rack());
      s.upsert_chip.bind(1, chip.serial());
      s.upsert_chip.bind(2, chip.sku().empty() ? std::string("unknown") : chip.sku());
      s.upsert_chip.bind(3, rack_id);
      s.upsert_chip.bind(4, chip.slot());
      s.upsert_chip.bind(5, now_unix_ms);
      s.remember_chip(chip.serial(), query_int64(s.upsert_chip).value());
    }
  });
}

Result<std::vector<RackEpochRow>> Writer::rack_epochs() {
  std::vector<RackEpochRow> rows;
  const Status read = atomically("rack_epochs", [&] {
    // Once per daemon start: not worth a cached statement.
    SQLite::Statement q(*db_, "SELECT rack, epoch, key_sha256 FROM rack_epochs");
    while (q.executeStep()) {
      rows.push_back(RackEpochRow{q.getColumn(0).getString(), detail::from_db(q.getColumn(1).getInt64()),
                                  q.getColumn(2).getString()});
    }
  });
  KILN_TRY(read);
  return rows;
}

Result<std::uint64_t> Writer::create_run(const NewRun& run) {
  std::uint64_t run_id = 0;
  const Status stored = atomically("create_run", [&] {
    Statements& s = *stmts_;
    if (!(run.sample_hz > 0) || !std::isfinite(run.sample_hz)) {
      fail(ErrorCode::invalid_argument, "sample_hz must be a positive number, not {}", run.sample_hz);
    }
    const std::string sha256 = normalized_sha256(run.plan_sha256);

    std::optional<std::int64_t> plan_id;
    {
      detail::ResetOnExit reset(s.find_plan);
      s.find_plan.bind(1, sha256);
      if (s.find_plan.executeStep()) {
        plan_id = s.find_plan.getColumn(0).getInt64();
        if (s.find_plan.getColumn(1).getString() != run.plan_text) {
          fail(ErrorCode::conflict, "a different plan text is already stored under sha256 {}", sha256);
        }
      }
    }
    if (!plan_id) {
      s.insert_plan.bind(1, run.plan_name);
      s.insert_plan.bind(2, sha256);
      s.insert_plan.bind(3, run.plan_text);
      s.insert_plan.bind(4, run.submitted_unix_ms);
      plan_id = query_int64(s.insert_plan).value();
    }

    std::optional<std::int64_t> lab_id;
    if (!run.lab.empty()) {
      s.upsert_lab.bind(1, run.lab);
      s.upsert_lab.bind(2, run.submitted_unix_ms);
      lab_id = query_int64(s.upsert_lab);
    }
    s.insert_run.bind(1, *plan_id);
    s.insert_run.bind(2, to_db(run.seed));
    bind_optional(s.insert_run, 3, lab_id);
    s.insert_run.bind(4, nlohmann::json(run.racks).dump());
    s.insert_run.bind(5, run.sample_hz);
    s.insert_run.bind(6, run.submitted_unix_ms);
    s.insert_run.bind(7, run.plan_path);
    s.insert_run.bind(8, run.priority);
    const auto widen = [](const std::optional<std::uint32_t>& v) {
      return v ? std::optional<std::int64_t>(*v) : std::nullopt;
    };
    bind_optional(s.insert_run, 9, widen(run.queue_timeout_s));
    bind_optional(s.insert_run, 10, widen(run.max_wall_s));
    run_id = detail::from_db(query_int64(s.insert_run).value());

    for (const StepRow& step : run.steps) {
      s.insert_step.bind(1, to_db(run_id));
      s.insert_step.bind(2, step.step_index);
      s.insert_step.bind(3, step.phase_index);
      s.insert_step.bind(4, step.repeat_index);
      s.insert_step.bind(5, step.name);
      s.insert_step.bind(6, step.pattern);
      s.insert_step.bind(7, step.duration_s);
      s.insert_step.bind(8, detail::json_or_empty_object(step.params_json));
      s.insert_step.bind(9, detail::json_or_empty_object(step.limits_json));
      execute(s.insert_step);
    }
  });
  KILN_TRY(stored);
  return run_id;
}

Status Writer::add_run_chips(std::uint64_t run_id, const std::vector<RunChipRow>& chips) {
  return atomically("add_run_chips", [&] {
    Statements& s = *stmts_;
    if (!s.status_of_run(run_id)) fail(ErrorCode::not_found, "no run {}", run_id);
    const std::int64_t now = unix_ms_now();
    for (const RunChipRow& chip : chips) {
      if (chip.serial.empty()) fail(ErrorCode::invalid_argument, "run {}: a chip without a serial", run_id);
      if (!chip.verdict.empty() && !is_verdict(chip.verdict)) {
        fail(ErrorCode::invalid_argument, "'{}' is not a verdict", chip.verdict);
      }
      const std::string sku = chip.sku.empty() ? "unknown" : chip.sku;
      s.upsert_run_chip.bind(1, to_db(run_id));
      s.upsert_run_chip.bind(2, s.chip_id(chip.serial, NewChip{sku, chip.rack, chip.slot, now}));
      s.upsert_run_chip.bind(3, chip.rack);
      s.upsert_run_chip.bind(4, chip.slot);
      s.upsert_run_chip.bind(5, sku);
      if (chip.verdict.empty()) {
        s.upsert_run_chip.bind(6);
      } else {
        s.upsert_run_chip.bind(6, chip.verdict);
      }
      execute(s.upsert_run_chip);
    }
  });
}

Status Writer::set_run_status(std::uint64_t run_id, const std::string& status, const std::string& reason,
                              std::int64_t now_unix_ms) {
  return atomically("set_run_status", [&] {
    Statements& s = *stmts_;
    if (!is_run_status(status)) fail(ErrorCode::invalid_argument, "'{}' is not a run status", status);
    const std::optional<std::string> current = s.status_of_run(run_id);
    if (!current) fail(ErrorCode::not_found, "no run {}", run_id);
    if (is_terminal_run_status(*current)) fail(ErrorCode::conflict, "run {} is already {}", run_id, *current);
    s.update_run_status.bind(1, to_db(run_id));
    s.update_run_status.bind(2, status);
    s.update_run_status.bind(3, reason);
    s.update_run_status.bind(4, now_unix_ms);
    execute(s.update_run_status);
    if (is_terminal_run_status(status)) {
      s.sealer.seal_run(to_db(run_id), now_unix_ms);
      db_->exec("PRAGMA incremental_vacuum");
    }
  });
}

Status Writer::set_chip_step_verdict(std::uint64_t run_id, std::uint32_t step_index, const std::string& serial,
                                     const std::string& verdict, const std::string& reason,
                                     const std::vector<FailureRow>& failures) {
  return atomically("set_chip_step_verdict", [&] {
    Statements& s = *stmts_;
    if (!is_verdict(verdict)) fail(ErrorCode::invalid_argument, "'{}' is not a verdict", verdict);
    if (serial.empty()) fail(ErrorCode::invalid_argument, "a verdict for a chip without a serial");
    for (const FailureRow& failure : failures) {
      if (!is_failure_class(failure.cls)) fail(ErrorCode::invalid_argument, "'{}' is not a failure class", failure.cls);
    }
    s.require_step(run_id, step_index);
    const std::int64_t chip = s.chip_id(serial, NewChip{"unknown", "", std::nullopt, unix_ms_now()});
    s.upsert_chip_step_verdict.bind(1, to_db(run_id));
    s.upsert_chip_step_verdict.bind(2, step_index);
    s.upsert_chip_step_verdict.bind(3, chip);
    s.upsert_chip_step_verdict.bind(4, verdict);
    s.upsert_chip_step_verdict.bind(5, reason);
    execute(s.upsert_chip_step_verdict);

    s.delete_failures.bind(1, to_db(run_id));
    s.delete_failures.bind(2, step_index);
    s.delete_failures.bind(3, chip);
    execute(s.delete_failures);
    for (const FailureRow& failure : failures) {
      SQLite::Statement& insert = s.insert_failure;
      insert.bind(1, to_db(run_id));
      insert.bind(2, step_index);
      insert.bind(3, chip);
      insert.bind(4, failure.cls);
      insert.bind(5, to_db(failure.count));
      insert.bind(6, detail::json_or_empty_object(failure.location_json));
      insert.bind(7, detail::json_or_empty_object(failure.conditions_json));
      insert.bind(8, failure.first_t_s);
      insert.bind(9, failure.last_t_s);
      insert.bind(10, failure.first_unix_ms);
      insert.bind(11, failure.last_unix_ms);
      insert.bind(12, failure.detail);
      execute(insert);
    }
  });
}

Status Writer::set_run_chip_verdict(std::uint64_t run_id, const std::string& serial, const std::string& verdict) {
  return atomically("set_run_chip_verdict", [&] {
    Statements& s = *stmts_;
    if (!is_verdict(verdict)) fail(ErrorCode::invalid_argument, "'{}' is not a verdict", verdict);
    s.set_run_chip_verdict.bind(1, to_db(run_id));
    s.set_run_chip_verdict.bind(2, serial);
    s.set_run_chip_verdict.bind(3, verdict);
    if (execute(s.set_run_chip_verdict) == 0) {
      if (!s.status_of_run(run_id)) fail(ErrorCode::not_found, "no run {}", run_id);
      fail(ErrorCode::not_found, "chip {} is not part of run {}", serial, run_id);
    }
  });
}

Status Writer::add_event(std::uint64_t run_id, const std::string& serial, const std::string& kind,
                         const std::string& detail_json, std::int64_t now_unix_ms) {
  return atomically("add_event", [&] {
    Statements& s = *stmts_;
    if (kind.empty()) fail(ErrorCode::invalid_argument, "an event without a kind");
    if (run_id != 0 && !s.status_of_run(run_id)) fail(ErrorCode::not_found, "no run {}", run_id);
    s.insert_event.bind(1);
    if (run_id != 0) s.insert_event.bind(1, to_db(run_id));
    s.insert_event.bind(2);
    if (!serial.empty()) s.insert_event.bind(2, s.chip_id(serial, NewChip{"unknown", "", std::nullopt, now_unix_ms}));
    s.insert_event.bind(3, kind);
    s.insert_event.bind(4, detail::json_or_empty_object(detail_json));
    s.insert_event.bind(5, now_unix_ms);
    execute(s.insert_event);
  });
}

Status Writer::add_event(const EventRow& event) {
  return atomically("add_event", [&] {
    Statements& s = *stmts_;
    if (event.kind.empty()) fail(ErrorCode::invalid_argument, "an event without a kind");
    if (event.count == 0) fail(ErrorCode::invalid_argument, "event {} with a count of 0", event.kind);
    if (event.run_id != 0 && !s.status_of_run(event.run_id)) fail(ErrorCode::not_found, "no run {}", event.run_id);
    SQLite::Statement& insert = s.insert_audit_event;
    insert.bind(1);
    if (event.run_id != 0) insert.bind(1, to_db(event.run_id));
    insert.bind(2);
    if (!event.serial.empty()) {
      insert.bind(2, s.chip_id(event.serial, NewChip{"unknown", "", std::nullopt, event.unix_ms}));
    }
    insert.bind(3, event.kind);
    insert.bind(4, detail::json_or_empty_object(event.detail_json));
    insert.bind(5, event.unix_ms);
    insert.bind(6, event.actor);
    insert.bind(7, event.peer);
    insert.bind(8, to_db(event.count));
    execute(insert);
  });
}

Result<int> Writer::fail_unfinished_runs(const std::string& reason, std::int64_t now_unix_ms) {
  int marked = 0;
  const Status done = atomically("fail_unfinished_runs", [&] {
    // Once per daemon start: not worth a cached statement.
    constexpr const char* kUnfinished = "(SELECT id FROM runs WHERE status IN ('queued', 'running'))";
    SQLite::Statement chips(*db_, fmt::format("UPDATE run_chips SET verdict = 'error' "
                                              "WHERE verdict IS NULL AND run_id IN {}",
                                              kUnfinished));
    execute(chips);
    SQLite::Statement steps(*db_, fmt::format("UPDATE chip_steps SET verdict = 'error', reason = ?1 "
                                              "WHERE verdict IS NULL AND run_id IN {}",
                                              kUnfinished));
    steps.bind(1, reason);
    execute(steps);
    SQLite::Statement runs(*db_,
                           "UPDATE runs SET status = 'error', reason = ?1, ended_unix_ms = ?2 "
                           "WHERE status IN ('queued', 'running')");
    runs.bind(1, reason);
    runs.bind(2, now_unix_ms);
    marked = execute(runs);
  });
  KILN_TRY(done);
  return marked;
}

}  // namespace kiln::store
