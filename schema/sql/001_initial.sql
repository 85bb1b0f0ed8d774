-- Kiln schema, version 1. Migrations are the single definition of the schema:
-- never edit a released file; add NNN_name.sql instead.
--
-- Conventions:
--   * times are Unix milliseconds (INTEGER, *_unix_ms) or seconds since a
--     chip started a step (REAL, t_s);
--   * 64-bit unsigned values (seeds, epochs, sequence numbers) are stored as
--     the signed 64-bit integer with the same bits;
--   * a REAL column is NULL where the value was NaN (SQLite cannot store NaN);
--   * a verdict is NULL until it has been decided.

-- Which migrations have been applied; written by the migration runner.
CREATE TABLE schema_migrations (
  version          INTEGER PRIMARY KEY,
  name             TEXT NOT NULL,
  applied_unix_ms  INTEGER NOT NULL
);

CREATE TABLE labs (
  id                  INTEGER PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE CHECK (name <> ''),
  first_seen_unix_ms  INTEGER NOT NULL,
  last_seen_unix_ms   INTEGER NOT NULL
);

CREATE TABLE racks (
  id                  INTEGER PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE CHECK (name <> ''),
  lab_id              INTEGER REFERENCES labs (id),
  backend             TEXT NOT NULL,           -- sim | cpu | cuda | what a newer agent reports
  topology            TEXT NOT NULL,
  time_scale          REAL,
  last_epoch          INTEGER,                 -- epoch of the agent that registered last
  first_seen_unix_ms  INTEGER NOT NULL,
  last_seen_unix_ms   INTEGER NOT NULL
);

-- Inventory by serial. rack_id/slot are where the chip is now (NULL when its
-- last rack no longer reports it); runs keep where it was (run_chips).
CREATE TABLE chips (
  id                  INTEGER PRIMARY KEY,
  serial              TEXT NOT NULL UNIQUE CHECK (serial <> ''),
  sku                 TEXT NOT NULL,           -- 'unknown' until its rack registers it
  rack_id             INTEGER REFERENCES racks (id),
  slot                INTEGER CHECK (slot >= 0),
  first_seen_unix_ms  INTEGER NOT NULL,
  last_seen_unix_ms   INTEGER NOT NULL
);
CREATE INDEX chips_by_rack ON chips (rack_id);

-- Plans verbatim, once per distinct text.
CREATE TABLE plans (
  id                  INTEGER PRIMARY KEY,
  name                TEXT NOT NULL,
  sha256              TEXT NOT NULL UNIQUE
                        CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  text                TEXT NOT NULL,
  first_seen_unix_ms  INTEGER NOT NULL
);

CREATE TABLE runs (
  id                 INTEGER PRIMARY KEY,
  plan_id            INTEGER NOT NULL REFERENCES plans (id),
  seed               INTEGER NOT NULL,
  lab_id             INTEGER REFERENCES labs (id),
  racks_json         TEXT NOT NULL CHECK (json_valid(racks_json) AND json_type(racks_json) = 'array'),
  status             TEXT NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'running', 'completed', 'aborted', 'error')),
  reason             TEXT NOT NULL DEFAULT '',
  sample_hz          REAL NOT NULL CHECK (sample_hz > 0),
  submitted_unix_ms  INTEGER NOT NULL,
  started_unix_ms    INTEGER,
  ended_unix_ms      INTEGER
);
CREATE INDEX runs_by_status ON runs (status);

-- The run's flattened steps with the parameters actually used.
CREATE TABLE steps (
  run_id        INTEGER NOT NULL REFERENCES runs (id),
  step_index    INTEGER NOT NULL CHECK (step_index >= 0),
  phase_index   INTEGER NOT NULL CHECK (phase_index >= 0),
  repeat_index  INTEGER NOT NULL CHECK (repeat_index >= 0),
  name          TEXT NOT NULL,
  pattern       TEXT NOT NULL,
  duration_s    REAL NOT NULL CHECK (duration_s >= 0),
  params_json   TEXT NOT NULL CHECK (json_valid(params_json)),
  limits_json   TEXT NOT NULL CHECK (json_valid(limits_json)),
  PRIMARY KEY (run_id, step_index)
) WITHOUT ROWID;

-- A chip's part in a run, with rack/slot/sku as they were then.
CREATE TABLE run_chips (
  run_id   INTEGER NOT NULL REFERENCES runs (id),
  chip_id  INTEGER NOT NULL REFERENCES chips (id),
  rack     TEXT NOT NULL,
  slot     INTEGER NOT NULL CHECK (slot >= 0),
  sku      TEXT NOT NULL,
  verdict  TEXT CHECK (verdict IN ('pass', 'marginal', 'fail', 'inconclusive', 'error')),
  PRIMARY KEY (run_id, chip_id)
) WITHOUT ROWID;
CREATE INDEX run_chips_by_chip ON run_chips (chip_id);

