-- Notification outbox: every outgoing message is a row, written in the same transaction as the
-- event that caused it, and delivered at least once by the engine. `id` is the message's
-- idempotency key. For a `sending` row, `next_attempt_at` is the claim's lease deadline.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    channel TEXT NOT NULL,              -- JSON of the channel (may hold a webhook secret)
    channel_kind TEXT NOT NULL,         -- webhook, slack, email
    destination TEXT NOT NULL,          -- shown to users; no secrets
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    payload TEXT NOT NULL,              -- JSON
    status TEXT NOT NULL,               -- pending, sending, delivered, failed, dead
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,          -- microseconds since the Unix epoch, UTC
    next_attempt_at BIGINT NOT NULL,
    last_attempt_at BIGINT,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_incident ON outbox (incident_id, created_at);
