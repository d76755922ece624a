//! Playbooks, checklists and triage.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use warroom_core::playbook::task_views;
use warroom_core::{Command, Incident, Role};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::routes::incidents::{execute, not_found, parse_id};
use crate::state::AppState;

/// `GET /api/v1/playbooks`
pub async fn list(State(state): State<AppState>, _auth: Auth) -> Json<serde_json::Value> {
    Json(json!({ "playbooks": state.config.playbooks }))
}

/// `GET /api/v1/playbooks/{playbook}`
pub async fn get(
    State(state): State<AppState>,
    _auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<warroom_core::playbook::Playbook>, ApiError> {
    state
        .config
        .playbook(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no playbook {id}")))
}

/// Body of a manual attachment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachBody {
    playbook: String,
}

/// `POST /api/v1/incidents/{id}/playbooks`
pub async fn attach(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<AttachBody>,
) -> Result<(StatusCode, Json<Incident>), ApiError> {
    let id = parse_id(&id)?;
    let inc = execute(
        &state,
        &auth,
        &id,
        Command::AttachPlaybook {
            playbook: b.playbook,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(inc)))
}

/// Body of a detachment.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DetachBody {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/v1/incidents/{id}/playbooks/{playbook}/detach`
pub async fn detach(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, playbook)): PathParams<(String, String)>,
    JsonBody(b): JsonBody<DetachBody>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &auth,
        &id,
        Command::DetachPlaybook {
            playbook,
            reason: b.reason,
        },
    )
    .await
    .map(Json)
}

/// `GET /api/v1/incidents/{id}/tasks?param=name=value`
pub async fn tasks(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let mut params = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "param" => {
                let (name, value) = v.split_once('=').ok_or_else(|| {
                    ApiError::bad_request("param: expected name=value").with_field("param")
                })?;
                params.insert(name.to_string(), value.to_string());
            }
            other => {
                return Err(ApiError::unknown_query_param(other));
            }
        }
    }
    let inc = state
        .store
        .incident(&auth.0, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    crate::audit::restricted_read(&state, &auth, &inc, "tasks").await?;
    let views = task_views(&inc, state.clock.now(), &params);
    let overdue = views.iter().filter(|t| t.overdue).count();
    Ok(Json(
        json!({ "incident_id": id, "overdue": overdue, "tasks": views }),
    ))
}

/// `POST /api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/done`
pub async fn done(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, playbook, task)): PathParams<(String, String, String)>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::CompleteTask { playbook, task })
        .await
        .map(Json)
}

/// Body of a skip.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipBody {
    reason: String,
}

/// `POST /api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/skip`
pub async fn skip(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, playbook, task)): PathParams<(String, String, String)>,
    JsonBody(b): JsonBody<SkipBody>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &auth,
        &id,
        Command::SkipTask {
            playbook,
            task,
            reason: b.reason,
        },
    )
    .await
    .map(Json)
}

/// `POST /api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/reopen`
pub async fn reopen(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, playbook, task)): PathParams<(String, String, String)>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::ReopenTask { playbook, task })
        .await
        .map(Json)
}

/// `GET /api/v1/triage`: the questions.
pub async fn questions(State(state): State<AppState>, _auth: Auth) -> Json<serde_json::Value> {
    Json(json!({ "questions": state.config.triage_questions }))
}

/// Body of a triage request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageBody {
    answers: BTreeMap<String, bool>,
}

/// `POST /api/v1/triage`: answers in, suggested severity and reasons out.
pub async fn suggest(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<TriageBody>,
) -> Result<Json<warroom_core::triage::Suggestion>, ApiError> {
    auth.require(Role::Viewer)?;
    Ok(Json(warroom_core::triage::suggest(
        &state.config,
        &b.answers,
    )?))
}
