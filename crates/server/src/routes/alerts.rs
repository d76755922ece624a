//! Alerts and integrations over the API: list and inspect alerts, acknowledge or resolve one by
//! hand, and create the integrations whose routing keys senders use.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use warroom_core::alert::{Action, AlertEvent, AlertStatus, SourceKind};
use warroom_core::duration::Duration;
use warroom_core::{IncidentId, Principal, Role};
use warroom_store::{AlertCursor, AlertFilter, AlertRecord, IngestOutcome, NewIntegration};

use crate::auth::{Auth, hash_token, random_hex};
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::state::AppState;

/// Most alerts one list returns.
const MAX_LIMIT: u32 = 500;

/// Alerts as the API shows them to `viewer`: an alert attached to a restricted incident the
/// viewer may not see is left out altogether, since its summary and labels would tell what the
/// incident is about.
async fn views(
    state: &AppState,
    viewer: &Principal,
    records: Vec<AlertRecord>,
) -> Result<Vec<Value>, ApiError> {
    let mut visible: BTreeMap<String, bool> = BTreeMap::new();
    let mut out = Vec::with_capacity(records.len());
    for rec in records {
        let v = serde_json::to_value(&rec).map_err(|e| ApiError::internal(&e))?;
        if let Some(incident) = rec.routed.alert.incident_id.as_deref() {
            let seen = match visible.get(incident) {
                Some(s) => *s,
                None => {
                    let s = match incident.parse::<IncidentId>() {
                        Ok(id) => state.store.incident(viewer, &id).await?.is_some(),
                        Err(_) => false,
                    };
                    visible.insert(incident.to_string(), s);
                    s
                }
            };
            if !seen {
                continue;
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// Query of an alert list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    service: Option<String>,
    incident: Option<String>,
    /// First seen at or after: RFC 3339, or an age such as `1h`.
    since: Option<String>,
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn parse_status(text: &str) -> Result<Vec<AlertStatus>, ApiError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        out.extend(match part {
            "triggered" => vec![AlertStatus::Triggered],
            "acknowledged" => vec![AlertStatus::Acknowledged],
            "resolved" => vec![AlertStatus::Resolved],
            "open" => vec![AlertStatus::Triggered, AlertStatus::Acknowledged],
            other => {
                return Err(ApiError::invalid(
                    "status",
                    format!(
                        "unknown alert status {other:?}; expected triggered, acknowledged, resolved or open"
                    ),
                ));
            }
        });
    }
    Ok(out)
}

/// `GET /api/v1/alerts`
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Viewer)?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let filter = AlertFilter {
        statuses: q
            .status
            .as_deref()
            .map(parse_status)
            .transpose()?
            .unwrap_or_default(),
        service: q.service,
        incident_id: q.incident,
        since: q
            .since
            .as_deref()
            .map(|v| crate::routes::incidents::parse_time("since", v, state.clock.now()))
            .transpose()?,
        limit,
        cursor: q
            .cursor
            .as_deref()
            .map(|c| {
                AlertCursor::decode(c).ok_or_else(|| {
                    ApiError::invalid("cursor", "cursor: not a cursor this server issued")
                })
            })
            .transpose()?,
    };
    let records = state.store.alerts(&filter).await?;
    // From the last stored alert of a full page, not the last one shown: alerts of
    // incidents the caller may not see are left out of the page but not of the paging.
    let next_cursor = (records.len() == limit as usize)
        .then(|| records.last().map(|r| AlertCursor::after(r).encode()))
        .flatten();
    let alerts = views(&state, &auth.0, records).await?;
    Ok(Json(
        json!({ "alerts": alerts, "next_cursor": next_cursor }),
    ))
}

async fn one(state: &AppState, viewer: &Principal, id: &str) -> Result<Value, ApiError> {
    let rec = state
        .store
        .alert(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
    let mut v = views(state, viewer, vec![rec])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
    v["events"] = serde_json::to_value(state.store.alert_events(id).await?)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(v)
}

/// `GET /api/v1/alerts/{id}`
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Viewer)?;
    Ok(Json(one(&state, &auth.0, &id).await?))
}

async fn change(
    state: &AppState,
    auth: &Auth,
    id: &str,
    action: Action,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Responder)?;
    let mut event = AlertEvent::new(SourceKind::Generic, action, "");
    event.source = Some(auth.0.name.clone());
    let now = state.clock.now();
    let (_, outcome) = state
        .store
        .change_alert(id, &event, now)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
    if let IngestOutcome::Ignored(why) = outcome {
        return Err(ApiError::conflict(why));
    }
    state.nudge_alerts();
    tracing::info!(alert_id = %id, action = %action, by = %auth.0.name, "alert changed by hand");
    Ok(Json(one(state, &auth.0, id).await?))
}

/// `POST /api/v1/alerts/{id}/acknowledge`
pub async fn acknowledge(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &auth, &id, Action::Acknowledge).await
}

