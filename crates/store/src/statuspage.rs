//! Status page persistence: component statuses, published incidents and maintenances (each
//! stored whole, with its public updates, as JSON beside its filter columns).
//!
//! Every change runs a pure plan from `warroom_core::statuspage` inside one transaction that
//! holds the page's lock (so two publishers never judge component statuses on a stale read);
//! a change linked to an incident also locks the incident and appends its timeline events in
//! that same transaction, so the page and the timeline cannot disagree.
//!
//! Restricted incidents are filtered here, in SQL: an entry whose incident is restricted is
//! never returned by the public read, even if it was classified restricted after publishing.

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::Timestamp;
use warroom_core::statuspage::{ComponentState, PageChange, PageEntry};
use warroom_core::{DomainError, Incident, IncidentId, Principal};

use crate::{StoreError, TimerPlan};

/// A page change not tied to an incident: the entry (if one is named), the stored component
/// statuses and the components other open entries hold in; the change out.
pub type PagePlan<'p> = dyn Fn(Option<&PageEntry>, &[ComponentState], &BTreeSet<String>) -> Result<PageChange, DomainError>
    + Send
    + Sync
    + 'p;

/// A page change of an incident's entry: the incident, its entry if published, the stored
/// component statuses and the components other open entries hold in; the change out.
pub type IncidentPagePlan<'p> = dyn Fn(
        &Incident,
        Option<&PageEntry>,
        &[ComponentState],
        &BTreeSet<String>,
    ) -> Result<PageChange, DomainError>
    + Send
    + Sync
    + 'p;

/// Status page persistence; part of every [`crate::Store`].
#[async_trait]
pub trait StatusPageStore: Send + Sync {
    /// Gives every configured component a row (operational, since `at`) if it has none, so
    /// each has a stable creation time. Existing rows are left alone.
    async fn sync_components(&self, ids: &[String], at: Timestamp) -> Result<(), StoreError>;

    /// Every stored component status.
    async fn component_states(&self) -> Result<Vec<ComponentState>, StoreError>;

    /// What the public may see, newest first: every unfinished entry and the `limit` most
    /// recent ones, never an entry whose incident is restricted.
    async fn public_entries(&self, limit: u32) -> Result<Vec<PageEntry>, StoreError>;

    /// One entry by public id (maintenances and visible incidents alike; restricted incidents'
    /// entries are not returned).
    async fn page_entry(&self, id: &str) -> Result<Option<PageEntry>, StoreError>;

    /// The entry of an incident `viewer` may see, if it was published.
    async fn incident_page_entry(
        &self,
        viewer: &Principal,
        incident_id: &IncidentId,
    ) -> Result<Option<PageEntry>, StoreError>;

    /// Runs `plan` on the entry `entry_id` (`None`: no entry, e.g. a component change or a
    /// new maintenance) and writes what it returns, in one transaction. `NotFound` if the
    /// named entry does not exist.
    async fn change_page(
        &self,
        entry_id: Option<&str>,
        plan: &PagePlan<'_>,
    ) -> Result<PageChange, StoreError>;

    /// Locks the incident (if `viewer` may see it), runs `plan` on it and its entry, and
    /// writes the entry, the component statuses and the timeline events (by `actor`, at
    /// `at`), in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn change_incident_page(
        &self,
        viewer: &Principal,
        incident_id: &IncidentId,
        actor: &str,
        at: Timestamp,
        plan: &IncidentPagePlan<'_>,
        timers: &TimerPlan<'_>,
    ) -> Result<(Incident, PageChange), StoreError>;
}

