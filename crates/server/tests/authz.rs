//! The authorisation matrix through the real server: every route (API and web UI) called by
//! every kind of caller, each answer checked against one table. The table must name every
//! route the router serves ([`ROUTES`] and [`UI_ROUTES`] are the router's own lists), so a
//! route added later fails this test until someone decides who may call it.
//!
//! Then the restricted-incident leak test: a restricted incident must not show up, by id or
//! title, anywhere a non-participant can look.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::SignedDuration;
use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warroom_core::{Config, ManualClock, Role};
use warroom_server::routes::ROUTES;
use warroom_server::ui::UI_ROUTES;
use warroom_server::{Running, ServeOptions};

use Access::{Api, Integration, PagerDuty, Public, Session, UiPublic};
use Role::{Admin, Commander, Responder, Viewer};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Access {
    /// Anyone, with or without credentials.
    Public,
    /// PagerDuty's endpoints: the routing key is in the body; an Authorization header is
    /// neither needed nor used.
    PagerDuty,
    /// Webhook receivers: an integration's routing key as the bearer token, nothing else.
    Integration,
    /// An API token of at least this role (a read-only token only for `Viewer`).
    Api(Role),
    /// Web UI pages anyone may load (login form, static files).
    UiPublic,
    /// A web UI login session of at least this role; API tokens do not open the UI.
    Session(Role),
}

