//! The real `warroom` binary end to end: the getting-started tour against a real
//! `warroom serve` child process, plus the commands that need no server.

mod common;

use std::fs;
use std::process::Command;

use common::{BIN, Server, assert_one_error_line, free_port};
use serde_json::Value;

/// True for `PREFIX:LINE:COL: message` with numeric line and column.
fn is_located_problem(line: &str, prefix: &str) -> bool {
    let Some(rest) = line.strip_prefix(prefix).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let numeric =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next())
        && numeric(parts.next())
        && parts.next().is_some_and(|m| m.starts_with(' '))
}

/// `config check` on a directory with one bad file: exit 1, each problem located.
fn check_bad_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("roles.yaml"),
        "roles:\n  - id: incident-commander\n    name: Commander\n",
    )
    .expect("write");
    let bad = dir.path().join("severities.yaml");
    fs::write(
        &bad,
        "severities:\n  - id: P0\n    name: Critical\n    acknowledge_within: 15 minutes\n    update_every: 15m\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["config", "check"])
        .arg(dir.path())
        .output()
        .expect("run warroom");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let prefix = bad.display().to_string();
    assert!(
        stderr.lines().any(|l| is_located_problem(l, &prefix)),
        "no {prefix}:line:col line in {stderr:?}"
    );
    assert!(stderr.contains("15 minutes"), "{stderr}");
}

#[test]
fn readme_tour() {
    let server = Server::start();

    // Declare and work an incident through its whole life.
    let incident = server.ok_json(&[
        "declare",
        "--title",
        "Login failures spike",
        "--severity",
        "P1",
        "--type",
        "security-breach",
        "--service",
        "auth",
        "--label",
        "region=eu",
    ]);
    let id = incident["id"]
        .as_str()
        .expect("declared incident has an id")
        .to_string();
    assert_eq!(incident["severity"], "P1");
    assert_eq!(incident["labels"]["region"], "eu");

    assert!(server.ok(&["ack", &id]).contains(&id));
    server.ok(&[
        "assign",
        &id,
        "--role",
        "incident-commander",
        "--person",
        "alice",
    ]);
    server.ok(&["note", &id, "Blocked the offending IP range at the edge"]);
    let sev = server.ok(&["sev", &id, "P0", "--reason", "customer data exposed"]);
    assert!(sev.contains("P0"), "{sev}");
    let status = server.ok(&["status", &id, "contained"]);
    assert!(status.contains("contained"), "{status}");

    let timeline = server.ok(&["timeline", &id]);
    for needle in [
        "declared",
        "severity_changed",
        "customer data exposed",
        "alice",
    ] {
        assert!(
            timeline.contains(needle),
            "timeline lacks {needle:?}:\n{timeline}"
        );
    }

    server.ok(&[
        "resolve",
        &id,
        "--summary",
        "Rotated credentials and blocked the attacker",
    ]);
    server.ok(&["close", &id]);

    // The exports.
    let md = server.ok(&["show", &id]);
    assert!(
        md.starts_with(&format!("# {id}: Login failures spike")),
        "{md}"
    );
    for needle in [
        "alice",
        "customer data exposed",
        "Rotated credentials",
        "closed",
    ] {
        assert!(md.contains(needle), "markdown lacks {needle:?}:\n{md}");
    }
    assert_eq!(server.ok(&["show", &id, "--format", "md"]), md);
    let json: Value = serde_json::from_str(&server.ok(&["show", &id, "--format", "json"]))
        .expect("JSON export parses");
    assert_eq!(json["incident"]["id"], id.as_str());
    assert_eq!(json["incident"]["status"], "closed");
    let events = json["events"].as_array().expect("events");
    assert!(events.len() >= 8, "{} events", events.len());
    let csv = server.ok(&["show", &id, "--format", "csv"]);
    assert!(
        csv.starts_with("time,sequence,event,actor,details,hash"),
        "{csv}"
    );
    assert!(csv.contains("severity_changed"), "{csv}");

    // Listing: only the open incident matches.
    let human = server.ok(&[
        "declare",
        "--title",
        "Checkout errors",
        "--severity",
        "P1",
        "--type",
        "outage",
        "--service",
        "payments",
    ]);
    assert!(human.starts_with("Declared INC-"), "{human}");
    assert!(human.contains("(P1, outage): Checkout errors"), "{human}");
    let open_id = human
        .trim_start_matches("Declared ")
        .split_whitespace()
        .next()
        .expect("id in the declare line")
        .to_string();
    let list = server.ok(&["list", "--status", "open", "--severity", "P0,P1"]);
    assert!(list.starts_with("ID"), "{list}");
    assert!(list.contains("COMMANDER"), "{list}");
    assert!(list.contains(&open_id), "{list}");
    assert!(
        !list.contains(&id),
        "closed incident listed as open:\n{list}"
    );
    let listed = server.ok_json(&["list", "--all"]);
    assert_eq!(listed["incidents"].as_array().map(Vec::len), Some(2));

    // The hash chains hold.
    let verify = server.ok(&["verify"]);
    assert!(verify.starts_with("OK: 2 incidents, "), "{verify}");

    // A viewer token sees but may not declare.
    let created = server.ok_json(&["token", "create", "--name", "bot", "--role", "viewer"]);
    let token = created["token"].as_str().expect("token secret").to_string();
    let whoami = server.ok(&["--token", &token, "whoami"]);
    assert!(whoami.starts_with("bot (viewer"), "{whoami}");
    assert!(server.ok(&["--token", &token, "list"]).contains(&open_id));
    let refused = server.run(&[
        "--token",
        &token,
        "declare",
        "--title",
        "x",
        "--severity",
        "P3",
    ]);
    assert_one_error_line(&refused, "viewer declares");
    assert!(server.ok(&["token", "list"]).contains("bot"));

    check_bad_config();

    // Unknown and malformed ids: one line, exit 1.
    let missing = server.run(&["ack", "INC-19990101-999"]);
    assert_one_error_line(&missing, "unknown id");
    let malformed = server.run(&["close", "not-an-id"]);
    let line = assert_one_error_line(&malformed, "malformed id");
    assert!(line.contains("INC-YYYYMMDD-NNN"), "{line}");
}

