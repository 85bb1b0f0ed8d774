-- Placeholder (branch ingest only): helper "life" owns migration 010. The
-- embedder needs contiguous versions, so this keeps 011 buildable here;
-- drop this file when merging with the real 010.
SELECT 1;
