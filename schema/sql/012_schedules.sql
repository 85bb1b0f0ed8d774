-- Schedules (docs/scheduling.md): a plan, kept as it was when the schedule
-- was added, submitted at every fire time of a cron expression read in an
-- explicit time zone. handled_until_unix_ms is the fire time up to which the
-- scheduler has decided (run, refused or missed), so that a restarted daemon
-- knows which fire times it missed. A removed schedule is kept (removed_unix_ms)
-- with its fires; its name may be used again.
CREATE TABLE schedules (
  id                     INTEGER PRIMARY KEY AUTOINCREMENT,
  name                   TEXT NOT NULL CHECK (name <> ''),
  plan_name              TEXT NOT NULL,
  plan_path              TEXT NOT NULL DEFAULT '',
  plan_text              TEXT NOT NULL,
  cron                   TEXT NOT NULL,
  time_zone              TEXT NOT NULL,
  racks_json             TEXT NOT NULL DEFAULT '[]',
  sku                    TEXT NOT NULL DEFAULT '',
  priority               INTEGER NOT NULL DEFAULT 0,
  max_wall_s             INTEGER CHECK (max_wall_s IS NULL OR max_wall_s > 0),
  queue_timeout_s        INTEGER CHECK (queue_timeout_s IS NULL OR queue_timeout_s > 0),
  jitter_s               INTEGER NOT NULL DEFAULT 0 CHECK (jitter_s >= 0),
  catch_up               TEXT NOT NULL DEFAULT 'skip',
  enabled                INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_by             TEXT NOT NULL,
  created_unix_ms        INTEGER NOT NULL,
  handled_until_unix_ms  INTEGER NOT NULL,
  removed_unix_ms        INTEGER
);
CREATE UNIQUE INDEX one_schedule_per_name ON schedules (name) WHERE removed_unix_ms IS NULL;

-- What became of each fire time: the run it submitted, or why none was
-- (refused, missed while the daemon was down). The primary key makes a fire
-- time submit at most one run, even across a crash: the run and its fire row
-- are written in one transaction.
CREATE TABLE schedule_fires (
  schedule_id      INTEGER NOT NULL REFERENCES schedules (id),
  fire_unix_ms     INTEGER NOT NULL,  -- the fire time, before jitter
  run_id           INTEGER REFERENCES runs (id),
  outcome          TEXT NOT NULL,     -- "submitted", "refused: …", "missed: …"
  detail           TEXT NOT NULL DEFAULT '',
  decided_unix_ms  INTEGER NOT NULL,
  PRIMARY KEY (schedule_id, fire_unix_ms)
);
CREATE INDEX schedule_fires_by_time ON schedule_fires (decided_unix_ms);
