//! Durable timers, decided purely: which timers an incident needs now, and what a due timer
//! records when it fires.
//!
//! The store persists whatever [`desired_timers`] returns in the same transaction as the events
//! that made them necessary, and fires a due timer by calling [`fire`] on the incident's
//! current state in the transaction that marks it fired. Because firing re-checks the state, a
//! timer made stale by later events (the incident was acknowledged, the task was done, the
//! severity changed) fires as a no-op; and because a timer's key includes its due time, a
//! changed deadline is a new timer rather than an edit to an old one.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::event::EventKind;
use crate::incident::Incident;
use crate::playbook::{TaskState, TimeBox};

/// What a timer is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimerKind {
    /// The severity's acknowledgement target.
    AcknowledgeDeadline {
        /// Severity the deadline belongs to.
        severity: String,
    },
    /// The end of an escalation step's wait for an acknowledgement.
    EscalationStep {
        /// Position of the step in the policy's whole run.
        step: usize,
    },
    /// A paged person's delayed notification rule (`after_minutes` > 0).
    NotificationRule {
        /// Escalation step whose page it follows up.
        step: usize,
        /// Person paged.
        person: String,
        /// Position of the rule in the person's `notification_rules`.
        rule: usize,
    },
    /// The severity's status-update cadence ran out.
    UpdateReminder,
    /// The post-incident review is due, [`REVIEW_DUE_AFTER`] after resolution.
    ReviewReminder,
    /// A notification clock enters its reminder window.
    DeadlineReminder {
        /// Deadline rule id.
        rule: String,
    },
    /// A notification clock runs out.
    DeadlineDue {
        /// Deadline rule id.
        rule: String,
    },
    /// The end of a playbook phase's time box.
    PhaseDeadline {
        /// Playbook id.
        playbook: String,
        /// Phase id.
        phase: String,
    },
    /// An open action item reaches its due instant.
    ActionDue {
        /// Item id (`A1`...).
        action: String,
    },
}

/// A timer an incident needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerSpec {
    /// Unique key; the same need always gives the same key, so scheduling is idempotent.
    pub key: String,
    /// Incident it belongs to.
    pub incident_id: String,
    /// When it is due.
    pub due_at: Timestamp,
    /// What it is for.
    pub kind: TimerKind,
}

/// Every timer `inc` needs in its current state.
pub fn desired_timers(inc: &Incident, config: &Config) -> Vec<TimerSpec> {
    let mut out = Vec::new();
    let id = inc.id.as_str();
    if inc.status.is_open()
        && inc.acknowledged_at.is_none()
        && inc.acknowledge_target_missed_at.is_none()
        && let Some(due_at) = config.severity(&inc.severity).and_then(|s| {
            config
                .business_hours
                .due(s.acknowledge_within, inc.declared_at)
        })
    {
        out.push(TimerSpec {
            key: format!("ack:{id}:{}:{}", inc.severity, due_at.as_microsecond()),
            incident_id: id.to_string(),
            due_at,
            kind: TimerKind::AcknowledgeDeadline {
                severity: inc.severity.clone(),
            },
        });
    }
    if let (Some(state), Some(due_at)) = (
        &inc.escalation,
        crate::escalation::next_escalation_at(config, inc),
    ) {
        out.push(TimerSpec {
            key: format!("esc:{id}:{}:{}", state.step, due_at.as_microsecond()),
            incident_id: id.to_string(),
            due_at,
            kind: TimerKind::EscalationStep { step: state.step },
        });
    }
    out.extend(notification_rule_timers(inc, config));
    if let Some(due_at) = next_update_reminder(inc, config) {
        out.push(TimerSpec {
            key: format!("update:{id}:{}", due_at.as_microsecond()),
            incident_id: id.to_string(),
            due_at,
            kind: TimerKind::UpdateReminder,
        });
    }
    // Due until a review is published after the resolution (or the incident is closed).
    if let (Some(resolved_at), Some(due_at)) = (inc.resolved_at, crate::postmortem::review_due(inc))
    {
        out.push(TimerSpec {
            key: format!("review:{id}:{}", resolved_at.as_microsecond()),
            incident_id: id.to_string(),
            due_at,
            kind: TimerKind::ReviewReminder,
        });
    }
    out.extend(deadline_timers(inc, config));
    // Follow-up work outlives the incident: items are reminded of even when it is closed.
    for item in inc.actions.iter().filter(|a| a.status.is_open()) {
        out.push(TimerSpec {
            key: format!("action:{id}:{}:{}", item.id, item.due_at.as_microsecond()),
            incident_id: id.to_string(),
            due_at: item.due_at,
            kind: TimerKind::ActionDue {
                action: item.id.clone(),
            },
        });
    }
    for attached in &inc.playbooks {
        for phase in &attached.playbook.phases {
            let Ok(time_box) = TimeBox::parse(&phase.time_box) else {
                continue;
            };
            let relevant = match time_box {
                TimeBox::SinceDeclared { .. } => inc.status.is_open(),
                TimeBox::AfterResolve(_) => inc.resolved_at.is_some(),
            };
            let any_open = phase.tasks.iter().any(|t| {
                attached
                    .progress
                    .get(&t.id)
                    .is_none_or(|p| p.state == TaskState::Open)
            });
            if let (true, true, Some(due_at)) = (relevant, any_open, time_box.due(inc)) {
                out.push(TimerSpec {
                    key: format!(
                        "phase:{id}:{}:{}:{}",
                        attached.playbook.id,
                        phase.id,
                        due_at.as_microsecond()
                    ),
                    incident_id: id.to_string(),
                    due_at,
                    kind: TimerKind::PhaseDeadline {
                        playbook: attached.playbook.id.clone(),
                        phase: phase.id.clone(),
                    },
                });
            }
        }
    }
    out
}

