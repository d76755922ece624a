//! Alert persistence: integrations (routing keys, hashed), the alert table with its open-key
//! uniqueness, every accepted event, threshold counters, and the link from alerts to incidents.
//!
//! [`AlertStore::ingest`] takes a whole batch of events from concurrent requests and commits it
//! in one transaction with multi-row statements (group commit): one fsync for the batch, and a
//! constant number of round trips however many events it holds. Deduplication reads the open
//! alerts for the batch's keys under a row lock, and a partial unique index on open keys makes
//! a race between processes fail the batch (which the caller retries) rather than open two
//! alerts.
//!
//! Linking alerts to incidents is a separate step ([`AlertStore::link_alerts`], driven by the
//! engine): an alert is durable, and answered, as soon as it is committed, and a crash between
//! the two steps leaves it marked `open` for the next pass.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;
use warroom_core::alert::pagerduty::ChangeEvent;
use warroom_core::alert::routing::ThresholdCheck;
use warroom_core::alert::{AlertEvent, AlertStatus};
use warroom_core::alert_incident::RoutedAlert;
use warroom_core::audit::NewAuditEntry;
use warroom_core::{Incident, IncidentId, NewEvent};

use crate::{StoreError, TimerPlan};

/// An integration to store; its routing key itself never reaches the store.
#[derive(Debug, Clone)]
pub struct NewIntegration {
    /// Public id (`int_...`), which routing rules match as `routing_key`.
    pub id: String,
    /// Name shown in lists.
    pub name: String,
    /// Service its alerts are for.
    pub service: String,
    /// SHA-256 of the routing key, hex.
    pub key_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
}

/// A stored integration, without its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Integration {
    /// Public id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Service its alerts are for.
    pub service: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// When it stopped accepting events, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    /// When its routing key was last replaced, if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<Timestamp>,
    /// Until when the key it had before the last rotation is still accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_key_until: Option<Timestamp>,
}

/// An integration found by a routing key, and which of its keys matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedIntegration {
    /// The integration (never a revoked one).
    pub integration: Integration,
    /// The key matched was the one replaced by the last rotation: it is good only until
    /// [`Integration::previous_key_until`], which the caller checks against its clock.
    pub previous_key: bool,
}

impl KeyedIntegration {
    /// Whether the matched key is accepted at `now`.
    pub fn accepted_at(&self, now: Timestamp) -> bool {
        !self.previous_key
            || self
                .integration
                .previous_key_until
                .is_some_and(|until| now < until)
    }
}

/// A synchronous ingestion writer, for a thread that does nothing else: [`AlertStore::ingest`]
/// split in its commit and its flush, without the async runtime in between. Both block;
/// neither may run on an async worker.
pub trait BlockingIngest: Send + Sync {
    /// Commits a batch in one transaction, in order, one outcome per item; not yet durable:
    /// nobody may be told until a later [`BlockingIngest::flush`] has returned.
    fn commit(&self, items: &[IngestItem]) -> Result<Vec<IngestOutcome>, StoreError>;

    /// Makes every batch committed so far durable.
    fn flush(&self) -> Result<(), StoreError>;
}

/// What routing decided for a trigger that would open a new alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Record it and let it open or join an incident.
    Open,
    /// Record it, open nothing; the reason is shown on the alert.
    Suppress(String),
    /// Record nothing.
    Drop,
}

/// One accepted event, routed, ready to commit.
#[derive(Debug, Clone)]
pub struct IngestItem {
    /// The event, normalised.
    pub event: AlertEvent,
    /// Integration it came through: dedup keys are scoped to it.
    pub integration_id: String,
    /// The event's dedup key, or the one generated for it.
    pub dedup_key: String,
    /// Receive time.
    pub received_at: Timestamp,
    /// Id the alert gets if this event opens one.
    pub new_alert_id: String,
    /// Service for a new alert.
    pub service: Option<String>,
    /// Incident severity for a new alert.
    pub incident_severity: String,
    /// Playbooks for a new alert's incident.
    pub playbooks: Vec<String>,
    /// Open, suppress or drop, for a trigger that would open a new alert.
    pub disposition: Disposition,
    /// The rate counter to consult before a new alert may open an incident.
    pub threshold: Option<ThresholdCheck>,
    /// Whether alerts may open incidents at all (the alert policy).
    pub open_incidents: bool,
}

/// What committing one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new alert, which will open or join an incident.
    Opened(String),
    /// A new alert that opens nothing (suppressed, or below its threshold).
    Suppressed(String),
    /// A repeat of an open alert.
    Repeated(String),
    /// The open alert is now acknowledged.
    Acknowledged(String),
    /// The open alert is now resolved.
    Resolved(String),
    /// Nothing changed; why.
    Ignored(&'static str),
    /// A drop rule matched: nothing was recorded.
    Dropped,
}

impl IngestOutcome {
    /// The alert the event landed on, if any.
    pub fn alert_id(&self) -> Option<&str> {
        match self {
            IngestOutcome::Opened(id)
            | IngestOutcome::Suppressed(id)
            | IngestOutcome::Repeated(id)
            | IngestOutcome::Acknowledged(id)
            | IngestOutcome::Resolved(id) => Some(id),
            IngestOutcome::Ignored(_) | IngestOutcome::Dropped => None,
        }
    }

