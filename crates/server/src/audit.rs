//! Writing the access audit log from request handlers.
//!
//! Cost is kept off the hot paths: nothing here runs per ingestion request or per ordinary API
//! request. Reads of restricted incidents and of evidence are rare and must be on record
//! before the data leaves, so they are written before answering, and if that fails the read
//! fails. Token use is coalesced in memory to at most one entry per token per
//! [`TOKEN_USE_WINDOW`] (per process), and failed authentications are bounded by the lockout;
//! both are recorded without failing the request when the write does not work.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use warroom_core::Incident;
use warroom_core::audit::{AuditAction, NewAuditEntry};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::security::ClientSource;
use crate::state::AppState;

/// Token use is recorded at most once per token in this window.
pub const TOKEN_USE_WINDOW: SignedDuration = SignedDuration::from_mins(10);

/// When each token's use was last recorded by this process.
#[derive(Debug, Default)]
pub struct TokenUses(Mutex<HashMap<String, Timestamp>>);

impl TokenUses {
    /// Claims the right to record `token_id`'s use at `now`: true when none was recorded in
    /// the window (and remembers `now`).
    fn claim(&self, token_id: &str, now: Timestamp) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(token_id) {
            Some(last) if now.duration_since(*last) < TOKEN_USE_WINDOW => false,
            _ => {
                seen.insert(token_id.to_string(), now);
                true
            }
        }
    }

    /// Forgets a claim whose entry could not be written, so the next use tries again.
    fn release(&self, token_id: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(token_id);
    }
}

fn entry(
    state: &AppState,
    actor: &str,
    action: AuditAction,
    target: &str,
    source: &str,
    outcome: &str,
) -> NewAuditEntry {
    NewAuditEntry {
        at: state.clock.now(),
        actor: actor.to_string(),
        action,
        target: target.to_string(),
        source: source.to_string(),
        outcome: outcome.to_string(),
    }
}

/// The entry for a credential change made by `actor` from `source` (for callers without an
/// API [`Auth`], such as the web UI). The store writes it in the change's own transaction, so
/// no change is ever off the record and no entry names a change that did not happen.
pub fn credential_change(
    state: &AppState,
    actor: &str,
    source: &ClientSource,
    target: &str,
) -> NewAuditEntry {
    entry(
        state,
        actor,
        AuditAction::CredentialChange,
        target,
        &source.0,
        "ok",
    )
}

/// [`credential_change`] made by the API caller.
pub fn credential_changed(state: &AppState, auth: &Auth, target: &str) -> NewAuditEntry {
    credential_change(state, &auth.0.name, &auth.2, target)
}

/// Records what the caller did; the request fails (500) if the entry cannot be written, so
/// nothing audited happens off the record.
pub async fn record(
    state: &AppState,
    auth: &Auth,
    action: AuditAction,
    target: &str,
) -> Result<(), ApiError> {
    let e = entry(state, &auth.0.name, action, target, &(auth.2).0, "ok");
    state.store.append_audit(vec![e]).await?;
    Ok(())
}

/// Records a read of `inc` when it is restricted (`what` says which view: `incident`,
/// `events`, `export`...).
pub async fn restricted_read(
    state: &AppState,
    auth: &Auth,
    inc: &Incident,
    what: &str,
) -> Result<(), ApiError> {
    if !inc.restricted {
        return Ok(());
    }
    record(
        state,
        auth,
        AuditAction::RestrictedRead,
        &format!("{} {what}", inc.id),
    )
    .await
}

/// Records one read that returned several restricted incidents (a list or a report), as one
/// entry naming them all.
pub async fn restricted_list<'a>(
    state: &AppState,
    auth: &Auth,
    incidents: impl IntoIterator<Item = &'a Incident>,
    what: &str,
) -> Result<(), ApiError> {
    let ids: Vec<String> = incidents
        .into_iter()
        .filter(|i| i.restricted)
        .map(|i| i.id.to_string())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    record(
        state,
        auth,
        AuditAction::RestrictedRead,
        &format!("{what}: {}", ids.join(",")),
    )
    .await
}

/// Records an entry without failing the caller: a failure is logged instead (for failed
/// authentications and token use, whose requests must not fail because of the log).
pub async fn record_quietly(
    state: &AppState,
    actor: &str,
    action: AuditAction,
    target: &str,
    source: &str,
    outcome: &str,
) {
    let e = entry(state, actor, action, target, source, outcome);
    if let Err(err) = state.store.append_audit(vec![e]).await {
        tracing::warn!(error = %err, action = %action, "could not write the audit log");
    }
}

/// Records that a token was used, at most once per token per [`TOKEN_USE_WINDOW`].
pub async fn token_used(state: &AppState, token_id: &str, actor: &str, source: &ClientSource) {
    if !state.token_uses.claim(token_id, state.clock.now()) {
        return;
    }
    let e = entry(
        state,
        actor,
        AuditAction::TokenUse,
        token_id,
        &source.0,
        "ok",
    );
    if let Err(err) = state.store.append_audit(vec![e]).await {
        state.token_uses.release(token_id);
        tracing::warn!(error = %err, token_id, "could not write the audit log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_use_is_claimed_once_per_window() {
        let uses = TokenUses::default();
        let t0: Timestamp = "2026-11-22T10:00:00Z".parse().expect("time");
        assert!(uses.claim("tok_a", t0));
        assert!(!uses.claim("tok_a", t0 + SignedDuration::from_mins(9)));
        assert!(uses.claim("tok_b", t0), "per token");
        assert!(uses.claim("tok_a", t0 + SignedDuration::from_mins(10)));
        uses.release("tok_b");
        assert!(uses.claim("tok_b", t0 + SignedDuration::from_secs(1)));
    }
}
