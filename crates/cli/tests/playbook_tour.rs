//! The playbook part of the tour through the real `warroom` binary: `init` and `config check`,
//! a server on the initialised config, playbooks attached by their triggers and by hand, the
//! checklist worked from the command line, triage, and the printable response plan.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::Duration;

use common::{BIN, Server, assert_one_error_line};
use serde_json::Value;

/// A playbook attached by hand only, with a phase due one second after declaration (so it is
/// overdue by the time the test looks) and a command with a param.
const DRILL: &str = r#"playbooks:
  - id: tour-drill
    title: Tour drill
    description: A drill for the CLI tour; attached by hand only.
    params:
      - name: host
        description: Host to block
    phases:
      - id: now
        title: Right now
        time_box: 0-1s
        tasks:
          - id: block
            text: Block the host at the edge
            owner: security-lead
            commands:
              - "fw block {{host}} --incident {{incident_id}}"
              - "fw show {{incident_id}}"
      - id: review
        title: Review
        time_box: within 48h of resolve
        tasks:
          - id: write-up
            text: Write it up
            owner: incident-commander
"#;

/// `warroom ARGS` with no server and no token, from a clean environment.
fn local(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("WARROOM_TOKEN")
        .env_remove("WARROOM_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run warroom")
}

fn local_ok(args: &[&str]) -> String {
    let out = local(args);
    assert!(
        out.status.success(),
        "warroom {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

/// `task list --json`'s tasks.
fn tasks(server: &Server, id: &str) -> Vec<Value> {
    let answer = server.ok_json(&["task", "list", id]);
    answer["tasks"].as_array().expect("tasks").clone()
}

fn task(tasks: &[Value], number: u64) -> &Value {
    tasks
        .iter()
        .find(|t| t["number"] == number)
        .unwrap_or_else(|| panic!("no task {number} in {tasks:?}"))
}

/// `warroom init` then `config check`: the written directory loads, and loads as exactly the
/// built-in config.
fn init_gives_the_builtin_config(dir: &Path) {
    let out = local_ok(&["init", path(dir)]);
    assert!(out.contains("severities.yaml"), "{out}");
    assert!(
        out.contains(&format!("warroom config check {}", path(dir))),
        "{out}"
    );
    assert!(
        out.contains(&format!("warroom serve --config {}", path(dir))),
        "{out}"
    );
    let check = local_ok(&["config", "check", path(dir)]);
    assert!(check.starts_with("config OK: "), "{check}");
    assert_eq!(
        local_ok(&["config", "show", "--config", path(dir)]),
        local_ok(&["config", "show"]),
        "the initialised directory loads as something other than the built-in config"
    );
    // Again: refused, and nothing changed; --force overwrites.
    let again = local(&["init", path(dir)]);
    let line = assert_one_error_line(&again, "init over an existing directory");
    assert!(line.contains("--force"), "{line}");
    local_ok(&["init", "--force", path(dir)]);
}

/// A built-in playbook that attaches on incident type (and maybe labels) alone, so an
/// incident can be declared to match it: (id, title, type, labels).
fn matchable(playbooks: &[Value]) -> (String, String, String, Vec<String>) {
    let pb = playbooks
        .iter()
        .find(|p| {
            let t = &p["triggers"];
            t["types"].as_array().is_some_and(|a| !a.is_empty())
                && t.get("services").is_none()
                && t.get("severity").is_none()
        })
        .expect("a built-in playbook triggered by type and labels only");
    let labels = pb["triggers"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().expect("label value")))
                .collect()
        })
        .unwrap_or_default();
    (
        pb["id"].as_str().expect("id").to_string(),
        pb["title"].as_str().expect("title").to_string(),
        pb["triggers"]["types"][0]
            .as_str()
            .expect("type")
            .to_string(),
        labels,
    )
}

