//! The HTTP API through the real server: a fresh database and server per test, real requests.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warroom_core::{Config, ManualClock};
use warroom_server::routes::ROUTES;
use warroom_server::{Running, ServeOptions};

struct TestApp {
    base: String,
    admin: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
    database_url: Option<String>,
    running: Option<Running>,
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The built-in config plus two small playbooks: `probe` attaches to incidents labelled
/// `probe=yes`, `manual`
/// only by hand.
fn test_config() -> Config {
    let playbooks = r#"
playbooks:
  - id: probe
    title: Probe playbook
    triggers: {severity: P0..P3, labels: {probe: "yes"}}
    params: [{name: ip_address, description: Attacker address}]
    phases:
      - id: contain
        title: Contain
        time_box: 0-15m
        tasks:
          - id: check
            text: Block the address at the edge.
            owner: technical-lead
            commands: ["nft add rule inet filter input ip saddr {{ip_address}} drop # {{incident_id}} {{service}}"]
          - id: tell
            text: Tell the channel.
            owner: communications-lead
      - id: post-incident
        title: Review
        time_box: within 48h of resolve
        tasks:
          - id: review
            text: Hold the review.
            owner: incident-commander
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
        "test-playbooks.yaml",
        playbooks,
    )])
    .expect("test config")
}

async fn spawn_on(database_url: Option<String>) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        "2026-11-22T10:00:00Z".parse().expect("time"),
    ));
    let running = warroom_server::start(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: database_url.clone(),
            config: test_config(),
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
    let admin = running
        .created_admin_token
        .clone()
        .expect("first start creates the admin token");
    TestApp {
        base: format!("http://{}", running.addr),
        admin,
        http: client(),
        clock,
        dir,
        database_url,
        running: Some(running),
    }
}

async fn spawn() -> TestApp {
    spawn_on(None).await
}

async fn spawn_postgres() -> TestApp {
    let cluster = warroom_store::testing::PgCluster::shared().expect("postgres cluster");
    spawn_on(Some(cluster.fresh_database().await.expect("database"))).await
}

