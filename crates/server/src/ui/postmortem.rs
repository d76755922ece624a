//! `/ui/incidents/{id}/postmortem`: the post-incident review as it reads now, forms to write
//! its sections, and (for commanders) publishing a frozen version. The document and the rules
//! are core's (`warroom_core::postmortem`), as the API's and the CLI's.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use warroom_core::postmortem::{self, SECTIONS};
use warroom_core::{Command, EventKind, Role};

use super::UiError;
use super::format::absolute;
use super::session::{FormData, UiUser};
use super::templates::render_page;
use crate::json::PathParams;
use crate::routes::incidents::{execute, incident_with_events, parse_id};
use crate::state::AppState;

/// `GET /ui/incidents/{id}/postmortem`
pub async fn page(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
) -> Result<Html<String>, UiError> {
    let id = parse_id(&id)?;
    let (inc, events) = incident_with_events(&state, &user.auth(), &id).await?;
    let now = state.clock.now();
    let draft = postmortem::render(&inc, &events, &state.config, now)
        .map_err(|e| UiError::field("template", &e.to_string()))?;
    let sections: Vec<_> = SECTIONS
        .iter()
        .map(|s| {
            context! {
                id => *s,
                text => inc.postmortem_sections.get(*s).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let published: Vec<_> = inc
        .postmortems
        .iter()
        .map(|p| context! { version => p.version, at => absolute(p.at), by => p.by.clone(), sha256 => p.sha256.clone() })
        .collect();
    // Notes are in the review's timeline only when marked as key moments; everything else
    // there is chosen by kind.
    let notes: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NoteAdded { text } => Some(context! {
                seq => e.seq,
                at => absolute(e.at),
                datetime => e.at.to_string(),
                by => e.actor.clone(),
                text => text.clone(),
                key => inc.key_moments.contains(&e.seq),
            }),
            _ => None,
        })
        .collect();
    let p = &user.principal;
    let html = render_page(
        "postmortem.html",
        &format!("Review of {}", inc.id),
        Some(&user.viewer()),
        context! {
            id => inc.id.to_string(),
            title => inc.title.clone(),
            markdown => draft.body,
            sections => sections,
            published => published,
            notes => notes,
            resolved => inc.resolved_at.is_some(),
            csrf => user.csrf.clone(),
            can_respond => p.has(Role::Responder),
            can_command => p.has(Role::Commander),
        },
    )?;
    Ok(Html(html))
}

/// `POST /ui/incidents/{id}/postmortem/sections` (`section`, `text`; empty text clears it)
pub async fn section(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    user.check_csrf(&form)?;
    let id = parse_id(&id)?;
    let cmd = Command::SetPostmortemSection {
        section: form.required("section")?.to_string(),
        text: form.get("text").unwrap_or_default().to_string(),
    };
    execute(&state, &user.auth(), &id, cmd).await?;
    Ok(Redirect::to(&format!("/ui/incidents/{id}/postmortem")).into_response())
}

/// `POST /ui/incidents/{id}/postmortem/publish`: freezes the review as it reads now.
pub async fn publish(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    user.check_csrf(&form)?;
    let auth = user.auth();
    auth.require(Role::Commander)?;
    let id = parse_id(&id)?;
    let (inc, events) = incident_with_events(&state, &auth, &id).await?;
    let draft = postmortem::render(&inc, &events, &state.config, state.clock.now())
        .map_err(|e| UiError::field("template", &e.to_string()))?;
    execute(
        &state,
        &auth,
        &id,
        Command::PublishPostmortem {
            markdown: draft.body,
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/incidents/{id}/postmortem")).into_response())
}

/// `POST /ui/incidents/{id}/postmortem/key-moments` (`seq`, `marked` = true|false): puts a note
/// into the review's timeline or takes it out.
pub async fn key_moment(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    user.check_csrf(&form)?;
    let id = parse_id(&id)?;
    let seq = form
        .required("seq")?
        .parse::<u64>()
        .map_err(|_| UiError::field("seq", "expected an event number"))?;
    let marked = match form.required("marked")? {
        "true" => true,
        "false" => false,
        _ => return Err(UiError::field("marked", "expected true or false")),
    };
    execute(
        &state,
        &user.auth(),
        &id,
        Command::MarkKeyMoment { seq, marked },
    )
    .await?;
    Ok(Redirect::to(&format!("/ui/incidents/{id}/postmortem#key-moments")).into_response())
}
