-- A no-op: version 010 was set aside for the chip lifecycle work (issue 13),
-- which needed no schema change after 008. The embedder needs contiguous
-- versions, so this stays, creating and dropping a table.
CREATE TABLE reserved_010 (unused INTEGER);
DROP TABLE reserved_010;
