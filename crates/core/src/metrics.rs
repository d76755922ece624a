//! Response metrics of one incident, derived from its event log alone.
//!
//! Every number here is a pure function of the events (and, for targets, the config and the
//! time of asking), so the metrics, the timeline and the post-mortem can never disagree. The
//! definitions are spelled out in `docs/ARCHITECTURE.md` ("Metrics and reports"); in short,
//! durations are whole seconds from the declaration:
//!
//! - detect: from the first alert's first sighting to the declaration (only when an alert was
//!   seen before the declaration);
//! - acknowledge: to the first acknowledgement;
//! - contain: to the first time the incident reached `contained`, `recovering` or `resolved`,
//!   reopens notwithstanding;
//! - resolve: to the last resolution, and only while the incident is resolved or closed (a
//!   reopened incident has no resolve time until it is resolved again).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::command::INTERNAL_AUDIENCE;
use crate::config::Config;
use crate::event::{Event, EventKind};
use crate::lifecycle::Status;

/// The metrics of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentMetrics {
    /// Incident id.
    pub incident_id: String,
    /// Severity now.
    pub severity: String,
    /// Incident type now.
    #[serde(rename = "type")]
    pub incident_type: String,
    /// Services now.
    pub services: Vec<String>,
    /// Status now.
    pub status: Status,
    /// When it was declared.
    pub declared_at: Timestamp,
    /// First sighting of the earliest alert attached to it, if any alert was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_alert_at: Option<Timestamp>,
    /// First acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<Timestamp>,
    /// First time it reached `contained` or a later status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contained_at: Option<Timestamp>,
    /// Last resolution, while it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// First alert to declaration, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_detect_secs: Option<i64>,
    /// Declaration to first acknowledgement, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_acknowledge_secs: Option<i64>,
    /// Declaration to first containment, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_contain_secs: Option<i64>,
    /// Declaration to last resolution, seconds (none while open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_resolve_secs: Option<i64>,
    /// Seconds spent in each status, summed over every visit; the current status counts up to
    /// the time of asking, except `closed`, which is the end and is not counted.
    pub time_in_status_secs: BTreeMap<Status, i64>,
    /// Pages sent (automatic and by hand).
    pub pages: u32,
    /// Pages after the first: each one is the incident moving up (or around) its policy.
    pub escalations: u32,
    /// How often it was reopened.
    pub reopened: u32,
    /// The response target (time to acknowledge) was missed: the engine recorded
    /// `acknowledge_target_missed`.
    pub response_target_breached: bool,
    /// Recovery time objective of the current severity, seconds, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_secs: Option<i64>,
    /// Resolved within the RTO: `false` as soon as the RTO has passed unresolved, `true` once
    /// resolved in time, none while it can still go either way or when there is no RTO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_met: Option<bool>,
    /// No internal status update was ever overdue while the incident was open.
    pub update_cadence_kept: bool,
    /// How many times an internal update was overdue (each silence counts once).
    pub updates_missed: u32,
    /// Longest stretch without an internal update while open, seconds.
    pub longest_update_gap_secs: i64,
}

fn secs(from: Timestamp, to: Timestamp) -> i64 {
    to.duration_since(from).as_secs().max(0)
}

/// Tracks the internal-update cadence through open periods.
struct Cadence {
    /// Start of the current silence while open: declaration, reopen or last internal update.
    anchor: Option<Timestamp>,
    /// The current silence was already counted as missed.
    counted: bool,
    missed: u32,
    longest: i64,
}

impl Cadence {
    /// Checks the silence up to `at` under `severity`'s cadence.
    fn check(&mut self, config: &Config, severity: &str, at: Timestamp) {
        let Some(anchor) = self.anchor else { return };
        self.longest = self.longest.max(secs(anchor, at));
        let due = config
            .severity(severity)
            .and_then(|s| config.business_hours.due(s.update_every, anchor));
        if !self.counted && due.is_some_and(|due| at > due) {
            self.counted = true;
            self.missed += 1;
        }
    }

    fn restart(&mut self, at: Timestamp) {
        self.anchor = Some(at);
        self.counted = false;
    }
}

