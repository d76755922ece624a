//! `warroom serve --demo`: a realistic incident history so a newcomer sees the system work.
//!
//! Seeding goes through the same domain rules and store calls as real requests, so the demo
//! timeline is a valid, verifiable chain. It only runs on an empty database.

use jiff::SignedDuration;
use warroom_core::command::{
    Declaration, OutgoingDraft, decide, declaration_events, page_for_declaration,
};
use warroom_core::timer::desired_timers;
use warroom_core::{
    Clock, Command, Config, Impact, IncidentPatch, Links, NewEvent, Principal, Role, Status,
};
use warroom_store::{IncidentFilter, Store};

struct Step<'a> {
    minutes_ago: i64,
    actor: &'a str,
    command: Command,
}

async fn play(
    store: &dyn Store,
    config: &Config,
    clock: &dyn Clock,
    started_ago: i64,
    reporter: &str,
    d: Declaration,
    steps: Vec<Step<'_>>,
) -> Result<String, String> {
    let now = clock.now();
    let at = |mins: i64| now - SignedDuration::from_mins(mins);
    let mut kinds = declaration_events(&d, config).map_err(|e| e.to_string())?;
    if let Some(page) = kinds
        .first()
        .and_then(|declared| page_for_declaration(declared, config, &[], at(started_ago)))
    {
        kinds.push(page);
    }
    let events = kinds
        .into_iter()
        .map(|kind| NewEvent {
            at: at(started_ago),
            actor: reporter.into(),
            kind,
        })
        .collect();
    let (mut inc, _) = store
        .create_incident(events, &|i: &warroom_core::Incident| {
            desired_timers(i, config)
        })
        .await
        .map_err(|e| e.to_string())?;
    for step in steps {
        let kinds =
            decide(&inc, &step.command, config).map_err(|e| format!("{:?}: {e}", step.command))?;
        let events = kinds
            .into_iter()
            .map(|kind| NewEvent {
                at: at(step.minutes_ago),
                actor: step.actor.into(),
                kind,
            })
            .collect();
        inc = store
            .append(
                &inc.id,
                inc.version,
                events,
                &|i: &warroom_core::Incident| desired_timers(i, config),
            )
            .await
            .map_err(|e| e.to_string())?
            .0;
    }
    Ok(inc.id.to_string())
}

