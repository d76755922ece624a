//! On call: who is on call now (or at any time), each schedule's coming shifts, and iCalendar
//! feeds per schedule and per person.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use warroom_core::ical::{calendar_entries, ics_feed};
use warroom_core::schedule::{shifts, shifts_overlapping, who_is_on_call};
use warroom_core::{Config, Principal, Role};

use crate::auth::{Auth, authenticate};
use crate::error::ApiError;
use crate::json::PathParams;
use crate::routes::overrides::{live, live_at};
use crate::state::AppState;

/// How far ahead a schedule listing shows shifts.
const LISTING_DAYS: i64 = 14;
/// The span a calendar feed covers: a week back, two months ahead.
const FEED_BACK_DAYS: i64 = 7;
const FEED_AHEAD_DAYS: i64 = 62;

fn query_pairs(query: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn person_name(config: &Config, id: &str) -> String {
    config
        .person(id)
        .map_or_else(|| id.to_string(), |p| p.name.clone())
}

/// `GET /api/v1/oncall?at=TIME`: who is on call on every schedule.
pub async fn now(
    State(state): State<AppState>,
    _auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut at = state.clock.now();
    for (k, v) in query_pairs(query) {
        match k.as_str() {
            "at" => {
                at = v.parse::<Timestamp>().map_err(|_| {
                    ApiError::bad_request("at: expected an RFC 3339 time like 2026-11-22T10:00:00Z")
                        .with_field("at")
                })?
            }
            other => {
                return Err(ApiError::unknown_query_param(other));
            }
        }
    }
    let overrides = live_at(&state, at).await?;
    let on_call: Vec<serde_json::Value> = state
        .config
        .schedules
        .iter()
        .map(|s| match who_is_on_call(s, &overrides, at) {
            Some(o) => json!({
                "schedule": s.id, "schedule_name": s.name, "person": o.person,
                "person_name": person_name(&state.config, &o.person),
                "shift_start": o.shift_start, "shift_end": o.shift_end,
            }),
            None => json!({ "schedule": s.id, "schedule_name": s.name, "person": null }),
        })
        .collect();
    Ok(Json(json!({ "at": at, "on_call": on_call })))
}

/// `GET /api/v1/schedules`: every schedule with who is on call now and the coming shifts.
pub async fn list(
    State(state): State<AppState>,
    _auth: Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.clock.now();
    let until = now
        .checked_add(SignedDuration::from_hours(24 * LISTING_DAYS))
        .unwrap_or(now);
    let overrides = live(&state, now, until).await?;
    let schedules: Vec<serde_json::Value> = state
        .config
        .schedules
        .iter()
        .map(|s| {
            let upcoming: Vec<serde_json::Value> = shifts(s, &overrides, now, until)
                .into_iter()
                .map(|sh| json!({ "person": sh.person, "person_name": person_name(&state.config, &sh.person), "start": sh.start, "end": sh.end }))
                .collect();
            json!({
                "id": s.id, "name": s.name, "time_zone": s.time_zone.to_string(),
                "on_call_now": who_is_on_call(s, &overrides, now).map(|o| o.person),
                "shifts": upcoming,
                "calendar": format!("/api/v1/schedules/{}/calendar.ics", s.id),
            })
        })
        .collect();
    Ok(Json(json!({ "schedules": schedules })))
}

/// Calendar apps cannot send headers, so feeds also take the token as `?token=`.
async fn feed_caller(
    state: &AppState,
    source: &crate::security::ClientSource,
    headers: &HeaderMap,
    query: Option<String>,
) -> Result<Principal, ApiError> {
    let from_query = query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v);
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|s| s.trim().to_string());
    let secret = from_header.or(from_query).ok_or_else(|| {
        ApiError::unauthorized(
            "missing token: send Authorization: Bearer <token> or ?token=<token>",
        )
    })?;
    let who = authenticate(state, source, &secret).await?;
    if !who.has(Role::Viewer) {
        return Err(ApiError::forbidden("this needs the viewer role"));
    }
    Ok(who)
}

fn ics_response(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response()
}

fn feed_window(now: Timestamp) -> (Timestamp, Timestamp) {
    let from = now
        .checked_sub(SignedDuration::from_hours(24 * FEED_BACK_DAYS))
        .unwrap_or(now);
    let to = now
        .checked_add(SignedDuration::from_hours(24 * FEED_AHEAD_DAYS))
        .unwrap_or(now);
    (from, to)
}

/// `GET /api/v1/schedules/{schedule}/calendar.ics`
pub async fn schedule_feed(
    State(state): State<AppState>,
    source: crate::security::ClientSource,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    feed_caller(&state, &source, &headers, query).await?;
    let schedule = state
        .config
        .schedule(&id)
        .ok_or_else(|| ApiError::not_found(format!("no schedule {id}")))?;
    let (from, to) = feed_window(state.clock.now());
    let overrides = live(&state, from, to).await?;
    let entries = calendar_entries(
        &state.config,
        &shifts_overlapping(schedule, &overrides, from, to),
    );
    Ok(ics_response(ics_feed(
        &format!("On call: {}", schedule.name),
        &entries,
        "warroom",
    )))
}

/// `GET /api/v1/people/{person}/calendar.ics`: the person's shifts on every schedule.
pub async fn person_feed(
    State(state): State<AppState>,
    source: crate::security::ClientSource,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    feed_caller(&state, &source, &headers, query).await?;
    let person = state
        .config
        .person(&id)
        .ok_or_else(|| ApiError::not_found(format!("no person {id}")))?;
    let (from, to) = feed_window(state.clock.now());
    let overrides = live(&state, from, to).await?;
    let mine: Vec<_> = state
        .config
        .schedules
        .iter()
        .flat_map(|s| shifts_overlapping(s, &overrides, from, to))
        .filter(|sh| sh.person == person.id)
        .collect();
    let entries = calendar_entries(&state.config, &mine);
    Ok(ics_response(ics_feed(
        &format!("On call: {}", person.name),
        &entries,
        "warroom",
    )))
}
