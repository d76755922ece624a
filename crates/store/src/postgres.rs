//! The PostgreSQL backend, for teams running several `warroom serve` replicas on one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::StoreError;

/// Store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: sqlx::PgPool,
    notifier: crate::NotifierSlot,
    /// Connections of ingestion batches, outside the pool (see `postgres_ingest`).
    pub(crate) ingest: std::sync::Arc<crate::postgres_ingest::IngestConnections>,
}

/// How long a caller waits for a connection: from the pool, or a new one for ingestion.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection is used, the pool's and ingestion's alike, before a new one replaces
/// it (sqlx's default for the pool, stated here so both share it): a long session grows in the
/// server's memory, and a new connection follows the database's address if it moved.
pub(crate) const CONNECTION_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Whether a pooled session still takes writes (and so is alive). A database made read-only on
/// purpose fails this for every kept connection: each request then gets a new one, and its
/// writes fail as they would anyway.
async fn takes_writes(conn: &mut sqlx::PgConnection) -> Result<bool, sqlx::Error> {
    let read_only: String = sqlx::query_scalar("SHOW transaction_read_only")
        .fetch_one(conn)
        .await?;
    Ok(read_only != "on")
}

/// Advisory lock key held while migrating, so replicas starting together migrate once.
const MIGRATION_LOCK: i64 = 0x5741_5252_4f4f_4d00;

impl PostgresStore {
    /// Connects to and migrates the database at `url`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // An idle connection is checked before it is handed out (one more round trip per
            // transaction): without a check, after a PostgreSQL restart every dead connection
            // in the pool failed one API request. The check asks whether the session still
            // takes writes, which also proves it alive (so sqlx's own ping is not needed on
            // top): a primary demoted to a standby keeps its sessions open, read-only, and
            // without this every write on them failed until the connection's lifetime ended.
            // A connection that fails the check is closed and another taken or opened.
            // Ingestion batches, where the round trip mattered, run on connections of their
            // own (see `postgres_ingest`).
            .test_before_acquire(false)
            .before_acquire(|conn, _| Box::pin(takes_writes(conn)))
            .max_lifetime(CONNECTION_LIFETIME)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        let store = Self {
            pool,
            notifier: crate::NotifierSlot::default(),
            ingest: std::sync::Arc::new(crate::postgres_ingest::IngestConnections::new(options)),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Commits a transaction from [`Self::begin`]; PostgreSQL's commit is durable by itself.
    async fn commit(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Postgres>,
    ) -> Result<(), StoreError> {
        Ok(tx.commit().await?)
    }

    /// Ingestion batches are ordinary durable transactions (PostgreSQL flushes concurrent
    /// commits together by itself) of three round trips each, on connections of their own
    /// (see `postgres_ingest`).
    async fn ingest_batch(
        &self,
        items: &[crate::alerts::IngestItem],
    ) -> Result<Vec<crate::alerts::IngestOutcome>, StoreError> {
        self.ingest.ingest(items).await
    }

    /// Batches take the async path, several at once (see `ingest_batch`).
    fn blocking_ingest_writer(&self) -> Option<std::sync::Arc<dyn crate::alerts::BlockingIngest>> {
        None
    }

    async fn migration_lock(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut **tx)
            .await
            .map(|_| ())
    }
}

crate::backend::store_impl!(
    PostgresStore,
    sqlx::Postgres,
    Postgres,
    crate::migrate::POSTGRES,
    " FOR UPDATE",
    " FOR UPDATE SKIP LOCKED"
);

// Linking takes a per-service transaction lock, so two processes never both find no open
// incident for a service and each open one. (Ingestion batches lock their alert keys in the
// two-key lock space: see `postgres_ingest`.)
crate::alerts::alerts_impl!(
    PostgresStore,
    sqlx::Postgres,
    " FOR UPDATE",
    crate::link_reads::postgres,
    Some("SELECT pg_advisory_xact_lock(hashtext($1))")
);

