//! Bearer-token authentication and the role ladder.
//!
//! A token is `wr_` followed by 64 hex digits of randomness; only its SHA-256 is stored, and
//! lookups go by that hash, so no secret is ever compared in application code and a stolen
//! database does not yield usable tokens.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use jiff::SignedDuration;
use sha2::{Digest, Sha256};
use warroom_core::{Principal, Role, TokenScope};
use warroom_store::{NewToken, TokenRecord};

use crate::error::ApiError;
use crate::security::{self, ClientSource};
use crate::state::AppState;

/// Prefix that makes Warroom tokens recognisable to secret scanners.
pub const TOKEN_PREFIX: &str = "wr_";

/// A freshly minted token: the secret (shown once) and what to store.
pub struct Minted {
    /// The secret to hand to the user.
    pub secret: String,
    /// The record to store.
    pub record: NewToken,
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}

/// SHA-256 of a token secret, hex.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a new token for `name` with `role`.
pub fn mint(
    name: &str,
    role: Role,
    security: bool,
    created_by: &str,
    now: jiff::Timestamp,
) -> Minted {
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(32));
    Minted {
        record: NewToken {
            id: format!("tok_{}", random_hex(8)),
            name: name.to_string(),
            role,
            security,
            token_hash: hash_token(&secret),
            created_at: now,
            created_by: created_by.to_string(),
            scope: TokenScope::Full,
            expires_at: None,
        },
        secret,
    }
}

/// The authenticated caller, its token's scope and the address it came from (for the audit
/// log); extracting it rejects requests without a live token.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal, pub TokenScope, pub ClientSource);

impl Auth {
    /// Fails with 403 unless the caller holds at least `needed` and its token's scope allows
    /// it. Every handler checks its route's least role here, so a read-only token is held to
    /// the viewer's routes in one place.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if !self.0.has(needed) {
            return Err(ApiError::forbidden(format!(
                "this needs the {needed} role; your token has {}",
                self.0.role
            )));
        }
        if !self.1.allows(needed) {
            return Err(ApiError::forbidden(format!(
                "this needs the {needed} role; your token is {} (it may only read)",
                self.1
            )));
        }
        Ok(())
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let source = parts
            .extensions
            .get::<ClientSource>()
            .cloned()
            .unwrap_or_else(|| ClientSource("unknown".into()));
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing bearer token: send Authorization: Bearer <token>")
        })?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let secret = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        let (principal, scope) = authenticate_scoped(state, &source, secret).await?;
        Ok(Auth(principal, scope, source))
    }
}

/// The caller a token secret belongs to; 401 when it is unknown, revoked or expired, 429 when
/// `source` is locked out after too many failures or the token is over its rate. For routes
/// that only read (a read-only token passes as any other).
pub async fn authenticate(
    state: &AppState,
    source: &ClientSource,
    secret: &str,
) -> Result<Principal, ApiError> {
    authenticate_scoped(state, source, secret)
        .await
        .map(|(principal, _)| principal)
}

/// [`authenticate`], with the token's scope.
pub async fn authenticate_scoped(
    state: &AppState,
    source: &ClientSource,
    secret: &str,
) -> Result<(Principal, TokenScope), ApiError> {
    // Checked before the lookup, so a locked-out guesser learns nothing, right or wrong.
    security::check_lockout(state, source).map_err(|wait| {
        ApiError::rate_limited(
            wait,
            "too many failed authentications from your address; try again later",
        )
    })?;
    let found = state
        .store
        .token_by_hash(&hash_token(secret))
        .await?
        .filter(|t| t.revoked_at.is_none());
    let Some(record) = found else {
        security::record_auth_failure(state, source, "api token", "-", "invalid or revoked token")
            .await;
        return Err(ApiError::unauthorized("invalid or revoked token"));
    };
    if record.expired(state.clock.now()) {
        // Counted like any other failure: a script stuck on an old token should be noticed.
        security::record_auth_failure(state, source, &record.id, &record.name, "token expired")
            .await;
        return Err(ApiError::unauthorized("token expired"));
    }
    security::check_token(state, &record.id)
        .map_err(|wait| ApiError::rate_limited(wait, "too many requests with this token"))?;
    touch(state, &record).await;
    crate::audit::token_used(state, &record.id, &record.name, source).await;
    Ok((
        Principal {
            name: record.name,
            role: record.role,
            security: record.security,
        },
        record.scope,
    ))
}

/// Records use at most once a minute per token, so reads do not become writes.
async fn touch(state: &AppState, record: &TokenRecord) {
    let now = state.clock.now();
    let stale = record
        .last_used_at
        .is_none_or(|last| now.duration_since(last) > SignedDuration::from_secs(60));
    if stale && let Err(err) = state.store.touch_token(&record.id, now).await {
        tracing::warn!(error = %err, token_id = %record.id, "could not record token use");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_unique_and_stored_hashed() {
        let now = jiff::Timestamp::UNIX_EPOCH;
        let a = mint("alice", Role::Responder, false, "admin", now);
        let b = mint("alice", Role::Responder, false, "admin", now);
        assert_ne!(a.secret, b.secret);
        assert_ne!(a.record.id, b.record.id);
        assert!(a.secret.starts_with("wr_") && a.secret.len() == 67);
        assert_eq!(a.record.token_hash, hash_token(&a.secret));
        assert!(!a.record.token_hash.contains(&a.secret[3..]));
    }
}
