-- Protocol 2 (docs/protocol.md): a detection says what happened
-- (kiln.v1.DetectionKind, as its lower-case name: corruption, hang, …), and a
-- shmoo step's pass/fail map is kept as its points instead of inside the
-- step's note. Detections stored before this migration have kind ''; their
-- shmoo maps stay readable in the notes they were written in.
ALTER TABLE detections ADD COLUMN kind TEXT NOT NULL DEFAULT '';

CREATE TABLE shmoo_points (
  run_id      INTEGER NOT NULL,
  step_index  INTEGER NOT NULL,
  chip_id     INTEGER NOT NULL,
  row         INTEGER NOT NULL CHECK (row >= 0),  -- the voltage's index, as the plan lists them
  col         INTEGER NOT NULL CHECK (col >= 0),  -- the clock's index
  voltage_mv  REAL NOT NULL,
  clock_mhz   REAL NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('not_run', 'pass', 'fail', 'refused')),
  PRIMARY KEY (run_id, step_index, chip_id, row, col),
  FOREIGN KEY (run_id, step_index, chip_id) REFERENCES chip_steps (run_id, step_index, chip_id)
    ON DELETE CASCADE
) WITHOUT ROWID;
