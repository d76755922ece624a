//! The route table: the router and the documentation of every route come from here.

pub mod actions;
pub mod alerts;
pub mod audit;
pub mod comms;
pub mod evidence;
pub mod incidents;
pub mod indicators;
pub mod ingest;
pub mod oncall;
pub mod overrides;
pub mod playbooks;
pub mod postmortem;
pub mod public_page;
pub mod reports;
pub mod statuspage;
pub mod system;
pub mod tokens;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
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

/// Declares every route once: the table below becomes both [`ROUTES`] (documentation, the
/// OpenAPI document, the authorisation test) and the router, so they cannot drift apart.
macro_rules! routes {
    ($($method:ident $path:literal => $handler:path, $role:expr, $summary:literal, $body:expr, $status:literal, $response:literal;)*) => {
        /// Every route the server answers.
        pub const ROUTES: &[RouteDoc] = &[
            $(RouteDoc {
                method: stringify!($method),
                path: $path,
                role: $role,
                summary: $summary,
                body: $body,
                status: $status,
                response: $response,
            },)*
        ];

        fn register(router: Router<AppState>) -> Router<AppState> {
            router
                $(.route($path, routes!(@method $method $handler)))*
        }
    };
    (@method GET $h:path) => { get($h) };
    (@method POST $h:path) => { post($h) };
    (@method PATCH $h:path) => { patch($h) };
    (@method DELETE $h:path) => { delete($h) };
}

use Role::{Admin, Commander, Responder, Viewer};

