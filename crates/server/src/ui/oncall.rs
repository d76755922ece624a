//! `/ui/oncall`: who is on call now on every schedule and the shifts of the coming two weeks,
//! overrides included, computed exactly as the API's `GET /api/v1/schedules`; the overrides
//! themselves, which commanders add and remove here through the API's own override logic
//! ([`crate::routes::overrides::add`] and [`delete`]); and the escalation policies.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::{SignedDuration, Timestamp};
use minijinja::context;
use warroom_core::Role;
use warroom_core::escalation::EscalationTarget;
use warroom_core::schedule::{shifts, who_is_on_call};

use super::UiError;
use super::format::absolute;
use super::session::{FormData, UiUser};
use super::templates::render_page;
use crate::routes::overrides::{add, delete, listed, live};
use crate::state::AppState;

/// How far ahead the page lists shifts.
const DAYS: i64 = 14;

/// `GET /ui/oncall`
pub async fn page(State(state): State<AppState>, user: UiUser) -> Result<Html<String>, UiError> {
    let now = state.clock.now();
    let until = now
        .checked_add(SignedDuration::from_hours(24 * DAYS))
        .unwrap_or(now);
    let overrides = live(&state, now, until).await?;
    let all_overrides = listed(&state, None).await?;
    let config = &state.config;
    let name = |id: &str| {
        config
            .person(id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    };
    let schedules: Vec<_> = config
        .schedules
        .iter()
        .map(|s| {
            let upcoming: Vec<_> = shifts(s, &overrides, now, until)
                .into_iter()
                .map(|sh| {
                    context! {
                        person => name(&sh.person),
                        start => absolute(sh.start),
                        start_datetime => sh.start.to_string(),
                        end => absolute(sh.end),
                        end_datetime => sh.end.to_string(),
                    }
                })
                .collect();
            context! {
                id => s.id.clone(),
                name => s.name.clone(),
                time_zone => s.time_zone.to_string(),
                now => who_is_on_call(s, &overrides, now).map(|o| name(&o.person)),
                shifts => upcoming,
                overrides => all_overrides
                    .iter()
                    .filter(|o| o.schedule == s.id)
                    .map(|o| context! {
                        id => o.id.clone(),
                        person => name(&o.person),
                        start => absolute(o.start),
                        start_datetime => o.start.to_string(),
                        end => absolute(o.end),
                        end_datetime => o.end.to_string(),
                        ended => o.end <= now,
                    })
                    .collect::<Vec<_>>(),
            }
        })
        .collect();
    let policies: Vec<_> = config
        .escalation_policies
        .iter()
        .map(|p| {
            let steps: Vec<_> = p
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    context! {
                        number => i + 1,
                        targets => step.targets.iter().map(|t| target(t, &name)).collect::<Vec<_>>(),
                        after => step.escalate_after.to_string(),
                    }
                })
                .collect();
            context! { id => p.id.clone(), name => p.name.clone(), steps => steps, repeat => p.repeat }
        })
        .collect();
    let people: Vec<_> = config
        .people
        .iter()
        .map(|p| context! { id => p.id.clone(), name => p.name.clone() })
        .collect();
    let html = render_page(
        "oncall.html",
        "On call",
        Some(&user.viewer()),
        context! {
            now => absolute(now),
            days => DAYS,
            schedules => schedules,
            policies => policies,
            people => people,
            csrf => user.csrf.clone(),
            can_override => user.principal.has(Role::Commander),
            // The form's defaults: from the next full hour, for a day.
            default_start => form_time(next_hour(now)),
            default_end => form_time(next_hour(now).checked_add(SignedDuration::from_hours(24)).unwrap_or(now)),
        },
    )?;
    Ok(Html(html))
}

/// How long a calendar link works: calendar apps poll for months without anyone looking.
const CALENDAR_LINK_DAYS: i64 = 365;

