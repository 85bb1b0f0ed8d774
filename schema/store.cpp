// What the writer and reader share: the vocabulary, error mapping, connection
// settings and the migration runner.

#include <algorithm>
#include <array>
#include <string_view>

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include "schema/migrations.hpp"
#include "schema/store.hpp"
#include "schema/store_internal.hpp"

namespace kiln::store {
namespace {

// Must match the CHECK constraints of schema/sql (DESIGN §5, §6).
constexpr std::array<std::string_view, 5> kVerdicts = {"pass", "marginal", "fail", "inconclusive", "error"};
constexpr std::array<std::string_view, 5> kRunStatuses = {"queued", "running", "completed", "aborted", "error"};
constexpr std::array<std::string_view, 3> kTerminalRunStatuses = {"completed", "aborted", "error"};
constexpr std::array<std::string_view, 12> kFailureClasses = {
    "sdc",       "margin",         "underperforming", "thermal",       "power",     "memory_ce_excess",
    "memory_ue", "memory_pattern", "link_errors",     "link_degraded", "link_down", "hang"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

bool is_verdict(std::string_view verdict) { return contains(kVerdicts, verdict); }
bool is_run_status(std::string_view status) { return contains(kRunStatuses, status); }
bool is_terminal_run_status(std::string_view status) { return contains(kTerminalRunStatuses, status); }
bool is_failure_class(std::string_view cls) { return contains(kFailureClasses, cls); }

namespace detail {

Error to_error(const char* what, const SQLite::Exception& e) {
  ErrorCode code = ErrorCode::internal;  // SQL errors and misuse are bugs in this library
  switch (e.getErrorCode() & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = ErrorCode::unavailable; break;
    case SQLITE_CONSTRAINT:
    case SQLITE_NOTADB:
    case SQLITE_TOOBIG: code = ErrorCode::invalid_argument; break;
    case SQLITE_CORRUPT: code = ErrorCode::parse; break;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOMEM: code = ErrorCode::io; break;
    default: break;
  }
  return make_error(code, "store: {}: {}", what, e.what());
}

Error to_error(const char* what, const std::exception& e) {
  return make_error(ErrorCode::internal, "store: {}: {}", what, e.what());
}

SQLite::Statement& MultiRowInsert::for_rows(int rows) {
  if (statements_.size() < static_cast<std::size_t>(rows)) statements_.resize(static_cast<std::size_t>(rows));
  std::unique_ptr<SQLite::Statement>& statement = statements_[static_cast<std::size_t>(rows - 1)];
  if (!statement) {
    std::string sql = fmt::format("INSERT INTO {} VALUES ", into_);
    for (int row = 0; row < rows; ++row) {
      sql += row == 0 ? "(" : ", (";
      for (int column = 1; column <= columns_; ++column) {
        sql += fmt::format("{}?{}", column == 1 ? "" : ", ", row * columns_ + column);
      }
      sql += ")";
    }
    statement = std::make_unique<SQLite::Statement>(db_, sql);
  }
  return *statement;
}

void MultiRowInsert::insert(std::size_t rows,
                            const std::function<void(SQLite::Statement&, int first, std::size_t row)>& bind) {
  for (std::size_t from = 0; from < rows; from += kRows) {
    const int count = static_cast<int>(std::min<std::size_t>(kRows, rows - from));
    SQLite::Statement& statement = for_rows(count);
    for (int row = 0; row < count; ++row) bind(statement, row * columns_, from + static_cast<std::size_t>(row));
    execute(statement);
  }
}

Result<int> schema_version(SQLite::Database& db) {
  if (db.tableExists("schema_migrations")) {
    SQLite::Statement max_version(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    return static_cast<int>(query_int64(max_version).value_or(0));
  }
  SQLite::Statement tables(db, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'");
  if (query_int64(tables).value_or(0) != 0) {
    return make_error(ErrorCode::invalid_argument, "{} is not a Kiln database (it has no schema_migrations table)",
                      db.getFilename());
  }
  return 0;
}

Status configure_writer(SQLite::Database& db) {
  // Outside any transaction: both pragmas are no-ops inside one.
  db.exec("PRAGMA foreign_keys = ON");
  const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (mode != "wal") {
    return make_error(ErrorCode::io, "{}: cannot use WAL journaling (journal_mode stays {})", db.getFilename(), mode);
  }
  if (db.execAndGet("PRAGMA foreign_keys").getInt() != 1) {
    return make_error(ErrorCode::internal, "this SQLite build does not enforce foreign keys");
  }
  // WAL + NORMAL survives a process crash; only a power loss can drop the
  // last commits, which agents then resend (batches are acked after commit).
  db.exec("PRAGMA synchronous = NORMAL");
  // Ingest touches one telemetry page per (chip, metric) of a batch; keep
  // them cached across batches (negative = KiB).
  db.exec("PRAGMA cache_size = -32768");
  // Checkpoints run on a thread of their own (schema/wal_checkpointer.hpp);
  // once one has caught up, the WAL file is cut back to this size.
  db.exec("PRAGMA journal_size_limit = 67108864");
  return {};
}

// Each migration runs inside a transaction with foreign keys enforced, and
// PRAGMA foreign_keys cannot change inside a transaction: a later migration
// that rebuilds a table should use PRAGMA defer_foreign_keys = ON instead.
Status migrate(SQLite::Database& db, std::int64_t now_unix_ms) {
  KILN_TRY_ASSIGN(const int found, schema_version(db));
  if (found > kMigrationCount) {
    return make_error(ErrorCode::conflict,
                      "{} has schema version {}, newer than this build understands ({}); use a newer Kiln",
                      db.getFilename(), found, kMigrationCount);
  }
  for (int i = found; i < kMigrationCount; ++i) {
    const Migration& migration = kMigrations[i];
    try {
      SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
      // Another process may have applied it while this one waited for the lock.
      KILN_TRY_ASSIGN(const int current, schema_version(db));
      if (current >= migration.version) continue;
      db.exec(migration.sql);
      SQLite::Statement record(db,
                               "INSERT INTO schema_migrations (version, name, applied_unix_ms) VALUES (?1, ?2, ?3)");
      record.bind(1, migration.version);
      record.bind(2, migration.name);
      record.bind(3, now_unix_ms);
      record.exec();
      // Mirrors the version where the sqlite3 shell and other tools look.
      db.exec("PRAGMA user_version = " + std::to_string(migration.version));
      transaction.commit();
    } catch (const SQLite::Exception& e) {
      const std::string what = fmt::format("migration {:03}_{}", migration.version, migration.name);
      return to_error(what.c_str(), e);
    }
  }
  return {};
}

}  // namespace detail
}  // namespace kiln::store
