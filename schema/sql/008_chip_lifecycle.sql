-- Chip lifecycle by serial (docs/lifecycle.md): the current record of each
-- chip and every transition, with who made it, why, on what evidence and
-- under which plan. Transitions are never updated or deleted.
CREATE TABLE chip_lifecycle (
  chip_id          INTEGER PRIMARY KEY REFERENCES chips (id),
  state            TEXT NOT NULL CHECK (state IN ('unknown', 'healthy', 'suspect', 'quarantined', 'rma', 'retired',
                                                  'maintenance')),
  set_by_person    INTEGER NOT NULL DEFAULT 0 CHECK (set_by_person IN (0, 1)),
  clean_streak     INTEGER NOT NULL DEFAULT 0 CHECK (clean_streak >= 0),
  retests_run      INTEGER NOT NULL DEFAULT 0 CHECK (retests_run >= 0),
  retests_failed   INTEGER NOT NULL DEFAULT 0 CHECK (retests_failed >= 0 AND retests_failed <= retests_run),
  episode_run_id   INTEGER REFERENCES runs (id),
  updated_unix_ms  INTEGER NOT NULL
);

CREATE TABLE lifecycle_transitions (
  id           INTEGER PRIMARY KEY,
  chip_id      INTEGER NOT NULL REFERENCES chips (id),
  from_state   TEXT NOT NULL,
  to_state     TEXT NOT NULL,
  actor        TEXT NOT NULL CHECK (actor <> ''),
  reason       TEXT NOT NULL CHECK (reason <> ''),
  run_id       INTEGER REFERENCES runs (id),  -- the evidence; NULL for a person's change
  plan_sha256  TEXT NOT NULL DEFAULT '',
  unix_ms      INTEGER NOT NULL
);
CREATE INDEX lifecycle_transitions_by_chip ON lifecycle_transitions (chip_id, id);
CREATE TRIGGER lifecycle_transitions_append_only_update BEFORE UPDATE ON lifecycle_transitions
BEGIN SELECT RAISE(ABORT, 'lifecycle_transitions is append-only'); END;
CREATE TRIGGER lifecycle_transitions_append_only_delete BEFORE DELETE ON lifecycle_transitions
BEGIN SELECT RAISE(ABORT, 'lifecycle_transitions is append-only'); END;