/// THE TABLE. Every route the server answers, with who may call it.
const TABLE: &[(&str, &str, Access)] = &[
    ("GET", "/health", Public),
    ("GET", "/health/ready", Public),
    ("GET", "/api/v1/openapi.json", Public),
    ("GET", "/api/v1/whoami", Api(Viewer)),
    ("GET", "/api/v1/config", Api(Viewer)),
    ("GET", "/api/v1/incidents", Api(Viewer)),
    ("POST", "/api/v1/incidents", Api(Responder)),
    ("GET", "/api/v1/incidents/{id}", Api(Viewer)),
    ("PATCH", "/api/v1/incidents/{id}", Api(Responder)),
    ("GET", "/api/v1/incidents/{id}/events", Api(Viewer)),
    ("GET", "/api/v1/incidents/{id}/deliveries", Api(Viewer)),
    ("GET", "/api/v1/incidents/{id}/export", Api(Viewer)),
    ("POST", "/api/v1/incidents/{id}/acknowledge", Api(Responder)),
    ("POST", "/api/v1/incidents/{id}/escalate", Api(Responder)),
    ("POST", "/api/v1/incidents/{id}/severity", Api(Commander)),
    ("POST", "/api/v1/incidents/{id}/status", Api(Responder)),
    ("POST", "/api/v1/incidents/{id}/roles", Api(Commander)),
    (
        "DELETE",
        "/api/v1/incidents/{id}/roles/{role}",
        Api(Commander),
    ),
    ("POST", "/api/v1/incidents/{id}/notes", Api(Responder)),
    ("POST", "/api/v1/incidents/{id}/updates", Api(Responder)),
    ("POST", "/api/v1/incidents/{id}/resolve", Api(Responder)),
    ("POST", "/api/v1/incidents/{id}/close", Api(Commander)),
    ("POST", "/api/v1/incidents/{id}/reopen", Api(Commander)),
    ("GET", "/api/v1/templates", Api(Viewer)),
    (
        "GET",
        "/api/v1/incidents/{id}/messages/{template}/draft",
        Api(Viewer),
    ),
    ("POST", "/api/v1/incidents/{id}/messages", Api(Responder)),
    ("GET", "/api/v1/incidents/{id}/deadlines", Api(Viewer)),
    ("POST", "/api/v1/incidents/{id}/moments", Api(Responder)),
    ("GET", "/api/v1/incidents/{id}/postmortem", Api(Viewer)),
    (
        "POST",
        "/api/v1/incidents/{id}/postmortem/sections/{section}",
        Api(Responder),
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/postmortem/key-moments",
        Api(Responder),
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/postmortem/publish",
        Api(Commander),
    ),
    ("GET", "/api/v1/playbooks", Api(Viewer)),
    ("GET", "/api/v1/playbooks/{playbook}", Api(Viewer)),
    ("POST", "/api/v1/incidents/{id}/playbooks", Api(Commander)),
    (
        "POST",
        "/api/v1/incidents/{id}/playbooks/{playbook}/detach",
        Api(Commander),
    ),
    ("GET", "/api/v1/incidents/{id}/tasks", Api(Viewer)),
    (
        "POST",
        "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/done",
        Api(Responder),
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/skip",
        Api(Responder),
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/playbooks/{playbook}/tasks/{task}/reopen",
        Api(Responder),
    ),
    ("GET", "/api/v1/triage", Api(Viewer)),
    ("POST", "/api/v1/triage", Api(Viewer)),
    ("GET", "/api/v1/oncall", Api(Viewer)),
    ("GET", "/api/v1/schedules", Api(Viewer)),
    (
        "GET",
        "/api/v1/schedules/{schedule}/calendar.ics",
        Api(Viewer),
    ),
    ("GET", "/api/v1/schedules/{schedule}/overrides", Api(Viewer)),
    (
        "POST",
        "/api/v1/schedules/{schedule}/overrides",
        Api(Commander),
    ),
    (
        "DELETE",
        "/api/v1/schedules/{schedule}/overrides/{id}",
        Api(Commander),
    ),
    ("GET", "/api/v1/people/{person}/calendar.ics", Api(Viewer)),
    ("GET", "/api/v1/incidents/{id}/metrics", Api(Viewer)),
    ("POST", "/api/v1/incidents/{id}/actions", Api(Responder)),
    (
        "PATCH",
        "/api/v1/incidents/{id}/actions/{action}",
        Api(Responder),
    ),
    ("GET", "/api/v1/actions", Api(Viewer)),
    ("GET", "/api/v1/reports", Api(Viewer)),
    ("GET", "/metrics", Api(Viewer)),
    ("GET", "/api/v1/verify", Api(Admin)),
    ("POST", "/v2/enqueue", PagerDuty),
    ("POST", "/v2/change/enqueue", PagerDuty),
    ("POST", "/api/v1/alerts/alertmanager", Integration),
    ("POST", "/api/v1/alerts/grafana", Integration),
    ("POST", "/api/v1/events", Integration),
    ("GET", "/api/v1/alerts", Api(Viewer)),
    ("GET", "/api/v1/alerts/{id}", Api(Viewer)),
    ("POST", "/api/v1/alerts/{id}/acknowledge", Api(Responder)),
    ("POST", "/api/v1/alerts/{id}/resolve", Api(Responder)),
    ("GET", "/api/v1/integrations", Api(Admin)),
    ("POST", "/api/v1/integrations", Api(Admin)),
    ("POST", "/api/v1/integrations/{id}/rotate", Api(Admin)),
    ("DELETE", "/api/v1/integrations/{id}", Api(Admin)),
    ("GET", "/status", Public),
    ("GET", "/status/incidents/{entry}", Public),
    ("GET", "/status/style.css", Public),
    ("GET", "/status/history.atom", Public),
    ("GET", "/api/v2/status.json", Public),
    ("GET", "/api/v2/summary.json", Public),
    ("GET", "/api/v2/components.json", Public),
    ("GET", "/api/v2/incidents.json", Public),
    ("GET", "/api/v2/incidents/unresolved.json", Public),
    ("GET", "/api/v2/scheduled-maintenances.json", Public),
    (
        "GET",
        "/api/v2/scheduled-maintenances/upcoming.json",
        Public,
    ),
    ("GET", "/api/v2/scheduled-maintenances/active.json", Public),
    ("GET", "/api/v1/statuspage/components", Api(Viewer)),
    (
        "POST",
        "/api/v1/statuspage/components/{component}",
        Api(Responder),
    ),
    ("GET", "/api/v1/statuspage/incidents", Api(Viewer)),
    ("GET", "/api/v1/statuspage/incidents/{id}", Api(Viewer)),
    (
        "POST",
        "/api/v1/statuspage/incidents/{id}/publish",
        Api(Commander),
    ),
    (
        "POST",
        "/api/v1/statuspage/incidents/{id}/updates",
        Api(Responder),
    ),
    ("GET", "/api/v1/statuspage/maintenances", Api(Viewer)),
    ("POST", "/api/v1/statuspage/maintenances", Api(Responder)),
    (
        "POST",
        "/api/v1/statuspage/maintenances/{maintenance}/updates",
        Api(Responder),
    ),
    ("GET", "/api/v1/tokens", Api(Admin)),
    ("POST", "/api/v1/tokens", Api(Admin)),
    ("DELETE", "/api/v1/tokens/{id}", Api(Admin)),
    ("GET", "/api/v1/users", Api(Admin)),
    ("POST", "/api/v1/users", Api(Admin)),
    ("POST", "/api/v1/users/{name}/disable", Api(Admin)),
    ("POST", "/api/v1/users/{name}/enable", Api(Admin)),
    ("POST", "/api/v1/users/{name}/password", Api(Admin)),
    ("POST", "/api/v1/incidents/{id}/evidence", Api(Responder)),
    ("GET", "/api/v1/incidents/{id}/evidence", Api(Viewer)),
    (
        "POST",
        "/api/v1/incidents/{id}/evidence/verify",
        Api(Responder),
    ),
    (
        "GET",
        "/api/v1/incidents/{id}/evidence/{sha256}",
        Api(Viewer),
    ),
    (
        "GET",
        "/api/v1/incidents/{id}/evidence/{sha256}/content",
        Api(Viewer),
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/evidence/{sha256}/transfers",
        Api(Responder),
    ),
    ("POST", "/api/v1/incidents/{id}/indicators", Api(Responder)),
    ("GET", "/api/v1/incidents/{id}/indicators", Api(Viewer)),
    ("GET", "/api/v1/indicators", Api(Viewer)),
    ("GET", "/api/v1/audit", Api(Admin)),
    // The web UI.
    ("GET", "/ui", UiPublic),
    ("GET", "/ui/login", UiPublic),
    ("POST", "/ui/login", UiPublic),
    ("GET", "/ui/static/style.css", UiPublic),
    ("GET", "/ui/static/live.js", UiPublic),
    ("GET", "/ui/static/icon.svg", UiPublic),
    ("GET", "/ui/account", Session(Viewer)),
    ("POST", "/ui/account/password", Session(Viewer)),
    ("GET", "/ui/reports", Session(Viewer)),
    ("POST", "/ui/oncall/overrides", Session(Commander)),
    ("POST", "/ui/oncall/overrides/remove", Session(Commander)),
    ("POST", "/ui/oncall/calendar", Session(Viewer)),
    ("POST", "/ui/incidents/{id}/impact", Session(Responder)),
    (
        "POST",
        "/ui/incidents/{id}/roles/unassign",
        Session(Commander),
    ),
    (
        "POST",
        "/ui/incidents/{id}/postmortem/key-moments",
        Session(Responder),
    ),
    ("GET", "/ui/", Session(Viewer)),
    ("POST", "/ui/logout", Session(Viewer)),
    ("GET", "/ui/events", Session(Viewer)),
    ("GET", "/ui/oncall", Session(Viewer)),
    ("GET", "/ui/triage", Session(Viewer)),
    ("POST", "/ui/incidents", Session(Responder)),
    ("GET", "/ui/incidents/{id}", Session(Viewer)),
    ("GET", "/ui/incidents/{id}/export", Session(Viewer)),
    ("POST", "/ui/incidents/{id}/notes", Session(Responder)),
    ("POST", "/ui/incidents/{id}/acknowledge", Session(Responder)),
    ("POST", "/ui/incidents/{id}/status", Session(Responder)),
    ("POST", "/ui/incidents/{id}/resolve", Session(Responder)),
    ("POST", "/ui/incidents/{id}/severity", Session(Commander)),
    ("POST", "/ui/incidents/{id}/roles", Session(Commander)),
    ("POST", "/ui/incidents/{id}/escalate", Session(Responder)),
    ("POST", "/ui/incidents/{id}/tasks", Session(Responder)),
    ("POST", "/ui/incidents/{id}/messages", Session(Responder)),
    ("POST", "/ui/incidents/{id}/close", Session(Commander)),
    ("POST", "/ui/incidents/{id}/reopen", Session(Commander)),
    ("POST", "/ui/incidents/{id}/root-cause", Session(Responder)),
    ("GET", "/ui/incidents/{id}/postmortem", Session(Viewer)),
    (
        "POST",
        "/ui/incidents/{id}/postmortem/sections",
        Session(Responder),
    ),
    (
        "POST",
        "/ui/incidents/{id}/postmortem/publish",
        Session(Commander),
    ),
];

fn access_of(method: &str, path: &str) -> Access {
    TABLE
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, a)| *a)
        .unwrap_or_else(|| panic!("{method} {path} is not in the authorisation table"))
}

#[test]
fn the_table_covers_exactly_the_routes_the_server_answers() {
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .chain(
            UI_ROUTES
                .iter()
                .map(|(m, p)| (m.to_string(), p.to_string())),
        )
        .collect();
    let table: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(TABLE.len(), table.len(), "a route is in the table twice");
    let missing: Vec<_> = served.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the authorisation table (add them, with who may call them): {missing:?}"
    );
    let stale: Vec<_> = table.difference(&served).collect();
    assert!(
        stale.is_empty(),
        "table rows for routes that do not exist: {stale:?}"
    );
    // The published documentation says the same as the table.
    for r in ROUTES {
        let documented = match access_of(r.method, r.path) {
            Api(role) => Some(role),
            _ => None,
        };
        assert_eq!(
            r.role, documented,
            "{} {}: OpenAPI says otherwise",
            r.method, r.path
        );
    }
}

