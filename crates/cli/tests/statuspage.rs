//! `warroom statuspage ...` end to end against a real `warroom serve`: publish an incident with
//! a component down, post updates, resolve, run a maintenance, and check the public page
//! agrees; bad input fails with one line naming the flag.

mod common;

use common::{Server, assert_one_error_line, health_ok};

/// The public page's body, fetched without a token, through a bare socket.
fn public(server: &Server, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let addr = server.url.trim_start_matches("http://");
    assert!(health_ok(addr));
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
    answer
}

#[test]
fn publish_update_resolve_and_maintenance_from_the_cli() {
    let server = Server::start();
    let declared = server.ok_json(&[
        "declare",
        "--title",
        "INTERNAL db-7 replica lag",
        "--severity",
        "P2",
    ]);
    let id = declared["id"].as_str().expect("id").to_string();

    let components = server.ok(&["statuspage", "component", "list"]);
    assert!(
        components.contains("api") && components.contains("operational"),
        "{components}"
    );

    let published = server.ok(&[
        "statuspage",
        "incident",
        &id,
        "--publish",
        "--title",
        "Slow API responses",
        "--component",
        "api=degraded-performance",
    ]);
    assert!(
        published.starts_with(&format!("Published {id} to the status page as sp_")),
        "{published}"
    );
    let shown = server.ok(&["statuspage", "incident", &id]);
    assert!(
        shown.contains("\"Slow API responses\"  investigating"),
        "{shown}"
    );
    let page = public(&server, "/status");
    assert!(page.contains("Slow API responses") && page.contains("Degraded performance"));
    assert!(!page.contains("INTERNAL"));

    let updated = server.ok_json(&[
        "statuspage",
        "update",
        &id,
        "--status",
        "identified",
        "--message",
        "A slow query is the cause.",
    ]);
    assert_eq!(updated["status"], "identified");
    server.ok(&[
        "statuspage",
        "update",
        &id,
        "--status",
        "resolved",
        "--message",
        "Response times are normal again.",
    ]);
    let listed = server.ok_json(&["statuspage", "component", "list"]);
    let api = listed["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["id"] == "api")
        .expect("api")
        .clone();
    assert_eq!(api["status"], "operational", "{listed}");
    let timeline = server.ok(&["timeline", &id]);
    assert!(
        timeline.contains("Published to the status page as \"Slow API responses\""),
        "{timeline}"
    );
    assert!(
        timeline.contains("Status page update (resolved)"),
        "{timeline}"
    );

    let created = server.ok_json(&[
        "statuspage",
        "maintenance",
        "create",
        "--title",
        "Database upgrade",
        "--component",
        "api",
        "--start",
        "+1h",
        "--end",
        "+3h",
    ]);
    let mid = created["id"].as_str().expect("id").to_string();
    let table = server.ok(&["statuspage", "maintenance", "list"]);
    assert!(
        table.contains(&mid) && table.contains("scheduled"),
        "{table}"
    );
    server.ok(&[
        "statuspage",
        "maintenance",
        "update",
        &mid,
        "--status",
        "in-progress",
        "--message",
        "Started.",
    ]);
    let summary = public(&server, "/api/v2/summary.json");
    assert!(summary.contains("\"under_maintenance\""), "{summary}");
}

#[test]
fn bad_input_fails_with_one_line_naming_the_flag() {
    let server = Server::start();
    let declared = server.ok_json(&["declare", "--title", "Errors", "--severity", "P3"]);
    let id = declared["id"].as_str().expect("id").to_string();
    let line = assert_one_error_line(
        &server.run(&[
            "statuspage",
            "incident",
            &id,
            "--publish",
            "--component",
            "api=down",
        ]),
        "bad component status",
    );
    assert!(
        line.contains("--component") && line.contains("major_outage"),
        "{line}"
    );
    let line = assert_one_error_line(
        &server.run(&[
            "statuspage",
            "incident",
            &id,
            "--publish",
            "--component",
            "nope=operational",
        ]),
        "unknown component",
    );
    assert!(line.contains("components.nope"), "{line}");
    let line = assert_one_error_line(
        &server.run(&["statuspage", "update", &id, "--message", "x"]),
        "not published",
    );
    assert!(line.contains("publish it first"), "{line}");
    let line = assert_one_error_line(
        &server.run(&["statuspage", "component", "set", "api", "broken"]),
        "bad status",
    );
    assert!(line.contains("STATUS"), "{line}");
}
