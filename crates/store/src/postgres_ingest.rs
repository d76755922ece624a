//! PostgreSQL's alert ingestion batch: three round trips to the server, whatever the batch
//! holds, on connections kept for it.
//!
//! Much of a batch's cost on a small machine is its round trips rather than PostgreSQL's work:
//! each one wakes the server's backend and then this process again (half of PostgreSQL's CPU
//! time in profiles was the kernel's, sending and waking). Batches used to make seven: the
//! pool's ping, begin, key locks, read, two inserts, commit (and the pool pinged again on
//! release). Here:
//!
//! 1. `BEGIN`, the batch's key locks and the read of its open alerts (rows locked) go as one
//!    simple query; the threshold counters, when the batch has any, take a fourth trip;
//! 2. one statement writes the alerts, the event log and the counters (three inserts in a
//!    `WITH`);
//! 3. `COMMIT`.
//!
//! The key locks must come in a statement before the read: a statement reads the database as
//! it was when it started, and a lock it waited for inside itself would not make it see the
//! alert the lock's previous holder just committed. In one simple query each statement still
//! starts after the one before has finished, so the read sees what the locks waited for.
//!
//! A simple query has no parameters, so the first trip carries its values in the text: the
//! lock keys are integers computed here, and the alert keys are dollar-quoted with a tag that
//! none of them contains, which PostgreSQL takes verbatim whatever they hold (see
//! [`quoted`]). The write keeps its parameters.
//!
//! Batches run on connections of their own rather than the pool's: the pool checks a
//! connection before handing it out and pings it again when it comes back, two more round
//! trips per batch, and a connection in the middle of a hand-made transaction must never reach anyone
//! else.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Connection, Postgres, QueryBuilder, Row};
use warroom_core::alert::routing::ThresholdState;

use crate::StoreError;
use crate::alerts::{
    BatchKeys, BatchPlan, IngestItem, IngestOutcome, OpenAlerts, plan_batch, routed_from_row,
    select_in, threshold_from_json, to_json,
};
use crate::backend::{conflict_if_aborted, conflict_or, micros};

/// The first key of ingestion's two-key advisory locks (services take one-key locks).
const LOCK_CLASS: i32 = 1;

/// Idle connections for ingestion batches, each with when it was opened: one per writer that
/// has run a batch, at most.
#[derive(Debug)]
pub(crate) struct IngestConnections {
    options: PgConnectOptions,
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    max_lifetime: Duration,
}

impl IngestConnections {
    pub(crate) fn new(options: PgConnectOptions) -> Self {
        Self::with_lifetime(options, crate::postgres::CONNECTION_LIFETIME)
    }

    fn with_lifetime(options: PgConnectOptions, max_lifetime: Duration) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::new()),
            max_lifetime,
        }
    }

    /// A kept connection young enough to reuse (older ones are closed), or a new one.
    async fn take(&self) -> Result<(PgConnection, Instant), StoreError> {
        let kept = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        match kept {
            Some((conn, opened)) if opened.elapsed() < self.max_lifetime => Ok((conn, opened)),
            Some((conn, _)) => {
                // A polite goodbye; a connection that cannot say it is gone anyway.
                let _ = conn.close().await;
                self.connect().await
            }
            None => self.connect().await,
        }
    }

    /// Commits `items` as one transaction.
    pub(crate) async fn ingest(
        &self,
        items: &[IngestItem],
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let (mut conn, mut opened) = self.take().await?;
        let mut result = ingest_on(&mut conn, items).await;
        if let Err(failed) = &result
            && !failed.commit_sent
            && session_unusable(&failed.error)
        {
            // The server closed this idle connection (a restart, a failover, an idle timeout),
            // or keeps it open but will no longer write on it. No `COMMIT` was sent, so
            // nothing of the batch is stored, and the batch runs again once on a new
            // connection; the old one is dropped, which ends its session. (After a `COMMIT`
            // was sent the batch may have committed: that failure goes back to the senders.)
            (conn, opened) = self.connect().await?;
            result = ingest_on(&mut conn, items).await;
        }
        // A connection goes back only outside any transaction; one that cannot even roll back
        // is dropped (and so closed), and the next batch connects anew.
        let clean = match &result {
            Ok(_) => true,
            Err(_) => sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.is_ok(),
        };
        if clean && let Ok(mut idle) = self.idle.lock() {
            idle.push((conn, opened));
        }
        result.map_err(|failed| failed.error)
    }

    /// A new connection, waiting at most as long as the pool's acquire: while the server is
    /// unreachable, batches fail (and senders retry) instead of queueing behind a connect that
    /// hangs.
    async fn connect(&self) -> Result<(PgConnection, Instant), StoreError> {
        let connect = PgConnection::connect_with(&self.options);
        let conn = tokio::time::timeout(crate::postgres::CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| {
                StoreError::Database(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connecting to PostgreSQL for an ingestion batch timed out",
                )))
            })?
            .map_err(StoreError::Database)?;
        // A monotonic age for the lifetime above; it decides nothing about the data.
        Ok((conn, Instant::now()))
    }
}