// ------------------------------------------------------------------------------------------
// The server and its callers.

const PASSWORD: &str = "correct horse battery staple";

struct App {
    base: String,
    admin: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    running: Option<Running>,
}

/// The built-in config plus a playbook that attaches to incidents labelled `probe=yes`, so
/// the task routes have a task to act on.
fn config() -> Config {
    let playbooks = r#"
playbooks:
  - id: probe
    title: Probe playbook
    triggers: {severity: P0..P3, labels: {probe: "yes"}}
    phases:
      - id: contain
        title: Contain
        time_box: 0-15m
        tasks:
          - id: check
            text: Check.
            owner: technical-lead
  - id: manual
    title: Manual only
    phases:
      - id: detect
        title: Detect
        time_box: 0-1h
        tasks:
          - id: look
            text: Look.
            owner: scribe
"#;
    warroom_core::config::load(&[warroom_core::config::SourceFile::new(
        "authz-playbooks.yaml",
        playbooks,
    )])
    .expect("test config")
}

async fn spawn() -> App {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        "2026-11-22T10:00:00Z".parse().expect("time"),
    ));
    let running = warroom_server::start(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: None,
            config: config(),
            demo: false,
            engine: false,
            grafana_signature: None,
            metrics_public: false,
            secure_cookies: false,
        },
        clock.clone(),
    )
    .await
    .expect("server starts");
    App {
        base: format!("http://{}", running.addr),
        admin: running.created_admin_token.clone().expect("admin token"),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        clock,
        _dir: dir,
        running: Some(running),
    }
}

struct Answer {
    status: StatusCode,
    location: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl App {
    async fn call(
        &self,
        method: &Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        answer(req, path).await
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let a = self
            .call(&method, path, Some(&self.admin), body.as_ref())
            .await;
        assert!(
            a.status.is_success(),
            "{method} {path}: {} {}",
            a.status,
            a.body
        );
        a.json()
    }

    async fn token(&self, name: &str, body: Value) -> (String, String) {
        let mut body = body;
        body["name"] = json!(name);
        let t = self.admin(Method::POST, "/api/v1/tokens", Some(body)).await;
        (
            t["token"].as_str().expect("secret").to_string(),
            t["id"].as_str().expect("id").to_string(),
        )
    }

    async fn declare(&self, token: &str, body: Value) -> String {
        let a = self
            .call(&Method::POST, "/api/v1/incidents", Some(token), Some(&body))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.json()["id"].as_str().expect("id").to_string()
    }

    async fn version(&self, id: &str) -> Value {
        self.admin(Method::GET, &format!("/api/v1/incidents/{id}"), None)
            .await["version"]
            .clone()
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// Sends `req` and reads the answer; the live-update stream never ends, so only its status
/// is read.
async fn answer(req: reqwest::RequestBuilder, path: &str) -> Answer {
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let location = resp
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = if path.starts_with("/ui/events") && status == StatusCode::OK {
        String::new()
    } else {
        resp.text().await.expect("body")
    };
    Answer {
        status,
        location,
        body,
    }
}

/// Everyone who knocks: by name, with the credential they present.
struct Callers {
    /// API tokens of each role (`security`: the security team's responder).
    tokens: BTreeMap<&'static str, String>,
    /// What an API token of each kind may do, by name.
    roles: BTreeMap<&'static str, Role>,
    routing_key: String,
}

/// Callers that must never get past authentication, with the credential they send.
fn outsiders(c: &Callers) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("no token", None),
        ("expired token", Some(c.tokens["expired"].clone())),
        ("revoked token", Some(c.tokens["revoked"].clone())),
        ("routing key", Some(c.routing_key.clone())),
        ("made-up token", Some(format!("wr_{}", "0".repeat(64)))),
    ]
}

/// Token holders in order of privilege; the read-only admin may only read.
const HOLDERS: [&str; 6] = [
    "viewer",
    "read-only admin",
    "responder",
    "security",
    "commander",
    "admin",
];

fn may(holder: &str, role: Role, needed: Role) -> bool {
    role >= needed && (holder != "read-only admin" || needed == Viewer)
}

async fn callers(app: &App) -> Callers {
    let mut tokens = BTreeMap::new();
    let mut roles = BTreeMap::new();
    for (name, role, security, scope) in [
        ("viewer", Viewer, false, "full"),
        ("responder", Responder, false, "full"),
        ("security", Responder, true, "full"),
        ("commander", Commander, false, "full"),
        ("admin", Admin, false, "full"),
        ("read-only admin", Admin, true, "read-only"),
    ] {
        let handle = name.replace(' ', "-");
        let (secret, _) = app
            .token(
                &handle,
                json!({ "role": role, "security": security, "scope": scope }),
            )
            .await;
        tokens.insert(name, secret);
        roles.insert(name, role);
    }
    let (expired, _) = app
        .token("expiring", json!({ "role": "admin", "expires_in": "1h" }))
        .await;
    let (revoked, revoked_id) = app.token("revoked", json!({ "role": "admin" })).await;
    app.admin(
        Method::DELETE,
        &format!("/api/v1/tokens/{revoked_id}"),
        None,
    )
    .await;
    tokens.insert("expired", expired);
    tokens.insert("revoked", revoked);
    let integration = app
        .admin(
            Method::POST,
            "/api/v1/integrations",
            Some(json!({ "service": "api" })),
        )
        .await;
    let routing_key = integration["routing_key"]
        .as_str()
        .expect("routing key")
        .to_string();
    app.clock.advance(SignedDuration::from_hours(2));
    Callers {
        tokens,
        roles,
        routing_key,
    }
}

// ------------------------------------------------------------------------------------------
// Fixtures: fresh state for each route, so every allowed call has something to act on.

struct Fixture {
    incident: String,
    /// What `{id}` means on routes whose id is not an incident's.
    other: String,
}

async fn fixture(app: &App, path: &str, routing_key: &str) -> Fixture {
    let incident = app
        .declare(
            &app.admin,
            json!({ "title": "Authz target", "severity": "P2", "labels": { "probe": "yes" } }),
        )
        .await;
    let inc = |p: &str| format!("/api/v1/incidents/{incident}{p}");
    let task_route = path.contains("/tasks/");
    let last = path.rsplit('/').next().unwrap_or_default();
    if !task_route && matches!(last, "close" | "reopen" | "publish") && !path.contains("statuspage")
    {
        app.admin(
            Method::POST,
            &inc("/resolve"),
            Some(json!({ "summary": "done" })),
        )
        .await;
    }
    if path.ends_with("/reopen") && !task_route {
        app.admin(Method::POST, &inc("/close"), Some(json!({})))
            .await;
    }
    if last == "{role}" || last == "unassign" {
        app.admin(
            Method::POST,
            &inc("/roles"),
            Some(json!({ "role": "scribe", "person": "zed" })),
        )
        .await;
    }
    if path.contains("{action}") {
        app.admin(
            Method::POST,
            &inc("/actions"),
            Some(json!({ "title": "first", "owner": "alice", "due": "2026-12-01" })),
        )
        .await;
    }
    if path.ends_with("/tasks/{task}/reopen") {
        app.admin(
            Method::POST,
            &inc("/playbooks/probe/tasks/check/done"),
            Some(json!({})),
        )
        .await;
    }
    if path.starts_with("/api/v1/statuspage/incidents/{id}") && !path.ends_with("/publish") {
        app.admin(
            Method::POST,
            &format!("/api/v1/statuspage/incidents/{incident}/publish"),
            Some(json!({})),
        )
        .await;
    }
    let other = if path.contains("{entry}") {
        app.admin(
            Method::POST,
            &format!("/api/v1/statuspage/incidents/{incident}/publish"),
            Some(json!({})),
        )
        .await["id"]
            .as_str()
            .expect("entry id")
            .to_string()
    } else if path.contains("{maintenance}") {
        app.admin(
            Method::POST,
            "/api/v1/statuspage/maintenances",
            Some(json!({ "title": "Probe", "scheduled_for": "2026-11-23T10:00:00Z", "scheduled_until": "2026-11-23T11:00:00Z" })),
        )
        .await["id"]
            .as_str()
            .expect("maintenance id")
            .to_string()
    } else if path.starts_with("/api/v1/alerts/{id}") {
        let a = app
            .call(
                &Method::POST,
                "/v2/enqueue",
                None,
                Some(
                    &json!({ "routing_key": routing_key, "event_action": "trigger",
                    "payload": { "summary": "authz probe", "source": "h", "severity": "info" } }),
                ),
            )
            .await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
        app.admin(Method::GET, "/api/v1/alerts?limit=1", None).await["alerts"][0]["id"]
            .as_str()
            .expect("alert id")
            .to_string()
    } else if path.contains("/overrides/{id}") || path.ends_with("/overrides/remove") {
        app.admin(
            Method::POST,
            "/api/v1/schedules/primary/overrides",
            Some(json!({ "person": "bob", "start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z" })),
        )
        .await["id"]
            .as_str()
            .expect("override id")
            .to_string()
    } else if path.contains("{sha256}") {
        app.admin(
            Method::POST,
            &inc("/evidence?file_name=probe.json"),
            Some(json!({ "probe": true })),
        )
        .await["evidence"]["sha256"]
            .as_str()
            .expect("evidence sha256")
            .to_string()
    } else if path.contains("{name}") {
        // One account per route: the table's routes share one server.
        let name = format!("probe-{last}");
        app.admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({ "name": name, "role": "viewer", "password": "probe password 123" })),
        )
        .await;
        name
    } else if path.starts_with("/api/v1/integrations/{id}") {
        // Its own integration: the matrix's routing key must outlive a revocation here.
        app.admin(
            Method::POST,
            "/api/v1/integrations",
            Some(json!({ "service": "api", "name": format!("probe-{last}") })),
        )
        .await["id"]
            .as_str()
            .expect("integration id")
            .to_string()
    } else if path.starts_with("/api/v1/tokens/{id}") {
        app.token("victim", json!({ "role": "viewer" })).await.1
    } else {
        incident.clone()
    };
    if path.ends_with("/key-moments") {
        app.admin(
            Method::POST,
            &inc("/notes"),
            Some(json!({ "text": "the turn" })),
        )
        .await;
    }
    Fixture { incident, other }
}

