//! Evidence routes: upload (streamed into the vault), list, metadata with its chain of custody,
//! download, transfer, and re-hashing every blob.
//!
//! Custody is recorded before the thing it records happens: a download's event is committed
//! before the first byte is sent, a view's before the answer. Restricted incidents answer 404
//! to those who may not see them, exactly as the incident itself does.

use axum::Json;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use warroom_core::audit::AuditAction;
use warroom_core::evidence::{EvidenceInfo, Transfer, custody_subject, parse_sha256};
use warroom_core::timer::desired_timers;
use warroom_core::{Event, EventKind, Incident, IncidentId, NewEvent, Role};
use warroom_store::{EvidenceRecord, StoreError};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::json::{JsonBody, PathParams};
use crate::routes::incidents::{not_found, parse_id};
use crate::state::AppState;
use crate::vault::{BlobCheck, VaultError};

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "evidence uploads are limited to {limit} bytes on this server (warroom serve --evidence-max-bytes)"
        ),
    )
}

fn vault_error(err: VaultError) -> ApiError {
    match err {
        VaultError::TooLarge { limit } => too_large(limit),
        VaultError::Empty => ApiError::invalid("body", "body: the upload is empty"),
        VaultError::Interrupted(why) => {
            ApiError::bad_request(format!("body: {why}")).with_field("body")
        }
        VaultError::Io(err) => ApiError::internal(&err),
    }
}

/// The incident's evidence (404 when the caller may not see the incident).
async fn records(
    state: &AppState,
    auth: &Auth,
    id: &IncidentId,
) -> Result<Vec<EvidenceRecord>, ApiError> {
    state
        .store
        .evidence(&auth.0, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// One piece of evidence by hash (404 for a bad or unknown hash, or an invisible incident).
async fn one(
    state: &AppState,
    auth: &Auth,
    id: &IncidentId,
    sha256: &str,
) -> Result<EvidenceRecord, ApiError> {
    let sha256 = parse_sha256("sha256", sha256)?;
    records(state, auth, id)
        .await?
        .into_iter()
        .find(|r| r.sha256 == sha256)
        .ok_or_else(|| ApiError::not_found(format!("no evidence {sha256} on {id}")))
}

/// Appends a custody event under the incident's lock and returns it once committed.
async fn record_custody(
    state: &AppState,
    auth: &Auth,
    id: &IncidentId,
    kind: EventKind,
) -> Result<Event, ApiError> {
    let clock = state.clock.clone();
    let actor = auth.0.name.clone();
    let decide = move |_: &Incident| {
        Ok(vec![NewEvent {
            at: clock.now(),
            actor: actor.clone(),
            kind: kind.clone(),
        }])
    };
    let config = state.config.clone();
    let timers = move |inc: &Incident| desired_timers(inc, &config);
    match state.store.update(&auth.0, id, &decide, &timers).await {
        Ok((_, mut events)) => events
            .pop()
            .ok_or_else(|| ApiError::internal(&"the custody event was not written")),
        Err(StoreError::NotFound) => Err(not_found(id)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/incidents/{id}/evidence?file_name=&description=&collected_from=&media_type=`
/// with the raw content as the body (`Content-Type` is the media type unless given).
pub async fn add(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    auth.require(Role::Responder)?;
    let id = parse_id(&id)?;
    let (mut file_name, mut media_type, mut description, mut collected_from) =
        (None, None, None, None);
    let mut check_size = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if k == "check_size" {
            check_size = Some(v.parse::<u64>().map_err(|_| {
                ApiError::invalid("check_size", "check_size: expected a number of bytes")
            })?);
            continue;
        }
        let v = Some(v.into_owned());
        match k.as_ref() {
            "file_name" => file_name = v,
            "media_type" => media_type = v,
            "description" => description = v,
            "collected_from" => collected_from = v,
            other => return Err(ApiError::unknown_query_param(other)),
        }
    }
    let media_type = media_type.or_else(|| {
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let info = EvidenceInfo::parse(
        file_name.as_deref(),
        media_type.as_deref(),
        description.as_deref(),
        collected_from.as_deref(),
    )?;
    // Nothing is read from a caller who may not add to this incident.
    state
        .store
        .incident(&auth.0, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let limit = state.vault.max_bytes();
    // A check before a large upload: would this many bytes be taken? Nothing is read or stored.
    // (Refusing a too-large body while the client is still sending it closes the connection
    // under the sender, which then sees a broken pipe instead of this answer.)
    if let Some(size) = check_size {
        if size > limit {
            return Err(too_large(limit));
        }
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let stored = state
        .vault
        .store(body.into_data_stream())
        .await
        .map_err(vault_error)?;
    let added = NewEvent {
        at: state.clock.now(),
        actor: auth.0.name.clone(),
        kind: info.added_event(&stored.sha256, stored.size, &(auth.2).0),
    };
    let config = state.config.clone();
    let timers = move |inc: &Incident| desired_timers(inc, &config);
    let (record, created) = match state.store.add_evidence(&auth.0, &id, added, &timers).await {
        Ok(done) => done,
        Err(StoreError::NotFound) => return Err(not_found(&id)),
        Err(e) => return Err(e.into()),
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({ "evidence": record, "duplicate": !created })),
    )
        .into_response())
}

/// `GET /api/v1/incidents/{id}/evidence`
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let items = records(&state, &auth, &id).await?;
    if let Some(inc) = state.store.incident(&auth.0, &id).await? {
        crate::audit::restricted_read(&state, &auth, &inc, "evidence list").await?;
    }
    Ok(Json(json!({ "incident_id": id, "evidence": items })))
}

/// `GET /api/v1/incidents/{id}/evidence/{sha256}`: the record and every custody event of it;
/// the view itself is recorded first.
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, sha256)): PathParams<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let record = one(&state, &auth, &id, &sha256).await?;
    crate::audit::record(
        &state,
        &auth,
        AuditAction::EvidenceView,
        &format!("{id}/{}", record.sha256),
    )
    .await?;
    record_custody(
        &state,
        &auth,
        &id,
        EventKind::EvidenceViewed {
            sha256: record.sha256.clone(),
        },
    )
    .await?;
    let events = state
        .store
        .events(&auth.0, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let custody: Vec<&Event> = events
        .iter()
        .filter(|e| custody_subject(&e.kind) == Some(record.sha256.as_str()))
        .collect();
    Ok(Json(json!({ "evidence": record, "custody": custody })))
}

/// A `Content-Disposition` that cannot break out of its header: the name in ASCII with
/// anything doubtful replaced, and the exact name percent-encoded (RFC 6266).
fn disposition(file_name: &str) -> HeaderValue {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = urlencode(file_name);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /api/v1/incidents/{id}/evidence/{sha256}/content`: the download is on the timeline
/// (and in the audit log) before the first byte leaves. Always sent as an attachment of type
/// `application/octet-stream`, so a browser never renders uploaded content as a page of
/// this site; the recorded type is in `X-Warroom-Media-Type`.
pub async fn content(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, sha256)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    auth.require(Role::Viewer)?;
    let id = parse_id(&id)?;
    let record = one(&state, &auth, &id, &sha256).await?;
    let Some((file, len)) = state
        .vault
        .open(&record.sha256)
        .await
        .map_err(vault_error)?
    else {
        return Err(ApiError::conflict(format!(
            "the content of evidence {} is missing from the vault; run evidence verify",
            record.sha256
        )));
    };
    if len != record.size {
        return Err(ApiError::conflict(format!(
            "the content of evidence {} is {len} bytes on disk, not the {} recorded: it was altered; run evidence verify",
            record.sha256, record.size
        )));
    }
    crate::audit::record(
        &state,
        &auth,
        AuditAction::EvidenceDownload,
        &format!("{id}/{}", record.sha256),
    )
    .await?;
    record_custody(
        &state,
        &auth,
        &id,
        EventKind::EvidenceDownloaded {
            sha256: record.sha256.clone(),
        },
    )
    .await?;
    let mut resp = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024))
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CONTENT_DISPOSITION, disposition(&record.file_name));
    if let Ok(v) = HeaderValue::from_str(&record.sha256) {
        h.insert("x-warroom-sha256", v);
    }
    if let Ok(v) = HeaderValue::from_str(&record.media_type) {
        h.insert("x-warroom-media-type", v);
    }
    Ok(resp)
}

/// `POST /api/v1/incidents/{id}/evidence/{sha256}/transfers` `{to, reason}`
pub async fn transfer(
    State(state): State<AppState>,
    auth: Auth,
    PathParams((id, sha256)): PathParams<(String, String)>,
    JsonBody(t): JsonBody<Transfer>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Role::Responder)?;
    let id = parse_id(&id)?;
    let record = one(&state, &auth, &id, &sha256).await?;
    let kind = t.event(&record.sha256)?;
    crate::audit::record(
        &state,
        &auth,
        AuditAction::EvidenceTransfer,
        &format!("{id}/{} to {}", record.sha256, t.to.trim()),
    )
    .await?;
    let event = record_custody(&state, &auth, &id, kind).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "evidence": record, "event": event })),
    ))
}

