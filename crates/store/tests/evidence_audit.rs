//! Evidence records and the audit log on SQLite and on a throwaway PostgreSQL: evidence is
//! recorded once per incident and content, with its event, and only for those who may see the
//! incident; the audit chain stays linear with two processes appending at once, verifies, and
//! the database itself refuses to change or delete an entry; a credential change and its entry
//! commit together or not at all.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use sqlx::Connection;
use warroom_core::audit::{AuditAction, NewAuditEntry, verify};
use warroom_core::command::{Declaration, declare};
use warroom_core::evidence::EvidenceInfo;
use warroom_core::{Config, Incident, NewEvent, Principal, Role, TokenScope};
use warroom_store::{AuditFilter, Backend, NewIntegration, NewToken, NewUser, Store, StoreError};

macro_rules! both_backends {
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

both_backends!(
    evidence_is_recorded_once_with_its_event,
    audit_chain_stays_linear_across_processes,
    audit_log_is_append_only_and_tampering_shows,
    credential_changes_commit_with_their_audit_entries,
);

fn t0() -> Timestamp {
    "2026-11-22T10:00:00Z".parse().expect("time")
}

fn principal(name: &str, role: Role) -> Principal {
    Principal {
        name: name.into(),
        role,
        security: false,
    }
}

fn no_timers(_: &Incident) -> Vec<warroom_core::timer::TimerSpec> {
    Vec::new()
}

async fn declare_as(store: &dyn Store, actor: &str, restricted: bool) -> Incident {
    let d = Declaration {
        title: "Stolen laptop".into(),
        incident_type: Some("security-breach".into()),
        severity: "P1".into(),
        restricted,
        ..Declaration::default()
    };
    let kind = declare(&d, &Config::builtin()).expect("valid declaration");
    store
        .create_incident(
            vec![NewEvent {
                at: t0(),
                actor: actor.into(),
                kind,
            }],
            &no_timers,
        )
        .await
        .expect("declared")
        .0
}

async fn evidence_is_recorded_once_with_its_event(url: &str) {
    let store = warroom_store::open(url).await.expect("store");
    let inc = declare_as(&*store, "alice", true).await;
    let alice = principal("alice", Role::Responder);
    let sha = "ab".repeat(32);
    let info = EvidenceInfo::parse(
        Some("auth.log"),
        Some("text/plain"),
        Some("sshd log"),
        Some("web-1"),
    )
    .expect("valid");
    let added = |actor: &str| NewEvent {
        at: t0(),
        actor: actor.into(),
        kind: info.added_event(&sha, 42, "10.0.0.9"),
    };
    let (record, created) = store
        .add_evidence(&alice, &inc.id, added("alice"), &no_timers)
        .await
        .expect("added");
    assert!(created);
    assert_eq!((record.size, record.seq), (42, 2));
    assert_eq!(record.collected_from.as_deref(), Some("web-1"));
    assert_eq!(record.source, "10.0.0.9");

    let (again, created) = store
        .add_evidence(&alice, &inc.id, added("alice"), &no_timers)
        .await
        .expect("same content again");
    assert!(!created, "the same content is recorded once per incident");
    assert_eq!(again, record);
    let events = store
        .events(&alice, &inc.id)
        .await
        .expect("read")
        .expect("visible");
    assert_eq!(events.len(), 2, "no second evidence_added event");
    assert_eq!(events[1].kind.name(), "evidence_added");

    // Someone who may not see the restricted incident can neither add nor list.
    let outsider = principal("mallory", Role::Commander);
    let err = store
        .add_evidence(&outsider, &inc.id, added("mallory"), &no_timers)
        .await
        .expect_err("invisible");
    assert!(matches!(err, StoreError::NotFound), "{err}");
    assert_eq!(
        store.evidence(&outsider, &inc.id).await.expect("read"),
        None
    );
    let listed = store
        .evidence(&alice, &inc.id)
        .await
        .expect("read")
        .expect("visible");
    assert_eq!(listed, vec![record]);
    assert!(store.verify().await.expect("verify").ok);
}

fn entry(actor: &str, i: usize) -> NewAuditEntry {
    NewAuditEntry {
        at: t0() + SignedDuration::from_secs(i as i64),
        actor: actor.into(),
        action: AuditAction::RestrictedRead,
        target: format!("INC-{i}"),
        source: "127.0.0.1".into(),
        outcome: "ok".into(),
    }
}

async fn audit_chain_stays_linear_across_processes(url: &str) {
    // Two stores on one database stand for two server processes.
    let a: Arc<dyn Store> = warroom_store::open(url).await.expect("store a");
    let b: Arc<dyn Store> = warroom_store::open(url).await.expect("store b");
    let mut tasks = Vec::new();
    for (k, store) in [a.clone(), b.clone()].into_iter().enumerate() {
        for t in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    store
                        .append_audit(vec![entry(&format!("w{k}-{t}"), i)])
                        .await
                        .expect("appended");
                }
            }));
        }
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let all = a
        .audit_entries(&AuditFilter::default())
        .await
        .expect("read");
    assert_eq!(all.len(), 80);
    assert_eq!(verify(&all), Ok(()));
    let mine = b
        .audit_entries(&AuditFilter {
            actor: Some("w1-3".into()),
            action: Some("restricted_read".into()),
            since: Some(t0() + SignedDuration::from_secs(5)),
            limit: 0,
        })
        .await
        .expect("filtered");
    assert_eq!(mine.len(), 5);
}

