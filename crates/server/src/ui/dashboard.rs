//! `/ui/`: open incidents by severity then age, each with its next due thing; incidents
//! resolved in the last week; who is on call now.

use axum::extract::State;
use axum::response::Html;
use jiff::{SignedDuration, Timestamp};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use warroom_core::comms::deadline::deadlines;
use warroom_core::schedule::who_is_on_call;
use warroom_core::timer::{TimerKind, desired_timers, next_update_due};
use warroom_core::{Config, Incident, Status};
use warroom_store::{IncidentFilter, StatusFilter};

use super::UiError;
use super::format::{absolute, countdown, span};
use super::session::UiUser;
use super::templates::render_page;
use crate::state::AppState;

/// How far back "recently resolved" reaches.
const RECENT: SignedDuration = SignedDuration::from_hours(7 * 24);
/// The most incidents one list shows.
const LIST_LIMIT: u32 = 200;

/// The role shown as the commander on the dashboard.
const COMMANDER_ROLE: &str = "incident-commander";

/// The next thing an incident owes, and when.
#[derive(Debug, Clone, Serialize)]
pub struct Due {
    /// What is due ("acknowledge", "status update", a phase or a notification clock).
    pub what: String,
    /// RFC 3339, for the `<time>` element and the script's countdown.
    pub datetime: String,
    /// Absolute, human.
    pub at: String,
    /// "in 4m 10s" or "overdue by 2m 0s", as of rendering.
    pub countdown: String,
    /// Past due.
    pub overdue: bool,
}

impl Due {
    fn new(what: String, due: Timestamp, now: Timestamp) -> Self {
        Due {
            what,
            datetime: due.to_string(),
            at: absolute(due),
            countdown: countdown(due, now),
            overdue: due <= now,
        }
    }
}

/// Everything due for an open incident, earliest first: its acknowledgement target, the next
/// status update, the end of each attached playbook phase's time box and each notification
/// clock, all as `warroom-core` computes them for the timers.
pub fn due_items(inc: &Incident, config: &Config, now: Timestamp) -> Vec<Due> {
    let mut out: Vec<(Timestamp, String)> = Vec::new();
    if !inc.status.is_open() {
        return Vec::new();
    }
    if inc.acknowledged_at.is_none()
        && let Some(due) = config.severity(&inc.severity).and_then(|s| {
            config
                .business_hours
                .due(s.acknowledge_within, inc.declared_at)
        })
    {
        out.push((due, "acknowledge".into()));
    }
    if let Some(due) = next_update_due(inc, config) {
        out.push((due, "status update".into()));
    }
    for timer in desired_timers(inc, config) {
        if let TimerKind::PhaseDeadline { playbook, phase } = timer.kind {
            out.push((timer.due_at, format!("{playbook}: end of phase {phase}")));
        }
    }
    for d in deadlines(inc, &config.comms.deadlines, &config.business_hours, now) {
        if let (Some(due), None) = (d.due_at, d.met_at) {
            out.push((due, format!("notify {}: {}", d.audience, d.name)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    out.into_iter()
        .map(|(due, what)| Due::new(what, due, now))
        .collect()
}

#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    severity: String,
    status: &'static str,
    restricted: bool,
    commander: Option<String>,
    declared_at: String,
    declared_datetime: String,
    age: String,
    next: Option<Due>,
    resolved_at: Option<String>,
}

fn row(inc: &Incident, config: &Config, now: Timestamp) -> Row {
    Row {
        id: inc.id.to_string(),
        title: inc.title.clone(),
        severity: inc.severity.clone(),
        status: inc.status.as_str(),
        restricted: inc.restricted,
        commander: inc.roles.get(COMMANDER_ROLE).cloned(),
        declared_at: absolute(inc.declared_at),
        declared_datetime: inc.declared_at.to_string(),
        age: span(now.duration_since(inc.declared_at).as_secs()),
        next: due_items(inc, config, now).into_iter().next(),
        resolved_at: inc.resolved_at.map(absolute),
    }
}

/// Open incidents, most severe first and, within a severity, the longest running first.
pub fn order_open(incidents: &mut [Incident], config: &Config) {
    incidents.sort_by(|a, b| {
        let rank = |i: &Incident| config.severity_rank(&i.severity).unwrap_or(usize::MAX);
        rank(a)
            .cmp(&rank(b))
            .then(a.declared_at.cmp(&b.declared_at))
            .then_with(|| a.id.as_str().cmp(b.id.as_str()))
    });
}

/// `GET /ui/`
pub async fn page(State(state): State<AppState>, user: UiUser) -> Result<Html<String>, UiError> {
    let now = state.clock.now();
    let config = &state.config;
    // Read the marker first: a change racing this read triggers one extra reload, never a
    // missed one.
    let marker = state.store.change_marker().await?;
    let mut open = state
        .store
        .list(
            &user.principal,
            &IncidentFilter {
                status: StatusFilter::In(Status::ALL.into_iter().filter(Status::is_open).collect()),
                limit: LIST_LIMIT,
                ..IncidentFilter::default()
            },
        )
        .await?
        .incidents;
    order_open(&mut open, config);
    let since = now.checked_sub(RECENT).unwrap_or(now);
    let mut resolved: Vec<Incident> = state
        .store
        .list(
            &user.principal,
            &IncidentFilter {
                status: StatusFilter::In(vec![Status::Resolved, Status::Closed]),
                limit: LIST_LIMIT,
                ..IncidentFilter::default()
            },
        )
        .await?
        .incidents
        .into_iter()
        .filter(|i| i.resolved_at.is_some_and(|r| r >= since))
        .collect();
    resolved.sort_by_key(|i| std::cmp::Reverse(i.resolved_at));
    crate::audit::restricted_list(
        &state,
        &user.auth(),
        open.iter().chain(&resolved),
        "dashboard",
    )
    .await?;
    let overrides = crate::routes::overrides::live_at(&state, now).await?;
    let on_call: Vec<_> = config
        .schedules
        .iter()
        .map(|s| {
            let person = who_is_on_call(s, &overrides, now).map(|o| {
                config
                    .person(&o.person)
                    .map_or_else(|| o.person.clone(), |p| p.name.clone())
            });
            context! { schedule => s.name.clone(), person => person }
        })
        .collect();
    let html = render_page(
        "dashboard.html",
        "Incidents",
        Some(&user.viewer()),
        context! {
            marker => marker,
            now => absolute(now),
            open => Value::from(Serde(open.iter().map(|i| row(i, config, now)).collect::<Vec<_>>())),
            resolved => Value::from(Serde(resolved.iter().map(|i| row(i, config, now)).collect::<Vec<_>>())),
            on_call => on_call,
            can_declare => user.principal.role >= warroom_core::Role::Responder,
            severities => config.severities.iter().map(|s| context! { id => s.id.clone(), name => s.name.clone() }).collect::<Vec<_>>(),
            types => config.incident_types.iter().map(|t| context! { id => t.id.clone(), name => t.name.clone() }).collect::<Vec<_>>(),
            csrf => user.csrf.clone(),
        },
    )?;
    Ok(Html(html))
}