/// `POST /api/v1/alerts/{id}/resolve`
pub async fn resolve(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    change(&state, &auth, &id, Action::Resolve).await
}

/// `GET /api/v1/integrations`
pub async fn integrations(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Admin)?;
    Ok(Json(
        json!({ "integrations": state.store.integrations().await? }),
    ))
}

/// Body of an integration creation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationBody {
    service: String,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /api/v1/integrations`: the routing key is shown once and stored hashed.
pub async fn create_integration(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(b): JsonBody<IntegrationBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Role::Admin)?;
    let service = b.service.trim().to_string();
    if service.is_empty() || !state.config.accepts_service(&service) {
        let ids: Vec<&str> = state
            .config
            .services
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        return Err(ApiError::invalid(
            "service",
            format!(
                "unknown service {service:?}; expected one of {}",
                ids.join(", ")
            ),
        ));
    }
    let name = b
        .name
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|| service.clone());
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "a name of 1-64 characters"));
    }
    // 32 hex characters, the length PagerDuty's own keys have, so senders that check it accept
    // ours.
    let key = random_hex(16);
    let id = format!("int_{}", random_hex(6));
    let audit = crate::audit::credential_changed(&state, &auth, &format!("{id} created"));
    let record = state
        .store
        .create_integration(
            NewIntegration {
                id,
                name,
                service,
                key_hash: hash_token(&key),
                created_at: state.clock.now(),
                created_by: auth.0.name.clone(),
            },
            Some(audit),
        )
        .await?;
    tracing::info!(integration_id = %record.id, service = %record.service, by = %auth.0.name, "integration created");
    let mut v = serde_json::to_value(&record).map_err(|e| ApiError::internal(&e))?;
    v["routing_key"] = json!(key);
    Ok((StatusCode::CREATED, Json(v)))
}

/// How long a rotated-out routing key keeps working when the caller does not say.
const DEFAULT_ROTATION_GRACE: i64 = 24 * 3600;

/// Longest grace a rotated-out routing key may get.
const MAX_ROTATION_GRACE: i64 = 30 * 24 * 3600;

/// Body of a routing-key rotation (all optional).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// How long the old key keeps working (`24h` by default, `0s` to end it now, at most
    /// `30d`).
    #[serde(default)]
    grace: Option<String>,
}

/// Seconds of a rotation's grace: a duration such as `2h`, or `0`/`0s` for none.
fn grace_seconds(grace: Option<&str>) -> Result<i64, ApiError> {
    let refused = |why: String| {
        ApiError::invalid(
            "grace",
            format!("grace: {why} (how long the old key keeps working: 0s to 30d)"),
        )
    };
    let secs = match grace.map(str::trim) {
        None => DEFAULT_ROTATION_GRACE,
        Some("0" | "0s") => 0,
        Some(text) => text
            .parse::<Duration>()
            .map_err(|e| refused(e.to_string()))?
            .as_secs(),
    };
    if !(0..=MAX_ROTATION_GRACE).contains(&secs) {
        return Err(refused(format!("{secs}s is out of range")));
    }
    Ok(secs)
}

/// `POST /api/v1/integrations/{id}/rotate`: a new routing key, shown once; the old one keeps
/// working for the grace period so senders can be moved over without losing an event.
pub async fn rotate_integration(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    body: Option<JsonBody<RotateBody>>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Admin)?;
    let b = body.map(|JsonBody(b)| b).unwrap_or_default();
    let grace = grace_seconds(b.grace.as_deref())?;
    let now = state.clock.now();
    let until = now
        .checked_add(jiff::SignedDuration::from_secs(grace))
        .map_err(|e| ApiError::internal(&e))?;
    let key = random_hex(16);
    let audit = crate::audit::credential_changed(&state, &auth, &format!("{id} rotated"));
    let record = state
        .store
        .rotate_integration_key(&id, &hash_token(&key), until, now, Some(audit))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no live integration {id}")))?;
    state.integrations.forget(&record.id);
    tracing::info!(integration_id = %record.id, by = %auth.0.name, grace_secs = grace, "routing key rotated");
    let mut v = serde_json::to_value(&record).map_err(|e| ApiError::internal(&e))?;
    v["routing_key"] = json!(key);
    Ok(Json(v))
}

/// `DELETE /api/v1/integrations/{id}`: every key of the integration stops working at once (in
/// other server processes sharing the database within the key cache's lifetime). The record
/// stays, so its alerts keep their history.
pub async fn revoke_integration(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Admin)?;
    let audit = crate::audit::credential_changed(&state, &auth, &format!("{id} revoked"));
    let record = state
        .store
        .revoke_integration(&id, state.clock.now(), Some(audit))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no integration {id}")))?;
    state.integrations.forget(&record.id);
    tracing::info!(integration_id = %record.id, by = %auth.0.name, "integration revoked");
    Ok(Json(
        serde_json::to_value(&record).map_err(|e| ApiError::internal(&e))?,
    ))
}
