-- Disabling web UI accounts (issue 8). Expand-only: a NULL disabled_at is an active account,
-- so a binary from before this migration still reads and writes users; it does not know the
-- column, though, and would let a disabled user sign in, so finish a rolling upgrade before
-- relying on it.
-- Microseconds since the Unix epoch, UTC.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE users ADD COLUMN disabled_by TEXT;
