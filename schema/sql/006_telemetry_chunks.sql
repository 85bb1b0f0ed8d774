-- Compressed telemetry (docs/telemetry-storage.md). Samples arrive in agent
-- batches into telemetry_open, one row per value exactly as the telemetry
-- table kept them (so resends stay idempotent on the same key), and are
-- sealed into one compressed chunk per chip-step (every metric of it) when
-- the step's result arrives, when a chip-step holds 16384 open values, when
-- the run ends, and when kilnd starts. Sealing happens inside the batch's
-- transaction: an ack still means durable.
--
-- Migrating: the row-per-value table becomes the open buffer, so nothing is
-- lost; the writer seals it (and vacuums the file) when it next opens.
ALTER TABLE telemetry RENAME TO telemetry_open;

-- One sealed chunk: the chip's samples of one step between first_t_s and
-- last_t_s (schema/telemetry_chunk.hpp has the blob's layout). seq orders the
-- chunks of a chip-step as they were sealed.
CREATE TABLE telemetry_chunks (
  id              INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs (id),
  chip_id         INTEGER NOT NULL REFERENCES chips (id),
  step_index      INTEGER NOT NULL,
  seq             INTEGER NOT NULL CHECK (seq >= 0),
  first_t_s       REAL NOT NULL,
  last_t_s        REAL NOT NULL,
  samples         INTEGER NOT NULL CHECK (samples >= 0),
  sealed_unix_ms  INTEGER NOT NULL,
  data            BLOB NOT NULL,
  UNIQUE (run_id, chip_id, step_index, seq)
);

-- Per chunk and metric, the values' min/avg/max (at the stored precision;
-- NULL when every value was NaN) for whole-run charts. Kept when raw chunks
-- are dropped.
CREATE TABLE telemetry_rollups (
  run_id      INTEGER NOT NULL,
  chip_id     INTEGER NOT NULL,
  metric_id   INTEGER NOT NULL REFERENCES metric_names (id),
  step_index  INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  first_t_s   REAL NOT NULL,
  last_t_s    REAL NOT NULL,
  count       INTEGER NOT NULL CHECK (count >= 0),  -- values that were not NaN
  min         REAL,
  avg         REAL,
  max         REAL,
  PRIMARY KEY (run_id, chip_id, metric_id, step_index, seq)
) WITHOUT ROWID;
