//! The storage stories every backend must pass, run on SQLite and on a throwaway PostgreSQL.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use sqlx::Connection;
use warroom_core::command::{Declaration, decide, declare};
use warroom_core::outbox::{
    AttemptError, Channel, DeliveryStatus, Outcome, OutgoingMessage, RetryPolicy, event_cause,
    message_id, notifications,
};
use warroom_core::{
    Command, Config, Incident, IncidentId, NewEvent, Principal, Role, Status, TokenScope,
};
use warroom_store::{
    IncidentFilter, NewOverride, NewSession, NewToken, NewUser, StatusFilter, Store, StoreError,
    TimerEffects,
};

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
    declare_then_read_back,
    ids_stay_unique_under_concurrent_declares,
    concurrent_writers_never_interleave_or_lose_events,
    stale_version_is_a_conflict_and_writes_nothing,
    restricted_incidents_never_leak,
    list_filters_and_pagination,
    verify_names_the_tampered_event,
    tokens_are_stored_by_hash_and_revocable,
    users_and_sessions_expire_and_log_out,
    disabling_a_user_ends_its_sessions_and_passwords_change,
    change_marker_grows_with_every_write,
    token_scope_and_expiry_round_trip,
    projection_always_equals_the_fold,
    migrations_are_idempotent,
    locked_updates_queue_and_respect_visibility,
    timers_fire_once_whatever_the_clock_does,
    stale_timers_fire_as_no_ops,
    two_processes_fire_each_timer_exactly_once,
    outbox_enqueue_is_idempotent,
    outbox_claims_never_overlap_across_processes,
    outbox_lapsed_leases_are_claimed_again,
    outbox_retries_with_backoff_then_dead_letters,
    notifications_are_written_with_their_events,
    overrides_are_an_append_only_log,
    alert_dedup_holds_across_processes,
    one_batch_resolves_a_key_and_opens_it_again,
    alert_keys_match_verbatim_whatever_they_hold,
    blocking_writer_batches_are_durable_beside_other_writers,
    integration_keys_rotate_and_revoke,
    alert_links_open_one_incident_per_service_across_processes,
    linking_reads_waiting_alerts_oldest_first_as_stored,
    alert_pages_follow_a_cursor,
    resolving_an_incident_resolves_its_open_alerts,
    action_items_are_projected_listed_and_reminded,
    operational_stats_count_open_incidents_outbox_and_timer_lag,
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

fn person(name: &str) -> Principal {
    Principal {
        name: name.into(),
        role: Role::Responder,
        security: false,
    }
}

async fn open(url: &str) -> Arc<dyn Store> {
    warroom_store::open(url).await.expect("store opens")
}

fn declaration(title: &str, severity: &str) -> Declaration {
    Declaration {
        title: title.into(),
        incident_type: Some("security-breach".into()),
        severity: severity.into(),
        services: vec!["auth".into()],
        ..Declaration::default()
    }
}

async fn declare_as(store: &dyn Store, actor: &str, d: &Declaration, at: Timestamp) -> Incident {
    let kind = declare(d, &Config::builtin()).expect("valid declaration");
    store
        .create_incident(
            vec![NewEvent {
                at,
                actor: actor.into(),
                kind,
            }],
            &no_timers,
        )
        .await
        .expect("declared")
        .0
}

/// Decides and appends, retrying on conflicts the way the server does.
async fn run(
    store: &dyn Store,
    actor: &str,
    id: &IncidentId,
    cmd: Command,
    at: Timestamp,
) -> Incident {
    let config = Config::builtin();
    loop {
        let inc = store
            .incident(&admin(), id)
            .await
            .expect("read")
            .expect("exists");
        let kinds = decide(&inc, &cmd, &config).expect("command accepted");
        let events = kinds
            .into_iter()
            .map(|kind| NewEvent {
                at,
                actor: actor.into(),
                kind,
            })
            .collect();
        match store.append(id, inc.version, events, &no_timers).await {
            Ok((inc, _)) => return inc,
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => panic!("append failed: {e}"),
        }
    }
}

async fn declare_then_read_back(url: &str) {
    let store = open(url).await;
    let inc = declare_as(
        &*store,
        "alice",
        &declaration("Login failures spike", "P1"),
        t0(),
    )
    .await;
    assert_eq!(inc.id.as_str(), "INC-20261122-001");
    assert_eq!((inc.status, inc.version), (Status::Triage, 1));
    let id = inc.id.clone();
    let later = t0() + SignedDuration::from_mins(3);
    run(&*store, "bob", &id, Command::Acknowledge, later).await;
    let inc = run(
        &*store,
        "bob",
        &id,
        Command::AddNote {
            text: "Blocked 203.0.113.7".into(),
        },
        later,
    )
    .await;
    assert_eq!(inc.status, Status::Investigating);
    assert_eq!(inc.acknowledged_at, Some(later));
    let read = store
        .incident(&admin(), &id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read, inc);
    let events = store
        .events(&admin(), &id)
        .await
        .expect("read")
        .expect("exists");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        ["declared", "acknowledged", "status_changed", "note_added"]
    );
    assert_eq!(Incident::fold(&events).expect("folds"), Some(read));
    assert!(
        store
            .incident(&admin(), &"INC-20261122-999".parse().expect("id"))
            .await
            .expect("read")
            .is_none()
    );
    store.ping().await.expect("ping");
}

async fn ids_stay_unique_under_concurrent_declares(url: &str) {
    let store = open(url).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let d = declaration(&format!("Concurrent {i}"), "P2");
            declare_as(&*store, "bot", &d, t0()).await.id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("task").to_string());
    }
    ids.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("INC-20261122-{n:03}")).collect();
    assert_eq!(ids, expected);
    // The next day starts again at 001.
    let next_day = declare_as(
        &*store,
        "bot",
        &declaration("Tomorrow", "P3"),
        t0() + SignedDuration::from_hours(24),
    )
    .await;
    assert_eq!(next_day.id.as_str(), "INC-20261123-001");
}

