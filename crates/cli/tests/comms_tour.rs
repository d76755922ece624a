//! `warroom comms`, `warroom deadlines` and `warroom moment` end to end: the real binary
//! against a real `warroom serve`, editing a draft in an "editor" that is a shell script.

mod common;

use common::{Server, assert_one_error_line};

#[test]
fn drafts_edits_sends_and_keeps_the_legal_clock() {
    let server = Server::start();
    let declared = server.ok_json(&[
        "declare",
        "--title",
        "Customer export bucket was public",
        "--severity",
        "P2",
        "--type",
        "data-breach",
        "--label",
        "personal-data=yes",
        "--label",
        "jurisdiction=EU",
    ]);
    let id = declared["id"].as_str().expect("id").to_string();

    let table = server.ok(&["comms", "templates"]);
    assert!(
        table.contains("regulator-notification") && table.contains("regulators"),
        "{table}"
    );
    let listed = server.ok_json(&["comms", "templates"]);
    assert_eq!(
        listed["templates"].as_array().map(Vec::len),
        Some(11),
        "{listed}"
    );

    let draft = server.ok(&["comms", "render", &id, "customer-affected"]);
    assert!(draft.starts_with("Subject: "), "{draft}");
    assert!(draft.contains("Example Corp"), "{draft}");

    let clocks = server.ok(&["deadlines", &id]);
    assert!(
        clocks.contains("gdpr-art33") && clocks.contains("open"),
        "{clocks}"
    );
    let moved = server.ok(&["moment", &id, "aware", "--at", "2026-01-05T08:00:00Z"]);
    assert!(
        moved.contains("Recorded aware at 2026-01-05 08:00:00"),
        "{moved}"
    );
    let clocks = server.ok_json(&["deadlines", &id]);
    assert_eq!(clocks["deadlines"][0]["due_at"], "2026-01-08T08:00:00Z");
    assert_eq!(clocks["deadlines"][0]["state"], "overdue");

    // The "editor" replaces the draft with its own subject and text.
    let dir = tempfile::tempdir().expect("tempdir");
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'Edited: notification of a personal data breach\\n\\nWe notify you of a breach.\\n' > \"$1\"\n",
    )
    .expect("editor script");
    let status = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .expect("chmod");
    assert!(status.success());
    let editor = editor.to_str().expect("utf-8 path");
    let out = server.run_with_env(
        &[
            "comms",
            "send",
            &id,
            "regulator-notification",
            "--to",
            "email:dpa@example.eu,incident-room",
            "--edit",
        ],
        &[("VISUAL", editor)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Sent regulator-notification to email:dpa@example.eu, incident-room"),
        "{stdout}"
    );
    assert!(stdout.contains("Meets: gdpr-art33"), "{stdout}");

    let timeline = server.ok(&["timeline", &id]);
    assert!(
        timeline.contains("Message to regulators (regulator-notification): Edited: notification of a personal data breach"),
        "{timeline}"
    );
    let clocks = server.ok_json(&["deadlines", &id]);
    assert_eq!(clocks["deadlines"][0]["state"], "met_late");
    let deliveries = server.ok(&["deliveries", &id]);
    assert!(deliveries.contains("dpa@example.eu"), "{deliveries}");

    // Mistakes: one clear line, non-zero exit.
    let out = server.run(&[
        "comms",
        "send",
        &id,
        "no-such-template",
        "--to",
        "incident-room",
    ]);
    assert!(assert_one_error_line(&out, "no template").contains("no-such-template"));
    let out = server.run(&["comms", "send", &id, "internal-update", "--to", "nobody"]);
    assert!(assert_one_error_line(&out, "unknown recipient").contains("nobody"));
    let out = server.run(&["moment", &id, "noticed"]);
    assert!(assert_one_error_line(&out, "unknown moment").contains("noticed"));
}
