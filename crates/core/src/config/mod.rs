//! The team's configuration: severity scheme, incident roles, incident types, services,
//! playbooks, triage questions, people, teams and on-call schedules, and how alerts become
//! incidents (routing rules and the alert policy).
//!
//! A config directory holds YAML files (also one level of subdirectories, e.g. `playbooks/`);
//! each file may define any of the top-level sections (`severities`, `roles`, `incident_types`,
//! `services`, `triage_questions`, `people`, `teams`, `schedules`, `escalation_policies`,
//! `business_hours`, `routing_rules`, `alerts`, `comms` at most once across the
//! directory; `playbooks` and `message_templates` in as many files as you like). A section no file defines comes from the
//! built-in default (the repository's `config/` directory, embedded), except that the built-in
//! `people`, `teams` and `schedules` are one example set used only when no file defines any of
//! those three. [`load`] gathers every problem at once, each with file, line and column, so one
//! `warroom config check` run shows everything to fix.
//!
//! `routing_rules` (see [`crate::alert::routing`]) are compiled and checked against the rest:
//! a rule's service must be configured (when `services` lists any), its incident severities
//! must be in the scheme, its playbook must be loaded, and rule names must be unique. Like the
//! built-in playbooks, a built-in rule that names something the team's config lacks is left
//! out with a warning. `alerts` is the [`crate::alert::AlertPolicy`]; the built-in one fits its
//! severity map to a custom scheme.

mod locate;
mod model;
mod sources;

pub use model::{IncidentTypeDef, RoleDef, ServiceDef, Severity, TriageEffect, TriageQuestion};
pub use sources::{BUILTIN_FILES, ConfigError, ConfigProblem, SourceFile, load};

use serde::{Deserialize, Serialize};

/// The effective configuration.
///
/// Equality compares the configuration itself, not the `warnings` of the load that produced it
/// (which are not serialised either): the effective config written out and loaded again is equal
/// to the original.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Severity levels, most severe first.
    pub severities: Vec<Severity>,
    /// Incident roles responders can hold.
    pub roles: Vec<RoleDef>,
    /// Kinds of incident.
    pub incident_types: Vec<IncidentTypeDef>,
    /// Services incidents are filed against. Empty means any name is accepted.
    pub services: Vec<ServiceDef>,
    /// Scenario playbooks.
    #[serde(default)]
    pub playbooks: Vec<crate::playbook::Playbook>,
    /// Triage questions that suggest a severity.
    #[serde(default)]
    pub triage_questions: Vec<TriageQuestion>,
    /// People who can be on call.
    #[serde(default)]
    pub people: Vec<crate::people::Person>,
    /// Named groups of people.
    #[serde(default)]
    pub teams: Vec<crate::people::Team>,
    /// On-call schedules.
    #[serde(default)]
    pub schedules: Vec<crate::schedule::Schedule>,
    /// Escalation policies.
    #[serde(default)]
    pub escalation_policies: Vec<crate::escalation::EscalationPolicy>,
    /// Working days and hours, for "next business day" targets and business-day clocks.
    #[serde(default)]
    pub business_hours: crate::calendar::BusinessCalendar,
    /// Alert routing rules, in evaluation order (see [`crate::alert::routing`]).
    #[serde(default)]
    pub routing_rules: crate::alert::routing::RoutingRules,
    /// What alerts do where no routing rule decides (see [`crate::alert::AlertPolicy`]).
    #[serde(default)]
    pub alerts: crate::alert::AlertPolicy,
    /// Message templates: the built-in ones, each replaceable by id, and the team's own.
    #[serde(default)]
    pub message_templates: Vec<crate::comms::MessageTemplate>,
    /// Organisation, message channels and notification clocks.
    #[serde(default)]
    pub comms: crate::comms::CommsConfig,
    /// Things worth knowing that do not stop the config from loading. Not serialised, and not
    /// part of equality.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl PartialEq for Config {
    fn eq(&self, other: &Self) -> bool {
        // Destructured so that a new field cannot be forgotten here.
        let Config {
            severities,
            roles,
            incident_types,
            services,
            playbooks,
            triage_questions,
            people,
            teams,
            schedules,
            escalation_policies,
            business_hours,
            routing_rules,
            alerts,
            message_templates,
            comms,
            warnings: _,
        } = self;
        *severities == other.severities
            && *roles == other.roles
            && *incident_types == other.incident_types
            && *services == other.services
            && *playbooks == other.playbooks
            && *triage_questions == other.triage_questions
            && *people == other.people
            && *teams == other.teams
            && *schedules == other.schedules
            && *escalation_policies == other.escalation_policies
            && *business_hours == other.business_hours
            && *routing_rules == other.routing_rules
            && *alerts == other.alerts
            && *message_templates == other.message_templates
            && *comms == other.comms
    }
}

