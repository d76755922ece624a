//! The embedded SQLite backend: one file, WAL, full fsync on commit.

use std::str::FromStr;
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
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let store = Self {
            pool,
            writer,
            notifier: crate::NotifierSlot::default(),
        };
        store.migrate().await?;
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
// service parameter.
crate::alerts::alerts_impl!(SqliteStore, sqlx::Sqlite, "", "SELECT $1");
