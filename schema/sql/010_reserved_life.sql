-- Placeholder (branch ingest only): helper "life" owns migration 010. The
-- embedder needs contiguous versions, so this keeps 011 buildable here;
-- drop this file when merging with the real 010.
-- A no-op that still changes nothing: created and dropped.
CREATE TABLE reserved_010 (unused INTEGER);
DROP TABLE reserved_010;
