-- Epoch ownership (docs/protocol.md, "epochs"): every epoch a rack's agents
-- registered, with the SHA-256 (64 hex digits) of the epoch key the agent
-- process sent with it. An epoch belongs to its key for good: a daemon
-- restarted mid-run still knows which agent process owns which epoch, and
-- refuses another that claims it. The key itself is never stored.
CREATE TABLE rack_epochs (
  rack                TEXT NOT NULL CHECK (rack <> ''),
  epoch               INTEGER NOT NULL,
  key_sha256          TEXT NOT NULL CHECK (length(key_sha256) = 64 AND key_sha256 NOT GLOB '*[^0-9a-f]*'),
  first_seen_unix_ms  INTEGER NOT NULL,
  PRIMARY KEY (rack, epoch)
) WITHOUT ROWID;
