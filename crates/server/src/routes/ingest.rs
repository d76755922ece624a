//! Receivers for alerts from the tools teams already run: the PagerDuty Events API v2
//! (`/v2/enqueue`, `/v2/change/enqueue`), Alertmanager and Grafana webhooks, and generic JSON
//! events. Each authenticates by an integration's routing key (in the body for PagerDuty; as a
//! bearer token or a basic-auth password for the webhooks, which cannot sign), routes every
//! event through the configured rules, and answers only after the events are committed.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;
use warroom_core::alert::pagerduty::{self, EnqueueResponse};
use warroom_core::alert::routing::{Disposition as RuleDisposition, evaluate};
use warroom_core::alert::{AlertEvent, AlertSeverity, alertmanager, generic, grafana};
use warroom_core::event::EventKind;
use warroom_core::timer::desired_timers;
use warroom_core::{Incident, NewEvent};
use warroom_store::{Disposition, IngestItem, IngestOutcome, Integration};

use crate::auth::{hash_token, random_hex};
use crate::error::ApiError;
use crate::ingest::SubmitError;
use crate::ratelimit::RetryAfter;
use crate::security::{self, ClientSource};
use crate::state::AppState;

/// Largest webhook body accepted: Alertmanager and Grafana send a whole group of alerts, with
/// their labels and annotations, in one request.
const MAX_WEBHOOK_BYTES: usize = 4 * 1024 * 1024;

/// Reads a body up to `limit` bytes (the API's 64 KiB default is too small for alert senders:
/// PagerDuty allows 512,000 bytes per event). `None` when it is larger or cannot be read.
async fn read_body(body: Body, limit: usize) -> Option<Bytes> {
    // One byte over the limit is enough to know it is too large.
    axum::body::to_bytes(body, limit + 1)
        .await
        .ok()
        .filter(|b| b.len() <= limit)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes, or could not be read"),
    )
}

/// Per-event results a webhook answer lists, at most (a big group is still all committed).
const MAX_LISTED_RESULTS: usize = 200;

/// Seconds a sender is asked to wait when the queue is full.
const RETRY_AFTER_SECS: u64 = 1;

/// The integration a routing key belongs to (cached: keys are checked on every event). A key
/// replaced by a rotation counts only until its grace period ends.
pub(crate) async fn integration_for_key(
    state: &AppState,
    key: &str,
) -> Result<Option<Integration>, ApiError> {
    let hash = hash_token(key);
    let now = state.clock.now();
    let found = match state.integrations.get(&hash, now) {
        Some(found) => found,
        None => match state.store.integration_by_key(&hash).await? {
            Some(found) => {
                state.integrations.put(hash, found.clone(), now);
                found
            }
            None => return Ok(None),
        },
    };
    Ok(found.accepted_at(now).then_some(found.integration))
}

