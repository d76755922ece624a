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
    /// The write-ahead log, for ingestion batches made durable after their commit.
    wal: Option<Arc<WalFile>>,
    /// The ingestion writer's own connection (none for a database in memory).
    ingest_conn: Option<Arc<std::sync::Mutex<crate::sqlite_ingest::IngestConn>>>,
    /// Dropped with the last clone of the store, which stops the checkpointer.
    _alive: Arc<()>,
}

/// The database's write-ahead log file, synced by ingestion after its batches commit.
///
/// Ingestion commits a batch with `synchronous=NORMAL` (written to the log, not yet flushed)
/// and answers its requests only after `fsync` of the log file has returned, which a separate
/// task does for all batches committed meanwhile. The single writer therefore never waits for
/// the disk: while one flush runs it commits the next batches, and one flush makes all of them
/// durable (group commit across transactions). This is sound because the log is written in
/// commit order and recovery replays a prefix of it: a flush covers every commit written
/// before it, and whatever a later durable commit depends on was written before that commit.
/// The log is only reset after a checkpoint has synced its pages into the database file.
#[derive(Debug)]
pub(crate) struct WalFile {
    path: std::path::PathBuf,
    file: std::sync::Mutex<Option<std::fs::File>>,
}

impl WalFile {
    /// Flushes the log file to disk. `fsync` applies to the file, whichever descriptor wrote
    /// it, so our own descriptor serves; it is opened again if the file was replaced.
    fn sync(&self) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let mut slot = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the log file handle was poisoned"))?;
        let current = std::fs::metadata(&self.path)?.ino();
        let stale = match slot.as_ref() {
            Some(f) => f.metadata()?.ino() != current,
            None => true,
        };
        if stale {
            *slot = Some(std::fs::OpenOptions::new().read(true).open(&self.path)?);
        }
        match slot.as_ref() {
            Some(f) => f.sync_data(),
            None => Err(std::io::Error::other("the log file is not open")),
        }
    }
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
        let filename = options.get_filename().to_path_buf();
        // A connection to a local file does not go stale: no ping (a round trip to the
        // connection's thread) before each use.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            // Keep the writer for the life of the process.
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            // Checkpoints run beside the writer (below), not inside whichever commit happens
            // to cross the threshold, where they would stall a whole batch of requests.
            .connect_with(options.pragma("wal_autocheckpoint", "0"))
            .await?;
        let alive = Arc::new(());
        // An in-memory database has no log file: its ingestion commits are as durable as it is.
        let filename = filename.as_path();
        let wal = (!filename.as_os_str().is_empty()
            && filename != std::path::Path::new(":memory:"))
        .then(|| {
            let mut path = filename.as_os_str().to_owned();
            path.push("-wal");
            Arc::new(WalFile {
                path: path.into(),
                file: std::sync::Mutex::new(None),
            })
        });
        let store = Self {
            pool,
            writer,
            notifier: crate::NotifierSlot::default(),
            wal,
            ingest_conn: None,
            _alive: alive.clone(),
        };
        store.migrate().await?;
        // Opened after the migrations, so it sees the whole schema.
        let mut store = store;
        if store.wal.is_some() {
            let conn = crate::sqlite_ingest::IngestConn::open(filename)?;
            store.ingest_conn = Some(Arc::new(std::sync::Mutex::new(conn)));
        }
        tokio::spawn(checkpoint_wal(store.pool.clone(), Arc::downgrade(&alive)));
        Ok(store)
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        // IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading
        // from a read lock.
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// Commits an ingestion batch on the ingestion writer (see `sqlite_ingest`), flushing the
    /// log before returning when `durable`. A database without a log file (in memory) takes
    /// the ordinary sqlx path.
    async fn ingest_batch(
        &self,
        items: &[crate::alerts::IngestItem],
        durable: bool,
    ) -> Result<Vec<crate::alerts::IngestOutcome>, StoreError> {
        let (Some(conn), Some(_)) = (&self.ingest_conn, &self.wal) else {
            return self.ingest_sqlx(items).await;
        };
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // Holding the one sqlx writer connection keeps every other writer of this process out
        // while the batch writes.
        let writer = self.writer.acquire().await?;
        let run = || {
            conn.lock()
                .map_err(|_| StoreError::Sqlite("the ingestion connection was poisoned".into()))?
                .ingest(items)
        };
        // The batch blocks (SQLite is synchronous): on the multi-threaded runtime this worker
        // hands its other tasks over first; a single-threaded runtime (tests) just waits.
        let outcomes = match tokio::runtime::Handle::current().runtime_flavor() {
            tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(run),
            _ => run(),
        }?;
        // The next writer need not wait for the disk: the flush covers this commit whoever
        // writes meanwhile.
        drop(writer);
        if durable {
            self.sync_log().await?;
        }
        Ok(outcomes)
    }

    /// Flushes the write-ahead log (see [`WalFile`]).
    async fn sync_log(&self) -> Result<(), StoreError> {
        let Some(wal) = self.wal.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || wal.sync())
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))
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