/// The concrete request a route gets: its path filled in and a valid body.
fn request(
    method: &str,
    path: &str,
    f: &Fixture,
    routing_key: &str,
    seq: &Value,
) -> (Method, String, Option<Value>) {
    let id = if path.starts_with("/api/v1/incidents/{id}")
        || path.starts_with("/api/v1/statuspage/incidents/{id}")
        || path.starts_with("/ui/incidents/{id}")
    {
        &f.incident
    } else {
        &f.other
    };
    let concrete = path
        .replace("{id}", id)
        .replace("{role}", "scribe")
        .replace("{playbook}", "probe")
        .replace("{task}", "check")
        .replace("{schedule}", "primary")
        .replace("{person}", "alice")
        .replace("{template}", "internal-update")
        .replace("{section}", "summary")
        .replace("{component}", "api")
        .replace("{maintenance}", &f.other)
        .replace("{entry}", &f.other)
        .replace("{action}", "A1")
        .replace("{sha256}", &f.other)
        .replace("{name}", &f.other);
    let concrete = match (method, path) {
        ("POST", "/api/v1/incidents/{id}/evidence") => format!("{concrete}?file_name=probe.json"),
        ("GET", "/api/v1/indicators") => format!("{concrete}?value=203.0.113.9"),
        _ => concrete,
    };
    let last = path.rsplit('/').next().unwrap_or_default();
    let body = match (method, path) {
        ("POST", "/v2/enqueue") => Some(
            json!({ "routing_key": routing_key, "event_action": "trigger",
            "payload": { "summary": "probe", "source": "probe-host", "severity": "info" } }),
        ),
        ("POST", "/v2/change/enqueue") => {
            Some(json!({ "routing_key": routing_key, "payload": { "summary": "deployed" } }))
        }
        ("POST", "/api/v1/alerts/alertmanager" | "/api/v1/alerts/grafana") => Some(json!({
            "version": "4", "status": "firing", "receiver": "warroom", "groupKey": "{}:{}",
            "alerts": [{ "status": "firing", "labels": { "alertname": "Probe" }, "annotations": {},
                "startsAt": "2026-11-22T10:00:00Z", "fingerprint": "00000000000000aa" }] })),
        ("POST", "/api/v1/events") => Some(json!({ "summary": "probe" })),
        ("POST", "/api/v1/integrations") => Some(json!({ "service": "api" })),
        ("POST", "/api/v1/integrations/{id}/rotate") => Some(json!({ "grace": "1h" })),
        ("POST", "/api/v1/triage") => Some(json!({ "answers": { "service-down": true } })),
        ("POST", "/api/v1/tokens") => Some(json!({ "name": "probe", "role": "viewer" })),
        ("POST", "/api/v1/users") => {
            Some(json!({ "name": "probe", "role": "viewer", "password": "probe password 123" }))
        }
        ("POST", "/api/v1/incidents") => Some(json!({ "title": "Probe", "severity": "P3" })),
        ("POST", "/api/v1/statuspage/components/{component}") => {
            Some(json!({ "status": "degraded_performance" }))
        }
        ("POST", "/api/v1/statuspage/maintenances") => Some(json!({ "title": "Probe",
            "scheduled_for": "2026-11-23T10:00:00Z", "scheduled_until": "2026-11-23T11:00:00Z" })),
        ("POST", "/api/v1/statuspage/maintenances/{maintenance}/updates") => {
            Some(json!({ "status": "in_progress", "message": "probe" }))
        }
        ("POST", "/api/v1/statuspage/incidents/{id}/updates") => {
            Some(json!({ "message": "probe" }))
        }
        ("POST", "/api/v1/incidents/{id}/playbooks") => Some(json!({ "playbook": "manual" })),
        ("POST", "/api/v1/schedules/{schedule}/overrides") => Some(json!({
            "person": "alice", "start": "2026-11-22T13:00:00Z", "end": "2026-11-22T15:00:00Z" })),
        ("PATCH", _) => Some(json!({ "title": "Renamed" })),
        ("POST", _) => Some(match last {
            "indicators" => json!({ "kind": "ip", "value": "203.0.113.9" }),
            "transfers" => json!({ "to": "Acme Forensics" }),
            "password" => json!({ "password": "another probe password" }),
            "skip" => json!({ "reason": "not needed" }),
            "severity" => json!({ "severity": "P0" }),
            "status" => json!({ "status": "contained" }),
            "roles" => json!({ "role": "scribe", "person": "zed" }),
            "notes" => json!({ "text": "probe" }),
            "actions" => json!({ "title": "probe", "owner": "alice", "due": "2026-12-01" }),
            "updates" => json!({ "text": "probe", "audience": "internal" }),
            "messages" => json!({ "template": "internal-update", "to": ["incident-room"] }),
            "moments" => json!({ "moment": "aware" }),
            "{section}" => json!({ "text": "probe" }),
            "key-moments" => json!({ "seq": seq }),
            "resolve" => json!({ "summary": "probe" }),
            "reopen" => json!({ "reason": "probe" }),
            _ => json!({}),
        }),
        _ => None,
    };
    (method.parse().expect("method"), concrete, body)
}