/// Why a routing key was not let in.
enum Refused {
    /// No integration has it.
    Unknown,
    /// The source is locked out, or the integration is over its rate.
    Limited(RetryAfter, &'static str),
    /// The lookup failed.
    Failed(ApiError),
}

/// The integration for `key`, with the limits applied: a locked-out source is refused before
/// the lookup, an unknown key counts as a failed authentication of `source`, and a known one
/// takes a request from its integration's allowance.
async fn admit(state: &AppState, source: &ClientSource, key: &str) -> Result<Integration, Refused> {
    security::check_lockout(state, source).map_err(|wait| {
        Refused::Limited(
            wait,
            "too many failed authentications from your address; try again later",
        )
    })?;
    match integration_for_key(state, key).await {
        Ok(Some(integration)) => {
            security::check_integration(state, &integration.id)
                .map_err(|wait| Refused::Limited(wait, "too many events for this routing key"))?;
            Ok(integration)
        }
        Ok(None) => {
            security::record_auth_failure(state, source, "routing key", "-", "unknown routing key")
                .await;
            Err(Refused::Unknown)
        }
        Err(err) => Err(Refused::Failed(err)),
    }
}

/// Routes one event that came through `integration`: which service and severity a new alert
/// gets, whether it may open an incident, and the counter it must pass first.
pub(crate) fn route(
    state: &AppState,
    integration: &Integration,
    mut event: AlertEvent,
) -> (IngestItem, String) {
    let now = state.clock.now();
    // Rules match the integration's id as the routing key: the key itself is a secret.
    event.routing_key = Some(integration.id.clone());
    let dedup_key = event.dedup_key.clone().unwrap_or_else(|| random_hex(16));
    event.dedup_key = Some(dedup_key.clone());
    let decision = evaluate(state.config.routing_rules.rules(), &event, now);
    let service = decision
        .service
        .clone()
        .or_else(|| {
            event
                .service
                .clone()
                .filter(|s| state.config.accepts_service(s))
        })
        .unwrap_or_else(|| integration.service.clone());
    let incident_severity = decision.incident_severity.clone().unwrap_or_else(|| {
        state
            .config
            .alerts
            .incident_severity(event.severity.unwrap_or(AlertSeverity::Error))
            .to_string()
    });
    let rule_name = |d: &warroom_core::alert::routing::RouteDecision| {
        d.matched
            .last()
            .and_then(|i| state.config.routing_rules.rules().get(*i))
            .and_then(|r| r.name.clone())
            .map_or_else(
                || "a routing rule".to_string(),
                |n| format!("routing rule {n:?}"),
            )
    };
    let disposition = match decision.disposition {
        RuleDisposition::Open => Disposition::Open,
        RuleDisposition::Suppress => {
            Disposition::Suppress(format!("suppressed by {}", rule_name(&decision)))
        }
        RuleDisposition::Drop => Disposition::Drop,
    };
    let item = IngestItem {
        integration_id: integration.id.clone(),
        dedup_key: dedup_key.clone(),
        received_at: now,
        new_alert_id: alert_id(now),
        service: Some(service),
        incident_severity,
        playbooks: decision.playbooks.clone(),
        disposition,
        threshold: decision.threshold.clone(),
        open_incidents: state.config.alerts.open_incidents,
        event,
    };
    (item, dedup_key)
}

/// A new alert's id: the receive time in hex, then randomness. Ids in time order keep inserts at
/// the end of the alert indexes, where random ids would touch a random page per alert.
fn alert_id(now: jiff::Timestamp) -> String {
    format!("alr_{:014x}{}", now.as_microsecond().max(0), random_hex(4))
}

fn busy_response(body: serde_json::Value) -> Response {
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    resp
}

fn pd_response(status: StatusCode, body: EnqueueResponse) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A PagerDuty body up to PagerDuty's own limit, or the 400 it answers beyond it.
async fn read_pd_body(body: Body) -> Result<Bytes, Response> {
    read_body(body, pagerduty::MAX_EVENT_BYTES)
        .await
        .ok_or_else(|| {
            pd_response(
                StatusCode::BAD_REQUEST,
                EnqueueResponse::invalid(vec![format!(
                    "Event object is too large (maximum {} bytes)",
                    pagerduty::MAX_EVENT_BYTES
                )]),
            )
        })
}

fn unknown_routing_key() -> Response {
    pd_response(
        StatusCode::BAD_REQUEST,
        EnqueueResponse::invalid(vec![
            "'routing_key' is not the key of any Warroom integration".into(),
        ]),
    )
}

/// A refused routing key in PagerDuty's words: 400 for an unknown key, as PagerDuty answers,
/// and its `throttle event` 429 for a limit.
fn pd_refusal(refused: Refused) -> Response {
    match refused {
        Refused::Unknown => unknown_routing_key(),
        Refused::Limited(wait, why) => security::too_many("/v2/enqueue", wait, why),
        Refused::Failed(err) => err.into_response(),
    }
}

/// `POST /v2/enqueue`: a PagerDuty Events API v2 alert event.
pub async fn enqueue(State(state): State<AppState>, source: ClientSource, body: Body) -> Response {
    let body = match read_pd_body(body).await {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let event = match pagerduty::parse_event(&body) {
        Ok(e) => e,
        Err(invalid) => return pd_response(StatusCode::BAD_REQUEST, invalid.response()),
    };
    let key = event.routing_key.clone().unwrap_or_default();
    let integration = match admit(&state, &source, &key).await {
        Ok(i) => i,
        Err(refused) => return pd_refusal(refused),
    };
    let (item, dedup_key) = route(&state, &integration, event);
    match state.ingest.submit(vec![item]).await {
        Ok(_) => pd_response(StatusCode::ACCEPTED, EnqueueResponse::accepted(dedup_key)),
        Err(SubmitError::Busy) => busy_response(json!({
            "status": "throttle event",
            "message": "Too many events are waiting to be committed; retry after a second.",
        })),
        Err(SubmitError::Failed(why)) => {
            tracing::error!(%why, "event not committed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    json!({ "status": "error", "message": "the event could not be stored; retry" }),
                ),
            )
                .into_response()
        }
    }
}

/// `POST /v2/change/enqueue`: a PagerDuty change event, put on the timelines of the service's
/// open incidents.
pub async fn change_enqueue(
    State(state): State<AppState>,
    source: ClientSource,
    body: Body,
) -> Response {
    let body = match read_pd_body(body).await {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let change = match pagerduty::parse_change_event(&body) {
        Ok(c) => c,
        Err(invalid) => return pd_response(StatusCode::BAD_REQUEST, invalid.response()),
    };
    let integration = match admit(&state, &source, &change.routing_key).await {
        Ok(i) => i,
        Err(refused) => return pd_refusal(refused),
    };
    let now = state.clock.now();
    let service = integration.service.clone();
    let kind = EventKind::ChangeRecorded {
        service: service.clone(),
        summary: change.summary.clone(),
        source: change.source.clone(),
        happened_at: change.timestamp,
        links: change.links.iter().map(|l| l.href.clone()).collect(),
    };
    let actor = format!("integration:{}", integration.name);
    let plan = move |_: &Incident| {
        vec![NewEvent {
            at: now,
            actor: actor.clone(),
            kind: kind.clone(),
        }]
    };
    let config = state.config.clone();
    let timers = move |inc: &Incident| desired_timers(inc, &config);
    match state
        .store
        .record_change(&integration.id, &service, &change, now, &plan, &timers)
        .await
    {
        Ok(_) => pd_response(StatusCode::ACCEPTED, EnqueueResponse::change_accepted()),
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// The routing key a webhook sender authenticates with: `Authorization: Bearer KEY`, or basic
/// auth with the key as password (any user name).
fn webhook_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "missing credentials: send Authorization: Bearer <routing key> (or basic auth with the key as password)",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" if !rest.is_empty() => Ok(rest.to_string()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::unauthorized("malformed basic credentials"))?;
            let (_, password) = decoded
                .split_once(':')
                .ok_or_else(|| ApiError::unauthorized("malformed basic credentials"))?;
            Ok(password.to_string())
        }
        _ => Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <routing key>` or basic auth",
        )),
    }
}

async fn webhook_integration(
    state: &AppState,
    source: &ClientSource,
    headers: &HeaderMap,
) -> Result<Integration, ApiError> {
    let key = webhook_key(headers)?;
    admit(state, source, &key)
        .await
        .map_err(|refused| match refused {
            Refused::Unknown => ApiError::unauthorized("unknown or revoked routing key"),
            Refused::Limited(wait, why) => ApiError::rate_limited(wait, why),
            Refused::Failed(err) => err,
        })
}

/// Routes and commits a webhook's events; the answer lists what each did.
async fn accept(state: &AppState, integration: &Integration, events: Vec<AlertEvent>) -> Response {
    let routed: Vec<(IngestItem, String)> = events
        .into_iter()
        .map(|e| route(state, integration, e))
        .collect();
    let keys: Vec<String> = routed.iter().map(|(_, k)| k.clone()).collect();
    let items: Vec<IngestItem> = routed.into_iter().map(|(i, _)| i).collect();
    match state.ingest.submit(items).await {
        Ok(outcomes) => {
            let listed: Vec<serde_json::Value> = outcomes
                .iter()
                .zip(&keys)
                .take(MAX_LISTED_RESULTS)
                .map(|(o, k)| outcome_json(o, k))
                .collect();
            (
                StatusCode::ACCEPTED,
                axum::Json(
                    json!({ "status": "success", "events": outcomes.len(), "results": listed }),
                ),
            )
                .into_response()
        }
        Err(SubmitError::Busy) => busy_response(json!({
            "error": { "code": "busy", "message": "too many events are waiting to be committed; retry after a second" }
        })),
        Err(SubmitError::Failed(why)) => {
            tracing::error!(%why, "events not committed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the events could not be stored; retry",
            )
            .into_response()
        }
    }
}

fn outcome_json(o: &IngestOutcome, dedup_key: &str) -> serde_json::Value {
    let mut v = json!({ "dedup_key": dedup_key, "outcome": o.name() });
    if let Some(id) = o.alert_id() {
        v["alert_id"] = json!(id);
    }
    if let IngestOutcome::Ignored(why) = o {
        v["reason"] = json!(why);
    }
    v
}

/// `POST /api/v1/alerts/alertmanager`: an Alertmanager webhook (version 4).
pub async fn alertmanager(
    State(state): State<AppState>,
    source: ClientSource,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let integration = match webhook_integration(&state, &source, &headers).await {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let Some(body) = read_body(body, MAX_WEBHOOK_BYTES).await else {
        return too_large(MAX_WEBHOOK_BYTES).into_response();
    };
    match alertmanager::parse_events(&body) {
        Ok(events) => accept(&state, &integration, events).await,
        Err(err) => ApiError::bad_request(err.to_string()).into_response(),
    }
}

/// `POST /api/v1/alerts/grafana`: a Grafana alerting webhook, signature checked when a secret is
/// configured.
pub async fn grafana(
    State(state): State<AppState>,
    source: ClientSource,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let integration = match webhook_integration(&state, &source, &headers).await {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let Some(body) = read_body(body, MAX_WEBHOOK_BYTES).await else {
        return too_large(MAX_WEBHOOK_BYTES).into_response();
    };
    if let Some(sig) = &state.grafana_signature {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let ts = sig.timestamp_header.as_deref().and_then(get);
        if let Err(err) = sig.verify(&body, get(&sig.header), ts, state.clock.now()) {
            // A forged signature is a failed authentication like a wrong key.
            security::record_auth_failure(
                &state,
                &source,
                "grafana signature",
                "-",
                "bad Grafana signature",
            )
            .await;
            return ApiError::unauthorized(format!("bad Grafana signature: {err}")).into_response();
        }
    }
    match grafana::parse_events(&body) {
        Ok(events) => accept(&state, &integration, events).await,
        Err(err) => ApiError::bad_request(err.to_string()).into_response(),
    }
}

/// `POST /api/v1/events`: one generic JSON event, for scripts and health checks.
pub async fn generic_event(
    State(state): State<AppState>,
    source: ClientSource,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let integration = match webhook_integration(&state, &source, &headers).await {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let Some(body) = read_body(body, pagerduty::MAX_EVENT_BYTES).await else {
        return too_large(pagerduty::MAX_EVENT_BYTES).into_response();
    };
    match generic::parse_event(&body) {
        Ok(event) => accept(&state, &integration, vec![event]).await,
        Err(err) => {
            let e = ApiError::bad_request(err.to_string());
            match err.field() {
                Some(f) => e.with_field(f),
                None => e,
            }
            .into_response()
        }
    }
}
