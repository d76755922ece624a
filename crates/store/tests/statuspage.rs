//! The status page's storage stories, run on SQLite and on a throwaway PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use warroom_core::command::{Declaration, decide, declare};
use warroom_core::statuspage::{
    ComponentState, ComponentStatus, EntryKind, IncidentStatus, MaintenanceRequest,
    MaintenanceStatus, MaintenanceUpdateRequest, PageChange, PageContext, PageEntry,
    PublishRequest, StatusPageConfig, UpdateRequest,
};
use warroom_core::{
    Command, Config, DomainError, Incident, IncidentId, IncidentPatch, NewEvent, Principal, Role,
};
use warroom_store::{Store, StoreError};

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (_dir, url) = warroom_store::testing::fresh_sqlite().expect("temp dir");
                    super::$name(&url).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let cluster = warroom_store::testing::PgCluster::shared().expect("postgres cluster");
                    let url = cluster.fresh_database().await.expect("fresh database");
                    super::$name(&url).await;
                }
            )*
        }
    };
}

conformance!(
    publish_update_resolve_keeps_page_and_timeline_together,
    restricted_incidents_never_reach_the_page,
    an_incident_is_published_once_under_concurrency,
    maintenance_and_shared_components,
);

fn no_timers(_: &Incident) -> Vec<warroom_core::timer::TimerSpec> {
    Vec::new()
}

fn t0() -> Timestamp {
    "2026-11-22T10:00:00Z".parse().expect("valid time")
}

fn admin() -> Principal {
    Principal {
        name: "admin".into(),
        role: Role::Admin,
        security: false,
    }
}

fn page() -> StatusPageConfig {
    Config::builtin().status_page
}

async fn open(url: &str) -> Arc<dyn Store> {
    warroom_store::open(url).await.expect("store opens")
}

async fn declare_at(store: &dyn Store, title: &str, restricted: bool, at: Timestamp) -> Incident {
    let d = Declaration {
        title: title.into(),
        incident_type: Some("outage".into()),
        severity: "P2".into(),
        restricted,
        ..Declaration::default()
    };
    let kind = declare(&d, &Config::builtin()).expect("valid declaration");
    store
        .create_incident(
            vec![NewEvent {
                at,
                actor: "alice".into(),
                kind,
            }],
            &no_timers,
        )
        .await
        .expect("declared")
        .0
}

async fn publish(
    store: &dyn Store,
    id: &IncidentId,
    req: PublishRequest,
    at: Timestamp,
    entry_id: &str,
) -> Result<(Incident, PageChange), StoreError> {
    let config = page();
    let plan = move |inc: &Incident,
                     existing: Option<&PageEntry>,
                     components: &[ComponentState],
                     held: &BTreeSet<String>| {
        let ctx = PageContext {
            config: &config,
            components,
            held_elsewhere: held,
            at,
            new_entry_id: entry_id,
            new_update_id: &format!("{entry_id}-u1"),
            actor: "carol",
        };
        warroom_core::statuspage::publish(inc, existing, &req, &ctx)
    };
    store
        .change_incident_page(&admin(), id, "carol", at, &plan, &no_timers)
        .await
}

async fn update(
    store: &dyn Store,
    id: &IncidentId,
    req: UpdateRequest,
    at: Timestamp,
    update_id: &str,
) -> Result<(Incident, PageChange), StoreError> {
    let config = page();
    let plan = move |inc: &Incident,
                     existing: Option<&PageEntry>,
                     components: &[ComponentState],
                     held: &BTreeSet<String>| {
        let ctx = PageContext {
            config: &config,
            components,
            held_elsewhere: held,
            at,
            new_entry_id: "unused",
            new_update_id: update_id,
            actor: "carol",
        };
        warroom_core::statuspage::post_update(inc, existing, &req, &ctx)
    };
    store
        .change_incident_page(&admin(), id, "carol", at, &plan, &no_timers)
        .await
}

async fn status_of(store: &dyn Store, component: &str) -> ComponentStatus {
    store
        .component_states()
        .await
        .expect("components")
        .into_iter()
        .find(|c| c.id == component)
        .map_or(ComponentStatus::Operational, |c| c.status)
}

