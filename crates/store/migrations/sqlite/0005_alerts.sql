-- Alert ingestion: integrations (per-service routing keys, stored as SHA-256 only), alerts with
-- their lifecycle, every accepted event, threshold counters and change events.
CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    service TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    akey TEXT NOT NULL,             -- integration id, newline, dedup key: dedup is per integration
    status TEXT NOT NULL,           -- triggered, acknowledged, resolved
    service TEXT,
    severity TEXT NOT NULL,
    incident_id TEXT,
    link TEXT NOT NULL,             -- none, open (needs an incident), resolve (check the incident), done
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    state TEXT NOT NULL             -- JSON of the alert and how it was routed
);
-- At most one open alert per key: deduplication cannot race, even across processes.
CREATE UNIQUE INDEX alerts_open_key ON alerts (akey) WHERE status <> 'resolved';
CREATE INDEX alerts_link ON alerts (link) WHERE link IN ('open', 'resolve');
CREATE INDEX alerts_incident ON alerts (incident_id);
CREATE INDEX alerts_seen ON alerts (first_seen DESC, id DESC);

CREATE TABLE alert_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT,
    received_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,          -- opened, repeated, acknowledged, resolved, suppressed, ignored
    body TEXT NOT NULL              -- JSON of the event as received (normalised)
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, seq);

CREATE TABLE alert_thresholds (
    key TEXT PRIMARY KEY,           -- rule name, newline, group key
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE change_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id TEXT NOT NULL,
    service TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX change_events_service ON change_events (service, received_at);
