-- The access audit log (issue 9): who read restricted incidents and evidence, failed
-- authentications and token use. Hash-chained like an incident's timeline (each row's hash
-- covers its fields and the previous row's hash) and append-only: the triggers refuse every
-- UPDATE and DELETE, so changing history takes dropping them first, and the chain still
-- shows it. Expand-only.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,           -- 1, 2, 3... with no gaps
    at INTEGER NOT NULL,               -- microseconds UTC
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
