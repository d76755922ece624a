//! Health, identity, configuration, chain verification and the API description.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use warroom_core::Role;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /health`: the process is up.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /health/ready`: the database answers.
pub async fn ready(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is not reachable",
            ))
        }
    }
}

/// `GET /api/v1/whoami`
pub async fn whoami(auth: Auth) -> Json<serde_json::Value> {
    Json(
        json!({ "name": auth.0.name, "role": auth.0.role, "security": auth.0.security, "scope": auth.1 }),
    )
}

/// `GET /api/v1/config`
pub async fn config(State(state): State<AppState>, _auth: Auth) -> Json<warroom_core::Config> {
    Json((*state.config).clone())
}

/// `GET /api/v1/verify`
pub async fn verify(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<warroom_store::VerifyReport>, ApiError> {
    auth.require(Role::Admin)?;
    let report = state.store.verify().await?;
    if !report.ok {
        tracing::error!(
            broken = report.broken.len(),
            "hash chain verification found tampering"
        );
    }
    Ok(Json(report))
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}
