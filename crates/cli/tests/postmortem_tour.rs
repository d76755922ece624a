//! `warroom postmortem` end to end: write sections (inline and from a file), mark a key
//! moment, publish, print the frozen version and check its hash.

mod common;

use common::{Server, assert_one_error_line};
use sha2::{Digest, Sha256};

#[test]
fn a_review_is_written_published_and_verifiable() {
    let server = Server::start();
    let declared = server.ok_json(&[
        "declare",
        "--title",
        "Checkout errors after deploy",
        "--severity",
        "P2",
    ]);
    let id = declared["id"].as_str().expect("id").to_string();
    let noted = server.ok_json(&["note", &id, "Error rate jumped to 38% at 14:02"]);
    let seq = noted["version"].as_u64().expect("version").to_string();

    let out = server.run(&["postmortem", &id, "--publish"]);
    assert!(assert_one_error_line(&out, "resolved").contains("published"));
    server.ok(&["resolve", &id, "--summary", "Rolled back"]);

    let dir = tempfile::tempdir().expect("tempdir");
    let lessons = dir.path().join("lessons.md");
    std::fs::write(
        &lessons,
        "- Canary retries.\n- Alert on idempotency errors.\n",
    )
    .expect("file");
    let lessons_arg = format!("lessons-learned={}", lessons.display());
    let review = server.ok(&[
        "postmortem",
        &id,
        "--set",
        "summary=Checkout failed for a third of attempts for 23 minutes.",
        "--set-file",
        &lessons_arg,
        "--key-moment",
        &seq,
    ]);
    assert!(
        review.starts_with("# Post-incident review: Checkout errors after deploy"),
        "{review}"
    );
    assert!(
        review.contains("Checkout failed for a third of attempts"),
        "{review}"
    );
    assert!(
        review.contains("- Alert on idempotency errors."),
        "{review}"
    );
    assert!(
        review.contains("Error rate jumped to 38% at 14:02"),
        "{review}"
    );

    let published = server.ok_json(&["postmortem", &id, "--publish"]);
    assert_eq!(published["version"], 1);
    let markdown = published["markdown"].as_str().expect("markdown");
    let digest: [u8; 32] = Sha256::digest(markdown.as_bytes()).into();
    let hash = hex(&digest);
    assert_eq!(published["sha256"], hash.as_str());
    let human = server.ok(&["postmortem", &id, "--publish"]);
    assert!(
        human.starts_with("Published version 2 of the review of"),
        "{human}"
    );

    // Version 1 prints exactly as frozen even after the review changes.
    server.ok(&[
        "postmortem",
        &id,
        "--set",
        "summary=Revised after the review meeting.",
    ]);
    let frozen = server.ok(&["postmortem", &id, "--published", "1"]);
    assert_eq!(frozen.trim_end(), markdown.trim_end());
    let timeline = server.ok(&["timeline", &id]);
    assert!(
        timeline.contains(&format!("version 1 published (sha256 {hash})")),
        "{timeline}"
    );

    let out = server.run(&["postmortem", &id, "--set", "verdict=guilty"]);
    assert!(assert_one_error_line(&out, "unknown section").contains("verdict"));
    let out = server.run(&["postmortem", &id, "--published", "9"]);
    assert!(assert_one_error_line(&out, "no published version").contains('9'));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