async fn concurrent_writers_never_interleave_or_lose_events(url: &str) {
    let store = open(url).await;
    let id = declare_as(&*store, "alice", &declaration("Busy incident", "P1"), t0())
        .await
        .id;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (store, id) = (store.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            run(
                &*store,
                &format!("writer{i}"),
                &id,
                Command::AddNote {
                    text: format!("note {i}"),
                },
                t0(),
            )
            .await;
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let events = store
        .events(&admin(), &id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(events.len(), 31);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    let mut notes: Vec<String> = events.iter().skip(1).map(|e| e.kind.describe()).collect();
    notes.sort();
    let mut expected: Vec<String> = (0..30).map(|i| format!("note {i}")).collect();
    expected.sort();
    assert_eq!(notes, expected);
    let report = store.verify().await.expect("verify");
    assert!(report.ok, "{report:?}");
}

async fn stale_version_is_a_conflict_and_writes_nothing(url: &str) {
    let store = open(url).await;
    let inc = declare_as(&*store, "alice", &declaration("Stale", "P2"), t0()).await;
    run(
        &*store,
        "bob",
        &inc.id,
        Command::AddNote {
            text: "first".into(),
        },
        t0(),
    )
    .await;
    let stale = store
        .append(
            &inc.id,
            inc.version,
            vec![NewEvent {
                at: t0(),
                actor: "carol".into(),
                kind: warroom_core::EventKind::NoteAdded {
                    text: "late".into(),
                },
            }],
            &no_timers,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let events = store
        .events(&admin(), &inc.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(events.len(), 2);
    let missing = store
        .append(
            &"INC-20200101-001".parse().expect("id"),
            1,
            Vec::new(),
            &no_timers,
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn restricted_incidents_never_leak(url: &str) {
    let store = open(url).await;
    let mut secret = declaration("Exfiltration from billing DB", "P0");
    secret.restricted = true;
    secret.incident_type = Some("data-breach".into());
    let hidden = declare_as(&*store, "sec-alice", &secret, t0()).await;
    let open_one = declare_as(&*store, "bob", &declaration("Slow logins", "P2"), t0()).await;
    run(
        &*store,
        "sec-alice",
        &hidden.id,
        Command::AssignRole {
            role: "technical-lead".into(),
            person: "dave".into(),
        },
        t0(),
    )
    .await;

    let all = IncidentFilter {
        limit: 100,
        ..IncidentFilter::default()
    };
    let search = IncidentFilter {
        text: Some("billing".into()),
        limit: 100,
        ..IncidentFilter::default()
    };
    let outsider = person("mallory");
    assert!(
        store
            .incident(&outsider, &hidden.id)
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        store
            .events(&outsider, &hidden.id)
            .await
            .expect("read")
            .is_none()
    );
    let listed = store.list(&outsider, &all).await.expect("list");
    assert_eq!(
        listed
            .incidents
            .iter()
            .map(|i| i.id.clone())
            .collect::<Vec<_>>(),
        std::slice::from_ref(&open_one.id)
    );
    assert_eq!(store.count(&outsider, &all).await.expect("count"), 1);
    assert_eq!(store.count(&outsider, &search).await.expect("count"), 0);

    for who in [
        person("sec-alice"),
        person("dave"),
        Principal {
            name: "sam".into(),
            role: Role::Viewer,
            security: true,
        },
        admin(),
    ] {
        assert!(
            store
                .incident(&who, &hidden.id)
                .await
                .expect("read")
                .is_some(),
            "{who:?}"
        );
        assert_eq!(store.count(&who, &all).await.expect("count"), 2, "{who:?}");
        assert_eq!(
            store.count(&who, &search).await.expect("count"),
            1,
            "{who:?}"
        );
    }
}

async fn list_filters_and_pagination(url: &str) {
    let store = open(url).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut d = declaration(
            &format!("Incident {i} 100%_done"),
            if i % 2 == 0 { "P1" } else { "P3" },
        );
        d.services = vec![if i < 3 {
            "auth".into()
        } else {
            "payments".into()
        }];
        d.labels.insert(
            "region".into(),
            if i % 3 == 0 { "eu".into() } else { "us".into() },
        );
        let inc = declare_as(&*store, "alice", &d, t0() + SignedDuration::from_mins(i)).await;
        ids.push(inc.id);
    }
    run(
        &*store,
        "alice",
        &ids[0],
        Command::Resolve {
            summary: "fixed".into(),
        },
        t0(),
    )
    .await;

    let base = IncidentFilter {
        limit: 100,
        ..IncidentFilter::default()
    };
    let count = |f: IncidentFilter| {
        let store = store.clone();
        async move { store.count(&admin(), &f).await.expect("count") }
    };
    let open_statuses = vec![
        Status::Triage,
        Status::Investigating,
        Status::Contained,
        Status::Recovering,
    ];
    assert_eq!(
        count(IncidentFilter {
            status: StatusFilter::In(open_statuses),
            ..base.clone()
        })
        .await,
        6
    );
    assert_eq!(
        count(IncidentFilter {
            status: StatusFilter::In(vec![Status::Resolved]),
            ..base.clone()
        })
        .await,
        1
    );
    assert_eq!(
        count(IncidentFilter {
            severities: vec!["P1".into()],
            ..base.clone()
        })
        .await,
        4
    );
    assert_eq!(
        count(IncidentFilter {
            services: vec!["payments".into()],
            ..base.clone()
        })
        .await,
        4
    );
    assert_eq!(
        count(IncidentFilter {
            labels: vec![("region".into(), "eu".into())],
            ..base.clone()
        })
        .await,
        3
    );
    assert_eq!(
        count(IncidentFilter {
            types: vec!["outage".into()],
            ..base.clone()
        })
        .await,
        0
    );
    assert_eq!(
        count(IncidentFilter {
            text: Some("INCIDENT 4".into()),
            ..base.clone()
        })
        .await,
        1
    );
    // LIKE wildcards in the search text are literal.
    assert_eq!(
        count(IncidentFilter {
            text: Some("0%_d".into()),
            ..base.clone()
        })
        .await,
        7
    );
    assert_eq!(
        count(IncidentFilter {
            text: Some("1%".into()),
            ..base.clone()
        })
        .await,
        0
    );
    let since = t0() + SignedDuration::from_mins(2);
    let until = t0() + SignedDuration::from_mins(5);
    assert_eq!(
        count(IncidentFilter {
            since: Some(since),
            until: Some(until),
            ..base.clone()
        })
        .await,
        3
    );

    // Pages of 3, newest first, covering everything exactly once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list(
                &admin(),
                &IncidentFilter {
                    limit: 3,
                    cursor: cursor.clone(),
                    ..base.clone()
                },
            )
            .await
            .expect("list");
        seen.extend(page.incidents.iter().map(|i| i.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
}

async fn verify_names_the_tampered_event(url: &str) {
    let store = open(url).await;
    let a = declare_as(&*store, "alice", &declaration("A", "P1"), t0()).await;
    let b = declare_as(&*store, "alice", &declaration("B", "P1"), t0()).await;
    for i in 0..3 {
        run(
            &*store,
            "alice",
            &b.id,
            Command::AddNote {
                text: format!("note {i}"),
            },
            t0(),
        )
        .await;
    }
    let report = store.verify().await.expect("verify");
    assert!(report.ok);
    assert_eq!((report.incidents_checked, report.events_checked), (2, 5));

    let tamper = "UPDATE events SET payload = '{\"text\":\"nothing happened\"}' WHERE incident_id = $1 AND seq = 3";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url)
            .await
            .expect("raw connection");
        sqlx::query(tamper)
            .bind(b.id.as_str())
            .execute(&mut conn)
            .await
            .expect("tamper");
    } else {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .expect("raw connection");
        sqlx::query(tamper)
            .bind(b.id.as_str())
            .execute(&mut conn)
            .await
            .expect("tamper");
    }
    let report = store.verify().await.expect("verify");
    assert!(!report.ok);
    assert_eq!(report.broken.len(), 1);
    assert_eq!(report.broken[0].incident_id, b.id.as_str());
    assert_eq!(report.broken[0].seq, 3);
    assert!(
        report.broken[0].reason.contains("altered"),
        "{}",
        report.broken[0].reason
    );
    let _ = a;
}

async fn tokens_are_stored_by_hash_and_revocable(url: &str) {
    let store = open(url).await;
    assert_eq!(store.live_token_count().await.expect("count"), 0);
    let token = NewToken {
        id: "tok_1".into(),
        name: "alice".into(),
        role: Role::Commander,
        security: true,
        token_hash: "ab".repeat(32),
        created_at: t0(),
        created_by: "admin".into(),
        scope: TokenScope::Full,
        expires_at: None,
    };
    store
        .create_token(token.clone(), None)
        .await
        .expect("created");
    let dup = store
        .create_token(
            NewToken {
                id: "tok_2".into(),
                ..token.clone()
            },
            None,
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let found = store
        .token_by_hash(&"ab".repeat(32))
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        (found.name.as_str(), found.role, found.security),
        ("alice", Role::Commander, true)
    );
    assert!(
        store
            .token_by_hash(&"cd".repeat(32))
            .await
            .expect("read")
            .is_none()
    );
    store
        .touch_token("tok_1", t0() + SignedDuration::from_secs(5))
        .await
        .expect("touch");
    let revoked = store
        .revoke_token("tok_1", t0() + SignedDuration::from_secs(9), None)
        .await
        .expect("revoke")
        .expect("exists");
    assert_eq!(
        revoked.revoked_at,
        Some(t0() + SignedDuration::from_secs(9))
    );
    assert_eq!(
        revoked.last_used_at,
        Some(t0() + SignedDuration::from_secs(5))
    );
    assert_eq!(store.live_token_count().await.expect("count"), 0);
    assert!(
        store
            .revoke_token("tok_nope", t0(), None)
            .await
            .expect("revoke")
            .is_none()
    );
    assert_eq!(store.list_tokens().await.expect("list").len(), 1);
}

/// Migration 0009: scope and expiry are stored and read back, and a row written the way a
/// binary from before it writes one (no scope, no expiry) reads as a full token that never
/// expires, so a rolling upgrade keeps old tokens working.
async fn token_scope_and_expiry_round_trip(url: &str) {
    let store = open(url).await;
    let expires = t0() + SignedDuration::from_hours(24);
    let created = store
        .create_token(
            NewToken {
                id: "tok_ro".into(),
                name: "dashboard".into(),
                role: Role::Admin,
                security: false,
                token_hash: "ef".repeat(32),
                created_at: t0(),
                created_by: "admin".into(),
                scope: TokenScope::ReadOnly,
                expires_at: Some(expires),
            },
            None,
        )
        .await
        .expect("created");
    let found = store
        .token_by_hash(&"ef".repeat(32))
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found, created);
    assert_eq!(
        (found.scope, found.expires_at),
        (TokenScope::ReadOnly, Some(expires))
    );
    assert!(!found.expired(expires - SignedDuration::from_micros(1)));
    assert!(found.expired(expires));

    let old_style =
        "INSERT INTO api_tokens (id, name, role, security, token_hash, created_at, created_by)
                     VALUES ('tok_old', 'legacy', 'responder', FALSE, $1, 0, 'admin')";
    let hash = "01".repeat(32);
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url)
            .await
            .expect("raw connection");
        sqlx::query(old_style)
            .bind(&hash)
            .execute(&mut conn)
            .await
            .expect("old-style insert");
    } else {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .expect("raw connection");
        sqlx::query(old_style)
            .bind(&hash)
            .execute(&mut conn)
            .await
            .expect("old-style insert");
    }
    let legacy = store
        .token_by_hash(&hash)
        .await
        .expect("read")
        .expect("found");
    assert_eq!((legacy.scope, legacy.expires_at), (TokenScope::Full, None));
    let listed = store.list_tokens().await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|t| t.id == "tok_ro" && t.scope == TokenScope::ReadOnly)
    );
}

async fn projection_always_equals_the_fold(url: &str) {
    let store = open(url).await;
    let config = Config::builtin();
    let id = declare_as(&*store, "alice", &declaration("Walk", "P2"), t0())
        .await
        .id;
    // A fixed pseudo-random walk through many commands, accepted or refused.
    let mut seed: u64 = 0x5eed;
    let commands = |n: u64| match n % 10 {
        0 => Command::Acknowledge,
        1 => Command::ChangeSeverity {
            severity: ["P0", "P1", "P2", "P3"][(n / 10 % 4) as usize].into(),
            reason: None,
        },
        2 => Command::ChangeStatus {
            status: Status::ALL[(n / 10 % 6) as usize],
            reason: Some("walk".into()),
        },
        3 => Command::AssignRole {
            role: "scribe".into(),
            person: format!("p{}", n % 3),
        },
        4 => Command::AddNote {
            text: format!("n{n}"),
        },
        5 => Command::Resolve {
            summary: "done".into(),
        },
        6 => Command::Close,
        7 => Command::Reopen {
            reason: "again".into(),
        },
        8 => Command::UnassignRole {
            role: "scribe".into(),
        },
        _ => Command::Update(warroom_core::IncidentPatch {
            root_cause: Some(format!("cause {n}")),
            ..Default::default()
        }),
    };
    let mut accepted = 0;
    for step in 0..120 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let cmd = commands(seed >> 33);
        let inc = store
            .incident(&admin(), &id)
            .await
            .expect("read")
            .expect("exists");
        if let Ok(kinds) = decide(&inc, &cmd, &config) {
            let at = t0() + SignedDuration::from_secs(step);
            let events = kinds
                .into_iter()
                .map(|kind| NewEvent {
                    at,
                    actor: "walker".into(),
                    kind,
                })
                .collect();
            store
                .append(&id, inc.version, events, &no_timers)
                .await
                .expect("append");
            accepted += 1;
        }
        let stored = store
            .incident(&admin(), &id)
            .await
            .expect("read")
            .expect("exists");
        let events = store
            .events(&admin(), &id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(Incident::fold(&events).expect("folds"), Some(stored));
    }
    assert!(
        accepted > 30,
        "the walk should exercise many accepted commands, got {accepted}"
    );
    assert!(store.verify().await.expect("verify").ok);
}