/// Why a batch failed, and whether its `COMMIT` had been sent (after which it may have
/// committed, whatever the error).
#[derive(Debug)]
struct Failed {
    error: StoreError,
    commit_sent: bool,
}

/// Whether `error` says a new connection may succeed where this one failed: the connection is
/// gone (an I/O error, or the server ending the session: SQLSTATE class 08, connection
/// exception; 57P01 and 57P02, shutdown; 57P05, the server's `idle_session_timeout`, which a
/// kept connection meets between quiet spells), or the session can no longer write (25006: a
/// primary that became a standby keeps its sessions, read-only, and a new connection through
/// the same address may reach the new primary).
fn session_unusable(error: &StoreError) -> bool {
    match error {
        StoreError::Database(sqlx::Error::Io(_)) => true,
        StoreError::Database(sqlx::Error::Database(db)) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P05" | "25006")
        }),
        _ => false,
    }
}

/// One batch on `conn`, which it leaves in a transaction when it fails.
async fn ingest_on(
    conn: &mut PgConnection,
    items: &[IngestItem],
) -> Result<Vec<IngestOutcome>, Failed> {
    let keys = BatchKeys::of(items);
    let prepared = async {
        let open = lock_and_read(conn, &keys.locks, &keys.alerts).await?;
        let counters = thresholds(conn, &keys.gates).await?;
        let plan = plan_batch(items, open, counters)?;
        write(conn, &plan).await?;
        Ok::<_, StoreError>(plan.outcomes)
    };
    let outcomes = prepared.await.map_err(|error| Failed {
        error: conflict_if_aborted(error),
        commit_sent: false,
    })?;
    sqlx::raw_sql("COMMIT")
        .execute(&mut *conn)
        .await
        .map_err(|error| Failed {
            error: conflict_if_aborted(error.into()),
            commit_sent: true,
        })?;
    Ok(outcomes)
}

/// A lock key for an alert or threshold key. It is a stable hash (FNV-1a), the same in every
/// process and release, so that replicas lock the same key the same way; two keys that share
/// one only wait for each other.
fn lock_key(key: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in key.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i32::from_ne_bytes(hash.to_ne_bytes())
}

/// `BEGIN`, the advisory locks of `locks` and the locked read of the open alerts of `keys`, as
/// one simple query. The locks are taken in ascending order, so that two batches sharing keys
/// never each hold one the other waits for; a select list without a `FROM` (evaluated left to
/// right) costs PostgreSQL next to nothing to plan, where a sorted `unnest` cost more to plan
/// on every batch than to run.
fn lock_and_read_sql(locks: &[String], keys: &[String]) -> String {
    let mut hashes: Vec<i32> = locks.iter().map(|k| lock_key(k)).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let calls: Vec<String> = hashes
        .iter()
        .map(|h| format!("pg_advisory_xact_lock({LOCK_CLASS}, {h})"))
        .collect();
    let tag = quote_tag(keys);
    let listed: Vec<String> = keys.iter().map(|k| quoted(k, &tag)).collect();
    format!(
        "BEGIN; SELECT {}; SELECT akey, incident_id, link, state FROM alerts \
         WHERE status <> 'resolved' AND akey IN ({}) FOR UPDATE",
        calls.join(", "),
        listed.join(", ")
    )
}

/// A dollar-quote tag that occurs in none of `values`. Inside `$tag$...$tag$` PostgreSQL takes
/// every character literally (quotes, backslashes, dollars) until the tag itself, so a value
/// that does not contain the tag cannot end its string early.
fn quote_tag(values: &[String]) -> String {
    (0u64..)
        .map(|n| format!("$k{n}$"))
        .find(|tag| !values.iter().any(|v| v.contains(tag.as_str())))
        .unwrap_or_else(|| "$k$".into())
}

/// `value` as a dollar-quoted literal with `tag` (from [`quote_tag`]).
fn quoted(value: &str, tag: &str) -> String {
    format!("{tag}{value}{tag}")
}

