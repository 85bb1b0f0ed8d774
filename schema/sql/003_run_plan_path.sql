-- The plan's path as the user gave it when submitting (SubmitRun.plan_path:
-- "testplans/standard.yaml", "../plans/x.yaml"), so that a report's
-- reproduce line can be pasted where the run was submitted. Runs recorded
-- before this migration have ''; their reports name the plan "<name>.yaml".
ALTER TABLE runs ADD COLUMN plan_path TEXT NOT NULL DEFAULT '';