/// `POST /ui/oncall/calendar`: a calendar subscription link for the signed-in user. Calendar
/// apps cannot sign in, so the link carries a token of its own: read-only, viewer, never a
/// security token, for a year, named `calendar-NAME`. Asking again replaces it (the earlier
/// link stops working). The secret is shown on this answer only and stored hashed.
pub async fn calendar_link(
    State(state): State<AppState>,
    user: UiUser,
    source: crate::security::ClientSource,
    headers: axum::http::HeaderMap,
    form: FormData,
) -> Result<Html<String>, UiError> {
    user.check_csrf(&form)?;
    // The address the browser used, so the link can be pasted as it is; https when the
    // server knows it sits behind TLS (its cookies are `Secure` then).
    let origin = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .map(|host| {
            let scheme = if state.secure_cookies {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{host}")
        })
        .unwrap_or_default();
    let now = state.clock.now();
    let name = format!("calendar-{}", user.principal.name);
    for old in state.store.list_tokens().await? {
        if old.name == name && old.revoked_at.is_none() {
            let audit = crate::audit::credential_change(
                &state,
                &user.principal.name,
                &source,
                &format!("{} revoked (calendar link replaced)", old.id),
            );
            state.store.revoke_token(&old.id, now, Some(audit)).await?;
        }
    }
    let mut minted = crate::auth::mint(&name, Role::Viewer, false, &user.principal.name, now);
    minted.record.scope = warroom_core::TokenScope::ReadOnly;
    minted.record.expires_at = now
        .checked_add(SignedDuration::from_hours(24 * CALENDAR_LINK_DAYS))
        .ok();
    let audit = crate::audit::credential_change(
        &state,
        &user.principal.name,
        &source,
        &format!("{} created (calendar link)", minted.record.id),
    );
    let record = state.store.create_token(minted.record, Some(audit)).await?;
    tracing::info!(token_id = %record.id, name = %record.name, "calendar link created");
    let token = minted.secret;
    let feeds: Vec<_> = state
        .config
        .schedules
        .iter()
        .map(|s| {
            context! {
                name => s.name.clone(),
                url => format!("{origin}/api/v1/schedules/{}/calendar.ics?token={token}", s.id),
            }
        })
        .chain(state.config.person(&user.principal.name).map(|p| {
            context! {
                name => format!("{} (your own shifts)", p.name),
                url => format!("{origin}/api/v1/people/{}/calendar.ics?token={token}", p.id),
            }
        }))
        .collect();
    let html = render_page(
        "calendar.html",
        "Calendar link",
        Some(&user.viewer()),
        context! {
            feeds => feeds,
            expires => record.expires_at.map(absolute),
        },
    )?;
    Ok(Html(html))
}

/// One escalation target in words.
fn target(t: &EscalationTarget, name: &dyn Fn(&str) -> String) -> String {
    if let Some(p) = &t.person {
        format!("person {}", name(p))
    } else if let Some(s) = &t.schedule {
        format!("whoever is on call on {s}")
    } else if let Some(team) = &t.team {
        format!("every member of team {team}")
    } else if let Some(role) = &t.role {
        format!("whoever holds the {role} role")
    } else {
        "nobody".into()
    }
}

fn next_hour(now: Timestamp) -> Timestamp {
    let secs = now.as_second();
    Timestamp::from_second(secs - secs.rem_euclid(3600) + 3600).unwrap_or(now)
}

/// The value a `datetime-local` input shows: UTC, to the minute.
fn form_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M").to_string()
}

/// A form's time: RFC 3339 with an offset, or a `datetime-local` value read as UTC (the page
/// says all its times are UTC).
fn parse_form_time(form: &FormData, field: &str) -> Result<Timestamp, UiError> {
    let text = form.required(field)?;
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            UiError::field(
                field,
                "expected a date and time like 2026-11-22T14:00 (UTC)",
            )
        })
}

/// `POST /ui/oncall/overrides` (`schedule`, `person`, `start`, `end`)
pub async fn create_override(
    State(state): State<AppState>,
    user: UiUser,
    form: FormData,
) -> Result<Response, UiError> {
    user.check_csrf(&form)?;
    let start = parse_form_time(&form, "start")?;
    let end = parse_form_time(&form, "end")?;
    add(
        &state,
        &user.auth(),
        form.required("schedule")?.to_string(),
        form.required("person")?.to_string(),
        start,
        end,
    )
    .await?;
    Ok(Redirect::to("/ui/oncall").into_response())
}

/// `POST /ui/oncall/overrides/remove` (`schedule`, `id`)
pub async fn remove_override(
    State(state): State<AppState>,
    user: UiUser,
    form: FormData,
) -> Result<Response, UiError> {
    user.check_csrf(&form)?;
    delete(
        &state,
        &user.auth(),
        form.required("schedule")?,
        form.required("id")?,
    )
    .await?;
    Ok(Redirect::to("/ui/oncall").into_response())
}