/// `POST /api/v1/incidents/{id}/evidence/verify`: re-reads every blob of the incident and
/// compares its hash with the recorded one.
pub async fn verify(
    State(state): State<AppState>,
    auth: Auth,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Responder)?;
    let id = parse_id(&id)?;
    let items = records(&state, &auth, &id).await?;
    let mut results = Vec::with_capacity(items.len());
    let mut all_ok = true;
    for item in &items {
        let check = state.vault.check(&item.sha256).await.map_err(vault_error)?;
        let mut row =
            json!({ "sha256": item.sha256, "file_name": item.file_name, "size": item.size });
        match check {
            BlobCheck::Ok => row["status"] = json!("ok"),
            BlobCheck::Missing => {
                all_ok = false;
                row["status"] = json!("missing");
            }
            BlobCheck::Mismatch { actual } => {
                all_ok = false;
                row["status"] = json!("mismatch");
                row["actual_sha256"] = json!(actual);
            }
        }
        results.push(row);
    }
    Ok(Json(
        json!({ "incident_id": id, "ok": all_ok, "checked": results.len(), "items": results }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_stay_inside_their_header() {
        let v = disposition("evil\"\r\nSet-Cookie: x=1.txt");
        let text = v.to_str().expect("ascii");
        assert!(!text.contains('\r') && !text.contains('\n'));
        assert!(text.starts_with("attachment; filename=\"evil_"), "{text}");
        let v = disposition("journal été.log");
        assert!(
            v.to_str()
                .expect("ascii")
                .contains("filename*=UTF-8''journal%20%C3%A9t%C3%A9.log")
        );
    }
}
