//! `warroom user create|list` against a real server: passwords come from stdin or a file,
//! never from arguments, and never appear in any output or the server log.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::{BIN, Server, assert_one_error_line};

const PASSWORD: &str = "a long enough pass phrase";

fn create_with_stdin(server: &Server, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(&server.data_dir)
        .args(["user", "create"])
        .args(args)
        .env("WARROOM_URL", &server.url)
        .env_remove("WARROOM_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run warroom");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the password");
    child.wait_with_output().expect("finish")
}

#[test]
fn users_are_created_from_stdin_or_a_file_and_listed() {
    let server = Server::start();
    let out = create_with_stdin(
        &server,
        &["alice", "--role", "responder"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Created user alice (responder)"), "{said}");

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pw");
    std::fs::write(&file, format!("{PASSWORD}\n")).expect("password file");
    let file = file.to_str().expect("utf-8 path");
    let said = server.ok(&[
        "user",
        "create",
        "sam",
        "--role",
        "viewer",
        "--security",
        "--password-file",
        file,
    ]);
    assert!(
        said.contains("Created user sam (viewer, security)"),
        "{said}"
    );

    let listed = server.ok_json(&["user", "list"]);
    let users = listed["users"].as_array().expect("users");
    let names: Vec<&str> = users.iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(names, ["alice", "sam"]);
    assert_eq!(users[1]["security"], true);
    assert!(users.iter().all(|u| u.get("password_hash").is_none()));
    let table = server.ok(&["user", "list"]);
    assert!(
        table.contains("alice") && table.contains("responder"),
        "{table}"
    );

    // Mistakes are named.
    let dup = server.run(&[
        "user",
        "create",
        "alice",
        "--role",
        "viewer",
        "--password-file",
        file,
    ]);
    assert!(!dup.status.success());
    assert!(assert_one_error_line(&dup, "exists").contains("name"));
    let empty = server.run(&["user", "create", "bob", "--role", "viewer"]);
    assert!(!empty.status.success());
    assert!(assert_one_error_line(&empty, "stdin is empty").starts_with("error: password"));
    let short = create_with_stdin(&server, &["bob", "--role", "viewer"], "short\n");
    assert!(!short.status.success());
    assert!(assert_one_error_line(&short, "at least 12").contains("password"));
    // There is no way to pass the password as an argument.
    let arg = server.run(&[
        "user",
        "create",
        "bob",
        "--role",
        "viewer",
        "--password",
        PASSWORD,
    ]);
    assert!(!arg.status.success());

    assert!(
        !server.log_text().contains(PASSWORD),
        "the password reached the server log"
    );
}

#[test]
fn users_are_disabled_enabled_and_given_a_new_password() {
    let server = Server::start();
    let out = create_with_stdin(
        &server,
        &["alice", "--role", "responder"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let said = server.ok(&["user", "disable", "alice"]);
    assert!(said.contains("Disabled user alice"), "{said}");
    let listed = server.ok_json(&["user", "list"]);
    assert_eq!(listed["users"][0]["disabled_by"], "admin", "{listed}");
    let table = server.ok(&["user", "list"]);
    assert!(table.contains("disabled "), "{table}");
    let said = server.ok(&["user", "enable", "alice"]);
    assert!(said.contains("Enabled user alice"), "{said}");
    assert!(server.ok(&["user", "list"]).contains("active"));

    // A new password from stdin (never an argument); the policy's mistakes are named.
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(&server.data_dir)
        .args(["user", "password", "alice"])
        .env("WARROOM_URL", &server.url)
        .env_remove("WARROOM_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run warroom");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"another long pass phrase\n")
        .expect("write");
    let out = child.wait_with_output().expect("finish");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Set the password of alice"));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pw");
    std::fs::write(&file, "short\n").expect("password file");
    let short = server.run(&[
        "user",
        "password",
        "alice",
        "--password-file",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(!short.status.success());
    assert!(assert_one_error_line(&short, "at least 12").contains("password"));
    let missing = server.run(&["user", "disable", "nobody"]);
    assert!(!missing.status.success());
    assert_one_error_line(&missing, "no user nobody");
    assert!(!server.log_text().contains("another long pass phrase"));
}