async fn migrations_are_idempotent(url: &str) {
    let first = open(url).await;
    declare_as(
        &*first,
        "alice",
        &declaration("Survives reopen", "P3"),
        t0(),
    )
    .await;
    drop(first);
    let again = open(url).await;
    assert_eq!(
        again
            .count(
                &admin(),
                &IncidentFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .expect("count"),
        1
    );
}

async fn locked_updates_queue_and_respect_visibility(url: &str) {
    let store = open(url).await;
    let config = Arc::new(Config::builtin());
    let mut d = declaration("Queue", "P1");
    d.restricted = true;
    let id = declare_as(&*store, "alice", &d, t0()).await.id;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (store, id, config) = (store.clone(), id.clone(), config.clone());
        tasks.push(tokio::spawn(async move {
            let cmd = Command::AddNote {
                text: format!("note {i}"),
            };
            let decide_events = move |inc: &Incident| {
                decide(inc, &cmd, &config).map(|kinds| {
                    kinds
                        .into_iter()
                        .map(|kind| NewEvent {
                            at: t0(),
                            actor: "alice".into(),
                            kind,
                        })
                        .collect()
                })
            };
            store
                .update(&person("alice"), &id, &decide_events, &no_timers)
                .await
                .expect("queued, not conflicting");
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let events = store
        .events(&admin(), &id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(events.len(), 31);

    let refuse =
        |inc: &Incident| decide(inc, &Command::Close, &Config::builtin()).map(|_| Vec::new());
    let refused = store
        .update(&person("alice"), &id, &refuse, &no_timers)
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Rejected(warroom_core::DomainError::Conflict(_)))
        ),
        "{refused:?}"
    );
    let never = |_: &Incident| -> Result<Vec<NewEvent>, warroom_core::DomainError> {
        panic!("an outsider's decision must not run")
    };
    let hidden = store
        .update(&person("mallory"), &id, &never, &no_timers)
        .await;
    assert!(matches!(hidden, Err(StoreError::NotFound)), "{hidden:?}");
    assert_eq!(
        store
            .events(&admin(), &id)
            .await
            .expect("read")
            .expect("exists")
            .len(),
        31
    );
}

/// The built-in config with status updates due only weekly: the timer tests follow the
/// acknowledgement deadline, and the update cadence (same 30 minutes at P1) would fire beside it.
fn timer_config() -> Config {
    let mut config = Config::builtin();
    for s in &mut config.severities {
        s.update_every = "1w".parse().expect("target");
    }
    config
}

fn plan(inc: &Incident) -> Vec<warroom_core::timer::TimerSpec> {
    warroom_core::timer::desired_timers(inc, &timer_config())
}

async fn declare_with_timers(
    store: &dyn Store,
    title: &str,
    severity: &str,
    at: Timestamp,
) -> Incident {
    let kind =
        declare(&declaration(title, severity), &Config::builtin()).expect("valid declaration");
    store
        .create_incident(
            vec![NewEvent {
                at,
                actor: "alice".into(),
                kind,
            }],
            &plan,
        )
        .await
        .expect("declared")
        .0
}

fn pager() -> Channel {
    Channel::Email {
        to: "oncall@example.com".into(),
    }
}

async fn fire_at(store: &dyn Store, now: Timestamp) -> Vec<warroom_store::FiredTimer> {
    let config = timer_config();
    let fire = move |t: &warroom_core::timer::TimerSpec, inc: &Incident| -> TimerEffects {
        let kinds = warroom_core::timer::fire(t, inc, &config, &[], now);
        TimerEffects {
            messages: notifications(&t.key, &config, inc, &kinds, &[pager()]),
            events: kinds
                .into_iter()
                .map(|kind| NewEvent {
                    at: now,
                    actor: "warroom".into(),
                    kind,
                })
                .collect(),
        }
    };
    store
        .fire_due_timers(now, 100, &fire, &plan)
        .await
        .expect("fire")
}

fn count_kind(events: &[warroom_core::Event], kind: &str) -> usize {
    events.iter().filter(|e| e.kind.name() == kind).count()
}

async fn timers_fire_once_whatever_the_clock_does(url: &str) {
    let store = open(url).await;
    // P1: acknowledge within 30 minutes.
    let inc = declare_with_timers(&*store, "Nobody answers", "P1", t0()).await;
    let timers = store.timers(&inc.id).await.expect("timers");
    let due: Vec<_> = timers.iter().map(|t| t.timer.due_at).collect();
    // The acknowledgement deadline, and the (here weekly) status-update reminder.
    assert_eq!(
        due,
        [
            t0() + SignedDuration::from_mins(30),
            t0() + SignedDuration::from_hours(24 * 7)
        ]
    );
    assert_eq!(timers[0].fired_at, None);

    assert!(
        fire_at(&*store, t0() + SignedDuration::from_mins(29))
            .await
            .is_empty()
    );
    let fired = fire_at(&*store, t0() + SignedDuration::from_mins(31)).await;
    assert_eq!((fired.len(), fired[0].events), (1, 1));
    // Again, later, and with the clock jumping back: nothing fires twice.
    assert!(
        fire_at(&*store, t0() + SignedDuration::from_mins(45))
            .await
            .is_empty()
    );
    assert!(
        fire_at(&*store, t0() + SignedDuration::from_mins(5))
            .await
            .is_empty()
    );
    // A restart (a new store on the same database) does not fire it again either.
    drop(store);
    let store = open(url).await;
    assert!(
        fire_at(&*store, t0() + SignedDuration::from_hours(3))
            .await
            .is_empty()
    );
    let events = store
        .events(&admin(), &inc.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(count_kind(&events, "acknowledge_target_missed"), 1);
    // The page went into the outbox with the event, once.
    let deliveries = store.deliveries(&inc.id).await.expect("deliveries");
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(
        (deliveries[0].status, deliveries[0].channel.as_str()),
        (DeliveryStatus::Pending, "email")
    );
    let after = store
        .incident(&admin(), &inc.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        after.acknowledge_target_missed_at,
        Some(t0() + SignedDuration::from_mins(31))
    );
    assert!(store.verify().await.expect("verify").ok);
}

async fn stale_timers_fire_as_no_ops(url: &str) {
    let store = open(url).await;
    let inc = declare_with_timers(&*store, "Answered in time", "P0", t0()).await;
    let ack = |i: &Incident| {
        decide(i, &Command::Acknowledge, &Config::builtin()).map(|kinds| {
            kinds
                .into_iter()
                .map(|kind| NewEvent {
                    at: t0() + SignedDuration::from_mins(3),
                    actor: "bob".into(),
                    kind,
                })
                .collect()
        })
    };
    store
        .update(&admin(), &inc.id, &ack, &plan)
        .await
        .expect("acknowledged");
    // Overdue timers after downtime fire at once, here as a no-op since it was acknowledged.
    let fired = fire_at(&*store, t0() + SignedDuration::from_hours(6)).await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].events, 0);
    let events = store
        .events(&admin(), &inc.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(count_kind(&events, "acknowledge_target_missed"), 0);
}

async fn two_processes_fire_each_timer_exactly_once(url: &str) {
    let first = open(url).await;
    let second = open(url).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            declare_with_timers(&*first, &format!("Storm {i}"), "P0", t0())
                .await
                .id,
        );
    }
    let now = t0() + SignedDuration::from_hours(1);
    let (a, b) = tokio::join!(
        async {
            let mut n = 0;
            for _ in 0..5 {
                n += fire_at(&*first, now).await.len();
            }
            n
        },
        async {
            let mut n = 0;
            for _ in 0..5 {
                n += fire_at(&*second, now).await.len();
            }
            n
        },
    );
    assert_eq!(a + b, 20, "each timer fires once in total ({a} + {b})");
    for id in &ids {
        let events = first
            .events(&admin(), id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(count_kind(&events, "acknowledge_target_missed"), 1, "{id}");
    }
    assert!(first.verify().await.expect("verify").ok);
}

fn message(cause: &str, n: usize) -> OutgoingMessage {
    let channel = Channel::Webhook {
        url: format!("http://127.0.0.1:9/hook/{n}"),
        secret: Some("s3cret".into()),
    };
    OutgoingMessage {
        id: message_id(cause, &channel),
        incident_id: "INC-20261122-001".into(),
        channel,
        subject: format!("page {n}"),
        text: "wake up".into(),
        payload: serde_json::json!({ "n": n }),
    }
}

fn inc1() -> IncidentId {
    "INC-20261122-001".parse().expect("id")
}

async fn outbox_enqueue_is_idempotent(url: &str) {
    let store = open(url).await;
    let batch = vec![message("a", 1), message("b", 2)];
    assert_eq!(
        store
            .enqueue_messages(batch.clone(), t0())
            .await
            .expect("enqueue"),
        2
    );
    let mut again = batch;
    again.push(message("c", 3));
    assert_eq!(
        store
            .enqueue_messages(again, t0() + SignedDuration::from_mins(1))
            .await
            .expect("enqueue"),
        1
    );
    let deliveries = store.deliveries(&inc1()).await.expect("deliveries");
    assert_eq!(deliveries.len(), 3);
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending && d.attempts == 0)
    );
    // The channel is shown by kind and destination; its secret never leaves the outbox.
    let first = deliveries
        .iter()
        .find(|d| d.subject == "page 1")
        .expect("page 1");
    assert_eq!(first.destination, "http://127.0.0.1:9/hook/1");
    assert!(
        !serde_json::to_string(&deliveries)
            .expect("json")
            .contains("s3cret")
    );
    let claimed = store
        .claim_due_messages(t0(), 10, SignedDuration::from_mins(1))
        .await
        .expect("claim");
    // The one added a minute later is not due yet.
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().any(|c| c.message == message("a", 1)));
}

