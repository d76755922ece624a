//! The embedded SQLite backend: one file, WAL, full fsync on commit.

use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::StoreError;

/// Store on a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    /// One connection for write transactions: writers in this process wait their turn in the
    /// pool's queue instead of polling SQLite's file lock with sleeps (which made p99 latency
    /// jump under concurrent writes). Other processes on the same file still meet the lock,
    /// with the busy timeout.
    writer: sqlx::SqlitePool,
    notifier: crate::NotifierSlot,
    /// Dropped with the last clone of the store, which stops the checkpointer.
    _alive: Arc<()>,
}

/// How often the write-ahead log is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copies committed pages from the write-ahead log into the database file in the background
/// (`PASSIVE`: never waits for, or blocks, the writer), so the log stays short without any
/// commit paying for a checkpoint. Stops when the store is dropped.
async fn checkpoint_wal(pool: sqlx::SqlitePool, alive: Weak<()>) {
    let mut interval = tokio::time::interval(CHECKPOINT_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if alive.upgrade().is_none() {
            pool.close().await;
            return;
        }
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %err, "checkpointing the SQLite write-ahead log failed; retrying");
        }
    }
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://PATH`).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A 2xx means committed: fsync every commit.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Writers queue on the file lock rather than failing under load.
            .busy_timeout(Duration::from_secs(30))
            // Statement journals of multi-row upserts stay in memory instead of a temporary
            // file created and unlinked per statement.
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Keep the writer for the life of the process.
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            // Checkpoints run beside the writer (below), not inside whichever commit happens
            // to cross the threshold, where they would stall a whole batch of requests.
            .connect_with(options.pragma("wal_autocheckpoint", "0"))
            .await?;
        let alive = Arc::new(());
        let store = Self {
            pool,
            writer,
            notifier: crate::NotifierSlot::default(),
            _alive: alive.clone(),
        };
        store.migrate().await?;
        tokio::spawn(checkpoint_wal(store.pool.clone(), Arc::downgrade(&alive)));
        Ok(store)
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        // IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading
        // from a read lock.
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    async fn migration_lock(
        _tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    ) -> Result<(), sqlx::Error> {
        // BEGIN IMMEDIATE already excludes every other writer.
        Ok(())
    }
}

crate::backend::store_impl!(
    SqliteStore,
    sqlx::Sqlite,
    Sqlite,
    crate::migrate::SQLITE,
    "",
    ""
);

// One writer at a time already serialises linking on SQLite; the statement only consumes the
// service parameter, and batches need no key locks.
crate::alerts::alerts_impl!(SqliteStore, sqlx::Sqlite, "", "SELECT $1", "");

// SQLite's single writer already serialises page changes; the statement is a no-op.
crate::statuspage::statuspage_impl!(SqliteStore, sqlx::Sqlite, "", "SELECT 1");

// SQLite's single writer already serialises evidence and audit appends.
crate::evidence::evidence_impl!(SqliteStore, sqlx::Sqlite, "");
crate::audit::audit_impl!(SqliteStore, sqlx::Sqlite, "SELECT 1");
crate::indicators::indicators_impl!(SqliteStore, sqlx::Sqlite, "");