    /// Name stored with the event and shown in logs.
    pub fn name(&self) -> &'static str {
        match self {
            IngestOutcome::Opened(_) => "opened",
            IngestOutcome::Suppressed(_) => "suppressed",
            IngestOutcome::Repeated(_) => "repeated",
            IngestOutcome::Acknowledged(_) => "acknowledged",
            IngestOutcome::Resolved(_) => "resolved",
            IngestOutcome::Ignored(_) => "ignored",
            IngestOutcome::Dropped => "dropped",
        }
    }
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only these statuses (all when empty).
    pub statuses: Vec<AlertStatus>,
    /// Only this service.
    pub service: Option<String>,
    /// Only alerts attached to this incident.
    pub incident_id: Option<String>,
    /// Only alerts first seen at or after this time.
    pub since: Option<Timestamp>,
    /// At most this many, newest first.
    pub limit: u32,
    /// Continue after this alert (the last of the previous page).
    pub cursor: Option<AlertCursor>,
}

/// Where the next page of alerts starts: after this alert, in the list's order (first seen,
/// then id, newest first). A position, not an offset, so alerts arriving meanwhile do not
/// shift the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCursor {
    /// When the alert was first seen, microseconds.
    pub first_seen: i64,
    /// Its id.
    pub id: String,
}

impl AlertCursor {
    /// The cursor after `alert`.
    pub fn after(alert: &AlertRecord) -> Self {
        Self {
            first_seen: alert.routed.alert.first_seen.as_microsecond(),
            id: alert.routed.alert.id.clone(),
        }
    }

    /// Opaque text form for the API.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.first_seen, self.id)
    }

    /// Parses [`AlertCursor::encode`] output.
    pub fn decode(text: &str) -> Option<Self> {
        let (at, id) = text.split_once('_')?;
        let first_seen = at.parse().ok()?;
        let plausible = id.starts_with("alr_")
            && id.len() <= 64
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        plausible.then(|| Self {
            first_seen,
            id: id.to_string(),
        })
    }
}

/// A stored alert: what it is, how it was routed, where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    /// Alert, routing and incident.
    #[serde(flatten)]
    pub routed: RoutedAlert,
    /// Integration it came through.
    pub integration_id: String,
    /// `none`, `open` (waiting for an incident), `resolve` (its incident's alerts are being
    /// checked) or `done`.
    pub link: String,
}

/// One accepted event as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEventRecord {
    /// Position in the log of all accepted events.
    pub seq: i64,
    /// Receive time.
    pub received_at: Timestamp,
    /// What it did.
    pub outcome: String,
    /// The event.
    pub event: serde_json::Value,
}

/// Alert work waiting for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertWork {
    /// Alerts on a service that need an incident.
    Link {
        /// Service.
        service: String,
        /// Alert ids, oldest first.
        alerts: Vec<String>,
    },
    /// An incident one of whose alerts resolved.
    Settle {
        /// Incident id.
        incident_id: String,
    },
}

/// The events linking alerts to the service's open incident (given) or declaring one (none).
pub type LinkPlan<'p> = dyn Fn(Option<&Incident>, &[RoutedAlert]) -> Result<Vec<NewEvent>, warroom_core::DomainError>
    + Send
    + Sync
    + 'p;

/// The events an incident records when none of its `count` alerts is open any more.
pub type SettlePlan<'p> = dyn Fn(&Incident, u64) -> Vec<NewEvent> + Send + Sync + 'p;

/// The events a change event adds to each open incident of its service.
pub type ChangePlan<'p> = dyn Fn(&Incident) -> Vec<NewEvent> + Send + Sync + 'p;

