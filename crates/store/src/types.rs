//! Plain records the store hands back.

use jiff::Timestamp;
use serde::Serialize;
use warroom_core::event::ChainBreak;
use warroom_core::{Role, TokenScope};

/// A token to store; the secret itself never reaches the store.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Public id (`tok_...`), used to list and revoke.
    pub id: String,
    /// Person or system the token acts as; the actor of its events.
    pub name: String,
    /// Permission level.
    pub role: Role,
    /// Member of the security team (sees restricted incidents).
    pub security: bool,
    /// SHA-256 of the secret, hex.
    pub token_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// What it may be used for besides its role.
    pub scope: TokenScope,
    /// When it stops working; never when absent.
    pub expires_at: Option<Timestamp>,
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// Public id.
    pub id: String,
    /// Person or system the token acts as.
    pub name: String,
    /// Permission level.
    pub role: Role,
    /// Member of the security team.
    pub security: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    /// When it was last used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    /// What it may be used for besides its role.
    pub scope: TokenScope,
    /// When it stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

impl TokenRecord {
    /// Whether the token has expired at `now`.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Incidents whose chains were checked.
    pub incidents_checked: u64,
    /// Events checked.
    pub events_checked: u64,
    /// True when nothing is broken.
    pub ok: bool,
    /// The first broken event of each broken chain.
    pub broken: Vec<ChainBreak>,
}

/// A schedule override to store (see `warroom_core::Override`), with who created it and when.
#[derive(Debug, Clone)]
pub struct NewOverride {
    /// Public id (`ovr_...`).
    pub id: String,
    /// Schedule it applies to.
    pub schedule: String,
    /// Person on call instead.
    pub person: String,
    /// Start, inclusive.
    pub start: Timestamp,
    /// End, exclusive.
    pub end: Timestamp,
    /// Who created it (the token's name).
    pub created_by: String,
    /// When it was created.
    pub created_at: Timestamp,
}

/// An action item with the incident it belongs to, as listed across incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRecord {
    /// Incident the item belongs to.
    pub incident_id: String,
    /// The item.
    #[serde(flatten)]
    pub item: warroom_core::action::ActionItem,
}

/// Which action items to list; all given conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    /// Owned by this person.
    pub owner: Option<String>,
    /// Only items still open or in progress.
    pub open_only: bool,
    /// Only open items whose due instant is at or before this time (overdue at it).
    pub overdue_at: Option<Timestamp>,
    /// Only this incident's items.
    pub incident: Option<String>,
    /// At most this many (clamped to 1..=1000).
    pub limit: u32,
}

/// Counts for the Prometheus scrape, read at scrape time. Restricted incidents are counted
/// (nothing about them but severity and status is exposed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationalStats {
    /// Open incidents per (severity, status).
    pub open_incidents: Vec<(String, String, u64)>,
    /// Outbox messages per delivery status.
    pub outbox: Vec<(String, u64)>,
    /// Due time of the oldest timer that is due at the time asked and has not fired.
    pub oldest_due_timer: Option<Timestamp>,
}

/// A web UI account to store; the password arrives already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name; also the actor of the user's events (the same namespace as token names).
    pub name: String,
    /// Permission level.
    pub role: Role,
    /// Member of the security team (sees restricted incidents).
    pub security: bool,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
}

/// A stored web UI account. The password hash is kept out of serialisation so no listing
/// can ever show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    /// Login name.
    pub name: String,
    /// Permission level.
    pub role: Role,
    /// Member of the security team.
    pub security: bool,
    /// argon2id PHC string.
    #[serde(skip)]
    pub password_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// When it was disabled: it cannot sign in and has no sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
    /// Who disabled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_by: Option<String>,
}

/// A login session to store: only the SHA-256 of the cookie's secret.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the session secret, hex.
    pub token_hash: String,
    /// The user it belongs to.
    pub user_name: String,
    /// When it started.
    pub created_at: Timestamp,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
}
