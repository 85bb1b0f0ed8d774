#pragma once
// Seals a chip-step's open telemetry (table telemetry_open, one row per value)
// into one compressed chunk and its roll-ups (docs/telemetry-storage.md), and
// tells ingest whether a resent value is already in a sealed chunk. Runs on
// the writer's connection inside the writer's transactions. Internal to
// kiln_store.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "schema/store_internal.hpp"
#include "schema/telemetry_chunk.hpp"

namespace kiln::store {

class TelemetrySealer {
 public:
  // A chip-step's open values are sealed once this many have accumulated.
  static constexpr int kSealValues = 16384;

  explicit TelemetrySealer(SQLite::Database& db);

  // True when the value of (metric, t_s) is already in one of the
  // chip-step's sealed chunks (a resend after sealing): ingest then skips it.
  bool already_sealed(std::int64_t run, std::int64_t chip, std::int64_t step, std::int64_t metric, double t_s);
  // Counts values added to the open buffer; seal_full(), called once a
  // batch's samples are in, seals the chip-steps that reached kSealValues
  // and drops the chunks decoded for that batch's resends.
  void added(std::int64_t run, std::int64_t chip, std::int64_t step, int values);
  void seal_full(std::int64_t now_unix_ms);
  // Seals what is open for one chip-step / one run / everything; a chip-step
  // with nothing open is left alone.
  void seal(std::int64_t run, std::int64_t chip, std::int64_t step, std::int64_t now_unix_ms);
  void seal_run(std::int64_t run, std::int64_t now_unix_ms);
  int seal_all(std::int64_t now_unix_ms);
  // Stores one sealed chunk (`data`, whose series, with the store's metric
  // ids, sum up as `summaries`) as the chip-step's next, with its roll-ups.
  // `at_seq`: in that place (a merge, into its first chunk's); otherwise the next.
  void store_chunk(std::int64_t run, std::int64_t chip, std::int64_t step, const std::string& data,
                   const std::vector<chunk::SeriesSummary>& summaries, std::int64_t now_unix_ms,
                   std::optional<std::int64_t> at_seq = std::nullopt);
  // An agent's chunk of fewer than kSmallChunkValues values (a chip behind
  // its time scale sends one a second): stored at once like any other, and
  // merged with the chip-step's other small chunks into one chunk once they
  // hold kSealValues values (seal_full) or the step ends (seal).
  void store_small_chunk(std::int64_t run, std::int64_t chip, std::int64_t step, const std::string& data,
                         const std::vector<chunk::SeriesSummary>& summaries, std::int64_t now_unix_ms);
  // Below this many values an agent's chunk is small (merged later).
  static constexpr std::uint64_t kSmallChunkValues = 4096;
  // The precision a metric is stored at, as a chunk scale (0: exact).
  static std::uint32_t scale_of(const std::string& metric_name);
  // A run's raw telemetry was dropped (retention): nothing cached of it stays.
  void forget_run(std::int64_t run);
  // What is cached may name rows a rollback undid.
  void forget();

 private:
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t>;  // run, chip, step
  const chunk::Series* sealed_series(std::int64_t chunk_id, std::int64_t metric, const std::string& data);
  struct ChunkRow {
    std::int64_t id = 0, seq = 0;
    std::uint64_t samples = 0;
  };
  // A merged chunk holds at most this many values (well under the codec's
  // caps, whatever piled up after a rollback cleared the counts).
  static constexpr std::uint64_t kMaxMergedValues = 2 * kSealValues;
  // Replaces each run of two or more consecutive small chunks of the
  // chip-step by one chunk of all their values, with its roll-ups.
  void merge_small(std::int64_t run, std::int64_t chip, std::int64_t step, std::int64_t now_unix_ms);
  void merge_group(std::int64_t run, std::int64_t chip, std::int64_t step, const std::vector<ChunkRow>& group,
                   std::int64_t now_unix_ms);
  // The chip-steps of `run` (none: every run) with two or more small chunks.
  std::vector<Key> with_small_chunks(std::optional<std::int64_t> run);

  SQLite::Database& db_;
  SQLite::Statement select_open_;
  SQLite::Statement delete_open_;
  SQLite::Statement next_seq_;
  SQLite::Statement insert_chunk_;
  detail::MultiRowInsert insert_rollups_;  // a chunk's roll-up rows, several to a statement
  SQLite::Statement sealed_until_;
  SQLite::Statement chunks_covering_;
  SQLite::Statement list_chunks_;
  SQLite::Statement chunk_data_;
  SQLite::Statement next_rollup_seq_;
  SQLite::Statement run_pruned_;
  SQLite::Statement delete_chunk_;
  SQLite::Statement delete_rollup_;
  std::map<Key, int> open_values_;                              // since this writer opened
  std::map<Key, std::uint64_t> small_values_;                   // in small chunks, since this writer opened
  std::map<Key, std::optional<double>> sealed_until_of_;        // the latest last_t_s sealed
  std::map<std::int64_t, std::vector<chunk::Series>> decoded_;  // chunk id -> series, for resends
};

}  // namespace kiln::store
