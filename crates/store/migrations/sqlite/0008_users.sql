-- Web UI accounts and their sessions. Passwords are stored only as argon2id PHC strings and
-- sessions only as the SHA-256 of the cookie's secret, so a copy of the database lets nobody
-- log in. Expand-only: nothing existing changes.
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    security BOOLEAN NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE user_sessions (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX user_sessions_by_expiry ON user_sessions (expires_at);
