//! Indicators of compromise: record on an incident, list an incident's, search across the
//! incidents the caller may see.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use warroom_core::audit::AuditAction;
use warroom_core::indicator::{IndicatorKind, NewIndicator};
use warroom_core::timer::desired_timers;
use warroom_core::{Incident, NewEvent, Role};
use warroom_store::{IndicatorChange, IndicatorRecord, StoreError};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::routes::incidents::{not_found, parse_id};
use crate::state::AppState;

/// Most matches one search returns.
const MAX_MATCHES: u32 = 500;

/// `POST /api/v1/incidents/{id}/indicators`: 201 when new, 200 when it widened or repeated an
/// indicator the incident already had.
pub async fn record(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    JsonBody(new): JsonBody<NewIndicator>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Role::Responder)?;
    let id = parse_id(&id)?;
    let report = NewEvent {
        at: state.clock.now(),
        actor: auth.0.name.clone(),
        kind: new.event()?,
    };
    let config = state.config.clone();
    let timers = move |inc: &Incident| desired_timers(inc, &config);
    let (record, change) = match state
        .store
        .record_indicator(&auth.0, &id, report, &timers)
        .await
    {
        Ok(done) => done,
        Err(StoreError::NotFound) => return Err(not_found(&id)),
        Err(e) => return Err(e.into()),
    };
    let status = if change == IndicatorChange::New {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({ "indicator": record, "change": change })),
    ))
}

/// `GET /api/v1/incidents/{id}/indicators`
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let found = state
        .store
        .indicators(&auth.0, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    if found.first().is_some_and(|r| r.restricted) {
        crate::audit::record(
            &state,
            &auth,
            AuditAction::RestrictedRead,
            &format!("{id} indicators"),
        )
        .await?;
    }
    Ok(Json(json!({ "incident_id": id, "indicators": found })))
}

/// `GET /api/v1/indicators?value=&kind=`: where else this indicator was seen. Without a kind,
/// the value is read as every kind it can be (an address, a domain...).
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Viewer)?;
    let (mut value, mut kind) = (None, None);
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "value" => value = Some(v.into_owned()),
            "kind" => {
                kind = Some(
                    v.parse::<IndicatorKind>()
                        .map_err(|e| ApiError::invalid("kind", format!("kind: {e}")))?,
                )
            }
            other => return Err(ApiError::unknown_query_param(other)),
        }
    }
    let value = value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        ApiError::bad_request("value: give the indicator to search for").with_field("value")
    })?;
    let wanted: Vec<(IndicatorKind, String)> = match kind {
        Some(k) => vec![(k, k.normalise("value", &value)?)],
        None => IndicatorKind::ALL
            .into_iter()
            .filter_map(|k| k.normalise("value", &value).ok().map(|v| (k, v)))
            .collect(),
    };
    let found: Vec<IndicatorRecord> = state
        .store
        .search_indicators(&auth.0, &wanted, MAX_MATCHES)
        .await?;
    let restricted: Vec<&str> = found
        .iter()
        .filter(|r| r.restricted)
        .map(|r| r.incident_id.as_str())
        .collect();
    if !restricted.is_empty() {
        crate::audit::record(
            &state,
            &auth,
            AuditAction::RestrictedRead,
            &format!("indicator search: {}", restricted.join(",")),
        )
        .await?;
    }
    Ok(Json(
        json!({ "searched": wanted.iter().map(|(k, v)| json!({ "kind": k, "value": v })).collect::<Vec<_>>(), "matches": found }),
    ))
}
