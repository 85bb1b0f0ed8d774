-- The audit trail (DESIGN §8): who did it, from where, and how many times.
-- actor is the credential's name ('' when none was accepted: a refusal),
-- peer the host address it came from, count the repeats of the same event
-- within one second, which kilnd writes as one row so that a flood cannot
-- grow the table without limit. Events written before this migration have
-- actor '', peer '' and count 1.
ALTER TABLE events ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN peer TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);
CREATE INDEX events_by_time ON events (unix_ms);