/// Alert persistence; part of every [`crate::Store`].
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores a new integration.
    ///
    /// `audit` is written to the audit log in the same transaction, only if the change is made.
    async fn create_integration(
        &self,
        new: NewIntegration,
        audit: Option<NewAuditEntry>,
    ) -> Result<Integration, StoreError>;

    /// Every integration, oldest first.
    async fn integrations(&self) -> Result<Vec<Integration>, StoreError>;

    /// The live (not revoked) integration whose current or previous routing key hashes to
    /// `key_hash`.
    async fn integration_by_key(
        &self,
        key_hash: &str,
    ) -> Result<Option<KeyedIntegration>, StoreError>;

    /// Gives a live integration the key hashing to `new_key_hash`; its current key stays
    /// accepted until `previous_until` (a key from an earlier rotation is dropped). `None` when
    /// no live integration has that id.
    ///
    /// `audit` is written to the audit log in the same transaction, only if the change is made.
    async fn rotate_integration_key(
        &self,
        id: &str,
        new_key_hash: &str,
        previous_until: Timestamp,
        at: Timestamp,
        audit: Option<NewAuditEntry>,
    ) -> Result<Option<Integration>, StoreError>;

    /// Stops an integration accepting events with any of its keys. Revoking a revoked one
    /// changes nothing; `None` when there is no integration with that id.
    ///
    /// `audit` is written to the audit log in the same transaction, only if the change is made.
    async fn revoke_integration(
        &self,
        id: &str,
        at: Timestamp,
        audit: Option<NewAuditEntry>,
    ) -> Result<Option<Integration>, StoreError>;

    /// Commits a batch of events in one transaction, in order; one outcome per item.
    async fn ingest(&self, items: &[IngestItem]) -> Result<Vec<IngestOutcome>, StoreError>;

    /// The backend's synchronous ingestion writer, for a caller that runs it on threads of its
    /// own (SQLite on a file); `None` when batches go through [`AlertStore::ingest`].
    fn blocking_ingest(&self) -> Option<Arc<dyn BlockingIngest>> {
        None
    }

    /// Alerts, newest first.
    async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError>;

    /// One alert.
    async fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError>;

    /// The events an alert folded in, oldest first.
    async fn alert_events(&self, id: &str) -> Result<Vec<AlertEventRecord>, StoreError>;

    /// Acknowledges or resolves an alert by hand (`event` carries the action); `None` when
    /// there is no such alert.
    async fn change_alert(
        &self,
        id: &str,
        event: &AlertEvent,
        at: Timestamp,
    ) -> Result<Option<(AlertRecord, IngestOutcome)>, StoreError>;

    /// Alert work for the engine: services with alerts waiting for an incident (at most
    /// `limit` alerts in all), and incidents whose alerts resolved.
    async fn alert_work(&self, limit: u32) -> Result<Vec<AlertWork>, StoreError>;

    /// Links the still-waiting alerts among `alerts` to `service`'s open incident, or to a new
    /// one, in one transaction under the service's lock; returns the incident.
    async fn link_alerts(
        &self,
        service: &str,
        alerts: &[String],
        plan: &LinkPlan<'_>,
        timers: &TimerPlan<'_>,
    ) -> Result<Option<IncidentId>, StoreError>;

    /// Clears the incident's resolved-alert marks and, when none of its alerts is open any
    /// more, appends what `plan` says.
    async fn settle_alerts(
        &self,
        incident_id: &str,
        plan: &SettlePlan<'_>,
        timers: &TimerPlan<'_>,
    ) -> Result<(), StoreError>;

    /// Stores a change event and appends what `plan` says to each open incident of `service`;
    /// returns those incidents.
    async fn record_change(
        &self,
        integration_id: &str,
        service: &str,
        change: &ChangeEvent,
        at: Timestamp,
        plan: &ChangePlan<'_>,
        timers: &TimerPlan<'_>,
    ) -> Result<Vec<IncidentId>, StoreError>;
}

/// Dedup scope and key in one column.
pub(crate) fn akey(integration_id: &str, dedup_key: &str) -> String {
    format!("{integration_id}\n{dedup_key}")
}

/// An alert's link state once it resolves: one resolved before it joined an incident needs
/// none; one that joined an incident has that incident checked (are all its alerts resolved?).
pub(crate) fn link_after_resolve(link: &str, has_incident: bool) -> String {
    match (link, has_incident) {
        ("open", _) => "none",
        (_, true) => "resolve",
        (other, false) => other,
    }
    .to_string()
}

/// The keys a batch reads and locks, each sorted and without repeats.
pub(crate) struct BatchKeys {
    /// Alert keys ([`akey`]).
    pub alerts: Vec<String>,
    /// Threshold counters consulted by triggers.
    pub gates: Vec<String>,
    /// Alert and threshold keys in the one order concurrent batches lock them in.
    pub locks: Vec<String>,
}

impl BatchKeys {
    pub(crate) fn of(items: &[IngestItem]) -> Self {
        let mut alerts: Vec<String> = items
            .iter()
            .map(|i| akey(&i.integration_id, &i.dedup_key))
            .collect();
        alerts.sort();
        alerts.dedup();
        let mut locks: Vec<String> = items
            .iter()
            .filter_map(|i| i.threshold.as_ref().map(|t| format!("threshold:{}", t.key)))
            .chain(alerts.iter().cloned())
            .collect();
        locks.sort();
        locks.dedup();
        let mut gates: Vec<String> = items
            .iter()
            .filter(|i| i.event.action == warroom_core::alert::Action::Trigger)
            .filter_map(|i| i.threshold.as_ref().map(|t| t.key.clone()))
            .collect();
        gates.sort();
        gates.dedup();
        Self {
            alerts,
            gates,
            locks,
        }
    }
}

/// Open alerts by key, each with its link state, as read at the start of a batch.
pub(crate) type OpenAlerts = std::collections::HashMap<String, (RoutedAlert, String)>;

