//! Action item routes: create and change items on an incident, list them across incidents.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde_json::json;
use warroom_core::Command;
use warroom_core::action::{ActionPatch, NewAction};
use warroom_store::{ActionFilter, ActionRecord};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::routes::incidents::{execute, parse_id};
use crate::state::AppState;

/// Most items one list answer holds.
const MAX_LISTED: u32 = 1000;

fn record(inc: &warroom_core::Incident, action: Option<&str>) -> Result<ActionRecord, ApiError> {
    let item = match action {
        Some(id) => inc.actions.iter().find(|a| a.id.eq_ignore_ascii_case(id)),
        None => inc.actions.last(),
    };
    item.map(|item| ActionRecord {
        incident_id: inc.id.to_string(),
        item: item.clone(),
    })
    .ok_or_else(|| ApiError::internal(&"the action item is missing after the change"))
}

/// `POST /api/v1/incidents/{id}/actions`
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(new): JsonBody<NewAction>,
) -> Result<(StatusCode, Json<ActionRecord>), ApiError> {
    let id = parse_id(&id)?;
    // Decided under the incident's lock, so the last item afterwards is the one just added.
    let inc = execute(&state, &auth, &id, Command::AddAction(new)).await?;
    Ok((StatusCode::CREATED, Json(record(&inc, None)?)))
}

/// `PATCH /api/v1/incidents/{id}/actions/{action}`
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, action)): PathParams<(String, String)>,
    JsonBody(patch): JsonBody<ActionPatch>,
) -> Result<Json<ActionRecord>, ApiError> {
    let id = parse_id(&id)?;
    let cmd = Command::UpdateAction {
        action: action.clone(),
        patch,
    };
    let inc = execute(&state, &auth, &id, cmd).await?;
    Ok(Json(record(&inc, Some(&action))?))
}

fn flag(field: &str, v: &str) -> Result<bool, ApiError> {
    match v {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => {
            Err(ApiError::bad_request(format!("{field}: expected true or false")).with_field(field))
        }
    }
}

/// `GET /api/v1/actions?owner=&overdue=true&open=true&incident=&limit=`
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.clock.now();
    let mut f = ActionFilter {
        limit: 200,
        ..ActionFilter::default()
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "owner" => f.owner = Some(v.trim().to_string()).filter(|o| !o.is_empty()),
            "overdue" => f.overdue_at = flag("overdue", &v)?.then_some(now),
            "open" => f.open_only = flag("open", &v)?,
            "incident" => f.incident = Some(parse_id(&v)?.to_string()),
            "limit" => {
                f.limit = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_LISTED).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "limit: expected a number from 1 to {MAX_LISTED}"
                        ))
                        .with_field("limit")
                    })?
            }
            other => return Err(ApiError::unknown_query_param(other)),
        }
    }
    let actions = state.store.list_actions(&auth.0, &f).await?;
    let listed: Vec<serde_json::Value> = actions
        .iter()
        .map(|a| {
            let mut v = serde_json::to_value(a).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("overdue".into(), json!(a.item.is_overdue(now)));
            }
            v
        })
        .collect();
    Ok(Json(json!({ "actions": listed })))
}
