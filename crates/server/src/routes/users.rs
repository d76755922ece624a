//! Web UI accounts (admin only). Passwords arrive in the request body, are hashed here and
//! never stored, logged or returned. Disabling an account ends its sessions at once; setting a
//! password ends them too.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use warroom_core::Role;
use warroom_store::NewUser;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
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
    // argon2 takes tens of milliseconds of CPU by design: keep it off the async workers.
    let password_hash = checked_hash(b.password).await?;
    let audit = crate::audit::credential_changed(&state, &auth, &format!("user {name} created"));
    let record = state
        .store
        .create_user(
            NewUser {
                name,
                role: b.role,
                security: b.security,
                password_hash,
                created_at: state.clock.now(),
                created_by: auth.0.name.clone(),
            },
            Some(audit),
        )
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

/// The argon2id hash of a password that meets the policy (400 naming `password` otherwise).
pub(crate) async fn checked_hash(password: String) -> Result<String, ApiError> {
    crate::passwords::check_policy(&password)
        .map_err(|e| ApiError::invalid("password", e.to_string()))?;
    // argon2 takes tens of milliseconds of CPU by design: keep it off the async workers.
    tokio::task::spawn_blocking(move || crate::passwords::hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))
}

fn no_user(name: &str) -> impl FnOnce(warroom_store::StoreError) -> ApiError + '_ {
    move |e| match e {
        warroom_store::StoreError::NotFound => ApiError::not_found(format!("no user {name}")),
        e => e.into(),
    }
}

/// `POST /api/v1/users/{name}/disable`: the account can no longer sign in, and its sessions
/// end now. Disabling a disabled account changes nothing.
pub async fn disable(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(name): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(Role::Admin)?;
    let audit = crate::audit::credential_changed(&state, &auth, &format!("user {name} disabled"));
    let record = state
        .store
        .set_user_disabled(&name, Some((state.clock.now(), &auth.0.name)), Some(audit))
        .await
        .map_err(no_user(&name))?;
    tracing::info!(user = %record.name, by = %auth.0.name, "user disabled");
    Ok(Json(json!(record)))
}

/// `POST /api/v1/users/{name}/enable`: the account may sign in again.
pub async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(name): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(Role::Admin)?;
    let audit = crate::audit::credential_changed(&state, &auth, &format!("user {name} enabled"));
    let record = state
        .store
        .set_user_disabled(&name, None, Some(audit))
        .await
        .map_err(no_user(&name))?;
    tracing::info!(user = %record.name, by = %auth.0.name, "user enabled");
    Ok(Json(json!(record)))
}

/// Body of a password reset.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

/// `POST /api/v1/users/{name}/password`: an admin sets a new password (a forgotten one, or
/// one that leaked); every session of the account ends.
pub async fn set_password(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(name): PathParams<String>,
    JsonBody(b): JsonBody<PasswordBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(Role::Admin)?;
    let hash = checked_hash(b.password).await?;
    let audit =
        crate::audit::credential_changed(&state, &auth, &format!("user {name} password set"));
    state
        .store
        .set_password(&name, &hash, None, Some(audit))
        .await
        .map_err(no_user(&name))?;
    tracing::info!(user = %name, by = %auth.0.name, "password set");
    let record = state
        .store
        .user(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {name}")))?;
    Ok(Json(json!(record)))
}