-- One step on one chip: what the agent measured, then the daemon's verdict.
CREATE TABLE chip_steps (
  run_id       INTEGER NOT NULL,
  step_index   INTEGER NOT NULL,
  chip_id      INTEGER NOT NULL REFERENCES chips (id),
  verdict      TEXT CHECK (verdict IN ('pass', 'marginal', 'fail', 'inconclusive', 'error')),
  reason       TEXT NOT NULL DEFAULT '',
  completed    INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
  unsupported  INTEGER NOT NULL DEFAULT 0 CHECK (unsupported IN (0, 1)),
  ran_s        REAL NOT NULL DEFAULT 0,
  note         TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, step_index, chip_id),
  FOREIGN KEY (run_id, step_index) REFERENCES steps (run_id, step_index)
) WITHOUT ROWID;

CREATE TABLE metric_names (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE CHECK (name <> '')
);

-- The agent's per-step summary of each metric.
CREATE TABLE chip_step_metrics (
  run_id      INTEGER NOT NULL,
  step_index  INTEGER NOT NULL,
  chip_id     INTEGER NOT NULL,
  metric_id   INTEGER NOT NULL REFERENCES metric_names (id),
  min         REAL,
  avg         REAL,
  max         REAL,
  count       INTEGER NOT NULL CHECK (count >= 0),
  PRIMARY KEY (run_id, step_index, chip_id, metric_id),
  FOREIGN KEY (run_id, step_index, chip_id) REFERENCES chip_steps (run_id, step_index, chip_id)
    ON DELETE CASCADE
) WITHOUT ROWID;

-- What the agent detected (raw evidence); the daemon judges them, with the
-- plan's limits, into failures.
CREATE TABLE detections (
  id                  INTEGER PRIMARY KEY,
  run_id              INTEGER NOT NULL,
  step_index          INTEGER NOT NULL,
  chip_id             INTEGER NOT NULL,
  class               TEXT NOT NULL,
  metric              TEXT NOT NULL DEFAULT '',
  count               INTEGER NOT NULL CHECK (count >= 0),
  first_t_s           REAL,
  last_t_s            REAL,
  first_unix_ms       INTEGER,
  last_unix_ms        INTEGER,
  conditions_json     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(conditions_json)),
  location_json       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(location_json)),
  detail              TEXT NOT NULL DEFAULT '',
  FOREIGN KEY (run_id, step_index, chip_id) REFERENCES chip_steps (run_id, step_index, chip_id)
    ON DELETE CASCADE
);
CREATE INDEX detections_by_chip_step ON detections (run_id, step_index, chip_id);

-- Judged failures (DESIGN §5), replaced whenever a chip-step is re-judged.
CREATE TABLE failures (
  id               INTEGER PRIMARY KEY,
  run_id           INTEGER NOT NULL,
  step_index       INTEGER NOT NULL,
  chip_id          INTEGER NOT NULL,
  class            TEXT NOT NULL CHECK (class IN ('sdc', 'margin', 'underperforming', 'thermal', 'power',
                     'memory_ce_excess', 'memory_ue', 'memory_pattern', 'link_errors', 'link_degraded',
                     'link_down', 'hang')),
  count            INTEGER NOT NULL CHECK (count >= 0),
  location_json    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(location_json)),
  conditions_json  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(conditions_json)),
  first_t_s        REAL,
  last_t_s         REAL,
  first_unix_ms    INTEGER,
  last_unix_ms     INTEGER,
  detail           TEXT NOT NULL DEFAULT '',
  FOREIGN KEY (run_id, step_index, chip_id) REFERENCES chip_steps (run_id, step_index, chip_id)
    ON DELETE CASCADE
);
CREATE INDEX failures_by_chip_step ON failures (run_id, step_index, chip_id);

-- A log of what happened (rack connected, agent lost, run aborted, ...).
CREATE TABLE events (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER REFERENCES runs (id),    -- NULL: not about a run
  chip_id      INTEGER REFERENCES chips (id),   -- NULL: not about a chip
  kind         TEXT NOT NULL CHECK (kind <> ''),
  detail_json  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail_json)),
  unix_ms      INTEGER NOT NULL
);
CREATE INDEX events_by_run ON events (run_id, unix_ms);

-- One row per metric value. Keyed for "this chip's metric over time" (the
-- charts), which is also what makes a resent sample land on its own row
-- instead of duplicating it. step_index is in the key because t_s restarts
-- with every step.
CREATE TABLE telemetry (
  run_id        INTEGER NOT NULL REFERENCES runs (id),
  chip_id       INTEGER NOT NULL REFERENCES chips (id),
  metric_id     INTEGER NOT NULL REFERENCES metric_names (id),
  step_index    INTEGER NOT NULL,
  t_s           REAL NOT NULL,
  wall_unix_ms  INTEGER NOT NULL,
  value         REAL,
  PRIMARY KEY (run_id, chip_id, metric_id, step_index, t_s)
) WITHOUT ROWID;

-- Agent batches already stored: ingest is idempotent on (rack, epoch, seq).
CREATE TABLE ingested_batches (
  rack   TEXT NOT NULL,
  epoch  INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  PRIMARY KEY (rack, epoch, seq)
) WITHOUT ROWID;
