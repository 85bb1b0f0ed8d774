-- Placeholder (branch ingest only): helper "runs" owns migration 009. The
-- embedder needs contiguous versions, so this keeps 011 buildable here;
-- drop this file when merging with the real 009.
SELECT 1;
