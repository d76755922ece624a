//! Web UI accounts (admin only). Passwords arrive in the request body, are hashed here and
//! never stored, logged or returned.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use warroom_core::Role;
use warroom_store::NewUser;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::state::AppState;

/// `GET /api/v1/users`
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(Role::Admin)?;
    Ok(Json(json!({ "users": state.store.list_users().await? })))
}

/// Body of an account creation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    role: Role,
    #[serde(default)]
    security: bool,
    password: String,
}

/// Login names share the namespace of token names (both become event actors).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `POST /api/v1/users`
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    auth.require(Role::Admin)?;
    let name = b.name.trim().to_string();
    if !valid_name(&name) {
        return Err(ApiError::invalid(
            "name",
            "name: a handle of 1-64 characters without spaces",
        ));
    }
    crate::passwords::check_policy(&b.password)
        .map_err(|e| ApiError::invalid("password", e.to_string()))?;
    // argon2 takes tens of milliseconds of CPU by design: keep it off the async workers.
    let password = b.password;
    let password_hash =
        tokio::task::spawn_blocking(move || crate::passwords::hash_password(&password))
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map_err(|e| ApiError::internal(&e))?;
    let record = state
        .store
        .create_user(NewUser {
            name,
            role: b.role,
            security: b.security,
            password_hash,
            created_at: state.clock.now(),
            created_by: auth.0.name.clone(),
        })
        .await
        .map_err(|e| match e {
            warroom_store::StoreError::Conflict(_) => {
                ApiError::conflict("name: a user with this name exists").with_field("name")
            }
            e => e.into(),
        })?;
    tracing::info!(user = %record.name, role = %record.role, by = %auth.0.name, "user created");
    Ok((StatusCode::CREATED, Json(json!(record))))
}
