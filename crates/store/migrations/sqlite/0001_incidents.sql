-- Incidents: the event log, the projection kept in step with it, and the per-day id counter.
CREATE TABLE events (
    incident_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,            -- microseconds since the Unix epoch, UTC
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,          -- JSON
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    incident_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    restricted BOOLEAN NOT NULL,
    declared_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    search_text TEXT NOT NULL,
    last_hash TEXT NOT NULL,
    state TEXT NOT NULL             -- JSON of the folded incident
);
CREATE INDEX incidents_declared ON incidents (declared_at DESC, id DESC);
CREATE INDEX incidents_status ON incidents (status);

CREATE TABLE incident_services (
    incident_id TEXT NOT NULL,
    service TEXT NOT NULL,
    PRIMARY KEY (incident_id, service)
);
CREATE INDEX incident_services_service ON incident_services (service);

CREATE TABLE incident_labels (
    incident_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (incident_id, key)
);
CREATE INDEX incident_labels_kv ON incident_labels (key, value);

CREATE TABLE incident_participants (
    incident_id TEXT NOT NULL,
    person TEXT NOT NULL,
    PRIMARY KEY (incident_id, person)
);
CREATE INDEX incident_participants_person ON incident_participants (person);

CREATE TABLE incident_counters (
    day TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    security BOOLEAN NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER
);