/// The open alert of each key, locked against the linking pass and against changes through
/// the API until the batch commits; the batch's transaction begins here.
async fn lock_and_read(
    conn: &mut PgConnection,
    locks: &[String],
    keys: &[String],
) -> Result<OpenAlerts, StoreError> {
    // The text protocol cannot carry a NUL byte, and PostgreSQL's text cannot hold one either
    // (the bound parameters of the other paths fail on it the same way).
    if keys.iter().any(|k| k.contains('\0')) {
        return Err(StoreError::Rejected(warroom_core::DomainError::Invalid {
            field: "dedup_key".into(),
            message: "must not contain a NUL character".into(),
        }));
    }
    let sql = lock_and_read_sql(locks, keys);
    let rows: Vec<PgRow> = sqlx::raw_sql(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    // The lock statement's one row comes first; the alerts are the rows with an `akey`.
    for row in rows.iter().filter(|r| r.try_column("akey").is_ok()) {
        let routed = routed_from_row(
            &row.try_get::<String, _>("state")?,
            row.try_get("incident_id")?,
        )?;
        out.insert(row.try_get("akey")?, (routed, row.try_get("link")?));
    }
    Ok(out)
}

async fn thresholds(
    conn: &mut PgConnection,
    keys: &[String],
) -> Result<HashMap<String, ThresholdState>, StoreError> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    // An `IN` list, not `= ANY($1)`: PostgreSQL plans the array form anew for every batch (its
    // generic plan guesses ten elements, so looks dearer than a custom one), and that planning
    // cost more than the read. A list of one length keeps one cheap generic plan.
    let mut qb = select_in::<Postgres>(
        "SELECT key, state FROM alert_thresholds WHERE key IN (",
        keys,
    );
    qb.push(" FOR UPDATE");
    for row in qb.build().fetch_all(&mut *conn).await? {
        let state: String = row.try_get("state")?;
        out.insert(row.try_get("key")?, threshold_from_json(&state)?);
    }
    Ok(out)
}

