//! The public status page through the real server: publishing, public updates, resolving,
//! maintenance, what never leaks (restricted incidents, internal notes and fields), caching,
//! and a typed parser written from the hosted status page API's documented shapes that must
//! read every JSON endpoint.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warroom_core::{Config, ManualClock};
use warroom_server::{Running, ServeOptions};

const PUBLIC_JSON: &[&str] = &[
    "/api/v2/status.json",
    "/api/v2/summary.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
];

const PUBLIC_TEXT: &[&str] = &["/status", "/status/history.atom"];

struct App {
    base: String,
    admin: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

async fn spawn_with(demo: bool, database_url: Option<String>) -> App {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        "2026-11-25T10:00:00Z".parse().expect("time"),
    ));
    let running = warroom_server::start(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url,
            config: Config::builtin(),
            demo,
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
        http: reqwest::Client::new(),
        clock,
        running: Some(running),
        _dir: dir,
    }
}

async fn spawn() -> App {
    spawn_with(false, None).await
}

impl App {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.admin);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("sent");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// A public GET, without any token.
    async fn public(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("sent")
    }

    async fn public_json(&self, path: &str) -> Value {
        let resp = self.public(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        resp.json().await.expect("json")
    }

    /// Every public answer, concatenated: what anyone on the internet can read.
    async fn everything_public(&self) -> String {
        let mut all = String::new();
        for path in PUBLIC_JSON.iter().chain(PUBLIC_TEXT) {
            let resp = self.public(path).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            all.push_str(&resp.text().await.expect("body"));
            all.push('\n');
        }
        all
    }

    async fn declare(&self, body: Value) -> String {
        let (s, inc) = self.post("/api/v1/incidents", body).await;
        assert_eq!(s, StatusCode::CREATED, "{inc}");
        inc["id"].as_str().expect("id").to_string()
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// Declares an incident full of internal detail that must never reach the page.
async fn secret_laden_incident(app: &App) -> String {
    let id = app
        .declare(json!({
            "title": "INTERNAL-TITLE db-7 replica lag from runaway cron",
            "severity": "P1",
            "services": ["api"],
            "labels": { "customer": "INTERNAL-LABEL-acme" },
            "description": "INTERNAL-DESCRIPTION see runbook",
            "impact": { "users_affected": 4242, "data_affected": "INTERNAL-IMPACT" }
        }))
        .await;
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/notes"),
            json!({ "text": "INTERNAL-NOTE the password is hunter2" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/roles"),
            json!({ "role": "communications-lead", "person": "INTERNAL-PERSON-zoe" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    id
}

fn assert_nothing_internal(public: &str, incident_id: &str) {
    for secret in [
        "INTERNAL-",
        "hunter2",
        incident_id,
        "INC-",
        "communications-lead",
        "admin",
    ] {
        assert!(
            !public.contains(secret),
            "{secret:?} leaked onto the public page"
        );
    }
}

// ---- The hosted API, written from its documented shapes, independently of the server. ----

mod hosted {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    pub struct Page {
        pub id: String,
        pub name: String,
        pub url: String,
        pub time_zone: String,
        pub updated_at: String,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "lowercase")]
    pub enum Indicator {
        None,
        Minor,
        Major,
        Critical,
    }

    #[derive(Debug, Deserialize)]
    pub struct Status {
        pub indicator: Indicator,
        pub description: String,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
    #[serde(rename_all = "snake_case")]
    pub enum ComponentStatus {
        Operational,
        DegradedPerformance,
        PartialOutage,
        MajorOutage,
        UnderMaintenance,
    }

    #[derive(Debug, Deserialize)]
    pub struct Component {
        pub id: String,
        pub name: String,
        pub status: ComponentStatus,
        pub created_at: String,
        pub updated_at: String,
        pub position: u32,
        pub description: Option<String>,
        pub showcase: bool,
        pub start_date: Option<String>,
        pub group_id: Option<String>,
        pub page_id: String,
        pub group: bool,
        pub only_show_if_degraded: bool,
        #[serde(default)]
        pub components: Option<Vec<String>>,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
    #[serde(rename_all = "snake_case")]
    pub enum IncidentStatus {
        Investigating,
        Identified,
        Monitoring,
        Resolved,
        Postmortem,
        Scheduled,
        InProgress,
        Verifying,
        Completed,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "snake_case")]
    pub enum Impact {
        None,
        Minor,
        Major,
        Critical,
        Maintenance,
    }

    #[derive(Debug, Deserialize)]
    pub struct AffectedComponent {
        pub code: String,
        pub name: String,
        pub old_status: ComponentStatus,
        pub new_status: ComponentStatus,
    }

    #[derive(Debug, Deserialize)]
    pub struct IncidentUpdate {
        pub id: String,
        pub status: IncidentStatus,
        pub body: String,
        pub incident_id: String,
        pub created_at: String,
        pub updated_at: String,
        pub display_at: String,
        pub affected_components: Vec<AffectedComponent>,
        pub deliver_notifications: bool,
        pub custom_tweet: Option<String>,
        pub tweet_id: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Incident {
        pub id: String,
        pub name: String,
        pub status: IncidentStatus,
        pub impact: Impact,
        pub created_at: String,
        pub updated_at: String,
        pub monitoring_at: Option<String>,
        pub resolved_at: Option<String>,
        pub started_at: String,
        pub shortlink: String,
        pub page_id: String,
        pub incident_updates: Vec<IncidentUpdate>,
        pub components: Vec<Component>,
        pub reminder_intervals: Option<String>,
        #[serde(default)]
        pub scheduled_for: Option<String>,
        #[serde(default)]
        pub scheduled_until: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub struct StatusDoc {
        pub page: Page,
        pub status: Status,
    }

    #[derive(Debug, Deserialize)]
    pub struct Summary {
        pub page: Page,
        pub status: Status,
        pub components: Vec<Component>,
        pub incidents: Vec<Incident>,
        pub scheduled_maintenances: Vec<Incident>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Components {
        pub page: Page,
        pub components: Vec<Component>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Incidents {
        pub page: Page,
        pub incidents: Vec<Incident>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Maintenances {
        pub page: Page,
        pub scheduled_maintenances: Vec<Incident>,
    }

    pub const COMPONENT_KEYS: &[&str] = &[
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    ];

    pub const INCIDENT_KEYS: &[&str] = &[
        "id",
        "name",
        "status",
        "impact",
        "created_at",
        "updated_at",
        "monitoring_at",
        "resolved_at",
        "started_at",
        "shortlink",
        "page_id",
        "incident_updates",
        "components",
        "reminder_intervals",
    ];

    pub const UPDATE_KEYS: &[&str] = &[
        "id",
        "status",
        "body",
        "incident_id",
        "created_at",
        "updated_at",
        "display_at",
        "affected_components",
        "deliver_notifications",
        "custom_tweet",
        "tweet_id",
    ];
}

/// ISO 8601 with milliseconds and an offset, as the hosted API writes times.
fn assert_time(text: &str) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    assert!(
        n == 29
            && bytes[19] == b'.'
            && (bytes[23] == b'+' || bytes[23] == b'-')
            && bytes[26] == b':',
        "{text:?} is not YYYY-MM-DDTHH:MM:SS.mmm+HH:MM"
    );
    text.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{text:?}: {e}"));
}

fn assert_keys(object: &Value, keys: &[&str], what: &str) {
    for key in keys {
        assert!(object.get(*key).is_some(), "{what} lacks {key:?}: {object}");
    }
}

/// Checks the raw JSON has every documented key, including the nullable ones serde would
/// quietly accept as missing.
fn check_shapes(doc: &Value) {
    assert_keys(
        &doc["page"],
        &["id", "name", "url", "time_zone", "updated_at"],
        "page",
    );
    for list in ["components"] {
        for c in doc[list].as_array().into_iter().flatten() {
            assert_keys(c, hosted::COMPONENT_KEYS, "component");
        }
    }
    for list in ["incidents", "scheduled_maintenances"] {
        for i in doc[list].as_array().into_iter().flatten() {
            assert_keys(i, hosted::INCIDENT_KEYS, "incident");
            if list == "scheduled_maintenances" {
                assert_keys(i, &["scheduled_for", "scheduled_until"], "maintenance");
            }
            for u in i["incident_updates"].as_array().expect("updates") {
                assert_keys(u, hosted::UPDATE_KEYS, "incident update");
            }
        }
    }
}

fn check_component(c: &hosted::Component) {
    assert_time(&c.created_at);
    assert_time(&c.updated_at);
    assert!(!c.id.is_empty() && !c.name.is_empty() && !c.page_id.is_empty());
    assert_eq!(c.group, c.components.is_some(), "{c:?}");
    let _ = (c.position, &c.description, c.showcase, &c.start_date);
    let _ = (&c.group_id, c.only_show_if_degraded);
}

fn check_incident(i: &hosted::Incident) {
    for t in [&i.created_at, &i.updated_at, &i.started_at] {
        assert_time(t);
    }
    for t in [
        &i.monitoring_at,
        &i.resolved_at,
        &i.scheduled_for,
        &i.scheduled_until,
    ]
    .into_iter()
    .flatten()
    {
        assert_time(t);
    }
    assert!(!i.name.is_empty() && !i.shortlink.is_empty() && !i.page_id.is_empty());
    assert!(i.reminder_intervals.is_none());
    // Newest first.
    let times: Vec<&str> = i
        .incident_updates
        .iter()
        .map(|u| u.created_at.as_str())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    for u in &i.incident_updates {
        assert_eq!(u.incident_id, i.id);
        assert!(!u.id.is_empty() && !u.body.is_empty());
        for t in [&u.created_at, &u.updated_at, &u.display_at] {
            assert_time(t);
        }
        for a in &u.affected_components {
            assert!(!a.code.is_empty() && !a.name.is_empty());
            assert_ne!(a.old_status, a.new_status);
        }
        let _ = (
            u.deliver_notifications,
            &u.custom_tweet,
            &u.tweet_id,
            u.status,
        );
    }
    for c in &i.components {
        check_component(c);
    }
}

/// Reads every endpoint with the typed parser; returns the summary.
async fn parse_everything(app: &App) -> hosted::Summary {
    for path in PUBLIC_JSON {
        check_shapes(&app.public_json(path).await);
    }
    let status: hosted::StatusDoc =
        serde_json::from_value(app.public_json("/api/v2/status.json").await).expect("status.json");
    assert_time(&status.page.updated_at);
    assert!(!status.status.description.is_empty());
    let _ = (
        &status.page.id,
        &status.page.name,
        &status.page.url,
        &status.page.time_zone,
    );
    let components: hosted::Components =
        serde_json::from_value(app.public_json("/api/v2/components.json").await)
            .expect("components.json");
    components.components.iter().for_each(check_component);
    assert_eq!(components.page.name, status.page.name);
    for path in [
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
    ] {
        let doc: hosted::Incidents =
            serde_json::from_value(app.public_json(path).await).expect(path);
        doc.incidents.iter().for_each(check_incident);
        assert_eq!(doc.page.id, status.page.id);
    }
    for path in [
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
        "/api/v2/scheduled-maintenances/active.json",
    ] {
        let doc: hosted::Maintenances =
            serde_json::from_value(app.public_json(path).await).expect(path);
        for m in &doc.scheduled_maintenances {
            check_incident(m);
            assert_eq!(m.impact, hosted::Impact::Maintenance);
            assert!(m.scheduled_for.is_some() && m.scheduled_until.is_some());
        }
        assert_eq!(doc.page.id, status.page.id);
    }
    let summary: hosted::Summary =
        serde_json::from_value(app.public_json("/api/v2/summary.json").await)
            .expect("summary.json");
    summary.incidents.iter().for_each(check_incident);
    summary
        .scheduled_maintenances
        .iter()
        .for_each(check_incident);
    summary.components.iter().for_each(check_component);
    assert_eq!(summary.page.updated_at, status.page.updated_at);
    summary
}

fn component_status(summary: &hosted::Summary, id: &str) -> hosted::ComponentStatus {
    summary
        .components
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no component {id}"))
        .status
}

#[tokio::test]
async fn publish_update_and_resolve_through_the_page() {
    let app = spawn().await;
    // An empty page parses too, and says all is well.
    let summary = parse_everything(&app).await;
    assert_eq!(summary.status.indicator, hosted::Indicator::None);
    assert_eq!(summary.status.description, "All Systems Operational");
    assert!(summary.incidents.is_empty());
    // Groups come first, with their members; members point back.
    let platform = summary
        .components
        .iter()
        .find(|c| c.id == "platform")
        .expect("group");
    assert!(platform.group);
    assert_eq!(
        platform.components.as_deref(),
        Some(&["api".to_string(), "auth".to_string()][..])
    );
    let api = summary
        .components
        .iter()
        .find(|c| c.id == "api")
        .expect("api");
    assert_eq!(api.group_id.as_deref(), Some("platform"));

    let id = secret_laden_incident(&app).await;
    app.clock.advance(jiff::SignedDuration::from_mins(5));
    let (s, entry) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/publish"),
            json!({ "title": "Elevated API errors", "components": { "api": "major_outage" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["incident_id"], json!(id));
    let page_id = entry["id"].as_str().expect("page id").to_string();

    let summary = parse_everything(&app).await;
    assert_eq!(summary.status.indicator, hosted::Indicator::Critical);
    assert_eq!(summary.incidents.len(), 1);
    let published = &summary.incidents[0];
    assert_eq!(published.id, page_id);
    assert_eq!(published.name, "Elevated API errors");
    assert_eq!(published.status, hosted::IncidentStatus::Investigating);
    assert_eq!(published.impact, hosted::Impact::Critical);
    assert_eq!(published.incident_updates.len(), 1);
    let first = &published.incident_updates[0];
    assert_eq!(first.body, "We are investigating this issue.");
    assert_eq!(first.affected_components.len(), 1);
    assert_eq!(first.affected_components[0].code, "api");
    assert_eq!(first.affected_components[0].name, "Public API");
    assert_eq!(
        first.affected_components[0].new_status,
        hosted::ComponentStatus::MajorOutage
    );
    assert_eq!(
        component_status(&summary, "api"),
        hosted::ComponentStatus::MajorOutage
    );
    // The group shows its worst member.
    assert_eq!(
        component_status(&summary, "platform"),
        hosted::ComponentStatus::MajorOutage
    );
    let html = app.public("/status").await.text().await.expect("html");
    assert!(html.contains("Elevated API errors"));
    assert!(
        html.contains("Major outage"),
        "statuses are written in words"
    );
    assert!(html.contains("Active incidents"));
    assert!(!html.contains("<script"));
    assert_nothing_internal(&app.everything_public().await, &id);

    // Publishing twice is a conflict; the page keeps one entry.
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/publish"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");

    app.clock.advance(jiff::SignedDuration::from_mins(20));
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/updates"),
            json!({ "status": "monitoring", "message": "A fix is deployed; we are watching error rates.",
                    "components": { "api": "degraded_performance" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    app.clock.advance(jiff::SignedDuration::from_mins(30));
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/updates"),
            json!({ "status": "resolved", "message": "Error rates are back to normal." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    let summary = parse_everything(&app).await;
    assert!(
        summary.incidents.is_empty(),
        "summary lists unresolved only"
    );
    assert_eq!(summary.status.indicator, hosted::Indicator::None);
    assert_eq!(
        component_status(&summary, "api"),
        hosted::ComponentStatus::Operational,
        "resolving returns the incident's components to operational"
    );
    let all: hosted::Incidents =
        serde_json::from_value(app.public_json("/api/v2/incidents.json").await).expect("parse");
    assert_eq!(all.incidents.len(), 1);
    let done = &all.incidents[0];
    assert_eq!(done.status, hosted::IncidentStatus::Resolved);
    assert!(done.monitoring_at.is_some() && done.resolved_at.is_some());
    let statuses: Vec<hosted::IncidentStatus> =
        done.incident_updates.iter().map(|u| u.status).collect();
    assert_eq!(
        statuses,
        [
            hosted::IncidentStatus::Resolved,
            hosted::IncidentStatus::Monitoring,
            hosted::IncidentStatus::Investigating
        ]
    );
    let unresolved: hosted::Incidents =
        serde_json::from_value(app.public_json("/api/v2/incidents/unresolved.json").await)
            .expect("parse");
    assert!(unresolved.incidents.is_empty());
    let html = app.public("/status").await.text().await.expect("html");
    assert!(html.contains("Past incidents"));
    assert!(html.contains("Error rates are back to normal."));
    assert_nothing_internal(&app.everything_public().await, &id);

    // The timeline recorded every public step, in order.
    let (s, events) = app
        .call(Method::GET, &format!("/api/v1/incidents/{id}/events"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| k.starts_with("status_page"))
        .collect();
    assert_eq!(
        kinds,
        [
            "status_page_published",
            "status_page_updated",
            "status_page_updated"
        ]
    );
    let (s, verify) = app.call(Method::GET, "/api/v1/verify", None).await;
    assert_eq!(
        (s, &verify["ok"]),
        (StatusCode::OK, &json!(true)),
        "{verify}"
    );
    app.stop().await;
}

#[tokio::test]
async fn restricted_incidents_never_appear_anywhere_public() {
    let app = spawn().await;
    let secret = app
        .declare(json!({ "title": "INTERNAL-TITLE attacker in payroll", "severity": "P1", "restricted": true }))
        .await;
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{secret}/publish"),
            json!({ "title": "Payroll maintenance" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .expect("message")
            .contains("restricted")
    );
    let public = app.everything_public().await;
    assert!(!public.contains("Payroll maintenance"));

    // Published while normal, then classified restricted: gone from every public answer and
    // from the admin list, and further updates are refused.
    let id = secret_laden_incident(&app).await;
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/publish"),
            json!({ "title": "Checkout is slow", "components": { "payments": "degraded_performance" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert!(app.everything_public().await.contains("Checkout is slow"));
    let entry_page = format!("/status/incidents/{}", b["id"].as_str().expect("page id"));
    let html = app.public(&entry_page).await.text().await.expect("html");
    assert!(html.contains("Checkout is slow"), "{html}");
    assert_nothing_internal(&html, &id);
    let (s, b) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some(json!({ "restricted": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        app.public(&entry_page).await.status(),
        StatusCode::NOT_FOUND
    );
    let public = app.everything_public().await;
    assert!(
        !public.contains("Checkout is slow"),
        "a restricted incident vanished"
    );
    assert_nothing_internal(&public, &id);
    let summary = parse_everything(&app).await;
    assert!(summary.incidents.is_empty());
    let (s, list) = app
        .call(Method::GET, "/api/v1/statuspage/incidents", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["incidents"], json!([]));
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/updates"),
            json!({ "message": "still slow" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    app.stop().await;
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    resp.headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ascii")
        .to_string()
}

#[tokio::test]
async fn answers_carry_etags_and_short_public_caching() {
    let app = spawn().await;
    let mut tags = Vec::new();
    for path in PUBLIC_JSON
        .iter()
        .chain(PUBLIC_TEXT)
        .chain(&["/status/style.css"])
    {
        let first = app.public(path).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let tag = header(&first, ETAG);
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
            "{tag}"
        );
        assert_eq!(header(&first, CACHE_CONTROL), "public, max-age=30");
        let body = first.bytes().await.expect("body");
        // Same state, same bytes, same tag.
        let again = app.public(path).await;
        assert_eq!(header(&again, ETAG), tag, "{path}");
        assert_eq!(again.bytes().await.expect("body"), body);
        let revalidated = app
            .http
            .get(format!("{}{path}", app.base))
            .header(IF_NONE_MATCH, format!("\"nope\", {tag}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&revalidated, ETAG), tag);
        assert!(revalidated.bytes().await.expect("body").is_empty());
        tags.push((path.to_string(), tag));
    }
    let page = app.public("/status").await;
    assert!(header(&page, CONTENT_TYPE).starts_with("text/html"));
    let csp = header(&page, CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("default-src 'none'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    assert!(
        header(&app.public("/status/history.atom").await, CONTENT_TYPE)
            .starts_with("application/atom+xml")
    );
    // The private API is still never cached.
    let private = app
        .http
        .get(format!("{}/api/v1/statuspage/components", app.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("sent");
    assert_eq!(header(&private, CACHE_CONTROL), "no-store");

    // A change makes the old tags stale: the same If-None-Match now gets the new body (every
    // answer carries the page's last change time).
    app.clock.advance(jiff::SignedDuration::from_mins(1));
    let (s, b) = app
        .post(
            "/api/v1/statuspage/components/web",
            json!({ "status": "partial_outage" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, listed) = app
        .call(Method::GET, "/api/v1/statuspage/components", None)
        .await;
    let web = listed["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["id"] == "web")
        .expect("web")
        .clone();
    assert_eq!(web["updated_by"], "admin", "who changed it is kept: {web}");
    for (path, old) in tags {
        if path.ends_with(".css") {
            continue;
        }
        let resp = app
            .http
            .get(format!("{}{path}", app.base))
            .header(IF_NONE_MATCH, &old)
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_ne!(header(&resp, ETAG), old, "{path}");
    }
    let status: hosted::StatusDoc =
        serde_json::from_value(app.public_json("/api/v2/status.json").await).expect("parse");
    assert_eq!(status.status.indicator, hosted::Indicator::Major);
    assert_eq!(status.status.description, "Partial System Outage");
    app.stop().await;
}

#[tokio::test]
async fn maintenance_is_announced_started_and_completed() {
    let app = spawn().await;
    let (s, m) = app
        .post(
            "/api/v1/statuspage/maintenances",
            json!({ "title": "Database upgrade", "components": ["api", "payments"],
                    "scheduled_for": "2026-11-26T02:00:00Z", "scheduled_until": "2026-11-26T04:00:00Z" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let mid = m["id"].as_str().expect("id").to_string();
    let upcoming: hosted::Maintenances = serde_json::from_value(
        app.public_json("/api/v2/scheduled-maintenances/upcoming.json")
            .await,
    )
    .expect("parse");
    assert_eq!(upcoming.scheduled_maintenances.len(), 1);
    assert_eq!(
        upcoming.scheduled_maintenances[0].scheduled_for.as_deref(),
        Some("2026-11-26T02:00:00.000+00:00")
    );
    assert!(
        app.public("/status")
            .await
            .text()
            .await
            .expect("html")
            .contains("Scheduled maintenance")
    );

    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/maintenances/{mid}/updates"),
            json!({ "status": "in_progress", "message": "Work has started." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let summary = parse_everything(&app).await;
    assert_eq!(
        component_status(&summary, "payments"),
        hosted::ComponentStatus::UnderMaintenance
    );
    assert_eq!(summary.status.description, "Service Under Maintenance");
    assert_eq!(summary.scheduled_maintenances.len(), 1);
    let active: hosted::Maintenances = serde_json::from_value(
        app.public_json("/api/v2/scheduled-maintenances/active.json")
            .await,
    )
    .expect("parse");
    assert_eq!(
        active.scheduled_maintenances[0].status,
        hosted::IncidentStatus::InProgress
    );

    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/maintenances/{mid}/updates"),
            json!({ "status": "completed", "message": "Done." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let summary = parse_everything(&app).await;
    assert!(summary.scheduled_maintenances.is_empty());
    assert_eq!(
        component_status(&summary, "payments"),
        hosted::ComponentStatus::Operational
    );
    let all: hosted::Maintenances =
        serde_json::from_value(app.public_json("/api/v2/scheduled-maintenances.json").await)
            .expect("parse");
    assert_eq!(
        all.scheduled_maintenances[0].status,
        hosted::IncidentStatus::Completed
    );
    let (s, b) = app
        .post(
            "/api/v1/statuspage/maintenances/sm_nope/updates",
            json!({ "status": "completed", "message": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_name_their_field() {
    let app = spawn().await;
    let id = app
        .declare(json!({ "title": "Errors", "severity": "P2" }))
        .await;
    let publish = format!("/api/v1/statuspage/incidents/{id}/publish");
    for (body, field) in [
        (
            json!({ "components": { "nope": "major_outage" } }),
            "components.nope",
        ),
        (json!({ "components": { "api": "down" } }), "components.api"),
        (json!({ "status": "fixed" }), "status"),
        (json!({ "title": "  " }), "title"),
        (json!({ "title": "x".repeat(201) }), "title"),
        (json!({ "message": "" }), "message"),
        (json!({ "message": "bell \u{7}" }), "message"),
        (json!({ "title": "two\nlines" }), "title"),
        (json!({ "colour": "red" }), "colour"),
    ] {
        let (s, b) = app.post(&publish, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {b}");
        assert_eq!(b["error"]["field"], json!(field), "{body}: {b}");
    }
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/updates"),
            json!({ "message": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "not published yet: {b}");
    let (s, b) = app
        .post(
            "/api/v1/statuspage/incidents/INC-20261125-999/publish",
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, b) = app
        .post("/api/v1/statuspage/incidents/not-an-id/publish", json!({}))
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::BAD_REQUEST, &json!("id")),
        "{b}"
    );
    let (s, b) = app
        .post(
            "/api/v1/statuspage/components/nope",
            json!({ "status": "major_outage" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, b) = app
        .post(
            "/api/v1/statuspage/maintenances",
            json!({ "title": "Upgrade", "scheduled_for": "2026-11-26T04:00:00Z", "scheduled_until": "2026-11-26T02:00:00Z" }),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("scheduled_until")),
        "{b}"
    );
    // Nothing reached the page.
    let summary = parse_everything(&app).await;
    assert!(summary.incidents.is_empty() && summary.scheduled_maintenances.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn the_feed_keeps_entry_ids_stable_and_escapes_text() {
    let app = spawn().await;
    let id = app
        .declare(json!({ "title": "Errors", "severity": "P2" }))
        .await;
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/publish"),
            json!({ "title": "Login <b>errors</b> & retries", "message": "We're on it <script>alert(1)</script>" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let entry_ids = |feed: &str| -> BTreeSet<String> {
        feed.split("<entry>")
            .skip(1)
            .filter_map(|e| e.split("<id>").nth(1))
            .filter_map(|e| e.split("</id>").next())
            .map(str::to_string)
            .collect()
    };
    let before = app
        .public("/status/history.atom")
        .await
        .text()
        .await
        .expect("feed");
    assert_eq!(entry_ids(&before).len(), 1);
    assert!(entry_ids(&before).iter().all(|i| i.starts_with("tag:")));
    assert!(!before.contains("<script>") && !before.contains("<b>"));
    app.clock.advance(jiff::SignedDuration::from_mins(10));
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/updates"),
            json!({ "status": "identified", "message": "Found it." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let after = app
        .public("/status/history.atom")
        .await
        .text()
        .await
        .expect("feed");
    assert_eq!(entry_ids(&after), entry_ids(&before));
    assert!(after.contains("Found it."));
    assert_ne!(after, before);
    let html = app.public("/status").await.text().await.expect("html");
    assert!(html.contains("Login &lt;b&gt;errors&lt;/b&gt; &amp; retries"));
    assert!(!html.contains("<script>alert"));
    app.stop().await;
}

#[tokio::test]
async fn the_demo_is_on_the_status_page() {
    let app = spawn_with(true, None).await;
    let html = app.public("/status").await.text().await.expect("html");
    assert!(html.contains("Login problems for some customers"), "{html}");
    assert!(html.contains("Checkout failing for some customers"));
    assert!(
        !html.contains("Credential stuffing"),
        "internal titles stay internal"
    );
    let summary = parse_everything(&app).await;
    assert_eq!(summary.incidents.len(), 1);
    assert_eq!(summary.status.indicator, hosted::Indicator::Minor);
    app.stop().await;
}

#[tokio::test]
async fn the_page_works_on_postgres() {
    let cluster = warroom_store::testing::PgCluster::shared().expect("postgres cluster");
    let app = spawn_with(
        false,
        Some(cluster.fresh_database().await.expect("database")),
    )
    .await;
    let id = secret_laden_incident(&app).await;
    let (s, b) = app
        .post(
            &format!("/api/v1/statuspage/incidents/{id}/publish"),
            json!({ "components": { "auth": "partial_outage" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let summary = parse_everything(&app).await;
    assert_eq!(summary.incidents[0].name, "Service disruption");
    assert_eq!(summary.status.indicator, hosted::Indicator::Major);
    assert_nothing_internal(&app.everything_public().await, &id);
    app.stop().await;
}
