//! `warroom deliveries ID` end to end: the built-in config pages its example people through a
//! local webhook (usually nothing listens there), so declaring a paging incident leaves
//! pages in the outbox that the command lists, failing and retried.

mod common;

use common::{Server, assert_one_error_line};

#[test]
fn deliveries_lists_the_pages_a_declaration_sent() {
    let server = Server::start();
    let declared = server.ok_json(&["declare", "--title", "Payments down", "--severity", "P1"]);
    let id = declared["id"].as_str().expect("id").to_string();

    let answer = server.ok_json(&["deliveries", &id]);
    assert_eq!(answer["incident_id"], id.as_str());
    let deliveries = answer["deliveries"].as_array().expect("deliveries");
    assert!(!deliveries.is_empty(), "a P1 pages somebody: {answer}");
    for d in deliveries {
        assert_eq!(d["channel"], "webhook", "{d}");
        assert_eq!(d["destination"], "http://127.0.0.1:9099/hook", "{d}");
        let status = d["status"].as_str().expect("status");
        // Usually pending, sending or failed; delivered if something happens to listen there.
        assert!(
            ["pending", "sending", "failed", "delivered", "dead"].contains(&status),
            "{d}"
        );
    }

    let table = server.ok(&["deliveries", &id]);
    let mut lines = table.lines();
    let header = lines.next().expect("header");
    for column in [
        "TIME (UTC)",
        "CHANNEL",
        "DESTINATION",
        "STATUS",
        "ATTEMPTS",
        "LAST ERROR",
    ] {
        assert!(header.contains(column), "{table}");
    }
    assert_eq!(lines.count(), deliveries.len(), "{table}");
    assert!(table.contains("http://127.0.0.1:9099/hook"), "{table}");

    let missing = server.run(&["deliveries", "INC-20261122-999"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_one_error_line(&missing, "an unknown incident");
    let typo = server.run(&["deliveries", "INC-1"]);
    assert_eq!(typo.status.code(), Some(1));
}