async fn publish_update_resolve_keeps_page_and_timeline_together(url: &str) {
    let store = open(url).await;
    let ids: Vec<String> = page().components.iter().map(|c| c.id.clone()).collect();
    store.sync_components(&ids, t0()).await.expect("sync");
    let states = store.component_states().await.expect("states");
    assert_eq!(states.len(), ids.len());
    assert!(
        states
            .iter()
            .all(|c| c.status == ComponentStatus::Operational && c.created_at == t0())
    );

    let inc = declare_at(
        &*store,
        "Primary DB failover looping (internal detail)",
        false,
        t0(),
    )
    .await;
    let at = t0() + SignedDuration::from_mins(5);
    let (after, change) = publish(
        &*store,
        &inc.id,
        PublishRequest {
            title: Some("Elevated API errors".into()),
            components: BTreeMap::from([("api".to_string(), ComponentStatus::MajorOutage)]),
            ..PublishRequest::default()
        },
        at,
        "pg1",
    )
    .await
    .expect("published");
    assert_eq!(after.version, inc.version + 1);
    let entry = change.entry.expect("entry");
    assert_eq!(entry.kind, EntryKind::Incident);
    assert_eq!(
        status_of(&*store, "api").await,
        ComponentStatus::MajorOutage
    );
    // Syncing again never resets a status that was set.
    store.sync_components(&ids, at).await.expect("sync again");
    assert_eq!(
        status_of(&*store, "api").await,
        ComponentStatus::MajorOutage
    );

    let events = store
        .events(&admin(), &inc.id)
        .await
        .expect("events")
        .expect("visible");
    assert_eq!(
        events.last().map(|e| e.kind.name()),
        Some("status_page_published")
    );

    let listed = store.public_entries(50).await.expect("entries");
    assert_eq!(listed, vec![entry.clone()]);
    assert_eq!(
        store.page_entry("pg1").await.expect("read"),
        Some(entry.clone())
    );
    assert_eq!(
        store
            .incident_page_entry(&admin(), &inc.id)
            .await
            .expect("read"),
        Some(entry)
    );

    // A second publish is refused and writes nothing.
    let again = publish(&*store, &inc.id, PublishRequest::default(), at, "pg2").await;
    assert!(
        matches!(again, Err(StoreError::Rejected(DomainError::Conflict(_)))),
        "{again:?}"
    );

    let later = at + SignedDuration::from_mins(30);
    update(
        &*store,
        &inc.id,
        UpdateRequest {
            status: Some(IncidentStatus::Identified),
            message: "We found the cause.".into(),
            ..UpdateRequest::default()
        },
        later,
        "u2",
    )
    .await
    .expect("updated");
    let resolved_at = later + SignedDuration::from_mins(30);
    let (_, change) = update(
        &*store,
        &inc.id,
        UpdateRequest {
            status: Some(IncidentStatus::Resolved),
            message: "Fixed.".into(),
            ..UpdateRequest::default()
        },
        resolved_at,
        "u3",
    )
    .await
    .expect("resolved");
    let entry = change.entry.expect("entry");
    assert_eq!(entry.resolved_at, Some(resolved_at));
    let update_ids: Vec<&str> = entry.updates.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(update_ids, ["u3", "u2", "pg1-u1"]);
    // Resolving put the incident's component back.
    assert_eq!(
        status_of(&*store, "api").await,
        ComponentStatus::Operational
    );
    assert_eq!(
        store.public_entries(50).await.expect("entries"),
        vec![entry]
    );

    let report = store.verify().await.expect("verify");
    assert!(report.ok, "{report:?}");
}

async fn restricted_incidents_never_reach_the_page(url: &str) {
    let store = open(url).await;
    let secret = declare_at(&*store, "Attacker in payroll", true, t0()).await;
    let refused = publish(&*store, &secret.id, PublishRequest::default(), t0(), "s1").await;
    assert!(
        matches!(refused, Err(StoreError::Rejected(DomainError::Conflict(ref m))) if m.contains("restricted")),
        "{refused:?}"
    );
    assert!(store.public_entries(50).await.expect("entries").is_empty());
    let events = store
        .events(&admin(), &secret.id)
        .await
        .expect("events")
        .expect("visible");
    assert_eq!(events.len(), 1, "a refused publish appends nothing");

    // Published while normal, classified restricted afterwards: it vanishes from every read.
    let inc = declare_at(&*store, "Checkout errors", false, t0()).await;
    publish(&*store, &inc.id, PublishRequest::default(), t0(), "n1")
        .await
        .expect("published");
    assert_eq!(store.public_entries(50).await.expect("entries").len(), 1);
    let current = store
        .incident(&admin(), &inc.id)
        .await
        .expect("read")
        .expect("exists");
    let kinds = decide(
        &current,
        &Command::Update(IncidentPatch {
            restricted: Some(true),
            ..IncidentPatch::default()
        }),
        &Config::builtin(),
    )
    .expect("restrict");
    let events = kinds
        .into_iter()
        .map(|kind| NewEvent {
            at: t0(),
            actor: "admin".into(),
            kind,
        })
        .collect();
    store
        .append(&inc.id, current.version, events, &no_timers)
        .await
        .expect("restricted");
    assert!(store.public_entries(50).await.expect("entries").is_empty());
    assert_eq!(store.page_entry("n1").await.expect("read"), None);
    // Updates are refused too, so nothing is written to a page nobody sees.
    let refused = update(
        &*store,
        &inc.id,
        UpdateRequest {
            message: "More".into(),
            ..UpdateRequest::default()
        },
        t0(),
        "x",
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::Rejected(_))),
        "{refused:?}"
    );
    // Someone who cannot see the incident cannot find its entry either.
    let outsider = Principal {
        name: "mallory".into(),
        role: Role::Viewer,
        security: false,
    };
    assert_eq!(
        store
            .incident_page_entry(&outsider, &inc.id)
            .await
            .expect("read"),
        None
    );
}

