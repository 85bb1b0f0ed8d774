#pragma once
// Internals of kiln_store shared by the writer and the reader. Not installed,
// not included outside schema/*.cpp. SQLite exceptions are caught at the
// public API boundary (Writer/Reader methods) and never leave the library.

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>

#include "core/result.hpp"

namespace kiln::store::detail {

// How long a connection waits for a lock before SQLITE_BUSY. Readers rarely
// wait in WAL mode; the writer may wait for a checkpoint or a second writer.
inline constexpr int kBusyTimeoutMs = 5000;

// Thrown inside an operation to stop it with a user-facing Error; the API
// boundary catches it, undoes the operation and returns the Error.
struct OpError {
  Error error;
};

template <typename... Args>
[[noreturn]] void fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  throw OpError{make_error(code, format, std::forward<Args>(args)...)};
}

// "store: <what>: <sqlite message>", with an ErrorCode chosen from the SQLite
// result code (busy -> unavailable, constraint -> invalid_argument, ...).
Error to_error(const char* what, const SQLite::Exception& e);
Error to_error(const char* what, const std::exception& e);

// Calls body() and turns anything it throws into an Error. R is a Result<T>.
template <typename Body>
auto guarded(const char* what, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const OpError& e) {
    return e.error;
  } catch (const SQLite::Exception& e) {
    return to_error(what, e);
  } catch (const std::exception& e) {
    return to_error(what, e);
  }
}

// Resets a (cached) statement when the scope ends, however it ends, so it
// never holds a read snapshot or stays half-stepped for its next use.
class ResetOnExit {
 public:
  explicit ResetOnExit(SQLite::Statement& statement) : statement_(statement) {}
  ~ResetOnExit() { statement_.tryReset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  SQLite::Statement& statement_;
};

// Rows of one table inserted up to kRows to a statement: on the writer's hot
// path, one INSERT a row costs more in the statement than in the row
// (docs/simulation.md). A statement is prepared once per row count.
class MultiRowInsert {
 public:
  static constexpr int kRows = 32;
  // `into`: "table (column, ...)", of `columns` columns.
  MultiRowInsert(SQLite::Database& db, std::string into, int columns)
      : db_(db), into_(std::move(into)), columns_(columns) {}
  // Inserts `rows` rows, kRows to a statement: bind(statement, first, row)
  // binds row `row`'s columns as parameters first + 1 … first + columns.
  void insert(std::size_t rows, const std::function<void(SQLite::Statement&, int first, std::size_t row)>& bind);

 private:
  // The statement for `rows` rows (1 to kRows).
  SQLite::Statement& for_rows(int rows);

  SQLite::Database& db_;
  std::string into_;
  int columns_;
  std::vector<std::unique_ptr<SQLite::Statement>> statements_;  // [rows - 1]
};

// Runs a statement that returns no rows; returns the number of rows changed.
inline int execute(SQLite::Statement& statement) {
  ResetOnExit reset(statement);
  return statement.exec();
}

// Runs a statement returning at most one integer (SELECT id / RETURNING id).
inline std::optional<std::int64_t> query_int64(SQLite::Statement& statement) {
  ResetOnExit reset(statement);
  if (!statement.executeStep()) return std::nullopt;
  return statement.getColumn(0).getInt64();
}

// 64-bit unsigned values (seeds, epochs, sequence numbers) are stored as the
// signed integer with the same bits; C++20 defines both conversions.
inline std::int64_t to_db(std::uint64_t value) { return static_cast<std::int64_t>(value); }
inline std::uint64_t from_db(std::int64_t value) { return static_cast<std::uint64_t>(value); }

// not_found ("no run 7") unless the run exists: per-run queries answer an
// unknown id with that, not with an empty result.
inline void require_run(SQLite::Database& db, std::uint64_t run_id) {
  SQLite::Statement exists(db, "SELECT 1 FROM runs WHERE id = ?1");
  exists.bind(1, to_db(run_id));
  if (!exists.executeStep()) fail(ErrorCode::not_found, "no run {}", run_id);
}

// The chip's id, or not_found ("no chip TRN-0205") for a serial never seen.
inline std::int64_t chip_id_by_serial(SQLite::Database& db, const std::string& serial) {
  SQLite::Statement find(db, "SELECT id FROM chips WHERE serial = ?1");
  find.bind(1, serial);
  if (!find.executeStep()) fail(ErrorCode::not_found, "no chip {}", serial);
  return find.getColumn(0).getInt64();
}

// SQLite stores NaN as NULL; read it back as NaN rather than as 0.
inline double real_or_nan(const SQLite::Column& column) {
  return column.isNull() ? std::numeric_limits<double>::quiet_NaN() : column.getDouble();
}

inline const std::string& json_or_empty_object(const std::string& json) {
  static const std::string kEmptyObject = "{}";
  return json.empty() ? kEmptyObject : json;
}

// The schema version recorded in the database: 0 for an empty database;
// invalid_argument for a database that has tables but is not Kiln's.
Result<int> schema_version(SQLite::Database& db);

// Writer connection settings (WAL, foreign keys, synchronous=NORMAL).
Status configure_writer(SQLite::Database& db);

// Applies the migrations this build has and the database lacks, each in its
// own transaction; conflict when the database is newer than this build.
Status migrate(SQLite::Database& db, std::int64_t now_unix_ms);

}  // namespace kiln::store::detail
