//! Communications routes: the templates, drafts rendered from them, sending, and the
//! notification clocks with the update cadence.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use warroom_core::Command;
use warroom_core::command::OutgoingDraft;
use warroom_core::comms::{Deadline, Draft, TemplateError, context, deadline};
use warroom_core::{Event, Incident, IncidentId, Role};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::routes::incidents::{execute, execute_events, incident_with_events, parse_id};
use crate::state::AppState;

/// `GET /api/v1/templates`: every message template, without the text.
pub async fn templates(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(Role::Viewer)?;
    let list: Vec<serde_json::Value> = state
        .config
        .message_templates
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "audience": t.audience,
                "description": t.description,
            })
        })
        .collect();
    Ok(Json(json!({ "templates": list })))
}

fn template_failed(err: TemplateError) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "template_error",
        err.to_string(),
    )
    .with_field("template")
}

/// Renders `template` for the incident as it is now.
async fn draft(
    state: &AppState,
    auth: &Auth,
    id: &IncidentId,
    template: &str,
) -> Result<Draft, ApiError> {
    let t = state.config.template(template).ok_or_else(|| {
        ApiError::not_found(format!(
            "no template {template:?} (GET /api/v1/templates lists them)"
        ))
    })?;
    let (inc, events) = incident_with_events(state, auth, id).await?;
    let ctx = context::full(&inc, &events, &state.config, state.clock.now());
    t.render(&ctx).map_err(template_failed)
}

/// `GET /api/v1/incidents/{id}/messages/{template}/draft`
pub async fn render(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, template)): PathParams<(String, String)>,
) -> Result<Json<Draft>, ApiError> {
    auth.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    Ok(Json(draft(&state, &auth, &id, &template).await?))
}

/// Body of a send: the template and recipients; subject and text when edited (otherwise the
/// current draft); the clocks it meets when not the default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    template: String,
    to: Vec<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    meets: Option<Vec<String>>,
}

/// What a send recorded.
#[derive(Serialize)]
pub struct Sent {
    incident: Incident,
    event: Event,
}

/// `POST /api/v1/incidents/{id}/messages`
pub async fn send(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<SendBody>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    auth.require(Role::Responder)?;
    let id = parse_id(&id)?;
    let (subject, text) = match (b.subject, b.text) {
        (Some(subject), Some(text)) => (subject, text),
        (subject, text) => {
            let d = draft(&state, &auth, &id, &b.template).await?;
            (subject.unwrap_or(d.subject), text.unwrap_or(d.body))
        }
    };
    let command = Command::SendMessage(OutgoingDraft {
        template: b.template,
        subject,
        text,
        to: b.to,
        meets: b.meets,
    });
    let (incident, events) = execute_events(&state, &auth, &id, command).await?;
    let event = events
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal(&"the message was not recorded"))?;
    tracing::info!(incident_id = %id, event = event.seq, actor = %auth.0.name, "message sent");
    Ok((StatusCode::CREATED, Json(Sent { incident, event })))
}

/// The update cadence as it stands.
#[derive(Serialize)]
pub struct Cadence {
    /// The severity's cadence, as configured.
    every: Option<String>,
    /// Last internal update.
    last_update_at: Option<Timestamp>,
    /// When the next one is due (none once resolved).
    next_update_due: Option<Timestamp>,
    /// Whether it is past due.
    overdue: bool,
}

/// `GET /api/v1/incidents/{id}/deadlines`
pub async fn deadlines(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let (inc, _) = incident_with_events(&state, &auth, &id).await?;
    let now = state.clock.now();
    let list: Vec<Deadline> = deadline::deadlines(
        &inc,
        &state.config.comms.deadlines,
        &state.config.business_hours,
        now,
    );
    let due = warroom_core::timer::next_update_due(&inc, &state.config);
    let cadence = Cadence {
        every: state
            .config
            .severity(&inc.severity)
            .map(|s| s.update_every.to_string()),
        last_update_at: inc.last_update_at,
        next_update_due: due,
        overdue: due.is_some_and(|d| d <= now),
    };
    Ok(Json(json!({
        "incident_id": inc.id.as_str(),
        "now": now,
        "updates": cadence,
        "deadlines": list,
        "moments": inc.moments,
    })))
}

/// Body of a moment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentBody {
    moment: String,
    #[serde(default)]
    at: Option<Timestamp>,
}

/// `POST /api/v1/incidents/{id}/moments`
pub async fn moment(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(b): JsonBody<MomentBody>,
) -> Result<(StatusCode, Json<Incident>), ApiError> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let at = b.at.unwrap_or(now);
    // A moment is a fact about the past; one in the future is a typo.
    if at > now {
        return Err(ApiError::invalid(
            "at",
            "at: a moment cannot be in the future",
        ));
    }
    let inc = execute(
        &state,
        &auth,
        &id,
        Command::RecordMoment {
            moment: b.moment,
            at,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(inc)))
}
