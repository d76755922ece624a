-- Schedule overrides, an append-only log: a row is written when an override is created, and
-- removing it sets the removed_* columns once; rows are never deleted or otherwise changed.
CREATE TABLE schedule_overrides (
    id TEXT PRIMARY KEY,
    schedule TEXT NOT NULL,
    person TEXT NOT NULL,
    start_at BIGINT NOT NULL,         -- microseconds since the Unix epoch, UTC
    end_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    removed_by TEXT,
    removed_at BIGINT,
    removed_reason TEXT
);
CREATE INDEX schedule_overrides_window ON schedule_overrides (schedule, start_at, end_at);