/// What a batch writes: computed from the batch and what was stored before it, by
/// [`plan_batch`], the same for both backends.
pub(crate) struct BatchPlan {
    /// One per item, in order.
    pub outcomes: Vec<IngestOutcome>,
    /// Alert rows to upsert (alert, key, link), in the order of their last change, so that an
    /// alert resolved in the batch is written before a new alert re-opens its key.
    pub alerts: Vec<(RoutedAlert, String, String)>,
    /// Event log rows: alert id, receive time, outcome, event JSON.
    pub events: Vec<(Option<String>, Timestamp, &'static str, String)>,
    /// Threshold counters that changed.
    pub thresholds: Vec<(String, warroom_core::alert::routing::ThresholdState)>,
    /// When the counters changed (the batch's last receive time), if any did.
    pub thresholds_at: Option<Timestamp>,
}

/// Applies a batch's events, in order, to the open alerts and threshold counters read for it.
pub(crate) fn plan_batch(
    items: &[IngestItem],
    mut open: OpenAlerts,
    mut counters: std::collections::HashMap<String, warroom_core::alert::routing::ThresholdState>,
) -> Result<BatchPlan, StoreError> {
    use std::collections::HashMap;
    use warroom_core::alert::{Alert, Effect, Transition, apply};
    // Every alert the batch touched, by id: the position of its last change, its state, its
    // key and its link.
    let mut touched: HashMap<String, (usize, RoutedAlert, String, String)> = HashMap::new();
    let mut counters_changed: Vec<String> = Vec::new();
    let mut outcomes = Vec::with_capacity(items.len());
    let mut log = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let key = akey(&item.integration_id, &item.dedup_key);
        let current = open.get(&key).map(|(r, _)| &r.alert);
        let outcome = match apply(current, &item.event, item.received_at) {
            Transition::Open => {
                let mut suppressed = match &item.disposition {
                    Disposition::Drop => {
                        outcomes.push(IngestOutcome::Dropped);
                        continue;
                    }
                    Disposition::Suppress(why) => Some(why.clone()),
                    Disposition::Open => None,
                };
                if suppressed.is_none()
                    && let Some(gate) = &item.threshold
                {
                    let counter = counters.entry(gate.key.clone()).or_default();
                    if !counter.record(item.received_at, &gate.threshold) {
                        suppressed = Some(format!(
                            "below its threshold of {} in {}",
                            gate.threshold.count, gate.threshold.window
                        ));
                    }
                    counters_changed.push(gate.key.clone());
                }
                if suppressed.is_none() && !item.open_incidents {
                    suppressed = Some("the alert policy opens no incidents".into());
                }
                let alert = Alert::open(
                    item.new_alert_id.clone(),
                    &item.event,
                    item.dedup_key.clone(),
                    item.service.clone(),
                    item.received_at,
                );
                let link = if suppressed.is_none() { "open" } else { "none" };
                let routed = RoutedAlert {
                    alert,
                    incident_severity: item.incident_severity.clone(),
                    playbooks: item.playbooks.clone(),
                    suppressed: suppressed.clone(),
                };
                let id = routed.alert.id.clone();
                open.insert(key.clone(), (routed.clone(), link.to_string()));
                touched.insert(
                    id.clone(),
                    (position, routed, key.clone(), link.to_string()),
                );
                if suppressed.is_some() {
                    IngestOutcome::Suppressed(id)
                } else {
                    IngestOutcome::Opened(id)
                }
            }
            Transition::Changed { alert, effect } => {
                let Some((routed, link)) = open.get_mut(&key) else {
                    return Err(StoreError::Corrupt(
                        "changed an alert that is not open".into(),
                    ));
                };
                routed.alert = alert;
                let id = routed.alert.id.clone();
                if effect == Effect::Resolved {
                    *link = link_after_resolve(link, routed.alert.incident_id.is_some());
                }
                touched.insert(
                    id.clone(),
                    (position, routed.clone(), key.clone(), link.clone()),
                );
                let outcome = match effect {
                    Effect::Repeated => IngestOutcome::Repeated(id),
                    Effect::Acknowledged => IngestOutcome::Acknowledged(id),
                    Effect::Resolved => IngestOutcome::Resolved(id),
                };
                if effect == Effect::Resolved {
                    open.remove(&key);
                }
                outcome
            }
            Transition::Ignored(why) => IngestOutcome::Ignored(why.describe()),
        };
        let body = to_json(&item.event)?;
        log.push((
            outcome.alert_id().map(str::to_string),
            item.received_at,
            outcome.name(),
            body,
        ));
        outcomes.push(outcome);
    }
    let mut rows: Vec<(usize, RoutedAlert, String, String)> = touched.into_values().collect();
    rows.sort_by_key(|r| r.0);
    let alerts = rows.into_iter().map(|(_, r, k, l)| (r, k, l)).collect();
    let (thresholds, thresholds_at) = match (counters_changed.is_empty(), items.last()) {
        (false, Some(last)) => {
            counters_changed.sort();
            counters_changed.dedup();
            let states = counters_changed
                .into_iter()
                .filter_map(|k| counters.remove(&k).map(|s| (k, s)))
                .collect();
            (states, Some(last.received_at))
        }
        _ => (Vec::new(), None),
    };
    Ok(BatchPlan {
        outcomes,
        alerts,
        events: log,
        thresholds,
        thresholds_at,
    })
}

/// An alert row's routed state: its `state` JSON, with the incident link from its own
/// `incident_id` column (the linker sets that column without rewriting the JSON).
pub(crate) fn routed_from_row(
    state: &str,
    incident_id: Option<String>,
) -> Result<RoutedAlert, StoreError> {
    let mut routed: RoutedAlert = serde_json::from_str(state)
        .map_err(|e| StoreError::Corrupt(format!("alert state: {e}")))?;
    routed.alert.incident_id = incident_id;
    Ok(routed)
}

/// A threshold counter as stored in `alert_thresholds.state`.
pub(crate) fn threshold_from_json(
    state: &str,
) -> Result<warroom_core::alert::routing::ThresholdState, StoreError> {
    serde_json::from_str(state).map_err(|e| StoreError::Corrupt(format!("threshold state: {e}")))
}

/// The JSON stored for an alert's state or a threshold counter.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `head` (ending in `IN (`) with `keys` bound as the list, closed.
pub(crate) fn select_in<DB>(head: &str, keys: &[String]) -> sqlx::QueryBuilder<DB>
where
    DB: sqlx::Database,
    for<'k> &'k String: sqlx::Encode<'k, DB> + sqlx::Type<DB>,
{
    let mut qb = sqlx::QueryBuilder::new(head);
    let mut list = qb.separated(", ");
    for key in keys {
        list.push_bind(key);
    }
    qb.push(")");
    qb
}