async fn outbox_claims_never_overlap_across_processes(url: &str) {
    let first = open(url).await;
    let second = open(url).await;
    let messages: Vec<_> = (0..60).map(|n| message(&format!("m{n}"), n)).collect();
    first
        .enqueue_messages(messages, t0())
        .await
        .expect("enqueue");
    let claim_all = |store: Arc<dyn Store>| async move {
        let mut ids = Vec::new();
        for _ in 0..30 {
            let claimed = store
                .claim_due_messages(t0(), 3, SignedDuration::from_mins(5))
                .await
                .expect("claim");
            ids.extend(claimed.into_iter().map(|c| c.message.id));
        }
        ids
    };
    let (a, b) = tokio::join!(claim_all(first.clone()), claim_all(second.clone()));
    let mut all: Vec<String> = a.iter().chain(&b).cloned().collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        (total, all.len()),
        (60, 60),
        "every message claimed exactly once ({} + {})",
        a.len(),
        b.len()
    );
    let deliveries = first.deliveries(&inc1()).await.expect("deliveries");
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Sending)
    );
}

async fn outbox_lapsed_leases_are_claimed_again(url: &str) {
    let store = open(url).await;
    store
        .enqueue_messages(vec![message("crash", 1)], t0())
        .await
        .expect("enqueue");
    let lease = SignedDuration::from_mins(2);
    let first = store
        .claim_due_messages(t0(), 10, lease)
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].lease_until, t0() + lease);
    // The claimer "crashes": it never records anything. Within the lease nobody else takes it.
    let during = t0() + SignedDuration::from_mins(1);
    assert!(
        store
            .claim_due_messages(during, 10, lease)
            .await
            .expect("claim")
            .is_empty()
    );
    // After a restart (a new store) and the lease's end, it is claimed again, same key.
    drop(store);
    let store = open(url).await;
    let after = t0() + SignedDuration::from_mins(3);
    let second = store
        .claim_due_messages(after, 10, lease)
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].message.id, first[0].message.id);
    // The crashed attempt counts.
    assert_eq!(second[0].attempts, 1);
    let d = store.deliveries(&inc1()).await.expect("deliveries");
    assert_eq!(
        (
            d[0].attempts,
            d[0].last_error
                .as_deref()
                .map(|e| e.starts_with("lease expired"))
        ),
        (1, Some(true))
    );
    assert!(
        store
            .record_delivery(&second[0].message.id, &Outcome::Delivered, after)
            .await
            .expect("record")
    );
    // A late report from the crashed claimer changes nothing any more.
    assert!(
        !store
            .record_delivery(
                &first[0].message.id,
                &Outcome::Dead {
                    error: "late".into()
                },
                after
            )
            .await
            .expect("record")
    );
    let d = store.deliveries(&inc1()).await.expect("deliveries");
    assert_eq!(
        (d[0].status, d[0].attempts, d[0].delivered_at),
        (DeliveryStatus::Delivered, 2, Some(after))
    );
    assert!(
        store
            .claim_due_messages(t0() + SignedDuration::from_hours(9), 10, lease)
            .await
            .expect("claim")
            .is_empty()
    );
}

async fn outbox_retries_with_backoff_then_dead_letters(url: &str) {
    let store = open(url).await;
    store
        .enqueue_messages(vec![message("flaky", 1)], t0())
        .await
        .expect("enqueue");
    let policy = RetryPolicy {
        base: SignedDuration::from_secs(10),
        cap: SignedDuration::from_secs(30),
        max_attempts: 4,
    };
    let lease = SignedDuration::from_mins(1);
    let mut now = t0();
    let mut waits = Vec::new();
    loop {
        let claimed = store
            .claim_due_messages(now, 10, lease)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1, "due at {now}");
        let outcome = policy.after_attempt(
            claimed[0].attempts,
            Err(AttemptError::Transient("HTTP 503".into())),
            now,
            1.0,
        );
        assert!(
            store
                .record_delivery(&claimed[0].message.id, &outcome, now)
                .await
                .expect("record")
        );
        let Outcome::Failed {
            next_attempt_at, ..
        } = outcome
        else {
            break;
        };
        waits.push(next_attempt_at.duration_since(now).as_secs());
        // Not before it is due.
        let early = next_attempt_at - SignedDuration::from_micros(1);
        assert!(
            store
                .claim_due_messages(early, 10, lease)
                .await
                .expect("claim")
                .is_empty()
        );
        let d = &store.deliveries(&inc1()).await.expect("deliveries")[0];
        assert_eq!(
            (d.status, d.next_attempt_at),
            (DeliveryStatus::Failed, Some(next_attempt_at))
        );
        now = next_attempt_at;
    }
    assert_eq!(waits, [10, 20, 30]);
    let d = &store.deliveries(&inc1()).await.expect("deliveries")[0];
    assert_eq!(
        (d.status, d.attempts, d.last_error.as_deref()),
        (DeliveryStatus::Dead, 4, Some("HTTP 503"))
    );
    assert!(
        store
            .claim_due_messages(now + SignedDuration::from_hours(24), 10, lease)
            .await
            .expect("claim")
            .is_empty()
    );
}

async fn notifications_are_written_with_their_events(url: &str) {
    let store = open(url).await;
    let channel = Channel::Slack {
        webhook_url: "https://hooks.slack.com/services/T/B/X".into(),
    };
    // Every note is announced; nothing else is.
    store.set_notifier(Arc::new(
        move |inc: &Incident, events: &[warroom_core::Event]| {
            events
                .iter()
                .filter(|e| e.kind.name() == "note_added")
                .map(|e| OutgoingMessage {
                    id: message_id(&event_cause(e), &channel),
                    incident_id: inc.id.to_string(),
                    channel: channel.clone(),
                    subject: format!("{} note", inc.id),
                    text: e.kind.describe(),
                    payload: serde_json::json!({ "seq": e.seq }),
                })
                .collect()
        },
    ));
    let inc = declare_as(&*store, "alice", &declaration("Announced", "P2"), t0()).await;
    assert!(
        store
            .deliveries(&inc.id)
            .await
            .expect("deliveries")
            .is_empty()
    );
    let later = t0() + SignedDuration::from_mins(5);
    run(
        &*store,
        "bob",
        &inc.id,
        Command::AddNote {
            text: "Rolled back".into(),
        },
        later,
    )
    .await;
    let deliveries = store.deliveries(&inc.id).await.expect("deliveries");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        (deliveries[0].status, deliveries[0].created_at),
        (DeliveryStatus::Pending, later)
    );
    // A write that fails writes no notification either.
    let note = warroom_core::command::decide(
        &inc,
        &Command::AddNote {
            text: "stale".into(),
        },
        &Config::builtin(),
    )
    .expect("note");
    let stale = store
        .append(
            &inc.id,
            inc.version,
            note.into_iter()
                .map(|kind| NewEvent {
                    at: later,
                    actor: "eve".into(),
                    kind,
                })
                .collect(),
            &no_timers,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(
        store.deliveries(&inc.id).await.expect("deliveries").len(),
        1
    );
}

fn new_override(id: &str, schedule: &str, person: &str, from_h: i64, to_h: i64) -> NewOverride {
    NewOverride {
        id: id.into(),
        schedule: schedule.into(),
        person: person.into(),
        start: t0() + SignedDuration::from_hours(from_h),
        end: t0() + SignedDuration::from_hours(to_h),
        created_by: "admin".into(),
        created_at: t0(),
    }
}

