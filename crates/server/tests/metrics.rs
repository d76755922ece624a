//! Action items, per-incident metrics, reports and `/metrics` through the real server.

use std::sync::Arc;

use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warroom_core::{Config, ManualClock};
use warroom_server::{Running, ServeOptions};

struct TestApp {
    base: String,
    admin: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    running: Option<Running>,
}

async fn spawn_with(metrics_public: bool) -> TestApp {
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
            config: Config::builtin(),
            demo: false,
            engine: false,
            grafana_signature: None,
            metrics_public,
            secure_cookies: false,
        },
        clock.clone(),
    )
    .await
    .expect("server starts");
    TestApp {
        base: format!("http://{}", running.addr),
        admin: running.created_admin_token.clone().expect("admin token"),
        http: reqwest::Client::new(),
        clock,
        _dir: dir,
        running: Some(running),
    }
}

async fn spawn() -> TestApp {
    spawn_with(false).await
}

impl TestApp {
    async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let resp = self.raw(method, path, token, body).await;
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

    async fn token(&self, name: &str, role: &str) -> String {
        let (s, b) = self
            .post("/api/v1/tokens", json!({ "name": name, "role": role }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["token"].as_str().expect("token").to_string()
    }

    async fn declare(&self, body: Value) -> String {
        let (s, b) = self.post("/api/v1/incidents", body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().expect("id").to_string()
    }

    fn advance(&self, mins: i64) {
        self.clock.advance(SignedDuration::from_mins(mins));
    }

    fn engine(&self) -> &warroom_engine::Engine {
        &self.running.as_ref().expect("running").engine
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

fn assert_field_error(status: StatusCode, body: &Value, field: &str) {
    assert!(status.is_client_error(), "{status}: {body}");
    assert_eq!(body["error"]["field"], field, "{body}");
}

#[tokio::test]
async fn action_items_are_created_listed_updated_and_their_owner_reminded() {
    let app = spawn().await;
    let id = app
        .declare(json!({ "title": "Checkout errors", "severity": "P2" }))
        .await;
    let path = format!("/api/v1/incidents/{id}/actions");
    let (s, a1) = app
        .post(
            &path,
            json!({ "title": "Alert on queue depth", "owner": "alice", "due": "2026-11-24",
            "priority": "p1", "ticket": "https://tracker.example/OPS-7" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a1}");
    assert_eq!(a1["id"], "A1");
    assert_eq!(a1["incident_id"], id.as_str());
    assert_eq!(a1["status"], "open");
    assert_eq!(
        a1["due_at"], "2026-11-24T23:00:00Z",
        "end of the day in Berlin"
    );
    let (s, a2) = app
        .post(
            &path,
            json!({ "title": "Runbook", "owner": "bob", "due": "2026-12-10" }),
        )
        .await;
    assert_eq!(
        (s, &a2["priority"]),
        (StatusCode::CREATED, &json!("p3")),
        "{a2}"
    );

    // Bad input names the field; nothing is written.
    let (s, b) = app
        .post(
            &path,
            json!({ "title": "x", "owner": "mallory", "due": "2026-11-24" }),
        )
        .await;
    assert_field_error(s, &b, "owner");
    let (s, b) = app
        .post(
            &path,
            json!({ "title": "x", "owner": "alice", "due": "24/11/2026" }),
        )
        .await;
    assert_field_error(s, &b, "due");
    let (s, b) = app
        .post(
            &path,
            json!({ "title": "x", "owner": "alice", "due": "2026-11-24", "priority": "urgent" }),
        )
        .await;
    assert_field_error(s, &b, "priority");
    let (s, b) = app
        .call(
            Method::PATCH,
            &format!("{path}/A1"),
            Some(&app.admin),
            Some(json!({ "status": "finished" })),
        )
        .await;
    assert_field_error(s, &b, "status");
    let (s, b) = app
        .call(
            Method::PATCH,
            &format!("{path}/A7"),
            Some(&app.admin),
            Some(json!({ "status": "done" })),
        )
        .await;
    assert_field_error(s, &b, "action");

    // Cross-incident list, by owner and overdue.
    let (s, list) = app.get("/api/v1/actions?owner=alice").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["actions"].as_array().map(Vec::len), Some(1));
    let (_, overdue) = app.get("/api/v1/actions?overdue=true").await;
    assert_eq!(overdue["actions"], json!([]));
    let (s, b) = app.get("/api/v1/actions?overdue=maybe").await;
    assert_field_error(s, &b, "overdue");

    // At the due instant the engine fires the reminder: a timeline event and a message to alice.
    app.clock.set("2026-11-24T23:00:00Z".parse().expect("time"));
    app.engine().fire_timers().await.expect("timers fire");
    let (_, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    let due: Vec<&Value> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "action_item_due")
        .collect();
    assert_eq!(due.len(), 1, "{events}");
    assert_eq!(due[0]["data"]["owner"], "alice");
    let (_, deliveries) = app.get(&format!("/api/v1/incidents/{id}/deliveries")).await;
    assert!(
        deliveries["deliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .any(|d| d["subject"]
                .as_str()
                .is_some_and(|s| s.contains("action item A1 is due"))),
        "{deliveries}"
    );
    // Firing again sends nothing more.
    app.engine().fire_timers().await.expect("timers fire");
    let (_, events) = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    let count = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "action_item_due")
        .count();
    assert_eq!(count, 1);

    let (_, overdue) = app.get("/api/v1/actions?overdue=true").await;
    assert_eq!(overdue["actions"][0]["id"], "A1");
    assert_eq!(overdue["actions"][0]["overdue"], true);

    // Done after the incident is closed: follow-up work outlives the incident.
    app.post(
        &format!("/api/v1/incidents/{id}/resolve"),
        json!({ "summary": "fixed" }),
    )
    .await;
    let (s, b) = app
        .post(&format!("/api/v1/incidents/{id}/close"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, a1) = app
        .call(
            Method::PATCH,
            &format!("{path}/a1"),
            Some(&app.admin),
            Some(json!({ "status": "done" })),
        )
        .await;
    assert_eq!((s, &a1["status"]), (StatusCode::OK, &json!("done")), "{a1}");
    let (_, overdue) = app.get("/api/v1/actions?overdue=true").await;
    assert_eq!(overdue["actions"], json!([]));
    let (s, _) = app
        .call(
            Method::PATCH,
            &format!("{path}/A1"),
            Some(&app.admin),
            Some(json!({ "status": "done" })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "no change is a conflict");
    app.stop().await;
}

#[tokio::test]
async fn restricted_incidents_stay_out_of_action_lists_and_reports_for_outsiders() {
    let app = spawn().await;
    let outsider = app.token("carol", "commander").await;
    let public = app
        .declare(json!({ "title": "Public", "severity": "P2" }))
        .await;
    let secret = app
        .declare(json!({ "title": "Secret", "severity": "P1", "restricted": true }))
        .await;
    for id in [&public, &secret] {
        let (s, b) = app
            .post(
                &format!("/api/v1/incidents/{id}/actions"),
                json!({ "title": "t", "owner": "alice", "due": "2026-11-30" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let (_, mine) = app
        .call(Method::GET, "/api/v1/actions", Some(&outsider), None)
        .await;
    let ids: Vec<&str> = mine["actions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["incident_id"].as_str())
        .collect();
    assert_eq!(ids, [public.as_str()]);
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{secret}/actions"),
            Some(&outsider),
            Some(json!({ "title": "t", "owner": "alice", "due": "2026-11-30" })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/incidents/{secret}/metrics"),
            Some(&outsider),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (_, theirs) = app
        .call(
            Method::GET,
            "/api/v1/reports?by=severity",
            Some(&outsider),
            None,
        )
        .await;
    assert_eq!(theirs["total"]["incidents"], 1, "{theirs}");
    assert_eq!(theirs["total"]["actions_open"], 1);
    let keys: Vec<&str> = theirs["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["key"].as_str())
        .collect();
    assert_eq!(keys, ["P2"]);
    let (_, all) = app.get("/api/v1/reports?by=severity").await;
    assert_eq!(all["total"]["incidents"], 2, "{all}");
    app.stop().await;
}

#[tokio::test]
async fn incident_metrics_come_from_the_timeline() {
    let app = spawn().await;
    let id = app
        .declare(json!({ "title": "Login failures", "severity": "P1" }))
        .await;
    app.advance(10);
    let (s, _) = app
        .post(&format!("/api/v1/incidents/{id}/acknowledge"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    app.advance(20);
    app.post(
        &format!("/api/v1/incidents/{id}/updates"),
        json!({ "text": "on it", "audience": "internal" }),
    )
    .await;
    app.post(
        &format!("/api/v1/incidents/{id}/status"),
        json!({ "status": "contained" }),
    )
    .await;
    app.advance(60);
    let (s, b) = app
        .post(
            &format!("/api/v1/incidents/{id}/resolve"),
            json!({ "summary": "blocked" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    app.advance(30);
    let (s, m) = app.get(&format!("/api/v1/incidents/{id}/metrics")).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["time_to_acknowledge_secs"], 600);
    assert_eq!(m["time_to_contain_secs"], 1_800);
    assert_eq!(m["time_to_resolve_secs"], 5_400);
    assert_eq!(
        m["time_in_status_secs"],
        json!({ "triage": 600, "investigating": 1_200, "contained": 3_600, "resolved": 1_800 })
    );
    assert_eq!(m["rto_met"], true);
    // 10:30 -> 11:30 without an internal update at a 30-minute cadence.
    assert_eq!(m["update_cadence_kept"], false);
    assert_eq!(m["response_target_breached"], false);
    let (s, b) = app.get("/api/v1/incidents/INC-20261122-999/metrics").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    app.stop().await;
}

#[tokio::test]
async fn reports_come_in_three_formats_and_refuse_bad_parameters() {
    let app = spawn().await;
    let a = app
        .declare(json!({ "title": "A", "severity": "P1", "services": ["api"] }))
        .await;
    app.advance(5);
    app.post(&format!("/api/v1/incidents/{a}/acknowledge"), json!({}))
        .await;
    app.advance(55);
    app.post(
        &format!("/api/v1/incidents/{a}/resolve"),
        json!({ "summary": "ok" }),
    )
    .await;
    // Open, never acknowledged.
    app.declare(json!({ "title": "B", "severity": "P2", "services": ["web"] }))
        .await;
    app.advance(60);

    let (s, r) = app.get("/api/v1/reports?since=7d&by=service").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["total"]["incidents"], 2);
    assert_eq!(r["total"]["open"], 1);
    assert_eq!(r["total"]["unacknowledged"], 1);
    assert_eq!(r["total"]["time_to_acknowledge"]["median_secs"], 300);
    assert_eq!(r["total"]["time_to_resolve"]["count"], 1);
    assert_eq!(r["total"]["time_to_resolve"]["p90_secs"], 3_600);
    let keys: Vec<&str> = r["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["key"].as_str())
        .collect();
    assert_eq!(keys, ["api", "web"]);
    assert_eq!(
        r["weeks"].as_array().map(Vec::len),
        Some(2),
        "W47 and W48: {r}"
    );

    for (format, ctype, start) in [
        ("md", "text/markdown", "# Incident report"),
        ("csv", "text/csv", "row,key,"),
    ] {
        let resp = app
            .raw(
                Method::GET,
                &format!("/api/v1/reports?format={format}"),
                Some(&app.admin),
                None,
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let got = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(got.starts_with(ctype), "{got}");
        assert!(resp.text().await.expect("body").starts_with(start));
    }
    for (query, field) in [
        ("by=team", "by"),
        ("format=xml", "format"),
        ("since=yesterday", "since"),
        ("since=2030-01-01T00:00:00Z", "since"),
    ] {
        let (s, b) = app.get(&format!("/api/v1/reports?{query}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {b}");
        assert_eq!(b["error"]["field"], field, "{b}");
    }
    let (s, b) = app.get("/api/v1/reports?color=red").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    app.stop().await;
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.rsplit_once(' ').is_some_and(|(name, _)| name == series))
        .and_then(|l| l.rsplit_once(' '))
        .and_then(|(_, v)| v.parse().ok())
}

#[tokio::test]
async fn prometheus_metrics_need_a_token_and_count_what_happened() {
    let app = spawn().await;
    let (s, _) = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let viewer = app.token("prom", "viewer").await;

    app.declare(json!({ "title": "Secret title", "severity": "P1", "restricted": true, "labels": { "customer": "acme" } })).await;
    let id = app.declare(json!({ "title": "B", "severity": "P2" })).await;
    app.post(&format!("/api/v1/incidents/{id}/acknowledge"), json!({}))
        .await;
    let (s, integration) = app
        .post("/api/v1/integrations", json!({ "service": "api" }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{integration}");
    let key = integration["routing_key"]
        .as_str()
        .expect("key")
        .to_string();
    let (s, b) = app
        .call(
            Method::POST,
            "/api/v1/events",
            Some(&key),
            Some(json!({ "summary": "disk full", "dedup_key": "d1" })),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (s, b) = app
        .call(
            Method::POST,
            "/api/v1/events",
            Some(&key),
            Some(json!({ "summary": "disk full", "dedup_key": "d1", "action": "acknowledge" })),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    // No engine runs: the P1's first escalation step, due 15 minutes after its page, has waited
    // 25 minutes by 10:40.
    app.advance(40);

    let resp = app.raw(Method::GET, "/metrics", Some(&viewer), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = resp.text().await.expect("body");
    assert_eq!(
        sample(
            &text,
            "warroom_open_incidents{severity=\"P1\",status=\"triage\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "warroom_open_incidents{severity=\"P2\",status=\"investigating\"}"
        ),
        Some(1.0)
    );
    assert!(
        !text.contains("Secret title") && !text.contains("acme"),
        "nothing but counts about incidents"
    );
    assert_eq!(sample(&text, "warroom_alerts_received_total"), Some(2.0));
    assert_eq!(sample(&text, "warroom_events_ingested_total"), Some(2.0));
    assert_eq!(sample(&text, "warroom_timer_lag_seconds"), Some(1_500.0));
    assert!(sample(&text, "warroom_notifications{status=\"dead\"}").is_some());
    // Requests are timed under their route template, never the raw path.
    assert_eq!(
        sample(
            &text,
            "warroom_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/incidents/{id}/acknowledge\",status=\"200\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains(&id));
    app.engine().fire_timers().await.expect("fire");
    let (_, text) = app.call(Method::GET, "/metrics", Some(&viewer), None).await;
    assert_eq!(
        sample(text.as_str().expect("text"), "warroom_timer_lag_seconds"),
        Some(0.0)
    );
    app.stop().await;

    let public = spawn_with(true).await;
    let (s, text) = public.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    public.stop().await;
}

#[tokio::test]
async fn time_to_detect_runs_from_the_first_alert_to_the_declaration() {
    let app = spawn().await;
    let (s, integration) = app
        .post("/api/v1/integrations", json!({ "service": "api" }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{integration}");
    let key = integration["routing_key"]
        .as_str()
        .expect("key")
        .to_string();
    let (s, b) = app
        .call(
            Method::POST,
            "/api/v1/events",
            Some(&key),
            Some(json!({ "summary": "5xx on /checkout", "severity": "critical" })),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    // The engine links it three minutes later and declares the incident then.
    app.advance(3);
    app.engine().process_alerts().await.expect("alerts linked");
    let (_, list) = app.get("/api/v1/incidents").await;
    let id = list["incidents"][0]["id"]
        .as_str()
        .expect("an incident was declared")
        .to_string();
    let (s, m) = app.get(&format!("/api/v1/incidents/{id}/metrics")).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["first_alert_at"], "2026-11-22T10:00:00Z", "{m}");
    assert_eq!(m["time_to_detect_secs"], 180, "{m}");
    app.stop().await;
}