async fn audit_log_is_append_only_and_tampering_shows(url: &str) {
    let store = warroom_store::open(url).await.expect("store");
    store
        .append_audit((0..3).map(|i| entry("alice", i)).collect())
        .await
        .expect("appended");
    let update = "UPDATE audit_log SET actor = 'nobody' WHERE seq = 2";
    let delete = "DELETE FROM audit_log WHERE seq = 3";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("raw");
        for sql in [update, delete] {
            let err = sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect_err("refused");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        // Someone with the file drops the guard: the chain still tells.
        sqlx::raw_sql("DROP TRIGGER audit_log_no_update")
            .execute(&mut conn)
            .await
            .expect("drop");
        sqlx::query(update)
            .execute(&mut conn)
            .await
            .expect("tampered");
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("raw");
        for sql in [update, delete, "TRUNCATE audit_log"] {
            let err = sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect_err("refused");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        sqlx::raw_sql("DROP TRIGGER audit_log_no_change ON audit_log")
            .execute(&mut conn)
            .await
            .expect("drop");
        sqlx::query(update)
            .execute(&mut conn)
            .await
            .expect("tampered");
    }
    let all = store
        .audit_entries(&AuditFilter::default())
        .await
        .expect("read");
    let broken = verify(&all).expect_err("tampering shows");
    assert_eq!(broken.seq, 2);
}

fn change(target: &str) -> Option<NewAuditEntry> {
    Some(NewAuditEntry {
        at: t0(),
        actor: "admin".into(),
        action: AuditAction::CredentialChange,
        target: target.into(),
        source: "127.0.0.1".into(),
        outcome: "ok".into(),
    })
}

async fn audited_targets(store: &dyn Store) -> Vec<String> {
    let all = store
        .audit_entries(&AuditFilter::default())
        .await
        .expect("read");
    assert_eq!(verify(&all), Ok(()));
    all.into_iter().map(|e| e.target).collect()
}

async fn credential_changes_commit_with_their_audit_entries(url: &str) {
    let store = warroom_store::open(url).await.expect("store");
    let user = NewUser {
        name: "alice".into(),
        role: Role::Responder,
        security: false,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: t0(),
        created_by: "admin".into(),
    };
    let token = NewToken {
        id: "tok_1".into(),
        name: "ci".into(),
        role: Role::Responder,
        security: false,
        token_hash: "cd".repeat(32),
        created_at: t0(),
        created_by: "admin".into(),
        scope: TokenScope::Full,
        expires_at: None,
    };
    let integration = NewIntegration {
        id: "int_1".into(),
        name: "alertmanager".into(),
        service: "api".into(),
        key_hash: "ef".repeat(32),
        created_at: t0(),
        created_by: "admin".into(),
    };
    let later = t0() + SignedDuration::from_hours(1);

    // Each change that is made is on record.
    store
        .create_user(user.clone(), change("user alice created"))
        .await
        .expect("user");
    store
        .create_token(token.clone(), change("tok_1 created"))
        .await
        .expect("token");
    store
        .create_integration(integration.clone(), change("int_1 created"))
        .await
        .expect("integration");
    store
        .set_user_disabled(
            "alice",
            Some((later, "admin")),
            change("user alice disabled"),
        )
        .await
        .expect("disabled");
    store
        .set_password(
            "alice",
            "$argon2id$new",
            None,
            change("user alice password set"),
        )
        .await
        .expect("password");
    store
        .rotate_integration_key(
            "int_1",
            &"12".repeat(32),
            later,
            later,
            change("int_1 rotated"),
        )
        .await
        .expect("rotate")
        .expect("rotated");
    store
        .revoke_integration("int_1", later, change("int_1 revoked"))
        .await
        .expect("revoke")
        .expect("revoked");
    store
        .revoke_token("tok_1", later, change("tok_1 revoked"))
        .await
        .expect("revoke")
        .expect("revoked");
    let made = [
        "user alice created",
        "tok_1 created",
        "int_1 created",
        "user alice disabled",
        "user alice password set",
        "int_1 rotated",
        "int_1 revoked",
        "tok_1 revoked",
    ];
    assert_eq!(audited_targets(store.as_ref()).await, made);

    // Each change that is not made leaves no entry naming it.
    let dup = store.create_user(user.clone(), change("dup user")).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let dup = store
        .create_token(
            NewToken {
                id: "tok_2".into(),
                ..token.clone()
            },
            change("dup token"),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let dup = store
        .create_integration(integration.clone(), change("dup integration"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let none = store
        .set_user_disabled("mallory", None, change("mallory enabled"))
        .await;
    assert!(matches!(none, Err(StoreError::NotFound)), "{none:?}");
    let none = store
        .set_password("mallory", "x", None, change("mallory password"))
        .await;
    assert!(matches!(none, Err(StoreError::NotFound)), "{none:?}");
    let revoked_already = store
        .rotate_integration_key("int_1", "x", later, later, change("revoked int rotated"))
        .await
        .expect("rotate");
    assert!(revoked_already.is_none());
    for missing in [
        store
            .revoke_integration("int_none", later, change("int_none revoked"))
            .await
            .expect("revoke")
            .map(|i| i.id),
        store
            .revoke_token("tok_none", later, change("tok_none revoked"))
            .await
            .expect("revoke")
            .map(|t| t.id),
    ] {
        assert_eq!(missing, None);
    }
    assert_eq!(audited_targets(store.as_ref()).await, made);

    // And an entry that cannot be written undoes its change. PostgreSQL's text cannot hold a
    // NUL, so an actor with one fails the entry's insert; SQLite stores it.
    if store.backend() == Backend::Postgres {
        let mut bad = change("user bob created");
        if let Some(e) = bad.as_mut() {
            e.actor = "ad\0min".into();
        }
        let refused = store
            .create_user(
                NewUser {
                    name: "bob".into(),
                    ..user.clone()
                },
                bad,
            )
            .await;
        assert!(refused.is_err(), "{refused:?}");
        assert!(store.user("bob").await.expect("read").is_none());
        assert_eq!(audited_targets(store.as_ref()).await, made);
    }
}
