//! The route table: the router and the documentation of every route come from here.

pub mod incidents;
pub mod playbooks;
pub mod system;
pub mod tokens;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use warroom_core::Role;

use crate::error::ApiError;
use crate::json::BODY_LIMIT;
use crate::state::AppState;

/// One documented route.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// HTTP method.
    pub method: &'static str,
    /// Path with `{param}` placeholders.
    pub path: &'static str,
    /// Least role allowed; `None` for public routes.
    pub role: Option<Role>,
    /// One line for the API description.
    pub summary: &'static str,
    /// Schema of the JSON body, if it takes one.
    pub body: Option<&'static str>,
    /// Status of a successful answer.
    pub status: u16,
    /// Schema of the successful answer.
    pub response: &'static str,
}

const fn r(
    method: &'static str,
    path: &'static str,
    role: Option<Role>,
    summary: &'static str,
    body: Option<&'static str>,
    status: u16,
    response: &'static str,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        role,
        summary,
        body,
        status,
        response,
    }
}

use Role::{Admin, Commander, Responder, Viewer};

/// Every route the server answers.
pub const ROUTES: &[RouteDoc] = &[
    r(
        "GET",
        "/health",
        None,
        "The process is up",
        None,
        200,
        "Health",
    ),
    r(
        "GET",
        "/health/ready",
        None,
        "The database answers",
        None,
        200,
        "Health",
    ),
    r(
        "GET",
        "/api/v1/openapi.json",
        None,
        "This document",
        None,
        200,
        "Object",
    ),
    r(
        "GET",
        "/api/v1/whoami",
        Some(Viewer),
        "The caller's identity and role",
        None,
        200,
        "Principal",
    ),
    r(
        "GET",
        "/api/v1/config",
        Some(Viewer),
        "The effective configuration",
        None,
        200,
        "Object",
    ),
    r(
        "GET",
        "/api/v1/incidents",
        Some(Viewer),
        "List incidents (filters, cursor pagination)",
        None,
        200,
        "IncidentPage",
    ),
    r(
        "POST",
        "/api/v1/incidents",
        Some(Responder),
        "Declare an incident",
        Some("Declaration"),
        201,
        "Incident",
    ),
    r(
        "GET",
        "/api/v1/incidents/{id}",
        Some(Viewer),
        "One incident",
        None,
        200,
        "Incident",
    ),
    r(
        "PATCH",
        "/api/v1/incidents/{id}",
        Some(Responder),
        "Change descriptive fields (commander for `restricted`)",
        Some("IncidentPatch"),
        200,
        "Incident",
    ),
    r(
        "GET",
        "/api/v1/incidents/{id}/events",
        Some(Viewer),
        "The incident's timeline",
        None,
        200,
        "EventList",
    ),
    r(
        "GET",
        "/api/v1/incidents/{id}/export",
        Some(Viewer),
        "The incident log as md, csv or json",
        None,
        200,
        "Document",
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/acknowledge",
        Some(Responder),
        "Acknowledge",
        None,
        200,
        "Incident",
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/severity",
        Some(Commander),
        "Change severity",
        Some("SeverityChange"),
        200,
        "Incident",
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/status",
        Some(Responder),
        "Change status",
        Some("StatusChange"),
        200,
        "Incident",
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/roles",
        Some(Commander),
        "Assign an incident role",
        Some("RoleAssignment"),
        200,
        "Incident",
    ),
    r(
        "DELETE",
        "/api/v1/incidents/{id}/roles/{role}",
        Some(Commander),
        "Leave a role empty",
        None,
        200,
        "Incident",
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/notes",
        Some(Responder),
        "Add a note",
        Some("Note"),
        201,
        "Incident",
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/resolve",
        Some(Responder),
        "Resolve with a summary",
        Some("Resolution"),
        200,
        "Incident",
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/close",
        Some(Commander),
        "Close a resolved incident",
        None,
        200,
        "Incident",
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/reopen",
        Some(Commander),
        "Reopen a resolved or closed incident",
        Some("Reopen"),
        200,
        "Incident",
    ),
    r(
        "GET",
        "/api/v1/verify",
        Some(Admin),
        "Recompute every hash chain",
        None,
        200,
        "VerifyReport",
    ),
    r(
        "GET",
        "/api/v1/tokens",
        Some(Admin),
        "List API tokens",
        None,
        200,
        "TokenList",
    ),
    r(
        "POST",
        "/api/v1/tokens",
        Some(Admin),
        "Create an API token (secret shown once)",
        Some("TokenRequest"),
        201,
        "NewToken",
    ),
    r(
        "DELETE",
        "/api/v1/tokens/{id}",
        Some(Admin),
        "Revoke an API token",
        None,
        200,
        "RevokedToken",
    ),
];

/// The application's router with its state.
pub fn router(state: AppState) -> Router {
    use incidents as inc;
    Router::new()
        .route("/health", get(system::health))
        .route("/health/ready", get(system::ready))
        .route("/api/v1/openapi.json", get(system::openapi))
        .route("/api/v1/whoami", get(system::whoami))
        .route("/api/v1/config", get(system::config))
        .route("/api/v1/verify", get(system::verify))
        .route("/api/v1/incidents", get(inc::list).post(inc::create))
        .route("/api/v1/incidents/{id}", get(inc::get).patch(inc::update))
        .route("/api/v1/incidents/{id}/events", get(inc::events))
        .route("/api/v1/incidents/{id}/export", get(inc::export))
        .route("/api/v1/incidents/{id}/acknowledge", post(inc::acknowledge))
        .route("/api/v1/incidents/{id}/severity", post(inc::severity))
        .route("/api/v1/incidents/{id}/status", post(inc::status))
        .route("/api/v1/incidents/{id}/roles", post(inc::assign))
        .route("/api/v1/incidents/{id}/roles/{role}", delete(inc::unassign))
        .route("/api/v1/incidents/{id}/notes", post(inc::note))
        .route("/api/v1/incidents/{id}/resolve", post(inc::resolve))
        .route("/api/v1/incidents/{id}/close", post(inc::close))
        .route("/api/v1/incidents/{id}/reopen", post(inc::reopen))
        .route("/api/v1/playbooks", get(playbooks::list))
        .route("/api/v1/playbooks/{playbook}", get(playbooks::get))
        .route("/api/v1/incidents/{id}/playbooks", post(playbooks::attach))
        .route(
            "/api/v1/incidents/{id}/playbooks/{playbook}/detach",
            post(playbooks::detach),
        )
        .route("/api/v1/incidents/{id}/tasks", get(playbooks::tasks))
        .route(
            "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/done",
            post(playbooks::done),
        )
        .route(
            "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/skip",
            post(playbooks::skip),
        )
        .route(
            "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/reopen",
            post(playbooks::reopen),
        )
        .route(
            "/api/v1/triage",
            get(playbooks::questions).post(playbooks::suggest),
        )
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
