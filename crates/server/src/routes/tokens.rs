//! Token administration (admin only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use warroom_core::duration::Duration;
use warroom_core::{Role, TokenScope};

use crate::auth::{Auth, mint};
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::state::AppState;

/// `GET /api/v1/tokens`
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(Role::Admin)?;
    Ok(Json(json!({ "tokens": state.store.list_tokens().await? })))
}

/// Body of a token creation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    role: Role,
    #[serde(default)]
    security: bool,
    /// `full` (default) or `read-only`.
    #[serde(default)]
    scope: TokenScope,
    /// Lifetime from now (`90d`, `12h`); never expires when absent.
    #[serde(default)]
    expires_in: Option<Duration>,
}

/// `POST /api/v1/tokens`
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    auth.require(Role::Admin)?;
    let name = b.name.trim();
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ApiError::invalid(
            "name",
            "name: a handle of 1-64 characters without spaces",
        ));
    }
    let now = state.clock.now();
    let expires_at =
        match b.expires_in {
            None => None,
            Some(d) if d.as_secs() <= 0 => {
                return Err(ApiError::invalid(
                    "expires_in",
                    "expires_in: must be a positive duration such as 90d",
                ));
            }
            Some(d) => Some(now.checked_add(d.as_signed()).map_err(|_| {
                ApiError::invalid("expires_in", "expires_in: too far in the future")
            })?),
        };
    let mut minted = mint(name, b.role, b.security, &auth.0.name, now);
    minted.record.scope = b.scope;
    minted.record.expires_at = expires_at;
    let audit =
        crate::audit::credential_changed(&state, &auth, &format!("{} created", minted.record.id));
    let record = state.store.create_token(minted.record, Some(audit)).await?;
    tracing::info!(token_id = %record.id, name = %record.name, role = %record.role, scope = %record.scope, by = %auth.0.name, "token created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": record.id,
            "name": record.name,
            "role": record.role,
            "security": record.security,
            "scope": record.scope,
            "expires_at": record.expires_at,
            "created_at": record.created_at,
            "token": minted.secret,
        })),
    ))
}

/// `DELETE /api/v1/tokens/{id}`
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(Role::Admin)?;
    let audit = crate::audit::credential_changed(&state, &auth, &format!("{id} revoked"));
    let record = state
        .store
        .revoke_token(&id, state.clock.now(), Some(audit))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no token {id}")))?;
    tracing::info!(token_id = %record.id, by = %auth.0.name, "token revoked");
    Ok(Json(
        json!({ "id": record.id, "revoked_at": record.revoked_at }),
    ))
}
