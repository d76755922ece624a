//! The embedded SQLite backend: one file, WAL, every commit flushed to disk before it is
//! acknowledged (after the write lock is released: see `SqliteStore::commit`).

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
    /// Taken by whoever starts a write transaction in this process: sqlx writers only while
    /// their `BEGIN IMMEDIATE` runs, the ingestion writer for its whole batch. So ingestion
    /// never needs the sqlx writer connection (whose return to the pool costs a round trip to
    /// its thread), and a sqlx writer waits for at most one batch before it holds SQLite's
    /// write lock; the ingestion writer then waits on that lock (see `sqlite_ingest`).
    gate: Arc<tokio::sync::Mutex<()>>,
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
/// and answers its requests only after `fsync` of the log file has returned. The commit and
/// the flush are separate steps so that the flush need not hold the store's write gate: other
/// writers of this process go ahead while the disk flushes. This is sound because the log is
/// written in commit order and recovery replays a prefix of it: a flush covers every commit
/// written before it, and whatever a later durable commit depends on was written before that
/// commit. The log is only reset after a checkpoint has synced its pages into the database
/// file.
#[derive(Debug)]
pub(crate) struct WalFile {
    path: std::path::PathBuf,
    /// Our descriptor of the log and the inode it was opened on.
    file: std::sync::Mutex<Option<(std::fs::File, u64)>>,
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
        // One `stat` per flush (the writer's serial path): the inode our descriptor was opened
        // on is remembered rather than asked for again.
        let current = std::fs::metadata(&self.path)?.ino();
        if !matches!(slot.as_ref(), Some((_, ino)) if *ino == current) {
            let file = std::fs::OpenOptions::new().read(true).open(&self.path)?;
            // Its own inode, not `current`: the file may have been replaced in between.
            let ino = file.metadata()?.ino();
            *slot = Some((file, ino));
        }
        match slot.as_ref() {
            Some((file, _)) => file.sync_data(),
            None => Err(std::io::Error::other("the log file is not open")),
        }
    }
}

