//! `/ui/triage`: yes/no questions, then the suggested severity with its reasons and a declare
//! form filled in with it. The suggestion is core's (`warroom_core::triage::suggest`), as the
//! API's and the CLI's.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use minijinja::context;

use super::UiError;
use super::session::UiUser;
use super::templates::render_page;
use crate::state::AppState;

/// `GET /ui/triage[?KEY=yes|no...]`: the questions; with answers, the suggestion too. A GET,
/// because answering changes nothing (declaring is the form's POST to `/ui/incidents`).
pub async fn page(
    State(state): State<AppState>,
    user: UiUser,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, UiError> {
    let config = &state.config;
    let mut answers = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let yes = match v.as_ref() {
            "yes" => true,
            "no" => false,
            _ => return Err(UiError::field(&k, "answer yes or no")),
        };
        answers.insert(k.into_owned(), yes);
    }
    let suggestion = if answers.is_empty() {
        None
    } else {
        Some(
            warroom_core::triage::suggest(config, &answers)
                .map_err(|e| UiError::field("answers", &e.to_string()))?,
        )
    };
    let questions: Vec<_> = config
        .triage_questions
        .iter()
        .map(|q| {
            context! {
                key => q.key.clone(),
                question => q.question.clone(),
                help => q.help.clone(),
                answer => answers.get(&q.key).map(|a| if *a { "yes" } else { "no" }),
            }
        })
        .collect();
    let html = render_page(
        "triage.html",
        "Triage",
        Some(&user.viewer()),
        context! {
            questions => questions,
            suggestion => suggestion.map(|s| context! { severity => s.severity, reasons => s.reasons, unanswered => s.unanswered.len() }),
            can_declare => user.principal.role >= warroom_core::Role::Responder,
            types => config.incident_types.iter().map(|t| context! { id => t.id.clone(), name => t.name.clone() }).collect::<Vec<_>>(),
            csrf => user.csrf.clone(),
        },
    )?;
    Ok(Html(html))
}