impl Config {
    /// The built-in default configuration.
    pub fn builtin() -> Config {
        // The embedded files are checked by a unit test, so this cannot fail in a release.
        load(&[]).unwrap_or_else(|err| panic!("built-in config is invalid: {err}"))
    }

    /// The severity with this id.
    pub fn severity(&self, id: &str) -> Option<&Severity> {
        self.severities.iter().find(|s| s.id == id)
    }

    /// Position in the scheme: 0 is the most severe.
    pub fn severity_rank(&self, id: &str) -> Option<usize> {
        self.severities.iter().position(|s| s.id == id)
    }

    /// The role with this id.
    pub fn role(&self, id: &str) -> Option<&RoleDef> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The playbook with this id.
    pub fn playbook(&self, id: &str) -> Option<&crate::playbook::Playbook> {
        self.playbooks.iter().find(|p| p.id == id)
    }

    /// The incident type with this id.
    pub fn incident_type(&self, id: &str) -> Option<&IncidentTypeDef> {
        self.incident_types.iter().find(|t| t.id == id)
    }

    /// The message template with this id.
    pub fn template(&self, id: &str) -> Option<&crate::comms::MessageTemplate> {
        self.message_templates.iter().find(|t| t.id == id)
    }

    /// A person by handle.
    pub fn person(&self, id: &str) -> Option<&crate::people::Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// The team with this id.
    pub fn team(&self, id: &str) -> Option<&crate::people::Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    /// The schedule with this id.
    pub fn schedule(&self, id: &str) -> Option<&crate::schedule::Schedule> {
        self.schedules.iter().find(|s| s.id == id)
    }

    /// Whether `name` is a known service (always true when no services are configured).
    pub fn accepts_service(&self, name: &str) -> bool {
        self.services.is_empty() || self.services.iter().any(|s| s.id == name)
    }