fn verdict(failures: &mut Vec<String>, label: &str, who: &str, a: &Answer, ok: bool, want: &str) {
    if !ok {
        let body: String = a.body.chars().take(200).collect();
        failures.push(format!(
            "{label} as {who}: wanted {want}, got {} {body}",
            a.status
        ));
    }
}

fn is_error(a: &Answer, status: StatusCode, code: &str) -> bool {
    a.status == status && a.json()["error"]["code"] == code
}

#[tokio::test]
async fn every_api_route_answers_every_caller_as_the_table_says() {
    let app = spawn().await;
    let c = callers(&app).await;
    let mut failures = Vec::new();
    for route in ROUTES {
        let access = access_of(route.method, route.path);
        let f = fixture(&app, route.path, &c.routing_key).await;
        let seq = app.version(&f.incident).await;
        let (method, path, body) = request(route.method, route.path, &f, &c.routing_key, &seq);
        let label = format!("{} {}", route.method, route.path);
        let before = app.version(&f.incident).await;
        match access {
            Public | PagerDuty => {
                // Credentials change nothing: a garbage or expired one is not even looked at.
                for (who, cred) in outsiders(&c)
                    .into_iter()
                    .chain(HOLDERS.iter().map(|h| (*h, Some(c.tokens[h].clone()))))
                {
                    let a = app
                        .call(&method, &path, cred.as_deref(), body.as_ref())
                        .await;
                    verdict(
                        &mut failures,
                        &label,
                        who,
                        &a,
                        a.status.as_u16() == route.status,
                        &route.status.to_string(),
                    );
                }
            }
            Integration => {
                for (who, cred) in outsiders(&c)
                    .into_iter()
                    .filter(|(w, _)| *w != "routing key")
                    .chain(HOLDERS.iter().map(|h| (*h, Some(c.tokens[h].clone()))))
                {
                    let a = app
                        .call(&method, &path, cred.as_deref(), body.as_ref())
                        .await;
                    verdict(
                        &mut failures,
                        &label,
                        who,
                        &a,
                        is_error(&a, StatusCode::UNAUTHORIZED, "unauthorized"),
                        "401",
                    );
                }
                let a = app
                    .call(&method, &path, Some(&c.routing_key), body.as_ref())
                    .await;
                verdict(
                    &mut failures,
                    &label,
                    "routing key",
                    &a,
                    a.status.as_u16() == route.status,
                    &route.status.to_string(),
                );
            }
            Api(needed) => {
                for (who, cred) in outsiders(&c) {
                    let a = app
                        .call(&method, &path, cred.as_deref(), body.as_ref())
                        .await;
                    verdict(
                        &mut failures,
                        &label,
                        who,
                        &a,
                        is_error(&a, StatusCode::UNAUTHORIZED, "unauthorized"),
                        "401",
                    );
                }
                // Refusals first: they must leave the incident as it was.
                let (allowed, refused): (Vec<&str>, Vec<&str>) =
                    HOLDERS.iter().partition(|h| may(h, c.roles[*h], needed));
                for who in refused {
                    let a = app
                        .call(&method, &path, Some(&c.tokens[who]), body.as_ref())
                        .await;
                    verdict(
                        &mut failures,
                        &label,
                        who,
                        &a,
                        is_error(&a, StatusCode::FORBIDDEN, "forbidden"),
                        "403",
                    );
                }
                let after = app.version(&f.incident).await;
                if after != before {
                    failures.push(format!(
                        "{label}: refused calls changed the incident ({before} -> {after})"
                    ));
                }
                // The least privileged caller allowed gets the documented success; the others
                // are let in too (the state may have moved on: a 409 or 422 is fine, never
                // 401, 403 or 404).
                for (i, who) in allowed.into_iter().enumerate() {
                    let a = app
                        .call(&method, &path, Some(&c.tokens[who]), body.as_ref())
                        .await;
                    if i == 0 {
                        verdict(
                            &mut failures,
                            &label,
                            who,
                            &a,
                            a.status.as_u16() == route.status,
                            &route.status.to_string(),
                        );
                    } else {
                        let let_in = !matches!(a.status.as_u16(), 401 | 403 | 404)
                            && !a.status.is_server_error();
                        verdict(&mut failures, &label, who, &a, let_in, "to be let in");
                    }
                }
            }
            UiPublic | Session(_) => unreachable!("{label} is an API route"),
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    app.stop().await;
}

// ------------------------------------------------------------------------------------------
// The web UI.

/// A logged-in browser: its session cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    html[start..].split('"').next().map(str::to_string)
}

impl App {
    async fn ui(
        &self,
        method: &Method,
        path: &str,
        browser: Option<&Browser>,
        bearer: Option<&str>,
        form: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = browser {
            req = req.header("cookie", &b.cookie);
        }
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        if *method == Method::POST {
            let mut pairs: Vec<(&str, &str)> = form.to_vec();
            if let Some(b) = browser {
                pairs.push(("csrf", &b.csrf));
            }
            let body: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        answer(req, path).await
    }

    async fn login(&self, name: &str, role: Role, security: bool) -> Browser {
        self.admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({ "name": name, "role": role, "security": security, "password": PASSWORD })),
        )
        .await;
        let form = self
            .http
            .get(format!("{}/ui/login", self.base))
            .send()
            .await
            .expect("form");
        let pre = form
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
            .collect::<Vec<_>>()
            .join("; ");
        let nonce = csrf_in(&form.text().await.expect("html")).expect("login csrf");
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", nonce.as_str()),
                ("name", name),
                ("password", PASSWORD),
            ])
            .finish();
        let r = self
            .http
            .post(format!("{}/ui/login", self.base))
            .header("cookie", pre)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {name}");
        let cookie = r
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
            .find(|c| c.starts_with("warroom_session="))
            .expect("session cookie");
        let mut b = Browser {
            cookie,
            csrf: String::new(),
        };
        let home = self.ui(&Method::GET, "/ui/", Some(&b), None, &[]).await;
        b.csrf = csrf_in(&home.body).expect("page csrf");
        b
    }
}

