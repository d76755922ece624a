//! Evidence records: the projection of each incident's `evidence_added` events, written in
//! the same transaction as the event, under the incident's lock. The content is not here (the
//! server's vault keeps it by hash); custody events after the first (viewed, downloaded,
//! transferred) are ordinary appends through [`crate::Store::update`].

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;
use warroom_core::{IncidentId, NewEvent, Principal};

use crate::{StoreError, TimerPlan};

/// One piece of evidence on one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceRecord {
    /// The incident it is attached to.
    pub incident_id: String,
    /// SHA-256 of the content, lowercase hex: its identity.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// File name as given.
    pub file_name: String,
    /// Media type as given.
    pub media_type: String,
    /// What it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where it was collected, as the collector says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected_from: Option<String>,
    /// The address it was uploaded from.
    pub source: String,
    /// Who added it.
    pub collected_by: String,
    /// When it was added.
    pub collected_at: Timestamp,
    /// Sequence number of its `evidence_added` event.
    pub seq: u64,
}

/// Evidence persistence; part of every [`crate::Store`].
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Locks the incident (if `viewer` may see it) and, unless it already holds evidence with
    /// this hash, appends `added` (an `evidence_added` event) and writes its record, in one
    /// transaction. Returns the record and whether it is new; an existing one is returned
    /// unchanged, with nothing written. `NotFound` when the incident is not visible.
    async fn add_evidence(
        &self,
        viewer: &Principal,
        incident_id: &IncidentId,
        added: NewEvent,
        timers: &TimerPlan<'_>,
    ) -> Result<(EvidenceRecord, bool), StoreError>;

    /// The incident's evidence in the order it was added, if `viewer` may see the incident.
    async fn evidence(
        &self,
        viewer: &Principal,
        incident_id: &IncidentId,
    ) -> Result<Option<Vec<EvidenceRecord>>, StoreError>;
}

macro_rules! evidence_impl {
    ($store:ident, $db:ty, $lock:literal) => {
        use crate::evidence::{EvidenceRecord, EvidenceStore};

        impl $store {
            fn evidence_from_row(row: &<$db as sqlx::Database>::Row) -> Result<EvidenceRecord, StoreError> {
                let size: i64 = row.try_get("size")?;
                let seq: i64 = row.try_get("seq")?;
                Ok(EvidenceRecord {
                    incident_id: row.try_get("incident_id")?,
                    sha256: row.try_get("sha256")?,
                    size: u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("evidence size {size}")))?,
                    file_name: row.try_get("file_name")?,
                    media_type: row.try_get("media_type")?,
                    description: row.try_get("description")?,
                    collected_from: row.try_get("collected_from")?,
                    source: row.try_get("source")?,
                    collected_by: row.try_get("collected_by")?,
                    collected_at: from_micros(row.try_get("collected_at")?)?,
                    seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("evidence seq {seq}")))?,
                })
            }
        }

        #[async_trait]
        impl EvidenceStore for $store {
            async fn add_evidence(
                &self,
                viewer: &Principal,
                incident_id: &IncidentId,
                added: NewEvent,
                timers: &TimerPlan<'_>,
            ) -> Result<(EvidenceRecord, bool), StoreError> {
                let EventKind::EvidenceAdded { sha256, size, file_name, media_type, description, collected_from, source } = &added.kind else {
                    return Err(StoreError::Corrupt("add_evidence needs an evidence_added event".into()));
                };
                let size_column = i64::try_from(*size).map_err(|_| StoreError::Corrupt(format!("evidence size {size}")))?;
                let mut tx = self.begin().await?;
                let mut qb = QueryBuilder::<$db>::new("SELECT i.last_hash, i.state FROM incidents i WHERE i.id = ");
                qb.push_bind(incident_id.as_str().to_string());
                Self::push_visibility(&mut qb, viewer);
                qb.push($lock);
                let row = qb.build().fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
                let existing = sqlx::query(
                    "SELECT incident_id, sha256, size, file_name, media_type, description, collected_from, source, collected_by, collected_at, seq
                     FROM evidence WHERE incident_id = $1 AND sha256 = $2",
                )
                    .bind(incident_id.as_str())
                    .bind(sha256)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(existing) = existing {
                    tx.rollback().await?;
                    return Ok((Self::evidence_from_row(&existing)?, false));
                }
                let incident = Self::parse_state(&row.try_get::<String, _>("state")?)?;
                let last_hash: String = row.try_get("last_hash")?;
                let record = EvidenceRecord {
                    incident_id: incident_id.to_string(),
                    sha256: sha256.clone(),
                    size: *size,
                    file_name: file_name.clone(),
                    media_type: media_type.clone(),
                    description: description.clone(),
                    collected_from: collected_from.clone(),
                    source: source.clone(),
                    collected_by: added.actor.clone(),
                    collected_at: added.at,
                    seq: incident.version + 1,
                };
                let notifier = self.notifier.get();
                Self::seal_and_write(&mut tx, incident, last_hash, vec![added], timers, notifier.as_deref()).await?;
                sqlx::query(
                    "INSERT INTO evidence (incident_id, sha256, size, file_name, media_type, description, collected_from, source, collected_by, collected_at, seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                    .bind(&record.incident_id)
                    .bind(&record.sha256)
                    .bind(size_column)
                    .bind(&record.file_name)
                    .bind(&record.media_type)
                    .bind(&record.description)
                    .bind(&record.collected_from)
                    .bind(&record.source)
                    .bind(&record.collected_by)
                    .bind(micros(record.collected_at))
                    .bind(record.seq as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_or)?;
                self.commit(tx).await?;
                Ok((record, true))
            }

            async fn evidence(
                &self,
                viewer: &Principal,
                incident_id: &IncidentId,
            ) -> Result<Option<Vec<EvidenceRecord>>, StoreError> {
                if self.incident(viewer, incident_id).await?.is_none() {
                    return Ok(None);
                }
                let rows = sqlx::query(
                    "SELECT incident_id, sha256, size, file_name, media_type, description, collected_from, source, collected_by, collected_at, seq
                     FROM evidence WHERE incident_id = $1 ORDER BY seq",
                )
                    .bind(incident_id.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::evidence_from_row).collect::<Result<Vec<_>, _>>().map(Some)
            }
        }
    };
}

pub(crate) use evidence_impl;