/// How long after resolution the post-incident review is due.
pub const REVIEW_DUE_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_hours(48);

/// When the next internal status update is due: one cadence after the last update (or the
/// declaration), while the incident is open.
pub fn next_update_due(inc: &Incident, config: &Config) -> Option<Timestamp> {
    if !inc.status.is_open() {
        return None;
    }
    let cadence = config.severity(&inc.severity)?.update_every;
    config
        .business_hours
        .due(cadence, inc.last_update_at.unwrap_or(inc.declared_at))
}

/// When to remind about the update next: when it falls due, then once a cadence later each
/// time nobody posts one.
fn next_update_reminder(inc: &Incident, config: &Config) -> Option<Timestamp> {
    let due = next_update_due(inc, config)?;
    match inc.update_reminded_at {
        Some(reminded) if reminded >= due => {
            let cadence = config.severity(&inc.severity)?.update_every;
            config.business_hours.due(cadence, reminded)
        }
        _ => Some(due),
    }
}

/// A reminder before each running notification clock that is not met, and its end. Both
/// keys hold the due time, so a corrected starting moment makes new timers. Clocks keep
/// running after resolution: the law does not stop when the service is back.
fn deadline_timers(inc: &Incident, config: &Config) -> Vec<TimerSpec> {
    let id = inc.id.as_str();
    let mut out = Vec::new();
    for rule in &config.comms.deadlines {
        if !rule.when.hold_for(inc) || inc.deadlines_met.contains_key(&rule.id) {
            continue;
        }
        let (Some(start), Some(within)) = (rule.started_at(inc), rule.within) else {
            continue;
        };
        let Some(due_at) = within.due(start, &config.business_hours) else {
            continue;
        };
        let micros = due_at.as_microsecond();
        if let Some(remind_at) = rule
            .remind_before
            .and_then(|b| due_at.checked_sub(b.as_signed()).ok())
        {
            out.push(TimerSpec {
                key: format!("deadline-remind:{id}:{}:{micros}", rule.id),
                incident_id: id.to_string(),
                due_at: remind_at,
                kind: TimerKind::DeadlineReminder {
                    rule: rule.id.clone(),
                },
            });
        }
        out.push(TimerSpec {
            key: format!("deadline-due:{id}:{}:{micros}", rule.id),
            incident_id: id.to_string(),
            due_at,
            kind: TimerKind::DeadlineDue {
                rule: rule.id.clone(),
            },
        });
    }
    out
}

/// The delayed notification rules of everyone the current escalation step paged, while nobody
/// has acknowledged. They follow the step: once the escalation moves on, the next step's people
/// are the ones being reached (an exhausted escalation keeps its last step's).
fn notification_rule_timers(inc: &Incident, config: &Config) -> Vec<TimerSpec> {
    let mut out = Vec::new();
    let Some(state) = &inc.escalation else {
        return out;
    };
    if !inc.status.is_open() || inc.acknowledged_at.is_some() {
        return out;
    }
    let id = inc.id.as_str();
    for person_id in &state.people {
        let Some(person) = config.person(person_id) else {
            continue;
        };
        for (index, rule) in person.notification_rules.iter().enumerate() {
            let sendable = person
                .contact_method(&rule.contact_method)
                .is_some_and(|m| m.kind != crate::people::ContactKind::Phone);
            if rule.after_minutes == 0 || !sendable {
                continue;
            }
            let delay = jiff::SignedDuration::from_mins(i64::from(rule.after_minutes));
            let Ok(due_at) = state.paged_at.checked_add(delay) else {
                continue;
            };
            out.push(TimerSpec {
                key: format!(
                    "rule:{id}:{}:{}:{person_id}:{index}",
                    state.step,
                    state.paged_at.as_microsecond()
                ),
                incident_id: id.to_string(),
                due_at,
                kind: TimerKind::NotificationRule {
                    step: state.step,
                    person: person_id.clone(),
                    rule: index,
                },
            });
        }
    }
    out
}

