-- Fewer index pages touched per alert ingestion batch (issue 5), as on SQLite.
--
-- alerts_seen was (first_seen DESC, id DESC), so every new alert went into the index's first
-- leaf; PostgreSQL has a fast path only for inserts into the last one. Ascending, new alerts
-- append at its end, and lists newest first read it backwards.
DROP INDEX alerts_seen;
CREATE INDEX alerts_seen ON alerts (first_seen, id);

-- Every alert arrives without an incident; every lookup names one, so NULLs need no entry.
DROP INDEX alerts_incident;
CREATE INDEX alerts_incident ON alerts (incident_id) WHERE incident_id IS NOT NULL;