fn ui_form(path: &str) -> Vec<(&'static str, &'static str)> {
    match path.rsplit('/').next().unwrap_or_default() {
        "incidents" => vec![("title", "Declared in the UI"), ("severity", "P3")],
        "notes" => vec![("text", "from the UI")],
        "status" => vec![("status", "contained")],
        "resolve" => vec![("summary", "fixed")],
        "severity" => vec![("severity", "P1")],
        "roles" => vec![("role", "scribe"), ("person", "zed")],
        "tasks" => vec![("playbook", "probe"), ("task", "check"), ("action", "done")],
        "messages" => vec![
            ("template", "internal-update"),
            ("subject", "Update"),
            ("text", "Still on it."),
            ("to", "incident-room"),
        ],
        "reopen" => vec![("reason", "again")],
        "root-cause" => vec![("root_cause", "a bad deploy")],
        "sections" => vec![("section", "summary"), ("text", "what happened")],
        "login" => vec![("name", "nobody"), ("password", "wrong password here")],
        "impact" => vec![("users_affected", "10")],
        "unassign" => vec![("role", "scribe")],
        "key-moments" => vec![("seq", "1"), ("marked", "true")],
        "overrides" => vec![
            ("schedule", "primary"),
            ("person", "alice"),
            ("start", "2026-11-22T13:00"),
            ("end", "2026-11-22T15:00"),
        ],
        // The override the fixture made for this route (its id is added beside the form).
        "remove" => vec![("schedule", "primary")],
        // The browsers' own password, kept: later routes use the same sessions.
        "password" => vec![
            ("current", PASSWORD),
            ("new", PASSWORD),
            ("repeat", PASSWORD),
        ],
        _ => vec![],
    }
}

#[tokio::test]
async fn every_ui_route_answers_every_caller_as_the_table_says() {
    let app = spawn().await;
    let c = callers(&app).await;
    let mut browsers: Vec<(&str, Role, Browser)> = Vec::new();
    for (name, role, security) in [
        ("viewer", Viewer, false),
        ("responder", Responder, false),
        ("security", Responder, true),
        ("commander", Commander, false),
        ("admin", Admin, false),
    ] {
        let b = app.login(&format!("ui-{name}"), role, security).await;
        browsers.push((name, role, b));
    }
    let mut failures = Vec::new();
    for (method, path) in UI_ROUTES {
        let access = access_of(method, path);
        let f = fixture(
            &app,
            path.trim_start_matches("/ui")
                .replace("/incidents/{id}", "/api/v1/incidents/{id}")
                .as_str(),
            &c.routing_key,
        )
        .await;
        let (m, concrete, _) = request(method, path, &f, &c.routing_key, &Value::Null);
        let mut form: Vec<(&str, &str)> = ui_form(path);
        if path.ends_with("/overrides/remove") {
            form.push(("id", f.other.as_str()));
        }
        let label = format!("{method} {path}");
        let before = app.version(&f.incident).await;
        match access {
            UiPublic => {
                for (who, cred) in outsiders(&c) {
                    let a = app.ui(&m, &concrete, None, cred.as_deref(), &form).await;
                    if a.status.is_server_error()
                        || a.status == StatusCode::FORBIDDEN && *method == "GET"
                    {
                        failures.push(format!("{label} as {who}: {}", a.status));
                    }
                }
            }
            Session(needed) => {
                // No session: to the login page, whatever API credential comes along.
                for (who, cred) in outsiders(&c)
                    .into_iter()
                    .chain(HOLDERS.iter().map(|h| (*h, Some(c.tokens[h].clone()))))
                {
                    let a = app.ui(&m, &concrete, None, cred.as_deref(), &form).await;
                    if !(a.status == StatusCode::SEE_OTHER && a.location == "/ui/login") {
                        failures.push(format!(
                            "{label} with {who} and no session: {} {}",
                            a.status, a.location
                        ));
                    }
                }
                if *path == "/ui/logout" {
                    continue;
                }
                for (who, role, b) in &browsers {
                    if *role >= needed {
                        continue;
                    }
                    let a = app.ui(&m, &concrete, Some(b), None, &form).await;
                    if a.status != StatusCode::FORBIDDEN {
                        failures.push(format!(
                            "{label} as {who}'s session: wanted 403, got {}",
                            a.status
                        ));
                    }
                }
                let after = app.version(&f.incident).await;
                if after != before {
                    failures.push(format!("{label}: refused calls changed the incident"));
                }
                let (who, _, b) = browsers
                    .iter()
                    .find(|(_, r, _)| *r >= needed)
                    .expect("someone may");
                let a = app.ui(&m, &concrete, Some(b), None, &form).await;
                // The calendar link is shown on the answer itself (its secret exists only
                // there), so that form answers 200 rather than redirecting.
                let ok = if *method == "GET" || *path == "/ui/oncall/calendar" {
                    a.status == StatusCode::OK
                } else {
                    a.status == StatusCode::SEE_OTHER && a.location != "/ui/login"
                };
                if !ok {
                    failures.push(format!(
                        "{label} as {who}'s session: {} {} {}",
                        a.status,
                        a.location,
                        a.body.chars().take(300).collect::<String>()
                    ));
                }
            }
            _ => failures.push(format!("{label}: a UI route with API access in the table")),
        }
    }
    // Logging out works for any session, and ends it.
    let (_, _, viewer) = &browsers[0];
    let a = app
        .ui(&Method::POST, "/ui/logout", Some(viewer), None, &[])
        .await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (StatusCode::SEE_OTHER, "/ui/login")
    );
    let a = app.ui(&Method::GET, "/ui/", Some(viewer), None, &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    app.stop().await;
}

// ------------------------------------------------------------------------------------------
// Restricted incidents never leak.

