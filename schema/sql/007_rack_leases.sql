-- Rack leases (docs/scheduling.md): a run holds each of its racks by a lease
-- row with an expiry it renews while it runs; people reserve racks or put
-- them in maintenance the same way. At most one active lease per rack, by
-- the partial unique index below, so two runs can never drive one rack, even
-- across a daemon restart. The lease id is its fencing token: AUTOINCREMENT
-- never reuses one, so a later lease's token is always larger and an agent
-- refuses work carrying a token older than the newest it has seen.
CREATE TABLE rack_leases (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  rack              TEXT NOT NULL CHECK (rack <> ''),
  kind              TEXT NOT NULL CHECK (kind IN ('run', 'reservation', 'maintenance')),
  run_id            INTEGER REFERENCES runs (id),
  holder            TEXT NOT NULL CHECK (holder <> ''),  -- the identity that took it
  reason            TEXT NOT NULL DEFAULT '',
  acquired_unix_ms  INTEGER NOT NULL,
  expires_unix_ms   INTEGER NOT NULL CHECK (expires_unix_ms > acquired_unix_ms),
  ended_unix_ms     INTEGER,                             -- NULL: active
  end_reason        TEXT,
  CHECK ((kind = 'run') = (run_id IS NOT NULL)),
  CHECK ((ended_unix_ms IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX one_active_lease_per_rack ON rack_leases (rack) WHERE ended_unix_ms IS NULL;
CREATE INDEX rack_leases_by_run ON rack_leases (run_id);
