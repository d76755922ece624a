-- The public status page. Component definitions live in config; this holds their statuses.
CREATE TABLE status_components (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,          -- microseconds since the Unix epoch, UTC
    updated_at INTEGER NOT NULL,
    updated_by TEXT                  -- who set the status last; NULL until someone does
);
-- Published incidents and scheduled maintenances, each stored whole (with its public updates)
-- as JSON in `state`, beside the columns queries filter on. An incident is published at most
-- once; the public read joins incidents so a restricted incident's entry is never shown.
CREATE TABLE status_entries (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,              -- incident | maintenance
    incident_id TEXT UNIQUE REFERENCES incidents (id),
    status TEXT NOT NULL,
    finished BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX status_entries_recent ON status_entries (created_at);
CREATE INDEX status_entries_open ON status_entries (finished);