macro_rules! statuspage_impl {
    ($store:ident, $db:ty, $lock:literal, $page_lock:literal) => {
        use std::collections::BTreeSet as PageIdSet;

        use crate::statuspage::{IncidentPagePlan, PagePlan, StatusPageStore};
        use warroom_core::statuspage::{ComponentState, PageChange, PageEntry};

        impl $store {
            fn page_entry_from_row(row: &<$db as sqlx::Database>::Row) -> Result<PageEntry, StoreError> {
                let state: String = row.try_get("state")?;
                serde_json::from_str(&state).map_err(|e| StoreError::Corrupt(format!("status page entry: {e}")))
            }

            async fn page_components_in(tx: &mut Tx<'_>) -> Result<Vec<ComponentState>, StoreError> {
                let rows = sqlx::query("SELECT id, status, created_at, updated_at, updated_by FROM status_components ORDER BY id")
                    .fetch_all(&mut **tx)
                    .await?;
                rows.iter().map(Self::component_from_row).collect()
            }

            fn component_from_row(row: &<$db as sqlx::Database>::Row) -> Result<ComponentState, StoreError> {
                let status: String = row.try_get("status")?;
                Ok(ComponentState {
                    id: row.try_get("id")?,
                    status: status.parse().map_err(|e: warroom_core::statuspage::UnknownStatus| StoreError::Corrupt(e.to_string()))?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    updated_at: from_micros(row.try_get("updated_at")?)?,
                    updated_by: row.try_get("updated_by")?,
                })
            }

            /// Components listed by unresolved incidents other than `except`. Maintenances do not
            /// hold components: they never set a stored status (the view shows them).
            async fn held_components(tx: &mut Tx<'_>, except: Option<&str>) -> Result<PageIdSet<String>, StoreError> {
                let rows = sqlx::query("SELECT id, state FROM status_entries WHERE finished = FALSE AND kind = 'incident'")
                    .fetch_all(&mut **tx)
                    .await?;
                let mut held = PageIdSet::new();
                for row in &rows {
                    let id: String = row.try_get("id")?;
                    if Some(id.as_str()) == except {
                        continue;
                    }
                    held.extend(Self::page_entry_from_row(row)?.components);
                }
                Ok(held)
            }

            async fn write_page_change(tx: &mut Tx<'_>, change: &PageChange) -> Result<(), StoreError> {
                for c in &change.components {
                    sqlx::query(
                        "INSERT INTO status_components (id, status, created_at, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
                           updated_by = excluded.updated_by",
                    )
                    .bind(&c.id)
                    .bind(c.status.as_str())
                    .bind(micros(c.created_at))
                    .bind(micros(c.updated_at))
                    .bind(&c.updated_by)
                    .execute(&mut **tx)
                    .await?;
                }
                if let Some(e) = &change.entry {
                    let state = serde_json::to_string(e).map_err(|err| StoreError::Corrupt(err.to_string()))?;
                    sqlx::query(
                        "INSERT INTO status_entries (id, kind, incident_id, status, finished, created_at, updated_at, state)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                         ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished = excluded.finished,
                           updated_at = excluded.updated_at, state = excluded.state",
                    )
                    .bind(&e.id)
                    .bind(e.kind.as_str())
                    .bind(&e.incident_id)
                    .bind(e.status.as_str())
                    .bind(e.is_finished())
                    .bind(micros(e.created_at))
                    .bind(micros(e.updated_at))
                    .bind(state)
                    .execute(&mut **tx)
                    .await
                    .map_err(conflict_or)?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl StatusPageStore for $store {
            async fn sync_components(&self, ids: &[String], at: Timestamp) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                for id in ids {
                    sqlx::query(
                        "INSERT INTO status_components (id, status, created_at, updated_at) VALUES ($1, 'operational', $2, $2)
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(id)
                    .bind(micros(at))
                    .execute(&mut *tx)
                    .await?;
                }
                self.commit(tx).await?;
                Ok(())
            }

            async fn component_states(&self) -> Result<Vec<ComponentState>, StoreError> {
                let rows = sqlx::query("SELECT id, status, created_at, updated_at, updated_by FROM status_components ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::component_from_row).collect()
            }

            async fn public_entries(&self, limit: u32) -> Result<Vec<PageEntry>, StoreError> {
                let rows = sqlx::query(
                    "SELECT e.state FROM status_entries e LEFT JOIN incidents i ON i.id = e.incident_id
                     WHERE (e.kind = 'maintenance' OR i.restricted = FALSE)
                       AND (e.finished = FALSE OR e.id IN
                            (SELECT r.id FROM status_entries r ORDER BY r.created_at DESC, r.id LIMIT $1))
                     ORDER BY e.created_at DESC, e.id",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::page_entry_from_row).collect()
            }

            async fn page_entry(&self, id: &str) -> Result<Option<PageEntry>, StoreError> {
                let row = sqlx::query(
                    "SELECT e.state FROM status_entries e LEFT JOIN incidents i ON i.id = e.incident_id
                     WHERE e.id = $1 AND (e.kind = 'maintenance' OR i.restricted = FALSE)",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::page_entry_from_row).transpose()
            }

            async fn incident_page_entry(
                &self,
                viewer: &Principal,
                incident_id: &IncidentId,
            ) -> Result<Option<PageEntry>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT e.state FROM status_entries e JOIN incidents i ON i.id = e.incident_id WHERE e.incident_id = ",
                );
                qb.push_bind(incident_id.as_str().to_string());
                Self::push_visibility(&mut qb, viewer);
                let row = qb.build().fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::page_entry_from_row).transpose()
            }

            async fn change_page(
                &self,
                entry_id: Option<&str>,
                plan: &PagePlan<'_>,
            ) -> Result<PageChange, StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query($page_lock).execute(&mut *tx).await?;
                let existing = match entry_id {
                    None => None,
                    Some(id) => {
                        let row = sqlx::query("SELECT state FROM status_entries WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or(StoreError::NotFound)?;
                        Some(Self::page_entry_from_row(&row)?)
                    }
                };
                let components = Self::page_components_in(&mut tx).await?;
                let held = Self::held_components(&mut tx, entry_id).await?;
                let change = plan(existing.as_ref(), &components, &held).map_err(StoreError::Rejected)?;
                Self::write_page_change(&mut tx, &change).await?;
                self.commit(tx).await?;
                Ok(change)
            }

            async fn change_incident_page(
                &self,
                viewer: &Principal,
                incident_id: &IncidentId,
                actor: &str,
                at: Timestamp,
                plan: &IncidentPagePlan<'_>,
                timers: &TimerPlan<'_>,
            ) -> Result<(Incident, PageChange), StoreError> {
                let mut tx = self.begin().await?;
                let mut qb = QueryBuilder::<$db>::new("SELECT i.last_hash, i.state FROM incidents i WHERE i.id = ");
                qb.push_bind(incident_id.as_str().to_string());
                Self::push_visibility(&mut qb, viewer);
                qb.push($lock);
                let row = qb.build().fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
                let incident = Self::parse_state(&row.try_get::<String, _>("state")?)?;
                let last_hash: String = row.try_get("last_hash")?;
                // The incident's lock first, then the page's: page-only changes never wait for
                // an incident, so the two locks cannot deadlock.
                sqlx::query($page_lock).execute(&mut *tx).await?;
                let existing = sqlx::query("SELECT state FROM status_entries WHERE incident_id = $1")
                    .bind(incident_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(Self::page_entry_from_row)
                    .transpose()?;
                let components = Self::page_components_in(&mut tx).await?;
                let held = Self::held_components(&mut tx, existing.as_ref().map(|e| e.id.as_str())).await?;
                let change = plan(&incident, existing.as_ref(), &components, &held).map_err(StoreError::Rejected)?;
                Self::write_page_change(&mut tx, &change).await?;
                let events: Vec<NewEvent> = change
                    .events
                    .iter()
                    .map(|kind| NewEvent { at, actor: actor.to_string(), kind: kind.clone() })
                    .collect();
                let notifier = self.notifier.get();
                let (incident, _) = Self::seal_and_write(&mut tx, incident, last_hash, events, timers, notifier.as_deref()).await?;
                self.commit(tx).await?;
                Ok((incident, change))
            }
        }
    };
}

pub(crate) use statuspage_impl;
