//! `warroom override add|list|remove` end to end: an override for the current hour puts its
//! person on call in `warroom oncall`, and removing it gives the schedule back to its layers.

mod common;

use common::{Server, assert_one_error_line};

#[test]
fn an_override_for_this_hour_shows_in_oncall() {
    let server = Server::start();
    let before = server.ok_json(&["oncall"]);
    let primary = before["on_call"]
        .as_array()
        .expect("on_call")
        .iter()
        .find(|o| o["schedule"] == "primary")
        .expect("primary")
        .clone();
    let layered = primary["person"].as_str().unwrap_or("").to_string();
    let cover = ["alice", "bob", "carol"]
        .into_iter()
        .find(|p| *p != layered)
        .expect("someone else");

    let created = server.ok_json(&[
        "override", "add", "primary", "--person", cover, "--start", "-5m", "--end", "+1h",
    ]);
    let id = created["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("ovr_"), "{created}");
    assert_eq!(created["person"], cover);

    let now = server.ok_json(&["oncall"]);
    let primary = now["on_call"]
        .as_array()
        .expect("on_call")
        .iter()
        .find(|o| o["schedule"] == "primary")
        .expect("primary")
        .clone();
    assert_eq!(primary["person"], cover, "{now}");
    let table = server.ok(&["oncall"]);
    let row = table
        .lines()
        .find(|l| l.starts_with("primary"))
        .expect("primary row");
    assert!(row.contains(&format!("({cover})")), "{table}");

    let listed = server.ok(&["override", "list", "primary"]);
    assert!(listed.contains(&id) && listed.contains(cover), "{listed}");

    let bad = server.run(&[
        "override", "add", "primary", "--person", "nobody", "--start", "now", "--end", "+1h",
    ]);
    assert!(!bad.status.success());
    assert!(assert_one_error_line(&bad, "unknown person").contains("person"));
    let bad = server.run(&[
        "override", "add", "primary", "--person", cover, "--start", "soon", "--end", "+1h",
    ]);
    assert!(!bad.status.success());

    let removed = server.ok(&["override", "remove", "primary", &id]);
    assert!(removed.contains(&id), "{removed}");
    let after = server.ok_json(&["oncall"]);
    let primary = after["on_call"]
        .as_array()
        .expect("on_call")
        .iter()
        .find(|o| o["schedule"] == "primary")
        .expect("primary")
        .clone();
    assert_eq!(primary["person"].as_str().unwrap_or(""), layered, "{after}");
    let again = server.run(&["override", "remove", "primary", &id]);
    assert!(!again.status.success());
}
