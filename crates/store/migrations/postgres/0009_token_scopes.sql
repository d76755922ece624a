-- Token scopes and expiry (issue 9). Expand-only: the columns have defaults, so a binary from
-- before this migration still inserts and reads tokens. Such a binary does not know either
-- column, though: during a rolling upgrade it treats a read-only token as full and does not
-- enforce expiry, so finish the upgrade before relying on them.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
-- Microseconds since the Unix epoch, UTC; NULL never expires.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