impl TestApp {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(&self.admin), None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(&self.admin), Some(body))
            .await
    }

    async fn token(&self, name: &str, role: &str, security: bool) -> String {
        let (status, body) = self
            .post(
                "/api/v1/tokens",
                json!({ "name": name, "role": role, "security": security }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("token").to_string()
    }

    async fn declare(&self, token: &str, body: Value) -> String {
        let (status, inc) = self
            .call(Method::POST, "/api/v1/incidents", Some(token), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{inc}");
        inc["id"].as_str().expect("id").to_string()
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn the_readme_tour_works_over_http() {
    let app = spawn().await;
    let id = app
        .declare(
            &app.admin,
            json!({ "title": "Login failures spike", "severity": "P1", "type": "security-breach", "services": ["auth"], "labels": { "region": "eu" } }),
        )
        .await;
    assert_eq!(id, "INC-20261122-001");
    app.clock.advance(SignedDuration::from_mins(4));
    let (s, inc) = app
        .post(&format!("/api/v1/incidents/{id}/acknowledge"), json!({}))
        .await;
    assert_eq!(
        (s, inc["status"].as_str()),
        (StatusCode::OK, Some("investigating")),
        "{inc}"
    );
    assert_eq!(inc["acknowledged_at"], "2026-11-22T10:04:00Z");
    let (s, inc) = app
        .post(
            &format!("/api/v1/incidents/{id}/roles"),
            json!({ "role": "incident-commander", "person": "alice" }),
        )
        .await;
    assert_eq!(
        (s, &inc["roles"]["incident-commander"]),
        (StatusCode::OK, &json!("alice"))
    );
    let (s, _) = app
        .post(
            &format!("/api/v1/incidents/{id}/notes"),
            json!({ "text": "Blocked 203.0.113.7 at the edge" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, inc) = app
        .post(
            &format!("/api/v1/incidents/{id}/severity"),
            json!({ "severity": "P0", "reason": "customer data exposed" }),
        )
        .await;
    assert_eq!((s, inc["severity"].as_str()), (StatusCode::OK, Some("P0")));
    let (s, inc) = app
        .post(
            &format!("/api/v1/incidents/{id}/status"),
            json!({ "status": "contained" }),
        )
        .await;
    assert_eq!(
        (s, inc["status"].as_str()),
        (StatusCode::OK, Some("contained"))
    );
    let (s, inc) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some(&app.admin),
            Some(json!({
                "root_cause": "Reused passwords from a third-party breach",
                "impact": { "users_affected": 1200, "data_affected": "profiles" },
                "links": { "ticket": "SEC-1" },
                "labels": { "region": null, "vector": "credential-stuffing" }
            })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{inc}");
    assert_eq!(inc["labels"], json!({ "vector": "credential-stuffing" }));
    let (s, inc) = app
        .post(
            &format!("/api/v1/incidents/{id}/resolve"),
            json!({ "summary": "Credential stuffing blocked; passwords reset" }),
        )
        .await;
    assert_eq!(
        (s, inc["status"].as_str()),
        (StatusCode::OK, Some("resolved"))
    );
    let (s, inc) = app
        .post(&format!("/api/v1/incidents/{id}/close"), json!({}))
        .await;
    assert_eq!(
        (s, inc["status"].as_str()),
        (StatusCode::OK, Some("closed"))
    );

    let (s, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "paged",
            "acknowledged",
            "status_changed",
            "role_assigned",
            "note_added",
            "severity_changed",
            "status_changed",
            "labels_changed",
            "impact_updated",
            "root_cause_set",
            "links_updated",
            "resolved",
            "closed"
        ]
    );

    let md = app
        .http
        .get(format!(
            "{}/api/v1/incidents/{id}/export?format=md",
            app.base
        ))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("md");
    assert_eq!(md.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = md.text().await.expect("text");
    for needle in [
        "# INC-20261122-001: Login failures spike",
        "| incident-commander | alice |",
        "1200 users",
        "Blocked 203.0.113.7",
        "## Root cause",
        "Reused passwords",
        "## Resolution",
        "passwords reset",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
    let csv = app
        .http
        .get(format!(
            "{}/api/v1/incidents/{id}/export?format=csv",
            app.base
        ))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    assert!(
        csv.starts_with("time,sequence,event,actor,details,hash\r\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 15);
    let (s, exported) = app
        .get(&format!("/api/v1/incidents/{id}/export?format=json"))
        .await;
    assert_eq!(
        (s, &exported["incident"]["id"]),
        (StatusCode::OK, &json!(id))
    );

    let (s, list) = app
        .get("/api/v1/incidents?status=closed&severity=P0,P1")
        .await;
    assert_eq!(
        (s, list["incidents"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let (_, list) = app.get("/api/v1/incidents?status=open").await;
    assert_eq!(list["incidents"].as_array().map(Vec::len), Some(0));

    let (s, report) = app.get("/api/v1/verify").await;
    assert_eq!(
        (s, &report["ok"], &report["events_checked"]),
        (StatusCode::OK, &json!(true), &json!(14))
    );
    app.stop().await;
}

// Which role each route needs, and what no token, a bogus, expired, revoked or wrong-scope
// token gets, is the table-driven matrix in tests/authz.rs (it fails on a route it does not
// list).

#[tokio::test]
async fn openapi_documents_exactly_the_routes() {
    let app = spawn().await;
    let (s, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("ops").keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let mut table: Vec<String> = ROUTES
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    table.sort();
    assert_eq!(documented, table);
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().expect("name");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
    // And an undocumented path really is not served.
    let (s, b) = app.get("/api/v1/incidents/INC-20261122-001/nonsense").await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_never_a_panic() {
    let app = spawn().await;
    let id = app
        .declare(&app.admin, json!({ "title": "Target", "severity": "P2" }))
        .await;
    let url = |p: &str| format!("{}{p}", app.base);
    let raw = |body: &'static str, ctype: Option<&'static str>| {
        let mut req = app
            .http
            .post(url("/api/v1/incidents"))
            .bearer_auth(&app.admin)
            .body(body);
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        async move {
            let resp = req.send().await.expect("sent");
            let status = resp.status();
            (status, resp.json::<Value>().await.expect("json error body"))
        }
    };
    let (s, b) = raw("{\"title\": ", Some("application/json")).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "malformed_json");
    let (s, b) = raw(
        "{\"title\": \"x\", \"severity\": \"P1\", \"colour\": \"red\"}",
        Some("application/json"),
    )
    .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(b["error"]["field"], "colour");
    let (s, b) = raw("{\"title\": \"x\", \"severity\": \"P1\"}", None).await;
    assert_error(
        s,
        &b,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let (s, b) = raw("[1, 2]", Some("application/json")).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");

    let (s, b) = app
        .post(
            "/api/v1/incidents",
            json!({ "title": "x", "severity": "P9" }),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(b["error"]["field"], "severity");
    let (s, b) = app
        .post(
            "/api/v1/incidents",
            json!({ "title": "   ", "severity": "P1" }),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("title"))
    );
    let (s, b) = app
        .post(
            "/api/v1/incidents",
            json!({ "title": "x", "severity": "P1", "services": ["autth"] }),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("services"))
    );
    let (s, b) = app
        .post(
            "/api/v1/incidents",
            json!({ "title": "x", "severity": "P1", "impact": { "users_affected": -5 } }),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("impact.users_affected")
        )
    );
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/status"),
            json!({ "status": "sleeping" }),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("status"))
    );

    let big = "x".repeat(70 * 1024);
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/notes"),
            json!({ "text": big }),
        )
        .await;
    assert_error(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    let (s, b) = app.get("/api/v1/incidents/not-an-id").await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    let (s, b) = app.get("/api/v1/incidents/INC-20261122-999").await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = app
        .post("/api/v1/incidents/INC-20261122-999/acknowledge", json!({}))
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = app.get("/api/v1/nope").await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = app
        .call(Method::PUT, "/api/v1/incidents", Some(&app.admin), None)
        .await;
    assert_error(s, &b, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    for query in [
        "colour=red",
        "limit=0",
        "limit=abc",
        "status=sleeping",
        "label=novalue",
        "since=yesterday",
        "cursor=zzz",
    ] {
        let (s, b) = app.get(&format!("/api/v1/incidents?{query}")).await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    }
    let (s, b) = app
        .get(&format!("/api/v1/incidents/{id}/export?format=pdf"))
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");

    // State conflicts are 409, and nothing was written by any of the refusals above.
    let (s, _) = app
        .post(&format!("/api/v1/incidents/{id}/acknowledge"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app
        .post(&format!("/api/v1/incidents/{id}/acknowledge"), json!({}))
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (s, b) = app
        .post(&format!("/api/v1/incidents/{id}/close"), json!({}))
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (_, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    assert_eq!(events["events"].as_array().map(Vec::len), Some(3));
    let (s, _) = app.get("/health/ready").await;
    assert_eq!(s, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn restricted_incidents_are_invisible_to_outsiders() {
    let app = spawn().await;
    let reporter = app.token("sec-alice", "responder", false).await;
    let outsider = app.token("mallory", "commander", false).await;
    let security = app.token("sam", "viewer", true).await;
    let id = app
        .declare(&reporter, json!({ "title": "Exfiltration from billing", "severity": "P0", "type": "data-breach", "restricted": true }))
        .await;
    app.declare(
        &outsider,
        json!({ "title": "Slow search", "severity": "P3" }),
    )
    .await;

    for path in [
        format!("/api/v1/incidents/{id}"),
        format!("/api/v1/incidents/{id}/events"),
        format!("/api/v1/incidents/{id}/export?format=md"),
    ] {
        let (s, b) = app.call(Method::GET, &path, Some(&outsider), None).await;
        assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    }
    let (s, b) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{id}/notes"),
            Some(&outsider),
            Some(json!({ "text": "peek" })),
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    for query in ["", "?q=billing", "?type=data-breach", "?severity=P0"] {
        let (_, list) = app
            .call(
                Method::GET,
                &format!("/api/v1/incidents{query}"),
                Some(&outsider),
                None,
            )
            .await;
        assert!(!list.to_string().contains(&id), "{query}: {list}");
    }
    for token in [&reporter, &security, &app.admin] {
        let (s, _) = app
            .call(
                Method::GET,
                &format!("/api/v1/incidents/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, list) = app
            .call(
                Method::GET,
                "/api/v1/incidents?q=billing",
                Some(token),
                None,
            )
            .await;
        assert_eq!(list["incidents"].as_array().map(Vec::len), Some(1));
    }
    // Assigning someone a role lets them in.
    let (s, _) = app
        .post(
            &format!("/api/v1/incidents/{id}/roles"),
            json!({ "role": "technical-lead", "person": "mallory" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/incidents/{id}"),
            Some(&outsider),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.stop().await;
}

async fn fifty_concurrent_declares(app: &TestApp) {
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (http, url, token) = (
            app.http.clone(),
            format!("{}/api/v1/incidents", app.base),
            app.admin.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "title": format!("Storm {i}"), "severity": "P2" }))
                .send()
                .await
                .expect("sent");
            assert_eq!(resp.status(), StatusCode::CREATED);
            resp.json::<Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
                .to_string()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("task"));
    }
    ids.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("INC-20261122-{n:03}")).collect();
    assert_eq!(ids, expected);
}

async fn concurrent_notes_keep_one_chain(app: &TestApp) {
    let id = app
        .declare(
            &app.admin,
            json!({ "title": "Hot incident", "severity": "P2" }),
        )
        .await;
    let mut tasks = Vec::new();
    for i in 0..25 {
        let (http, url, token) = (
            app.http.clone(),
            format!("{}/api/v1/incidents/{id}/notes", app.base),
            app.admin.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "text": format!("note {i}") }))
                .send()
                .await
                .expect("sent");
            assert_eq!(resp.status(), StatusCode::CREATED);
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let (_, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    let seqs: Vec<u64> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(seqs, (1..=26).collect::<Vec<u64>>());
    let (_, report) = app.get("/api/v1/verify").await;
    assert_eq!(report["ok"], true, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_on_sqlite() {
    let app = spawn().await;
    fifty_concurrent_declares(&app).await;
    concurrent_notes_keep_one_chain(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_on_postgres() {
    let app = spawn_postgres().await;
    fifty_concurrent_declares(&app).await;
    concurrent_notes_keep_one_chain(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn admin_token_is_private_and_made_once() {
    let app = spawn().await;
    let path = app.dir.path().join("admin.token");
    let on_disk = std::fs::read_to_string(&path).expect("token file");
    assert_eq!(on_disk.trim(), app.admin);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (s, me) = app.get("/api/v1/whoami").await;
    assert_eq!((s, &me["role"]), (StatusCode::OK, &json!("admin")));
    // Its making is on the audit log, by the server itself.
    let (s, audit) = app
        .get("/api/v1/audit?since=2000-01-01T00:00:00Z&action=credential_change")
        .await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    let made: Vec<&Value> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["actor"] == "warroom")
        .collect();
    assert_eq!(made.len(), 1, "{audit}");
    let target = made[0]["target"].as_str().expect("target");
    assert!(
        target.starts_with("tok_") && target.contains("created (first admin token"),
        "{target}"
    );
    // The database holds only a hash of it.
    let db = std::fs::read(app.dir.path().join("warroom.db")).expect("db file");
    assert!(
        !db.windows(app.admin.len())
            .any(|w| w == app.admin.as_bytes())
    );

    let (dir, url) = (app.dir.path().to_path_buf(), app.database_url.clone());
    let clock = app.clock.clone();
    let keep = app.dir;
    if let Some(r) = app.running {
        r.stop().await;
    }
    let again = warroom_server::start(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir,
            database_url: url,
            config: Config::builtin(),
            demo: false,
            engine: false,
            grafana_signature: None,
            metrics_public: false,
            secure_cookies: false,
        },
        clock,
    )
    .await
    .expect("restarts");
    assert!(again.created_admin_token.is_none());
    again.stop().await;
    drop(keep);
}

#[tokio::test]
async fn verify_over_http_reports_tampering() {
    let app = spawn().await;
    let id = app
        .declare(&app.admin, json!({ "title": "Evidence", "severity": "P1" }))
        .await;
    app.post(
        &format!("/api/v1/incidents/{id}/notes"),
        json!({ "text": "attacker IP 198.51.100.4" }),
    )
    .await;
    let url = format!("sqlite://{}", app.dir.path().join("warroom.db").display());
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("raw connection");
    sqlx::query("UPDATE events SET actor = 'someone-else' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .expect("tamper");
    let (s, report) = app.get("/api/v1/verify").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(report["ok"], false);
    assert_eq!(report["broken"][0]["incident_id"], json!(id));
    assert_eq!(report["broken"][0]["seq"], 2);
    app.stop().await;
}

#[tokio::test]
async fn demo_seed_is_valid_and_runs_once() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::new(
        Timestamp::from_second(1_795_000_000).expect("time"),
    ));
    let options = ServeOptions {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        config: Config::builtin(),
        demo: true,
        engine: false,
        grafana_signature: None,
        metrics_public: false,
        secure_cookies: false,
    };
    let running = warroom_server::start(options.clone(), clock.clone())
        .await
        .expect("starts");
    let token = running.created_admin_token.clone().expect("token");
    let http = client();
    let base = format!("http://{}", running.addr);
    let list: Value = http
        .get(format!("{base}/api/v1/incidents"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let incidents = list["incidents"].as_array().expect("incidents");
    let statuses: Vec<&str> = incidents
        .iter()
        .filter_map(|i| i["status"].as_str())
        .collect();
    assert_eq!(statuses, ["contained", "resolved", "closed"]);
    assert_eq!(incidents[0]["severity"], "P0");
    assert_eq!(
        incidents[0]["playbooks"][0]["playbook"]["id"],
        "unauthorized-access"
    );
    assert_eq!(
        incidents[0]["playbooks"][0]["progress"]
            .as_object()
            .map(|p| p.len()),
        Some(4)
    );
    // The resolved outage left a follow-up action item, due in a week.
    assert_eq!(incidents[1]["actions"][0]["id"], "A1", "{}", incidents[1]);
    assert_eq!(incidents[1]["actions"][0]["status"], "open");
    let report: Value = http
        .get(format!("{base}/api/v1/verify"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(report["ok"], true);
    // The live incident's alerts join it on the engine's first pass.
    running
        .engine
        .process_alerts()
        .await
        .expect("alerts linked");
    let alerts: Value = http
        .get(format!("{base}/api/v1/alerts"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("alerts")
        .json()
        .await
        .expect("json");
    let alerts = alerts["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 3);
    assert!(
        alerts
            .iter()
            .all(|a| a["incident_id"] == incidents[0]["id"]),
        "{alerts:?}"
    );
    running.stop().await;
    let again = warroom_server::start(options, clock)
        .await
        .expect("restarts");
    let list: Value = http
        .get(format!("http://{}/api/v1/incidents", again.addr))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["incidents"].as_array().map(Vec::len), Some(3));
    again.stop().await;
}

#[tokio::test]
async fn playbooks_attach_and_checklists_run_over_http() {
    let app = spawn().await;
    let id = app
        .declare(&app.admin, json!({ "title": "Credential stuffing", "severity": "P1", "services": ["auth"], "labels": { "probe": "yes" } }))
        .await;
    let (_, inc) = app.get(&format!("/api/v1/incidents/{id}")).await;
    let attached: Vec<&str> = inc["playbooks"]
        .as_array()
        .expect("playbooks")
        .iter()
        .filter_map(|a| a["playbook"]["id"].as_str())
        .collect();
    assert_eq!(attached, ["probe"]);
    let (_, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    assert_eq!(events["events"][1]["kind"], "playbook_attached");
    assert_eq!(events["events"][1]["data"]["automatic"], true);

    // Commands render with the incident's values; an unknown param is a visible marker.
    let (s, tasks) = app.get(&format!("/api/v1/incidents/{id}/tasks")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        tasks["tasks"][0]["commands"][0],
        json!(format!(
            "nft add rule inet filter input ip saddr <IP_ADDRESS> drop # {id} auth"
        ))
    );
    assert_eq!(tasks["overdue"], 0);
    let (_, tasks) = app
        .get(&format!(
            "/api/v1/incidents/{id}/tasks?param=ip_address%3D203.0.113.7"
        ))
        .await;
    assert_eq!(
        tasks["tasks"][0]["commands"][0],
        json!(format!(
            "nft add rule inet filter input ip saddr 203.0.113.7 drop # {id} auth"
        ))
    );

    // Past the 15-minute time box, open tasks are overdue; the post-incident one is not due yet.
    app.clock.advance(SignedDuration::from_mins(16));
    let (_, tasks) = app.get(&format!("/api/v1/incidents/{id}/tasks")).await;
    assert_eq!(tasks["overdue"], 2, "{tasks}");
    assert!(tasks["tasks"][2].get("due_at").is_none(), "{tasks}");

    let (s, _) = app
        .post(
            &format!("/api/v1/incidents/{id}/playbooks/probe/tasks/check/done"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/playbooks/probe/tasks/check/done"),
            json!({}),
        )
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/playbooks/probe/tasks/tell/skip"),
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("reason"))
    );
    let (s, _) = app
        .post(
            &format!("/api/v1/incidents/{id}/playbooks/probe/tasks/tell/skip"),
            json!({ "reason": "channel is down" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/playbooks/probe/tasks/nope/done"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("task"))
    );
    let (_, tasks) = app.get(&format!("/api/v1/incidents/{id}/tasks")).await;
    assert_eq!(tasks["overdue"], 0, "{tasks}");
    assert_eq!(tasks["tasks"][1]["state"], "skipped");
    assert_eq!(tasks["tasks"][1]["reason"], "channel is down");

    // Resolving starts the post-incident clock.
    app.post(
        &format!("/api/v1/incidents/{id}/resolve"),
        json!({ "summary": "blocked" }),
    )
    .await;
    app.clock.advance(SignedDuration::from_hours(49));
    let (_, tasks) = app.get(&format!("/api/v1/incidents/{id}/tasks")).await;
    assert_eq!(tasks["tasks"][2]["overdue"], true, "{tasks}");

    // Manual attach and detach; a detached playbook does not come back by itself.
    let (s, _) = app
        .post(
            &format!("/api/v1/incidents/{id}/playbooks"),
            json!({ "playbook": "manual" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/playbooks"),
            json!({ "playbook": "nope" }),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("playbook"))
    );
    let (s, _) = app
        .post(
            &format!("/api/v1/incidents/{id}/playbooks/probe/detach"),
            json!({ "reason": "wrong scenario" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, inc) = app
        .post(
            &format!("/api/v1/incidents/{id}/reopen"),
            json!({ "reason": "again" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{inc}");
    let (s, inc) = app
        .post(
            &format!("/api/v1/incidents/{id}/severity"),
            json!({ "severity": "P0" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let attached: Vec<&str> = inc["playbooks"]
        .as_array()
        .expect("playbooks")
        .iter()
        .filter_map(|a| a["playbook"]["id"].as_str())
        .collect();
    assert_eq!(attached, ["manual"]);

    let md = app
        .http
        .get(format!(
            "{}/api/v1/incidents/{id}/export?format=md",
            app.base
        ))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("md")
        .text()
        .await
        .expect("text");
    assert!(md.contains("## Playbooks"), "{md}");
    assert!(md.contains("### Manual only (`manual`)"), "{md}");
    assert!(md.contains("playbook_detached"), "{md}");
    let (_, report) = app.get("/api/v1/verify").await;
    assert_eq!(report["ok"], true);
    app.stop().await;
}

#[tokio::test]
async fn triage_suggests_a_severity_over_http() {
    let app = spawn().await;
    let (s, q) = app.get("/api/v1/triage").await;
    assert_eq!(s, StatusCode::OK);
    let keys: Vec<&str> = q["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .filter_map(|q| q["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "security-breach",
            "service-down",
            "core-degraded",
            "slow-responses",
            "non-core-only",
            "workaround"
        ]
    );
    let (s, got) = app
        .post(
            "/api/v1/triage",
            json!({ "answers": { "service-down": true, "workaround": true } }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["severity"], "P2");
    assert_eq!(got["reasons"].as_array().map(Vec::len), Some(2));
    let (s, b) = app
        .post(
            "/api/v1/triage",
            json!({ "answers": { "is-it-bad": true } }),
        )
        .await;
    assert_eq!(
        (s, &b["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("answers"))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_engine_records_missed_targets_and_phase_deadlines() {
    let app = spawn().await;
    let id = app
        .declare(
            &app.admin,
            json!({ "title": "Nobody home", "severity": "P1", "labels": { "probe": "yes" } }),
        )
        .await;
    let engine = app.running.as_ref().expect("running").engine.clone();
    // Status-update reminders and delayed notification rules fire on their own clocks (tested
    // elsewhere); this test follows escalation, targets and phases.
    let paging = |fired: &[warroom_store::FiredTimer]| {
        fired
            .iter()
            .filter(|f| {
                f.events > 0
                    && !matches!(
                        f.timer.kind,
                        warroom_core::timer::TimerKind::UpdateReminder
                            | warroom_core::timer::TimerKind::NotificationRule { .. }
                    )
            })
            .count()
    };
    app.clock.advance(SignedDuration::from_mins(20));
    // 15 minutes without an acknowledgement: the default policy's first step is over, and so
    // is the probe playbook's 0-15m phase with both tasks open. The 30-minute acknowledgement
    // target is not yet missed.
    let fired = engine.tick().await.expect("tick");
    assert_eq!(paging(&fired), 2, "{fired:?}");
    app.clock.advance(SignedDuration::from_mins(15));
    // Missing the target is recorded and escalates at once (second pass of the policy).
    let fired = engine.tick().await.expect("tick");
    assert_eq!(paging(&fired), 1, "{fired:?}");
    assert!(engine.tick().await.expect("tick").is_empty());

    let (_, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    let events = events["events"].as_array().expect("events").clone();
    let events: Vec<Value> = events
        .into_iter()
        // Whether the example people's webhook (127.0.0.1:9099) answers depends on the machine;
        // delivery outcomes are tested elsewhere.
        .filter(|e| {
            !matches!(
                e["kind"].as_str(),
                Some(
                    "update_due" | "page_repeated" | "notification_delivered" | "notification_dead"
                )
            )
        })
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "playbook_attached",
            "paged",
            "paged",
            "phase_deadline_passed",
            "acknowledge_target_missed",
            "paged"
        ]
    );
    let steps: Vec<u64> = events
        .iter()
        .filter(|e| e["kind"] == "paged")
        .filter_map(|e| e["data"]["step"].as_u64())
        .collect();
    assert_eq!(steps, [0, 1, 2]);
    assert_eq!(events[3]["actor"], "warroom");
    assert_eq!(events[4]["data"]["open_tasks"], json!(["check", "tell"]));
    assert_eq!(events[6]["data"]["pass"], 1);
    // Acknowledging stops the escalation: nothing fires however long nobody else answers.
    let (s, _) = app
        .post(&format!("/api/v1/incidents/{id}/acknowledge"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    app.clock.advance(SignedDuration::from_hours(5));
    let fired = engine.tick().await.expect("tick");
    assert_eq!(paging(&fired), 0, "{fired:?}");
    assert!(
        fired.iter().all(|f| f.events == 0
            || matches!(f.timer.kind, warroom_core::timer::TimerKind::UpdateReminder)),
        "only the update cadence keeps running: {fired:?}"
    );
    // By hand, the next step pages now.
    let (s, inc) = app
        .post(&format!("/api/v1/incidents/{id}/escalate"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{inc}");
    assert_eq!(inc["escalation"]["step"], 3);
    let (_, inc) = app.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(inc["acknowledge_target_missed_at"], "2026-11-22T10:35:00Z");
    app.stop().await;
}

#[tokio::test]
async fn on_call_now_schedules_and_calendar_feeds() {
    let app = spawn().await;
    // Sunday 22 Nov 2026, 11:00 in Berlin: outside business hours, so the weekly layer decides.
    let (s, now) = app.get("/api/v1/oncall").await;
    assert_eq!(s, StatusCode::OK, "{now}");
    assert_eq!(now["on_call"][0]["schedule"], "primary");
    let weekly = now["on_call"][0]["person"]
        .as_str()
        .expect("someone")
        .to_string();
    // Tuesday 13:00 Berlin: the business-hours layer wins.
    let (_, tuesday) = app.get("/api/v1/oncall?at=2026-11-24T12:00:00Z").await;
    assert!(tuesday["on_call"][0]["person"].is_string());
    let (s, b) = app.get("/api/v1/oncall?at=yesterday").await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");

    let (s, list) = app.get("/api/v1/schedules").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["schedules"][0]["on_call_now"], json!(weekly));
    assert!(
        list["schedules"][0]["shifts"]
            .as_array()
            .is_some_and(|s| s.len() > 2),
        "{list}"
    );

    // Calendar apps send the token in the URL.
    let url = format!(
        "{}/api/v1/schedules/primary/calendar.ics?token={}",
        app.base, app.admin
    );
    let first = app.http.get(&url).send().await.expect("ics");
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let first = first.text().await.expect("text");
    assert!(first.starts_with("BEGIN:VCALENDAR\r\n"), "{first}");
    assert!(first.contains("BEGIN:VEVENT"));
    let uids = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("UID:"))
            .map(String::from)
            .collect()
    };
    let second = app
        .http
        .get(&url)
        .send()
        .await
        .expect("ics")
        .text()
        .await
        .expect("text");
    assert_eq!(uids(&first), uids(&second));
    let unauth = app
        .http
        .get(format!(
            "{}/api/v1/schedules/primary/calendar.ics",
            app.base
        ))
        .send()
        .await
        .expect("ics");
    assert_eq!(unauth.status(), StatusCode::UNAUTHORIZED);
    let bad = app
        .http
        .get(format!(
            "{}/api/v1/schedules/primary/calendar.ics?token=wr_nope",
            app.base
        ))
        .send()
        .await
        .expect("ics");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let person = app
        .http
        .get(format!(
            "{}/api/v1/people/alice/calendar.ics?token={}",
            app.base, app.admin
        ))
        .send()
        .await
        .expect("ics")
        .text()
        .await
        .expect("text");
    assert!(person.contains("Alice"), "{person}");
    let (s, b) = app.get("/api/v1/schedules/nope/calendar.ics").await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn overrides_win_on_call_feeds_and_paging() {
    let app = spawn().await;
    let (_, now) = app.get("/api/v1/oncall").await;
    let weekly = now["on_call"][0]["person"]
        .as_str()
        .expect("someone")
        .to_string();
    let cover = ["alice", "bob", "carol"]
        .into_iter()
        .find(|p| *p != weekly)
        .expect("someone else");

    // Validation names the field.
    for (body, field) in [
        (
            json!({ "person": "nobody", "start": "2026-11-22T10:00:00Z", "end": "2026-11-22T12:00:00Z" }),
            "person",
        ),
        (
            json!({ "person": cover, "start": "2026-11-22T12:00:00Z", "end": "2026-11-22T12:00:00Z" }),
            "end",
        ),
        (
            json!({ "person": cover, "start": "2026-11-22T10:00:00Z", "end": "2027-03-22T10:00:00Z" }),
            "end",
        ),
        (
            json!({ "person": cover, "start": "2028-01-01T00:00:00Z", "end": "2028-01-02T00:00:00Z" }),
            "start",
        ),
    ] {
        let (s, b) = app.post("/api/v1/schedules/primary/overrides", body).await;
        assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        assert_eq!(b["error"]["field"], field, "{b}");
    }
    let (s, b) = app
        .post(
            "/api/v1/schedules/nope/overrides",
            json!({ "person": cover, "start": "2026-11-22T10:00:00Z", "end": "2026-11-22T12:00:00Z" }),
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");

    let (s, created) = app
        .post(
            "/api/v1/schedules/primary/overrides",
            json!({ "person": cover, "start": "2026-11-22T09:30:00Z", "end": "2026-11-22T12:00:00Z" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let ovr = created["id"].as_str().expect("id").to_string();
    let (s, listed) = app.get("/api/v1/schedules/primary/overrides").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(listed["overrides"][0]["id"], json!(ovr));

    // On call now, in the listing and in the calendar feeds.
    let (_, now) = app.get("/api/v1/oncall").await;
    assert_eq!(now["on_call"][0]["person"], json!(cover), "{now}");
    assert_eq!(now["on_call"][0]["shift_end"], "2026-11-22T12:00:00Z");
    let (_, later) = app.get("/api/v1/oncall?at=2026-11-22T12:00:00Z").await;
    assert_eq!(later["on_call"][0]["person"], json!(weekly));
    let (_, list) = app.get("/api/v1/schedules").await;
    assert_eq!(list["schedules"][0]["on_call_now"], json!(cover));
    let feed = app
        .http
        .get(format!(
            "{}/api/v1/schedules/primary/calendar.ics?token={}",
            app.base, app.admin
        ))
        .send()
        .await
        .expect("ics")
        .text()
        .await
        .expect("text");
    assert!(feed.contains("DTSTART:20261122T093000Z"), "{feed}");
    assert!(feed.contains("DTEND:20261122T120000Z"), "{feed}");

    // A P1 declared now pages the override's person.
    let id = app
        .declare(&app.admin, json!({ "title": "Covered", "severity": "P1" }))
        .await;
    let (_, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    let paged = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "paged")
        .expect("paged")
        .clone();
    assert_eq!(paged["data"]["people"], json!([cover]), "{paged}");
    // So do the later steps, by hand and by the engine's clock.
    let (s, inc) = app
        .post(&format!("/api/v1/incidents/{id}/escalate"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{inc}");
    let engine = app.running.as_ref().expect("running").engine.clone();
    app.clock.advance(SignedDuration::from_mins(31));
    engine.tick().await.expect("tick");
    let (_, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    let later: Vec<Value> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "paged")
        .skip(1)
        .cloned()
        .collect();
    assert_eq!(later.len(), 2, "{later:?}");
    for page in &later {
        assert_eq!(page["data"]["people"][0], json!(cover), "{page}");
    }

    // Removing it is recorded once; the schedule goes back to the layers.
    let path = format!("/api/v1/schedules/primary/overrides/{ovr}");
    let (s, b) = app
        .call(Method::DELETE, &path, Some(&app.admin), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .call(Method::DELETE, &path, Some(&app.admin), None)
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (s, b) = app
        .call(
            Method::DELETE,
            "/api/v1/schedules/primary/overrides/ovr_nope",
            Some(&app.admin),
            None,
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (_, now) = app.get("/api/v1/oncall").await;
    assert_eq!(now["on_call"][0]["person"], json!(weekly));
    app.stop().await;
}