    /// The effective config as one YAML document.
    pub fn to_yaml(&self) -> String {
        yaml_serde::to_string(self).unwrap_or_else(|err| format!("# cannot render config: {err}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_config_is_valid_and_matches_the_documented_scheme() {
        let config = load(&[]).expect("built-in config loads");
        let ids: Vec<&str> = config.severities.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["P0", "P1", "P2", "P3"]);
        let p0 = config.severity("P0").expect("P0");
        assert_eq!(p0.acknowledge_within.to_string(), "15m");
        assert_eq!(p0.update_every.to_string(), "15m");
        assert_eq!(p0.rto.map(|d| d.to_string()), Some("1h".to_string()));
        assert!(p0.pages);
        let p1 = config.severity("P1").expect("P1");
        assert_eq!(
            (p1.acknowledge_within.to_string(), p1.pages),
            ("30m".to_string(), true)
        );
        let p2 = config.severity("P2").expect("P2");
        assert_eq!(
            (p2.acknowledge_within.to_string(), p2.pages),
            ("2h".to_string(), false)
        );
        let p3 = config.severity("P3").expect("P3");
        assert_eq!(p3.acknowledge_within.to_string(), "next business day");
        let roles: Vec<&str> = config.roles.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            roles,
            [
                "incident-commander",
                "deputy-commander",
                "technical-lead",
                "communications-lead",
                "security-lead",
                "operations-lead",
                "scribe"
            ]
        );
        assert!(config.incident_type("security-breach").is_some());
        let playbooks: Vec<&str> = config.playbooks.iter().map(|p| p.id.as_str()).collect();
        for required in [
            "unauthorized-access",
            "personal-data-breach",
            "credential-compromise",
            "data-integrity-failure",
            "application-downtime",
            "service-degradation",
            "db-connection-pool-exhaustion",
            "auth-service-failure",
            "rate-limit-false-positives",
            "memory-pressure-oom",
            "ddos-traffic-flood",
            "sql-injection-attempt",
            "bad-deployment-rollback",
        ] {
            assert!(
                playbooks.contains(&required),
                "missing built-in playbook {required}"
            );
        }
        for pb in &config.playbooks {
            let phases: Vec<&str> = pb.phases.iter().map(|p| p.id.as_str()).collect();
            assert_eq!(
                phases,
                [
                    "detect",
                    "triage",
                    "contain",
                    "eradicate",
                    "recover",
                    "communicate",
                    "post-incident"
                ],
                "{}",
                pb.id
            );
            assert!(!pb.triggers.is_empty(), "{} never attaches", pb.id);
        }
        assert!(config.accepts_service("auth"));
        assert!(!config.accepts_service("autth"));

        // The example on-call set: three people paged through a local webhook, one team, a
        // weekly primary schedule with a business-hours layer on top.
        let people: Vec<&str> = config.people.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(people, ["alice", "bob", "carol"]);
        for person in &config.people {
            let hook = person.contact_method("hook").expect("webhook");
            assert_eq!(hook.kind, crate::people::ContactKind::Webhook);
            assert_eq!(hook.address, "http://127.0.0.1:9099/hook");
            assert_eq!(person.notification_rules[0].after_minutes, 0);
        }
        assert_eq!(
            config.team("ops").map(|t| t.members.clone()),
            Some(vec!["alice".into(), "bob".into(), "carol".into()])
        );
        let primary = config.schedule("primary").expect("primary schedule");
        assert_eq!(primary.time_zone.name(), "Europe/Berlin");
        let layers: Vec<&str> = primary.layers.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(layers, ["weekly", "business-hours"]);
        let at = |t: &str| {
            let on_call = crate::schedule::who_is_on_call(primary, &[], t.parse().expect("ts"))
                .expect("someone is always on call");
            (on_call.person, on_call.source.to_string())
        };
        // Monday 2026-01-05 is the first day: alice has the week, bob the first business day.
        assert_eq!(
            at("2026-01-05T08:30:00Z"),
            ("bob".into(), "layer business-hours".into())
        );
        assert_eq!(
            at("2026-01-05T17:00:00Z"),
            ("alice".into(), "layer weekly".into())
        );
        assert_eq!(
            at("2026-01-10T12:00:00Z"),
            ("alice".into(), "layer weekly".into())
        );
        // Turns count every day, weekends included: the restriction hides them, it does not
        // skip them. Monday 12 January is turn 7.
        assert_eq!(
            at("2026-01-12T12:00:00Z"),
            ("carol".into(), "layer business-hours".into())
        );
    }

    #[test]
    fn builtin_alert_config_is_complete_and_quiet() {
        let config = load(&[]).expect("built-in config loads");
        assert_eq!(config.warnings, Vec::<String>::new());
        assert_eq!(config.alerts, crate::alert::AlertPolicy::default());
        let names: Vec<&str> = config
            .routing_rules
            .raw()
            .iter()
            .filter_map(|r| r.name.as_deref())
            .collect();
        assert_eq!(
            names,
            [
                "payments-team",
                "failed-login-burst",
                "failed-login-response",
                "record-info"
            ]
        );
        assert_eq!(config.routing_rules.rules().len(), names.len());
    }

    #[test]
    fn effective_config_round_trips_through_yaml() {
        let config = Config::builtin();
        let text = config.to_yaml();
        let again = load(&[SourceFile::new("all.yaml", &text)]).expect("re-loads");
        assert_eq!(again, config);
    }
}
