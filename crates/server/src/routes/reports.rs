//! Metrics of one incident and reports over many, computed from the timelines on request.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use warroom_core::metrics::{IncidentMetrics, compute};
use warroom_core::report::{GroupBy, Report, ReportFormat, build, render};
use warroom_store::IncidentFilter;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::PathParams;
use crate::routes::incidents::{incident_with_events, parse_id, parse_time};
use crate::state::AppState;

/// Most incidents one report reads; a wider window is refused rather than left to run long.
pub const MAX_REPORTED: usize = 20_000;

/// `GET /api/v1/incidents/{id}/metrics`
pub async fn incident_metrics(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<IncidentMetrics>, ApiError> {
    let id = parse_id(&id)?;
    let (_, events) = incident_with_events(&state, &auth, &id).await?;
    compute(&events, &state.config, state.clock.now())
        .map(Json)
        .ok_or_else(|| {
            ApiError::internal(&format!("{id}: the log does not start with a declaration"))
        })
}

/// `GET /api/v1/reports?since=90d&by=severity&format=json|md|csv`. Counts only the incidents
/// the caller may see: a restricted incident is left out for those who cannot see it, exactly
/// as in lists, so a report never reveals that one exists.
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut since = None;
    let mut by = None;
    let mut format = ReportFormat::Json;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let bad = |e: String| ApiError::bad_request(e).with_field(k.to_string());
        match k.as_ref() {
            "since" => since = Some(parse_time("since", &v, now)?),
            "by" => by = Some(v.parse::<GroupBy>().map_err(bad)?),
            "format" => format = v.parse::<ReportFormat>().map_err(bad)?,
            other => return Err(ApiError::unknown_query_param(other)),
        }
    }
    let since = match since {
        Some(s) => s,
        None => default_since(now)?,
    };
    let report = collect(&state, &auth, by, since, now).await?;
    Ok((
        [(header::CONTENT_TYPE, format.content_type())],
        render(&report, format),
    )
        .into_response())
}

/// How far back a report reaches when the caller does not say: 90 days.
pub fn default_since(now: Timestamp) -> Result<Timestamp, ApiError> {
    now.checked_sub(jiff::SignedDuration::from_hours(90 * 24))
        .map_err(|_| ApiError::internal(&"the clock is out of range"))
}

/// The report over the incidents declared in `[since, now]` that `auth` may see (restricted
/// ones are left out for those who cannot see them, exactly as in lists). Shared by the API
/// and the web UI's reports page.
pub async fn collect(
    state: &AppState,
    auth: &Auth,
    by: Option<GroupBy>,
    since: Timestamp,
    now: Timestamp,
) -> Result<Report, ApiError> {
    if since > now {
        return Err(ApiError::bad_request("since: must not be in the future").with_field("since"));
    }
    let mut filter = IncidentFilter {
        since: Some(since),
        limit: 500,
        ..IncidentFilter::default()
    };
    let mut inputs = Vec::new();
    loop {
        let page = state.store.list(&auth.0, &filter).await?;
        crate::audit::restricted_list(state, auth, &page.incidents, "report").await?;
        for inc in page.incidents {
            if inputs.len() >= MAX_REPORTED {
                return Err(ApiError::bad_request(format!(
                    "since: the window holds more than {MAX_REPORTED} incidents; choose a shorter one"
                ))
                .with_field("since"));
            }
            // Visible in the list, so visible here; a row deleted meanwhile is just skipped.
            let Some(events) = state.store.events(&auth.0, &inc.id).await? else {
                continue;
            };
            if let Some(m) = compute(&events, &state.config, now) {
                inputs.push((m, inc.actions));
            }
        }
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => break,
        }
    }
    Ok(build(&inputs, &state.config, by, since, now))
}