/// What a due timer records, judged on the incident as it is now; nothing if the timer has
/// become stale.
pub fn fire(
    timer: &TimerSpec,
    inc: &Incident,
    config: &Config,
    overrides: &[crate::schedule::Override],
    now: Timestamp,
) -> Vec<EventKind> {
    let still_wanted = desired_timers(inc, config)
        .into_iter()
        .any(|t| t.key == timer.key && t.due_at <= now);
    if !still_wanted {
        return Vec::new();
    }
    match &timer.kind {
        TimerKind::AcknowledgeDeadline { severity } => {
            let target = config
                .severity(severity)
                .map_or_else(String::new, |s| s.acknowledge_within.to_string());
            let missed = EventKind::AcknowledgeTargetMissed {
                severity: severity.clone(),
                target,
                due_at: timer.due_at,
            };
            // Missing the target escalates at once, without waiting for the step's own wait.
            let mut events = vec![missed];
            events.extend(crate::escalation::escalate(
                config, inc, overrides, now, false,
            ));
            events
        }
        TimerKind::EscalationStep { step } => {
            let current = inc.escalation.as_ref().is_some_and(|s| s.step == *step);
            if current {
                crate::escalation::escalate(config, inc, overrides, now, false)
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            }
        }
        TimerKind::UpdateReminder => {
            let cadence = config
                .severity(&inc.severity)
                .map_or_else(String::new, |s| s.update_every.to_string());
            vec![EventKind::UpdateDue {
                due_at: timer.due_at,
                cadence,
            }]
        }
        TimerKind::ActionDue { action } => inc
            .actions
            .iter()
            .filter(|a| &a.id == action)
            .map(|a| EventKind::ActionItemDue {
                action: a.id.clone(),
                owner: a.owner.clone(),
                due_at: a.due_at,
            })
            .collect(),
        TimerKind::ReviewReminder => vec![EventKind::ReviewDue {
            due_at: timer.due_at,
        }],
        TimerKind::DeadlineReminder { rule } | TimerKind::DeadlineDue { rule } => {
            let Some(r) = config.comms.deadlines.iter().find(|r| &r.id == rule) else {
                return Vec::new();
            };
            // The key holds the due time; the timer's own due time is the reminder's.
            let due_at = r
                .started_at(inc)
                .zip(r.within)
                .and_then(|(start, within)| within.due(start, &config.business_hours))
                .unwrap_or(timer.due_at);
            let (rule, name) = (rule.clone(), r.name.clone());
            if matches!(timer.kind, TimerKind::DeadlineDue { .. }) {
                vec![EventKind::DeadlineMissed { rule, name, due_at }]
            } else {
                vec![EventKind::DeadlineApproaching { rule, name, due_at }]
            }
        }
        TimerKind::NotificationRule { step, person, rule } => config
            .person(person)
            .and_then(|p| p.notification_rules.get(*rule))
            .map(|r| EventKind::PageRepeated {
                person: person.clone(),
                contact_method: r.contact_method.clone(),
                after_minutes: r.after_minutes,
                step: *step,
            })
            .into_iter()
            .collect(),
        TimerKind::PhaseDeadline { playbook, phase } => {
            let open_tasks: Vec<String> = inc
                .playbooks
                .iter()
                .filter(|a| &a.playbook.id == playbook)
                .flat_map(|a| {
                    a.playbook
                        .phases
                        .iter()
                        .filter(|p| &p.id == phase)
                        .flat_map(|p| p.tasks.iter())
                        .filter(|t| {
                            a.progress
                                .get(&t.id)
                                .is_none_or(|p| p.state == TaskState::Open)
                        })
                        .map(|t| t.id.clone())
                })
                .collect();
            vec![EventKind::PhaseDeadlinePassed {
                playbook: playbook.clone(),
                phase: phase.clone(),
                due_at: timer.due_at,
                open_tasks,
            }]
        }
    }
}
