//! Schedule overrides: someone covers a schedule for a while. Stored as an append-only log
//! (created, then at most once removed); the live ones feed on-call answers, calendar feeds
//! and paging.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;
use warroom_core::{Override, Role};
use warroom_store::NewOverride;

use crate::auth::{Auth, random_hex};
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::state::AppState;

/// The longest override.
const MAX_DAYS: i64 = 90;
/// How far ahead an override may start.
const MAX_AHEAD_DAYS: i64 = 365;
/// How far back and ahead a listing looks by default.
const LIST_BACK_DAYS: i64 = 1;

/// Live overrides that can matter to shifts in `[from, to)` (see [`Store::overrides_around`]).
pub async fn live(
    state: &AppState,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Override>, ApiError> {
    Ok(state.store.overrides_around(from, to).await?)
}

/// Live overrides that can matter to who is on call at `at` and until when.
pub async fn live_at(state: &AppState, at: Timestamp) -> Result<Vec<Override>, ApiError> {
    Ok(state.store.overrides_at(at).await?)
}

fn view(o: &Override) -> serde_json::Value {
    json!({ "id": o.id, "schedule": o.schedule, "person": o.person, "start": o.start, "end": o.end })
}

fn known_schedule(state: &AppState, id: &str) -> Result<(), ApiError> {
    state
        .config
        .schedule(id)
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found(format!("no schedule {id}")))
}

/// `GET /api/v1/schedules/{schedule}/overrides`: live overrides that have not ended yet (and
/// those that ended within the last day).
pub async fn list(
    State(state): State<AppState>,
    _auth: Auth,
    PathParams(schedule): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    known_schedule(&state, &schedule)?;
    let found = listed(&state, Some(&schedule)).await?;
    let overrides: Vec<_> = found.iter().map(view).collect();
    Ok(Json(
        json!({ "schedule": schedule, "overrides": overrides }),
    ))
}

/// Live overrides of `schedule` (or of all schedules) that have not ended, or ended within
/// the last day: what the API lists and the on-call page shows.
pub async fn listed(state: &AppState, schedule: Option<&str>) -> Result<Vec<Override>, ApiError> {
    let now = state.clock.now();
    let from = now
        .checked_sub(SignedDuration::from_hours(24 * LIST_BACK_DAYS))
        .unwrap_or(now);
    Ok(state
        .store
        .overrides(schedule, from, Timestamp::MAX)
        .await?)
}

/// Body of an override.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    person: String,
    start: Timestamp,
    end: Timestamp,
}

/// `POST /api/v1/schedules/{schedule}/overrides`
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(schedule): PathParams<String>,
    JsonBody(b): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let created = add(&state, &auth, schedule, b.person, b.start, b.end).await?;
    Ok((StatusCode::CREATED, Json(view(&created))))
}

/// Creates an override after checking who asks, the schedule, the person and the times; the
/// API and the web UI's on-call page both come through here.
pub async fn add(
    state: &AppState,
    auth: &Auth,
    schedule: String,
    person: String,
    start: Timestamp,
    end: Timestamp,
) -> Result<Override, ApiError> {
    auth.require(Role::Commander)?;
    known_schedule(state, &schedule)?;
    if state.config.person(&person).is_none() {
        return Err(ApiError::invalid(
            "person",
            format!("person: no person {person:?} in the configuration"),
        ));
    }
    if end <= start {
        return Err(ApiError::invalid("end", "end: must be after start"));
    }
    if end.duration_since(start) > SignedDuration::from_hours(24 * MAX_DAYS) {
        return Err(ApiError::invalid(
            "end",
            format!("end: an override lasts at most {MAX_DAYS} days"),
        ));
    }
    let now = state.clock.now();
    if start.duration_since(now) > SignedDuration::from_hours(24 * MAX_AHEAD_DAYS) {
        return Err(ApiError::invalid("start", "start: at most a year from now"));
    }
    let created = state
        .store
        .create_override(NewOverride {
            id: format!("ovr_{}", random_hex(8)),
            schedule,
            person,
            start,
            end,
            created_by: auth.0.name.clone(),
            created_at: now,
        })
        .await?;
    tracing::info!(override_id = %created.id, schedule = %created.schedule, person = %created.person, by = %auth.0.name, "override created");
    Ok(created)
}

/// `DELETE /api/v1/schedules/{schedule}/overrides/{id}`
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((schedule, id)): PathParams<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.clock.now();
    let removed = delete(&state, &auth, &schedule, &id).await?;
    let mut body = view(&removed);
    body["removed_at"] = json!(now);
    body["removed_by"] = json!(auth.0.name);
    Ok(Json(body))
}

/// Removes an override (API and web UI alike).
pub async fn delete(
    state: &AppState,
    auth: &Auth,
    schedule: &str,
    id: &str,
) -> Result<Override, ApiError> {
    auth.require(Role::Commander)?;
    known_schedule(state, schedule)?;
    let now = state.clock.now();
    let removed = match state
        .store
        .remove_override(schedule, id, &auth.0.name, now, None)
        .await
    {
        Err(warroom_store::StoreError::NotFound) => {
            return Err(ApiError::not_found(format!(
                "no override {id} on {schedule}"
            )));
        }
        other => other?,
    };
    tracing::info!(override_id = %removed.id, by = %auth.0.name, "override removed");
    Ok(removed)
}
