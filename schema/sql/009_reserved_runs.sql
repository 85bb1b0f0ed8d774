-- Placeholder (branch ingest only): helper "runs" owns migration 009. The
-- embedder needs contiguous versions, so this keeps 011 buildable here;
-- drop this file when merging with the real 009.
-- A no-op that still changes nothing: created and dropped.
CREATE TABLE reserved_009 (unused INTEGER);
DROP TABLE reserved_009;
