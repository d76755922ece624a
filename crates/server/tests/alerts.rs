//! Alert ingestion through the real server: PagerDuty Events API v2 semantics, the webhook
//! receivers and their authentication, routing rules with thresholds, grouping into incidents,
//! settling incidents whose alerts resolved, change events, and the alerts API.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use warroom_core::config::{SourceFile, load};
use warroom_core::{Config, ManualClock};
use warroom_server::{Running, ServeOptions};

struct App {
    base: String,
    admin: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

const RULES: &str = r#"
routing_rules:
  - name: ignore-debug
    match: { labels: { env: dev } }
    action: drop
  - name: quiet-info
    match: { severity: info }
    action: suppress
  - name: brute-force
    match: { labels: { alertname: FailedLogin } }
    service: auth
    incident_severity: P0
    playbook: unauthorized-access
    threshold: { count: 3, window: 1m, group_by: [source_ip] }
  - name: payments
    match: { summary: '(?i)checkout' }
    service: payments
    incident_severity: { critical: P0, error: P1 }
"#;

async fn spawn_with(config: Config, database_url: Option<String>, grafana: Option<&str>) -> App {
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
            config,
            demo: false,
            engine: false,
            grafana_signature: grafana.map(warroom_core::alert::grafana::SignatureConfig::new),
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
    let config = load(&[SourceFile::new("rules.yaml", RULES)]).expect("config");
    spawn_with(config, None, None).await
}

impl App {
    async fn send(
        &self,
        path: &str,
        auth: Option<&str>,
        body: &[u8],
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.expect("sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers,
        )
    }

    async fn pd(&self, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self
            .send("/v2/enqueue", None, body.to_string().as_bytes())
            .await;
        (s, v)
    }

    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.admin);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("sent");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (s, v) = self.api(reqwest::Method::GET, path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v
    }

