//! Escalation policies: who is paged at each step, and in which order, until someone answers.
//!
//! A policy is ordered steps, each with targets (people, schedules, teams, incident roles) and
//! how long to wait for an acknowledgement before moving on; the whole list repeats `repeat`
//! more times. Which policy an incident follows: the first of its services that names one, else
//! the policy with id `default`. Everything here is pure; the engine persists the state and
//! times the steps.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::duration::Duration;
use crate::incident::Incident;
use crate::schedule::{Override, who_is_on_call};
use jiff::Timestamp;

/// Id of the policy used when no service of the incident names one.
pub const DEFAULT_POLICY: &str = "default";

/// An escalation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    /// Id (`default`, `payments`...).
    pub id: String,
    /// Name.
    pub name: String,
    /// Steps in order.
    pub steps: Vec<EscalationStep>,
    /// How many more times the whole list runs after the first pass.
    #[serde(default)]
    pub repeat: u32,
}

/// One step: who to page, and how long to wait for an acknowledgement before the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// Who to page.
    pub targets: Vec<EscalationTarget>,
    /// Wait this long for an acknowledgement before escalating (e.g. `15m`).
    pub escalate_after: Duration,
}

/// One target; exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationTarget {
    /// A person by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// Whoever is on call on this schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Every member of this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Whoever holds this incident role (nobody, while it is unassigned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl EscalationTarget {
    /// How many of the four fields are set (valid targets have exactly one).
    pub fn kinds_set(&self) -> usize {
        [&self.person, &self.schedule, &self.team, &self.role]
            .iter()
            .filter(|f| f.is_some())
            .count()
    }
}

/// The policy an incident follows.
pub fn policy_for<'c>(config: &'c Config, incident: &Incident) -> Option<&'c EscalationPolicy> {
    policy_for_services(config, &incident.services)
}

/// The policy for an incident on these services.
pub fn policy_for_services<'c>(
    config: &'c Config,
    services: &[String],
) -> Option<&'c EscalationPolicy> {
    services
        .iter()
        .filter_map(|s| config.services.iter().find(|d| &d.id == s))
        .find_map(|d| d.escalation_policy.as_deref())
        .or(Some(DEFAULT_POLICY))
        .and_then(|id| config.escalation_policies.iter().find(|p| p.id == id))
}

/// The step at position `index` of the whole run (steps x (repeat + 1)), with its pass number.
pub fn step_at(policy: &EscalationPolicy, index: usize) -> Option<(u32, &EscalationStep)> {
    let per_pass = policy.steps.len();
    if per_pass == 0 {
        return None;
    }
    let pass = index / per_pass;
    if pass > policy.repeat as usize {
        return None;
    }
    policy.steps.get(index % per_pass).map(|s| (pass as u32, s))
}

/// The people a step pages at `at`, each once, in target order.
pub fn step_people(
    config: &Config,
    step: &EscalationStep,
    incident: &Incident,
    overrides: &[Override],
    at: Timestamp,
) -> Vec<String> {
    people_for(config, step, &incident.roles, overrides, at)
}

/// [`step_people`] from the incident's role holders alone.
pub fn people_for(
    config: &Config,
    step: &EscalationStep,
    roles: &std::collections::BTreeMap<String, String>,
    overrides: &[Override],
    at: Timestamp,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |p: &str| {
        if !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    };
    for t in &step.targets {
        if let Some(p) = &t.person {
            add(p);
        }
        if let Some(s) = t.schedule.as_deref().and_then(|id| config.schedule(id))
            && let Some(on_call) = who_is_on_call(s, overrides, at)
        {
            add(&on_call.person);
        }
        if let Some(team) = t.team.as_deref().and_then(|id| config.team(id)) {
            team.members.iter().for_each(|m| add(m));
        }
        if let Some(person) = t.role.as_deref().and_then(|r| roles.get(r)) {
            add(person);
        }
    }
    out
}