/// Rows per multi-row statement: well under both backends' parameter limits.
pub(crate) const ROWS_PER_STATEMENT: usize = 256;

/// The head of an alert row upsert, up to its values: one spelling for the three writers (the
/// store's, PostgreSQL's batch and SQLite's batch, whose prepared statement needs a literal).
macro_rules! alert_upsert_head {
    () => {
        "INSERT INTO alerts (id, akey, status, service, severity, incident_id, link, first_seen, \
         last_seen, state) "
    };
}

/// What an upsert changes in an alert row that exists: all but its key, service, incident and
/// first sighting (the incident is the linking pass's to set).
macro_rules! alert_upsert_tail {
    () => {
        " ON CONFLICT (id) DO UPDATE SET status = excluded.status, severity = excluded.severity, \
         link = excluded.link, last_seen = excluded.last_seen, state = excluded.state"
    };
}

pub(crate) use {alert_upsert_head, alert_upsert_tail};

macro_rules! alerts_impl {
    ($store:ident, $db:ty, $lock:literal, $reads:path, $service_lock:expr) => {
        use warroom_core::alert::{Transition, Effect, apply};
        use crate::alerts::{
            AlertEventRecord, AlertFilter, AlertRecord, AlertStore, AlertWork, ChangePlan,
            IngestItem, IngestOutcome, Integration, KeyedIntegration, LinkPlan, NewIntegration, ROWS_PER_STATEMENT,
            SettlePlan, link_after_resolve,
        };
        use warroom_core::alert::AlertEvent;

        /// A connection inside a transaction (a [`sqlx::Transaction`] derefs to it).
        type Conn = <$db as sqlx::Database>::Connection;

        impl $store {
            async fn integration_row(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: &str,
            ) -> Result<Option<<$db as sqlx::Database>::Row>, StoreError> {
                Ok(sqlx::query(
                    "SELECT id, name, service, created_at, created_by, revoked_at, rotated_at,
                            previous_key_until
                     FROM integrations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(conn)
                .await?)
            }

            fn integration_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Integration, StoreError> {
                Ok(Integration {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    service: row.try_get("service")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    created_by: row.try_get("created_by")?,
                    revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_micros).transpose()?,
                    rotated_at: row.try_get::<Option<i64>, _>("rotated_at")?.map(from_micros).transpose()?,
                    previous_key_until: row
                        .try_get::<Option<i64>, _>("previous_key_until")?
                        .map(from_micros)
                        .transpose()?,
                })
            }

            fn alert_from_row(row: &<$db as sqlx::Database>::Row) -> Result<AlertRecord, StoreError> {
                let routed = crate::alerts::routed_from_row(
                    &row.try_get::<String, _>("state")?,
                    row.try_get("incident_id")?,
                )?;
                let akey: String = row.try_get("akey")?;
                Ok(AlertRecord {
                    routed,
                    integration_id: akey.split('\n').next().unwrap_or_default().to_string(),
                    link: row.try_get("link")?,
                })
            }

            /// Writes alert rows (new or changed) with one upsert per chunk. Rows must be in the
            /// order of their last change, so that an alert resolved in the batch is written
            /// before a new alert re-opens its key.
            async fn upsert_alerts(
                tx: &mut Conn,
                rows: &[(&warroom_core::alert_incident::RoutedAlert, String, &str)],
            ) -> Result<(), StoreError> {
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut qb = QueryBuilder::<$db>::new(crate::alerts::alert_upsert_head!());
                    let mut failed = None;
                    qb.push_values(chunk, |mut b, (routed, akey, link)| {
                        let a = &routed.alert;
                        let state = match crate::alerts::to_json(routed) {
                            Ok(s) => s,
                            Err(e) => {
                                failed = Some(e);
                                String::new()
                            }
                        };
                        b.push_bind(a.id.clone())
                            .push_bind(akey.clone())
                            .push_bind(a.status.as_str())
                            .push_bind(a.service.clone())
                            .push_bind(a.severity.as_str())
                            .push_bind(a.incident_id.clone())
                            .push_bind(link.to_string())
                            .push_bind(micros(a.first_seen))
                            .push_bind(micros(a.last_seen))
                            .push_bind(state);
                    });
                    if let Some(e) = failed {
                        return Err(e);
                    }
                    qb.push(crate::alerts::alert_upsert_tail!());
                    qb.build().execute(&mut *tx).await.map_err(conflict_or)?;
                }
                Ok(())
            }

            async fn insert_alert_events(
                tx: &mut Conn,
                rows: &[(Option<String>, Timestamp, &'static str, String)],
            ) -> Result<(), StoreError> {
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO alert_events (alert_id, received_at, outcome, body) ",
                    );
                    qb.push_values(chunk, |mut b, (alert, at, outcome, body)| {
                        b.push_bind(alert.clone())
                            .push_bind(micros(*at))
                            .push_bind(*outcome)
                            .push_bind(body.clone());
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                Ok(())
            }

            /// Resolves the open alerts of an incident that has just been resolved or closed,
            /// as PagerDuty does. A sender may never resolve its own alert, and an alert left
            /// open on a finished incident would take in the next trigger of its key as a
            /// repeat, so a recurrence would page nobody.
            async fn resolve_alerts_of_incident(
                tx: &mut Conn,
                incident_id: &str,
                at: Timestamp,
            ) -> Result<(), StoreError> {
                let rows = sqlx::query(concat!(
                    "SELECT id, akey, incident_id, link, state FROM alerts
                     WHERE incident_id = $1 AND status <> 'resolved' ORDER BY first_seen, id",
                    $lock
                ))
                .bind(incident_id)
                .fetch_all(&mut *tx)
                .await?;
                if rows.is_empty() {
                    return Ok(());
                }
                let mut event = AlertEvent::new(
                    warroom_core::alert::SourceKind::Generic,
                    warroom_core::alert::Action::Resolve,
                    "",
                );
                event.source = Some(format!("incident {incident_id} resolved"));
                let body = crate::alerts::to_json(&event)?;
                let mut resolved = Vec::with_capacity(rows.len());
                for row in &rows {
                    let rec = Self::alert_from_row(row)?;
                    let key: String = row.try_get("akey")?;
                    if let Transition::Changed { alert, .. } = apply(Some(&rec.routed.alert), &event, at) {
                        let mut routed = rec.routed;
                        routed.alert = alert;
                        resolved.push((routed, key));
                    }
                }
                // `done`, not `resolve`: the incident is finished, there is nothing to settle.
                let rows: Vec<_> = resolved.iter().map(|(r, k)| (r, k.clone(), "done")).collect();
                Self::upsert_alerts(tx, &rows).await?;
                let log: Vec<_> = resolved
                    .iter()
                    .map(|(r, _)| (Some(r.alert.id.clone()), at, "resolved", body.clone()))
                    .collect();
                Self::insert_alert_events(tx, &log).await
            }
        }

        #[async_trait]
        impl AlertStore for $store {
            async fn create_integration(&self, new: NewIntegration, audit: Option<NewAuditEntry>) -> Result<Integration, StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO integrations (id, name, service, key_hash, created_at, created_by)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&new.id)
                .bind(&new.name)
                .bind(&new.service)
                .bind(&new.key_hash)
                .bind(micros(new.created_at))
                .bind(&new.created_by)
                .execute(&mut *tx)
                .await
                .map_err(conflict_or)?;
                Self::append_audit_in(&mut tx, audit.into_iter().collect()).await?;
                self.commit(tx).await?;
                Ok(Integration {
                    id: new.id,
                    name: new.name,
                    service: new.service,
                    created_at: new.created_at,
                    created_by: new.created_by,
                    revoked_at: None,
                    rotated_at: None,
                    previous_key_until: None,
                })
            }

            async fn integrations(&self) -> Result<Vec<Integration>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, name, service, created_at, created_by, revoked_at, rotated_at,
                            previous_key_until
                     FROM integrations ORDER BY created_at, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::integration_from_row).collect()
            }

            async fn integration_by_key(&self, key_hash: &str) -> Result<Option<KeyedIntegration>, StoreError> {
                let row = sqlx::query(
                    "SELECT id, name, service, created_at, created_by, revoked_at, rotated_at,
                            previous_key_until, key_hash <> $1 AS previous_key
                     FROM integrations
                     WHERE (key_hash = $1 OR previous_key_hash = $1) AND revoked_at IS NULL",
                )
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref()
                    .map(|row| {
                        Ok(KeyedIntegration {
                            integration: Self::integration_from_row(row)?,
                            previous_key: row.try_get("previous_key")?,
                        })
                    })
                    .transpose()
            }

            async fn rotate_integration_key(
                &self,
                id: &str,
                new_key_hash: &str,
                previous_until: Timestamp,
                at: Timestamp,
                audit: Option<NewAuditEntry>,
            ) -> Result<Option<Integration>, StoreError> {
                let mut tx = self.begin().await?;
                let done = sqlx::query(
                    "UPDATE integrations
                     SET previous_key_hash = key_hash, previous_key_until = $1, key_hash = $2,
                         rotated_at = $3
                     WHERE id = $4 AND revoked_at IS NULL",
                )
                .bind(micros(previous_until))
                .bind(new_key_hash)
                .bind(micros(at))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(conflict_or)?;
                if done.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(None);
                }
                let row = Self::integration_row(&mut *tx, id).await?;
                Self::append_audit_in(&mut tx, audit.into_iter().collect()).await?;
                self.commit(tx).await?;
                row.as_ref().map(Self::integration_from_row).transpose()
            }

            async fn revoke_integration(
                &self,
                id: &str,
                at: Timestamp,
                audit: Option<NewAuditEntry>,
            ) -> Result<Option<Integration>, StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "UPDATE integrations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(micros(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let Some(row) = Self::integration_row(&mut *tx, id).await? else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                Self::append_audit_in(&mut tx, audit.into_iter().collect()).await?;
                self.commit(tx).await?;
                Self::integration_from_row(&row).map(Some)
            }

            async fn ingest(&self, items: &[IngestItem]) -> Result<Vec<IngestOutcome>, StoreError> {
                self.ingest_batch(items).await
            }

            fn blocking_ingest(&self) -> Option<std::sync::Arc<dyn crate::alerts::BlockingIngest>> {
                self.blocking_ingest_writer()
            }

            async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT id, akey, incident_id, link, state FROM alerts WHERE 1 = 1",
                );
                if !filter.statuses.is_empty() {
                    qb.push(" AND status IN (");
                    let mut sep = qb.separated(", ");
                    for s in &filter.statuses {
                        sep.push_bind(s.as_str());
                    }
                    qb.push(")");
                }
                if let Some(service) = &filter.service {
                    qb.push(" AND service = ").push_bind(service.clone());
                }
                if let Some(incident) = &filter.incident_id {
                    qb.push(" AND incident_id = ").push_bind(incident.clone());
                }
                if let Some(since) = filter.since {
                    qb.push(" AND first_seen >= ").push_bind(micros(since));
                }
                if let Some(c) = &filter.cursor {
                    // A row comparison, which both databases answer from alerts_seen.
                    qb.push(" AND (first_seen, id) < (")
                        .push_bind(c.first_seen)
                        .push(", ")
                        .push_bind(c.id.clone())
                        .push(")");
                }
                qb.push(" ORDER BY first_seen DESC, id DESC LIMIT ")
                    .push_bind(i64::from(filter.limit.max(1)));
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter().map(Self::alert_from_row).collect()
            }

            async fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
                let row = sqlx::query("SELECT id, akey, incident_id, link, state FROM alerts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::alert_from_row).transpose()
            }

            async fn alert_events(&self, id: &str) -> Result<Vec<AlertEventRecord>, StoreError> {
                let rows = sqlx::query(
                    "SELECT seq, received_at, outcome, body FROM alert_events WHERE alert_id = $1 ORDER BY seq",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let body: String = row.try_get("body")?;
                        Ok(AlertEventRecord {
                            seq: row.try_get("seq")?,
                            received_at: from_micros(row.try_get("received_at")?)?,
                            outcome: row.try_get("outcome")?,
                            event: serde_json::from_str(&body)
                                .map_err(|e| StoreError::Corrupt(format!("alert event: {e}")))?,
                        })
                    })
                    .collect()
            }

            async fn change_alert(
                &self,
                id: &str,
                event: &AlertEvent,
                at: Timestamp,
            ) -> Result<Option<(AlertRecord, IngestOutcome)>, StoreError> {
                let mut tx = self.begin().await?;
                let row = sqlx::query(concat!(
                    "SELECT id, akey, incident_id, link, state FROM alerts WHERE id = $1",
                    $lock
                ))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let mut rec = Self::alert_from_row(&row)?;
                let key: String = row.try_get("akey")?;
                let outcome = match apply(Some(&rec.routed.alert), event, at) {
                    Transition::Changed { alert, effect } => {
                        rec.routed.alert = alert;
                        if effect == Effect::Resolved {
                            rec.link = link_after_resolve(&rec.link, rec.routed.alert.incident_id.is_some());
                        }
                        match effect {
                            Effect::Repeated => IngestOutcome::Repeated(rec.routed.alert.id.clone()),
                            Effect::Acknowledged => IngestOutcome::Acknowledged(rec.routed.alert.id.clone()),
                            Effect::Resolved => IngestOutcome::Resolved(rec.routed.alert.id.clone()),
                        }
                    }
                    Transition::Ignored(why) => IngestOutcome::Ignored(why.describe()),
                    Transition::Open => IngestOutcome::Ignored("a trigger cannot be sent to one alert"),
                };
                if matches!(outcome, IngestOutcome::Ignored(_)) {
                    tx.rollback().await?;
                    return Ok(Some((rec, outcome)));
                }
                Self::upsert_alerts(&mut *tx, &[(&rec.routed, key, rec.link.as_str())]).await?;
                let body = crate::alerts::to_json(event)?;
                Self::insert_alert_events(&mut *tx, &[(Some(rec.routed.alert.id.clone()), at, outcome.name(), body)]).await?;
                self.commit(tx).await?;
                Ok(Some((rec, outcome)))
            }

            async fn alert_work(&self, limit: u32) -> Result<Vec<AlertWork>, StoreError> {
                use $reads as reads;
                let rows = reads::work(&self.pool, limit).await?;
                let mut link: Vec<(String, Vec<String>)> = Vec::new();
                let mut settle: Vec<String> = Vec::new();
                for (id, service, incident_id, linkage) in rows {
                    if linkage == "open" {
                        let service = service.unwrap_or_default();
                        match link.iter_mut().find(|(s, _)| *s == service) {
                            Some((_, ids)) => ids.push(id),
                            None => link.push((service, vec![id])),
                        }
                    } else if let Some(incident) = incident_id
                        && !settle.contains(&incident)
                    {
                        settle.push(incident);
                    }
                }
                Ok(link
                    .into_iter()
                    .map(|(service, alerts)| AlertWork::Link { service, alerts })
                    .chain(settle.into_iter().map(|incident_id| AlertWork::Settle { incident_id }))
                    .collect())
            }

            async fn link_alerts(
                &self,
                service: &str,
                alerts: &[String],
                plan: &LinkPlan<'_>,
                timers: &TimerPlan<'_>,
            ) -> Result<Option<IncidentId>, StoreError> {
                use $reads as reads;
                // The alerts are read and parsed before the transaction: on SQLite it holds the
                // only write lock, which ingestion waits for meanwhile.
                let candidates = reads::waiting(&self.pool, alerts).await?;
                if candidates.is_empty() {
                    return Ok(None);
                }
                let mut tx = self.begin().await?;
                let service_lock: Option<&'static str> = $service_lock;
                if let Some(lock) = service_lock {
                    sqlx::query(lock).bind(service).execute(&mut *tx).await?;
                }
                // Only those still waiting: another pass or process may have linked some since.
                let ids: Vec<String> = candidates.iter().map(|a| a.alert.id.clone()).collect();
                let still = reads::still_waiting(&mut tx, &ids).await?;
                let waiting: Vec<_> = candidates
                    .into_iter()
                    .filter(|a| still.contains(&a.alert.id))
                    .collect();
                if waiting.is_empty() {
                    tx.rollback().await?;
                    return Ok(None);
                }
                let current = sqlx::query(concat!(
                    "SELECT i.id, i.last_hash, i.state FROM incidents i
                     JOIN incident_services s ON s.incident_id = i.id
                     WHERE s.service = $1 AND i.status IN ('triage', 'investigating', 'contained', 'recovering')
                     ORDER BY i.declared_at DESC, i.id DESC LIMIT 1",
                    $lock
                ))
                .bind(service)
                .fetch_optional(&mut *tx)
                .await?;
                let notifier = self.notifier.get();
                let incident_id = match current {
                    Some(row) => {
                        let incident = Self::parse_state(&row.try_get::<String, _>("state")?)?;
                        let last_hash: String = row.try_get("last_hash")?;
                        let events = plan(Some(&incident), &waiting).map_err(StoreError::Rejected)?;
                        let id = incident.id.clone();
                        Self::seal_and_write(&mut tx, incident, last_hash, events, timers, notifier.as_deref()).await?;
                        id
                    }
                    None => {
                        let events = plan(None, &waiting).map_err(StoreError::Rejected)?;
                        let first_at = events
                            .first()
                            .map(|e| e.at)
                            .ok_or_else(|| StoreError::Corrupt("a new incident needs a declaration".into()))?;
                        let (incident, _) = Self::create_in_tx(&mut tx, first_at, events, timers, notifier.as_deref()).await?;
                        incident.id
                    }
                };
                for chunk in waiting.chunks(ROWS_PER_STATEMENT) {
                    let mut qb = QueryBuilder::<$db>::new("UPDATE alerts SET link = 'done', incident_id = ");
                    qb.push_bind(incident_id.as_str().to_string());
                    qb.push(" WHERE id IN (");
                    let mut sep = qb.separated(", ");
                    for a in chunk {
                        sep.push_bind(a.alert.id.clone());
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await?;
                }
                self.commit(tx).await?;
                Ok(Some(incident_id))
            }

            async fn settle_alerts(
                &self,
                incident_id: &str,
                plan: &SettlePlan<'_>,
                timers: &TimerPlan<'_>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                let row = sqlx::query(concat!("SELECT last_hash, state FROM incidents WHERE id = $1", $lock))
                    .bind(incident_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                sqlx::query("UPDATE alerts SET link = 'done' WHERE incident_id = $1 AND link = 'resolve'")
                    .bind(incident_id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(row) = row {
                    let counts = sqlx::query(
                        "SELECT COUNT(*) AS total,
                           COALESCE(SUM(CASE WHEN status <> 'resolved' THEN 1 ELSE 0 END), 0) AS open
                         FROM alerts WHERE incident_id = $1",
                    )
                    .bind(incident_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    let total: i64 = counts.try_get("total")?;
                    let still_open: i64 = counts.try_get("open")?;
                    if total > 0 && still_open == 0 {
                        let incident = Self::parse_state(&row.try_get::<String, _>("state")?)?;
                        let last_hash: String = row.try_get("last_hash")?;
                        let events = plan(&incident, u64::try_from(total).unwrap_or(0));
                        let notifier = self.notifier.get();
                        Self::seal_and_write(&mut tx, incident, last_hash, events, timers, notifier.as_deref()).await?;
                    }
                }
                self.commit(tx).await?;
                Ok(())
            }

            async fn record_change(
                &self,
                integration_id: &str,
                service: &str,
                change: &warroom_core::alert::pagerduty::ChangeEvent,
                at: Timestamp,
                plan: &ChangePlan<'_>,
                timers: &TimerPlan<'_>,
            ) -> Result<Vec<IncidentId>, StoreError> {
                let mut tx = self.begin().await?;
                let body = serde_json::json!({
                    "summary": change.summary,
                    "source": change.source,
                    "timestamp": change.timestamp,
                    "custom_details": change.custom_details,
                    "links": change.links,
                });
                sqlx::query(
                    "INSERT INTO change_events (integration_id, service, received_at, body) VALUES ($1, $2, $3, $4)",
                )
                .bind(integration_id)
                .bind(service)
                .bind(micros(at))
                .bind(body.to_string())
                .execute(&mut *tx)
                .await?;
                let rows = sqlx::query(concat!(
                    "SELECT i.id, i.last_hash, i.state FROM incidents i
                     JOIN incident_services s ON s.incident_id = i.id
                     WHERE s.service = $1 AND i.status IN ('triage', 'investigating', 'contained', 'recovering')
                     ORDER BY i.id",
                    $lock
                ))
                .bind(service)
                .fetch_all(&mut *tx)
                .await?;
                let notifier = self.notifier.get();
                let mut touched = Vec::new();
                for row in rows {
                    let incident = Self::parse_state(&row.try_get::<String, _>("state")?)?;
                    let last_hash: String = row.try_get("last_hash")?;
                    let events = plan(&incident);
                    touched.push(incident.id.clone());
                    Self::seal_and_write(&mut tx, incident, last_hash, events, timers, notifier.as_deref()).await?;
                }
                self.commit(tx).await?;
                Ok(touched)
            }
        }
    };
}

pub(crate) use alerts_impl;