/// SQLite's ingestion writer without the async runtime: commits under the store's write gate
/// on the caller's thread, and flushes the log there too.
struct BlockingWriter {
    conn: Arc<std::sync::Mutex<crate::sqlite_ingest::IngestConn>>,
    wal: Arc<WalFile>,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl crate::alerts::BlockingIngest for BlockingWriter {
    fn commit(
        &self,
        items: &[crate::alerts::IngestItem],
    ) -> Result<Vec<crate::alerts::IngestOutcome>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let _gate = self.gate.blocking_lock();
        self.conn
            .lock()
            .map_err(|_| StoreError::Sqlite("the ingestion connection was poisoned".into()))?
            .ingest(items)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.wal
            .sync()
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))
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
            // Commits are flushed after the write lock is released (see `commit`).
            .connect_with(
                options
                    .pragma("wal_autocheckpoint", "0")
                    .synchronous(SqliteSynchronous::Normal),
            )
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
            gate: Arc::default(),
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
        use sqlx::SqlSafeStr;
        // The connection first: waiting for the previous transaction to end keeps nobody out.
        let conn = self.writer.acquire().await?;
        let _gate = self.gate.lock().await;
        sqlx::Transaction::begin(conn, Some("BEGIN IMMEDIATE".into_sql_str())).await
    }

    /// Commits a write transaction from [`Self::begin`], then flushes the log before the
    /// caller hears of it, so a commit is on disk before anyone is told.
    ///
    /// The writer connection commits with `synchronous=NORMAL`: written to the log, not yet
    /// flushed, so the flush happens after SQLite's write lock is released. Flushing inside
    /// the commit (`FULL`) held the lock through the `fsync`, and an `fsync` that met the disk
    /// busy with a checkpoint's writes took tens to hundreds of milliseconds, while every
    /// ingestion batch waited for the lock. This is sound for the same reason as ingestion's
    /// flush (see [`WalFile`]).
    async fn commit(&self, tx: sqlx::Transaction<'static, sqlx::Sqlite>) -> Result<(), StoreError> {
        tx.commit().await?;
        self.sync_log().await
    }

    /// Commits an ingestion batch on the ingestion writer (see `sqlite_ingest`) and flushes the
    /// log. A database without a log file (in memory) takes the ordinary sqlx path.
    async fn ingest_batch(
        &self,
        items: &[crate::alerts::IngestItem],
    ) -> Result<Vec<crate::alerts::IngestOutcome>, StoreError> {
        let (Some(conn), Some(_)) = (&self.ingest_conn, &self.wal) else {
            return self.ingest_sqlx(items).await;
        };
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // The sqlx writer connection too, not only the gate: no write transaction of this
        // process may be holding SQLite's lock while the batch waits for it on this thread,
        // which on a single-threaded runtime is the thread that transaction needs to finish.
        let writer = self.writer.acquire().await?;
        let gate = self.gate.lock().await;
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
        drop(gate);
        drop(writer);
        self.sync_log().await?;
        Ok(outcomes)
    }

    /// The ingestion writer for threads of its own (none for a database in memory).
    fn blocking_ingest_writer(&self) -> Option<Arc<dyn crate::alerts::BlockingIngest>> {
        let (Some(conn), Some(wal)) = (&self.ingest_conn, &self.wal) else {
            return None;
        };
        Some(Arc::new(BlockingWriter {
            conn: conn.clone(),
            wal: wal.clone(),
            gate: self.gate.clone(),
        }))
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

// One writer at a time already serialises linking on SQLite.
crate::alerts::alerts_impl!(
    SqliteStore,
    sqlx::Sqlite,
    "",
    crate::link_reads::sqlite,
    None
);

// SQLite's single writer already serialises page changes; the statement is a no-op.
crate::statuspage::statuspage_impl!(SqliteStore, sqlx::Sqlite, "", "SELECT 1");

// SQLite's single writer already serialises evidence and audit appends.
crate::evidence::evidence_impl!(SqliteStore, sqlx::Sqlite, "");
crate::audit::audit_impl!(SqliteStore, sqlx::Sqlite, "SELECT 1");
crate::indicators::indicators_impl!(SqliteStore, sqlx::Sqlite, "");

/// Ingestion through sqlx, for a database without a log file (in memory): one transaction per
/// batch, which SQLite's single writer serialises, so a batch needs no key locks.
impl SqliteStore {
    async fn ingest_sqlx(
        &self,
        items: &[crate::alerts::IngestItem],
    ) -> Result<Vec<crate::alerts::IngestOutcome>, StoreError> {
        use crate::alerts::{
            BatchKeys, ROWS_PER_STATEMENT, plan_batch, routed_from_row, select_in,
            threshold_from_json, to_json,
        };
        use sqlx::{QueryBuilder, Row};
        use warroom_core::alert_incident::RoutedAlert;

        if items.is_empty() {
            return Ok(Vec::new());
        }
        let keys = BatchKeys::of(items);
        let mut tx = self.begin().await?;
        let mut open = crate::alerts::OpenAlerts::new();
        for chunk in keys.alerts.chunks(ROWS_PER_STATEMENT) {
            let mut qb = select_in::<sqlx::Sqlite>(
                "SELECT akey, incident_id, link, state FROM alerts
                 WHERE status <> 'resolved' AND akey IN (",
                chunk,
            );
            for row in qb.build().fetch_all(&mut *tx).await? {
                let routed = routed_from_row(
                    &row.try_get::<String, _>("state")?,
                    row.try_get("incident_id")?,
                )?;
                open.insert(row.try_get("akey")?, (routed, row.try_get("link")?));
            }
        }
        let mut counters = std::collections::HashMap::new();
        for chunk in keys.gates.chunks(ROWS_PER_STATEMENT) {
            let mut qb = select_in::<sqlx::Sqlite>(
                "SELECT key, state FROM alert_thresholds WHERE key IN (",
                chunk,
            );
            for row in qb.build().fetch_all(&mut *tx).await? {
                let state: String = row.try_get("state")?;
                counters.insert(
                    row.try_get::<String, _>("key")?,
                    threshold_from_json(&state)?,
                );
            }
        }
        let plan = plan_batch(items, open, counters)?;
        let rows: Vec<(&RoutedAlert, String, &str)> = plan
            .alerts
            .iter()
            .map(|(r, k, l)| (r, k.clone(), l.as_str()))
            .collect();
        Self::upsert_alerts(&mut tx, &rows).await?;
        Self::insert_alert_events(&mut tx, &plan.events).await?;
        if let Some(at) = plan.thresholds_at {
            for chunk in plan.thresholds.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO alert_thresholds (key, state, updated_at) ",
                );
                let mut states = Vec::with_capacity(chunk.len());
                for (key, state) in chunk {
                    states.push((key.clone(), to_json(state)?));
                }
                qb.push_values(states, |mut b, (key, json)| {
                    b.push_bind(key)
                        .push_bind(json)
                        .push_bind(crate::backend::micros(at));
                });
                qb.push(
                    " ON CONFLICT (key) DO UPDATE SET state = excluded.state,
                       updated_at = excluded.updated_at",
                );
                qb.build().execute(&mut *tx).await?;
            }
        }
        self.commit(tx).await?;
        Ok(plan.outcomes)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::WalFile;

    fn held_inode(wal: &WalFile) -> Option<u64> {
        wal.file
            .lock()
            .expect("not poisoned")
            .as_ref()
            .map(|(_, ino)| *ino)
    }

    #[test]
    fn the_log_is_opened_again_only_when_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("warroom.db-wal");
        std::fs::write(&path, b"first log").expect("write");
        let wal = WalFile {
            path: path.clone(),
            file: std::sync::Mutex::new(None),
        };
        wal.sync().expect("synced");
        let first = held_inode(&wal).expect("opened");
        assert_eq!(first, std::fs::metadata(&path).expect("stat").ino());
        wal.sync().expect("synced again");
        assert_eq!(held_inode(&wal), Some(first));

        // A new file under the same name (our descriptor keeps the old inode alive, so the
        // new one cannot reuse its number): the flush must reach the new file.
        std::fs::remove_file(&path).expect("removed");
        std::fs::write(&path, b"second log").expect("write");
        wal.sync().expect("synced the new file");
        let second = held_inode(&wal).expect("opened");
        assert_ne!(second, first);
        assert_eq!(second, std::fs::metadata(&path).expect("stat").ino());

        // No log at all is an error, not a flush of a stale descriptor.
        std::fs::remove_file(&path).expect("removed");
        assert!(wal.sync().is_err());
    }
}