async fn overrides_are_an_append_only_log(url: &str) {
    let store = open(url).await;
    let h = |n: i64| t0() + SignedDuration::from_hours(n);
    let a = store
        .create_override(new_override("ovr_a", "primary", "alice", 0, 4))
        .await
        .expect("create a");
    assert_eq!(a.person, "alice");
    assert_eq!(a.start, h(0));
    assert_eq!(a.end, h(4));
    store
        .create_override(new_override("ovr_b", "primary", "bob", 6, 8))
        .await
        .expect("create b");
    store
        .create_override(new_override("ovr_c", "secondary", "carol", 1, 2))
        .await
        .expect("create c");
    assert!(matches!(
        store
            .create_override(new_override("ovr_a", "primary", "dave", 0, 1))
            .await,
        Err(StoreError::Conflict(_))
    ));

    let ids = |v: Vec<warroom_core::Override>| v.into_iter().map(|o| o.id).collect::<Vec<_>>();
    // Overlap is half-open: an override ending at `from` or starting at `to` is outside.
    assert_eq!(
        ids(store
            .overrides(Some("primary"), h(0), h(24))
            .await
            .expect("list")),
        ["ovr_a", "ovr_b"]
    );
    assert_eq!(
        ids(store
            .overrides(Some("primary"), h(4), h(6))
            .await
            .expect("list")),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(store
            .overrides(Some("primary"), h(3), h(7))
            .await
            .expect("list")),
        ["ovr_a", "ovr_b"]
    );
    assert_eq!(
        ids(store.overrides(None, h(0), h(24)).await.expect("list")),
        ["ovr_a", "ovr_c", "ovr_b"]
    );

    // Removal: wrong schedule or unknown id is NotFound, twice is a Conflict, and it is gone.
    assert!(matches!(
        store
            .remove_override("secondary", "ovr_a", "admin", h(1), None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .remove_override("primary", "ovr_zzz", "admin", h(1), None)
            .await,
        Err(StoreError::NotFound)
    ));
    let removed = store
        .remove_override("primary", "ovr_a", "admin", h(1), Some("swapped back"))
        .await
        .expect("remove");
    assert_eq!(removed.id, "ovr_a");
    assert!(matches!(
        store
            .remove_override("primary", "ovr_a", "admin", h(2), None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        ids(store
            .overrides(Some("primary"), h(0), h(24))
            .await
            .expect("list")),
        ["ovr_b"]
    );

    // Nothing was deleted: the created row is still there, with its removal recorded once.
    let count = "SELECT COUNT(*) FROM schedule_overrides WHERE id = 'ovr_a' AND removed_by = 'admin' AND removed_reason = 'swapped back'";
    let n: i64 = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url)
            .await
            .expect("raw connection");
        sqlx::query_scalar(count)
            .fetch_one(&mut conn)
            .await
            .expect("count")
    } else {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .expect("raw connection");
        sqlx::query_scalar(count)
            .fetch_one(&mut conn)
            .await
            .expect("count")
    };
    assert_eq!(n, 1);
}

fn alert_item(
    key: &str,
    n: usize,
    action: warroom_core::alert::Action,
) -> warroom_store::IngestItem {
    let mut event = warroom_core::alert::AlertEvent::new(
        warroom_core::alert::SourceKind::Pagerduty,
        action,
        format!("Checkout errors ({n})"),
    );
    event.dedup_key = Some(key.to_string());
    warroom_store::IngestItem {
        event,
        integration_id: "int_shop".into(),
        dedup_key: key.to_string(),
        received_at: t0() + SignedDuration::from_secs(n as i64),
        new_alert_id: format!("alr_{key}_{n}_{}", rand_suffix()),
        service: Some("payments".into()),
        incident_severity: "P1".into(),
        playbooks: Vec::new(),
        disposition: warroom_store::Disposition::Open,
        threshold: None,
        open_incidents: true,
    }
}

/// Distinct per call, so two processes never propose the same new alert id.
fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Ingests `items`, retrying a batch that lost a race to another process (as the server does).
async fn ingest_retrying(
    store: &dyn Store,
    items: &[warroom_store::IngestItem],
) -> Vec<warroom_store::IngestOutcome> {
    for _ in 0..20 {
        match store.ingest(items).await {
            Ok(out) => return out,
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => panic!("ingest failed: {e}"),
        }
    }
    panic!("ingest kept conflicting");
}

/// The backend's blocking ingestion writer (SQLite on a file; PostgreSQL has none and takes
/// `ingest`) commits batches on a thread of its own while incidents are declared through the
/// ordinary writers at the same time: nothing waits forever or fails on the database lock, and
/// once flushed every batch is there, also for another process opening the database afresh; a
/// repeat and a resolve through the same path land on the alerts they name.
async fn blocking_writer_batches_are_durable_beside_other_writers(url: &str) {
    use warroom_core::alert::Action;
    use warroom_store::IngestOutcome;
    let store = open(url).await;
    let writer = store.blocking_ingest();
    assert_eq!(
        writer.is_some(),
        store.backend() == warroom_store::Backend::Sqlite,
        "SQLite on a file has a blocking writer, PostgreSQL none"
    );
    let commit = |items: Vec<warroom_store::IngestItem>| {
        let store = store.clone();
        let writer = writer.clone();
        async move {
            match writer {
                Some(writer) => tokio::task::spawn_blocking(move || {
                    let out = writer.commit(&items)?;
                    writer.flush()?;
                    Ok::<_, StoreError>(out)
                })
                .await
                .expect("writer thread"),
                None => store.ingest(&items).await,
            }
        }
    };
    let batches = async {
        for round in 0..5 {
            let batch: Vec<_> = (0..8)
                .map(|k| alert_item(&format!("u{round}-{k}"), round * 8 + k, Action::Trigger))
                .collect();
            let out = commit(batch).await.expect("batch");
            assert!(
                out.iter().all(|o| matches!(o, IngestOutcome::Opened(_))),
                "{out:?}"
            );
        }
    };
    let declares = async {
        for round in 0..5 {
            declare_as(
                &*store,
                "alice",
                &declaration(&format!("beside batches {round}"), "P3"),
                t0(),
            )
            .await;
        }
    };
    tokio::join!(batches, declares);
    let again = commit(vec![
        alert_item("u0-0", 100, Action::Trigger),
        alert_item("u0-1", 101, Action::Resolve),
    ])
    .await
    .expect("repeat and resolve");
    assert!(matches!(again[0], IngestOutcome::Repeated(_)), "{again:?}");
    assert!(matches!(again[1], IngestOutcome::Resolved(_)), "{again:?}");
    let reopened = open(url).await;
    let alerts = reopened
        .alerts(&warroom_store::AlertFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 40);
    let resolved = alerts
        .iter()
        .filter(|a| a.routed.alert.status == warroom_core::alert::AlertStatus::Resolved)
        .count();
    assert_eq!(resolved, 1);
    let all = IncidentFilter {
        limit: 50,
        ..IncidentFilter::default()
    };
    let listed = reopened.list(&admin(), &all).await.expect("list");
    assert_eq!(listed.incidents.len(), 5);
}

async fn alert_dedup_holds_across_processes(url: &str) {
    use warroom_core::alert::Action;
    let first = open(url).await;
    let second = open(url).await;
    // Two processes hammer the same ten keys at once, in batches.
    let run = |store: Arc<dyn Store>, offset: usize| async move {
        let mut outcomes = Vec::new();
        for round in 0..10 {
            let batch: Vec<_> = (0..10)
                .map(|k| alert_item(&format!("k{k}"), offset + round * 10 + k, Action::Trigger))
                .collect();
            outcomes.extend(ingest_retrying(&*store, &batch).await);
        }
        outcomes
    };
    let (a, b) = tokio::join!(run(first.clone(), 0), run(second.clone(), 1000));
    let opened = a
        .iter()
        .chain(&b)
        .filter(|o| matches!(o, warroom_store::IngestOutcome::Opened(_)))
        .count();
    assert_eq!(opened, 10, "one alert per key, whoever came first");
    let alerts = first
        .alerts(&warroom_store::AlertFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 10);
    assert_eq!(
        alerts.iter().map(|a| a.routed.alert.count).sum::<u64>(),
        200,
        "every event counted once"
    );
    // Resolve one key, then trigger it again: a second alert for it.
    ingest_retrying(&*second, &[alert_item("k3", 5000, Action::Resolve)]).await;
    let again = ingest_retrying(&*first, &[alert_item("k3", 5001, Action::Trigger)]).await;
    assert!(
        matches!(again[0], warroom_store::IngestOutcome::Opened(_)),
        "{again:?}"
    );
    let ignored = ingest_retrying(&*first, &[alert_item("nope", 5002, Action::Acknowledge)]).await;
    assert!(matches!(
        ignored[0],
        warroom_store::IngestOutcome::Ignored(_)
    ));
    let alerts = first
        .alerts(&warroom_store::AlertFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 11);
}

/// Resolving an incident resolves its alerts that are still open, in the same transaction,
/// each with a `resolved` event naming the incident; the next trigger of such a key opens a
/// new alert (which will page again) instead of repeating one on a finished incident.
async fn resolving_an_incident_resolves_its_open_alerts(url: &str) {
    use warroom_core::alert::{Action, AlertStatus};
    use warroom_core::alert_incident::RoutedAlert;
    use warroom_store::IngestOutcome;
    let store = open(url).await;
    let items: Vec<_> = (0..3)
        .map(|n| alert_item(&format!("fin{n}"), n, Action::Trigger))
        .collect();
    ingest_retrying(&*store, &items).await;
    let ids: Vec<String> = items.iter().map(|i| i.new_alert_id.clone()).collect();
    let config = Config::builtin();
    let plan = |current: Option<&Incident>, routed: &[RoutedAlert]| {
        payments_link_events(current, routed, &config)
    };
    let incident = store
        .link_alerts("payments", &ids, &plan, &no_timers)
        .await
        .expect("linked")
        .expect("an incident");
    // The source resolved one alert itself; it keeps its own history.
    ingest_retrying(&*store, &[alert_item("fin2", 10, Action::Resolve)]).await;
    let before = store.alert_events(&ids[2]).await.expect("events").len();

    run(
        &*store,
        "bob",
        &incident,
        Command::Resolve {
            summary: "rolled back".into(),
        },
        t0() + SignedDuration::from_secs(60),
    )
    .await;
    for id in &ids[..2] {
        let alert = store.alert(id).await.expect("read").expect("stored");
        assert_eq!(alert.routed.alert.status, AlertStatus::Resolved, "{id}");
        assert_eq!(alert.link, "done", "{id}: nothing left to settle");
        let events = store.alert_events(id).await.expect("events");
        let last = events.last().expect("an event");
        assert_eq!(last.outcome, "resolved");
        assert_eq!(
            last.event["source"],
            format!("incident {incident} resolved"),
            "{last:?}"
        );
    }
    assert_eq!(
        store.alert_events(&ids[2]).await.expect("events").len(),
        before,
        "an alert resolved before is left alone"
    );

    // The problem comes back: a new alert, not a repeat on the finished incident.
    let again = ingest_retrying(&*store, &[alert_item("fin0", 120, Action::Trigger)]).await;
    assert!(
        matches!(&again[..], [IngestOutcome::Opened(id)] if *id != ids[0]),
        "{again:?}"
    );
}

/// Alert lists page by position (first seen, then id, newest first): the pages put together
/// are the whole list, alerts first seen at the same moment are neither repeated nor skipped,
/// an alert arriving between two pages does not shift them, and `since` bounds the list.
async fn alert_pages_follow_a_cursor(url: &str) {
    use warroom_core::alert::Action;
    use warroom_store::{AlertCursor, AlertFilter};
    let store = open(url).await;
    // Three alerts share their first-seen second: only their ids order them.
    let items: Vec<_> = [10, 20, 20, 20, 30, 40, 50]
        .iter()
        .enumerate()
        .map(|(i, n)| alert_item(&format!("page{i}"), *n, Action::Trigger))
        .collect();
    ingest_retrying(&*store, &items).await;
    let ids = |alerts: &[warroom_store::AlertRecord]| -> Vec<String> {
        alerts.iter().map(|a| a.routed.alert.id.clone()).collect()
    };
    let whole = store
        .alerts(&AlertFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(whole.len(), 7);
    let mut paged = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store
            .alerts(&AlertFilter {
                limit: 3,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .expect("page");
        pages += 1;
        assert!(pages <= 5, "the cursor does not move on: {cursor:?}");
        if pages == 1 {
            // Newer than everything listed: it must not push the next pages along.
            ingest_retrying(&*store, &[alert_item("late", 60, Action::Trigger)]).await;
        }
        paged.extend(ids(&page));
        match page.last() {
            Some(last) if page.len() == 3 => {
                let next = AlertCursor::after(last);
                assert_eq!(AlertCursor::decode(&next.encode()), Some(next.clone()));
                cursor = Some(next);
            }
            _ => break,
        }
    }
    assert_eq!(paged, ids(&whole), "the pages are the whole list, in order");
    assert_eq!(pages, 3);

    let recent = store
        .alerts(&AlertFilter {
            since: Some(t0() + SignedDuration::from_secs(20)),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("since");
    assert_eq!(
        recent.len(),
        7,
        "the late alert and the six first seen at 20 s or later"
    );
    assert!(
        recent
            .iter()
            .all(|a| a.routed.alert.first_seen >= t0() + SignedDuration::from_secs(20))
    );
    assert_eq!(AlertCursor::decode("12_alr_x y"), None);
    assert_eq!(AlertCursor::decode("soon_alr_1"), None);
    assert_eq!(AlertCursor::decode("12_INC-1"), None);
}

/// A batch that triggers, resolves and triggers one key again writes the resolved alert before
/// the new one takes the key (one open alert per key is a unique index), and logs each event
/// against the alert it changed, in order.
async fn one_batch_resolves_a_key_and_opens_it_again(url: &str) {
    use warroom_core::alert::Action;
    use warroom_store::IngestOutcome;
    let store = open(url).await;
    let batch = [
        alert_item("flap", 1, Action::Trigger),
        alert_item("flap", 2, Action::Trigger),
        alert_item("flap", 3, Action::Resolve),
        alert_item("flap", 4, Action::Trigger),
        alert_item("other", 5, Action::Trigger),
    ];
    let out = ingest_retrying(&*store, &batch).await;
    let (IngestOutcome::Opened(first), IngestOutcome::Opened(second)) = (&out[0], &out[3]) else {
        panic!("{out:?}");
    };
    assert_ne!(first, second);
    assert!(
        matches!(&out[1], IngestOutcome::Repeated(id) if id == first),
        "{out:?}"
    );
    assert!(
        matches!(&out[2], IngestOutcome::Resolved(id) if id == first),
        "{out:?}"
    );
    let old = store
        .alert(first)
        .await
        .expect("read")
        .expect("first alert");
    assert_eq!(old.routed.alert.status.as_str(), "resolved");
    assert_eq!(old.routed.alert.count, 3, "every event on it counted");
    let new = store
        .alert(second)
        .await
        .expect("read")
        .expect("second alert");
    assert_eq!(new.routed.alert.status.as_str(), "triggered");
    let log: Vec<String> = store
        .alert_events(first)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.outcome)
        .collect();
    assert_eq!(log, ["opened", "repeated", "resolved"]);
    // The next batch finds the new alert open under the key.
    let more = ingest_retrying(&*store, &[alert_item("flap", 6, Action::Trigger)]).await;
    assert!(
        matches!(&more[0], IngestOutcome::Repeated(id) if id == second),
        "{more:?}"
    );
}

/// Keys reach SQL as text (PostgreSQL's batch read quotes them into its query): quotes,
/// backslashes, dollar signs, the quoting's own tag and SQL in a key are data, and each key
/// finds its own alert again.
async fn alert_keys_match_verbatim_whatever_they_hold(url: &str) {
    use warroom_core::alert::Action;
    use warroom_store::IngestOutcome;
    let store = open(url).await;
    let keys = [
        "it's",
        "a\\b",
        "$k0$",
        "$$",
        "x$k0$y'); DROP TABLE alerts; --",
        "ünïcode ✓",
        "line\nbreak",
        "",
    ];
    let first: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(n, k)| alert_item(k, n, Action::Trigger))
        .collect();
    let opened = ingest_retrying(&*store, &first).await;
    let again: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(n, k)| alert_item(k, n + 100, Action::Trigger))
        .collect();
    let repeated = ingest_retrying(&*store, &again).await;
    for ((key, open), repeat) in keys.iter().zip(&opened).zip(&repeated) {
        let IngestOutcome::Opened(id) = open else {
            panic!("{key:?}: {open:?}");
        };
        assert!(
            matches!(repeat, IngestOutcome::Repeated(again) if again == id),
            "{key:?}: {repeat:?}"
        );
        let alert = store.alert(id).await.expect("read").expect("stored");
        assert_eq!(alert.routed.alert.dedup_key, *key);
    }
}

/// The events linking `routed` on the payments service, at t0, paging nobody.
fn payments_link_events(
    current: Option<&Incident>,
    routed: &[warroom_core::alert_incident::RoutedAlert],
    config: &Config,
) -> Result<Vec<NewEvent>, warroom_core::DomainError> {
    let page = |_: &warroom_core::EventKind| None;
    warroom_core::alert_incident::link_events(current, "payments", routed, config, &page, t0()).map(
        |kinds| {
            kinds
                .into_iter()
                .map(|kind| NewEvent {
                    at: t0(),
                    actor: "warroom".into(),
                    kind,
                })
                .collect()
        },
    )
}

async fn alert_links_open_one_incident_per_service_across_processes(url: &str) {
    use warroom_core::alert::Action;
    use warroom_core::alert_incident::RoutedAlert;
    let first = open(url).await;
    let second = open(url).await;
    let items: Vec<_> = (0..40)
        .map(|n| alert_item(&format!("s{n}"), n, Action::Trigger))
        .collect();
    ingest_retrying(&*first, &items).await;
    let config = Config::builtin();
    let plan = |current: Option<&Incident>, routed: &[RoutedAlert]| {
        payments_link_events(current, routed, &config)
    };
    // Both processes link overlapping halves at once; each alert joins exactly once.
    let ids: Vec<String> = (0..40).map(|n| items[n].new_alert_id.clone()).collect();
    let link_chunks = |store: &Arc<dyn Store>, ids: &[String]| {
        let store = store.clone();
        let ids = ids.to_vec();
        let plan = &plan;
        async move {
            let mut done = Vec::new();
            for chunk in ids.chunks(5) {
                // A lost race for the incident number is retried, as the engine does.
                loop {
                    match store.link_alerts("payments", chunk, plan, &no_timers).await {
                        Ok(x) => {
                            done.push(x);
                            break;
                        }
                        Err(StoreError::Conflict(_)) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            done
        }
    };
    let (a, b) = tokio::join!(
        link_chunks(&first, &ids[..30]),
        link_chunks(&second, &ids[10..])
    );
    let incidents: std::collections::BTreeSet<String> = a
        .iter()
        .chain(&b)
        .flatten()
        .map(|id| id.to_string())
        .collect();
    assert_eq!(
        incidents.len(),
        1,
        "one incident for the service: {incidents:?}"
    );
    let id: IncidentId = incidents.iter().next().expect("one").parse().expect("id");
    let inc = first
        .incident(&admin(), &id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(inc.alerts, 40, "every alert attached once");
    let linked = first
        .alerts(&warroom_store::AlertFilter {
            incident_id: Some(id.to_string()),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(linked.len(), 40);
    assert!(linked.iter().all(|a| a.link == "done"));
    assert!(first.verify().await.expect("verify").ok);
}

/// The linking pass's reads (its work list, the alerts it hands to the plan, the re-check in its
/// transaction) give waiting alerts oldest first, skip those linked meanwhile, and hand over
/// each alert exactly as stored, whatever its text holds.
async fn linking_reads_waiting_alerts_oldest_first_as_stored(url: &str) {
    use std::sync::Mutex;
    use warroom_core::alert::Action;
    use warroom_core::alert_incident::RoutedAlert;
    use warroom_store::AlertWork;
    let store = open(url).await;
    // Ids sort against time: only first_seen puts them in order.
    let mut items: Vec<_> = ["z", "y", "x", "w", "v"]
        .iter()
        .enumerate()
        .map(|(n, k)| alert_item(k, n, Action::Trigger))
        .collect();
    items[1].event.summary = "Quotes \"here\", a tab\tand ünïcode \u{2014} then\na new line".into();
    items[1]
        .event
        .labels
        .insert("region".into(), "eu-west-1 \\ \"b\"".into());
    items[1].event.custom_details = serde_json::json!({"nested": {"n": 1.5, "list": [null, true]}});
    ingest_retrying(&*store, &items).await;
    let ids: Vec<String> = items.iter().map(|i| i.new_alert_id.clone()).collect();
    let link_work = |ids: &[String]| AlertWork::Link {
        service: "payments".into(),
        alerts: ids.to_vec(),
    };
    assert_eq!(
        store.alert_work(3).await.expect("work"),
        vec![link_work(&ids[..3])]
    );
    assert_eq!(
        store.alert_work(100).await.expect("work"),
        vec![link_work(&ids)]
    );

    let config = Config::builtin();
    let seen: Mutex<Vec<Vec<RoutedAlert>>> = Mutex::new(Vec::new());
    let plan = |current: Option<&Incident>, routed: &[RoutedAlert]| {
        seen.lock().expect("lock").push(routed.to_vec());
        payments_link_events(current, routed, &config)
    };
    // The two oldest, asked for newest first, then every alert: the second call sees only
    // the three still waiting.
    let reversed = vec![ids[1].clone(), ids[0].clone()];
    let incident = store
        .link_alerts("payments", &reversed, &plan, &no_timers)
        .await
        .expect("link")
        .expect("an incident");
    let again = store
        .link_alerts("payments", &ids, &plan, &no_timers)
        .await
        .expect("link")
        .expect("an incident");
    assert_eq!(again, incident, "the second call joins the first incident");
    let seen = seen.into_inner().expect("lock");
    let seen_ids: Vec<Vec<&str>> = seen
        .iter()
        .map(|call| call.iter().map(|a| a.alert.id.as_str()).collect())
        .collect();
    assert_eq!(
        seen_ids,
        vec![
            vec![ids[0].as_str(), ids[1].as_str()],
            vec![ids[2].as_str(), ids[3].as_str(), ids[4].as_str()]
        ]
    );
    // What the plan got is what was stored before linking (no incident yet).
    let odd = &seen[0][1];
    assert_eq!(odd.alert.summary, items[1].event.summary);
    assert_eq!(odd.alert.labels, items[1].event.labels);
    let mut stored = store
        .alert(&ids[1])
        .await
        .expect("read")
        .expect("stored")
        .routed;
    assert_eq!(stored.alert.incident_id.as_deref(), Some(incident.as_str()));
    stored.alert.incident_id = None;
    assert_eq!(*odd, stored);
    assert_eq!(store.alert_work(100).await.expect("work"), vec![]);

    // A resolved alert of the incident makes it work to settle.
    let mut resolve = alert_item("x", 9, Action::Resolve);
    resolve.new_alert_id = "alr_unused".into();
    ingest_retrying(&*store, &[resolve]).await;
    assert_eq!(
        store.alert_work(100).await.expect("work"),
        vec![AlertWork::Settle {
            incident_id: incident.to_string()
        }]
    );
}

fn add_action(owner: &str, due: &str) -> Command {
    Command::AddAction(warroom_core::action::NewAction {
        title: format!("follow-up for {owner}"),
        owner: owner.into(),
        due: due.parse().expect("date"),
        priority: None,
        ticket: None,
    })
}

async fn action_items_are_projected_listed_and_reminded(url: &str) {
    use warroom_core::action::{ActionPatch, ActionStatus};
    use warroom_store::ActionFilter;
    let store = open(url).await;
    let public = declare_with_timers(&*store, "Public", "P2", t0()).await;
    let mut secret_decl = declaration("Secret", "P2");
    secret_decl.restricted = true;
    let kind = declare(&secret_decl, &Config::builtin()).expect("valid");
    let (secret, _) = store
        .create_incident(
            vec![NewEvent {
                at: t0(),
                actor: "sec".into(),
                kind,
            }],
            &plan,
        )
        .await
        .expect("declared");

    // Alice (Europe/Berlin) due 24 Nov -> 23:00Z; bob (London) due 30 Nov -> 1 Dec 00:00Z.
    let add = |id: IncidentId, cmd: Command| {
        let store = store.clone();
        async move {
            let config = timer_config();
            let decide_events = move |inc: &Incident| {
                decide(inc, &cmd, &config).map(|kinds| {
                    kinds
                        .into_iter()
                        .map(|kind| NewEvent {
                            at: t0(),
                            actor: "sec".into(),
                            kind,
                        })
                        .collect()
                })
            };
            store
                .update(&admin(), &id, &decide_events, &plan)
                .await
                .expect("accepted")
                .0
        }
    };
    add(public.id.clone(), add_action("alice", "2026-11-24")).await;
    add(public.id.clone(), add_action("bob", "2026-11-30")).await;
    add(secret.id.clone(), add_action("alice", "2026-11-23")).await;

    let all = ActionFilter {
        limit: 100,
        ..ActionFilter::default()
    };
    let listed = store.list_actions(&admin(), &all).await.expect("list");
    let keys: Vec<(String, String)> = listed
        .iter()
        .map(|a| (a.incident_id.clone(), a.item.id.clone()))
        .collect();
    assert_eq!(
        keys,
        [
            (secret.id.to_string(), "A1".to_string()),
            (public.id.to_string(), "A1".to_string()),
            (public.id.to_string(), "A2".to_string()),
        ],
        "by due time"
    );
    // The projection equals the fold.
    let folded = store
        .incident(&admin(), &public.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(listed[1].item, folded.actions[0]);

    // Restricted incidents' items are invisible to outsiders, as the incidents are.
    let outsider = store
        .list_actions(&person("carol"), &all)
        .await
        .expect("list");
    assert_eq!(outsider.len(), 2);
    assert!(outsider.iter().all(|a| a.incident_id == public.id.as_str()));

    let by_owner = ActionFilter {
        owner: Some("alice".into()),
        limit: 100,
        ..ActionFilter::default()
    };
    assert_eq!(
        store
            .list_actions(&person("carol"), &by_owner)
            .await
            .expect("list")
            .len(),
        1
    );
    let overdue = |at: &str| ActionFilter {
        overdue_at: Some(at.parse().expect("time")),
        limit: 100,
        ..ActionFilter::default()
    };
    assert!(
        store
            .list_actions(&admin(), &overdue("2026-11-22T23:59:59Z"))
            .await
            .expect("list")
            .is_empty()
    );
    let due = store
        .list_actions(&admin(), &overdue("2026-11-24T23:00:00Z"))
        .await
        .expect("list");
    assert_eq!(due.len(), 2, "alice's two items");

    // Done items are no longer overdue, nor open; the projection follows the update.
    let done = Command::UpdateAction {
        action: "A1".into(),
        patch: ActionPatch {
            status: Some(ActionStatus::Done),
            ..ActionPatch::default()
        },
    };
    add(secret.id.clone(), done).await;
    let due = store
        .list_actions(&admin(), &overdue("2026-11-24T23:00:00Z"))
        .await
        .expect("list");
    assert_eq!(due.len(), 1);
    let open_only = ActionFilter {
        open_only: true,
        limit: 100,
        ..ActionFilter::default()
    };
    assert_eq!(
        store
            .list_actions(&admin(), &open_only)
            .await
            .expect("list")
            .len(),
        2
    );

    // The due timer fires once, at the due instant, and records the reminder.
    let fired = fire_at(&*store, "2026-11-24T23:00:00Z".parse().expect("time")).await;
    let reminders: usize = fired
        .iter()
        .filter(|f| {
            matches!(
                f.timer.kind,
                warroom_core::timer::TimerKind::ActionDue { .. }
            )
        })
        .map(|f| f.events)
        .sum();
    assert_eq!(reminders, 1, "alice's open item only: {fired:?}");
    let events = store
        .events(&admin(), &public.id)
        .await
        .expect("events")
        .expect("exists");
    assert_eq!(count_kind(&events, "action_item_due"), 1);
    let again = fire_at(&*store, "2026-11-25T00:00:00Z".parse().expect("time")).await;
    assert!(again.iter().all(|f| f.events == 0
        || !matches!(
            f.timer.kind,
            warroom_core::timer::TimerKind::ActionDue { .. }
        )));
    let report = store.verify().await.expect("verify");
    assert!(report.ok, "{report:?}");
}

async fn operational_stats_count_open_incidents_outbox_and_timer_lag(url: &str) {
    let store = open(url).await;
    let empty = store.operational_stats(t0()).await.expect("stats");
    assert_eq!(empty, warroom_store::OperationalStats::default());
    let a = declare_with_timers(&*store, "A", "P1", t0()).await;
    declare_with_timers(&*store, "B", "P1", t0()).await;
    let mut restricted = declaration("C", "P2");
    restricted.restricted = true;
    let kind = declare(&restricted, &Config::builtin()).expect("valid");
    store
        .create_incident(
            vec![NewEvent {
                at: t0(),
                actor: "sec".into(),
                kind,
            }],
            &no_timers,
        )
        .await
        .expect("declared");
    run(
        &*store,
        "bob",
        &a.id,
        Command::Resolve {
            summary: "done".into(),
        },
        t0(),
    )
    .await;
    store
        .enqueue_messages(vec![message("stats", 1), message("stats", 2)], t0())
        .await
        .expect("enqueue");

    // P1's acknowledgement target is 30 minutes: at 10:45 the oldest unfired due timer is
    // 15 minutes late.
    let now: Timestamp = "2026-11-22T10:45:00Z".parse().expect("time");
    let stats = store.operational_stats(now).await.expect("stats");
    assert_eq!(
        stats.open_incidents,
        [
            ("P1".to_string(), "triage".to_string(), 1),
            ("P2".to_string(), "triage".to_string(), 1)
        ]
    );
    assert_eq!(stats.outbox, [("pending".to_string(), 2)]);
    assert_eq!(
        stats.oldest_due_timer,
        Some("2026-11-22T10:30:00Z".parse().expect("time"))
    );
    fire_at(&*store, now).await;
    assert_eq!(
        store
            .operational_stats(now)
            .await
            .expect("stats")
            .oldest_due_timer,
        None
    );
}

async fn users_and_sessions_expire_and_log_out(url: &str) {
    let store = open(url).await;
    let user = NewUser {
        name: "alice".into(),
        role: Role::Responder,
        security: true,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: t0(),
        created_by: "admin".into(),
    };
    let made = store
        .create_user(user.clone(), None)
        .await
        .expect("created");
    assert_eq!((made.role, made.security), (Role::Responder, true));
    let dup = store.create_user(user.clone(), None).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let read = store.user("alice").await.expect("read").expect("found");
    assert_eq!(read, made);
    assert!(store.user("bob").await.expect("read").is_none());
    store
        .create_user(
            NewUser {
                name: "aaron".into(),
                role: Role::Viewer,
                security: false,
                ..user.clone()
            },
            None,
        )
        .await
        .expect("second user");
    let names: Vec<String> = store
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["aaron", "alice"]);

    let hour = SignedDuration::from_hours(1);
    let session = |hash: &str, at: Timestamp| NewSession {
        token_hash: hash.into(),
        user_name: "alice".into(),
        created_at: at,
        expires_at: at + hour,
    };
    store
        .create_session(session("s1", t0()))
        .await
        .expect("session");
    let who = store
        .session_user("s1", t0() + SignedDuration::from_secs(59 * 60))
        .await
        .expect("read")
        .expect("live session");
    assert_eq!(who.name, "alice");
    assert!(
        store
            .session_user("s2", t0())
            .await
            .expect("read")
            .is_none()
    );
    // Expiry is exclusive: at the expiry instant the session is gone.
    assert!(
        store
            .session_user("s1", t0() + hour)
            .await
            .expect("read")
            .is_none()
    );
    // A later login sweeps the expired session away; the new one works.
    store
        .create_session(session("s2", t0() + hour + hour))
        .await
        .expect("second session");
    assert!(
        store
            .session_user("s1", t0())
            .await
            .expect("read")
            .is_none(),
        "swept"
    );
    assert!(
        store
            .session_user("s2", t0() + hour + hour)
            .await
            .expect("read")
            .is_some()
    );
    store.delete_session("s2").await.expect("logout");
    store
        .delete_session("s2")
        .await
        .expect("logout twice is fine");
    assert!(
        store
            .session_user("s2", t0() + hour + hour)
            .await
            .expect("read")
            .is_none()
    );
    // A session for nobody is refused by the foreign key.
    let orphan = store
        .create_session(NewSession {
            user_name: "mallory".into(),
            ..session("s3", t0() + hour + hour)
        })
        .await;
    assert!(orphan.is_err(), "{orphan:?}");
}

async fn change_marker_grows_with_every_write(url: &str) {
    let store = open(url).await;
    let start = store.change_marker().await.expect("marker");
    assert_eq!(start, 0);
    let inc = declare_as(&*store, "alice", &declaration("db down", "P1"), t0()).await;
    let declared = store.change_marker().await.expect("marker");
    assert!(declared > start);
    run(
        &*store,
        "alice",
        &inc.id,
        Command::AddNote { text: "n".into() },
        t0(),
    )
    .await;
    let noted = store.change_marker().await.expect("marker");
    assert!(noted > declared, "{noted} > {declared}");
}

/// Migration 0012: disabled accounts have no sessions and none are found for them; enabling
/// restores sign-in but not the ended sessions; a password change ends the other sessions.
async fn disabling_a_user_ends_its_sessions_and_passwords_change(url: &str) {
    let store = open(url).await;
    let hour = SignedDuration::from_hours(1);
    for name in ["alice", "bob"] {
        store
            .create_user(
                NewUser {
                    name: name.into(),
                    role: Role::Responder,
                    security: false,
                    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                    created_at: t0(),
                    created_by: "admin".into(),
                },
                None,
            )
            .await
            .expect("user");
    }
    let session = |hash: &str, user: &str| NewSession {
        token_hash: hash.into(),
        user_name: user.into(),
        created_at: t0(),
        expires_at: t0() + hour,
    };
    for (hash, user) in [("a1", "alice"), ("a2", "alice"), ("b1", "bob")] {
        store
            .create_session(session(hash, user))
            .await
            .expect("session");
    }
    let live = |hash: &'static str| {
        let store = &store;
        async move {
            store
                .session_user(hash, t0())
                .await
                .expect("read")
                .is_some()
        }
    };

    let disabled = store
        .set_user_disabled("alice", Some((t0(), "admin")), None)
        .await
        .expect("disabled");
    assert_eq!(disabled.disabled_at, Some(t0()));
    assert_eq!(disabled.disabled_by.as_deref(), Some("admin"));
    assert!(!live("a1").await && !live("a2").await, "her sessions ended");
    assert!(live("b1").await, "others keep theirs");
    // Disabling again keeps the first record; a new session row would not be found either.
    let again = store
        .set_user_disabled("alice", Some((t0() + hour, "root")), None)
        .await
        .expect("disabled again");
    assert_eq!(
        (again.disabled_at, again.disabled_by.as_deref()),
        (Some(t0()), Some("admin"))
    );
    store
        .create_session(session("a3", "alice"))
        .await
        .expect("row");
    assert!(
        !live("a3").await,
        "a disabled account's session is not found"
    );
    let read = store.user("alice").await.expect("read").expect("found");
    assert_eq!(read.disabled_at, Some(t0()));
    let enabled = store
        .set_user_disabled("alice", None, None)
        .await
        .expect("enabled");
    assert_eq!((enabled.disabled_at, enabled.disabled_by), (None, None));
    assert!(live("a3").await, "enabled again");
    assert!(!live("a1").await, "ended sessions stay ended");
    let missing = store
        .set_user_disabled("mallory", Some((t0(), "admin")), None)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    // A password change keeps the session that made it and ends the others.
    store
        .create_session(session("a4", "alice"))
        .await
        .expect("session");
    store
        .set_password("alice", "$argon2id$new", Some("a4"), None)
        .await
        .expect("changed");
    assert!(live("a4").await && !live("a3").await);
    assert!(live("b1").await);
    let read = store.user("alice").await.expect("read").expect("found");
    assert_eq!(read.password_hash, "$argon2id$new");
    store
        .set_password("bob", "$argon2id$reset", None, None)
        .await
        .expect("reset");
    assert!(!live("b1").await, "an admin's reset ends every session");
    let missing = store.set_password("mallory", "x", None, None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

/// A rotated integration answers to its new key and, flagged as previous, to the old one; a
/// second rotation drops the oldest key; a revoked one answers to neither and stays listed.
async fn integration_keys_rotate_and_revoke(url: &str) {
    use warroom_store::NewIntegration;
    let store = open(url).await;
    let created = store
        .create_integration(
            NewIntegration {
                id: "int_rot".into(),
                name: "api".into(),
                service: "api".into(),
                key_hash: "h1".into(),
                created_at: t0(),
                created_by: "admin".into(),
            },
            None,
        )
        .await
        .expect("create");
    assert_eq!(created.rotated_at, None);
    let found = lookup(&*store, "h1").await;
    let found = found.expect("the first key is known");
    assert!(!found.previous_key);
    assert!(found.accepted_at(t0()));

    let later = t0() + jiff::SignedDuration::from_secs(60);
    let until = t0() + jiff::SignedDuration::from_secs(3600);
    let rotated = store
        .rotate_integration_key("int_rot", "h2", until, later, None)
        .await
        .expect("rotate")
        .expect("a live integration");
    assert_eq!(rotated.rotated_at, Some(later));
    assert_eq!(rotated.previous_key_until, Some(until));
    let new = lookup(&*store, "h2").await.expect("new key");
    assert!(!new.previous_key);
    let old = lookup(&*store, "h1").await.expect("old key");
    assert!(old.previous_key);
    assert!(old.accepted_at(later));
    assert!(
        !old.accepted_at(until),
        "the old key ends at previous_key_until"
    );

    store
        .rotate_integration_key("int_rot", "h3", until, later, None)
        .await
        .expect("rotate again")
        .expect("live");
    assert!(lookup(&*store, "h1").await.is_none());
    assert!(lookup(&*store, "h2").await.expect("h2").previous_key);
    assert!(
        store
            .rotate_integration_key("int_missing", "h4", until, later, None)
            .await
            .expect("rotate unknown")
            .is_none()
    );

    let revoked = store
        .revoke_integration("int_rot", later, None)
        .await
        .expect("revoke")
        .expect("exists");
    assert_eq!(revoked.revoked_at, Some(later));
    assert!(lookup(&*store, "h3").await.is_none());
    assert!(lookup(&*store, "h2").await.is_none());
    let again = store
        .revoke_integration("int_rot", until, None)
        .await
        .expect("revoke again")
        .expect("exists");
    assert_eq!(
        again.revoked_at,
        Some(later),
        "a second revocation changes nothing"
    );
    assert!(
        store
            .rotate_integration_key("int_rot", "h5", until, later, None)
            .await
            .expect("rotate revoked")
            .is_none(),
        "a revoked integration cannot be brought back by rotating"
    );
    assert!(
        store
            .revoke_integration("int_missing", later, None)
            .await
            .expect("revoke unknown")
            .is_none()
    );
    let listed = store.integrations().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(later));
}

/// The integration a routing-key hash finds.
async fn lookup(store: &dyn Store, hash: &str) -> Option<warroom_store::KeyedIntegration> {
    store.integration_by_key(hash).await.expect("lookup")
}

/// SQLite only: a steady stream of small batches through the blocking writer keeps the
/// write-ahead log short. Left to the background checkpointer, the log never started again
/// and grew by about 40 KiB a batch (750 MB in a benchmark run), which every commit and flush
/// then paid for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_log_stays_bounded_under_steady_ingestion() {
    use warroom_core::alert::Action;
    let (dir, url) = warroom_store::testing::fresh_sqlite().expect("temp dir");
    let store = open(&url).await;
    let writer = store
        .blocking_ingest()
        .expect("a SQLite file has a blocking writer");
    const BATCHES: usize = 3_000;
    tokio::task::spawn_blocking(move || {
        for n in 0..BATCHES {
            let out = writer
                .commit(&[alert_item(&format!("steady-{n}"), n, Action::Trigger)])
                .expect("commit");
            assert_eq!(out.len(), 1);
        }
        writer.flush().expect("flush");
    })
    .await
    .expect("writer thread");
    let log = std::fs::metadata(dir.path().join("warroom.db-wal"))
        .expect("the log exists")
        .len();
    // 3,000 batches of one new alert write about 130 MB of log frames in all; checkpointing
    // every 4,000 pages keeps the file near 16 MB (a few pages over while a checkpoint waits).
    assert!(log < 24 * 1024 * 1024, "the log grew to {log} bytes");
    let alerts = store
        .alerts(&warroom_store::AlertFilter {
            limit: 5,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 5);
}
