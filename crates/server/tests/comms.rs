//! Communications through the real server: templates, drafts, sending to a real HTTP receiver
//! through the outbox, notification clocks with reminders fired by the engine on an injected
//! clock, and the same invisibility of restricted incidents as everywhere else.

mod common;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warroom_core::{Clock, ManualClock};
use warroom_server::ServeOptions;

struct App {
    base: String,
    admin: String,
    http: reqwest::Client,
}

impl App {
    async fn call(
        &self,
        method: Method,
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

    async fn token(&self, name: &str, role: &str) -> String {
        let (s, body) = self
            .call(
                Method::POST,
                "/api/v1/tokens",
                &self.admin,
                Some(json!({ "name": name, "role": role })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("token").to_string()
    }

    async fn kinds(&self, id: &str) -> Vec<String> {
        let (_, body) = self
            .call(
                Method::GET,
                &format!("/api/v1/incidents/{id}/events"),
                &self.admin,
                None,
            )
            .await;
        body["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["kind"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn config(hook: &str) -> warroom_core::Config {
    let yaml = format!(
        r#"
people:
  - id: carol
    name: Carol Comms
    time_zone: UTC
    contact_methods:
      - id: hook
        type: webhook
        address: {hook}
teams: []
schedules: []
escalation_policies: []
comms:
  organisation:
    name: Test Corp
    contact: help@test.example
  channels:
    - id: room
      name: Incident room
      type: webhook
      address: {hook}
message_templates:
  - id: broken-at-runtime
    name: Uses a field that does not exist
    audience: internal
    subject: "{{{{ incident.id }}}}"
    body: |
      fine
      {{{{ incident.no_such_field }}}}
"#
    );
    warroom_core::config::load(&[warroom_core::config::SourceFile::new("comms.yaml", &yaml)])
        .expect("test config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_drafted_sent_delivered_and_meet_their_clocks() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (received, hook) = common::receiver().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        "2026-11-20T09:00:00Z".parse().expect("time"),
    ));
    let running = warroom_server::start(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: None,
            config: config(&hook),
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
    let app = App {
        base: format!("http://{}", running.addr),
        admin: running.created_admin_token.clone().expect("admin token"),
        http: reqwest::Client::new(),
    };
    let viewer = app.token("vic", "viewer").await;
    let responder = app.token("rita", "responder").await;

    let (s, list) = app
        .call(Method::GET, "/api/v1/templates", &viewer, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = list["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"regulator-notification") && ids.contains(&"broken-at-runtime"),
        "{ids:?}"
    );

    let (s, inc) = app
        .call(
            Method::POST,
            "/api/v1/incidents",
            &responder,
            Some(json!({ "title": "Customer export bucket was public", "severity": "P2",
                "type": "data-breach", "labels": { "personal-data": "yes", "jurisdiction": "EU" } })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_str().expect("id").to_string();
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{id}/roles"),
            &app.admin,
            Some(json!({ "role": "communications-lead", "person": "carol" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // The clock runs from the declaration until awareness is recorded; a future moment is a typo.
    let path = format!("/api/v1/incidents/{id}/deadlines");
    let (s, d) = app.call(Method::GET, &path, &viewer, None).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["deadlines"][0]["rule"], "gdpr-art33");
    assert_eq!(d["deadlines"][0]["due_at"], "2026-11-23T09:00:00Z");
    assert_eq!(d["deadlines"][0]["seconds_left"], 72 * 3600);
    assert_eq!(d["updates"]["overdue"], false);
    let moments = format!("/api/v1/incidents/{id}/moments");
    let (s, err) = app
        .call(
            Method::POST,
            &moments,
            &responder,
            Some(json!({ "moment": "aware", "at": "2026-11-21T00:00:00Z" })),
        )
        .await;
    assert_eq!(
        (s, &err["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("at")),
        "{err}"
    );
    let (s, _) = app
        .call(
            Method::POST,
            &moments,
            &responder,
            Some(json!({ "moment": "aware", "at": "2026-11-20T06:00:00Z" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, d) = app.call(Method::GET, &path, &viewer, None).await;
    assert_eq!(d["deadlines"][0]["due_at"], "2026-11-23T06:00:00Z");

    // Drafts: the incident fills the template; a broken template names itself and its line.
    let (s, draft) = app
        .call(
            Method::GET,
            &format!("/api/v1/incidents/{id}/messages/regulator-notification/draft"),
            &viewer,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{draft}");
    assert!(
        draft["subject"].as_str().is_some_and(|t| t.contains(&id)),
        "{draft}"
    );
    assert!(
        draft["body"]
            .as_str()
            .is_some_and(|t| t.contains("Test Corp")),
        "{draft}"
    );
    let (s, err) = app
        .call(
            Method::GET,
            &format!("/api/v1/incidents/{id}/messages/broken-at-runtime/draft"),
            &viewer,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("template broken-at-runtime, body line 2")),
        "{err}"
    );

    // Sending: viewers cannot; bad recipients are refused by field; a responder's message is
    // recorded with who sent what to whom, and meets the regulator clock.
    let send = format!("/api/v1/incidents/{id}/messages");
    let body = json!({ "template": "regulator-notification", "to": ["room"] });
    let (s, _) = app
        .call(Method::POST, &send, &viewer, Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, err) = app
        .call(
            Method::POST,
            &send,
            &responder,
            Some(json!({ "template": "regulator-notification", "to": ["nobody"] })),
        )
        .await;
    assert_eq!(
        (s, &err["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("to")),
        "{err}"
    );
    clock.set("2026-11-20T10:00:00Z".parse().expect("time"));
    let (s, sent) = app.call(Method::POST, &send, &responder, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    let event = &sent["event"];
    assert_eq!(
        (&event["kind"], &event["actor"]),
        (&json!("update_posted"), &json!("rita"))
    );
    assert_eq!(event["data"]["to"], json!(["room"]));
    assert_eq!(event["data"]["meets"], json!(["gdpr-art33"]));
    assert_eq!(event["data"]["audience"], "regulators");
    // An edited draft is sent as edited.
    let (s, sent) = app
        .call(
            Method::POST,
            &send,
            &responder,
            Some(
                json!({ "template": "internal-update", "to": ["room", "carol"],
                "subject": "Edited subject", "text": "Edited text" }),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");

    // Delivered by the engine to the real receiver: one message per distinct channel.
    running.engine.tick().await.expect("tick");
    running.engine.tick().await.expect("tick again");
    let got = received.lock().expect("log").clone();
    // Sent in one round, so in no particular order; room and carol share a URL.
    let mut templates: Vec<&str> = got
        .iter()
        .filter_map(|(_, b)| b["data"]["template"].as_str())
        .collect();
    templates.sort_unstable();
    assert_eq!(
        templates,
        ["internal-update", "regulator-notification"],
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(_, b)| b["data"]["text"] == "Edited text" && b["subject"] == "Edited subject")
    );
    assert!(got.iter().all(|(key, _)| key.starts_with("msg_")));
    let (_, d) = app.call(Method::GET, &path, &viewer, None).await;
    assert_eq!(
        (&d["deadlines"][0]["state"], &d["updates"]["overdue"]),
        (&json!("met"), &json!(false)),
        "{d}"
    );

    // A second breach, left alone: the engine reminds carol a day before its clock runs out.
    let (_, other) = app
        .call(
            Method::POST,
            "/api/v1/incidents",
            &responder,
            Some(
                json!({ "title": "Leaked API keys", "severity": "P2", "type": "security-breach",
                "labels": { "personal-data": "yes", "jurisdiction": "EEA" } }),
            ),
        )
        .await;
    let other = other["id"].as_str().expect("id").to_string();
    app.call(
        Method::POST,
        &format!("/api/v1/incidents/{other}/roles"),
        &app.admin,
        Some(json!({ "role": "communications-lead", "person": "carol" })),
    )
    .await;
    clock.set("2026-11-22T10:00:00Z".parse().expect("time"));
    running.engine.tick().await.expect("tick");
    running.engine.tick().await.expect("tick again");
    let kinds = app.kinds(&other).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "deadline_approaching")
            .count(),
        1,
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"deadline_missed".to_string()));
    let reminders: Vec<Value> = received
        .lock()
        .expect("log")
        .iter()
        .filter(|(_, b)| {
            b["data"]["event"] == "deadline_approaching" || b["event"] == "deadline_approaching"
        })
        .map(|(_, b)| b.clone())
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    clock.set("2026-11-23T12:00:00Z".parse().expect("time"));
    running.engine.tick().await.expect("tick");
    let kinds = app.kinds(&other).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "deadline_missed").count(),
        1,
        "{kinds:?}"
    );
    // The first incident met its clock: nothing fired there.
    assert!(
        !app.kinds(&id)
            .await
            .iter()
            .any(|k| k.starts_with("deadline_"))
    );
    assert_eq!(clock.now(), "2026-11-23T12:00:00Z".parse().expect("time"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restricted_incidents_keep_their_messages_and_clocks_to_themselves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new(
        "2026-11-20T09:00:00Z".parse().expect("time"),
    ));
    let running = warroom_server::start(
        ServeOptions {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: None,
            config: config("http://127.0.0.1:9/hook"),
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
    let outsider = app.token("olga", "responder").await;
    let (s, inc) = app
        .call(
            Method::POST,
            "/api/v1/incidents",
            &app.admin,
            Some(json!({ "title": "Insider exfiltration", "severity": "P1", "restricted": true,
                "type": "data-breach", "labels": { "personal-data": "yes", "jurisdiction": "EU" } })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_str().expect("id");
    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/incidents/{id}/deadlines"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/incidents/{id}/messages/internal-update/draft"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/incidents/{id}/messages"),
            Some(json!({ "template": "internal-update", "to": ["room"] })),
        ),
        (
            Method::POST,
            format!("/api/v1/incidents/{id}/moments"),
            Some(json!({ "moment": "aware" })),
        ),
    ] {
        let (s, body) = app.call(method.clone(), &path, &outsider, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert!(!body.to_string().contains("exfiltration"), "{body}");
    }
    let (s, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/incidents/{id}/deadlines"),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    running.stop().await;
}