#[test]
fn config_check_lists_located_problems() {
    check_bad_config();
}

#[test]
fn config_check_accepts_a_good_directory_and_show_prints_yaml() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("services.yml"),
        "services:\n  - id: api\n    name: API\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(dir.path())
        .output()
        .expect("run warroom");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("config OK: 4 severities, 7 roles, "),
        "{stdout}"
    );
    assert!(stdout.contains(", 1 services, "), "{stdout}");

    let out = Command::new(BIN)
        .args(["config", "show", "--config"])
        .arg(dir.path())
        .output()
        .expect("run warroom");
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        yaml.contains("severities:") && yaml.contains("id: api"),
        "{yaml}"
    );
}

#[test]
fn a_missing_config_directory_is_one_error_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["config", "check"])
        .arg(dir.path().join("nope"))
        .output()
        .expect("run warroom");
    let line = assert_one_error_line(&out, "missing config dir");
    assert!(
        line.starts_with("error: cannot read config directory "),
        "{line}"
    );
}

#[test]
fn an_unreachable_server_is_one_clear_line() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = Command::new(BIN)
        .args(["--server", &url, "--token", "t", "list"])
        .output()
        .expect("run warroom");
    let line = assert_one_error_line(&out, "unreachable server");
    assert_eq!(
        line,
        format!("error: cannot reach the Warroom server at {url}: is `warroom serve` running?")
    );
}

#[test]
fn a_remote_server_needs_a_token() {
    let out = Command::new(BIN)
        .args(["--server", "https://warroom.invalid", "whoami"])
        .env_remove("WARROOM_TOKEN")
        .output()
        .expect("run warroom");
    let line = assert_one_error_line(&out, "no token");
    assert_eq!(line, "error: no token: pass --token or set WARROOM_TOKEN");
}
