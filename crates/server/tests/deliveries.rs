//! `GET /api/v1/incidents/{id}/deliveries` through the real server: the outbox as the API shows
//! it, with restricted incidents as invisible as everywhere else.

mod common;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use warroom_core::outbox::{Channel, OutgoingMessage, message_id};
use warroom_core::{Config, ManualClock};
use warroom_server::ServeOptions;

struct App {
    base: String,
    admin: String,
    http: reqwest::Client,
}

impl App {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn webhook_message(incident_id: &str, cause: &str) -> OutgoingMessage {
    let channel = Channel::Webhook {
        url: "https://user:pw@hooks.example.com/in?token=abc".into(),
        secret: Some("whsec_hidden".into()),
    };
    OutgoingMessage {
        id: message_id(cause, &channel),
        incident_id: incident_id.into(),
        channel,
        subject: "Page".into(),
        text: "Wake up".into(),
        payload: json!({}),
    }
}

/// A real server on a random port over `dir`, its engine ticked by hand, and a client for it.
async fn start(
    dir: &tempfile::TempDir,
    database_url: Option<String>,
    config: Config,
    clock: Arc<ManualClock>,
) -> (warroom_server::Running, App) {
    let running = warroom_server::start(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url,
            config,
            demo: false,
            engine: false,
            grafana_signature: None,
            metrics_public: false,
            secure_cookies: false,
        },
        clock,
    )
    .await
    .expect("server starts");
    let app = App {
        base: format!("http://{}", running.addr),
        admin: running.created_admin_token.clone().expect("admin token"),
        http: reqwest::Client::new(),
    };
    (running, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_listed_for_those_who_may_see_the_incident() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("w.db").display());
    let clock = Arc::new(ManualClock::new(
        "2026-11-22T10:00:00Z".parse().expect("time"),
    ));
    let (running, app) = start(&dir, Some(database_url.clone()), Config::builtin(), clock).await;
    use reqwest::Method;
    let (status, token) = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &app.admin,
            Some(json!({"name": "mallory", "role": "viewer"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let viewer = token["token"].as_str().expect("secret").to_string();
    let declare =
        |restricted: bool| json!({"title": "Breach", "severity": "P2", "restricted": restricted});
    let (_, open_inc) = app
        .call(
            Method::POST,
            "/api/v1/incidents",
            &app.admin,
            Some(declare(false)),
        )
        .await;
    let (_, secret_inc) = app
        .call(
            Method::POST,
            "/api/v1/incidents",
            &app.admin,
            Some(declare(true)),
        )
        .await;
    let open_id = open_inc["id"].as_str().expect("id");
    let secret_id = secret_inc["id"].as_str().expect("id");

    let store = warroom_store::open(&database_url)
        .await
        .expect("same database");
    store
        .enqueue_messages(
            vec![
                webhook_message(open_id, "a"),
                webhook_message(secret_id, "b"),
            ],
            "2026-11-22T10:01:00Z".parse().expect("time"),
        )
        .await
        .expect("enqueue");

    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/v1/incidents/{open_id}/deliveries"),
            &viewer,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = &body["deliveries"][0];
    assert_eq!(body["deliveries"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (
            d["channel"].as_str(),
            d["destination"].as_str(),
            d["status"].as_str(),
            d["attempts"].as_u64()
        ),
        (
            Some("webhook"),
            Some("https://hooks.example.com/in"),
            Some("pending"),
            Some(0)
        )
    );
    let text = body.to_string();
    assert!(
        !text.contains("whsec_hidden") && !text.contains("pw@") && !text.contains("token=abc"),
        "{text}"
    );

    // Restricted: the admin sees its deliveries; an outsider gets the same 404 as for nothing.
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/v1/incidents/{secret_id}/deliveries"),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(
        (status, body["deliveries"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let (status, hidden) = app
        .call(
            Method::GET,
            &format!("/api/v1/incidents/{secret_id}/deliveries"),
            &viewer,
            None,
        )
        .await;
    let (_, missing) = app
        .call(
            Method::GET,
            "/api/v1/incidents/INC-20261122-999/deliveries",
            &viewer,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(hidden["error"]["code"], missing["error"]["code"]);
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/incidents/nonsense/deliveries",
            &viewer,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declaring_a_paging_incident_pages_the_on_call_person_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (log, hook_url) = common::receiver().await;
    let yaml = format!(
        r#"
people:
  - id: carol
    name: Carol Test
    time_zone: UTC
    contact_methods:
      - id: hook
        type: webhook
        address: {hook_url}
      - id: desk
        type: phone
        address: "+1 555 0100"
    notification_rules:
      - contact_method: hook
        after_minutes: 0
teams: []
schedules: []
escalation_policies:
  - id: default
    name: Test policy
    steps:
      - targets:
          - person: carol
        escalate_after: 15m
    repeat: 0
"#
    );
    let config =
        warroom_core::config::load(&[warroom_core::config::SourceFile::new("paging.yaml", &yaml)])
            .expect("test config");
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        "2026-11-22T10:00:00Z".parse().expect("time"),
    ));
    let (running, app) = start(&dir, None, config, clock).await;
    let (status, inc) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/incidents",
            &app.admin,
            Some(json!({"title": "Payments down", "severity": "P1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_str().expect("id").to_string();
    // Committed with the declaration: the page is waiting in the outbox.
    let path = format!("/api/v1/incidents/{id}/deliveries");
    let (_, body) = app
        .call(reqwest::Method::GET, &path, &app.admin, None)
        .await;
    let pending = body["deliveries"].as_array().expect("list").clone();
    assert_eq!(
        pending.len(),
        1,
        "one page, to the webhook (phones are display only): {body}"
    );
    assert_eq!(pending[0]["status"], "pending");
    assert_eq!(pending[0]["destination"], hook_url.as_str());

    running.engine.tick().await.expect("tick");
    running.engine.tick().await.expect("tick again");
    let (_, body) = app
        .call(reqwest::Method::GET, &path, &app.admin, None)
        .await;
    let d = &body["deliveries"][0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_u64()),
        (Some("delivered"), Some(1)),
        "{body}"
    );
    let received = log.lock().expect("log").clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].0, d["id"].as_str().expect("id"));
    assert_eq!(received[0].1["data"]["person"], "carol");
    assert_eq!(received[0].1["incident_id"], id.as_str());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_notification_rules_follow_up_until_someone_acknowledges() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (log, hook_url) = common::receiver().await;
    // Dave gets the page on his webhook at once and, five minutes on, on a second one (the
    // receiver tells them apart by query string); the step itself waits 15 minutes.
    let yaml = format!(
        r#"
people:
  - id: dave
    name: Dave Test
    time_zone: UTC
    contact_methods:
      - id: push
        type: webhook
        address: {hook_url}?push
      - id: backup
        type: webhook
        address: {hook_url}?backup
      - id: desk
        type: phone
        address: "+1 555 0101"
    notification_rules:
      - contact_method: push
        after_minutes: 0
      - contact_method: backup
        after_minutes: 5
      - contact_method: desk
        after_minutes: 1
teams: []
schedules: []
escalation_policies:
  - id: default
    name: Test policy
    steps:
      - targets:
          - person: dave
        escalate_after: 15m
    repeat: 0
"#
    );
    let config =
        warroom_core::config::load(&[warroom_core::config::SourceFile::new("paging.yaml", &yaml)])
            .expect("test config");
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        "2026-11-22T10:00:00Z".parse().expect("time"),
    ));
    let (running, app) = start(&dir, None, config, clock.clone()).await;
    let declare = |title: &str| json!({"title": title, "severity": "P1"});
    let (_, ignored) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/incidents",
            &app.admin,
            Some(declare("Queue stuck")),
        )
        .await;
    let (_, answered) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/incidents",
            &app.admin,
            Some(declare("Disk filling")),
        )
        .await;
    let ignored = ignored["id"].as_str().expect("id").to_string();
    let answered = answered["id"].as_str().expect("id").to_string();
    running.engine.tick().await.expect("tick");
    clock.advance(jiff::SignedDuration::from_mins(2));
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/incidents/{answered}/acknowledge"),
            &app.admin,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // 4m59s after the page nothing more has been sent.
    clock.advance(jiff::SignedDuration::from_secs(179));
    running.engine.tick().await.expect("tick");
    let destinations = |log: &Vec<(String, Value)>| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = log
            .iter()
            .map(|(_, body)| {
                (
                    body["incident_id"].as_str().unwrap_or("").to_string(),
                    body["data"]["type"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let pages = |kind: &str| -> Vec<(String, String)> {
        let mut v = vec![(ignored.clone(), kind.to_string())];
        if kind == "page" {
            v.push((answered.clone(), kind.to_string()));
        }
        v.sort();
        v
    };
    assert_eq!(
        destinations(&log.lock().expect("log")),
        pages("page"),
        "only the immediate pages so far"
    );

    // At five minutes the unanswered incident reaches Dave's backup hook; the acknowledged
    // one does not, and the phone number is never "sent".
    clock.advance(jiff::SignedDuration::from_secs(1));
    running.engine.tick().await.expect("tick");
    running.engine.tick().await.expect("tick again");
    let mut expected = pages("page");
    expected.push((ignored.clone(), "page_repeated".to_string()));
    expected.sort();
    assert_eq!(destinations(&log.lock().expect("log")), expected);
    let (_, timeline) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/incidents/{ignored}/events"),
            &app.admin,
            None,
        )
        .await;
    let repeated: Vec<&Value> = timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "page_repeated")
        .collect();
    assert_eq!(repeated.len(), 1, "{timeline}");
    assert_eq!(repeated[0]["data"]["contact_method"], "backup");
    // Firing again later sends nothing twice.
    clock.advance(jiff::SignedDuration::from_mins(1));
    running.engine.tick().await.expect("tick");
    assert_eq!(log.lock().expect("log").len(), 3);
    running.stop().await;
}
