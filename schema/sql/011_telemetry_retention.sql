-- Retention of raw telemetry (docs/telemetry-storage.md, "Retention";
-- kilnd --keep-raw): a run's raw telemetry (its telemetry_chunks and any
-- telemetry_open rows) is dropped once the run ended longer ago than that;
-- its roll-ups, step results, verdicts, failures and detections are kept
-- forever. One row per pruned run says when and how much, so readers can
-- say "pruned on DATE" instead of showing nothing.
CREATE TABLE telemetry_pruned (
  run_id          INTEGER PRIMARY KEY REFERENCES runs (id),
  pruned_unix_ms  INTEGER NOT NULL,
  keep_raw_ms     INTEGER NOT NULL CHECK (keep_raw_ms > 0),  -- the --keep-raw it was pruned under
  chunks          INTEGER NOT NULL CHECK (chunks >= 0),
  samples         INTEGER NOT NULL CHECK (samples >= 0)      -- values dropped (chunks' and open rows')
);
