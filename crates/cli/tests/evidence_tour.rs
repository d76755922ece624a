//! `warroom evidence` and `warroom audit` with the real binary against a real `warroom serve`:
//! add prints the SHA-256, list shows it, get verifies what it receives, verify fails on a
//! tampered blob naming it, and the audit log records the downloads and verifies.

mod common;

use common::{Server, assert_one_error_line};
use serde_json::Value;
use sha2::{Digest, Sha256};

const LIMIT: usize = 200_000;

#[test]
fn evidence_and_audit_tour() {
    let server = Server::start_with(&["--evidence-max-bytes", &LIMIT.to_string()]);
    let work = tempfile::tempdir().expect("tempdir");
    let incident = server.ok_json(&[
        "declare",
        "--title",
        "Web shell found",
        "--severity",
        "P1",
        "--type",
        "security-breach",
    ]);
    let id = incident["id"].as_str().expect("id").to_string();

    let log: Vec<u8> = (0..120_000u32)
        .map(|i| b"abcdefghij\n"[(i % 11) as usize])
        .collect();
    let sha = hex::encode(Sha256::digest(&log));
    let file = work.path().join("access.log");
    std::fs::write(&file, &log).expect("write");
    let file_arg = file.to_str().expect("utf-8 path");

    let added = server.ok(&[
        "evidence",
        "add",
        &id,
        file_arg,
        "--description",
        "nginx access log",
        "--collected-from",
        "web-3",
    ]);
    assert!(
        added.starts_with(&sha),
        "add prints the SHA-256 first: {added}"
    );
    assert!(added.contains("access.log (120000 bytes)"), "{added}");
    let again = server.ok(&["evidence", "add", &id, file_arg]);
    assert!(again.contains("already held"), "{again}");

    // Over the server's limit: one clear error line naming it.
    let big = work.path().join("memory.raw");
    std::fs::write(&big, vec![0u8; LIMIT + 1]).expect("write");
    let out = server.run(&["evidence", "add", &id, big.to_str().expect("path")]);
    let line = assert_one_error_line(&out, "too large");
    assert!(
        line.contains(&format!("limited to {LIMIT} bytes")),
        "{line}"
    );

    let listed = server.ok(&["evidence", "list", &id]);
    assert!(
        listed.contains(&sha) && listed.contains("web-3"),
        "{listed}"
    );

    let fetched = work.path().join("fetched.log");
    let got = server.ok(&[
        "evidence",
        "get",
        &id,
        &sha,
        "-o",
        fetched.to_str().expect("path"),
    ]);
    assert!(got.contains("SHA-256 verified"), "{got}");
    assert_eq!(std::fs::read(&fetched).expect("fetched"), log);
    let to_stdout = server.run(&["evidence", "get", &id, &sha, "-o", "-"]);
    assert!(to_stdout.status.success());
    assert_eq!(to_stdout.stdout, log);

    server.ok(&[
        "evidence",
        "transfer",
        &id,
        &sha,
        "--to",
        "Acme Forensics",
        "--reason",
        "case 7",
    ]);
    let shown = server.ok(&["evidence", "show", &id, &sha]);
    for expected in [
        "Chain of custody:",
        "added",
        "downloaded",
        "transferred to Acme Forensics",
        "viewed",
    ] {
        assert!(shown.contains(expected), "{expected}: {shown}");
    }
    let verified = server.ok(&["evidence", "verify", &id]);
    assert!(
        verified.contains("ok") && verified.contains("1 item(s) checked"),
        "{verified}"
    );

    // Alter the stored blob (same size): verify names it and exits non-zero, and a download
    // is refused by the client's own hash check, keeping nothing.
    let blob = server
        .data_dir
        .join("evidence/sha256")
        .join(&sha[..2])
        .join(&sha);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let mut altered = log.clone();
    altered[1000] ^= 0x20;
    std::fs::write(&blob, &altered).expect("tamper");
    let out = server.run(&["evidence", "verify", &id]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&sha) && stderr.contains("mismatch"),
        "{stderr}"
    );
    let bad = work.path().join("bad.log");
    let out = server.run(&[
        "evidence",
        "get",
        &id,
        &sha,
        "-o",
        bad.to_str().expect("path"),
    ]);
    let line = assert_one_error_line(&out, "altered download");
    assert!(line.contains("not ") && line.contains(&sha), "{line}");
    assert!(!bad.exists(), "an altered download is not kept");

    // Indicators: recorded normalised, listed, found from another incident's point of view.
    let second = server.ok_json(&["declare", "--title", "Phishing wave", "--severity", "P2"]);
    let second = second["id"].as_str().expect("id").to_string();
    let added = server.ok(&[
        "indicator",
        "add",
        &id,
        "domain",
        "Evil.Example.COM",
        "--first-seen",
        "2026-11-20T08:00:00Z",
        "--note",
        "C2",
    ]);
    assert!(added.contains("domain evil.example.com (new)"), "{added}");
    server.ok(&["indicator", "add", &second, "domain", "evil.example.com."]);
    let listed = server.ok(&["indicator", "list", &id]);
    assert!(
        listed.contains("evil.example.com") && listed.contains("C2"),
        "{listed}"
    );
    let found = server.ok(&["indicator", "search", "EVIL.example.com"]);
    assert!(found.contains(&id) && found.contains(&second), "{found}");
    let out = server.run(&["indicator", "add", &id, "ip", "300.1.1.1"]);
    let line = assert_one_error_line(&out, "bad ip");
    assert!(line.contains("field: value"), "{line}");

    // The audit log has the downloads and verifies.
    let audit = server.ok_json(&["audit", "--since", "1h", "--action", "evidence_download"]);
    let downloads = audit["entries"].as_array().expect("entries");
    assert_eq!(downloads.len(), 3, "{audit}");
    assert!(
        downloads
            .iter()
            .all(|e| e["target"] == Value::String(format!("{id}/{sha}")))
    );
    let checked = server.ok(&["audit", "--verify"]);
    assert!(checked.contains("chain verified"), "{checked}");
    let out = server.run(&["audit", "--action", "nosuch"]);
    let line = assert_one_error_line(&out, "bad action");
    assert!(line.contains("field: action"), "{line}");
}
