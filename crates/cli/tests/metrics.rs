//! `warroom actions`, `warroom metrics` and `warroom report` end to end, against a real server.

mod common;

use common::{Server, assert_one_error_line};

#[test]
fn actions_metrics_and_report_from_the_command_line() {
    let server = Server::start();
    let declared = server.ok_json(&["declare", "--title", "Payments down", "--severity", "P2"]);
    let id = declared["id"].as_str().expect("id").to_string();

    let line = server.ok(&[
        "actions",
        "add",
        &id,
        "--title",
        "Alert on queue depth",
        "--owner",
        "alice",
        "--due",
        "2026-12-01",
        "--priority",
        "P1",
        "--ticket",
        "https://tracker.example/OPS-7",
    ]);
    assert_eq!(
        line.trim(),
        format!("{id} A1 [p1, open] alice, due 2026-12-01: Alert on queue depth")
    );
    let item = server.ok_json(&[
        "actions",
        "add",
        &id,
        "--title",
        "Runbook",
        "--owner",
        "bob",
        "--due",
        "2030-01-31",
    ]);
    assert_eq!(
        (item["id"].as_str(), item["priority"].as_str()),
        (Some("A2"), Some("p3")),
        "{item}"
    );

    // Bad input: one clear line, non-zero exit, nothing written.
    let bad_owner = server.run(&[
        "actions",
        "add",
        &id,
        "--title",
        "x",
        "--owner",
        "mallory",
        "--due",
        "2026-12-01",
    ]);
    assert_eq!(bad_owner.status.code(), Some(1));
    assert!(assert_one_error_line(&bad_owner, "an unknown owner").contains("owner"));
    let bad_date = server.run(&[
        "actions", "add", &id, "--title", "x", "--owner", "alice", "--due", "friday",
    ]);
    assert_eq!(bad_date.status.code(), Some(1));
    assert!(assert_one_error_line(&bad_date, "a bad date").contains("--due"));
    let nothing = server.run(&["actions", "update", &id, "A1"]);
    assert_eq!(nothing.status.code(), Some(1));
    assert_one_error_line(&nothing, "an update without fields");

    let updated = server.ok(&["actions", "update", &id, "A1", "--status", "in-progress"]);
    assert!(updated.contains("[p1, in_progress]"), "{updated}");

    let table = server.ok(&["actions", "list", "--owner", "alice"]);
    let mut lines = table.lines();
    assert!(
        lines.next().is_some_and(|h| h.starts_with("INCIDENT")),
        "{table}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "{table}");
    assert!(
        rows[0].contains("A1") && rows[0].contains("in_progress"),
        "{table}"
    );
    let listed = server.ok_json(&["actions", "list", "--open"]);
    assert_eq!(
        listed["actions"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );

    let metrics = server.ok(&["metrics", &id]);
    assert!(
        metrics.starts_with(&format!("{id} (P2, triage)")),
        "{metrics}"
    );
    assert!(metrics.contains("Time to acknowledge: -"), "{metrics}");
    let json = server.ok_json(&["metrics", &id]);
    assert_eq!(json["incident_id"], id.as_str());

    let md = server.ok(&["report", "--since", "7d", "--by", "severity"]);
    assert!(md.starts_with("# Incident report"), "{md}");
    assert!(md.contains("| P2 | 1 | 1 |"), "{md}");
    let csv = server.ok(&["report", "--format", "csv"]);
    assert!(csv.starts_with("row,key,incidents"), "{csv}");
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("total,all,1,1,0,")),
        "{csv}"
    );
    let json = server.ok_json(&["report"]);
    assert_eq!(json["total"]["actions_open"], 2, "{json}");
    let bad = server.run(&["report", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(assert_one_error_line(&bad, "a bad window").contains("since"));
}