async fn an_incident_is_published_once_under_concurrency(url: &str) {
    let first = open(url).await;
    let second = open(url).await;
    let inc = declare_at(&*first, "Login errors", false, t0()).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let id = inc.id.clone();
        tasks.push(tokio::spawn(async move {
            let entry_id = format!("c{i}");
            loop {
                match publish(&*store, &id, PublishRequest::default(), t0(), &entry_id).await {
                    // A lost race is allowed to surface as a conflict (the unique incident_id); a
                    // retry must then be refused by the rule, never publish twice.
                    Err(StoreError::Conflict(_)) => continue,
                    other => return other.is_ok(),
                }
            }
        }));
    }
    let mut won = 0;
    for t in tasks {
        if t.await.expect("task") {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    assert_eq!(first.public_entries(50).await.expect("entries").len(), 1);
    let events = first
        .events(&admin(), &inc.id)
        .await
        .expect("events")
        .expect("visible");
    let published = events
        .iter()
        .filter(|e| e.kind.name() == "status_page_published")
        .count();
    assert_eq!(published, 1);
}

async fn maintenance_and_shared_components(url: &str) {
    let store = open(url).await;
    let config = page();
    let at = t0();
    let plan =
        |existing: Option<&PageEntry>, components: &[ComponentState], held: &BTreeSet<String>| {
            assert!(existing.is_none());
            let ctx = PageContext {
                config: &config,
                components,
                held_elsewhere: held,
                at,
                new_entry_id: "m1",
                new_update_id: "m1-u1",
                actor: "carol",
            };
            warroom_core::statuspage::create_maintenance(
                &MaintenanceRequest {
                    title: "Database upgrade".into(),
                    components: vec!["api".into()],
                    scheduled_for: at + SignedDuration::from_hours(24),
                    scheduled_until: at + SignedDuration::from_hours(26),
                    message: None,
                },
                &ctx,
            )
        };
    store.change_page(None, &plan).await.expect("created");
    let started =
        |existing: Option<&PageEntry>, components: &[ComponentState], held: &BTreeSet<String>| {
            let ctx = PageContext {
                config: &config,
                components,
                held_elsewhere: held,
                at,
                new_entry_id: "unused",
                new_update_id: "m1-u2",
                actor: "carol",
            };
            warroom_core::statuspage::update_maintenance(
                existing.expect("exists"),
                &MaintenanceUpdateRequest {
                    status: MaintenanceStatus::InProgress,
                    message: "Started.".into(),
                },
                &ctx,
            )
        };
    let change = store
        .change_page(Some("m1"), &started)
        .await
        .expect("started");
    assert_eq!(change.entry.expect("entry").updates.len(), 2);
    assert!(matches!(
        store.change_page(Some("nope"), &started).await,
        Err(StoreError::NotFound)
    ));

    // Two incidents hold `api`; resolving the first leaves it as the second has it.
    let a = declare_at(&*store, "A", false, t0()).await;
    let b = declare_at(&*store, "B", false, t0()).await;
    let down = BTreeMap::from([("api".to_string(), ComponentStatus::PartialOutage)]);
    publish(
        &*store,
        &a.id,
        PublishRequest {
            components: down.clone(),
            ..PublishRequest::default()
        },
        t0(),
        "a1",
    )
    .await
    .expect("a");
    publish(
        &*store,
        &b.id,
        PublishRequest {
            components: down,
            ..PublishRequest::default()
        },
        t0(),
        "b1",
    )
    .await
    .expect("b");
    update(
        &*store,
        &a.id,
        UpdateRequest {
            status: Some(IncidentStatus::Resolved),
            message: "A fixed".into(),
            ..UpdateRequest::default()
        },
        t0(),
        "a2",
    )
    .await
    .expect("resolved");
    assert_eq!(
        status_of(&*store, "api").await,
        ComponentStatus::PartialOutage
    );
    let entries = store.public_entries(50).await.expect("entries");
    assert_eq!(entries.len(), 3);
    // Once the last incident holding it resolves, it is operational again: the running
    // maintenance on it does not hold a stored status.
    update(
        &*store,
        &b.id,
        UpdateRequest {
            status: Some(IncidentStatus::Resolved),
            message: "B fixed".into(),
            ..UpdateRequest::default()
        },
        t0(),
        "b2",
    )
    .await
    .expect("resolved");
    assert_eq!(
        status_of(&*store, "api").await,
        ComponentStatus::Operational
    );
}
