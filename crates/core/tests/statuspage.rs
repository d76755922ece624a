//! The status page's pure parts: the change rules, the config section's errors with file and
//! line, and snapshots of the HTML, the Atom feed and the hosted-API JSON for a fixed page.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Log, ts};
use warroom_core::config::{SourceFile, load};
use warroom_core::statuspage::{
    self, ComponentState, ComponentStatus, EntryStatus, Impact, IncidentStatus, MaintenanceRequest,
    MaintenanceStatus, MaintenanceUpdateRequest, PageChange, PageContext, PageEntry,
    PublishRequest, Snapshot, StatusPageConfig, UpdateRequest, atom, hosted, html,
};
use warroom_core::{Config, Declaration, DomainError, EventKind, Incident};

const PAGE: &str = r#"
status_page:
  id: examplecorp
  title: Example Corp Status
  url: https://status.example.com/
  time_zone: Europe/Berlin
  groups:
    - id: platform
      name: Platform
  components:
    - id: api
      name: Public API
      description: REST & webhooks
      group: platform
    - id: web
      name: Web app
"#;

fn config() -> Config {
    load(&[SourceFile::new("page.yaml", PAGE)]).expect("config loads")
}

fn incident(restricted: bool) -> Incident {
    let decl = Declaration {
        title: "db-7 replica lag (internal)".into(),
        severity: "P2".into(),
        restricted,
        ..Declaration::default()
    };
    Log::declare(
        &decl,
        &Config::builtin(),
        ts("2026-11-25T09:00:00Z"),
        "alice",
    )
    .expect("declared")
    .incident
}

struct World {
    page: StatusPageConfig,
    components: Vec<ComponentState>,
    held: BTreeSet<String>,
}

impl World {
    fn new() -> Self {
        Self {
            page: config().status_page,
            components: Vec::new(),
            held: BTreeSet::new(),
        }
    }

