//! Post-incident review routes: the document (current or a published version), its written
//! sections, key moments, and publishing.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use warroom_core::comms::context::time_text;
use warroom_core::postmortem::{self, PostmortemError};
use warroom_core::{Command, EventKind, Incident, Role};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::routes::incidents::{
    execute, execute_events, incident_with_events, not_found, parse_id,
};
use crate::state::AppState;

fn failed(err: PostmortemError) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "template_error",
        err.to_string(),
    )
    .with_field("template")
}

/// `GET /api/v1/incidents/{id}/postmortem[?version=N]`: the review as it reads now, or a
/// published version exactly as it was frozen.
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let mut version: Option<u32> = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "version" => {
                version = Some(v.parse().map_err(|_| {
                    ApiError::bad_request(format!("version: {v:?} is not a version number"))
                        .with_field("version")
                })?)
            }
            other => return Err(ApiError::unknown_query_param(other)),
        }
    }
    let (inc, events) = incident_with_events(&state, &auth, &id).await?;
    let now = state.clock.now();
    let due = postmortem::review_due(&inc);
    let (markdown, sha256) = match version {
        None => {
            let draft = postmortem::render(&inc, &events, &state.config, now).map_err(failed)?;
            (draft.body, None)
        }
        Some(v) => events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::PostmortemPublished {
                    version,
                    sha256,
                    markdown,
                } if *version == v => Some((markdown.clone(), Some(sha256.clone()))),
                _ => None,
            })
            .ok_or_else(|| ApiError::not_found(format!("{id} has no published version {v}")))?,
    };
    Ok(Json(json!({
        "incident_id": inc.id.as_str(),
        "version": version,
        "sha256": sha256,
        "markdown": markdown,
        "published": inc.postmortems,
        "review_due_at": due,
        "review_overdue": due.is_some_and(|d| d <= now),
        "review_due_text": due.map(time_text),
    })))
}

/// Body of a section.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionBody {
    text: String,
}

/// `POST /api/v1/incidents/{id}/postmortem/sections/{section}`
pub async fn set_section(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, section)): PathParams<(String, String)>,
    JsonBody(b): JsonBody<SectionBody>,
) -> Result<Json<Incident>, ApiError> {
    let id = parse_id(&id)?;
    let cmd = Command::SetPostmortemSection {
        section,
        text: b.text,
    };
    Ok(Json(execute(&state, &auth, &id, cmd).await?))
}

/// Body of a key moment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyMomentBody {
    seq: u64,
    #[serde(default = "yes")]
    marked: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/incidents/{id}/postmortem/key-moments`: only notes can be marked, since the
/// other events that matter are in the review's timeline already.
pub async fn key_moment(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<KeyMomentBody>,
) -> Result<Json<Incident>, ApiError> {
    auth.require(Role::Responder)?;
    let id = parse_id(&id)?;
    let events = state
        .store
        .events(&auth.0, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let is_note = events
        .iter()
        .any(|e| e.seq == b.seq && matches!(e.kind, EventKind::NoteAdded { .. }));
    if !is_note {
        return Err(ApiError::invalid(
            "seq",
            format!("seq: event {} of {id} is not a note", b.seq),
        ));
    }
    let cmd = Command::MarkKeyMoment {
        seq: b.seq,
        marked: b.marked,
    };
    Ok(Json(execute(&state, &auth, &id, cmd).await?))
}

/// `POST /api/v1/incidents/{id}/postmortem/publish`: freezes the review as it reads now.
pub async fn publish(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Role::Commander)?;
    let id = parse_id(&id)?;
    let (inc, events) = incident_with_events(&state, &auth, &id).await?;
    let draft =
        postmortem::render(&inc, &events, &state.config, state.clock.now()).map_err(failed)?;
    let (inc, recorded) = execute_events(
        &state,
        &auth,
        &id,
        Command::PublishPostmortem {
            markdown: draft.body,
        },
    )
    .await?;
    let Some(EventKind::PostmortemPublished {
        version,
        sha256,
        markdown,
    }) = recorded.into_iter().next().map(|e| e.kind)
    else {
        return Err(ApiError::internal(&"the review was not recorded"));
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "incident_id": inc.id.as_str(),
            "version": version,
            "sha256": sha256,
            "markdown": markdown,
        })),
    ))
}