/// Writes what `plan` changed, in one statement of up to three inserts. (A batch holds at most
/// `MAX_BATCH` items, so its rows stay within the protocol's 65,535 parameters.)
///
/// Alert rows go in the plan's order, so an alert resolved in the batch is written before a new
/// alert re-opens its key under the unique index of open keys. (Arrays through `UNNEST` would
/// keep one statement text for every batch, but cost PostgreSQL more than these rows did.)
async fn write(conn: &mut PgConnection, plan: &BatchPlan) -> Result<(), StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new("WITH ");
    let mut parts = 0;
    if !plan.alerts.is_empty() {
        let mut rows = Vec::with_capacity(plan.alerts.len());
        for (routed, akey, link) in &plan.alerts {
            rows.push((&routed.alert, akey, link, to_json(routed)?));
        }
        qb.push(concat!(
            "alert_rows AS (",
            crate::alerts::alert_upsert_head!()
        ));
        qb.push_values(rows, |mut b, (a, akey, link, state)| {
            b.push_bind(a.id.as_str())
                .push_bind(akey.as_str())
                .push_bind(a.status.as_str())
                .push_bind(a.service.as_deref())
                .push_bind(a.severity.as_str())
                .push_bind(a.incident_id.as_deref())
                .push_bind(link.as_str())
                .push_bind(micros(a.first_seen))
                .push_bind(micros(a.last_seen))
                .push_bind(state);
        });
        qb.push(concat!(crate::alerts::alert_upsert_tail!(), ")"));
        parts += 1;
    }
    if !plan.events.is_empty() {
        if parts > 0 {
            qb.push(", ");
        }
        qb.push("event_rows AS (INSERT INTO alert_events (alert_id, received_at, outcome, body) ");
        qb.push_values(&plan.events, |mut b, (alert, at, outcome, body)| {
            b.push_bind(alert.as_deref())
                .push_bind(micros(*at))
                .push_bind(*outcome)
                .push_bind(body.as_str());
        });
        qb.push(")");
        parts += 1;
    }
    if let Some(at) = plan.thresholds_at
        && !plan.thresholds.is_empty()
    {
        let mut rows = Vec::with_capacity(plan.thresholds.len());
        for (key, state) in &plan.thresholds {
            rows.push((key, to_json(state)?));
        }
        if parts > 0 {
            qb.push(", ");
        }
        qb.push("threshold_rows AS (INSERT INTO alert_thresholds (key, state, updated_at) ");
        qb.push_values(rows, |mut b, (key, json)| {
            b.push_bind(key.as_str())
                .push_bind(json)
                .push_bind(micros(at));
        });
        qb.push(
            " ON CONFLICT (key) DO UPDATE SET state = excluded.state, \
             updated_at = excluded.updated_at)",
        );
        parts += 1;
    }
    if parts == 0 {
        return Ok(());
    }
    qb.push(" SELECT 1");
    qb.build().execute(&mut *conn).await.map_err(conflict_or)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_across_builds() {
        // Replicas of different builds on one database must lock a key the same way.
        assert_eq!(
            lock_key(""),
            i32::from_ne_bytes(0x811c_9dc5_u32.to_ne_bytes())
        );
        assert_eq!(
            lock_key("a"),
            i32::from_ne_bytes(0xe40c_292c_u32.to_ne_bytes())
        );
        assert_ne!(lock_key("int-1\nkey-1"), lock_key("int-1\nkey-2"));
    }

    #[test]
    fn locks_are_taken_once_each_in_ascending_order_before_the_read() {
        let locks = vec!["b".to_string(), "a".to_string(), "b".to_string()];
        let sql = lock_and_read_sql(&locks, &["a".to_string(), "b".to_string()]);
        let (a, b) = (lock_key("a"), lock_key("b"));
        let (low, high) = (a.min(b), a.max(b));
        assert_eq!(
            sql,
            format!(
                "BEGIN; SELECT pg_advisory_xact_lock(1, {low}), pg_advisory_xact_lock(1, {high}); \
                 SELECT akey, incident_id, link, state FROM alerts WHERE status <> 'resolved' \
                 AND akey IN ($k0$a$k0$, $k0$b$k0$) FOR UPDATE"
            )
        );
    }

    /// A store on a fresh database of the shared test cluster, and the database's URL.
    async fn fresh_store() -> (crate::PostgresStore, String) {
        let cluster = crate::testing::PgCluster::shared().expect("postgres cluster");
        let url = cluster.fresh_database().await.expect("database");
        let store = crate::PostgresStore::connect(&url).await.expect("store");
        (store, url)
    }

    /// Ingests trigger `n` (see `testing::trigger_item`), which must open alert `alr_{n}`.
    async fn opens(store: &crate::PostgresStore, n: usize, why: &str) {
        let done = store
            .ingest
            .ingest(&[crate::testing::trigger_item(n)])
            .await
            .expect(why);
        let id = format!("alr_{n}");
        assert!(
            matches!(&done[..], [IngestOutcome::Opened(opened)] if *opened == id),
            "{done:?}"
        );
    }

    /// A batch that fails inside its transaction leaves nothing behind, and its connection,
    /// rolled back, carries the next batch (one left in the failed transaction would refuse
    /// every statement).
    #[tokio::test]
    async fn a_failed_batch_rolls_back_and_its_connection_serves_the_next() {
        use crate::testing::trigger_item;
        let (store, _) = fresh_store().await;
        // Test-only: the event log refuses one alert's events, after the alert row is written.
        sqlx::raw_sql(
            "CREATE FUNCTION refuse_alr_2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF NEW.alert_id = 'alr_2' THEN RAISE EXCEPTION 'refused for the test'; END IF; \
               RETURN NEW; END $$; \
             CREATE TRIGGER refuse_alr_2 BEFORE INSERT ON alert_events FOR EACH ROW \
               EXECUTE FUNCTION refuse_alr_2();",
        )
        .execute(&store.pool)
        .await
        .expect("trigger created");
        let failed = store
            .ingest
            .ingest(&[trigger_item(1), trigger_item(2)])
            .await;
        assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
        let idle = store.ingest.idle.lock().map(|i| i.len()).unwrap_or(0);
        assert_eq!(idle, 1, "the connection went back after its rollback");
        let done = store
            .ingest
            .ingest(&[trigger_item(1), trigger_item(3)])
            .await
            .expect("the next batch commits on the same connection");
        assert!(
            matches!(&done[..], [IngestOutcome::Opened(a), IngestOutcome::Opened(b)] if a == "alr_1" && b == "alr_3"),
            "{done:?}"
        );
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM alerts ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .expect("alerts");
        assert_eq!(
            ids,
            ["alr_1", "alr_3"],
            "nothing of the failed batch stayed"
        );
    }

    /// After a restart or failover the kept connection is dead: the batch notices at its first
    /// statement, before anything could commit, and runs again on a new connection instead of
    /// failing its senders.
    #[tokio::test]
    async fn a_batch_on_a_connection_the_server_closed_runs_on_a_new_one() {
        let (store, _) = fresh_store().await;
        opens(&store, 1, "first batch").await;
        // The kept ingestion connection's session among them.
        crate::postgres::end_other_sessions(&store.pool).await;
        opens(&store, 2, "the batch runs again on a new connection").await;
        let idle = store.ingest.idle.lock().map(|i| i.len()).unwrap_or(0);
        assert_eq!(idle, 1, "the new connection is kept");
    }

    /// A server that ends idle sessions (`idle_session_timeout`) closes the kept connection
    /// between quiet spells; the next batch still commits.
    #[tokio::test]
    async fn a_batch_after_the_server_ended_the_idle_session_commits() {
        let (setup, url) = fresh_store().await;
        sqlx::raw_sql(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET idle_session_timeout = 100', \
             current_database()); END $$",
        )
        .execute(&setup.pool)
        .await
        .expect("timeout set");
        // Connections made from here on end after 100 ms idle.
        let store = crate::PostgresStore::connect(&url).await.expect("store");
        opens(&store, 1, "first batch").await;
        // The server's timer, not the store's clock, is what this waits for.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        opens(&store, 2, "the batch runs again on a new connection").await;
    }

    /// The backend process of the connection kept for the next batch.
    async fn kept_backend(ingest: &IngestConnections) -> i32 {
        on_kept_connection(ingest, None).await
    }

    /// Runs `sql` (if any) on the connection kept for the next batch; returns its backend
    /// process.
    async fn on_kept_connection(ingest: &IngestConnections, sql: Option<&'static str>) -> i32 {
        let (mut conn, opened) = ingest
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop())
            .expect("a kept connection");
        if let Some(sql) = sql {
            sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
        }
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .expect("pid");
        if let Ok(mut idle) = ingest.idle.lock() {
            idle.push((conn, opened));
        }
        pid
    }

    /// A kept connection is reused while it is young, and replaced (the old one closed, not
    /// left open on the server) once it has outlived its lifetime.
    #[tokio::test]
    async fn a_connection_past_its_lifetime_is_closed_and_replaced() {
        let (store, url) = fresh_store().await;
        let options: PgConnectOptions = url.parse().expect("url");
        let young = IngestConnections::with_lifetime(options.clone(), Duration::from_secs(3600));
        young
            .ingest(&[crate::testing::trigger_item(1)])
            .await
            .expect("batch");
        let first = kept_backend(&young).await;
        young
            .ingest(&[crate::testing::trigger_item(2)])
            .await
            .expect("batch");
        assert_eq!(
            kept_backend(&young).await,
            first,
            "a young connection is reused"
        );

        // Every connection is already too old for this one.
        let old = IngestConnections::with_lifetime(options, Duration::ZERO);
        old.ingest(&[crate::testing::trigger_item(3)])
            .await
            .expect("batch");
        let before = kept_backend(&old).await;
        old.ingest(&[crate::testing::trigger_item(4)])
            .await
            .expect("batch");
        let after = kept_backend(&old).await;
        assert_ne!(after, before, "an old connection is replaced");
        // Its session ended on the server (closing is asynchronous there; wait up to 5 s).
        let mut gone = false;
        for _ in 0..50 {
            let live: i64 =
                sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
                    .bind(before)
                    .fetch_one(&store.pool)
                    .await
                    .expect("activity");
            if live == 0 {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            gone,
            "the replaced connection's session {before} is still open"
        );
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM alerts ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .expect("alerts");
        assert_eq!(ids, ["alr_1", "alr_2", "alr_3", "alr_4"]);
    }

    /// A kept session that turned read-only (what a primary demoted to a standby keeps) fails
    /// the batch before anything is written; the batch runs again on a new connection, and the
    /// read-only one is not kept.
    #[tokio::test]
    async fn a_batch_on_a_session_that_no_longer_writes_runs_on_a_new_one() {
        let (store, _) = fresh_store().await;
        opens(&store, 1, "first batch").await;
        let read_only = on_kept_connection(
            &store.ingest,
            Some("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"),
        )
        .await;
        opens(&store, 2, "the batch runs again on a new connection").await;
        assert_ne!(
            kept_backend(&store.ingest).await,
            read_only,
            "the read-only session is not kept"
        );
    }

    #[test]
    fn the_quote_tag_occurs_in_no_value() {
        let values = vec![
            "x$k0$y".to_string(),
            "$k1$".to_string(),
            "it's \\ $$".into(),
        ];
        assert_eq!(quote_tag(&values), "$k2$");
        assert_eq!(quoted("it's", "$k2$"), "$k2$it's$k2$");
        assert_eq!(quote_tag(&[]), "$k0$");
    }
}