/// The metrics of the incident whose whole log is `events` (in order), as of `now`; `None`
/// when the log does not start with a declaration.
pub fn compute(events: &[Event], config: &Config, now: Timestamp) -> Option<IncidentMetrics> {
    let first = events.first()?;
    let EventKind::Declared(d) = &first.kind else {
        return None;
    };
    let declared_at = first.at;
    let mut severity = d.severity.clone();
    let mut incident_type = d.incident_type.clone();
    let mut services = d.services.clone();
    let mut status = Status::Triage;
    let mut since = declared_at;
    let mut time_in: BTreeMap<Status, i64> = BTreeMap::new();
    let mut first_alert_at: Option<Timestamp> = None;
    let mut acknowledged_at = None;
    let mut contained_at = None;
    let mut last_resolved = None;
    let (mut pages, mut reopened) = (0u32, 0u32);
    let mut breached = false;
    let mut cadence = Cadence {
        anchor: Some(declared_at),
        counted: false,
        missed: 0,
        longest: 0,
    };

    for e in &events[1..] {
        if status.is_open() {
            cadence.check(config, &severity, e.at);
        }
        let mut enter = |to: Status, status: &mut Status, since: &mut Timestamp| {
            *time_in.entry(*status).or_default() += secs(*since, e.at);
            *status = to;
            *since = e.at;
        };
        match &e.kind {
            EventKind::Acknowledged {} => {
                acknowledged_at.get_or_insert(e.at);
            }
            EventKind::SeverityChanged { to, .. } => severity = to.clone(),
            EventKind::TypeChanged { to, .. } => incident_type = to.clone(),
            EventKind::ServicesChanged { services: s } => services = s.clone(),
            EventKind::StatusChanged { to, .. } => enter(*to, &mut status, &mut since),
            EventKind::Resolved { .. } => {
                enter(Status::Resolved, &mut status, &mut since);
                last_resolved = Some(e.at);
                cadence.anchor = None;
            }
            EventKind::Closed {} => enter(Status::Closed, &mut status, &mut since),
            EventKind::Reopened { .. } => {
                enter(Status::Investigating, &mut status, &mut since);
                reopened += 1;
                last_resolved = None;
                // The cadence starts over: nobody owes updates about a resolved incident.
                cadence.restart(e.at);
            }
            EventKind::Paged { .. } => pages += 1,
            EventKind::AcknowledgeTargetMissed { .. } => breached = true,
            EventKind::AlertsAttached {
                first_seen: Some(seen),
                ..
            } => {
                first_alert_at = Some(first_alert_at.map_or(*seen, |f| f.min(*seen)));
            }
            EventKind::UpdatePosted { audience, .. }
                if audience == INTERNAL_AUDIENCE && status.is_open() =>
            {
                cadence.restart(e.at);
            }
            _ => {}
        }
        if contained_at.is_none()
            && matches!(
                status,
                Status::Contained | Status::Recovering | Status::Resolved
            )
        {
            contained_at = Some(e.at);
        }
    }
    if status.is_open() {
        cadence.check(config, &severity, now);
    }
    if status != Status::Closed {
        *time_in.entry(status).or_default() += secs(since, now);
    }
    let resolved_at = if status.is_open() {
        None
    } else {
        last_resolved
    };
    let rto = config.severity(&severity).and_then(|s| s.rto);
    let time_to_resolve_secs = resolved_at.map(|r| secs(declared_at, r));
    let rto_met = rto.and_then(|rto| match time_to_resolve_secs {
        Some(ttr) => Some(ttr <= rto.as_secs()),
        None if secs(declared_at, now) > rto.as_secs() => Some(false),
        None => None,
    });
    Some(IncidentMetrics {
        incident_id: first.incident_id.to_string(),
        severity,
        incident_type,
        services,
        status,
        declared_at,
        first_alert_at,
        acknowledged_at,
        contained_at,
        resolved_at,
        time_to_detect_secs: first_alert_at
            .filter(|f| *f <= declared_at)
            .map(|f| secs(f, declared_at)),
        time_to_acknowledge_secs: acknowledged_at.map(|a| secs(declared_at, a)),
        time_to_contain_secs: contained_at.map(|c| secs(declared_at, c)),
        time_to_resolve_secs,
        time_in_status_secs: time_in,
        pages,
        escalations: pages.saturating_sub(1),
        reopened,
        response_target_breached: breached,
        rto_secs: rto.map(|r| r.as_secs()),
        rto_met,
        update_cadence_kept: cadence.missed == 0,
        updates_missed: cadence.missed,
        longest_update_gap_secs: cadence.longest,
    })
}
