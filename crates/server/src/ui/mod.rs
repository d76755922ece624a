//! The responder web UI: server-rendered HTML under `/ui`, with one small hand-written script
//! for countdowns and live reloads. No front-end build step.
//!
//! Authentication is a login session (see [`session`]); authorisation is the API's: a user is
//! the same [`warroom_core::Principal`] a token produces, forms run the same domain commands
//! through [`crate::routes::incidents::execute`], and reads go through the same visibility
//! filtered store calls, so restricted incidents stay invisible to non-participants here too.

mod account;
mod dashboard;
mod error;
mod format;
mod live;
mod oncall;
mod postmortem;
mod reports;
mod room;
pub mod session;
mod templates;
mod triage;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::UiError;

use crate::state::AppState;

/// The UI's Content-Security-Policy: nothing inline, nothing from elsewhere, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("static/style.css");
const SCRIPT: &str = include_str!("static/live.js");
const ICON: &str = include_str!("static/icon.svg");

/// The UI's routes, with the security headers on every answer (errors and redirects too).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(dashboard::page))
        .route("/ui/login", get(session::login_form).post(session::login))
        .route("/ui/logout", post(session::logout))
        .route("/ui/events", get(live::events))
        .route("/ui/account", get(account::page))
        .route("/ui/account/password", post(account::change_password))
        .route("/ui/static/style.css", get(style))
        .route("/ui/static/live.js", get(script))
        .route("/ui/static/icon.svg", get(icon))
        .route("/ui/oncall", get(oncall::page))
        .route("/ui/oncall/overrides", post(oncall::create_override))
        .route("/ui/oncall/overrides/remove", post(oncall::remove_override))
        .route("/ui/triage", get(triage::page))
        .route("/ui/reports", get(reports::page))
        .route("/ui/incidents", post(room::declare))
        .route("/ui/incidents/{id}", get(room::page))
        .route("/ui/incidents/{id}/export", get(room::export))
        .route("/ui/incidents/{id}/notes", post(room::note))
        .route("/ui/incidents/{id}/acknowledge", post(room::acknowledge))
        .route("/ui/incidents/{id}/status", post(room::status))
        .route("/ui/incidents/{id}/resolve", post(room::resolve))
        .route("/ui/incidents/{id}/severity", post(room::severity))
        .route("/ui/incidents/{id}/roles", post(room::assign))
        .route("/ui/incidents/{id}/roles/unassign", post(room::unassign))
        .route("/ui/incidents/{id}/impact", post(room::impact))
        .route("/ui/incidents/{id}/escalate", post(room::escalate))
        .route("/ui/incidents/{id}/tasks", post(room::task))
        .route("/ui/incidents/{id}/messages", post(room::send_message))
        .route("/ui/incidents/{id}/close", post(room::close))
        .route("/ui/incidents/{id}/reopen", post(room::reopen))
        .route("/ui/incidents/{id}/root-cause", post(room::root_cause))
        .route("/ui/incidents/{id}/postmortem", get(postmortem::page))
        .route(
            "/ui/incidents/{id}/postmortem/sections",
            post(postmortem::section),
        )
        .route(
            "/ui/incidents/{id}/postmortem/publish",
            post(postmortem::publish),
        )
        .route(
            "/ui/incidents/{id}/postmortem/key-moments",
            post(postmortem::key_moment),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // For browsers that predate frame-ancestors.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

async fn icon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], ICON).into_response()
}
