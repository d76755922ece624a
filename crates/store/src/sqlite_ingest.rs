//! SQLite's alert ingestion writer: a connection of its own (rusqlite) that commits a whole
//! batch in one blocking call.
//!
//! Through sqlx every statement is a round trip to the connection's worker thread, and on this
//! kind of machine the thread wake-ups of a batch's half a dozen statements cost more than
//! SQLite's own work. Here the batch runs start to finish on one thread with cached prepared
//! statements. It only writes while the store holds its single sqlx writer connection, so the
//! two never meet SQLite's file lock (whose busy handler polls with sleeps); other processes on
//! the same file still wait on the lock with the usual busy timeout.
//!
//! Commits use `synchronous=NORMAL`: written to the write-ahead log, not yet flushed. The store
//! flushes the log before anyone hears of the batch (see `WalFile` in `sqlite.rs`).
//!
//! This connection also checkpoints the log once it holds [`CHECKPOINT_PAGES`] pages, right
//! after a commit. Only a checkpoint run between two of the writer's own transactions can
//! catch up with it, and only a log that was wholly checkpointed starts again from its
//! beginning: left to the background checkpointer alone, a steady stream of batches grew the
//! log by hundreds of megabytes, and every commit then paid for new file pages and every flush
//! for the file's new size.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use warroom_core::alert::routing::ThresholdState;

use crate::StoreError;
use crate::alerts::{
    BatchKeys, IngestItem, IngestOutcome, OpenAlerts, plan_batch, routed_from_row,
    threshold_from_json, to_json,
};
use crate::backend::micros;

/// Statements kept prepared.
const CACHED_STATEMENTS: usize = 16;

/// Log pages after which a commit checkpoints (about 16 MiB). Four times SQLite's default: a
/// batch rewrites mostly the same few hot pages (the last leaf of each table and index), which
/// a checkpoint copies once however many batches wrote them, so fewer, longer logs copy fewer
/// pages in all. In a storm this cut the writer's commit time by about a fifth
/// (PERFORMANCE.md).
const CHECKPOINT_PAGES: u32 = 4_000;

/// The log is cut back to this size when it starts again after a burst made it longer.
const LOG_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Pages of this connection's cache (4 KiB each): the alert indexes a batch touches.
const CACHE_PAGES: u32 = 4_096;

/// How long a batch waits for SQLite's write lock before it fails.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// Between two tries for the write lock. In this process only a sqlx write transaction holds
/// it while a batch wants it (the store's write gate sees to that), for a few milliseconds at
/// most, so a short poll answers sooner than SQLite's own handler, which sleeps up to 100 ms.
const LOCK_POLL: Duration = Duration::from_micros(100);

fn wait_for_lock(attempts: i32) -> bool {
    let waited = u128::try_from(attempts).unwrap_or(u128::MAX) * LOCK_POLL.as_micros();
    if waited >= LOCK_WAIT.as_micros() {
        return false;
    }
    std::thread::sleep(LOCK_POLL);
    true
}

/// The ingestion writer's connection.
pub(crate) struct IngestConn {
    conn: Connection,
}

impl std::fmt::Debug for IngestConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestConn").finish_non_exhaustive()
    }
}

fn sqlite_error(err: rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        // Another process opened an alert for one of the batch's keys first: the caller
        // re-reads and retries, as with PostgreSQL.
        Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(err.to_string()),
        _ => StoreError::Sqlite(err.to_string()),
    }
}

