//! The linking pass's reads of many alert rows, one way per backend.
//!
//! sqlx hands a SQLite result from its connection thread to the caller one row at a time, and
//! when the caller is quicker than SQLite, every row is a thread wake-up: for a storm's alerts,
//! read three times each (waiting work, the alerts themselves, the re-check under the write
//! lock), those wake-ups cost more than the reads. On SQLite each read is therefore one row
//! holding a JSON array of the rows. PostgreSQL streams rows over its socket and reads them
//! plainly.

use std::collections::HashSet;

use sqlx::Row;
use warroom_core::alert_incident::RoutedAlert;

use crate::StoreError;
use crate::alerts::{ROWS_PER_STATEMENT, routed_from_row, select_in};

/// An alert waiting for the linking pass: id, service, incident and link state.
pub(crate) type WorkRow = (String, Option<String>, Option<String>, String);

fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn sqlite_json_rows(row: &sqlx::sqlite::SqliteRow) -> Result<String, StoreError> {
    // json_group_array over no rows is "[]", never NULL.
    Ok(row.try_get::<String, _>(0)?)
}

/// SQLite's reads (see the module doc).
pub(crate) mod sqlite {
    use super::*;

    /// Alerts waiting to be linked or settled, oldest first, at most `limit`.
    pub(crate) async fn work(
        pool: &sqlx::SqlitePool,
        limit: u32,
    ) -> Result<Vec<WorkRow>, StoreError> {
        let row = sqlx::query(
            "SELECT json_group_array(json_array(id, service, incident_id, link)
                                     ORDER BY first_seen, id)
             FROM (SELECT id, service, incident_id, link, first_seen FROM alerts
                   WHERE link IN ('open', 'resolve') ORDER BY first_seen, id LIMIT $1)",
        )
        .bind(i64::from(limit.max(1)))
        .fetch_one(pool)
        .await?;
        from_json("alert work", &sqlite_json_rows(&row)?)
    }

    /// Those of `ids` still waiting for an incident, oldest first.
    pub(crate) async fn waiting(
        pool: &sqlx::SqlitePool,
        ids: &[String],
    ) -> Result<Vec<RoutedAlert>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut qb = select_in::<sqlx::Sqlite>(
                "SELECT json_group_array(json_array(incident_id, json(state))
                                         ORDER BY first_seen, id)
                 FROM alerts WHERE link = 'open' AND id IN (",
                chunk,
            );
            let row = qb.build().fetch_one(pool).await?;
            let rows: Vec<(Option<String>, RoutedAlert)> =
                from_json("alert state", &sqlite_json_rows(&row)?)?;
            out.extend(rows.into_iter().map(|(incident_id, mut routed)| {
                routed.alert.incident_id = incident_id;
                routed
            }));
        }
        Ok(out)
    }

    /// Those of `ids` still waiting, read in the linking transaction.
    pub(crate) async fn still_waiting(
        conn: &mut sqlx::SqliteConnection,
        ids: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut out = HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut qb = select_in::<sqlx::Sqlite>(
                "SELECT json_group_array(id) FROM alerts WHERE link = 'open' AND id IN (",
                chunk,
            );
            let row = qb.build().fetch_one(&mut *conn).await?;
            let rows: Vec<String> = from_json("alert ids", &sqlite_json_rows(&row)?)?;
            out.extend(rows);
        }
        Ok(out)
    }
}

/// PostgreSQL's reads (see the module doc).
pub(crate) mod postgres {
    use super::*;

    /// Alerts waiting to be linked or settled, oldest first, at most `limit`.
    pub(crate) async fn work(pool: &sqlx::PgPool, limit: u32) -> Result<Vec<WorkRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, service, incident_id, link FROM alerts WHERE link IN ('open', 'resolve')
             ORDER BY first_seen, id LIMIT $1",
        )
        .bind(i64::from(limit.max(1)))
        .fetch_all(pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    row.try_get("service")?,
                    row.try_get("incident_id")?,
                    row.try_get("link")?,
                ))
            })
            .collect()
    }

    /// Those of `ids` still waiting for an incident, oldest first.
    pub(crate) async fn waiting(
        pool: &sqlx::PgPool,
        ids: &[String],
    ) -> Result<Vec<RoutedAlert>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            // By id alone, with `link` checked here: given `link = 'open'` too, PostgreSQL
            // chose the partial index of waiting alerts and scanned every one of them, a
            // storm's backlog, for each chunk.
            let mut qb = select_in::<sqlx::Postgres>(
                "SELECT incident_id, link, state FROM alerts WHERE id IN (",
                chunk,
            );
            qb.push(" ORDER BY first_seen, id");
            for row in qb.build().fetch_all(pool).await? {
                // Linked meanwhile: not worth parsing.
                if row.try_get::<String, _>("link")? == "open" {
                    out.push(routed_from_row(
                        &row.try_get::<String, _>("state")?,
                        row.try_get("incident_id")?,
                    )?);
                }
            }
        }
        Ok(out)
    }

    /// Those of `ids` still waiting, read in the linking transaction. Rows a concurrent
    /// ingestion batch holds are left for the next pass rather than waited for: the two lock
    /// rows in different orders, and waiting could deadlock.
    pub(crate) async fn still_waiting(
        conn: &mut sqlx::PgConnection,
        ids: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut out = HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut qb =
                select_in::<sqlx::Postgres>("SELECT id, link FROM alerts WHERE id IN (", chunk);
            qb.push(" FOR UPDATE SKIP LOCKED");
            for row in qb.build().fetch_all(&mut *conn).await? {
                if row.try_get::<String, _>("link")? == "open" {
                    out.insert(row.try_get::<String, _>("id")?);
                }
            }
        }
        Ok(out)
    }
}
