-- Routing-key rotation without downtime (issue 9). Rotating keeps the old key's hash in
-- previous_key_hash, accepted until previous_key_until, so senders can be moved over one by one.
-- Expand-only: NULLs mean "never rotated", and a binary from before this migration keeps
-- working (it just does not accept the previous key).
-- Microseconds since the Unix epoch, UTC.
ALTER TABLE integrations ADD COLUMN previous_key_hash TEXT;
ALTER TABLE integrations ADD COLUMN previous_key_until BIGINT;
ALTER TABLE integrations ADD COLUMN rotated_at BIGINT;
CREATE UNIQUE INDEX integrations_previous_key_hash ON integrations (previous_key_hash);