/// Ticks off the first tasks of the live incident's playbook, as responders would have, so the
/// demo shows a checklist in progress (and, as time passes, overdue tasks).
async fn work_the_checklist(
    store: &dyn Store,
    config: &Config,
    clock: &dyn Clock,
    id: &str,
) -> Result<(), String> {
    let everyone = Principal {
        name: "demo".into(),
        role: Role::Admin,
        security: true,
    };
    let id: warroom_core::IncidentId = id
        .parse()
        .map_err(|e: warroom_core::id::IdError| e.to_string())?;
    let inc = store
        .incident(&everyone, &id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("demo incident vanished")?;
    let Some(attached) = inc.playbooks.first() else {
        return Ok(());
    };
    let tasks: Vec<(String, String)> = attached
        .playbook
        .phases
        .iter()
        .flat_map(|ph| {
            ph.tasks
                .iter()
                .map(|t| (attached.playbook.id.clone(), t.id.clone()))
        })
        .take(4)
        .collect();
    let now = clock.now();
    for (i, (playbook, task)) in tasks.into_iter().enumerate() {
        let command = if i == 2 {
            Command::SkipTask {
                playbook,
                task,
                reason: "covered by the edge block already in place".into(),
            }
        } else {
            Command::CompleteTask { playbook, task }
        };
        let at = now - SignedDuration::from_mins(30 - 5 * i as i64);
        let actor = if i % 2 == 0 { "sam" } else { "bob" };
        let decide_events = |inc: &warroom_core::Incident| {
            decide(inc, &command, config).map(|kinds| {
                kinds
                    .into_iter()
                    .map(|kind| NewEvent {
                        at,
                        actor: actor.into(),
                        kind,
                    })
                    .collect()
            })
        };
        store
            .update(
                &everyone,
                &id,
                &decide_events,
                &|i: &warroom_core::Incident| desired_timers(i, config),
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn note<'a>(minutes_ago: i64, actor: &'a str, text: &str) -> Step<'a> {
    Step {
        minutes_ago,
        actor,
        command: Command::AddNote { text: text.into() },
    }
}

/// Seeds three incidents: one live security incident, one resolved outage, one closed one.
/// The alerts behind the live incident: Alertmanager's failed-login alerts on `auth`, through an
/// example integration (its routing key is thrown away: create your own to send alerts). The
/// engine attaches them to the open `auth` incident on its first pass.
async fn seed_alerts(store: &dyn Store, clock: &dyn Clock) -> Result<(), String> {
    use warroom_core::alert::{Action, AlertEvent, AlertSeverity, SourceKind};
    let now = clock.now();
    let integration = store
        .create_integration(
            warroom_store::NewIntegration {
                id: "int_demo_alertmanager".into(),
                name: "alertmanager-prod (demo)".into(),
                service: "auth".into(),
                key_hash: crate::auth::hash_token(&crate::auth::random_hex(16)),
                created_at: now - SignedDuration::from_hours(24 * 30),
                created_by: "demo".into(),
            },
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut items = Vec::new();
    for (i, (minutes_ago, ip, summary)) in [
        (43, "203.0.113.7", "Failed logins on auth at 40x baseline"),
        (
            42,
            "198.51.100.23",
            "Failed logins on auth from one /24 above 500/min",
        ),
        (
            41,
            "203.0.113.7",
            "Logins from unusual ASNs above 5% of successes",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let at = now - SignedDuration::from_mins(minutes_ago);
        let mut event = AlertEvent::new(SourceKind::Alertmanager, Action::Trigger, summary);
        event.severity = Some(AlertSeverity::Critical);
        event.source = Some("prometheus-eu-west-1".into());
        event
            .labels
            .insert("alertname".into(), "AuthLoginAnomaly".into());
        event.labels.insert("source_ip".into(), ip.into());
        let dedup = format!("demo-auth-{i}");
        event.dedup_key = Some(dedup.clone());
        items.push(warroom_store::IngestItem {
            event,
            integration_id: integration.id.clone(),
            dedup_key: dedup,
            received_at: at,
            new_alert_id: format!("alr_{:014x}demo{i}", at.as_microsecond().max(0)),
            service: Some("auth".into()),
            incident_severity: "P1".into(),
            playbooks: Vec::new(),
            disposition: warroom_store::Disposition::Open,
            threshold: None,
            open_incidents: true,
        });
    }
    store.ingest(&items).await.map_err(|e| e.to_string())?;
    Ok(())
}

pub async fn seed(store: &dyn Store, config: &Config, clock: &dyn Clock) -> Result<(), String> {
    let everyone = Principal {
        name: "demo".into(),
        role: Role::Admin,
        security: true,
    };
    let existing = store
        .count(
            &everyone,
            &IncidentFilter {
                limit: 1,
                ..IncidentFilter::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    if existing > 0 {
        tracing::info!("database already has incidents; not seeding the demo");
        return Ok(());
    }
    let service = |s: &str| {
        if config.accepts_service(s) {
            vec![s.to_string()]
        } else {
            Vec::new()
        }
    };
    let sev = |i: usize| {
        config
            .severities
            .get(i.min(config.severities.len() - 1))
            .map(|s| s.id.clone())
            .unwrap_or_default()
    };
    let role = |id: &str| config.role(id).map(|r| r.id.clone());
    let mut assign = Vec::new();
    for (mins, r, who) in [
        (38, "incident-commander", "alice"),
        (36, "security-lead", "sam"),
        (35, "communications-lead", "carol"),
    ] {
        if let Some(r) = role(r) {
            assign.push(Step {
                minutes_ago: mins,
                actor: "alice",
                command: Command::AssignRole {
                    role: r,
                    person: who.into(),
                },
            });
        }
    }

    let mut steps = vec![Step {
        minutes_ago: 40,
        actor: "alice",
        command: Command::Acknowledge,
    }];
    steps.extend(assign);
    steps.extend([
        note(33, "bob", "Failed logins at 40x baseline, mostly from 2 ASNs. Blocked 203.0.113.7 and 198.51.100.0/24 at the edge."),
        note(25, "sam", "About 1,200 accounts logged in successfully from the attacking ranges: credential stuffing with reused passwords."),
        Step { minutes_ago: 24, actor: "alice", command: Command::ChangeSeverity { severity: sev(0), reason: Some("confirmed account takeover; customer data exposed".into()) } },
        Step {
            minutes_ago: 20,
            actor: "sam",
            command: Command::Update(IncidentPatch {
                impact: Some(Impact {
                    users_affected: Some(1200),
                    data_affected: Some("profile data and order history of affected accounts".into()),
                    services_impacted: service("auth"),
                    estimated_cost: None,
                }),
                links: Some(Links {
                    ticket: Some("SEC-4821".into()),
                    chat_channel: Some("#inc-login-attack".into()),
                    dashboard: Some("https://grafana.example.com/d/auth-overview".into()),
                }),
                ..IncidentPatch::default()
            }),
        },
        Step { minutes_ago: 12, actor: "bob", command: Command::ChangeStatus { status: Status::Contained, reason: Some("rate limits and IP blocks hold; no new takeovers for 10 minutes".into()) } },
        note(5, "carol", "Drafted the customer notice for affected accounts; legal is reviewing."),
    ]);
    // Personal data of EU customers: the GDPR clock starts (see `warroom deadlines`).
    steps.push(Step {
        minutes_ago: 22,
        actor: "sam",
        command: Command::Update(IncidentPatch {
            labels: Some(
                [("personal-data", "yes"), ("jurisdiction", "EU")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                    .collect(),
            ),
            ..IncidentPatch::default()
        }),
    });
    if config.template("internal-update").is_some()
        && config
            .comms
            .channels
            .iter()
            .any(|c| c.id == "incident-room")
    {
        steps.push(Step {
            minutes_ago: 10,
            actor: "carol",
            command: Command::SendMessage(OutgoingDraft {
                template: "internal-update".into(),
                subject: "Credential stuffing contained; forced password resets under way".into(),
                text: "Status: contained. About 1,200 accounts were taken over with reused passwords; \
                       rate limits and IP blocks hold. Next: force resets for affected accounts, \
                       customer notice with legal."
                    .into(),
                to: vec!["incident-room".into()],
                meets: None,
            }),
        });
    }
    steps.sort_by_key(|s| std::cmp::Reverse(s.minutes_ago));
    let mut d = Declaration {
        title: "Credential stuffing against customer logins".into(),
        incident_type: config
            .incident_type("security-breach")
            .map(|t| t.id.clone()),
        severity: sev(1),
        services: service("auth"),
        description: Some(
            "Alert: failed login rate on auth above 10x baseline for 5 minutes.".into(),
        ),
        ..Declaration::default()
    };
    d.labels.insert("detected-by".into(), "alertmanager".into());
    d.labels.insert("region".into(), "eu-west-1".into());
    let live = play(store, config, clock, 42, "bob", d, steps).await?;
    work_the_checklist(store, config, clock, &live).await?;
    if config.accepts_service("auth") {
        seed_alerts(store, clock).await?;
    }

    let outage = Declaration {
        title: "Checkout errors after payment gateway deploy".into(),
        incident_type: config.incident_type("outage").map(|t| t.id.clone()),
        severity: sev(1),
        services: service("payments"),
        ..Declaration::default()
    };
    let resolved = play(
        store,
        config,
        clock,
        26 * 60,
        "dave",
        outage,
        vec![
            Step {
                minutes_ago: 26 * 60 - 4,
                actor: "dave",
                command: Command::Acknowledge,
            },
            note(
                26 * 60 - 9,
                "dave",
                "5xx on /checkout started with release 2026.11.3; rolling back.",
            ),
            Step {
                minutes_ago: 26 * 60 - 21,
                actor: "dave",
                command: Command::ChangeStatus {
                    status: Status::Recovering,
                    reason: Some("rollback deployed".into()),
                },
            },
            Step {
                minutes_ago: 26 * 60 - 30,
                actor: "dave",
                command: Command::Update(IncidentPatch {
                    root_cause: Some(
                        "A config key renamed in the release was missing in production.".into(),
                    ),
                    ..IncidentPatch::default()
                }),
            },
            Step {
                minutes_ago: 26 * 60 - 34,
                actor: "dave",
                command: Command::Resolve {
                    summary: "Rolled back release 2026.11.3; error rate back to baseline.".into(),
                },
            },
            Step {
                minutes_ago: 26 * 60 - 40,
                actor: "dave",
                command: Command::AddAction(warroom_core::action::NewAction {
                    title: "Check renamed config keys in the release pipeline".into(),
                    // The team's own people when it configured some, so the seed always fits.
                    owner: config
                        .people
                        .first()
                        .map_or_else(|| "dave".to_string(), |p| p.id.clone()),
                    due: clock
                        .now()
                        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                        .date()
                        .checked_add(jiff::Span::new().days(7))
                        .map_err(|e| e.to_string())?,
                    priority: Some(warroom_core::action::Priority::P2),
                    ticket: None,
                }),
            },
        ],
    )
    .await?;

    let slow = Declaration {
        title: "Search results slow for large workspaces".into(),
        incident_type: config.incident_type("degradation").map(|t| t.id.clone()),
        severity: sev(2),
        services: service("search"),
        ..Declaration::default()
    };
    let closed = play(
        store,
        config,
        clock,
        4 * 24 * 60,
        "erin",
        slow,
        vec![
            Step {
                minutes_ago: 4 * 24 * 60 - 50,
                actor: "erin",
                command: Command::Acknowledge,
            },
            Step {
                minutes_ago: 4 * 24 * 60 - 180,
                actor: "erin",
                command: Command::Resolve {
                    summary: "Rebuilt the fragmented index; p95 back under 300 ms.".into(),
                },
            },
            Step {
                minutes_ago: 2 * 24 * 60,
                actor: "admin",
                command: Command::Close,
            },
        ],
    )
    .await?;
    publish_to_status_page(store, config, clock, &live, &resolved).await?;
    tracing::info!(%live, %resolved, %closed, "seeded demo incidents");
    Ok(())
}

/// One public step of the demo's status page story.
enum PageStep {
    Publish(warroom_core::statuspage::PublishRequest),
    Update(warroom_core::statuspage::UpdateRequest),
}

/// Puts the live incident (and the one resolved yesterday) on the status page, with public
/// words of their own, so `/status` shows what customers would see.
async fn publish_to_status_page(
    store: &dyn Store,
    config: &Config,
    clock: &dyn Clock,
    live: &str,
    resolved: &str,
) -> Result<(), String> {
    use std::collections::{BTreeMap, BTreeSet};
    use warroom_core::statuspage::{
        self, ComponentState, ComponentStatus, IncidentStatus, PageContext, PageEntry,
        PublishRequest, UpdateRequest,
    };
    let everyone = Principal {
        name: "demo".into(),
        role: Role::Admin,
        security: true,
    };
    let page = &config.status_page;
    // Only components the page has: a team's own config may not list these.
    let component = |id: &str, status| {
        page.component(id)
            .map(|c| (c.id.clone(), status))
            .into_iter()
            .collect::<BTreeMap<String, ComponentStatus>>()
    };
    let update = |status, message: &str| {
        PageStep::Update(UpdateRequest {
            status: Some(status),
            message: message.into(),
            ..UpdateRequest::default()
        })
    };
    let steps = [
        (
            resolved,
            26 * 60 - 10,
            PageStep::Publish(PublishRequest {
                title: Some("Checkout failing for some customers".into()),
                message: Some(
                    "Some payments fail at checkout. We are rolling back a recent change.".into(),
                ),
                components: component("payments", ComponentStatus::PartialOutage),
                ..PublishRequest::default()
            }),
        ),
        (
            resolved,
            26 * 60 - 34,
            update(
                IncidentStatus::Resolved,
                "Checkout works again for everyone. We are sorry for the trouble.",
            ),
        ),
        (
            live,
            30,
            PageStep::Publish(PublishRequest {
                title: Some("Login problems for some customers".into()),
                message: Some("Some customers cannot log in. We are investigating.".into()),
                components: component("auth", ComponentStatus::DegradedPerformance),
                ..PublishRequest::default()
            }),
        ),
        (
            live,
            10,
            update(
                IncidentStatus::Identified,
                "We identified abusive login traffic and blocked it. A small number of accounts \
                 will be asked to reset their password.",
            ),
        ),
    ];
    let now = clock.now();
    for (n, (incident, minutes_ago, step)) in steps.into_iter().enumerate() {
        let id: warroom_core::IncidentId = incident
            .parse()
            .map_err(|e: warroom_core::id::IdError| e.to_string())?;
        let at = now - SignedDuration::from_mins(minutes_ago);
        let (entry_id, update_id) = (format!("sp_demo{}", n / 2), format!("spu_demo{n}"));
        let plan = |inc: &warroom_core::Incident,
                    existing: Option<&PageEntry>,
                    components: &[ComponentState],
                    held: &BTreeSet<String>| {
            let ctx = PageContext {
                config: page,
                components,
                held_elsewhere: held,
                at,
                new_entry_id: &entry_id,
                new_update_id: &update_id,
                actor: "carol",
            };
            match &step {
                PageStep::Publish(req) => statuspage::publish(inc, existing, req, &ctx),
                PageStep::Update(req) => statuspage::post_update(inc, existing, req, &ctx),
            }
        };
        store
            .change_incident_page(
                &everyone,
                &id,
                "carol",
                at,
                &plan,
                &|i: &warroom_core::Incident| desired_timers(i, config),
            )
            .await
            .map_err(|e| format!("status page: {e}"))?;
    }
    Ok(())
}