/// Where an incident's escalation stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationState {
    /// Policy followed.
    pub policy: String,
    /// Position of the last step paged in the whole run (steps x passes).
    pub step: usize,
    /// When that step was paged.
    pub paged_at: Timestamp,
    /// Who that step paged: their delayed notification rules run until someone acknowledges
    /// or the escalation moves on.
    #[serde(default)]
    pub people: Vec<String>,
    /// Every step has been paged and the last one's wait is over.
    pub exhausted: bool,
}

/// The event paging step `index` of `policy` at `at` (schedules answered with the live
/// `overrides`), or `EscalationExhausted` past the end.
pub fn page(
    config: &Config,
    policy: &EscalationPolicy,
    index: usize,
    roles: &std::collections::BTreeMap<String, String>,
    overrides: &[Override],
    at: Timestamp,
    manual: bool,
) -> crate::event::EventKind {
    match step_at(policy, index) {
        Some((pass, step)) => crate::event::EventKind::Paged {
            policy: policy.id.clone(),
            step: index,
            pass,
            people: people_for(config, step, roles, overrides, at),
            manual,
        },
        None => crate::event::EventKind::EscalationExhausted {
            policy: policy.id.clone(),
        },
    }
}

/// When the current step's wait for an acknowledgement ends, while escalation is live.
pub fn next_escalation_at(config: &Config, incident: &Incident) -> Option<Timestamp> {
    let state = incident.escalation.as_ref().filter(|s| !s.exhausted)?;
    if !incident.status.is_open() || incident.acknowledged_at.is_some() {
        return None;
    }
    let policy = config
        .escalation_policies
        .iter()
        .find(|p| p.id == state.policy)?;
    let (_, step) = step_at(policy, state.step)?;
    state
        .paged_at
        .checked_add(step.escalate_after.as_signed())
        .ok()
}

