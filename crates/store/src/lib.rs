//! Warroom persistence: one [`Store`] trait and its SQLite and PostgreSQL backends.
//!
//! The store owns transactions, not rules: it appends events that `warroom-core` decided on,
//! keeps each incident's projection row equal to the fold of its log in the same transaction,
//! allocates incident ids, enforces restricted-incident visibility in every query, and keeps
//! API tokens (hashes only). Both backends share one body of SQL (see `backend.rs`) and one
//! conformance suite (`tests/conformance.rs`).

mod alerts;
mod audit;
mod backend;
mod evidence;
mod filter;
mod indicators;
mod link_reads;
mod migrate;
mod postgres;
mod postgres_ingest;
mod sqlite;
mod sqlite_ingest;
mod statuspage;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod types;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use warroom_core::audit::NewAuditEntry;
use warroom_core::outbox::{Delivery, Outcome, OutgoingMessage};
use warroom_core::timer::TimerSpec;
use warroom_core::{Event, Incident, IncidentId, NewEvent, Override, Principal};

pub use alerts::{
    AlertCursor, AlertEventRecord, AlertFilter, AlertRecord, AlertStore, AlertWork, BlockingIngest,
    ChangePlan, Disposition, IngestItem, IngestOutcome, Integration, KeyedIntegration, LinkPlan,
    NewIntegration, SettlePlan,
};
pub use audit::{AuditFilter, AuditStore};
pub use evidence::{EvidenceRecord, EvidenceStore};
pub use filter::{Cursor, IncidentFilter, Page, StatusFilter};
pub use indicators::{IndicatorChange, IndicatorRecord, IndicatorStore};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use statuspage::{IncidentPagePlan, PagePlan, StatusPageStore};
pub use types::{
    ActionFilter, ActionRecord, NewOverride, NewSession, NewToken, NewUser, OperationalStats,
    TokenRecord, UserRecord, VerifyReport,
};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row.
    #[error("not found")]
    NotFound,
    /// Someone else changed the incident first (expected version did not match), or a unique
    /// key is taken. Callers reload and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data does not parse or does not fold; `warroom verify` will say more.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The database URL is not one Warroom can use.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    BadUrl(String),
    /// A migration failed; the database is left at the version before it.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// Migration number.
        version: i64,
        /// Migration name.
        name: &'static str,
        /// Underlying error.
        source: sqlx::Error,
    },
    /// SQLite failed on the ingestion writer's own connection.
    #[error("SQLite: {0}")]
    Sqlite(String),
    /// The domain rules refused the change (see [`Store::update`]).
    #[error("{0}")]
    Rejected(warroom_core::DomainError),
    /// The database said no, or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The decision [`Store::update`] runs under the incident's lock: current state in, events out.
pub type Decide<'d> = dyn for<'a> Fn(&'a Incident) -> Result<Vec<NewEvent>, warroom_core::DomainError>
    + Send
    + Sync
    + 'd;

/// The timers an incident needs in a given state (see `warroom_core::timer::desired_timers`);
/// the store writes them in the same transaction as the events.
pub type TimerPlan<'p> = dyn Fn(&Incident) -> Vec<TimerSpec> + Send + Sync + 'p;

/// What a due timer records, given the incident's current state.
pub type FireTimer<'f> = dyn Fn(&TimerSpec, &Incident) -> TimerEffects + Send + Sync + 'f;

/// What firing a timer writes, in the transaction that marks it fired.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimerEffects {
    /// Events appended to the incident's log.
    pub events: Vec<NewEvent>,
    /// Notifications put in the outbox (ignored if already there, by id).
    pub messages: Vec<OutgoingMessage>,
}

/// The notifications a batch of newly written events causes (`events` are sealed, in order;
/// `incident` is the state after them). Set with [`Store::set_notifier`]; the store writes the
/// messages in the same transaction as the events, so a notification exists if and only if
/// the event that caused it does.
pub type Notifier = dyn Fn(&Incident, &[Event]) -> Vec<OutgoingMessage> + Send + Sync;

/// Where a store keeps its notifier.
#[derive(Clone, Default)]
pub(crate) struct NotifierSlot(Arc<std::sync::RwLock<Option<Arc<Notifier>>>>);

impl NotifierSlot {
    pub(crate) fn get(&self) -> Option<Arc<Notifier>> {
        self.0
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    pub(crate) fn set(&self, notifier: Arc<Notifier>) {
        *self.0.write().unwrap_or_else(|poison| poison.into_inner()) = Some(notifier);
    }
}

impl std::fmt::Debug for NotifierSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.get().is_some() {
            "NotifierSlot(set)"
        } else {
            "NotifierSlot(none)"
        })
    }
}

/// A message an engine claimed for delivery, until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The message.
    pub message: OutgoingMessage,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When the claim lapses and another engine may take the message over.
    pub lease_until: Timestamp,
}