    async fn integration(&self, service: &str) -> String {
        let (s, v) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/integrations",
                Some(json!({ "service": service })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["routing_key"].as_str().expect("key").to_string()
    }

    /// Lets the engine link and settle what was committed.
    async fn link(&self) {
        let engine = &self.running.as_ref().expect("running").engine;
        engine.process_alerts().await.expect("alerts processed");
    }

    async fn alerts(&self, query: &str) -> Vec<Value> {
        self.get(&format!("/api/v1/alerts?{query}")).await["alerts"]
            .as_array()
            .expect("alerts")
            .clone()
    }

    async fn incidents(&self) -> Vec<Value> {
        self.get("/api/v1/incidents?limit=100").await["incidents"]
            .as_array()
            .expect("incidents")
            .clone()
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

fn trigger(key: &str, dedup: Option<&str>, summary: &str, severity: &str) -> Value {
    let mut v = json!({
        "routing_key": key,
        "event_action": "trigger",
        "payload": { "summary": summary, "source": "web-1.example.com", "severity": severity },
    });
    if let Some(d) = dedup {
        v["dedup_key"] = json!(d);
    }
    v
}

async fn pagerduty_semantics(app: &App) {
    let key = app.integration("api").await;
    // No dedup key: one is generated and returned.
    let (s, v) = app
        .pd(trigger(
            &key,
            None,
            "Error rate above 5% on /checkout",
            "error",
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["message"].as_str()),
        (Some("success"), Some("Event processed"))
    );
    let generated = v["dedup_key"].as_str().expect("generated key");
    assert_eq!(generated.len(), 32);
    // The same key again is the same alert; acknowledge and resolve apply to it.
    let (s, v) = app
        .pd(trigger(
            &key,
            Some("db-disk"),
            "Disk 95% on db-1",
            "critical",
        ))
        .await;
    assert_eq!(
        (s, v["dedup_key"].as_str()),
        (StatusCode::ACCEPTED, Some("db-disk"))
    );
    app.pd(trigger(
        &key,
        Some("db-disk"),
        "Disk 97% on db-1",
        "critical",
    ))
    .await;
    let open = app.alerts("status=open").await;
    assert_eq!(open.len(), 2, "{open:?}");
    let disk = open
        .iter()
        .find(|a| a["dedup_key"] == "db-disk")
        .expect("disk alert");
    assert_eq!(
        (disk["count"].as_u64(), disk["summary"].as_str()),
        (Some(2), Some("Disk 97% on db-1"))
    );
    let first_id = disk["id"].as_str().expect("id").to_string();
    let ack = json!({ "routing_key": key, "event_action": "acknowledge", "dedup_key": "db-disk" });
    assert_eq!(app.pd(ack.clone()).await.0, StatusCode::ACCEPTED);
    let resolve = json!({ "routing_key": key, "event_action": "resolve", "dedup_key": "db-disk" });
    assert_eq!(app.pd(resolve.clone()).await.0, StatusCode::ACCEPTED);
    let alert = app.get(&format!("/api/v1/alerts/{first_id}")).await;
    assert_eq!(alert["status"], "resolved");
    let outcomes: Vec<&str> = alert["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["opened", "repeated", "acknowledged", "resolved"]);
    // Resolving again, or acknowledging a resolved or unknown key, is accepted and dropped.
    assert_eq!(app.pd(resolve).await.0, StatusCode::ACCEPTED);
    assert_eq!(app.pd(ack).await.0, StatusCode::ACCEPTED);
    let unknown =
        json!({ "routing_key": key, "event_action": "resolve", "dedup_key": "never-seen" });
    assert_eq!(app.pd(unknown).await.0, StatusCode::ACCEPTED);
    // After the resolve, a trigger with the same key opens a new alert.
    app.pd(trigger(
        &key,
        Some("db-disk"),
        "Disk 95% on db-1 again",
        "critical",
    ))
    .await;
    let disk: Vec<Value> = app
        .alerts("limit=50")
        .await
        .into_iter()
        .filter(|a| a["dedup_key"] == "db-disk")
        .collect();
    assert_eq!(disk.len(), 2);
    assert_ne!(disk[0]["id"], disk[1]["id"]);
    // Dedup is per integration: the same key through another integration is another alert.
    let other = app.integration("web").await;
    app.pd(trigger(&other, Some("db-disk"), "Disk on web", "warning"))
        .await;
    assert_eq!(
        app.alerts("status=open")
            .await
            .iter()
            .filter(|a| a["dedup_key"] == "db-disk")
            .count(),
        2
    );

    // Validation, PagerDuty's way: 400 with `errors`, nothing stored.
    let before = app.alerts("limit=500").await.len();
    for (body, needle) in [
        (
            json!({ "routing_key": key, "event_action": "trigger" }),
            "payload",
        ),
        (trigger(&key, None, "x", "fatal"), "severity"),
        (
            json!({ "routing_key": key, "event_action": "explode", "payload": {} }),
            "event_action",
        ),
        (
            trigger(&key, Some(&"k".repeat(256)), "x", "info"),
            "dedup_key",
        ),
        (
            json!({ "routing_key": key, "event_action": "resolve" }),
            "dedup_key",
        ),
        (trigger("not-a-key", None, "x", "info"), "routing_key"),
    ] {
        let (s, v) = app.pd(body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["status"], "invalid event");
        assert!(
            v["errors"].as_array().is_some_and(|e| e
                .iter()
                .any(|m| m.as_str().is_some_and(|m| m.contains(needle)))),
            "{needle}: {v}"
        );
    }
    let (s, _, _) = app.send("/v2/enqueue", None, b"{not json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // PagerDuty's limit is 512,000 bytes per event, well above the API's 64 KiB.
    let mut big = trigger(&key, Some("big"), "big details", "error");
    big["payload"]["custom_details"] = json!({ "blob": "x".repeat(300_000) });
    let (s, v, _) = app
        .send("/v2/enqueue", None, big.to_string().as_bytes())
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let mut huge = trigger(&key, None, "huge", "error");
    huge["payload"]["custom_details"] = json!({ "blob": "x".repeat(600_000) });
    let (s, v, _) = app
        .send("/v2/enqueue", None, huge.to_string().as_bytes())
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("512000")),
        "{v}"
    );
    // A long summary is cut to 1024 characters, not refused.
    let (s, _) = app
        .pd(trigger(&key, Some("long"), &"s".repeat(2000), "error"))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let long = app
        .alerts("limit=500")
        .await
        .into_iter()
        .find(|a| a["dedup_key"] == "long")
        .expect("long");
    assert_eq!(
        long["summary"].as_str().map(|s| s.chars().count()),
        Some(1024)
    );
    assert_eq!(app.alerts("limit=500").await.len(), before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_events_follow_pagerdutys_rules_on_sqlite() {
    let app = spawn().await;
    pagerduty_semantics(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_events_follow_pagerdutys_rules_on_postgres() {
    let cluster = warroom_store::testing::PgCluster::shared().expect("postgres cluster");
    let url = cluster.fresh_database().await.expect("database");
    let config = load(&[SourceFile::new("rules.yaml", RULES)]).expect("config");
    let app = spawn_with(config, Some(url), None).await;
    pagerduty_semantics(&app).await;
    alert_storm(&app).await;
    repeat_storm(&app).await;
    app.stop().await;
}

/// 200 distinct alerts from 16 concurrent senders open one incident, not 200; resolving them
/// all moves it to recovering.
async fn alert_storm(app: &App) {
    let key = app.integration("search").await;
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let http = app.http.clone();
        let url = format!("{}/v2/enqueue", app.base);
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..13 {
                let i = worker * 13 + n;
                if i >= 200 {
                    break;
                }
                let body = trigger(
                    &key,
                    Some(&format!("storm-{i}")),
                    &format!("Search shard {i} down"),
                    "critical",
                );
                let resp = http.post(&url).json(&body).send().await.expect("sent");
                assert_eq!(resp.status(), StatusCode::ACCEPTED);
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    app.link().await;
    let storm: Vec<Value> = app.alerts("service=search&limit=500").await;
    assert_eq!(storm.len(), 200);
    // The same list a page at a time, following next_cursor.
    let mut paged: Vec<Value> = Vec::new();
    let mut query = "service=search&limit=64".to_string();
    for page in 1.. {
        assert!(page <= 5, "next_cursor does not move on");
        let answer = app.get(&format!("/api/v1/alerts?{query}")).await;
        paged.extend(answer["alerts"].as_array().expect("alerts").iter().cloned());
        match answer["next_cursor"].as_str() {
            Some(next) => query = format!("service=search&limit=64&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(paged, storm, "the pages are the whole list, newest first");
    let incidents: Vec<Value> = app
        .incidents()
        .await
        .into_iter()
        .filter(|i| {
            i["services"]
                .as_array()
                .is_some_and(|s| s.contains(&json!("search")))
        })
        .collect();
    assert_eq!(
        incidents.len(),
        1,
        "one incident for the storm: {incidents:?}"
    );
    let id = incidents[0]["id"].as_str().expect("id").to_string();
    assert!(storm.iter().all(|a| a["incident_id"] == id.as_str()));
    assert_eq!(
        incidents[0]["severity"], "P1",
        "critical maps to P1 by the policy"
    );
    assert_eq!(incidents[0]["alerts"], 200);
    for i in 0..200 {
        let body = json!({ "routing_key": key, "event_action": "resolve", "dedup_key": format!("storm-{i}") });
        assert_eq!(app.pd(body).await.0, StatusCode::ACCEPTED);
    }
    app.link().await;
    let inc = app.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(inc["status"], "recovering");
    let events = app.get(&format!("/api/v1/incidents/{id}/events")).await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "alerts_resolved").count(),
        1,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"paged"), "a P1 pages: {kinds:?}");
}

/// 16 senders repeating 5 keys at once (on PostgreSQL several batches commit side by side):
/// still one open alert per key, every event counted once.
async fn repeat_storm(app: &App) {
    let key = app.integration("storage").await;
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let http = app.http.clone();
        let url = format!("{}/v2/enqueue", app.base);
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..20 {
                let body = trigger(
                    &key,
                    Some(&format!("disk-{}", (worker + n) % 5)),
                    "Disk filling",
                    "warning",
                );
                let resp = http.post(&url).json(&body).send().await.expect("sent");
                assert_eq!(resp.status(), StatusCode::ACCEPTED);
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    let alerts = app.alerts("service=storage&limit=500").await;
    assert_eq!(alerts.len(), 5, "{alerts:?}");
    assert_eq!(
        alerts
            .iter()
            .filter_map(|a| a["count"].as_u64())
            .sum::<u64>(),
        320
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_storm_opens_one_incident_and_settles_it() {
    let app = spawn().await;
    alert_storm(&app).await;
    // A new alert while the incident is open joins it; after it is resolved by people, the
    // next alert opens a new incident.
    let key = app.integration("search").await;
    app.pd(trigger(&key, Some("late"), "Search slow", "error"))
        .await;
    app.link().await;
    let search: Vec<Value> = app
        .incidents()
        .await
        .into_iter()
        .filter(|i| {
            i["services"]
                .as_array()
                .is_some_and(|s| s.contains(&json!("search")))
        })
        .collect();
    assert_eq!(search.len(), 1);
    let id = search[0]["id"].as_str().expect("id").to_string();
    let (s, _) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/incidents/{id}/resolve"),
            Some(json!({ "summary": "shards rebalanced" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Resolving the incident resolved the alert its sender never resolved.
    let late = |alerts: Vec<Value>| -> Vec<Value> {
        alerts
            .into_iter()
            .filter(|a| a["dedup_key"] == "late")
            .collect()
    };
    let before = late(app.alerts("service=search&limit=500").await);
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["status"], "resolved", "{before:?}");
    // The same problem again, under the same key: a new alert and a new incident, not a
    // repeat folded into the finished one.
    app.pd(trigger(&key, Some("late"), "Search slow again", "critical"))
        .await;
    app.link().await;
    let search: Vec<Value> = app
        .incidents()
        .await
        .into_iter()
        .filter(|i| {
            i["services"]
                .as_array()
                .is_some_and(|s| s.contains(&json!("search")))
        })
        .collect();
    assert_eq!(search.len(), 2);
    let again: Vec<Value> = late(app.alerts("service=search&limit=500").await)
        .into_iter()
        .filter(|a| a["id"] != before[0]["id"])
        .collect();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["status"], "triggered");
    assert_ne!(
        again[0]["incident_id"], before[0]["incident_id"],
        "{again:?}"
    );
    assert!(
        search.iter().any(|i| i["id"] == again[0]["incident_id"]),
        "{again:?} {search:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_rules_drop_suppress_map_and_threshold_on_sqlite() {
    routing_rules(spawn().await).await;
}

/// PostgreSQL reads and writes threshold counters in its own statements (`postgres_ingest`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_rules_drop_suppress_map_and_threshold_on_postgres() {
    let cluster = warroom_store::testing::PgCluster::shared().expect("postgres cluster");
    let url = cluster.fresh_database().await.expect("database");
    let config = load(&[SourceFile::new("rules.yaml", RULES)]).expect("config");
    routing_rules(spawn_with(config, Some(url), None).await).await;
}

async fn routing_rules(app: App) {
    let key = app.integration("api").await;
    // Drop: nothing recorded. Suppress: recorded, no incident.
    let dev = json!({ "summary": "dev box hot", "labels": { "env": "dev" } });
    let info = json!({ "summary": "cache warmed", "severity": "info" });
    for body in [dev, info] {
        let (s, v, _) = app
            .send(
                "/api/v1/events",
                Some(&format!("Bearer {key}")),
                body.to_string().as_bytes(),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    }
    app.link().await;
    let all = app.alerts("limit=500").await;
    assert_eq!(all.len(), 1, "the dev alert was dropped: {all:?}");
    assert_eq!(all[0]["summary"], "cache warmed");
    assert!(
        all[0]["suppressed"]
            .as_str()
            .is_some_and(|s| s.contains("quiet-info")),
        "{}",
        all[0]
    );
    assert_eq!(all[0]["incident_id"], Value::Null);
    assert!(app.incidents().await.is_empty());

    // Threshold: three failed-login alerts from one address within a minute open an incident on
    // auth at P0 with the playbook; two from another address do not.
    let login = |n: u32, ip: &str| {
        json!({ "summary": format!("Failed login for user{n}"), "severity": "warning",
                "dedup_key": format!("login-{ip}-{n}"),
                "labels": { "alertname": "FailedLogin", "source_ip": ip } })
    };
    for (n, ip) in [(1, "203.0.113.7"), (2, "203.0.113.7"), (1, "198.51.100.2")] {
        app.send(
            "/api/v1/events",
            Some(&format!("Bearer {key}")),
            login(n, ip).to_string().as_bytes(),
        )
        .await;
        app.clock.advance(jiff::SignedDuration::from_secs(10));
    }
    app.link().await;
    assert!(app.incidents().await.is_empty(), "below the threshold");
    app.send(
        "/api/v1/events",
        Some(&format!("Bearer {key}")),
        login(3, "203.0.113.7").to_string().as_bytes(),
    )
    .await;
    app.link().await;
    let incidents = app.incidents().await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(
        (
            incidents[0]["severity"].as_str(),
            incidents[0]["services"][0].as_str()
        ),
        (Some("P0"), Some("auth"))
    );
    let inc = app
        .get(&format!(
            "/api/v1/incidents/{}",
            incidents[0]["id"].as_str().expect("id")
        ))
        .await;
    let playbooks: Vec<&str> = inc["playbooks"]
        .as_array()
        .expect("playbooks")
        .iter()
        .filter_map(|p| p["playbook"]["id"].as_str())
        .collect();
    assert!(playbooks.contains(&"unauthorized-access"), "{playbooks:?}");
    // The window slides: a fourth attempt two minutes later is below the rate again.
    app.clock.advance(jiff::SignedDuration::from_mins(2));
    let (_, v, _) = app
        .send(
            "/api/v1/events",
            Some(&format!("Bearer {key}")),
            login(4, "203.0.113.7").to_string().as_bytes(),
        )
        .await;
    assert_eq!(v["results"][0]["outcome"], "suppressed", "{v}");

    // Severity mapping per alert severity, and the service a rule sets.
    let (_, v, _) = app
        .send(
            "/api/v1/events",
            Some(&format!("Bearer {key}")),
            json!({ "summary": "Checkout failing", "severity": "error" })
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(v["results"][0]["outcome"], "opened");
    app.link().await;
    let pay = app
        .incidents()
        .await
        .into_iter()
        .find(|i| i["services"][0] == "payments")
        .expect("payments incident");
    assert_eq!(pay["severity"], "P1");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_receivers_authenticate_and_parse_their_senders() {
    let secret = "grafana-shared-secret";
    let config = load(&[SourceFile::new("rules.yaml", RULES)]).expect("config");
    let app = spawn_with(config, None, Some(secret)).await;
    let key = app.integration("web").await;
    let am = json!({
        "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "warroom", "groupLabels": { "alertname": "HighLatency" },
        "commonLabels": { "alertname": "HighLatency" }, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "notification_reason": "first notification",
        "someFutureField": { "x": 1 },
        "alerts": [
            { "status": "firing", "labels": { "alertname": "HighLatency", "instance": "web-1", "severity": "critical" },
              "annotations": { "summary": "p99 latency above 2s on web-1" },
              "startsAt": "2026-11-25T09:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://prometheus/graph", "fingerprint": "1a2b3c4d5e6f7081" },
            { "status": "firing", "labels": { "alertname": "HighLatency", "instance": "web-2", "severity": "warning" },
              "annotations": { "description": "p99 latency above 1s on web-2" },
              "startsAt": "2026-11-25T09:58:00Z", "endsAt": "0001-01-01T00:00:00Z" }
        ]
    });
    let body = am.to_string();
    // No credentials, a wrong key, a token instead of a key: 401.
    for auth in [
        None,
        Some("Bearer nope".to_string()),
        Some(format!("Bearer {}", app.admin)),
    ] {
        let (s, v, _) = app
            .send(
                "/api/v1/alerts/alertmanager",
                auth.as_deref(),
                body.as_bytes(),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    }
    // Basic auth with the key as password.
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("alertmanager:{key}")
        )
    );
    let (s, v, _) = app
        .send("/api/v1/alerts/alertmanager", Some(&basic), body.as_bytes())
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["events"], 2);
    // The same webhook again (Alertmanager repeats) folds into the same two alerts.
    let (s, _, _) = app
        .send(
            "/api/v1/alerts/alertmanager",
            Some(&format!("Bearer {key}")),
            body.as_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let open = app.alerts("status=open").await;
    assert_eq!(open.len(), 2);
    assert!(open.iter().all(|a| a["count"] == 2), "{open:?}");
    let by_fp = open
        .iter()
        .find(|a| a["dedup_key"] == "1a2b3c4d5e6f7081")
        .expect("fingerprint key");
    assert_eq!(
        (by_fp["severity"].as_str(), by_fp["summary"].as_str()),
        (Some("critical"), Some("p99 latency above 2s on web-1"))
    );
    // Resolved in a later webhook.
    let mut resolved = am.clone();
    resolved["status"] = json!("resolved");
    for a in resolved["alerts"].as_array_mut().expect("alerts") {
        a["status"] = json!("resolved");
        a["endsAt"] = json!("2026-11-25T10:05:00Z");
    }
    app.send(
        "/api/v1/alerts/alertmanager",
        Some(&format!("Bearer {key}")),
        resolved.to_string().as_bytes(),
    )
    .await;
    assert!(app.alerts("status=open").await.is_empty());
    let (s, v, _) = app
        .send(
            "/api/v1/alerts/alertmanager",
            Some(&format!("Bearer {key}")),
            b"{\"alerts\": 5}",
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // A big group (150 alerts, ~250 KB) is one request: above the API's 64 KiB, accepted.
    let many: Vec<Value> = (0..150)
        .map(|i| {
            json!({ "status": "firing",
                "labels": { "alertname": "PodCrashLooping", "pod": format!("worker-{i}") },
                "annotations": { "description": "d".repeat(1500) },
                "startsAt": "2026-11-25T09:58:00Z", "fingerprint": format!("{i:016x}") })
        })
        .collect();
    let group = json!({ "version": "4", "status": "firing", "receiver": "warroom",
        "groupKey": "{}:{alertname=\"PodCrashLooping\"}", "alerts": many })
    .to_string();
    assert!(group.len() > 200_000);
    let (s, v, _) = app
        .send(
            "/api/v1/alerts/alertmanager",
            Some(&format!("Bearer {key}")),
            group.as_bytes(),
        )
        .await;
    assert_eq!(
        (s, v["events"].as_u64()),
        (StatusCode::ACCEPTED, Some(150)),
        "{v}"
    );
    let crashing = app.alerts("status=open&limit=500").await;
    assert_eq!(crashing.len(), 150);
    for i in 0..150 {
        let body = json!({ "summary": "x", "action": "resolve", "dedup_key": format!("{i:016x}") });
        app.send(
            "/api/v1/events",
            Some(&format!("Bearer {key}")),
            body.to_string().as_bytes(),
        )
        .await;
    }

    // Grafana: its extra fields, and the signature over the body.
    let grafana = json!({
        "receiver": "warroom", "status": "firing", "orgId": 1, "title": "[FIRING:1] DiskFull",
        "state": "alerting", "message": "Disk full", "groupKey": "{}:{alertname=\"DiskFull\"}",
        "alerts": [{ "status": "firing", "labels": { "alertname": "DiskFull", "grafana_folder": "infra" },
            "annotations": { "summary": "Disk full on nfs-1" }, "startsAt": "2026-11-25T09:59:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "aa00bb11cc22dd33",
            "dashboardURL": "http://grafana/d/1", "values": { "A": 99.1 } }],
        "version": "1"
    })
    .to_string();
    let signature = warroom_core::alert::grafana::sign(secret.as_bytes(), None, grafana.as_bytes());
    let bearer = format!("Bearer {key}");
    let (s, v, _) = app
        .send("/api/v1/alerts/grafana", Some(&bearer), grafana.as_bytes())
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "unsigned: {v}");
    let resp = app
        .http
        .post(format!("{}/api/v1/alerts/grafana", app.base))
        .header("authorization", &bearer)
        .header("X-Grafana-Alert-Signature", "0".repeat(64))
        .body(grafana.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "wrong signature");
    let resp = app
        .http
        .post(format!("{}/api/v1/alerts/grafana", app.base))
        .header("authorization", &bearer)
        .header("X-Grafana-Alert-Signature", &signature)
        .body(grafana.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let disk = app.alerts("status=open").await;
    assert_eq!(disk.len(), 1);
    assert_eq!(disk[0]["summary"], "Disk full on nfs-1");

    // Generic events: unknown fields are refused with the field named.
    let (s, v, _) = app
        .send("/api/v1/events", Some(&bearer), br#"{"summry": "typo"}"#)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("summry")),
        "{v}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_events_reach_the_timelines_of_the_services_open_incidents() {
    let app = spawn().await;
    let key = app.integration("api").await;
    let change = json!({ "routing_key": key, "payload": { "summary": "Deployed api v2.4.0", "source": "ci",
        "timestamp": "2026-11-25T09:55:00Z" }, "links": [{ "href": "https://ci.example.com/builds/912", "text": "build" }] });
    // No open incident on api: stored, shown nowhere yet.
    let (s, v, _) = app
        .send("/v2/change/enqueue", None, change.to_string().as_bytes())
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["status"], "success");
    let (s, inc) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/incidents",
            Some(json!({ "title": "API slow", "severity": "P2", "services": ["api"] })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, other) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/incidents",
            Some(json!({ "title": "Web slow", "severity": "P2", "services": ["web"] })),
        )
        .await;
    app.send("/v2/change/enqueue", None, change.to_string().as_bytes())
        .await;
    let kinds = |v: &Value| -> Vec<String> {
        v["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["kind"].as_str().map(String::from))
            .collect()
    };
    let on_api = app
        .get(&format!(
            "/api/v1/incidents/{}/events",
            inc["id"].as_str().expect("id")
        ))
        .await;
    let on_web = app
        .get(&format!(
            "/api/v1/incidents/{}/events",
            other["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        kinds(&on_api)
            .iter()
            .filter(|k| *k == "change_recorded")
            .count(),
        1
    );
    assert!(!kinds(&on_web).contains(&"change_recorded".to_string()));
    let change_event = on_api["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "change_recorded")
        .expect("change");
    assert_eq!(
        change_event["data"]["links"][0],
        "https://ci.example.com/builds/912"
    );
    assert_eq!(change_event["actor"], "integration:api");
    let (s, v, _) = app
        .send(
            "/v2/change/enqueue",
            None,
            br#"{"routing_key": "x", "payload": {}}"#,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_api_acknowledges_resolves_and_hides_restricted_incidents() {
    let app = spawn().await;
    let key = app.integration("api").await;
    // An outsider with a viewer token, and a restricted incident the alert joins.
    let (_, tok) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/tokens",
            Some(json!({ "name": "outsider", "role": "viewer" })),
        )
        .await;
    let outsider = tok["token"].as_str().expect("token").to_string();
    let (s, inc) = app
        .api(reqwest::Method::POST, "/api/v1/incidents",
             Some(json!({ "title": "Breach", "severity": "P1", "services": ["api"], "restricted": true })))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let secret_id = inc["id"].as_str().expect("id").to_string();
    app.pd(trigger(
        &key,
        Some("exfil"),
        "Unusual egress from api-3",
        "critical",
    ))
    .await;
    app.link().await;
    let mine = app.alerts("status=open").await;
    assert_eq!(
        mine[0]["incident_id"],
        secret_id.as_str(),
        "joins the open incident on api"
    );
    // The outsider's view of a page of the alert list.
    let page = |query: String| {
        let request = app
            .http
            .get(format!("{}/api/v1/alerts?{query}", app.base))
            .bearer_auth(&outsider);
        async move {
            request
                .send()
                .await
                .expect("sent")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let theirs = page("status=open".into()).await;
    // The alert would say what the restricted incident is about: an outsider sees neither.
    assert_eq!(theirs["alerts"], json!([]), "{theirs}");
    // Paging past it leaves it out too: a page of one comes back empty but not last.
    let first = page("status=open&limit=1".into()).await;
    assert_eq!(first["alerts"], json!([]), "{first}");
    let next = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = page(format!("status=open&limit=1&cursor={next}")).await;
    assert_eq!(second["alerts"], json!([]), "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    let alert_id = mine[0]["id"].as_str().expect("id").to_string();
    let hidden = app
        .http
        .get(format!("{}/api/v1/alerts/{alert_id}", app.base))
        .bearer_auth(&outsider)
        .send()
        .await
        .expect("sent");
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    assert!(!hidden.text().await.expect("body").contains("egress"));
    // A viewer cannot acknowledge; a responder can, once.
    let resp = app
        .http
        .post(format!("{}/api/v1/alerts/{alert_id}/acknowledge", app.base))
        .bearer_auth(&outsider)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (s, v) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/alerts/{alert_id}/acknowledge"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("acknowledged")),
        "{v}"
    );
    let (s, _) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/alerts/{alert_id}/acknowledge"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/alerts/{alert_id}/resolve"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("resolved"))
    );
    app.link().await;
    let inc = app.get(&format!("/api/v1/incidents/{secret_id}")).await;
    assert_eq!(inc["status"], "recovering", "its only alert resolved");
    let (s, _) = app
        .api(reqwest::Method::GET, "/api/v1/alerts/alr_nope", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = app
        .api(reqwest::Method::GET, "/api/v1/alerts?status=exploded", None)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    for (query, field) in [("cursor=12_INC-1", "cursor"), ("since=yesterday", "since")] {
        let (s, v) = app
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/alerts?{query}"),
                None,
            )
            .await;
        assert!(s.is_client_error(), "{query}: {s} {v}");
        assert_eq!(v["error"]["field"], field, "{v}");
    }
    // Integrations: unknown service refused, keys never listed.
    let (s, v) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/integrations",
            Some(json!({ "service": "nope" })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let list = app.get("/api/v1/integrations").await;
    assert_eq!(list["integrations"].as_array().map(Vec::len), Some(1));
    assert!(!list.to_string().contains(&key));
    app.stop().await;
}

/// Rotating a routing key gives a new one and keeps the old one working for the grace period,
/// so senders move over without losing an event; revoking ends every key at once. Each change
/// is in the audit log, and no key is ever listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_keys_rotate_with_a_grace_period_and_revoke() {
    let app = spawn().await;
    let (s, created) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/integrations",
            Some(json!({ "service": "api", "name": "prometheus" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let old = created["routing_key"].as_str().expect("key").to_string();
    let pd_status = |key: &str, dedup: &str| trigger(key, Some(dedup), "Latency high", "warning");
    // The key is cached once used, which the rotation must not leave stale.
    assert_eq!(app.pd(pd_status(&old, "r0")).await.0, StatusCode::ACCEPTED);

    // Rotation: the answer is the new key, shown once; both keys work during the grace.
    let (s, rotated) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/integrations/{id}/rotate"),
            Some(json!({ "grace": "2h" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rotated}");
    let new = rotated["routing_key"]
        .as_str()
        .expect("new key")
        .to_string();
    assert_ne!(new, old);
    assert_eq!(new.len(), 32);
    assert_eq!(rotated["rotated_at"], "2026-11-25T10:00:00Z");
    assert_eq!(rotated["previous_key_until"], "2026-11-25T12:00:00Z");
    assert_eq!(app.pd(pd_status(&new, "r1")).await.0, StatusCode::ACCEPTED);
    assert_eq!(app.pd(pd_status(&old, "r2")).await.0, StatusCode::ACCEPTED);
    let bearer = |key: &str| format!("Bearer {key}");
    let event = json!({ "summary": "queue depth", "severity": "warning" }).to_string();
    let (s, v, _) = app
        .send("/api/v1/events", Some(&bearer(&old)), event.as_bytes())
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "old key in its grace: {v}");

    // After the grace only the new key works, on every receiver.
    app.clock.advance(jiff::SignedDuration::from_secs(2 * 3600));
    let (s, v) = app.pd(pd_status(&old, "r3")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "old key after its grace: {v}");
    let (s, _, _) = app
        .send("/api/v1/events", Some(&bearer(&old)), event.as_bytes())
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(app.pd(pd_status(&new, "r4")).await.0, StatusCode::ACCEPTED);
    // Every event sent with an accepted key is there: nothing was lost across the rotation.
    let keys: Vec<String> = app
        .alerts("limit=50")
        .await
        .iter()
        .filter_map(|a| a["dedup_key"].as_str().map(String::from))
        .collect();
    for k in ["r0", "r1", "r2", "r4"] {
        assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
    }
    assert!(!keys.iter().any(|x| x == "r3"));

    // `0s` ends the old key at once; bad graces are refused with the field named.
    let (s, v) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/integrations/{id}/rotate"),
            Some(json!({ "grace": "0s" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let newest = v["routing_key"].as_str().expect("key").to_string();
    assert_eq!(
        app.pd(pd_status(&new, "r5")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.pd(pd_status(&newest, "r6")).await.0,
        StatusCode::ACCEPTED
    );
    for grace in [json!("31d"), json!("-1h"), json!(5)] {
        let (s, v) = app
            .api(
                reqwest::Method::POST,
                &format!("/api/v1/integrations/{id}/rotate"),
                Some(json!({ "grace": grace })),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "grace {grace}: {v}");
        assert!(v.to_string().contains("grace"), "{v}");
    }
    // No body at all means the default grace of a day.
    let resp = app
        .http
        .post(format!("{}/api/v1/integrations/{id}/rotate", app.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["previous_key_until"], "2026-11-26T12:00:00Z");
    let latest = v["routing_key"].as_str().expect("key").to_string();
    let (s, v) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/integrations/int_nope/rotate",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // Revocation: neither the current key nor the one in its grace is accepted any more.
    let (s, v) = app
        .api(
            reqwest::Method::DELETE,
            &format!("/api/v1/integrations/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["revoked_at"], "2026-11-25T12:00:00Z");
    assert_eq!(
        app.pd(pd_status(&latest, "r7")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.pd(pd_status(&newest, "r8")).await.0,
        StatusCode::BAD_REQUEST
    );
    let (s, _, _) = app
        .send("/api/v1/events", Some(&bearer(&latest)), event.as_bytes())
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/integrations/{id}/rotate"),
            None,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a revoked integration stays revoked: {v}"
    );
    let (s, _) = app
        .api(
            reqwest::Method::DELETE,
            "/api/v1/integrations/int_nope",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Listed as revoked, with no key; every change audited.
    let list = app.get("/api/v1/integrations").await;
    let listed = list.to_string();
    assert!(listed.contains("revoked_at"), "{listed}");
    for key in [&old, &new, &newest, &latest] {
        assert!(!listed.contains(key.as_str()));
    }
    // The admin's changes (the server's own first entry made the admin token).
    let audit = app
        .get("/api/v1/audit?action=credential_change&actor=admin&since=7d")
        .await;
    let targets: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["target"].as_str())
        .collect();
    assert_eq!(
        targets,
        [
            format!("{id} created"),
            format!("{id} rotated"),
            format!("{id} rotated"),
            format!("{id} rotated"),
            format!("{id} revoked"),
        ],
        "{audit}"
    );
    app.stop().await;
}