/// The next page of a live escalation (for a timer or a manual escalation).
pub fn escalate(
    config: &Config,
    incident: &Incident,
    overrides: &[Override],
    at: Timestamp,
    manual: bool,
) -> Option<crate::event::EventKind> {
    let state = incident.escalation.as_ref().filter(|s| !s.exhausted)?;
    let policy = config
        .escalation_policies
        .iter()
        .find(|p| p.id == state.policy)?;
    Some(page(
        config,
        policy,
        state.step + 1,
        &incident.roles,
        overrides,
        at,
        manual,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Declaration, declare};
    use crate::config::{SourceFile, load};
    use crate::event::{Event, EventKind, GENESIS_HASH, NewEvent};

    fn incident(config: &Config, services: &[&str], roles: &[(&str, &str)]) -> Incident {
        let d = Declaration {
            title: "Paging test".into(),
            severity: "P1".into(),
            services: services.iter().map(|s| s.to_string()).collect(),
            ..Declaration::default()
        };
        let at: Timestamp = "2026-11-24T12:00:00Z".parse().expect("time");
        let id: crate::IncidentId = "INC-20261124-001".parse().expect("id");
        let kind = declare(&d, config).expect("valid");
        let mut inc = Incident::apply(
            None,
            &Event::seal(
                id.clone(),
                1,
                NewEvent {
                    at,
                    actor: "a".into(),
                    kind,
                },
                GENESIS_HASH,
            ),
        )
        .expect("declared");
        for (role, person) in roles {
            let kind = EventKind::RoleAssigned {
                role: role.to_string(),
                person: person.to_string(),
                replaced: None,
            };
            let e = Event::seal(
                id.clone(),
                inc.version + 1,
                NewEvent {
                    at,
                    actor: "a".into(),
                    kind,
                },
                GENESIS_HASH,
            );
            inc = Incident::apply(Some(inc), &e).expect("applies");
        }
        inc
    }

    #[test]
    fn the_built_in_policy_pages_on_call_then_the_team() {
        let config = Config::builtin();
        let inc = incident(&config, &["auth"], &[]);
        let policy = policy_for(&config, &inc).expect("default policy");
        assert_eq!(policy.id, "default");
        // Tuesday 24 Nov 2026, 13:00 in Berlin: business hours, so the business-hours layer wins.
        let at: Timestamp = "2026-11-24T12:00:00Z".parse().expect("time");
        let first = step_at(policy, 0).expect("step 1").1;
        let on_call = step_people(&config, first, &inc, &[], at);
        assert_eq!(on_call.len(), 1);
        // The on-call person first, then the rest of the team, each once.
        let second = step_at(policy, 1).expect("step 2").1;
        let people = step_people(&config, second, &inc, &[], at);
        assert_eq!(people[0], on_call[0]);
        assert_eq!(people.len(), 3);
        // Repeat once, then stop.
        assert_eq!(step_at(policy, 2).map(|(pass, _)| pass), Some(1));
        assert!(step_at(policy, 4).is_none());
    }

    #[test]
    fn role_targets_page_whoever_holds_the_role() {
        let people = "people:\n  - id: bob\n    name: Bob\n    time_zone: UTC\n";
        let policies = "escalation_policies:\n  - id: default\n    name: D\n    steps:\n      - targets: [{role: incident-commander}, {person: bob}]\n        escalate_after: 5m\n";
        let config = load(&[
            SourceFile::new("people.yaml", people),
            SourceFile::new("p.yaml", policies),
        ])
        .expect("loads");
        let at: Timestamp = "2026-11-24T12:00:00Z".parse().expect("time");
        let step = &config.escalation_policies[0].steps[0];
        let without = incident(&config, &[], &[]);
        assert_eq!(step_people(&config, step, &without, &[], at), ["bob"]);
        let with = incident(&config, &[], &[("incident-commander", "dave")]);
        assert_eq!(step_people(&config, step, &with, &[], at), ["dave", "bob"]);
    }

    #[test]
    fn a_service_can_name_its_own_policy() {
        let services = "services:\n  - id: payments\n    name: Payments\n    escalation_policy: payments\n  - id: auth\n    name: Auth\n";
        let policies = "escalation_policies:\n  - id: payments\n    name: Payments\n    steps:\n      - targets: [{person: bob}]\n        escalate_after: 5m\n";
        let people = "people:\n  - id: bob\n    name: Bob\n    time_zone: UTC\n";
        let config = load(&[
            SourceFile::new("services.yaml", services),
            SourceFile::new("policies.yaml", policies),
            SourceFile::new("people.yaml", people),
        ])
        .expect("loads");
        let inc = incident(&config, &["payments"], &[]);
        assert_eq!(
            policy_for(&config, &inc).map(|p| p.id.as_str()),
            Some("payments")
        );
        // No default policy here: an incident on auth follows none.
        let inc = incident(&config, &["auth"], &[]);
        assert!(policy_for(&config, &inc).is_none());
    }

    #[test]
    fn policy_mistakes_are_located() {
        let people = "people:\n  - id: bob\n    name: Bob\n    time_zone: UTC\n";
        let policies = "\
escalation_policies:
  - id: p
    name: P
    steps:
      - targets:
          - person: zed
          - person: bob
            team: ops
        escalate_after: 5m
";
        let services = "services:\n  - id: api\n    name: API\n    escalation_policy: nope\n";
        let err = load(&[
            SourceFile::new("people.yaml", people),
            SourceFile::new("policies.yaml", policies),
            SourceFile::new("services.yaml", services),
        ])
        .expect_err("invalid");
        let got: Vec<String> = err.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "policies.yaml:6:11: unknown person \"zed\"",
                "policies.yaml:7:11: a target is exactly one of `person`, `schedule`, `team` or `role`",
                "services.yaml:4:5: unknown escalation policy \"nope\"",
            ]
        );
    }
}
