//! Embedded, append-only migrations, one list per backend.
//!
//! A shipped migration is never edited; a change is a new file. Each migration runs in its own
//! transaction and is recorded in `schema_migrations`, so a failed one leaves the previous
//! version intact and a restart retries it.

/// One migration: number, name, SQL.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "incidents",
        sql: include_str!("../migrations/sqlite/0001_incidents.sql"),
    },
    Migration {
        version: 2,
        name: "timers",
        sql: include_str!("../migrations/sqlite/0002_timers.sql"),
    },
    Migration {
        version: 3,
        name: "outbox",
        sql: include_str!("../migrations/sqlite/0003_outbox.sql"),
    },
    Migration {
        version: 4,
        name: "schedule_overrides",
        sql: include_str!("../migrations/sqlite/0004_schedule_overrides.sql"),
    },
    Migration {
        version: 5,
        name: "alerts",
        sql: include_str!("../migrations/sqlite/0005_alerts.sql"),
    },
    Migration {
        version: 6,
        name: "statuspage",
        sql: include_str!("../migrations/sqlite/0006_statuspage.sql"),
    },
    Migration {
        version: 7,
        name: "action_items",
        sql: include_str!("../migrations/sqlite/0007_action_items.sql"),
    },
    Migration {
        version: 8,
        name: "users",
        sql: include_str!("../migrations/sqlite/0008_users.sql"),
    },
    Migration {
        version: 9,
        name: "token_scopes",
        sql: include_str!("../migrations/sqlite/0009_token_scopes.sql"),
    },
    Migration {
        version: 10,
        name: "evidence_indicators",
        sql: include_str!("../migrations/sqlite/0010_evidence_indicators.sql"),
    },
    Migration {
        version: 11,
        name: "audit_log",
        sql: include_str!("../migrations/sqlite/0011_audit_log.sql"),
    },
    Migration {
        version: 12,
        name: "user_disable",
        sql: include_str!("../migrations/sqlite/0012_user_disable.sql"),
    },
    Migration {
        version: 13,
        name: "integration_key_rotation",
        sql: include_str!("../migrations/sqlite/0013_integration_key_rotation.sql"),
    },
    Migration {
        version: 14,
        name: "alert_write_pages",
        sql: include_str!("../migrations/sqlite/0014_alert_write_pages.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "incidents",
        sql: include_str!("../migrations/postgres/0001_incidents.sql"),
    },
    Migration {
        version: 2,
        name: "timers",
        sql: include_str!("../migrations/postgres/0002_timers.sql"),
    },
    Migration {
        version: 3,
        name: "outbox",
        sql: include_str!("../migrations/postgres/0003_outbox.sql"),
    },
    Migration {
        version: 4,
        name: "schedule_overrides",
        sql: include_str!("../migrations/postgres/0004_schedule_overrides.sql"),
    },
    Migration {
        version: 5,
        name: "alerts",
        sql: include_str!("../migrations/postgres/0005_alerts.sql"),
    },
    Migration {
        version: 6,
        name: "statuspage",
        sql: include_str!("../migrations/postgres/0006_statuspage.sql"),
    },
    Migration {
        version: 7,
        name: "action_items",
        sql: include_str!("../migrations/postgres/0007_action_items.sql"),
    },
    Migration {
        version: 8,
        name: "users",
        sql: include_str!("../migrations/postgres/0008_users.sql"),
    },
    Migration {
        version: 9,
        name: "token_scopes",
        sql: include_str!("../migrations/postgres/0009_token_scopes.sql"),
    },
    Migration {
        version: 10,
        name: "evidence_indicators",
        sql: include_str!("../migrations/postgres/0010_evidence_indicators.sql"),
    },
    Migration {
        version: 11,
        name: "audit_log",
        sql: include_str!("../migrations/postgres/0011_audit_log.sql"),
    },
    Migration {
        version: 12,
        name: "user_disable",
        sql: include_str!("../migrations/postgres/0012_user_disable.sql"),
    },
    Migration {
        version: 13,
        name: "integration_key_rotation",
        sql: include_str!("../migrations/postgres/0013_integration_key_rotation.sql"),
    },
    Migration {
        version: 14,
        name: "alert_write_pages",
        sql: include_str!("../migrations/postgres/0014_alert_write_pages.sql"),
    },
];

pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)";