routes! {
    GET "/health" => system::health, None, "The process is up", None, 200, "Health";
    GET "/health/ready" => system::ready, None, "The database answers", None, 200, "Health";
    GET "/api/v1/openapi.json" => system::openapi, None, "This document", None, 200, "Object";
    GET "/api/v1/whoami" => system::whoami, Some(Viewer), "The caller's identity and role", None, 200, "Principal";
    GET "/api/v1/config" => system::config, Some(Viewer), "The effective configuration", None, 200, "Object";
    GET "/api/v1/incidents" => incidents::list, Some(Viewer), "List incidents (filters, cursor pagination)", None, 200, "IncidentPage";
    POST "/api/v1/incidents" => incidents::create, Some(Responder), "Declare an incident", Some("Declaration"), 201, "Incident";
    GET "/api/v1/incidents/{id}" => incidents::get, Some(Viewer), "One incident", None, 200, "Incident";
    PATCH "/api/v1/incidents/{id}" => incidents::update, Some(Responder), "Change descriptive fields (commander for `restricted`)", Some("IncidentPatch"), 200, "Incident";
    GET "/api/v1/incidents/{id}/events" => incidents::events, Some(Viewer), "The incident's timeline", None, 200, "EventList";
    GET "/api/v1/incidents/{id}/deliveries" => incidents::deliveries, Some(Viewer), "The incident's notifications and their delivery attempts", None, 200, "DeliveryList";
    GET "/api/v1/incidents/{id}/export" => incidents::export, Some(Viewer), "The incident log as md, csv or json", None, 200, "Document";
    POST "/api/v1/incidents/{id}/acknowledge" => incidents::acknowledge, Some(Responder), "Acknowledge", None, 200, "Incident";
    POST "/api/v1/incidents/{id}/escalate" => incidents::escalate, Some(Responder), "Page the next escalation step now", None, 200, "Incident";
    POST "/api/v1/incidents/{id}/severity" => incidents::severity, Some(Commander), "Change severity", Some("SeverityChange"), 200, "Incident";
    POST "/api/v1/incidents/{id}/status" => incidents::status, Some(Responder), "Change status", Some("StatusChange"), 200, "Incident";
    POST "/api/v1/incidents/{id}/roles" => incidents::assign, Some(Commander), "Assign an incident role", Some("RoleAssignment"), 200, "Incident";
    DELETE "/api/v1/incidents/{id}/roles/{role}" => incidents::unassign, Some(Commander), "Leave a role empty", None, 200, "Incident";
    POST "/api/v1/incidents/{id}/notes" => incidents::note, Some(Responder), "Add a note", Some("Note"), 201, "Incident";
    POST "/api/v1/incidents/{id}/updates" => incidents::post_update, Some(Responder), "Record a status update sent to an audience (internal updates reset the update cadence)", Some("StatusUpdate"), 201, "Incident";
    POST "/api/v1/incidents/{id}/resolve" => incidents::resolve, Some(Responder), "Resolve with a summary", Some("Resolution"), 200, "Incident";
    POST "/api/v1/incidents/{id}/close" => incidents::close, Some(Commander), "Close a resolved incident", None, 200, "Incident";
    POST "/api/v1/incidents/{id}/reopen" => incidents::reopen, Some(Commander), "Reopen a resolved or closed incident", Some("Reopen"), 200, "Incident";
    GET "/api/v1/templates" => comms::templates, Some(Viewer), "Message templates (id, name, audience)", None, 200, "TemplateList";
    GET "/api/v1/incidents/{id}/messages/{template}/draft" => comms::render, Some(Viewer), "A message drafted from a template for the incident as it is now", None, 200, "Draft";
    POST "/api/v1/incidents/{id}/messages" => comms::send, Some(Responder), "Send a message from a template (or an edited draft) to channels, people or email addresses; recorded as update_posted", Some("MessageRequest"), 201, "SentMessage";
    GET "/api/v1/incidents/{id}/deadlines" => comms::deadlines, Some(Viewer), "Notification clocks with time left, and the update cadence", None, 200, "Deadlines";
    POST "/api/v1/incidents/{id}/moments" => comms::moment, Some(Responder), "Record when the company became aware, discovered or determined materiality", Some("Moment"), 201, "Incident";
    GET "/api/v1/incidents/{id}/postmortem" => postmortem::get, Some(Viewer), "The post-incident review in Markdown, as it reads now or a published ?version=N", None, 200, "Postmortem";
    POST "/api/v1/incidents/{id}/postmortem/sections/{section}" => postmortem::set_section, Some(Responder), "Write a section of the review (summary, what-went-well, what-went-wrong, lessons-learned, links); empty text clears it", Some("Section"), 200, "Incident";
    POST "/api/v1/incidents/{id}/postmortem/key-moments" => postmortem::key_moment, Some(Responder), "Mark a note as a key moment of the review's timeline (marked: false unmarks)", Some("KeyMoment"), 200, "Incident";
    POST "/api/v1/incidents/{id}/postmortem/publish" => postmortem::publish, Some(Commander), "Freeze the review as it reads now; its SHA-256 is recorded", None, 201, "PublishedPostmortem";
    GET "/api/v1/playbooks" => playbooks::list, Some(Viewer), "The configured playbooks", None, 200, "PlaybookList";
    GET "/api/v1/playbooks/{playbook}" => playbooks::get, Some(Viewer), "One playbook", None, 200, "Playbook";
    POST "/api/v1/incidents/{id}/playbooks" => playbooks::attach, Some(Commander), "Attach a playbook by hand", Some("PlaybookAttachment"), 201, "Incident";
    POST "/api/v1/incidents/{id}/playbooks/{playbook}/detach" => playbooks::detach, Some(Commander), "Detach a playbook", Some("Detachment"), 200, "Incident";
    GET "/api/v1/incidents/{id}/tasks" => playbooks::tasks, Some(Viewer), "The checklist: due, overdue, commands filled in", None, 200, "TaskList";
    POST "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/done" => playbooks::done, Some(Responder), "Check a task off", None, 200, "Incident";
    POST "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/skip" => playbooks::skip, Some(Responder), "Skip a task with a reason", Some("Skip"), 200, "Incident";
    POST "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/reopen" => playbooks::reopen, Some(Responder), "Open a task again", None, 200, "Incident";
    GET "/api/v1/triage" => playbooks::questions, Some(Viewer), "The triage questions", None, 200, "TriageQuestions";
    POST "/api/v1/triage" => playbooks::suggest, Some(Viewer), "Suggest a severity from yes/no answers", Some("TriageAnswers"), 200, "TriageSuggestion";
    GET "/api/v1/oncall" => oncall::now, Some(Viewer), "Who is on call on every schedule, now or ?at=TIME", None, 200, "OnCall";
    GET "/api/v1/schedules" => oncall::list, Some(Viewer), "Schedules with who is on call now and the next two weeks of shifts", None, 200, "ScheduleList";
    GET "/api/v1/schedules/{schedule}/calendar.ics" => oncall::schedule_feed, Some(Viewer), "iCalendar feed of a schedule (token as ?token= for calendar apps)", None, 200, "Document";
    GET "/api/v1/schedules/{schedule}/overrides" => overrides::list, Some(Viewer), "A schedule's live overrides that have not ended (or ended in the last day)", None, 200, "OverrideList";
    POST "/api/v1/schedules/{schedule}/overrides" => overrides::create, Some(Commander), "Put someone on call instead for a while (at most 90 days)", Some("OverrideRequest"), 201, "Override";
    DELETE "/api/v1/schedules/{schedule}/overrides/{id}" => overrides::remove, Some(Commander), "Remove an override (recorded, never deleted)", None, 200, "RemovedOverride";
    GET "/api/v1/people/{person}/calendar.ics" => oncall::person_feed, Some(Viewer), "iCalendar feed of one person's shifts", None, 200, "Document";
    GET "/api/v1/incidents/{id}/metrics" => reports::incident_metrics, Some(Viewer), "Response metrics of one incident, derived from its timeline", None, 200, "IncidentMetrics";
    POST "/api/v1/incidents/{id}/actions" => actions::create, Some(Responder), "Create a follow-up action item (also on closed incidents)", Some("NewAction"), 201, "ActionItem";
    PATCH "/api/v1/incidents/{id}/actions/{action}" => actions::update, Some(Responder), "Change an action item's title, owner, due date, priority, status or ticket", Some("ActionPatch"), 200, "ActionItem";
    POST "/api/v1/incidents/{id}/evidence" => evidence::add, Some(Responder), "Attach evidence: the raw content as the body, streamed (?file_name= required, ?description, ?collected_from, ?media_type or Content-Type); 200 when the incident already holds it. With ?check_size=N and no body: 204 if N bytes would be taken, else 413, nothing stored", Some("EvidenceContent"), 201, "EvidenceAdded";
    GET "/api/v1/incidents/{id}/evidence" => evidence::list, Some(Viewer), "The incident's evidence with each SHA-256", None, 200, "EvidenceList";
    POST "/api/v1/incidents/{id}/evidence/verify" => evidence::verify, Some(Responder), "Re-hash every blob of the incident's evidence: ok, missing or mismatch per item", None, 200, "EvidenceVerification";
    GET "/api/v1/incidents/{id}/evidence/{sha256}" => evidence::get, Some(Viewer), "One piece of evidence with its chain of custody (the view is recorded)", None, 200, "EvidenceCustody";
    GET "/api/v1/incidents/{id}/evidence/{sha256}/content" => evidence::content, Some(Viewer), "Download the content (the download is recorded before it starts)", None, 200, "Document";
    POST "/api/v1/incidents/{id}/evidence/{sha256}/transfers" => evidence::transfer, Some(Responder), "Record that evidence was handed to someone or exported", Some("EvidenceTransfer"), 201, "EvidenceTransferred";
    POST "/api/v1/incidents/{id}/indicators" => indicators::record, Some(Responder), "Record an indicator of compromise (ip, domain, url, hash, email, account), normalised; again widens first/last seen", Some("NewIndicator"), 201, "IndicatorRecorded";
    GET "/api/v1/incidents/{id}/indicators" => indicators::list, Some(Viewer), "The incident's indicators", None, 200, "IndicatorList";
    GET "/api/v1/indicators" => indicators::search, Some(Viewer), "Find an indicator across the incidents you may see (?value=, ?kind=)", None, 200, "IndicatorSearch";
    GET "/api/v1/actions" => actions::list, Some(Viewer), "Action items across incidents (?owner, ?overdue=true, ?open=true, ?incident, ?limit), by due time", None, 200, "ActionList";
    GET "/api/v1/reports" => reports::report, Some(Viewer), "Incident report (?since=90d, ?by=severity|service|type, ?format=json|md|csv)", None, 200, "Report";
    GET "/metrics" => crate::telemetry::scrape, Some(Viewer), "Prometheus metrics (no token needed with serve --metrics-public)", None, 200, "Document";
    GET "/api/v1/audit" => audit::list, Some(Admin), "The access audit log, oldest first (?since=24h|RFC 3339, ?actor, ?action, ?limit, ?verify=true recomputes the whole chain)", None, 200, "AuditLog";
    GET "/api/v1/verify" => system::verify, Some(Admin), "Recompute every hash chain", None, 200, "VerifyReport";
    POST "/v2/enqueue" => ingest::enqueue, None, "PagerDuty Events API v2: trigger, acknowledge or resolve an alert (routing key in the body)", Some("PagerDutyEvent"), 202, "PagerDutyResponse";
    POST "/v2/change/enqueue" => ingest::change_enqueue, None, "PagerDuty change event: shown on the service's open incidents (routing key in the body)", Some("PagerDutyChange"), 202, "PagerDutyResponse";
    POST "/api/v1/alerts/alertmanager" => ingest::alertmanager, None, "Alertmanager webhook (version 4); routing key as bearer token or basic-auth password", Some("AlertmanagerWebhook"), 202, "IngestResult";
    POST "/api/v1/alerts/grafana" => ingest::grafana, None, "Grafana alerting webhook; routing key as bearer token or basic-auth password", Some("GrafanaWebhook"), 202, "IngestResult";
    POST "/api/v1/events" => ingest::generic_event, None, "One generic JSON event; routing key as bearer token or basic-auth password", Some("GenericEvent"), 202, "IngestResult";
    GET "/api/v1/alerts" => alerts::list, Some(Viewer), "Alerts, newest first (?status=open|triggered|acknowledged|resolved, ?service, ?incident, ?limit)", None, 200, "AlertList";
    GET "/api/v1/alerts/{id}" => alerts::get, Some(Viewer), "One alert with the events it folded in", None, 200, "Alert";
    POST "/api/v1/alerts/{id}/acknowledge" => alerts::acknowledge, Some(Responder), "Acknowledge an alert by hand", None, 200, "Alert";
    POST "/api/v1/alerts/{id}/resolve" => alerts::resolve, Some(Responder), "Resolve an alert by hand", None, 200, "Alert";
    GET "/api/v1/integrations" => alerts::integrations, Some(Admin), "Integrations (routing keys are never shown again)", None, 200, "IntegrationList";
    POST "/api/v1/integrations" => alerts::create_integration, Some(Admin), "Create an integration for a service; its routing key is shown once", Some("IntegrationRequest"), 201, "NewIntegration";
    POST "/api/v1/integrations/{id}/rotate" => alerts::rotate_integration, Some(Admin), "Give an integration a new routing key (shown once); the old one keeps working for the grace given (default 24h, at most 30d)", Some("IntegrationRotation"), 200, "NewIntegration";
    DELETE "/api/v1/integrations/{id}" => alerts::revoke_integration, Some(Admin), "Revoke an integration: none of its routing keys is accepted any more", None, 200, "Integration";
    GET "/status" => public_page::page, None, "The public status page (HTML, no JavaScript)", None, 200, "Document";
    GET "/status/incidents/{entry}" => public_page::entry, None, "One published incident or maintenance with all its updates (HTML)", None, 200, "Document";
    GET "/status/style.css" => public_page::stylesheet, None, "The status page's stylesheet", None, 200, "Document";
    GET "/status/history.atom" => public_page::feed, None, "Atom feed of published incidents and maintenances", None, 200, "Document";
    GET "/api/v2/status.json" => public_page::status, None, "Hosted status page API: overall status", None, 200, "HostedStatus";
    GET "/api/v2/summary.json" => public_page::summary, None, "Hosted status page API: status, components, unresolved incidents, upcoming and active maintenance", None, 200, "HostedSummary";
    GET "/api/v2/components.json" => public_page::components, None, "Hosted status page API: components", None, 200, "HostedComponents";
    GET "/api/v2/incidents.json" => public_page::incidents, None, "Hosted status page API: the 50 most recent incidents", None, 200, "HostedIncidents";
    GET "/api/v2/incidents/unresolved.json" => public_page::unresolved, None, "Hosted status page API: unresolved incidents", None, 200, "HostedIncidents";
    GET "/api/v2/scheduled-maintenances.json" => public_page::maintenances, None, "Hosted status page API: recent maintenances", None, 200, "HostedMaintenances";
    GET "/api/v2/scheduled-maintenances/upcoming.json" => public_page::upcoming, None, "Hosted status page API: maintenances not started", None, 200, "HostedMaintenances";
    GET "/api/v2/scheduled-maintenances/active.json" => public_page::active, None, "Hosted status page API: maintenances in progress or verifying", None, 200, "HostedMaintenances";
    GET "/api/v1/statuspage/components" => statuspage::components, Some(Viewer), "Status page components with their statuses", None, 200, "PageComponentList";
    POST "/api/v1/statuspage/components/{component}" => statuspage::set_component, Some(Responder), "Set a component's public status", Some("PageComponentChange"), 200, "PageComponent";
    GET "/api/v1/statuspage/incidents" => statuspage::entries, Some(Viewer), "Incidents on the status page, newest first, with their internal incident", None, 200, "PageEntryList";
    GET "/api/v1/statuspage/incidents/{id}" => statuspage::incident_entry, Some(Viewer), "The status page entry of an incident", None, 200, "PageEntry";
    POST "/api/v1/statuspage/incidents/{id}/publish" => statuspage::publish, Some(Commander), "Put an incident on the status page (refused for restricted incidents)", Some("PagePublish"), 201, "PageEntry";
    POST "/api/v1/statuspage/incidents/{id}/updates" => statuspage::post_update, Some(Responder), "Post a public update (status, message, component statuses)", Some("PageUpdateRequest"), 201, "PageEntry";
    GET "/api/v1/statuspage/maintenances" => statuspage::maintenances, Some(Viewer), "Scheduled maintenances, newest first", None, 200, "PageMaintenanceList";
    POST "/api/v1/statuspage/maintenances" => statuspage::create_maintenance, Some(Responder), "Announce a maintenance window", Some("PageMaintenanceRequest"), 201, "PageEntry";
    POST "/api/v1/statuspage/maintenances/{maintenance}/updates" => statuspage::update_maintenance, Some(Responder), "Post a maintenance update (status and message)", Some("PageMaintenanceUpdate"), 201, "PageEntry";
    GET "/api/v1/tokens" => tokens::list, Some(Admin), "List API tokens", None, 200, "TokenList";
    POST "/api/v1/tokens" => tokens::create, Some(Admin), "Create an API token (secret shown once)", Some("TokenRequest"), 201, "NewToken";
    DELETE "/api/v1/tokens/{id}" => tokens::revoke, Some(Admin), "Revoke an API token", None, 200, "RevokedToken";
    GET "/api/v1/users" => users::list, Some(Admin), "List web UI accounts (never their password hashes)", None, 200, "UserList";
    POST "/api/v1/users" => users::create, Some(Admin), "Create a web UI account (password hashed with argon2id)", Some("UserRequest"), 201, "User";
    POST "/api/v1/users/{name}/disable" => users::disable, Some(Admin), "Disable a web UI account: it cannot sign in and its sessions end", None, 200, "User";
    POST "/api/v1/users/{name}/enable" => users::enable, Some(Admin), "Let a disabled web UI account sign in again", None, 200, "User";
    POST "/api/v1/users/{name}/password" => users::set_password, Some(Admin), "Set a web UI account's password (its sessions end)", Some("PasswordRequest"), 200, "User";
}

/// Webhook receivers that authenticate with an integration's routing key (bearer or basic
/// auth) rather than an API token. PagerDuty's endpoints carry the key in the body instead.
pub const INTEGRATION_ROUTES: &[&str] = &[
    "/api/v1/alerts/alertmanager",
    "/api/v1/alerts/grafana",
    "/api/v1/events",
];

/// The application's router with its state.
pub fn router(state: AppState) -> Router {
    register(Router::new())
        .merge(crate::ui::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::telemetry::track,
        ))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Outside the routes, so an address over its rate is refused before any work, even
        // on a path that does not exist.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::security::limit_sources,
        ))
        .with_state(state)
}
