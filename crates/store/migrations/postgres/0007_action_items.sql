-- Action items, projected from the action_item_* events of each incident's log (the log is
-- the truth; this table is rewritten from the fold in the same transaction as the events) so
-- that items can be listed across incidents by owner and due time.
CREATE TABLE action_items (
    incident_id TEXT NOT NULL,
    action_id TEXT NOT NULL,          -- A1, A2... within the incident
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    due TEXT NOT NULL,                -- YYYY-MM-DD in the owner's calendar
    due_at BIGINT NOT NULL,           -- end of the due date in the owner's zone, microseconds UTC
    priority TEXT NOT NULL,           -- p1..p4
    status TEXT NOT NULL,             -- open, in_progress, done, cancelled
    ticket TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, action_id)
);
CREATE INDEX action_items_owner ON action_items (owner, due_at);
CREATE INDEX action_items_due ON action_items (due_at);