    fn ctx(&self, at: &str, update: &'static str) -> PageContext<'_> {
        PageContext {
            config: &self.page,
            components: &self.components,
            held_elsewhere: &self.held,
            at: ts(at),
            new_entry_id: "sp_1",
            new_update_id: update,
            actor: "carol",
        }
    }

    fn apply(&mut self, change: &PageChange) {
        for c in &change.components {
            self.components.retain(|x| x.id != c.id);
            self.components.push(c.clone());
        }
    }
}

#[test]
fn publishing_uses_public_words_only() {
    let mut w = World::new();
    let inc = incident(false);
    let change = statuspage::publish(
        &inc,
        None,
        &PublishRequest {
            components: BTreeMap::from([("api".into(), ComponentStatus::PartialOutage)]),
            ..PublishRequest::default()
        },
        &w.ctx("2026-11-25T09:05:00Z", "u1"),
    )
    .expect("published");
    w.apply(&change);
    let entry = change.entry.expect("entry");
    assert_eq!(entry.name, statuspage::NEUTRAL_TITLE);
    assert_eq!(entry.impact, Impact::Major);
    assert_eq!(entry.updates[0].body, statuspage::DEFAULT_FIRST_MESSAGE);
    assert!(
        !serde_json::to_string(&entry.updates)
            .expect("json")
            .contains("db-7")
    );
    match &change.events[..] {
        [
            EventKind::StatusPagePublished {
                page_id,
                components,
                ..
            },
        ] => {
            assert_eq!(page_id, "sp_1");
            assert_eq!(components.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    // The new kind round-trips through the stored form.
    let (kind, data) = change.events[0].to_parts();
    assert_eq!(
        EventKind::from_parts(kind, data).expect("parses"),
        change.events[0]
    );

    let again = statuspage::publish(
        &inc,
        Some(&entry),
        &PublishRequest::default(),
        &w.ctx("2026-11-25T09:06:00Z", "u2"),
    );
    assert!(matches!(again, Err(DomainError::Conflict(_))));
    let restricted = statuspage::publish(
        &incident(true),
        None,
        &PublishRequest::default(),
        &w.ctx("2026-11-25T09:06:00Z", "u2"),
    );
    assert!(matches!(restricted, Err(DomainError::Conflict(m)) if m.contains("restricted")));
}

#[test]
fn resolving_clears_components_no_other_incident_holds() {
    let mut w = World::new();
    let inc = incident(false);
    let down = BTreeMap::from([
        ("api".to_string(), ComponentStatus::MajorOutage),
        ("web".to_string(), ComponentStatus::DegradedPerformance),
    ]);
    let change = statuspage::publish(
        &inc,
        None,
        &PublishRequest {
            components: down,
            ..PublishRequest::default()
        },
        &w.ctx("2026-11-25T09:05:00Z", "u1"),
    )
    .expect("published");
    w.apply(&change);
    let entry = change.entry.expect("entry");
    w.held.insert("web".into());
    let change = statuspage::post_update(
        &inc,
        Some(&entry),
        &UpdateRequest {
            status: Some(IncidentStatus::Resolved),
            message: "Fixed.".into(),
            ..UpdateRequest::default()
        },
        &w.ctx("2026-11-25T10:00:00Z", "u2"),
    )
    .expect("resolved");
    let changed: Vec<(&str, ComponentStatus)> = change
        .components
        .iter()
        .map(|c| (c.id.as_str(), c.status))
        .collect();
    assert_eq!(changed, [("api", ComponentStatus::Operational)]);
    let resolved = change.entry.expect("entry");
    assert_eq!(resolved.resolved_at, Some(ts("2026-11-25T10:00:00Z")));
    assert_eq!(
        resolved.impact,
        Impact::Critical,
        "impact never drops on its own"
    );
    assert_eq!(resolved.updates.len(), 2);
    // Reopening clears the resolution time.
    let reopened = statuspage::post_update(
        &inc,
        Some(&resolved),
        &UpdateRequest {
            status: Some(IncidentStatus::Investigating),
            message: "It is back.".into(),
            ..UpdateRequest::default()
        },
        &w.ctx("2026-11-25T10:10:00Z", "u3"),
    )
    .expect("reopened")
    .entry
    .expect("entry");
    assert_eq!(reopened.resolved_at, None);
    let empty = statuspage::post_update(
        &inc,
        Some(&reopened),
        &UpdateRequest::default(),
        &w.ctx("2026-11-25T10:11:00Z", "u4"),
    );
    assert!(matches!(empty, Err(DomainError::Invalid { field, .. }) if field == "message"));
}

#[test]
fn the_banner_is_the_worst_of_components_and_incidents() {
    let page = config().status_page;
    let at = ts("2026-11-25T09:00:00Z");
    let state = |id: &str, status| ComponentState {
        id: id.into(),
        status,
        created_at: at,
        updated_at: at,
        updated_by: None,
    };
    let banner = |states: &[ComponentState], entries: Vec<PageEntry>| {
        let s = Snapshot::new(&page, states, entries, at);
        let o = s.overall();
        (o.indicator, o.description)
    };
    assert_eq!(banner(&[], vec![]), ("none", "All Systems Operational"));
    assert_eq!(
        banner(
            &[state("web", ComponentStatus::DegradedPerformance)],
            vec![]
        ),
        ("minor", "Minor Service Outage")
    );
    assert_eq!(
        banner(
            &[
                state("web", ComponentStatus::DegradedPerformance),
                state("api", ComponentStatus::MajorOutage)
            ],
            vec![]
        ),
        ("critical", "Major Service Outage")
    );
    assert_eq!(
        banner(&[state("api", ComponentStatus::UnderMaintenance)], vec![]),
        ("none", "Service Under Maintenance")
    );
}

#[test]
fn config_errors_point_at_file_and_line() {
    let text = "status_page:\n  title: Status\n  url: status.example.com\n  components:\n    - id: api\n      name: API\n      group: edge\n    - id: api\n      name: Again\n";
    let err = load(&[SourceFile::new("page.yaml", text)]).expect_err("invalid");
    let lines: Vec<String> = err.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "page.yaml:3:3: url \"status.example.com\" must start with http:// or https://",
            "page.yaml:7:7: unknown group \"edge\": declare it under `status_page.groups`",
            "page.yaml:8:7: duplicate id \"api\": groups and components share one set of ids",
        ]
    );
    let err = load(&[SourceFile::new(
        "page.yaml",
        "status_page:\n  title: Status\n  time_zone: Mars/Olympus\n",
    )])
    .expect_err("bad zone");
    assert_eq!(err.problems[0].file, "page.yaml");
    assert_eq!(err.problems[0].line, 3, "{err}");
}

/// A fixed page: one active incident, one resolved, one maintenance in progress, one upcoming.
fn fixed_entries() -> Vec<PageEntry> {
    let mut w = World::new();
    let inc = incident(false);
    let live = statuspage::publish(
        &inc,
        None,
        &PublishRequest {
            title: Some("Errors <when> paying & \"more\"".into()),
            components: BTreeMap::from([("api".into(), ComponentStatus::PartialOutage)]),
            ..PublishRequest::default()
        },
        &PageContext {
            new_entry_id: "sp_live",
            ..w.ctx("2026-11-25T09:05:00Z", "spu_1")
        },
    )
    .expect("published");
    w.apply(&live);
    let live = statuspage::post_update(
        &inc,
        live.entry.as_ref(),
        &UpdateRequest {
            status: Some(IncidentStatus::Identified),
            message: "A bad deploy; rolling back.".into(),
            ..UpdateRequest::default()
        },
        &w.ctx("2026-11-25T09:20:00Z", "spu_2"),
    )
    .expect("updated")
    .entry
    .expect("entry");
    let old = statuspage::publish(
        &inc,
        None,
        &PublishRequest {
            title: Some("Slow logins".into()),
            status: Some(IncidentStatus::Resolved),
            message: Some("Logins were slow for 10 minutes; fixed.".into()),
            ..PublishRequest::default()
        },
        &PageContext {
            new_entry_id: "sp_old",
            ..w.ctx("2026-11-20T12:00:00Z", "spu_3")
        },
    )
    .expect("published")
    .entry
    .expect("entry");
    let maintenance = |id: &'static str, from: &str, until: &str| {
        statuspage::create_maintenance(
            &MaintenanceRequest {
                title: format!("Upgrade {id}"),
                components: vec!["web".into()],
                scheduled_for: ts(from),
                scheduled_until: ts(until),
                message: None,
            },
            &PageContext {
                new_entry_id: id,
                ..w.ctx("2026-11-24T08:00:00Z", "spu_4")
            },
        )
        .expect("maintenance")
        .entry
        .expect("entry")
    };
    let running = statuspage::update_maintenance(
        &maintenance("sm_now", "2026-11-25T09:00:00Z", "2026-11-25T11:00:00Z"),
        &MaintenanceUpdateRequest {
            status: MaintenanceStatus::InProgress,
            message: "Started.".into(),
        },
        &w.ctx("2026-11-25T09:00:00Z", "spu_5"),
    )
    .expect("started")
    .entry
    .expect("entry");
    let upcoming = maintenance("sm_later", "2026-11-27T02:00:00Z", "2026-11-27T03:00:00Z");
    assert_eq!(
        upcoming.status,
        EntryStatus::Maintenance(MaintenanceStatus::Scheduled)
    );
    vec![live, running, upcoming, old]
}

fn fixed_states() -> Vec<ComponentState> {
    let at = ts("2026-11-01T00:00:00Z");
    vec![
        ComponentState {
            id: "api".into(),
            status: ComponentStatus::PartialOutage,
            created_at: at,
            updated_at: ts("2026-11-25T09:05:00Z"),
            updated_by: Some("carol".into()),
        },
        ComponentState {
            id: "web".into(),
            status: ComponentStatus::Operational,
            created_at: at,
            updated_at: at,
            updated_by: None,
        },
    ]
}

#[test]
fn the_page_renders_the_same_every_time() {
    let config = config();
    let states = fixed_states();
    let s = Snapshot::new(
        &config.status_page,
        &states,
        fixed_entries(),
        ts("2026-11-25T10:00:00Z"),
    );
    let page = html::render(&s);
    assert!(!page.contains("<script") && !page.contains("style=\""));
    assert!(page.contains("Errors &lt;when&gt; paying &amp; &quot;more&quot;"));
    assert!(!page.contains("db-7"));
    insta::assert_snapshot!("html", page);
    insta::assert_snapshot!("entry", html::render_entry(&s, &s.entries[0]));
    insta::assert_snapshot!("atom", atom::render(&s));
    insta::assert_json_snapshot!("summary", hosted::summary(&s));
    insta::assert_json_snapshot!("incidents", hosted::incidents(&s));
    // The web component is under maintenance while the maintenance runs.
    let components = hosted::components_doc(&s);
    let web = components["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["id"] == "web")
        .expect("web");
    assert_eq!(web["status"], "under_maintenance");
    assert_eq!(
        components["page"]["updated_at"],
        "2026-11-25T10:20:00.000+01:00"
    );
}
