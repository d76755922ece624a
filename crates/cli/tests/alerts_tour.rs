//! `warroom integration` and `warroom alerts` end to end: the real binary against a real
//! `warroom serve`, with an alert sent the way a PagerDuty-speaking tool sends it.

mod common;

use std::time::{Duration, Instant};

use common::{Server, assert_one_error_line};
use serde_json::{Value, json};

/// Polls `check` until it returns something, for at most a generous deadline (the engine links
/// alerts within about a second); never a timing assertion.
fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn post(url: &str, body: &Value) -> (u16, Value) {
    // reqwest is built without a TLS provider of its own; an Err means one is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .post(url)
            .json(body)
            .send()
            .await
            .expect("sent");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    })
}

#[test]
fn integrations_and_alerts_from_the_command_line() {
    let server = Server::start();
    let created = server.ok_json(&[
        "integration",
        "create",
        "--service",
        "api",
        "--name",
        "prometheus-prod",
    ]);
    let key = created["routing_key"]
        .as_str()
        .expect("routing key")
        .to_string();
    assert_eq!(key.len(), 32);
    let listed = server.ok(&["integration", "list"]);
    assert!(
        listed.contains("prometheus-prod") && !listed.contains(&key),
        "{listed}"
    );
    let out = server.run(&["integration", "create", "--service", "nope"]);
    assert!(assert_one_error_line(&out, "unknown service").contains("nope"));

    let (status, answer) = post(
        &format!("{}/v2/enqueue", server.url),
        &json!({ "routing_key": key, "event_action": "trigger", "dedup_key": "api-5xx",
                 "payload": { "summary": "5xx above 5% on /checkout", "source": "web-1", "severity": "critical" } }),
    );
    assert_eq!(
        (status, answer["dedup_key"].as_str()),
        (202, Some("api-5xx")),
        "{answer}"
    );
    let alert = eventually("the alert to open an incident", || {
        let list = server.ok_json(&["alerts", "list", "--status", "open"]);
        list["alerts"]
            .as_array()
            .and_then(|a| a.first().cloned())
            .filter(|a| a["incident_id"].is_string())
    });
    let id = alert["id"].as_str().expect("id").to_string();
    let incident = alert["incident_id"].as_str().expect("incident").to_string();
    let table = server.ok(&["alerts", "list"]);
    assert!(
        table.contains(&id) && table.contains(&incident) && table.contains("5xx above 5%"),
        "{table}"
    );
    let shown = server.ok(&["alerts", "show", &id]);
    assert!(
        shown.contains("dedup key: api-5xx") && shown.contains("opened"),
        "{shown}"
    );
    assert!(server.ok(&["alerts", "ack", &id]).contains(&id));
    let out = server.run(&["alerts", "ack", &id]);
    assert_one_error_line(&out, "already acknowledged");
    assert!(server.ok(&["alerts", "resolve", &id]).contains("Resolved"));
    eventually("the incident to move to recovering", || {
        let shown = server.ok_json(&["show", &incident]);
        (shown["incident"]["status"] == "recovering").then_some(())
    });
    let out = server.run(&["alerts", "show", "alr_nope"]);
    assert_one_error_line(&out, "no alert");

    // Rotation: a new key printed once, the old one good until the time shown.
    let integration = created["id"].as_str().expect("integration id").to_string();
    let rotated = server.ok(&["integration", "rotate", &integration, "--grace", "1h"]);
    assert!(
        rotated.contains("New routing key") && rotated.contains("The old key keeps working until"),
        "{rotated}"
    );
    let rotated = server.ok_json(&["integration", "rotate", &integration]);
    let new_key = rotated["routing_key"]
        .as_str()
        .expect("new key")
        .to_string();
    assert_ne!(new_key, key);
    let trigger = |k: &str| {
        json!({ "routing_key": k, "event_action": "trigger", "dedup_key": "after-rotation",
                "payload": { "summary": "after rotation", "source": "web-1", "severity": "warning" } })
    };
    let url = format!("{}/v2/enqueue", server.url);
    assert_eq!(post(&url, &trigger(&new_key)).0, 202);
    // The key two rotations ago is no longer accepted; the list says the key was rotated.
    assert_eq!(post(&url, &trigger(&key)).0, 400);
    let listed = server.ok(&["integration", "list"]);
    assert!(listed.contains("rotated"), "{listed}");
    let out = server.run(&["integration", "rotate", &integration, "--grace", "90d"]);
    assert_one_error_line(&out, "grace");

    let revoked = server.ok(&["integration", "revoke", &integration]);
    assert!(revoked.contains("Revoked integration"), "{revoked}");
    assert_eq!(post(&url, &trigger(&new_key)).0, 400);
    assert!(server.ok(&["integration", "list"]).contains("revoked"));
    let out = server.run(&["integration", "revoke", "int_nope"]);
    assert_one_error_line(&out, "no integration");

    // Paging: two alerts now, newest first, one per page. Ids only: the engine may still be
    // linking the newer one, which changes its incident between two reads.
    let ids = |list: &Value| -> Vec<String> {
        list["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_string())
            .collect()
    };
    let whole = ids(&server.ok_json(&["alerts", "list"]));
    assert_eq!(whole.len(), 2, "{whole:?}");
    let first = server.ok_json(&["alerts", "list", "--limit", "1"]);
    assert_eq!(ids(&first), whole[..1]);
    let next = first["next_cursor"].as_str().expect("a next page");
    let second = server.ok_json(&["alerts", "list", "--limit", "1", "--cursor", next]);
    assert_eq!(ids(&second), whole[1..]);
    let all = server.ok_json(&["alerts", "list", "--limit", "1", "--all"]);
    assert_eq!(
        (ids(&all), &all["next_cursor"]),
        (whole.clone(), &Value::Null)
    );
    let out = server.run(&["alerts", "list", "--limit", "1"]);
    assert!(out.status.success());
    let hint = String::from_utf8_lossy(&out.stderr);
    assert!(
        hint.contains("--cursor") && hint.contains("--all"),
        "{hint}"
    );
    let recent = server.ok_json(&["alerts", "list", "--since", "1h"]);
    assert_eq!(ids(&recent), whole);
    let out = server.run(&["alerts", "list", "--cursor", "bogus"]);
    assert_one_error_line(&out, "cursor");
    let out = server.run(&["alerts", "list", "--limit", "0"]);
    assert!(!out.status.success());
}
