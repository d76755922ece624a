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

/// Advisory lock key held while migrating, so replicas starting together migrate once.
const MIGRATION_LOCK: i64 = 0x5741_5252_4f4f_4d00;

impl PostgresStore {
    /// Connects to and migrates the database at `url`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // The pool keeps sqlx's ping before handing out a connection (one more round trip
            // per transaction): without it, after a PostgreSQL restart every dead connection
            // in the pool failed one API request. Ingestion batches, where the round trip
            // mattered, run on connections of their own (see `postgres_ingest`).
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