/// Where `id` or `title` shows in `body`, if anywhere.
fn leaks(body: &str, id: &str, title: &str) -> Option<&'static str> {
    if body.contains(id) {
        Some("id")
    } else if body.contains(title) || body.contains("ZQXJ") {
        Some("title")
    } else {
        None
    }
}

/// `a` with the ids the caller asked for taken out: a "no incident X" for the X one asked
/// about tells nothing. What is left must match the answer for an id that does not exist.
// One request's worth of arguments: a struct would only rename them.
#[allow(clippy::too_many_arguments)]
async fn masked(
    app: &App,
    failures: &mut Vec<String>,
    method: &Method,
    path: &str,
    a: Answer,
    ids: &[&str],
    as_token: Option<&str>,
    browser: Option<&Browser>,
    body: Option<&Value>,
) -> Answer {
    let mask = |text: &str| {
        ids.iter()
            .fold(text.to_string(), |t, id| t.replace(id, "<ID>"))
    };
    let missing_path = ids
        .iter()
        .fold(path.to_string(), |p, id| p.replace(id, "INC-20261122-999"));
    let missing = if path.starts_with("/ui/") {
        app.ui(method, &missing_path, browser, None, &[("text", "peek")])
            .await
    } else {
        app.call(method, &missing_path, as_token, body).await
    };
    let body_masked = mask(&a.body);
    if a.status != missing.status || body_masked != missing.body.replace("INC-20261122-999", "<ID>")
    {
        failures.push(format!(
            "{method} {path} answers differently from a missing incident: {} {body_masked} / {} {}",
            a.status, missing.status, missing.body
        ));
    }
    Answer {
        status: a.status,
        location: a.location,
        body: body_masked,
    }
}

/// Records where `a` shows the restricted incident, or any of `hidden_too`.
fn look(
    failures: &mut Vec<String>,
    id: &str,
    title: &str,
    who: &str,
    path: &str,
    a: &Answer,
    hidden_too: &[&str],
) {
    if let Some(what) = leaks(&a.body, id, title) {
        failures.push(format!(
            "{path} shows the restricted incident's {what} to {who}"
        ));
    }
    for other in hidden_too {
        if a.body.contains(other) {
            failures.push(format!("{path} shows {other} to {who}"));
        }
    }
}