// Page changes take one transaction lock, so two publishers never judge component statuses on
// a stale read.
crate::statuspage::statuspage_impl!(
    PostgresStore,
    sqlx::Postgres,
    " FOR UPDATE",
    "SELECT pg_advisory_xact_lock(hashtext('warroom.statuspage'))"
);

// Evidence is added under the incident's row lock; audit appends take one transaction lock,
// so replicas never fork the audit chain.
crate::evidence::evidence_impl!(PostgresStore, sqlx::Postgres, " FOR UPDATE");
crate::audit::audit_impl!(
    PostgresStore,
    sqlx::Postgres,
    "SELECT pg_advisory_xact_lock(hashtext('warroom.audit'))"
);
crate::indicators::indicators_impl!(PostgresStore, sqlx::Postgres, " FOR UPDATE");

/// Ends every session on the pool's database but the one asking, and waits (up to 5 s) until
/// each has gone, as a restart or failover would; at least one must have been open.
#[cfg(test)]
pub(crate) async fn end_other_sessions(pool: &sqlx::PgPool) {
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(pool)
    .await
    .expect("sessions ended");
    assert!(!ended.is_empty() && ended.iter().all(|e| *e), "{ended:?}");
}

#[cfg(test)]
mod tests {
    use super::end_other_sessions;
    use crate::AuditStore;

    async fn fresh_store() -> super::PostgresStore {
        let cluster = crate::testing::PgCluster::shared().expect("postgres cluster");
        let url = cluster.fresh_database().await.expect("database");
        super::PostgresStore::connect(&url).await.expect("store")
    }

    /// One write through the pool.
    async fn write(store: &super::PostgresStore) -> Result<(), crate::StoreError> {
        store
            .append_audit(vec![warroom_core::audit::NewAuditEntry {
                at: "2026-11-27T01:00:00Z".parse().expect("time"),
                actor: "test".into(),
                action: warroom_core::audit::AuditAction::CredentialChange,
                target: "tok_x".into(),
                source: "127.0.0.1".into(),
                outcome: "ok".into(),
            }])
            .await
            .map(|_| ())
    }

    /// After a restart every kept connection is dead; the pool finds out before handing one
    /// out, so no request fails for it.
    #[tokio::test]
    async fn pooled_connections_the_server_closed_are_replaced() {
        let store = fresh_store().await;
        // Two connections kept: one to ask, at least one to end.
        let mut a = store.pool.acquire().await.expect("connection");
        let mut b = store.pool.acquire().await.expect("connection");
        a.return_to_pool().await;
        b.return_to_pool().await;
        assert!(store.pool.num_idle() >= 2, "the pool kept both");
        // The asking connection goes back to the pool alive.
        end_other_sessions(&store.pool).await;
        for n in 0..3 {
            write(&store)
                .await
                .unwrap_or_else(|e| panic!("write {n} after the sessions ended: {e}"));
        }
    }

    /// The pool drops a kept session that no longer takes writes (what a primary demoted to a
    /// standby keeps) instead of failing the next write on it.
    #[tokio::test]
    async fn pooled_sessions_that_no_longer_take_writes_are_replaced() {
        let store = fresh_store().await;
        // Every connection of the pool turns read-only. Counted by the pool's size, not its idle
        // ones: a connection that start-up used may still be on its way back to the pool.
        let mut held = Vec::new();
        while held.len() < store.pool.size() as usize {
            let mut conn = store.pool.acquire().await.expect("connection");
            sqlx::raw_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .execute(&mut *conn)
                .await
                .expect("read-only session");
            held.push(conn);
        }
        assert!(!held.is_empty(), "the pool kept a connection");
        let kept = held.len();
        for mut conn in held {
            conn.return_to_pool().await;
        }
        assert_eq!(store.pool.num_idle(), kept, "all of them idle again");
        write(&store)
            .await
            .expect("the write goes to a session that takes writes");
    }
}
