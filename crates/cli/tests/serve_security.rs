//! `warroom serve`'s security flags through the real binary: the refusals happen before
//! anything is served or written, with an error that says what to do.

mod common;

use std::process::{Command, Output};

use common::BIN;

fn serve(args: &[&str], data_dir: &std::path::Path) -> Output {
    Command::new(BIN)
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("WARROOM_DATABASE_URL")
        .env_remove("WARROOM_BEHIND_TLS_PROXY")
        .env_remove("WARROOM_TLS_CERT")
        .env_remove("WARROOM_TLS_KEY")
        .output()
        .expect("run warroom serve")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn plain_http_on_every_interface_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let out = serve(&["--listen", "0.0.0.0:0"], &data);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("refusing to listen on 0.0.0.0")
            && err.contains("--tls-cert")
            && err.contains("--behind-tls-proxy"),
        "{err}"
    );
    assert!(
        !data.join("warroom.db").exists(),
        "the database was created"
    );
    assert!(!data.join("admin.token").exists(), "a token was written");
}

#[test]
fn a_missing_certificate_file_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = dir.path().join("no-such-cert.pem");
    let key = dir.path().join("no-such-key.pem");
    let out = serve(
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().expect("utf-8 path"),
            "--tls-key",
            key.to_str().expect("utf-8 path"),
        ],
        &dir.path().join("data"),
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("no-such-cert.pem"), "{err}");
}

#[test]
fn a_certificate_needs_its_key_and_limits_must_be_sane() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let out = serve(&["--listen", "127.0.0.1:0", "--tls-cert", "c.pem"], &data);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--tls-key"), "{}", stderr(&out));

    let out = serve(
        &["--listen", "127.0.0.1:0", "--rate-limit-per-second=-1"],
        &data,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--rate-limit-per-second"),
        "{}",
        stderr(&out)
    );

    let out = serve(&["--listen", "127.0.0.1:0", "--trust-forwarded-for"], &data);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--behind-tls-proxy"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn token_create_takes_a_scope_and_a_lifetime() {
    let server = common::Server::start();
    let v = server.ok_json(&[
        "token",
        "create",
        "--name",
        "dashboard",
        "--role",
        "commander",
        "--scope",
        "read-only",
        "--expires-in",
        "30d",
    ]);
    assert_eq!(v["scope"], "read-only", "{v}");
    assert!(v["expires_at"].is_string(), "{v}");
    let secret = v["token"].as_str().expect("secret").to_string();

    // The read-only token reads, and is refused a change with a message that says why.
    // (`run` clears WARROOM_TOKEN, so the token goes as a flag.)
    let list = server.run(&["--token", &secret, "list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let declare = server.run(&[
        "--token",
        &secret,
        "declare",
        "--title",
        "Disk full",
        "--severity",
        "P2",
    ]);
    assert!(!declare.status.success());
    assert!(
        stderr(&declare).contains("read-only"),
        "{}",
        stderr(&declare)
    );

    let table = server.ok(&["token", "list"]);
    assert!(
        table.contains("read-only") && table.contains("SCOPE"),
        "{table}"
    );
    let bad = server.run(&[
        "token", "create", "--name", "x", "--role", "viewer", "--scope", "all",
    ]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("full or read-only"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn secrets_can_come_from_files() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("elsewhere.db");
    let url_file = dir.path().join("database-url");
    // An editor's trailing newline is not part of the secret.
    std::fs::write(&url_file, format!("sqlite://{}\n", db.display())).expect("write");
    let server = common::Server::start_with(&[
        "--database-url-file",
        url_file.to_str().expect("utf-8 path"),
    ]);
    assert!(db.exists(), "the URL from the file was not used");
    drop(server);

    let missing = dir.path().join("no-such-secret");
    let out = serve(
        &[
            "--listen",
            "127.0.0.1:0",
            "--grafana-secret-file",
            missing.to_str().expect("utf-8 path"),
        ],
        &dir.path().join("data"),
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--grafana-secret-file") && err.contains("no-such-secret"),
        "{err}"
    );
}
