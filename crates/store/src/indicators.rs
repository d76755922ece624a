//! Indicators of compromise: the projection of each incident's `indicator_recorded` events
//! (one row per incident, kind and value, first/last seen widened by each report), written
//! under the incident's lock with the event, and searched by value across the incidents a
//! viewer may see.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;
use warroom_core::indicator::IndicatorKind;
use warroom_core::{IncidentId, NewEvent, Principal};

use crate::{StoreError, TimerPlan};

/// One indicator on one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorRecord {
    /// The incident.
    pub incident_id: String,
    /// What it is.
    pub kind: IndicatorKind,
    /// The normalised value.
    pub value: String,
    /// Earliest first sighting reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    /// Latest last sighting reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// The latest note given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who first recorded it on this incident.
    pub recorded_by: String,
    /// When.
    pub recorded_at: Timestamp,
    /// When a report last changed it.
    pub updated_at: Timestamp,
    /// Whether the incident is restricted (for the audit log).
    #[serde(skip)]
    pub restricted: bool,
}

/// What recording a report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorChange {
    /// The incident did not have it: recorded.
    New,
    /// It had it; first/last seen or the note changed: recorded.
    Updated,
    /// It had it and the report added nothing: nothing written.
    Unchanged,
}

/// Indicator persistence; part of every [`crate::Store`].
#[async_trait]
pub trait IndicatorStore: Send + Sync {
    /// Locks the incident (if `viewer` may see it) and records `report` (an
    /// `indicator_recorded` event): a new row, or the existing one with first/last seen
    /// widened and the note replaced. When the report adds nothing, nothing is written.
    /// Returns the row and what changed. `NotFound` for an invisible incident.
    async fn record_indicator(
        &self,
        viewer: &Principal,
        incident_id: &IncidentId,
        report: NewEvent,
        timers: &TimerPlan<'_>,
    ) -> Result<(IndicatorRecord, IndicatorChange), StoreError>;

    /// The incident's indicators by kind and value, if `viewer` may see the incident.
    async fn indicators(
        &self,
        viewer: &Principal,
        incident_id: &IncidentId,
    ) -> Result<Option<Vec<IndicatorRecord>>, StoreError>;

    /// Every recorded `(kind, value)` among `wanted` on incidents `viewer` may see, newest
    /// incident first, at most `limit`.
    async fn search_indicators(
        &self,
        viewer: &Principal,
        wanted: &[(IndicatorKind, String)],
        limit: u32,
    ) -> Result<Vec<IndicatorRecord>, StoreError>;
}

