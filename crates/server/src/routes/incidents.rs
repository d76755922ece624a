//! Incident routes: declare, read, list, change, export.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use warroom_core::command::{
    Declaration, decide_with_overrides, declaration_events, page_for_declaration,
};
use warroom_core::export::{Format, render};
use warroom_core::timer::desired_timers;
use warroom_core::{Command, Incident, IncidentId, IncidentPatch, NewEvent, Role, Status};
use warroom_store::{Cursor, IncidentFilter, StatusFilter, StoreError};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::state::AppState;

/// How often a declaration is retried when its id was taken by a concurrent one.
const MAX_ATTEMPTS: usize = 10;

pub(crate) fn parse_id(id: &str) -> Result<IncidentId, ApiError> {
    id.parse().map_err(|e: warroom_core::id::IdError| {
        ApiError::bad_request(e.to_string()).with_field("id")
    })
}

pub(crate) fn not_found(id: &IncidentId) -> ApiError {
    ApiError::not_found(format!("no incident {id}"))
}

/// The incident and its timeline, if the caller may see it (404 otherwise, as everywhere).
pub(crate) async fn incident_with_events(
    state: &AppState,
    auth: &Auth,
    id: &IncidentId,
) -> Result<(Incident, Vec<warroom_core::Event>), ApiError> {
    let inc = state
        .store
        .incident(&auth.0, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let events = state
        .store
        .events(&auth.0, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    crate::audit::restricted_read(state, auth, &inc, "timeline").await?;
    Ok((inc, events))
}

/// Decides and appends under the incident's lock, so concurrent commands queue rather than
/// conflict, and each is judged against the state it actually applies to.
pub(crate) async fn execute(
    state: &AppState,
    auth: &Auth,
    id: &IncidentId,
    cmd: Command,
) -> Result<Incident, ApiError> {
    execute_events(state, auth, id, cmd)
        .await
        .map(|(inc, _)| inc)
}

/// [`execute`], also returning the events the command recorded.
pub(crate) async fn execute_events(
    state: &AppState,
    auth: &Auth,
    id: &IncidentId,
    cmd: Command,
) -> Result<(Incident, Vec<warroom_core::Event>), ApiError> {
    auth.require(cmd.required_role())?;
    let config = state.config.clone();
    let clock = state.clock.clone();
    let actor = auth.0.name.clone();
    // A command may page (escalate, a raise to a paging severity): whoever an override puts
    // on call now is who gets paged.
    let overrides = crate::routes::overrides::live_at(state, state.clock.now()).await?;
    let decide_events = move |inc: &Incident| {
        let at = clock.now();
        decide_with_overrides(inc, &cmd, &config, &overrides).map(|kinds| {
            kinds
                .into_iter()
                .map(|kind| NewEvent {
                    at,
                    actor: actor.clone(),
                    kind,
                })
                .collect()
        })
    };
    let config = state.config.clone();
    let timers = move |inc: &Incident| desired_timers(inc, &config);
    match state
        .store
        .update(&auth.0, id, &decide_events, &timers)
        .await
    {
        Ok(done) => Ok(done),
        Err(StoreError::NotFound) => Err(not_found(id)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/incidents`
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(d): JsonBody<Declaration>,
) -> Result<Response, ApiError> {
    auth.require(Role::Responder)?;
    let inc = declare(&state, &auth.0.name, &d).await?;
    let location = format!("/api/v1/incidents/{}", inc.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(inc),
    )
        .into_response())
}

/// Declares `d` as `actor` (whose role the caller checked): the declaration, the playbooks it
/// attaches and the page it starts, under a fresh id.
pub(crate) async fn declare(
    state: &AppState,
    actor: &str,
    d: &Declaration,
) -> Result<Incident, ApiError> {
    let at = state.clock.now();
    let mut kinds = declaration_events(d, &state.config)?;
    let overrides = crate::routes::overrides::live_at(state, at).await?;
    if let Some(page) = kinds
        .first()
        .and_then(|declared| page_for_declaration(declared, &state.config, &overrides, at))
    {
        kinds.push(page);
    }
    let events: Vec<NewEvent> = kinds
        .into_iter()
        .map(|kind| NewEvent {
            at,
            actor: actor.to_string(),
            kind,
        })
        .collect();
    let mut last = None;
    // The day counter is a unique key; a lost race is retried with the next number.
    for _ in 0..MAX_ATTEMPTS {
        match state
            .store
            .create_incident(events.clone(), &|inc: &Incident| {
                desired_timers(inc, &state.config)
            })
            .await
        {
            Ok((inc, _)) => {
                tracing::info!(incident_id = %inc.id, severity = %inc.severity, actor = %actor, "incident declared");
                return Ok(inc);
            }
            Err(StoreError::Conflict(e)) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(format!(
        "could not allocate an incident id: {}",
        last.unwrap_or_default()
    )))
}

/// `GET /api/v1/incidents/{id}`
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    let inc = state
        .store
        .incident(&auth.0, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    crate::audit::restricted_read(&state, &auth, &inc, "incident").await?;
    Ok(Json(inc))
}

/// `GET /api/v1/incidents/{id}/events`
pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let (_, events) = incident_with_events(&state, &auth, &id).await?;
    Ok(Json(json!({ "events": events })))
}

/// `GET /api/v1/incidents/{id}/deliveries`: the incident's notifications and how their
/// delivery went. Invisible incidents are 404 here as everywhere.
pub async fn deliveries(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let inc = state
        .store
        .incident(&auth.0, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    crate::audit::restricted_read(&state, &auth, &inc, "deliveries").await?;
    let deliveries = state.store.deliveries(&id).await?;
    Ok(Json(
        json!({ "incident_id": id.as_str(), "deliveries": deliveries }),
    ))
}

/// `GET /api/v1/incidents/{id}/export?format=md|csv|json`
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let mut format = Format::Markdown;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "format" => {
                format = v
                    .parse()
                    .map_err(|e: String| ApiError::bad_request(e).with_field("format"))?
            }
            other => {
                return Err(ApiError::unknown_query_param(other));
            }
        }
    }
    let (inc, events) = incident_with_events(&state, &auth, &id).await?;
    let body = render(format, &inc, &events, state.clock.now());
    Ok(([(header::CONTENT_TYPE, format.content_type())], body).into_response())
}

/// `GET /api/v1/incidents`
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let filter = parse_filter(query.as_deref().unwrap_or(""), state.clock.now())?;
    let page = state.store.list(&auth.0, &filter).await?;
    crate::audit::restricted_list(&state, &auth, &page.incidents, "incident list").await?;
    Ok(Json(json!({
        "incidents": page.incidents,
        "next_cursor": page.next_cursor.map(|c| c.encode()),
    })))
}

fn list_values(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A time bound: RFC 3339, or a duration meaning "that long ago" (`24h`, `7d`).
pub(crate) fn parse_time(
    field: &str,
    v: &str,
    now: jiff::Timestamp,
) -> Result<jiff::Timestamp, ApiError> {
    if let Ok(ts) = v.parse::<jiff::Timestamp>() {
        return Ok(ts);
    }
    if let Ok(d) = v.parse::<warroom_core::duration::Duration>() {
        return now.checked_sub(d.as_signed()).map_err(|_| {
            ApiError::bad_request(format!("{field}: too far back")).with_field(field)
        });
    }
    Err(ApiError::bad_request(format!(
        "{field}: expected an RFC 3339 time like 2026-11-22T10:00:00Z or a duration like 24h"
    ))
    .with_field(field))
}

pub(crate) fn parse_filter(query: &str, now: jiff::Timestamp) -> Result<IncidentFilter, ApiError> {
    let mut f = IncidentFilter {
        limit: 50,
        ..IncidentFilter::default()
    };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let bad = |msg: String| ApiError::bad_request(msg).with_field(k.to_string());
        match k.as_ref() {
            "status" => {
                let mut statuses = Vec::new();
                for s in list_values(&v) {
                    match s.as_str() {
                        "open" => statuses.extend(Status::ALL.into_iter().filter(Status::is_open)),
                        other => statuses.push(
                            other
                                .parse::<Status>()
                                .map_err(|e| bad(format!("status: {e}; or open")))?,
                        ),
                    }
                }
                f.status = StatusFilter::In(statuses);
            }
            "severity" => f.severities.extend(list_values(&v)),
            "type" => f.types.extend(list_values(&v)),
            "service" => f.services.extend(list_values(&v)),
            "label" => {
                let (key, value) = v
                    .split_once('=')
                    .ok_or_else(|| bad("label: expected key=value".into()))?;
                f.labels.push((key.to_string(), value.to_string()));
            }
            "q" => f.text = Some(v.to_string()),
            "since" => f.since = Some(parse_time("since", &v, now)?),
            "until" => f.until = Some(parse_time("until", &v, now)?),
            "limit" => {
                f.limit = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| bad("limit: expected a number from 1 to 500".into()))?;
            }
            "cursor" => {
                f.cursor = Some(
                    Cursor::decode(&v)
                        .ok_or_else(|| bad("cursor: not a cursor this server issued".into()))?,
                )
            }
            other => return Err(ApiError::unknown_query_param(other)),
        }
    }
    Ok(f)
}

/// `PATCH /api/v1/incidents/{id}`
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(patch): JsonBody<IncidentPatch>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::Update(patch))
        .await
        .map(Json)
}

/// `POST /api/v1/incidents/{id}/acknowledge`
pub async fn acknowledge(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::Acknowledge)
        .await
        .map(Json)
}

/// `POST /api/v1/incidents/{id}/escalate`
pub async fn escalate(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::Escalate)
        .await
        .map(Json)
}

/// Body of a severity change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityBody {
    severity: String,
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/v1/incidents/{id}/severity`
pub async fn severity(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<SeverityBody>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &auth,
        &id,
        Command::ChangeSeverity {
            severity: b.severity,
            reason: b.reason,
        },
    )
    .await
    .map(Json)
}

/// Body of a status change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: Status,
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/v1/incidents/{id}/status`
pub async fn status(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<StatusBody>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &auth,
        &id,
        Command::ChangeStatus {
            status: b.status,
            reason: b.reason,
        },
    )
    .await
    .map(Json)
}

/// Body of a role assignment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    role: String,
    person: String,
}

/// `POST /api/v1/incidents/{id}/roles`
pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<RoleBody>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &auth,
        &id,
        Command::AssignRole {
            role: b.role,
            person: b.person,
        },
    )
    .await
    .map(Json)
}

/// `DELETE /api/v1/incidents/{id}/roles/{role}`
pub async fn unassign(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, role)): PathParams<(String, String)>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::UnassignRole { role })
        .await
        .map(Json)
}

/// Body of a note.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    text: String,
}

/// `POST /api/v1/incidents/{id}/notes`
pub async fn note(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<NoteBody>,
) -> Result<(StatusCode, Json<Incident>), ApiError> {
    let id = parse_id(&id)?;
    let inc = execute(&state, &auth, &id, Command::AddNote { text: b.text }).await?;
    Ok((StatusCode::CREATED, Json(inc)))
}

/// Body of a status update.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    text: String,
    #[serde(default)]
    audience: Option<String>,
}

/// `POST /api/v1/incidents/{id}/updates`
pub async fn post_update(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<UpdateBody>,
) -> Result<(StatusCode, Json<Incident>), ApiError> {
    let id = parse_id(&id)?;
    let command = Command::PostUpdate {
        audience: b
            .audience
            .unwrap_or_else(|| warroom_core::command::INTERNAL_AUDIENCE.to_string()),
        text: b.text,
    };
    let inc = execute(&state, &auth, &id, command).await?;
    Ok((StatusCode::CREATED, Json(inc)))
}

/// Body of a resolution.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    summary: String,
}

/// `POST /api/v1/incidents/{id}/resolve`
pub async fn resolve(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<ResolveBody>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::Resolve { summary: b.summary })
        .await
        .map(Json)
}

/// `POST /api/v1/incidents/{id}/close`
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::Close).await.map(Json)
}

/// Body of a reopen.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReopenBody {
    reason: String,
}

/// `POST /api/v1/incidents/{id}/reopen`
pub async fn reopen(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<ReopenBody>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    execute(&state, &auth, &id, Command::Reopen { reason: b.reason })
        .await
        .map(Json)
}
