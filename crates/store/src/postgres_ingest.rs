//! PostgreSQL's alert ingestion batch: four round trips to the server, whatever the batch holds.
//!
//! Much of a batch's cost on a small machine is its round trips rather than PostgreSQL's work:
//! each one wakes the server's backend and then this process again (half of PostgreSQL's CPU
//! time in profiles was the kernel's, sending and waking). Batches used to make six: begin, key
//! locks, read, two inserts, commit. Here:
//!
//! 1. `BEGIN` and the batch's key locks go as one simple query (the lock keys are integers
//!    computed here, so no text from a sender is spliced into it);
//! 2. one read of the open alerts, rows locked (and of threshold counters, when the batch has
//!    any: a fifth trip);
//! 3. one statement writes the alerts, the event log and the counters (three inserts in a
//!    `WITH`);
//! 4. `COMMIT`.
//!
//! The key locks must come in a statement before the read: a statement reads the database as
//! it was when it started, and a lock it waited for inside itself would not make it see the
//! alert the lock's previous holder just committed.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, PgPool, Postgres, QueryBuilder, Row};
use warroom_core::alert::routing::ThresholdState;

use crate::StoreError;
use crate::alerts::{
    BatchKeys, BatchPlan, IngestItem, IngestOutcome, OpenAlerts, plan_batch, routed_from_row,
    select_in, threshold_from_json, to_json,
};
use crate::backend::{conflict_if_aborted, conflict_or, micros};

/// The first key of ingestion's two-key advisory locks (services take one-key locks).
const LOCK_CLASS: i32 = 1;

/// Commits `items` as one transaction.
pub(crate) async fn ingest(
    pool: &PgPool,
    items: &[IngestItem],
) -> Result<Vec<IngestOutcome>, StoreError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let keys = BatchKeys::of(items);
    let mut tx = pool
        .begin_with(AssertSqlSafe(begin_and_lock(&keys.locks)))
        .await
        .map_err(|e| conflict_if_aborted(e.into()))?;
    let run = async {
        let open = open_alerts(&mut tx, &keys.alerts).await?;
        let counters = thresholds(&mut tx, &keys.gates).await?;
        let plan = plan_batch(items, open, counters)?;
        write(&mut tx, &plan).await?;
        Ok::<_, StoreError>(plan.outcomes)
    };
    let outcomes = run.await.map_err(conflict_if_aborted)?;
    tx.commit()
        .await
        .map_err(|e| conflict_if_aborted(e.into()))?;
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

/// `BEGIN` and the advisory locks of `keys`, taken in ascending order so that two batches
/// sharing keys never each hold one the other waits for. A select list without a `FROM`
/// (evaluated left to right) costs PostgreSQL next to nothing to plan, where a sorted `unnest`
/// cost more to plan on every batch than to run.
fn begin_and_lock(keys: &[String]) -> String {
    let mut locks: Vec<i32> = keys.iter().map(|k| lock_key(k)).collect();
    locks.sort_unstable();
    locks.dedup();
    let calls: Vec<String> = locks
        .iter()
        .map(|h| format!("pg_advisory_xact_lock({LOCK_CLASS}, {h})"))
        .collect();
    format!("BEGIN; SELECT {}", calls.join(", "))
}

/// The open alert of each key, locked against the linking pass and against changes through
/// the API until the batch commits.
async fn open_alerts(
    conn: &mut sqlx::PgConnection,
    keys: &[String],
) -> Result<OpenAlerts, StoreError> {
    // An `IN` list, not `= ANY($1)`: PostgreSQL plans the array form anew for every batch
    // (its generic plan guesses ten elements, so looks dearer than a custom one), and that
    // planning cost more than the read. A list of one length keeps one cheap generic plan.
    let mut qb = select_in::<Postgres>(
        "SELECT akey, incident_id, link, state FROM alerts WHERE status <> 'resolved' AND akey IN (",
        keys,
    );
    qb.push(" FOR UPDATE");
    let rows = qb.build().fetch_all(&mut *conn).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let routed = routed_from_row(
            &row.try_get::<String, _>("state")?,
            row.try_get("incident_id")?,
        )?;
        out.insert(row.try_get("akey")?, (routed, row.try_get("link")?));
    }
    Ok(out)
}

async fn thresholds(
    conn: &mut sqlx::PgConnection,
    keys: &[String],
) -> Result<HashMap<String, ThresholdState>, StoreError> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    // An `IN` list, for the reason given in `open_alerts`.
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
async fn write(conn: &mut sqlx::PgConnection, plan: &BatchPlan) -> Result<(), StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new("WITH ");
    let mut parts = 0;
    if !plan.alerts.is_empty() {
        let mut rows = Vec::with_capacity(plan.alerts.len());
        for (routed, akey, link) in &plan.alerts {
            rows.push((&routed.alert, akey, link, to_json(routed)?));
        }
        qb.push(
            "alert_rows AS (INSERT INTO alerts (id, akey, status, service, severity, incident_id, \
             link, first_seen, last_seen, state) ",
        );
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
        qb.push(
            " ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             severity = excluded.severity, link = excluded.link, last_seen = excluded.last_seen, \
             state = excluded.state)",
        );
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
    fn locks_are_taken_once_each_in_ascending_order() {
        let keys = vec!["b".to_string(), "a".to_string(), "b".to_string()];
        let sql = begin_and_lock(&keys);
        let (a, b) = (lock_key("a"), lock_key("b"));
        let (low, high) = (a.min(b), a.max(b));
        assert_eq!(
            sql,
            format!(
                "BEGIN; SELECT pg_advisory_xact_lock(1, {low}), pg_advisory_xact_lock(1, {high})"
            )
        );
    }
}
