//! The public status page, served without auth: HTML at `/status`, its stylesheet, an Atom
//! feed, and the hosted status page API's JSON under `/api/v2`.
//!
//! Every answer carries a strong ETag (a hash of the exact body) and a short public cache
//! lifetime, and `If-None-Match` gets a 304 without a body. Only public entries are read (the
//! store leaves out restricted incidents), and the renderers take nothing but page data.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use warroom_core::statuspage::{self, Snapshot, atom, hosted, html};

use crate::error::ApiError;
use crate::json::PathParams;
use crate::state::AppState;

/// How long browsers and proxies may reuse an answer: short, so an incident shows within
/// half a minute, yet long enough to absorb a rush of readers during an outage.
pub const CACHE_CONTROL: &str = "public, max-age=30";

/// The page may load its own stylesheet and nothing else: no scripts, frames or forms.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The ETag of a body: the first 128 bits of its SHA-256, quoted (strong).
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether `If-None-Match` names `tag` (or `*`). Weak validators match too: the comparison
/// for GET is the weak one (RFC 9110 13.1.2).
fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
}

fn cached(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>, csp: bool) -> Response {
    let tag = etag(&body);
    let mut response = if not_modified(headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if csp {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    }
    if content_type.starts_with("application/json") {
        // Status widgets on other sites read the JSON from the browser.
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}

async fn snapshot(state: &AppState) -> Result<Snapshot<'_>, ApiError> {
    let states = state.store.component_states().await?;
    let entries = state
        .store
        .public_entries(statuspage::LISTED_ENTRIES as u32)
        .await?;
    Ok(Snapshot::new(
        &state.config.status_page,
        &states,
        entries,
        state.clock.now(),
    ))
}

async fn json_doc(
    state: &AppState,
    headers: &HeaderMap,
    build: fn(&Snapshot<'_>) -> serde_json::Value,
) -> Result<Response, ApiError> {
    let s = snapshot(state).await?;
    let body = serde_json::to_vec(&build(&s)).map_err(|e| ApiError::internal(&e))?;
    Ok(cached(headers, "application/json", body, false))
}

/// `GET /status`
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let s = snapshot(&state).await?;
    Ok(cached(
        &headers,
        "text/html; charset=utf-8",
        html::render(&s).into_bytes(),
        true,
    ))
}

/// `GET /status/incidents/{entry}`: one published incident or maintenance with every update.
/// Entries of restricted incidents are as absent as unknown ones.
pub async fn entry(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let entry = state
        .store
        .page_entry(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such incident on the status page"))?;
    let s = snapshot(&state).await?;
    Ok(cached(
        &headers,
        "text/html; charset=utf-8",
        html::render_entry(&s, &entry).into_bytes(),
        true,
    ))
}

/// `GET /status/style.css`
pub async fn stylesheet(headers: HeaderMap) -> Response {
    cached(
        &headers,
        "text/css; charset=utf-8",
        html::STYLESHEET.as_bytes().to_vec(),
        false,
    )
}

/// `GET /status/history.atom`
pub async fn feed(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let s = snapshot(&state).await?;
    Ok(cached(
        &headers,
        "application/atom+xml; charset=utf-8",
        atom::render(&s).into_bytes(),
        false,
    ))
}

/// `GET /api/v2/status.json`
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_doc(&state, &headers, hosted::status).await
}

/// `GET /api/v2/summary.json`
pub async fn summary(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_doc(&state, &headers, hosted::summary).await
}

/// `GET /api/v2/components.json`
pub async fn components(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_doc(&state, &headers, hosted::components_doc).await
}

/// `GET /api/v2/incidents.json`
pub async fn incidents(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_doc(&state, &headers, hosted::incidents).await
}

/// `GET /api/v2/incidents/unresolved.json`
pub async fn unresolved(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_doc(&state, &headers, hosted::unresolved).await
}

/// `GET /api/v2/scheduled-maintenances.json`
pub async fn maintenances(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_doc(&state, &headers, hosted::maintenances).await
}

/// `GET /api/v2/scheduled-maintenances/upcoming.json`
pub async fn upcoming(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_doc(&state, &headers, hosted::upcoming).await
}

/// `GET /api/v2/scheduled-maintenances/active.json`
pub async fn active(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_doc(&state, &headers, hosted::active).await
}
