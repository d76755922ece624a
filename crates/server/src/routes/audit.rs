//! `GET /api/v1/audit`: the access audit log, for admins only.

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};
use warroom_core::Role;
use warroom_core::audit::{AuditAction, verify};
use warroom_store::AuditFilter;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::routes::incidents::parse_time;
use crate::state::AppState;

/// Most entries one answer holds.
const MAX_LISTED: u32 = 10_000;

/// `GET /api/v1/audit?since=24h&actor=&action=&limit=&verify=true`, oldest first.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Admin)?;
    let now = state.clock.now();
    let mut f = AuditFilter {
        since: None,
        limit: 1000,
        ..AuditFilter::default()
    };
    let mut check = false;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let v = v.trim().to_string();
        match k.as_ref() {
            "since" => f.since = Some(parse_time("since", &v, now)?),
            "actor" => f.actor = Some(v).filter(|a| !a.is_empty()),
            "action" => {
                let action: AuditAction = v
                    .parse()
                    .map_err(|e: String| ApiError::invalid("action", format!("action: {e}")))?;
                f.action = Some(action.as_str().to_string());
            }
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
            "verify" => {
                check = match v.as_str() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => {
                        return Err(ApiError::bad_request("verify: expected true or false")
                            .with_field("verify"));
                    }
                }
            }
            other => return Err(ApiError::unknown_query_param(other)),
        }
    }
    if f.since.is_none() {
        f.since = Some(
            now.checked_sub(jiff::SignedDuration::from_hours(24))
                .unwrap_or(now),
        );
    }
    let entries = state.store.audit_entries(&f).await?;
    let mut answer = json!({ "entries": entries });
    if check {
        let all = state.store.audit_entries(&AuditFilter::default()).await?;
        match verify(&all) {
            Ok(()) => answer["verified"] = json!(true),
            Err(broken) => {
                answer["verified"] = json!(false);
                answer["broken"] = json!(broken);
            }
        }
        answer["total"] = json!(all.len());
    }
    Ok(Json(answer))
}
