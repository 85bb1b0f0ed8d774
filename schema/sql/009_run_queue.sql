-- The fair queue (docs/scheduling.md): what a run asked of the queue when it
-- was submitted, kept so that a restarted daemon queues it the same way.
ALTER TABLE runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN queue_timeout_s INTEGER CHECK (queue_timeout_s IS NULL OR queue_timeout_s > 0);
ALTER TABLE runs ADD COLUMN max_wall_s INTEGER CHECK (max_wall_s IS NULL OR max_wall_s > 0);
