//! Token administration (admin only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use warroom_core::Role;

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
    let minted = mint(name, b.role, b.security, &auth.0.name, state.clock.now());
    let record = state.store.create_token(minted.record).await?;
    tracing::info!(token_id = %record.id, name = %record.name, role = %record.role, by = %auth.0.name, "token created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": record.id,
            "name": record.name,
            "role": record.role,
            "security": record.security,
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
    let record = state
        .store
        .revoke_token(&id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no token {id}")))?;
    tracing::info!(token_id = %record.id, by = %auth.0.name, "token revoked");
    Ok(Json(
        json!({ "id": record.id, "revoked_at": record.revoked_at }),
    ))
}
