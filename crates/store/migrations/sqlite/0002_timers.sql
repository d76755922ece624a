-- Durable timers: every due thing is a row. A timer fires once: firing marks `fired_at` in the
-- same transaction that writes its effects.
CREATE TABLE timers (
    key TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    kind TEXT NOT NULL,             -- JSON of the timer's kind
    due_at INTEGER NOT NULL,        -- microseconds since the Unix epoch, UTC
    created_at INTEGER NOT NULL,
    fired_at INTEGER
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL;
CREATE INDEX timers_incident ON timers (incident_id);