impl IngestConn {
    /// Opens the (already migrated) database file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_error)?;
        conn.busy_handler(Some(wait_for_lock))
            .map_err(sqlite_error)?;
        // The file is in WAL mode already (the sqlx pool set it); this connection's commits
        // are flushed by the store (see the module doc).
        let checkpoint = CHECKPOINT_PAGES.to_string();
        let log_limit = LOG_SIZE_LIMIT.to_string();
        let cache = CACHE_PAGES.to_string();
        for (name, value) in [
            ("synchronous", "NORMAL"),
            ("foreign_keys", "ON"),
            ("temp_store", "MEMORY"),
            ("wal_autocheckpoint", checkpoint.as_str()),
            ("journal_size_limit", log_limit.as_str()),
            ("cache_size", cache.as_str()),
        ] {
            conn.pragma_update(None, name, value)
                .map_err(sqlite_error)?;
        }
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .map_err(sqlite_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sqlite(format!(
                "the database is in {mode} journal mode, not WAL"
            )));
        }
        conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
        Ok(Self { conn })
    }

    /// Commits `items` in one transaction (not flushed; see the module doc).
    pub(crate) fn ingest(
        &mut self,
        items: &[IngestItem],
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite_error)?;
        let keys = BatchKeys::of(items);
        let open = open_alerts(&tx, &keys.alerts)?;
        let counters = thresholds(&tx, &keys.gates)?;
        let plan = plan_batch(items, open, counters)?;
        {
            let mut upsert = tx
                .prepare_cached(concat!(
                    crate::alerts::alert_upsert_head!(),
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    crate::alerts::alert_upsert_tail!(),
                ))
                .map_err(sqlite_error)?;
            for (routed, key, link) in &plan.alerts {
                let a = &routed.alert;
                let state = to_json(routed)?;
                upsert
                    .execute(params![
                        a.id,
                        key,
                        a.status.as_str(),
                        a.service,
                        a.severity.as_str(),
                        a.incident_id,
                        link,
                        micros(a.first_seen),
                        micros(a.last_seen),
                        state
                    ])
                    .map_err(sqlite_error)?;
            }
            let mut log = tx
                .prepare_cached(
                    "INSERT INTO alert_events (alert_id, received_at, outcome, body)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sqlite_error)?;
            for (alert, at, outcome, body) in &plan.events {
                log.execute(params![alert, micros(*at), outcome, body])
                    .map_err(sqlite_error)?;
            }
            if let Some(at) = plan.thresholds_at {
                let mut write = tx
                    .prepare_cached(
                        "INSERT INTO alert_thresholds (key, state, updated_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key) DO UPDATE SET state = excluded.state,
                            updated_at = excluded.updated_at",
                    )
                    .map_err(sqlite_error)?;
                for (key, state) in &plan.thresholds {
                    let json = to_json(state)?;
                    write
                        .execute(params![key, json, micros(at)])
                        .map_err(sqlite_error)?;
                }
            }
        }
        tx.commit().map_err(sqlite_error)?;
        Ok(plan.outcomes)
    }
}

/// The open alert of each key (the partial unique index `alerts_open_key` answers each).
fn open_alerts(conn: &Connection, keys: &[String]) -> Result<OpenAlerts, StoreError> {
    let mut out = HashMap::new();
    let mut read = conn
        .prepare_cached(
            "SELECT id, incident_id, link, state FROM alerts
             WHERE akey = ?1 AND status <> 'resolved'",
        )
        .map_err(sqlite_error)?;
    for key in keys {
        let row = read
            .query_row(params![key], |r| {
                Ok((
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .optional()
            .map_err(sqlite_error)?;
        if let Some((incident_id, link, state)) = row {
            out.insert(key.clone(), (routed_from_row(&state, incident_id)?, link));
        }
    }
    Ok(out)
}

fn thresholds(
    conn: &Connection,
    keys: &[String],
) -> Result<HashMap<String, ThresholdState>, StoreError> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let mut read = conn
        .prepare_cached("SELECT state FROM alert_thresholds WHERE key = ?1")
        .map_err(sqlite_error)?;
    for key in keys {
        let state: Option<String> = read
            .query_row(params![key], |r| r.get(0))
            .optional()
            .map_err(sqlite_error)?;
        if let Some(state) = state {
            out.insert(key.clone(), threshold_from_json(&state)?);
        }
    }
    Ok(out)
}