macro_rules! indicators_impl {
    ($store:ident, $db:ty, $lock:literal) => {
        use crate::indicators::{IndicatorChange, IndicatorRecord, IndicatorStore};
        use warroom_core::indicator::IndicatorKind;

        impl $store {
            fn indicator_from_row(row: &<$db as sqlx::Database>::Row) -> Result<IndicatorRecord, StoreError> {
                let kind: String = row.try_get("kind")?;
                Ok(IndicatorRecord {
                    incident_id: row.try_get("incident_id")?,
                    kind: kind.parse().map_err(StoreError::Corrupt)?,
                    value: row.try_get("value")?,
                    first_seen: row.try_get::<Option<i64>, _>("first_seen")?.map(from_micros).transpose()?,
                    last_seen: row.try_get::<Option<i64>, _>("last_seen")?.map(from_micros).transpose()?,
                    note: row.try_get("note")?,
                    recorded_by: row.try_get("recorded_by")?,
                    recorded_at: from_micros(row.try_get("recorded_at")?)?,
                    updated_at: from_micros(row.try_get("updated_at")?)?,
                    restricted: row.try_get("restricted")?,
                })
            }
        }

        #[async_trait]
        impl IndicatorStore for $store {
            async fn record_indicator(
                &self,
                viewer: &Principal,
                incident_id: &IncidentId,
                report: NewEvent,
                timers: &TimerPlan<'_>,
            ) -> Result<(IndicatorRecord, IndicatorChange), StoreError> {
                let EventKind::IndicatorRecorded { kind, value, first_seen, last_seen, note } = &report.kind else {
                    return Err(StoreError::Corrupt("record_indicator needs an indicator_recorded event".into()));
                };
                let mut tx = self.begin().await?;
                let mut qb = QueryBuilder::<$db>::new("SELECT i.last_hash, i.state, i.restricted FROM incidents i WHERE i.id = ");
                qb.push_bind(incident_id.as_str().to_string());
                Self::push_visibility(&mut qb, viewer);
                qb.push($lock);
                let row = qb.build().fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
                let existing = sqlx::query(
                    "SELECT x.incident_id, x.kind, x.value, x.first_seen, x.last_seen, x.note, x.recorded_by, x.recorded_at,
                       x.updated_at, i.restricted
                     FROM indicators x JOIN incidents i ON i.id = x.incident_id
                     WHERE x.incident_id = $1 AND x.kind = $2 AND x.value = $3",
                )
                .bind(incident_id.as_str())
                .bind(kind.as_str())
                .bind(value)
                .fetch_optional(&mut *tx)
                .await?
                .as_ref()
                .map(Self::indicator_from_row)
                .transpose()?;
                let widen = |old: Option<Timestamp>, new: Option<Timestamp>, earlier: bool| match (old, new) {
                    (Some(o), Some(n)) => Some(if (n < o) == earlier { n } else { o }),
                    (o, n) => o.or(n),
                };
                let merged = match &existing {
                    Some(e) => IndicatorRecord {
                        first_seen: widen(e.first_seen, *first_seen, true),
                        last_seen: widen(e.last_seen, *last_seen, false),
                        note: note.clone().or_else(|| e.note.clone()),
                        updated_at: report.at,
                        ..e.clone()
                    },
                    None => IndicatorRecord {
                        incident_id: incident_id.to_string(),
                        kind: *kind,
                        value: value.clone(),
                        first_seen: *first_seen,
                        last_seen: *last_seen,
                        note: note.clone(),
                        recorded_by: report.actor.clone(),
                        recorded_at: report.at,
                        updated_at: report.at,
                        restricted: row.try_get("restricted")?,
                    },
                };
                if let Some(e) = &existing
                    && (e.first_seen, e.last_seen, &e.note) == (merged.first_seen, merged.last_seen, &merged.note)
                {
                    tx.rollback().await?;
                    return Ok((e.clone(), IndicatorChange::Unchanged));
                }
                let incident = Self::parse_state(&row.try_get::<String, _>("state")?)?;
                let last_hash: String = row.try_get("last_hash")?;
                let notifier = self.notifier.get();
                Self::seal_and_write(&mut tx, incident, last_hash, vec![report], timers, notifier.as_deref()).await?;
                sqlx::query(
                    "INSERT INTO indicators (incident_id, kind, value, first_seen, last_seen, note, recorded_by, recorded_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (incident_id, kind, value) DO UPDATE SET first_seen = excluded.first_seen,
                       last_seen = excluded.last_seen, note = excluded.note, updated_at = excluded.updated_at",
                )
                .bind(&merged.incident_id)
                .bind(merged.kind.as_str())
                .bind(&merged.value)
                .bind(merged.first_seen.map(micros))
                .bind(merged.last_seen.map(micros))
                .bind(&merged.note)
                .bind(&merged.recorded_by)
                .bind(micros(merged.recorded_at))
                .bind(micros(merged.updated_at))
                .execute(&mut *tx)
                .await?;
                self.commit(tx).await?;
                let change = if existing.is_some() { IndicatorChange::Updated } else { IndicatorChange::New };
                Ok((merged, change))
            }

            async fn indicators(
                &self,
                viewer: &Principal,
                incident_id: &IncidentId,
            ) -> Result<Option<Vec<IndicatorRecord>>, StoreError> {
                if self.incident(viewer, incident_id).await?.is_none() {
                    return Ok(None);
                }
                let rows = sqlx::query(
                    "SELECT x.incident_id, x.kind, x.value, x.first_seen, x.last_seen, x.note, x.recorded_by, x.recorded_at,
                       x.updated_at, i.restricted
                     FROM indicators x JOIN incidents i ON i.id = x.incident_id
                     WHERE x.incident_id = $1 ORDER BY x.kind, x.value",
                )
                .bind(incident_id.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::indicator_from_row).collect::<Result<Vec<_>, _>>().map(Some)
            }

            async fn search_indicators(
                &self,
                viewer: &Principal,
                wanted: &[(IndicatorKind, String)],
                limit: u32,
            ) -> Result<Vec<IndicatorRecord>, StoreError> {
                if wanted.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT x.incident_id, x.kind, x.value, x.first_seen, x.last_seen, x.note, x.recorded_by, x.recorded_at,
                       x.updated_at, i.restricted
                     FROM indicators x JOIN incidents i ON i.id = x.incident_id WHERE (",
                );
                for (n, (kind, value)) in wanted.iter().enumerate() {
                    if n > 0 {
                        qb.push(" OR ");
                    }
                    qb.push("(x.kind = ").push_bind(kind.as_str().to_string());
                    qb.push(" AND x.value = ").push_bind(value.clone()).push(")");
                }
                qb.push(")");
                Self::push_visibility(&mut qb, viewer);
                qb.push(" ORDER BY i.declared_at DESC, x.incident_id DESC, x.kind LIMIT ").push_bind(i64::from(limit));
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter().map(Self::indicator_from_row).collect()
            }
        }
    };
}

pub(crate) use indicators_impl;
