-- Acknowledged alarms (issue 13, dashboard): who acknowledged which alarm
-- and when, so that every dashboard sees it. Alarms live in kilnd's memory
-- and their ids restart with it: an alarm is named by its id and the time it
-- was raised. kilnd keeps the first acknowledgement (again after an alarm
-- was withdrawn and raised anew, which replaces the row). What the alarm
-- said is kept with the row, so the record reads on its own after it is gone.
CREATE TABLE alarm_acks (
  id INTEGER PRIMARY KEY,
  alarm_id INTEGER NOT NULL CHECK (alarm_id > 0),
  raised_unix_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  serial TEXT NOT NULL DEFAULT '',
  rack TEXT NOT NULL DEFAULT '',
  run_id INTEGER,  -- NULL: not about a run
  message TEXT NOT NULL DEFAULT '',
  acknowledged_by TEXT NOT NULL CHECK (acknowledged_by <> ''),
  acknowledged_unix_ms INTEGER NOT NULL,
  UNIQUE (alarm_id, raised_unix_ms)
);
CREATE INDEX alarm_acks_by_time ON alarm_acks (acknowledged_unix_ms);
