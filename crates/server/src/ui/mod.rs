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

/// Declares every UI route once: [`UI_ROUTES`] (what the authorisation test must cover) and
/// the router come from the same list, so a page cannot be added without the test noticing.
macro_rules! ui_routes {
    ($($method:ident $path:literal => $handler:expr;)*) => {
        /// Every route of the web UI, as (method, path).
        pub const UI_ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path),)*];

        fn register(router: Router<AppState>) -> Router<AppState> {
            router $(.route($path, ui_routes!(@method $method $handler)))*
        }
    };
    (@method GET $h:expr) => { get($h) };
    (@method POST $h:expr) => { post($h) };
}

ui_routes! {
    GET "/ui" => || async { Redirect::to("/ui/") };
    GET "/ui/" => dashboard::page;
    GET "/ui/login" => session::login_form;
    POST "/ui/login" => session::login;
    POST "/ui/logout" => session::logout;
    GET "/ui/events" => live::events;
    GET "/ui/account" => account::page;
    POST "/ui/account/password" => account::change_password;
    GET "/ui/static/style.css" => style;
    GET "/ui/static/live.js" => script;
    GET "/ui/static/icon.svg" => icon;
    GET "/ui/oncall" => oncall::page;
    POST "/ui/oncall/overrides" => oncall::create_override;
    POST "/ui/oncall/overrides/remove" => oncall::remove_override;
    POST "/ui/oncall/calendar" => oncall::calendar_link;
    GET "/ui/triage" => triage::page;
    GET "/ui/reports" => reports::page;
    POST "/ui/incidents" => room::declare;
    GET "/ui/incidents/{id}" => room::page;
    GET "/ui/incidents/{id}/export" => room::export;
    POST "/ui/incidents/{id}/notes" => room::note;
    POST "/ui/incidents/{id}/acknowledge" => room::acknowledge;
    POST "/ui/incidents/{id}/status" => room::status;
    POST "/ui/incidents/{id}/resolve" => room::resolve;
    POST "/ui/incidents/{id}/severity" => room::severity;
    POST "/ui/incidents/{id}/roles" => room::assign;
    POST "/ui/incidents/{id}/roles/unassign" => room::unassign;
    POST "/ui/incidents/{id}/impact" => room::impact;
    POST "/ui/incidents/{id}/escalate" => room::escalate;
    POST "/ui/incidents/{id}/tasks" => room::task;
    POST "/ui/incidents/{id}/messages" => room::send_message;
    POST "/ui/incidents/{id}/close" => room::close;
    POST "/ui/incidents/{id}/reopen" => room::reopen;
    POST "/ui/incidents/{id}/root-cause" => room::root_cause;
    GET "/ui/incidents/{id}/postmortem" => postmortem::page;
    POST "/ui/incidents/{id}/postmortem/sections" => postmortem::section;
    POST "/ui/incidents/{id}/postmortem/publish" => postmortem::publish;
    POST "/ui/incidents/{id}/postmortem/key-moments" => postmortem::key_moment;
}

/// The UI's routes, with the security headers on every answer (errors and redirects too).
pub fn router() -> Router<AppState> {
    register(Router::new())
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