/// A timer and whether it fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiredTimer {
    /// The timer.
    pub timer: TimerSpec,
    /// When it fired (`None` while pending).
    pub fired_at: Option<Timestamp>,
    /// How many events firing it appended.
    pub events: usize,
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Everything Warroom persists. Implementations must pass `tests/conformance.rs`.
#[async_trait]
pub trait Store:
    AlertStore + StatusPageStore + EvidenceStore + IndicatorStore + AuditStore + Send + Sync + 'static
{
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Allocates the next id for the UTC day of the first event's time, and stores `events`
    /// (a declaration, then what follows from it, such as attached playbooks) with the
    /// projection, in one transaction.
    async fn create_incident(
        &self,
        events: Vec<NewEvent>,
        timers: &TimerPlan<'_>,
    ) -> Result<(Incident, Vec<Event>), StoreError>;

    /// Appends `events` if the incident is still at `expected_version`; otherwise
    /// [`StoreError::Conflict`] and nothing is written.
    async fn append(
        &self,
        id: &IncidentId,
        expected_version: u64,
        events: Vec<NewEvent>,
        timers: &TimerPlan<'_>,
    ) -> Result<(Incident, Vec<Event>), StoreError>;

    /// Locks the incident (if `viewer` may see it), lets `decide` turn its current state into
    /// events, and appends them, all in one transaction. Concurrent writers queue on the lock
    /// instead of failing, so nothing is decided on stale state. A refusal from `decide` comes
    /// back as [`StoreError::Rejected`] and writes nothing.
    async fn update(
        &self,
        viewer: &Principal,
        id: &IncidentId,
        decide: &crate::Decide<'_>,
        timers: &TimerPlan<'_>,
    ) -> Result<(Incident, Vec<Event>), StoreError>;

    /// Fires due timers, oldest first, at most `limit`: for each, in one transaction, locks
    /// the timer (skipping ones another process holds), re-reads the incident, appends what
    /// `fire` returns, schedules the timers the new state needs, and marks the timer fired.
    /// A fired timer never fires again, whatever the clock does afterwards.
    async fn fire_due_timers(
        &self,
        now: Timestamp,
        limit: usize,
        fire: &FireTimer<'_>,
        timers: &TimerPlan<'_>,
    ) -> Result<Vec<FiredTimer>, StoreError>;

    /// From now on, every write of events (declarations, commands, appends, timer firings)
    /// also writes the notifications `notifier` derives from them, in the same transaction.
    fn set_notifier(&self, notifier: Arc<Notifier>);

    /// Puts messages in the outbox as `pending`, due at `now`. A message whose id is already
    /// there is left alone, so enqueuing is idempotent. Returns how many were new.
    async fn enqueue_messages(
        &self,
        messages: Vec<OutgoingMessage>,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Claims up to `limit` messages due at `now`, oldest due first: `pending` or `failed` ones
    /// whose next attempt is due, and `sending` ones whose lease ran out (their sender died).
    /// Each becomes `sending` with a lease until `now + lease`. Messages another process is
    /// claiming at the same moment are skipped, so no two claims overlap.
    async fn claim_due_messages(
        &self,
        now: Timestamp,
        limit: usize,
        lease: jiff::SignedDuration,
    ) -> Result<Vec<Claimed>, StoreError>;

    /// Records one attempt's outcome: attempts + 1, the new status, the error. Only a message
    /// still `sending` is changed (`false` otherwise).
    async fn record_delivery(
        &self,
        id: &str,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// The delivery records of an incident's messages, oldest first. Callers check the
    /// incident's visibility first.
    async fn deliveries(&self, incident_id: &IncidentId) -> Result<Vec<Delivery>, StoreError>;

    /// An incident's timers, fired or not, by due time (for inspection and tests).
    async fn timers(&self, incident_id: &IncidentId) -> Result<Vec<FiredTimer>, StoreError>;

    /// The incident, if it exists and `viewer` may see it.
    async fn incident(
        &self,
        viewer: &Principal,
        id: &IncidentId,
    ) -> Result<Option<Incident>, StoreError>;

    /// The incident's whole log in order, if it exists and `viewer` may see it.
    async fn events(
        &self,
        viewer: &Principal,
        id: &IncidentId,
    ) -> Result<Option<Vec<Event>>, StoreError>;

    /// Action items matching `filter` on incidents `viewer` may see, by due time.
    async fn list_actions(
        &self,
        viewer: &Principal,
        filter: &ActionFilter,
    ) -> Result<Vec<ActionRecord>, StoreError>;

    /// Counts for metrics: open incidents by severity and status, outbox messages by status,
    /// and the oldest timer due at `now` that has not fired.
    async fn operational_stats(&self, now: Timestamp) -> Result<OperationalStats, StoreError>;

    /// Incidents matching `filter` that `viewer` may see, newest first, one page.
    async fn list(&self, viewer: &Principal, filter: &IncidentFilter) -> Result<Page, StoreError>;

    /// How many incidents match `filter` among those `viewer` may see.
    async fn count(&self, viewer: &Principal, filter: &IncidentFilter) -> Result<u64, StoreError>;

    /// Recomputes every incident's hash chain and checks each projection equals its fold.
    async fn verify(&self) -> Result<VerifyReport, StoreError>;

    /// Stores a new API token (only its hash).
    ///
    /// `audit` is written to the audit log in the same transaction, only if the change is made.
    async fn create_token(
        &self,
        token: NewToken,
        audit: Option<NewAuditEntry>,
    ) -> Result<TokenRecord, StoreError>;

    /// The live or revoked token with this hash.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// All tokens, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Revokes a token; `None` if there is no such token. Revoking a revoked one changes
    /// nothing but still counts as made for `audit`.
    ///
    /// `audit` is written to the audit log in the same transaction, only if the change is made.
    async fn revoke_token(
        &self,
        id: &str,
        at: Timestamp,
        audit: Option<NewAuditEntry>,
    ) -> Result<Option<TokenRecord>, StoreError>;

    /// Records that a token was used.
    async fn touch_token(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Number of tokens that are not revoked.
    async fn live_token_count(&self) -> Result<u64, StoreError>;

    /// Stores a web UI account. `Conflict` if the name is taken.
    ///
    /// `audit` is written to the audit log in the same transaction, only if the change is made.
    async fn create_user(
        &self,
        user: NewUser,
        audit: Option<NewAuditEntry>,
    ) -> Result<UserRecord, StoreError>;

    /// The account called `name`.
    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;

    /// All accounts, by name.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Stores a login session, and drops sessions that expired before it started.
    async fn create_session(&self, session: NewSession) -> Result<(), StoreError>;

    /// The account of the session with this hash, if it has not expired at `now`.
    async fn session_user(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError>;

    /// Disables an account (`Some((when, by whom))`), ending all its sessions, or enables it
    /// again (`None`). Disabling a disabled account keeps the first time. `NotFound` if there is
    /// no such account.
    ///
    /// `audit` is written to the audit log in the same transaction, only if the change is made.
    async fn set_user_disabled(
        &self,
        name: &str,
        disabled: Option<(Timestamp, &str)>,
        audit: Option<NewAuditEntry>,
    ) -> Result<UserRecord, StoreError>;

    /// Replaces an account's password hash and ends its other sessions (all but
    /// `keep_session`, the hash of the session that made the change). `NotFound` if there is
    /// no such account.
    ///
    /// `audit` is written to the audit log in the same transaction, only if the change is made.
    async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        keep_session: Option<&str>,
        audit: Option<NewAuditEntry>,
    ) -> Result<(), StoreError>;

    /// Ends a session (logout); ending an unknown one is not an error.
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// A number that grows whenever any incident changes (the sum of every incident's
    /// version, which each appended event raises by one). Cheap enough to poll for live
    /// views, and it sees writes made by every process sharing the database.
    async fn change_marker(&self) -> Result<i64, StoreError>;

    /// Records a schedule override (an append-only `created` row). `Conflict` if the id is
    /// taken.
    async fn create_override(&self, new: NewOverride) -> Result<Override, StoreError>;

    /// Records that an override of `schedule` was removed (the row's removed columns are set
    /// once; nothing is deleted). `NotFound` if there is no such override of that schedule,
    /// `Conflict` if it was already removed.
    async fn remove_override(
        &self,
        schedule: &str,
        id: &str,
        actor: &str,
        at: Timestamp,
        reason: Option<&str>,
    ) -> Result<Override, StoreError>;

    /// The live (not removed) overrides of `schedule` (of every schedule when `None`) that
    /// overlap `[from, to)`, by start time.
    async fn overrides(
        &self,
        schedule: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Override>, StoreError>;

    /// The live overrides that can matter to shifts in `[from, to)` of any schedule: those
    /// overlapping the window widened by the schedule math's search horizon, since a shift's
    /// bounds may be set by an override beyond the window.
    async fn overrides_around(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Override>, StoreError> {
        let reach =
            jiff::SignedDuration::from_hours(24 * warroom_core::schedule::SEARCH_HORIZON_DAYS);
        let lo = from.saturating_sub(reach).unwrap_or(from);
        let hi = to.saturating_add(reach).unwrap_or(to);
        self.overrides(None, lo, hi).await
    }

    /// [`Store::overrides_around`] one instant: what decides who is on call at `at`, and until
    /// when. Paging uses it so a page goes to whoever an override puts on call.
    async fn overrides_at(&self, at: Timestamp) -> Result<Vec<Override>, StoreError> {
        let to = at
            .checked_add(jiff::SignedDuration::from_micros(1))
            .unwrap_or(at);
        self.overrides_around(at, to).await
    }
}

/// Opens (creating and migrating as needed) the store a URL names.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::BadUrl(redact_url(url)))
    }
}

/// The URL with any password replaced, safe for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://w:s3cret@db:5432/warroom"),
            "postgres://w:***@db:5432/warroom"
        );
        assert_eq!(
            redact_url("postgres://w@db/warroom"),
            "postgres://w@db/warroom"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