#[test]
fn playbook_tour() {
    let root = tempfile::tempdir().expect("tempdir");
    let config = root.path().join("my-config");
    init_gives_the_builtin_config(&config);
    fs::write(config.join("playbooks").join("tour-drill.yaml"), DRILL).expect("write drill");
    let check = local_ok(&["config", "check", path(&config)]);
    assert!(check.contains(" playbooks"), "{check}");

    let server = Server::start_with(&["--config", path(&config)]);

    // The playbooks: the built-in library plus the drill.
    let listed = server.ok_json(&["playbook", "list"]);
    let playbooks = listed["playbooks"].as_array().expect("playbooks").clone();
    assert!(playbooks.iter().any(|p| p["id"] == "tour-drill"));
    let human = server.ok(&["playbook", "list"]);
    assert!(human.starts_with("ID"), "{human}");
    assert!(human.contains("ATTACHES WHEN"), "{human}");
    let drill_row = human
        .lines()
        .find(|l| l.starts_with("tour-drill "))
        .unwrap_or_else(|| panic!("no tour-drill row:\n{human}"));
    assert!(drill_row.ends_with("attached by hand"), "{drill_row}");
    let shown = server.ok(&["playbook", "show", "tour-drill"]);
    for needle in [
        "Tour drill (tour-drill)",
        "Right now [now] — 0-1s after declaration",
        "- block (owner: security-lead)",
        "$ fw block {{host}} --incident {{incident_id}}",
        "Review [review] — within 48h of resolve",
        "host  Host to block",
    ] {
        assert!(shown.contains(needle), "{needle:?} not in:\n{shown}");
    }
    let missing = server.run(&["playbook", "show", "no-such-playbook"]);
    assert_one_error_line(&missing, "unknown playbook");

    // Declared to match a built-in playbook: it attaches by itself.
    let (builtin, builtin_title, incident_type, labels) = matchable(&playbooks);
    let mut declare = vec![
        "declare",
        "--title",
        "Deploy key leaked",
        "--severity",
        "P1",
        "--type",
        &incident_type,
    ];
    for label in &labels {
        declare.extend(["--label", label]);
    }
    let incident = server.ok_json(&declare);
    let id = incident["id"].as_str().expect("id").to_string();
    let checklist = tasks(&server, &id);
    assert!(
        checklist.iter().any(|t| t["playbook"] == builtin.as_str()),
        "{builtin} did not attach to a {incident_type} incident with {labels:?}"
    );
    assert!(checklist.iter().all(|t| t["state"] == "open"));

    // Worked by number.
    let done = server.ok(&["task", "done", &id, "1"]);
    assert!(done.starts_with(&format!("{id}: task 1 ")), "{done}");
    assert!(done.trim_end().ends_with(" done"), "{done}");
    server.ok(&["task", "skip", &id, "2", "--reason", "covered by task 1"]);
    let checklist = tasks(&server, &id);
    assert_eq!(task(&checklist, 1)["state"], "done");
    assert_eq!(task(&checklist, 2)["state"], "skipped");
    assert_eq!(task(&checklist, 2)["reason"], "covered by task 1");
    let again = server.run(&["task", "done", &id, "1"]);
    assert_one_error_line(&again, "done twice");
    let nowhere = server.run(&["task", "done", &id, "9999"]);
    let line = assert_one_error_line(&nowhere, "no such task number");
    assert!(line.contains("no task number 9999"), "{line}");
    let reopened = server.ok(&["task", "reopen", &id, "1"]);
    assert!(reopened.contains("reopened"), "{reopened}");
    server.ok(&["task", "done", &id, "1"]);

    // Attached by hand; its one-second phase is overdue by the time we look.
    let attached = server.ok(&["playbook", "attach", &id, "tour-drill"]);
    assert!(
        attached.starts_with(&format!("Attached tour-drill to {id}: 2 tasks")),
        "{attached}"
    );
    sleep(Duration::from_millis(1_500));
    let answer = server.ok_json(&["task", "list", &id]);
    let checklist = answer["tasks"].as_array().expect("tasks").clone();
    let block = checklist
        .iter()
        .find(|t| t["playbook"] == "tour-drill" && t["task"] == "block")
        .expect("the drill's block task");
    assert_eq!(block["overdue"], true, "{block}");
    let number = block["number"].as_u64().expect("number");
    let open = checklist.iter().filter(|t| t["state"] == "open").count();
    let overdue = answer["overdue"].as_u64().expect("overdue count");
    assert!(overdue >= 1);

    let list = server.ok(&["task", "list", &id]);
    assert!(
        list.starts_with(&format!("{id}: Deploy key leaked (P1, ")),
        "{list}"
    );
    assert!(
        list.contains(&format!("\n{builtin_title} ({builtin})\n")),
        "{list}"
    );
    assert!(
        list.contains("\nTour drill (tour-drill)\n  Right now (0-1s after declaration)\n"),
        "{list}"
    );
    assert!(list.contains("    1. [x] "), "{list}");
    assert!(list.contains("    2. [-] "), "{list}");
    assert!(
        list.contains("skipped by admin: covered by task 1"),
        "{list}"
    );
    let overdue_line = list
        .lines()
        .find(|l| l.contains("Block the host at the edge"))
        .expect("the block task's line");
    assert!(
        overdue_line.ends_with(&format!("{number}. [ ] OVERDUE Block the host at the edge")),
        "{overdue_line}"
    );
    assert!(!list.contains('\x1b'), "colour in a pipe:\n{list}");
    assert!(
        list.trim_end().ends_with(&format!(
            "{open} open, {overdue} overdue, 1 done, 1 skipped"
        )),
        "{list}"
    );

    // Commands, ready to paste: nothing else on stdout; a missing value named on stderr.
    let out = server.run(&["task", "commands", &id, "block"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("fw block <HOST> --incident {id}\nfw show {id}\n")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("<HOST> is not filled in: pass --param host=VALUE (Host to block)"),
        "{stderr}"
    );
    let out = server.run(&[
        "task",
        "commands",
        &id,
        "tour-drill/block",
        "--param",
        "host=203.0.113.7",
    ]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("fw block 203.0.113.7 --incident {id}\nfw show {id}\n")
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = server.run(&["task", "commands", &id, "block", "--param", "host"]);
    assert_one_error_line(&bad, "param without a value");

    server.ok(&[
        "playbook",
        "detach",
        &id,
        "tour-drill",
        "--reason",
        "drill over",
    ]);
    assert!(
        tasks(&server, &id)
            .iter()
            .all(|t| t["playbook"] != "tour-drill"),
        "tour-drill still attached"
    );

    // Triage.
    let suggestion = server.ok_json(&[
        "triage",
        "--answer",
        "service-down=yes",
        "--answer",
        "workaround=yes",
    ]);
    assert_eq!(suggestion["severity"], "P2", "{suggestion}");
    assert_eq!(suggestion["reasons"].as_array().map(Vec::len), Some(2));
    let unknown = server.run(&["triage", "--answer", "is-it-bad=yes"]);
    let line = assert_one_error_line(&unknown, "unknown triage key");
    assert!(
        line.contains("is-it-bad") && line.contains("service-down"),
        "{line}"
    );
    let declared = server.ok(&[
        "triage",
        "--answer",
        "service-down=yes",
        "--declare",
        "--title",
        "Checkout is down",
        "--type",
        "outage",
        "--service",
        "payments",
    ]);
    assert!(
        declared.starts_with("Suggested severity: P1\n"),
        "{declared}"
    );
    assert!(
        declared.contains("Declared INC-") && declared.contains("(P1, outage): Checkout is down"),
        "{declared}"
    );

    // The printable plan.
    let docs = root.path().join("docs");
    let written = local_ok(&[
        "docs",
        "export",
        "--format",
        "md",
        "--config",
        path(&config),
        path(&docs),
    ]);
    let plan_path = docs.join("response-plan.md");
    assert_eq!(written.trim_end(), path(&plan_path));
    let plan = fs::read_to_string(&plan_path).expect("the plan");
    for needle in [
        "## Severity levels",
        "| Level | Name | Acknowledge within |",
        "| P0 |",
        "### Tour drill (`tour-drill`)",
        &format!("### {builtin_title} (`{builtin}`)"),
    ] {
        assert!(plan.contains(needle), "the plan lacks {needle:?}");
    }
    let pdf = local(&["docs", "export", "--format", "pdf", path(&docs)]);
    let line = assert_one_error_line(&pdf, "unsupported format");
    assert!(line.contains("only md"), "{line}");
}
