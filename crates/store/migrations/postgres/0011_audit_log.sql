-- The access audit log (issue 9): who read restricted incidents and evidence, failed
-- authentications and token use. Hash-chained like an incident's timeline (each row's hash
-- covers its fields and the previous row's hash) and append-only: the triggers refuse every
-- UPDATE, DELETE and TRUNCATE, so changing history takes dropping them first, and the chain
-- still shows it. Writers serialise on a transaction advisory lock, so the chain stays linear
-- with several replicas. Expand-only.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,            -- 1, 2, 3... with no gaps
    at BIGINT NOT NULL,                -- microseconds UTC
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
