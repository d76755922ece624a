-- Evidence attached to incidents, and indicators of compromise (issue 9). The content lives in the server's vault on disk,
-- named by its SHA-256; this table is the projection of each incident's `evidence_added`
-- events (the log is the truth, and carries the custody events), written in the same
-- transaction, so evidence can be listed and looked up by hash. Expand-only.
CREATE TABLE evidence (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    sha256 TEXT NOT NULL,              -- 64 lowercase hex digits
    size INTEGER NOT NULL,             -- bytes
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    description TEXT,
    collected_from TEXT,               -- as the collector says
    source TEXT NOT NULL,              -- the uploader's address as the server saw it
    collected_by TEXT NOT NULL,
    collected_at INTEGER NOT NULL,     -- microseconds UTC
    seq INTEGER NOT NULL,              -- the evidence_added event
    PRIMARY KEY (incident_id, sha256)
);
CREATE INDEX evidence_by_hash ON evidence (sha256);

-- Indicators of compromise: one row per incident, kind and normalised value, with the widest
-- first/last seen reported so far; the projection of the incident's `indicator_recorded`
-- events, written in the same transaction. Searched by value across incidents.
CREATE TABLE indicators (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL,                -- ip, domain, url, hash, email, account
    value TEXT NOT NULL,               -- normalised
    first_seen INTEGER,                -- microseconds UTC
    last_seen INTEGER,
    note TEXT,                         -- the latest note given
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (incident_id, kind, value)
);
CREATE INDEX indicators_by_value ON indicators (value, kind);