#[tokio::test]
async fn restricted_incidents_never_leak_to_a_non_participant() {
    let app = spawn().await;
    let (reporter, _) = app.token("sec-alice", json!({ "role": "responder" })).await;
    let (outsider, _) = app.token("mallory", json!({ "role": "responder" })).await;
    let (security, _) = app
        .token("sam", json!({ "role": "viewer", "security": true }))
        .await;
    let (commander, _) = app.token("cora", json!({ "role": "commander" })).await;
    let title = "Exfiltration of billing records ZQXJ";
    let id = app
        .declare(
            &reporter,
            json!({ "title": title, "severity": "P1", "type": "data-breach", "restricted": true,
                "services": ["api"], "labels": { "probe": "yes", "case": "ZQXJ-7" },
                "description": "attacker used ZQXJ tooling" }),
        )
        .await;
    let inc = |p: &str| format!("/api/v1/incidents/{id}{p}");
    // Give the restricted incident something in every corner: notes, an action item, an
    // update, a review section, a resolution, metrics.
    for (path, body) in [
        (inc("/acknowledge"), json!({})),
        (
            inc("/notes"),
            json!({ "text": "ZQXJ indicators found on host db-7" }),
        ),
        (
            inc("/actions"),
            json!({ "title": "Rotate ZQXJ keys", "owner": "bob", "due": "2026-12-01" }),
        ),
        (
            inc("/updates"),
            json!({ "text": "ZQXJ contained", "audience": "internal" }),
        ),
        (
            inc("/postmortem/sections/summary"),
            json!({ "text": "ZQXJ summary" }),
        ),
        (inc("/resolve"), json!({ "summary": "ZQXJ keys rotated" })),
    ] {
        let a = app
            .call(&Method::POST, &path, Some(&reporter), Some(&body))
            .await;
        assert!(a.status.is_success(), "{path}: {} {}", a.status, a.body);
    }
    // It can never reach the status page.
    let a = app
        .call(
            &Method::POST,
            &format!("/api/v1/statuspage/incidents/{id}/publish"),
            Some(&app.admin),
            Some(&json!({ "title": "Billing incident" })),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);

    // A public incident that was on the status page and became restricted afterwards.
    let later = app
        .declare(
            &commander,
            json!({ "title": "Checkout slow QWVK", "severity": "P2", "services": ["api"] }),
        )
        .await;
    let a = app
        .call(
            &Method::POST,
            &format!("/api/v1/statuspage/incidents/{later}/publish"),
            Some(&commander),
            Some(&json!({ "title": "Checkout degraded QWVK" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let a = app
        .call(
            &Method::PATCH,
            &format!("/api/v1/incidents/{later}"),
            Some(&commander),
            Some(&json!({ "restricted": true })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // The commander who restricted it holds no role in it: ask as someone who never touched it.
    app.declare(
        &outsider,
        json!({ "title": "Slow search", "severity": "P3" }),
    )
    .await;

    // Positive control: the same searches find it for those allowed to see it, so an empty
    // answer below means hidden, not a search that never matches.
    for token in [&reporter, &security, &app.admin] {
        for q in ["?q=ZQXJ", "?type=data-breach", "?label=case=ZQXJ-7"] {
            let a = app
                .call(
                    &Method::GET,
                    &format!("/api/v1/incidents{q}"),
                    Some(token),
                    None,
                )
                .await;
            assert!(a.body.contains(&id), "{q}: {}", a.body);
        }
    }
    // Reports are counts: the restricted incidents must not be counted for an outsider either.
    let by_type = |token: String| {
        let app = &app;
        async move {
            app.call(
                &Method::GET,
                "/api/v1/reports?since=30d&by=type&format=json",
                Some(&token),
                None,
            )
            .await
            .json()
        }
    };
    let theirs = by_type(reporter.clone()).await;
    assert!(theirs.to_string().contains("data-breach"), "{theirs}");
    let all = by_type(app.admin.clone()).await;
    let outsiders_report = by_type(outsider.clone()).await;

    let mut failures = Vec::new();
    let counted = |r: &Value| r["total"]["incidents"].as_u64().unwrap_or(0);
    if counted(&outsiders_report) + 2 != counted(&all)
        || outsiders_report.to_string().contains("data-breach")
    {
        failures.push(format!(
            "the report counts restricted incidents for an outsider: {outsiders_report} (admin: {all})"
        ));
    }

    // The API, as a responder who takes no part in it.
    let listed = [
        "/api/v1/incidents".to_string(),
        "/api/v1/incidents?q=ZQXJ".into(),
        "/api/v1/incidents?q=Exfiltration".into(),
        "/api/v1/incidents?type=data-breach".into(),
        "/api/v1/incidents?severity=P1".into(),
        "/api/v1/incidents?status=resolved".into(),
        "/api/v1/incidents?service=api".into(),
        "/api/v1/incidents?label=case=ZQXJ-7".into(),
        "/api/v1/incidents?label=probe=yes".into(),
        "/api/v1/actions".into(),
        "/api/v1/actions?owner=bob".into(),
        "/api/v1/alerts".into(),
        "/api/v1/reports".into(),
        "/api/v1/reports?since=30d&format=json".into(),
        "/api/v1/reports?since=30d&format=md".into(),
        "/api/v1/reports?since=30d&format=csv".into(),
        "/api/v1/reports?since=30d&by=service&format=csv".into(),
        "/api/v1/reports?since=30d&by=type&format=md".into(),
        "/api/v1/oncall".into(),
        "/api/v1/schedules".into(),
        "/api/v1/schedules/primary/calendar.ics".into(),
        "/api/v1/people/alice/calendar.ics".into(),
        "/api/v1/statuspage/incidents".into(),
        "/api/v1/statuspage/components".into(),
        "/metrics".into(),
    ];
    for path in &listed {
        let a = app.call(&Method::GET, path, Some(&outsider), None).await;
        assert!(a.status.is_success(), "{path}: {} {}", a.status, a.body);
        look(
            &mut failures,
            &id,
            title,
            "an outsider",
            path,
            &a,
            &[&later, "QWVK"],
        );
    }
    // Its own addresses answer 404, exactly as for an incident that does not exist.
    let own = [
        inc(""),
        inc("/events"),
        inc("/deliveries"),
        inc("/export?format=md"),
        inc("/export?format=csv"),
        inc("/export?format=json"),
        inc("/deadlines"),
        inc("/postmortem"),
        inc("/tasks"),
        inc("/metrics"),
        inc("/messages/internal-update/draft"),
        format!("/api/v1/actions?incident={id}"),
        format!("/api/v1/statuspage/incidents/{id}"),
        format!("/api/v1/incidents/{later}"),
        format!("/api/v1/statuspage/incidents/{later}"),
    ];
    for path in &own {
        let a = app.call(&Method::GET, path, Some(&outsider), None).await;
        if path.starts_with("/api/v1/actions?") {
            // A filter on an incident one cannot see lists nothing (or refuses); never its items.
            assert!(
                a.status.is_success() || a.status == StatusCode::NOT_FOUND,
                "{path}: {}",
                a.status
            );
        } else if a.status != StatusCode::NOT_FOUND {
            failures.push(format!(
                "{path}: wanted 404 for an outsider, got {}",
                a.status
            ));
        }
        let a = masked(
            &app,
            &mut failures,
            &Method::GET,
            path,
            a,
            &[&id, &later],
            Some(&outsider),
            None,
            None,
        )
        .await;
        look(
            &mut failures,
            &id,
            title,
            "an outsider",
            path,
            &a,
            &["QWVK"],
        );
    }
    for (path, body) in [
        (inc("/notes"), json!({ "text": "peek" })),
        (inc("/acknowledge"), json!({})),
        (
            format!("/api/v1/statuspage/incidents/{id}/updates"),
            json!({ "message": "peek" }),
        ),
        (inc("/actions/A1"), json!({ "title": "peek" })),
    ] {
        let method = if path.contains("/actions/") {
            Method::PATCH
        } else {
            Method::POST
        };
        let a = app.call(&method, &path, Some(&outsider), Some(&body)).await;
        if a.status != StatusCode::NOT_FOUND {
            failures.push(format!(
                "{method} {path}: wanted 404 for an outsider, got {}",
                a.status
            ));
        }
        let a = masked(
            &app,
            &mut failures,
            &method,
            &path,
            a,
            &[&id],
            Some(&outsider),
            None,
            Some(&body),
        )
        .await;
        look(&mut failures, &id, title, "an outsider", &path, &a, &[]);
    }

    // The public status page and its feeds, with no token at all.
    for path in [
        "/status",
        "/status/history.atom",
        "/api/v2/status.json",
        "/api/v2/summary.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
        "/api/v2/scheduled-maintenances/active.json",
    ] {
        let a = app.call(&Method::GET, path, None, None).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        look(
            &mut failures,
            &id,
            title,
            "the public",
            path,
            &a,
            &[&later, "QWVK"],
        );
    }

    // The web UI, logged in as the outsider.
    let b = app.login("mallory-ui", Responder, false).await;
    for path in ["/ui/", "/ui/oncall", "/ui/triage"] {
        let a = app.ui(&Method::GET, path, Some(&b), None, &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        look(
            &mut failures,
            &id,
            title,
            "an outsider's session",
            path,
            &a,
            &[&later, "QWVK"],
        );
    }
    for path in [
        format!("/ui/incidents/{id}"),
        format!("/ui/incidents/{id}/export?format=md"),
        format!("/ui/incidents/{id}/export?format=json"),
        format!("/ui/incidents/{id}/postmortem"),
        format!("/ui/incidents/{later}"),
    ] {
        let a = app.ui(&Method::GET, &path, Some(&b), None, &[]).await;
        if a.status != StatusCode::NOT_FOUND {
            failures.push(format!(
                "{path}: wanted 404 for an outsider's session, got {}",
                a.status
            ));
        }
        let a = masked(
            &app,
            &mut failures,
            &Method::GET,
            &path,
            a,
            &[&id, &later],
            None,
            Some(&b),
            None,
        )
        .await;
        look(
            &mut failures,
            &id,
            title,
            "an outsider's session",
            &path,
            &a,
            &["QWVK"],
        );
    }
    let a = app
        .ui(
            &Method::POST,
            &format!("/ui/incidents/{id}/notes"),
            Some(&b),
            None,
            &[("text", "peek")],
        )
        .await;
    if a.status != StatusCode::NOT_FOUND {
        failures.push(format!(
            "UI note on the restricted incident: wanted 404, got {}",
            a.status
        ));
    }
    // The live stream carries change markers only: read what it sends first.
    let resp = app
        .http
        .get(format!("{}/ui/events?since=0", app.base))
        .header("cookie", &b.cookie)
        .send()
        .await
        .expect("stream");
    assert_eq!(resp.status(), StatusCode::OK);
    let mut resp = resp;
    if let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(std::time::Duration::from_secs(5), resp.chunk()).await
    {
        let text = String::from_utf8_lossy(&chunk).to_string();
        assert!(text.contains("change"), "{text}");
        look(
            &mut failures,
            &id,
            title,
            "an outsider's live stream",
            "/ui/events",
            &Answer {
                status: StatusCode::OK,
                location: String::new(),
                body: text,
            },
            &[&later, "QWVK"],
        );
    }
    drop(resp);

    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    app.stop().await;
}
