//! Reading config files: parse each, merge sections, fill defaults, validate everything.

mod comms;

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::Deserialize;

use super::Config;
use super::locate::{Seg, locate};
use super::model::{
    AlertsText, BusinessHoursText, IncidentTypeDef, PersonText, RestrictionText, RoleDef,
    RotationText, ScheduleText, ServiceDef, Severity, SeverityText, TriageQuestion,
};
use crate::alert::AlertSeverity;
use crate::alert::policy::{AlertPolicy, AllResolved, SeverityMap};
use crate::alert::routing::{RawRule, RawSeverityMap, RoutingRule, RoutingRules, compile};
use crate::duration::{Duration, Target};
use crate::escalation::EscalationPolicy;
use crate::people::{Person, Team};
use crate::playbook::{Playbook, TimeBox, placeholder_known, placeholders, severity_range};
use crate::schedule::{
    Day, Layer, LocalTime, Restriction, Rotation, RotationKind, Schedule, TimeZoneName,
};

/// One config file's name (as shown in errors) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path or name shown in error messages.
    pub name: String,
    /// The YAML text.
    pub text: String,
}

impl SourceFile {
    /// A file with this name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// File the problem is in.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Every problem found; the config is unusable until all are fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in file order.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// The sections one file may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSections {
    #[serde(default)]
    severities: Option<Vec<SeverityText>>,
    #[serde(default)]
    roles: Option<Vec<RoleDef>>,
    #[serde(default)]
    incident_types: Option<Vec<IncidentTypeDef>>,
    #[serde(default)]
    services: Option<Vec<ServiceDef>>,
    #[serde(default)]
    playbooks: Option<Vec<Playbook>>,
    #[serde(default)]
    triage_questions: Option<Vec<TriageQuestion>>,
    #[serde(default)]
    people: Option<Vec<PersonText>>,
    #[serde(default)]
    teams: Option<Vec<Team>>,
    #[serde(default)]
    schedules: Option<Vec<ScheduleText>>,
    #[serde(default)]
    escalation_policies: Option<Vec<EscalationPolicy>>,
    #[serde(default)]
    business_hours: Option<BusinessHoursText>,
    #[serde(default)]
    routing_rules: Option<Vec<RawRule>>,
    #[serde(default)]
    alerts: Option<AlertsText>,
    #[serde(default)]
    message_templates: Option<Vec<crate::comms::MessageTemplate>>,
    #[serde(default)]
    comms: Option<comms::CommsText>,
}

/// The built-in configuration as files (path relative to a config directory, text): what
/// `warroom init` writes and what applies when no config directory is given.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "escalation_policies.yaml",
        include_str!("../../../../config/escalation_policies.yaml"),
    ),
    (
        "business_hours.yaml",
        include_str!("../../../../config/business_hours.yaml"),
    ),
    (
        "severities.yaml",
        include_str!("../../../../config/severities.yaml"),
    ),
    ("roles.yaml", include_str!("../../../../config/roles.yaml")),
    (
        "incident_types.yaml",
        include_str!("../../../../config/incident_types.yaml"),
    ),
    (
        "services.yaml",
        include_str!("../../../../config/services.yaml"),
    ),
    (
        "triage.yaml",
        include_str!("../../../../config/triage.yaml"),
    ),
    (
        "alerts.yaml",
        include_str!("../../../../config/alerts.yaml"),
    ),
    ("comms.yaml", include_str!("../../../../config/comms.yaml")),
    // In file-name order, the order a config directory written by `warroom init` loads in, so
    // both give the templates in the same order.
    (
        "templates/customers.yaml",
        include_str!("../../../../config/templates/customers.yaml"),
    ),
    (
        "templates/internal.yaml",
        include_str!("../../../../config/templates/internal.yaml"),
    ),
    (
        "templates/legal.yaml",
        include_str!("../../../../config/templates/legal.yaml"),
    ),
    (
        "people.yaml",
        include_str!("../../../../config/people.yaml"),
    ),
    ("teams.yaml", include_str!("../../../../config/teams.yaml")),
    (
        "schedules.yaml",
        include_str!("../../../../config/schedules.yaml"),
    ),
    (
        "playbooks/application-downtime.yaml",
        include_str!("../../../../config/playbooks/application-downtime.yaml"),
    ),
    (
        "playbooks/auth-service-failure.yaml",
        include_str!("../../../../config/playbooks/auth-service-failure.yaml"),
    ),
    (
        "playbooks/bad-deployment-rollback.yaml",
        include_str!("../../../../config/playbooks/bad-deployment-rollback.yaml"),
    ),
    (
        "playbooks/credential-compromise.yaml",
        include_str!("../../../../config/playbooks/credential-compromise.yaml"),
    ),
    (
        "playbooks/data-integrity-failure.yaml",
        include_str!("../../../../config/playbooks/data-integrity-failure.yaml"),
    ),
    (
        "playbooks/db-connection-pool-exhaustion.yaml",
        include_str!("../../../../config/playbooks/db-connection-pool-exhaustion.yaml"),
    ),
    (
        "playbooks/ddos-traffic-flood.yaml",
        include_str!("../../../../config/playbooks/ddos-traffic-flood.yaml"),
    ),
    (
        "playbooks/memory-pressure-oom.yaml",
        include_str!("../../../../config/playbooks/memory-pressure-oom.yaml"),
    ),
    (
        "playbooks/personal-data-breach.yaml",
        include_str!("../../../../config/playbooks/personal-data-breach.yaml"),
    ),
    (
        "playbooks/rate-limit-false-positives.yaml",
        include_str!("../../../../config/playbooks/rate-limit-false-positives.yaml"),
    ),
    (
        "playbooks/service-degradation.yaml",
        include_str!("../../../../config/playbooks/service-degradation.yaml"),
    ),
    (
        "playbooks/sql-injection-attempt.yaml",
        include_str!("../../../../config/playbooks/sql-injection-attempt.yaml"),
    ),
    (
        "playbooks/unauthorized-access.yaml",
        include_str!("../../../../config/playbooks/unauthorized-access.yaml"),
    ),
];

/// A section's value and the file it came from.
struct Placed<T> {
    file: usize,
    items: Vec<T>,
}

/// Loads a config from `files`; sections none of them define come from the built-in default.
pub fn load(files: &[SourceFile]) -> Result<Config, ConfigError> {
    let builtin: Vec<SourceFile> = BUILTIN_FILES
        .iter()
        .map(|(path, text)| SourceFile::new(format!("<built-in>/{path}"), *text))
        .collect();
    let mut problems = Vec::new();
    // Keep going after a file fails to parse, so one run reports every file's problems.
    let user = parse_all(files, &mut problems);
    let mut defaults_problems = Vec::new();
    let defaults = parse_all(&builtin, &mut defaults_problems);
    let all: Vec<&SourceFile> = files.iter().chain(builtin.iter()).collect();
    let offset = files.len();
    fn pick<T>(
        user: Option<Placed<T>>,
        default: Option<Placed<T>>,
        offset: usize,
    ) -> Option<Placed<T>> {
        user.or(default.map(|p| Placed {
            file: p.file + offset,
            ..p
        }))
    }
    let severities = pick(user.severities, defaults.severities, offset);
    let roles = pick(user.roles, defaults.roles, offset);
    let types = pick(user.incident_types, defaults.incident_types, offset);
    let services = pick(user.services, defaults.services, offset);
    let triage = pick(user.triage_questions, defaults.triage_questions, offset);
    let business_hours = user
        .business_hours
        .or(defaults.business_hours.map(|(f, b)| (f + offset, b)));
    let routing_rules = pick(user.routing_rules, defaults.routing_rules, offset);
    let alerts = user
        .alerts
        .or(defaults.alerts.map(|(f, a)| (f + offset, a)));
    let builtin_templates: Vec<comms::PlacedTemplate> = defaults
        .message_templates
        .into_iter()
        .map(|(f, i, t)| (f + offset, i, t))
        .collect();
    let (user_comms, builtin_comms) = (user.comms, defaults.comms.map(|(f, c)| (f + offset, c)));
    // The built-in people, teams and schedules are one example set that refers to itself: it
    // applies only when no file defines any of the three, so a team's own people never meet
    // dangling example schedules (and `people: []` turns the example off).
    // Escalation policies belong to the same example set.
    let (people, teams, schedules, policies) = if user.people.is_some()
        || user.teams.is_some()
        || user.schedules.is_some()
        || user.escalation_policies.is_some()
    {
        (
            user.people,
            user.teams,
            user.schedules,
            user.escalation_policies,
        )
    } else {
        (
            pick(None, defaults.people, offset),
            pick(None, defaults.teams, offset),
            pick(None, defaults.schedules, offset),
            pick(None, defaults.escalation_policies, offset),
        )
    };
    // Playbooks merge across files; the built-in library applies only when none are given.
    // No `playbooks` key anywhere means the built-in library; `playbooks: []` means none.
    let builtin_playbooks = !user.playbooks_defined;
    let playbooks: Vec<(usize, usize, Playbook)> = if builtin_playbooks {
        defaults
            .playbooks
            .into_iter()
            .map(|(f, i, p)| (f + offset, i, p))
            .collect()
    } else {
        user.playbooks
    };
    problems.extend(defaults_problems);
    // Ids as declared, for references: a level that fails its own checks is reported there,
    // not again at every rule that names it.
    let severity_levels: Vec<(String, bool)> = severities
        .as_ref()
        .map(|p| p.items.iter().map(|s| (s.id.clone(), s.pages)).collect())
        .unwrap_or_default();
    let declared_playbooks: Vec<String> = playbooks.iter().map(|(_, _, p)| p.id.clone()).collect();

    let mut v = Validator {
        files: &all,
        problems: &mut problems,
    };
    let severities = severities.map(|s| v.severities(s)).unwrap_or_default();
    let roles = roles
        .map(|s| v.unique("roles", s, |r: &RoleDef| (&r.id, &r.name)))
        .unwrap_or_default();
    let incident_types = types
        .map(|s| v.unique("incident_types", s, |t: &IncidentTypeDef| (&t.id, &t.name)))
        .unwrap_or_default();
    let services_file = services.as_ref().map(|s| s.file);
    let services = services
        .map(|s| v.unique("services", s, |t: &ServiceDef| (&t.id, &t.name)))
        .unwrap_or_default();
    let partial = Config {
        severities: severities.clone(),
        roles: roles.clone(),
        incident_types: incident_types.clone(),
        services: services.clone(),
        playbooks: Vec::new(),
        triage_questions: Vec::new(),
        people: Vec::new(),
        teams: Vec::new(),
        schedules: Vec::new(),
        escalation_policies: Vec::new(),
        business_hours: Default::default(),
        routing_rules: RoutingRules::default(),
        alerts: AlertPolicy::default(),
        message_templates: Vec::new(),
        comms: Default::default(),
        warnings: Vec::new(),
    };
    let mut warnings = Vec::new();
    let playbooks = if builtin_playbooks {
        // The built-in library is written for the built-in roles and severities. With a custom
        // scheme, the playbooks that do not fit are left out with a warning rather than
        // reported as errors in files the team never wrote (`warroom init` gives them copies
        // to adapt).
        let mut scratch = Vec::new();
        let mut lenient = Validator {
            files: &all,
            problems: &mut scratch,
        };
        let kept = lenient.playbooks(playbooks, &partial);
        let mut seen = HashSet::new();
        for p in scratch {
            if seen.insert(p.file.clone()) {
                warnings.push(format!(
                    "{p} (built-in playbook left out; `warroom init` writes a copy to adapt)"
                ));
            }
        }
        kept
    } else {
        v.playbooks(playbooks, &partial)
    };
    let triage_questions = triage.map(|t| v.triage(t, &partial)).unwrap_or_default();
    // Rules may name only playbooks that are there: with the built-in library, the ones kept.
    let playbook_ids: Vec<String> = if builtin_playbooks {
        playbooks.iter().map(|p| p.id.clone()).collect()
    } else {
        declared_playbooks
    };
    let severity_ids: Vec<String> = severity_levels.iter().map(|(id, _)| id.clone()).collect();
    let refs = RuleRefs {
        severities: &severity_ids,
        services: &services,
        playbooks: &playbook_ids,
    };
    let routing_rules = match routing_rules {
        None => RoutingRules::default(),
        Some(placed) if placed.file >= offset => {
            // Like the built-in playbooks: the example rules name built-in services and
            // playbooks; a rule the team's config cannot honour is left out with a warning
            // instead of failing over a file the team never wrote.
            let mut names = HashSet::new();
            let (mut kept, mut compiled) = (Vec::new(), Vec::new());
            for (i, raw) in placed.items.into_iter().enumerate() {
                let mut scratch = Vec::new();
                let mut lenient = Validator {
                    files: &all,
                    problems: &mut scratch,
                };
                match lenient.routing_rule(placed.file, i, &raw, &refs, &mut names) {
                    Some(rule) => {
                        kept.push(raw);
                        compiled.push(rule);
                    }
                    None => {
                        if let Some(p) = scratch.first() {
                            warnings.push(format!(
                                "{p} (built-in routing rule left out; `warroom init` writes a copy to adapt)"
                            ));
                        }
                    }
                }
            }
            RoutingRules::from_parts(kept, compiled)
        }
        Some(placed) => v.routing_rules(placed, &refs),
    };
    let alerts = alerts
        .and_then(|(file, text)| v.alerts(file, text, &severity_levels, file >= offset))
        .unwrap_or_default();
    let message_templates = v.message_templates(user.message_templates, builtin_templates);
    let type_ids: Vec<String> = incident_types.iter().map(|t| t.id.clone()).collect();
    let comms = v.comms(user_comms, builtin_comms, &type_ids, &message_templates);
    // People who failed a check are still known by id, so a bad time zone is reported once
    // rather than again at every team and schedule that lists the person.
    let person_ids: Vec<String> = people
        .as_ref()
        .map(|p| p.items.iter().map(|x| x.id.clone()).collect())
        .unwrap_or_default();
    let people = people.map(|p| v.people(p)).unwrap_or_default();
    let teams = teams.map(|t| v.teams(t, &person_ids)).unwrap_or_default();
    let schedules = schedules
        .map(|s| v.schedules(s, &person_ids))
        .unwrap_or_default();
    let escalation_policies = policies
        .map(|p| v.escalation_policies(p, &person_ids, &teams, &schedules, &roles))
        .unwrap_or_default();
    let business_hours = business_hours
        .and_then(|(file, text)| v.business_hours(file, text))
        .unwrap_or_default();
    for (i, svc) in services.iter().enumerate() {
        if let Some(policy) = &svc.escalation_policy
            && !escalation_policies.iter().any(|p| &p.id == policy)
        {
            // Services come from one file; find it again for the location.
            if let Some(file) = services_file {
                v.report(
                    file,
                    &[
                        Seg::Key("services"),
                        Seg::Index(i),
                        Seg::Key("escalation_policy"),
                    ],
                    format!("unknown escalation policy {policy:?}"),
                );
            }
        }
    }
    for (section, empty) in [
        ("severities", severities.is_empty()),
        ("roles", roles.is_empty()),
        ("incident_types", incident_types.is_empty()),
    ] {
        if empty && problems.is_empty() {
            problems.push(ConfigProblem {
                file: "<config>".into(),
                line: 1,
                column: 1,
                message: format!("`{section}` must list at least one entry"),
            });
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    if problems.is_empty() {
        Ok(Config {
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
            warnings,
        })
    } else {
        Err(ConfigError { problems })
    }
}

#[derive(Default)]
struct Merged {
    severities: Option<Placed<SeverityText>>,
    roles: Option<Placed<RoleDef>>,
    incident_types: Option<Placed<IncidentTypeDef>>,
    services: Option<Placed<ServiceDef>>,
    triage_questions: Option<Placed<TriageQuestion>>,
    people: Option<Placed<PersonText>>,
    teams: Option<Placed<Team>>,
    schedules: Option<Placed<ScheduleText>>,
    escalation_policies: Option<Placed<EscalationPolicy>>,
    /// (file, calendar)
    business_hours: Option<(usize, BusinessHoursText)>,
    routing_rules: Option<Placed<RawRule>>,
    /// (file, policy)
    alerts: Option<(usize, AlertsText)>,
    /// Templates merge across files like playbooks.
    message_templates: Vec<comms::PlacedTemplate>,
    /// (file, section)
    comms: Option<(usize, comms::CommsText)>,
    /// (file, position in that file's list, playbook)
    playbooks: Vec<(usize, usize, Playbook)>,
    /// Some file has a `playbooks` key, even an empty one.
    playbooks_defined: bool,
}

fn parse_all(files: &[SourceFile], problems: &mut Vec<ConfigProblem>) -> Merged {
    let mut merged = Merged::default();
    let mut owner: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        let sections = match parse_file(file) {
            Ok(s) => s,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let mut claim = |section: &'static str, present: bool| -> bool {
            if !present {
                return false;
            }
            if let Some(first) = owner.get(section) {
                let (line, column) = locate(&file.text, &[Seg::Key(section)]);
                problems.push(ConfigProblem {
                    file: file.name.clone(),
                    line,
                    column,
                    message: format!(
                        "section `{section}` is already defined in {}",
                        files[*first].name
                    ),
                });
                return false;
            }
            owner.insert(section, index);
            true
        };
        if claim("severities", sections.severities.is_some()) {
            merged.severities = sections
                .severities
                .map(|items| Placed { file: index, items });
        }
        if claim("roles", sections.roles.is_some()) {
            merged.roles = sections.roles.map(|items| Placed { file: index, items });
        }
        if claim("incident_types", sections.incident_types.is_some()) {
            merged.incident_types = sections
                .incident_types
                .map(|items| Placed { file: index, items });
        }
        if claim("triage_questions", sections.triage_questions.is_some()) {
            merged.triage_questions = sections
                .triage_questions
                .map(|items| Placed { file: index, items });
        }
        merged.playbooks_defined |= sections.playbooks.is_some();
        for (i, pb) in sections.playbooks.into_iter().flatten().enumerate() {
            merged.playbooks.push((index, i, pb));
        }
        if claim("services", sections.services.is_some()) {
            merged.services = sections.services.map(|items| Placed { file: index, items });
        }
        if claim("people", sections.people.is_some()) {
            merged.people = sections.people.map(|items| Placed { file: index, items });
        }
        if claim("teams", sections.teams.is_some()) {
            merged.teams = sections.teams.map(|items| Placed { file: index, items });
        }
        if claim(
            "escalation_policies",
            sections.escalation_policies.is_some(),
        ) {
            merged.escalation_policies = sections
                .escalation_policies
                .map(|items| Placed { file: index, items });
        }
        if claim("business_hours", sections.business_hours.is_some()) {
            merged.business_hours = sections.business_hours.map(|b| (index, b));
        }
        if claim("routing_rules", sections.routing_rules.is_some()) {
            merged.routing_rules = sections
                .routing_rules
                .map(|items| Placed { file: index, items });
        }
        if claim("alerts", sections.alerts.is_some()) {
            merged.alerts = sections.alerts.map(|a| (index, a));
        }
        for (i, t) in sections.message_templates.into_iter().flatten().enumerate() {
            merged.message_templates.push((index, i, t));
        }
        if claim("comms", sections.comms.is_some()) {
            merged.comms = sections.comms.map(|c| (index, c));
        }
        if claim("schedules", sections.schedules.is_some()) {
            merged.schedules = sections
                .schedules
                .map(|items| Placed { file: index, items });
        }
    }
    merged
}

fn parse_file(file: &SourceFile) -> Result<FileSections, ConfigProblem> {
    let problem = |err: yaml_serde::Error| {
        let (line, column) = err.location().map_or((1, 1), |l| (l.line(), l.column()));
        let text = err.to_string();
        let message = match text.rfind(" at line ") {
            Some(cut) => text[..cut].to_string(),
            None => text,
        };
        ConfigProblem {
            file: file.name.clone(),
            line,
            column,
            message,
        }
    };
    // An empty file (or one with only comments) defines nothing.
    let value: yaml_serde::Value = yaml_serde::from_str(&file.text).map_err(problem)?;
    if value.is_null() {
        return Ok(FileSections::default());
    }
    yaml_serde::from_str(&file.text).map_err(problem)
}

struct Validator<'a> {
    files: &'a [&'a SourceFile],
    problems: &'a mut Vec<ConfigProblem>,
}

impl Validator<'_> {
    fn report(&mut self, file: usize, path: &[Seg<'_>], message: String) {
        let source = self.files[file];
        let (line, column) = locate(&source.text, path);
        self.problems.push(ConfigProblem {
            file: source.name.clone(),
            line,
            column,
            message,
        });
    }

    /// Checks ids are well-formed and unique and names are present.
    fn unique<T>(
        &mut self,
        section: &'static str,
        placed: Placed<T>,
        fields: impl Fn(&T) -> (&String, &String),
    ) -> Vec<T> {
        let mut seen = HashSet::new();
        for (i, item) in placed.items.iter().enumerate() {
            let (id, name) = fields(item);
            let at = [Seg::Key(section), Seg::Index(i), Seg::Key("id")];
            if let Err(why) = check_id(id) {
                self.report(placed.file, &at, why);
            } else if !seen.insert(id.clone()) {
                self.report(
                    placed.file,
                    &at,
                    format!("duplicate id {id:?} in `{section}`"),
                );
            }
            if name.trim().is_empty() {
                self.report(
                    placed.file,
                    &[Seg::Key(section), Seg::Index(i), Seg::Key("name")],
                    "name must not be empty".into(),
                );
            }
        }
        placed.items
    }

    fn severities(&mut self, placed: Placed<SeverityText>) -> Vec<Severity> {
        let file = placed.file;
        let items = self.unique("severities", placed, |s: &SeverityText| (&s.id, &s.name));
        if items.is_empty() {
            self.report(
                file,
                &[Seg::Key("severities")],
                "`severities` must list at least one level".into(),
            );
        }
        let mut out = Vec::new();
        for (i, s) in items.into_iter().enumerate() {
            let mut target = |field: &'static str, text: &str| -> Option<Target> {
                text.parse::<Target>()
                    .map_err(|e| {
                        self.report(
                            file,
                            &[Seg::Key("severities"), Seg::Index(i), Seg::Key(field)],
                            e.to_string(),
                        )
                    })
                    .ok()
            };
            let ack = target("acknowledge_within", &s.acknowledge_within);
            let update = target("update_every", &s.update_every);
            let rto = match &s.rto {
                Some(text) => match text.parse::<Duration>() {
                    Ok(d) => Some(Some(d)),
                    Err(e) => {
                        self.report(
                            file,
                            &[Seg::Key("severities"), Seg::Index(i), Seg::Key("rto")],
                            e.to_string(),
                        );
                        None
                    }
                },
                None => Some(None),
            };
            if let (Some(acknowledge_within), Some(update_every), Some(rto)) = (ack, update, rto) {
                out.push(Severity {
                    id: s.id,
                    name: s.name,
                    description: s.description,
                    examples: s.examples,
                    acknowledge_within,
                    update_every,
                    rto,
                    pages: s.pages,
                });
            }
        }
        out
    }
}

impl Validator<'_> {
    fn playbooks(
        &mut self,
        items: Vec<(usize, usize, Playbook)>,
        config: &Config,
    ) -> Vec<Playbook> {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut out = Vec::new();
        for (file, i, pb) in items {
            let at = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
                let mut p = vec![Seg::Key("playbooks"), Seg::Index(i)];
                p.extend_from_slice(rest);
                p
            };
            let before = self.problems.len();
            if let Err(why) = check_id(&pb.id) {
                self.report(file, &at(&[Seg::Key("id")]), why);
            } else if let Some(first) = seen.get(&pb.id) {
                let other = self.files[*first].name.clone();
                self.report(
                    file,
                    &at(&[Seg::Key("id")]),
                    format!("duplicate playbook id {:?} (also in {other})", pb.id),
                );
            } else {
                seen.insert(pb.id.clone(), file);
            }
            if pb.title.trim().is_empty() {
                self.report(
                    file,
                    &at(&[Seg::Key("title")]),
                    "title must not be empty".into(),
                );
            }
            let t = &pb.triggers;
            for ty in &t.types {
                if config.incident_type(ty).is_none() {
                    self.report(
                        file,
                        &at(&[Seg::Key("triggers"), Seg::Key("types")]),
                        format!("unknown incident type {ty:?}"),
                    );
                }
            }
            for svc in &t.services {
                if !config.accepts_service(svc) {
                    self.report(
                        file,
                        &at(&[Seg::Key("triggers"), Seg::Key("services")]),
                        format!("unknown service {svc:?}"),
                    );
                }
            }
            if let Some(range) = &t.severity
                && let Err(why) = severity_range(range, config)
            {
                self.report(
                    file,
                    &at(&[Seg::Key("triggers"), Seg::Key("severity")]),
                    why,
                );
            }
            let mut param_names = HashSet::new();
            for (k, p) in pb.params.iter().enumerate() {
                let ok = !p.name.is_empty()
                    && !crate::playbook::BUILTIN_PLACEHOLDERS.contains(&p.name.as_str())
                    && p.name.len() <= 64
                    && p.name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !ok || !param_names.insert(p.name.clone()) {
                    self.report(
                        file,
                        &at(&[Seg::Key("params"), Seg::Index(k), Seg::Key("name")]),
                        format!(
                            "param name {:?} must be unique, use lowercase letters, digits and '_', and not shadow a built-in placeholder",
                            p.name
                        ),
                    );
                }
            }
            if pb.phases.is_empty() {
                self.report(
                    file,
                    &at(&[Seg::Key("phases")]),
                    "a playbook needs at least one phase".into(),
                );
            }
            let mut phase_ids = HashSet::new();
            let mut task_ids = HashSet::new();
            for (j, phase) in pb.phases.iter().enumerate() {
                let ph = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
                    let mut p = at(&[Seg::Key("phases"), Seg::Index(j)]);
                    p.extend_from_slice(rest);
                    p
                };
                if check_id(&phase.id).is_err() || !phase_ids.insert(phase.id.clone()) {
                    self.report(
                        file,
                        &ph(&[Seg::Key("id")]),
                        format!("phase id {:?} must be a unique plain id", phase.id),
                    );
                }
                if let Err(why) = TimeBox::parse(&phase.time_box) {
                    self.report(file, &ph(&[Seg::Key("time_box")]), why);
                }
                for (k, task) in phase.tasks.iter().enumerate() {
                    let tk = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
                        let mut p = ph(&[Seg::Key("tasks"), Seg::Index(k)]);
                        p.extend_from_slice(rest);
                        p
                    };
                    if check_id(&task.id).is_err() || !task_ids.insert(task.id.clone()) {
                        self.report(
                            file,
                            &tk(&[Seg::Key("id")]),
                            format!(
                                "task id {:?} must be a plain id, unique in the playbook",
                                task.id
                            ),
                        );
                    }
                    if task.text.trim().is_empty() {
                        self.report(
                            file,
                            &tk(&[Seg::Key("text")]),
                            "task text must not be empty".into(),
                        );
                    }
                    if config.role(&task.owner).is_none() {
                        let known: Vec<&str> = config.roles.iter().map(|r| r.id.as_str()).collect();
                        self.report(
                            file,
                            &tk(&[Seg::Key("owner")]),
                            format!(
                                "unknown role {:?}; expected one of {}",
                                task.owner,
                                known.join(", ")
                            ),
                        );
                    }
                    for (c, command) in task.commands.iter().enumerate() {
                        for name in placeholders(command) {
                            if !placeholder_known(&name, &pb.params) {
                                self.report(
                                    file,
                                    &tk(&[Seg::Key("commands"), Seg::Index(c)]),
                                    format!(
                                        "unknown placeholder {{{{{name}}}}}: declare it under `params`, or use one of {}, label.KEY",
                                        crate::playbook::BUILTIN_PLACEHOLDERS.join(", ")
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            if self.problems.len() == before {
                out.push(pb);
            }
        }
        out
    }

    fn triage(&mut self, placed: Placed<TriageQuestion>, config: &Config) -> Vec<TriageQuestion> {
        let mut seen = HashSet::new();
        for (i, q) in placed.items.iter().enumerate() {
            let at = |k: &'static str| [Seg::Key("triage_questions"), Seg::Index(i), Seg::Key(k)];
            if check_id(&q.key).is_err() || !seen.insert(q.key.clone()) {
                self.report(
                    placed.file,
                    &at("key"),
                    format!("question key {:?} must be a unique plain id", q.key),
                );
            }
            if q.question.trim().is_empty() {
                self.report(
                    placed.file,
                    &at("question"),
                    "question must not be empty".into(),
                );
            }
            match (&q.if_yes.severity, q.if_yes.rank, q.if_yes.adjust) {
                (Some(sev), None, None) if config.severity(sev).is_none() => {
                    self.report(placed.file, &at("if_yes"), format!("unknown severity {sev:?}"));
                }
                (Some(_), None, None) | (None, Some(_), None) => {}
                (None, None, Some(n)) if n != 0 => {}
                _ => self.report(
                    placed.file,
                    &at("if_yes"),
                    "if_yes needs exactly one of `severity: ID`, `rank: N` or `adjust: N` (N not 0)".into(),
                ),
            }
        }
        placed.items
    }
}

impl Validator<'_> {
    fn people(&mut self, placed: Placed<PersonText>) -> Vec<Person> {
        let file = placed.file;
        let items = self.unique("people", placed, |p: &PersonText| (&p.id, &p.name));
        let mut out = Vec::new();
        for (i, p) in items.into_iter().enumerate() {
            let at = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
                let mut path = vec![Seg::Key("people"), Seg::Index(i)];
                path.extend_from_slice(rest);
                path
            };
            let time_zone = TimeZoneName::new(&p.time_zone)
                .map_err(|why| self.report(file, &at(&[Seg::Key("time_zone")]), why))
                .ok();
            let mut method_ids = HashSet::new();
            for (j, m) in p.contact_methods.iter().enumerate() {
                let cm = |k: &'static str| {
                    at(&[Seg::Key("contact_methods"), Seg::Index(j), Seg::Key(k)])
                };
                if let Err(why) = check_id(&m.id) {
                    self.report(file, &cm("id"), why);
                } else if !method_ids.insert(m.id.as_str()) {
                    self.report(
                        file,
                        &cm("id"),
                        format!("duplicate contact method id {:?} for {:?}", m.id, p.id),
                    );
                }
                if let Err(why) = m.kind.check_address(&m.address) {
                    self.report(file, &cm("address"), why);
                }
            }
            for (j, r) in p.notification_rules.iter().enumerate() {
                if !p.contact_methods.iter().any(|m| m.id == r.contact_method) {
                    let mut known: Vec<&str> = Vec::new();
                    for m in &p.contact_methods {
                        if !known.contains(&m.id.as_str()) {
                            known.push(&m.id);
                        }
                    }
                    self.report(
                        file,
                        &at(&[
                            Seg::Key("notification_rules"),
                            Seg::Index(j),
                            Seg::Key("contact_method"),
                        ]),
                        format!(
                            "unknown contact method {:?}; {}",
                            r.contact_method,
                            one_of(&known, "no `contact_methods` are defined for this person")
                        ),
                    );
                }
            }
            if let Some(time_zone) = time_zone {
                out.push(Person {
                    id: p.id,
                    name: p.name,
                    time_zone,
                    contact_methods: p.contact_methods,
                    notification_rules: p.notification_rules,
                });
            }
        }
        out
    }

    /// Reports each member that is not a known person, and people listed twice when `no_repeats`.
    fn members(
        &mut self,
        file: usize,
        path: &[Seg<'_>],
        members: &[String],
        people: &[String],
        no_repeats: bool,
    ) {
        let mut seen = HashSet::new();
        for (j, member) in members.iter().enumerate() {
            let mut at = path.to_vec();
            at.push(Seg::Index(j));
            if !people.contains(member) {
                let known: Vec<&str> = people.iter().map(String::as_str).collect();
                self.report(
                    file,
                    &at,
                    format!(
                        "unknown person {member:?}; {}",
                        one_of(&known, "no `people` are defined")
                    ),
                );
            } else if !seen.insert(member.as_str()) && no_repeats {
                self.report(file, &at, format!("person {member:?} is listed twice"));
            }
        }
    }

    fn teams(&mut self, placed: Placed<Team>, people: &[String]) -> Vec<Team> {
        let file = placed.file;
        let items = self.unique("teams", placed, |t: &Team| (&t.id, &t.name));
        for (i, team) in items.iter().enumerate() {
            self.members(
                file,
                &[Seg::Key("teams"), Seg::Index(i), Seg::Key("members")],
                &team.members,
                people,
                true,
            );
        }
        items
    }

    fn escalation_policies(
        &mut self,
        placed: Placed<EscalationPolicy>,
        people: &[String],
        teams: &[Team],
        schedules: &[Schedule],
        roles: &[RoleDef],
    ) -> Vec<EscalationPolicy> {
        let file = placed.file;
        let items = self.unique("escalation_policies", placed, |p: &EscalationPolicy| {
            (&p.id, &p.name)
        });
        for (i, p) in items.iter().enumerate() {
            let at = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
                let mut path = vec![Seg::Key("escalation_policies"), Seg::Index(i)];
                path.extend_from_slice(rest);
                path
            };
            if p.steps.is_empty() {
                self.report(
                    file,
                    &at(&[Seg::Key("steps")]),
                    "a policy needs at least one step".into(),
                );
            }
            for (j, step) in p.steps.iter().enumerate() {
                if step.targets.is_empty() {
                    self.report(
                        file,
                        &at(&[Seg::Key("steps"), Seg::Index(j), Seg::Key("targets")]),
                        "a step needs at least one target".into(),
                    );
                }
                for (k, t) in step.targets.iter().enumerate() {
                    let here = at(&[
                        Seg::Key("steps"),
                        Seg::Index(j),
                        Seg::Key("targets"),
                        Seg::Index(k),
                    ]);
                    let problem = if t.kinds_set() != 1 {
                        Some(
                            "a target is exactly one of `person`, `schedule`, `team` or `role`"
                                .to_string(),
                        )
                    } else if let Some(id) = t.person.as_ref().filter(|id| !people.contains(id)) {
                        Some(format!("unknown person {id:?}"))
                    } else if let Some(id) = t
                        .team
                        .as_ref()
                        .filter(|id| !teams.iter().any(|x| &x.id == *id))
                    {
                        Some(format!("unknown team {id:?}"))
                    } else if let Some(id) = t
                        .schedule
                        .as_ref()
                        .filter(|id| !schedules.iter().any(|x| &x.id == *id))
                    {
                        Some(format!("unknown schedule {id:?}"))
                    } else {
                        t.role
                            .as_ref()
                            .filter(|id| !roles.iter().any(|x| &x.id == *id))
                            .map(|id| format!("unknown incident role {id:?}"))
                    };
                    if let Some(message) = problem {
                        self.report(file, &here, message);
                    }
                }
            }
        }
        items
    }

    fn schedules(&mut self, placed: Placed<ScheduleText>, people: &[String]) -> Vec<Schedule> {
        let file = placed.file;
        let items = self.unique("schedules", placed, |s: &ScheduleText| (&s.id, &s.name));
        let mut out = Vec::new();
        for (i, s) in items.into_iter().enumerate() {
            let before = self.problems.len();
            let at = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
                let mut path = vec![Seg::Key("schedules"), Seg::Index(i)];
                path.extend_from_slice(rest);
                path
            };
            let time_zone = TimeZoneName::new(&s.time_zone)
                .map_err(|why| self.report(file, &at(&[Seg::Key("time_zone")]), why))
                .ok();
            if s.layers.is_empty() {
                self.report(
                    file,
                    &at(&[Seg::Key("layers")]),
                    "a schedule needs at least one layer".into(),
                );
            }
            let mut layer_ids = HashSet::new();
            let mut layers = Vec::new();
            for (j, layer) in s.layers.into_iter().enumerate() {
                let ly = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
                    let mut path = at(&[Seg::Key("layers"), Seg::Index(j)]);
                    path.extend_from_slice(rest);
                    path
                };
                if let Err(why) = check_id(&layer.id) {
                    self.report(file, &ly(&[Seg::Key("id")]), why);
                } else if !layer_ids.insert(layer.id.clone()) {
                    self.report(
                        file,
                        &ly(&[Seg::Key("id")]),
                        format!("duplicate layer id {:?} in schedule {:?}", layer.id, s.id),
                    );
                }
                let rotation =
                    self.rotation(file, &ly(&[Seg::Key("rotation")]), layer.rotation, people);
                let mut restrictions = Vec::new();
                for (k, r) in layer.restrictions.into_iter().enumerate() {
                    restrictions.push(self.restriction(
                        file,
                        &ly(&[Seg::Key("restrictions"), Seg::Index(k)]),
                        r,
                    ));
                }
                if let Some(rotation) = rotation {
                    layers.push(Layer {
                        id: layer.id,
                        rotation,
                        restrictions: restrictions.into_iter().flatten().collect(),
                    });
                }
            }
            if let Some(time_zone) = time_zone
                && self.problems.len() == before
            {
                out.push(Schedule {
                    id: s.id,
                    name: s.name,
                    time_zone,
                    layers,
                });
            }
        }
        out
    }

    fn rotation(
        &mut self,
        file: usize,
        path: &[Seg<'static>],
        r: RotationText,
        people: &[String],
    ) -> Option<Rotation> {
        let at = |k: &'static str| -> Vec<Seg<'static>> {
            let mut p = path.to_vec();
            p.push(Seg::Key(k));
            p
        };
        let before = self.problems.len();
        let length = match (r.kind, &r.length) {
            (RotationKind::Custom, None) => {
                self.report(
                    file,
                    path,
                    "a custom rotation needs `length` (e.g. 12h or 3d)".into(),
                );
                None
            }
            (RotationKind::Custom, Some(text)) => match text.parse::<Duration>() {
                Ok(d) if d.as_secs() >= 3_600 => Some(d),
                Ok(d) => {
                    self.report(
                        file,
                        &at("length"),
                        format!("a custom rotation must be at least 1h long, not {d}"),
                    );
                    None
                }
                Err(e) => {
                    self.report(file, &at("length"), e.to_string());
                    None
                }
            },
            (kind, Some(_)) => {
                let turn = if kind == RotationKind::Daily {
                    "1 local day"
                } else {
                    "7 local days"
                };
                self.report(
                    file,
                    &at("length"),
                    format!(
                        "`length` applies only to custom rotations; a {kind} turn is {turn} at the hand-off time"
                    ),
                );
                None
            }
            (_, None) => None,
        };
        let handoff = match &r.handoff {
            None => LocalTime::NINE,
            Some(text) => text
                .parse::<LocalTime>()
                .map_err(|why| self.report(file, &at("handoff"), why))
                .unwrap_or_default(),
        };
        let start = parse_date(&r.start)
            .map_err(|why| self.report(file, &at("start"), why))
            .ok();
        if r.members.is_empty() {
            self.report(
                file,
                &at("members"),
                "a rotation needs at least one member".into(),
            );
        }
        self.members(file, &at("members"), &r.members, people, false);
        match start {
            Some(start) if self.problems.len() == before => Some(Rotation {
                kind: r.kind,
                length,
                handoff,
                start,
                members: r.members,
            }),
            _ => None,
        }
    }

    fn business_hours(
        &mut self,
        file: usize,
        text: BusinessHoursText,
    ) -> Option<crate::calendar::BusinessCalendar> {
        let at = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
            let mut p = vec![Seg::Key("business_hours")];
            p.extend_from_slice(rest);
            p
        };
        let before = self.problems.len();
        let mut calendar = crate::calendar::BusinessCalendar::default();
        match TimeZoneName::new(&text.time_zone) {
            Ok(tz) => calendar.time_zone = tz,
            Err(why) => self.report(file, &at(&[Seg::Key("time_zone")]), why),
        }
        if let Some(days) = text.days {
            calendar.days.clear();
            for (d, day) in days.iter().enumerate() {
                match day.parse::<Day>() {
                    Ok(day) if !calendar.days.contains(&day) => calendar.days.push(day),
                    Ok(_) => {}
                    Err(why) => self.report(file, &at(&[Seg::Key("days"), Seg::Index(d)]), why),
                }
            }
            if days.is_empty() {
                self.report(
                    file,
                    &at(&[Seg::Key("days")]),
                    "`days` must list at least one working day (mon..sun)".into(),
                );
            }
        }
        for (key, slot) in [("start", &text.start), ("end", &text.end)] {
            if let Some(t) = slot {
                match t.parse::<LocalTime>() {
                    Ok(t) if key == "start" => calendar.start = t,
                    Ok(t) => calendar.end = t,
                    Err(why) => self.report(file, &at(&[Seg::Key(key)]), why),
                }
            }
        }
        if self.problems.len() == before && calendar.end <= calendar.start {
            self.report(
                file,
                &at(&[Seg::Key("end")]),
                format!(
                    "`end` ({}) must be after `start` ({})",
                    calendar.end, calendar.start
                ),
            );
        }
        for (h, day) in text.holidays.iter().enumerate() {
            match parse_date(day) {
                Ok(d) => calendar.holidays.push(d),
                Err(why) => self.report(file, &at(&[Seg::Key("holidays"), Seg::Index(h)]), why),
            }
        }
        (self.problems.len() == before).then_some(calendar)
    }

    fn restriction(
        &mut self,
        file: usize,
        path: &[Seg<'static>],
        r: RestrictionText,
    ) -> Option<Restriction> {
        let at = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
            let mut p = path.to_vec();
            p.extend_from_slice(rest);
            p
        };
        let before = self.problems.len();
        if r.days.is_empty() {
            self.report(
                file,
                &at(&[Seg::Key("days")]),
                "`days` must list at least one day (mon..sun)".into(),
            );
        }
        let mut days = Vec::new();
        for (d, text) in r.days.iter().enumerate() {
            match text.parse::<Day>() {
                Ok(day) if !days.contains(&day) => days.push(day),
                Ok(_) => {}
                Err(why) => self.report(file, &at(&[Seg::Key("days"), Seg::Index(d)]), why),
            }
        }
        let from = r
            .from
            .parse::<LocalTime>()
            .map_err(|why| self.report(file, &at(&[Seg::Key("from")]), why))
            .ok();
        let to =
            r.to.parse::<LocalTime>()
                .map_err(|why| self.report(file, &at(&[Seg::Key("to")]), why))
                .ok();
        match (from, to) {
            (Some(from), Some(to)) if self.problems.len() == before => {
                Some(Restriction { days, from, to })
            }
            _ => None,
        }
    }
}

/// What routing rules may refer to.
struct RuleRefs<'r> {
    /// Severity ids as declared.
    severities: &'r [String],
    /// Configured services; empty accepts any name.
    services: &'r [ServiceDef],
    /// Playbook ids that are loaded.
    playbooks: &'r [String],
}

/// The location of a [`RuleError`] path (`match.severity[1]`) within rule `i`.
fn rule_path(i: usize, path: &str) -> Vec<Seg<'_>> {
    let mut segs = vec![Seg::Key("routing_rules"), Seg::Index(i)];
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            segs.push(Seg::Key(key));
        }
        for n in indices.split('[').filter_map(|x| x.strip_suffix(']')) {
            match n.parse() {
                Ok(n) => segs.push(Seg::Index(n)),
                Err(_) => return segs,
            }
        }
    }
    segs
}

impl Validator<'_> {
    /// Checks every rule; the rules apply only when all are fine.
    fn routing_rules(&mut self, placed: Placed<RawRule>, refs: &RuleRefs<'_>) -> RoutingRules {
        let mut names = HashSet::new();
        let mut compiled = Vec::new();
        for (i, raw) in placed.items.iter().enumerate() {
            if let Some(rule) = self.routing_rule(placed.file, i, raw, refs, &mut names) {
                compiled.push(rule);
            }
        }
        if compiled.len() == placed.items.len() {
            RoutingRules::from_parts(placed.items, compiled)
        } else {
            RoutingRules::default()
        }
    }

    /// Checks rule `i`: it compiles, its name is new, and what it names exists. The compiled
    /// rule when nothing was reported.
    fn routing_rule(
        &mut self,
        file: usize,
        i: usize,
        raw: &RawRule,
        refs: &RuleRefs<'_>,
        names: &mut HashSet<String>,
    ) -> Option<RoutingRule> {
        let before = self.problems.len();
        if let Some(name) = raw.name.as_ref().filter(|n| !n.trim().is_empty())
            && !names.insert(name.clone())
        {
            self.report(
                file,
                &rule_path(i, "name"),
                format!("duplicate rule name {name:?}: names must be unique, they key threshold counters"),
            );
        }
        let compiled = compile(raw)
            .map_err(|e| self.report(file, &rule_path(i, &e.path), e.message))
            .ok();
        if let Some(service) = raw.service.as_ref().filter(|s| !s.trim().is_empty())
            && !refs.services.is_empty()
            && !refs.services.iter().any(|s| &s.id == service)
        {
            let known: Vec<&str> = refs.services.iter().map(|s| s.id.as_str()).collect();
            self.report(
                file,
                &rule_path(i, "service"),
                format!("unknown service {service:?}; {}", one_of(&known, "")),
            );
        }
        let severities: Vec<&str> = refs.severities.iter().map(String::as_str).collect();
        let check_severity = |this: &mut Self, path: &str, id: &str| {
            if !id.trim().is_empty() && !severities.contains(&id) {
                this.report(
                    file,
                    &rule_path(i, path),
                    format!(
                        "unknown severity {id:?}; {}",
                        one_of(&severities, "no `severities` are defined")
                    ),
                );
            }
        };
        match &raw.incident_severity {
            None => {}
            Some(RawSeverityMap::Fixed(id)) => check_severity(self, "incident_severity", id),
            Some(RawSeverityMap::ByAlertSeverity(map)) => {
                for (alert, id) in map {
                    check_severity(self, &format!("incident_severity.{alert}"), id);
                }
            }
        }
        if let Some(playbook) = raw.playbook.as_ref().filter(|p| !p.trim().is_empty())
            && !refs.playbooks.contains(playbook)
        {
            let known: Vec<&str> = refs.playbooks.iter().map(String::as_str).collect();
            self.report(
                file,
                &rule_path(i, "playbook"),
                format!(
                    "unknown playbook {playbook:?}; {}",
                    one_of(&known, "no playbooks are loaded")
                ),
            );
        }
        compiled.filter(|_| self.problems.len() == before)
    }

    /// Checks the `alerts:` policy against the severity scheme (`levels`: id and `pages`, most
    /// severe first). `builtin`: the section is the built-in one, whose severity map is fitted
    /// to the scheme when it names ids the scheme lacks (see [`AlertPolicy`]).
    fn alerts(
        &mut self,
        file: usize,
        text: AlertsText,
        levels: &[(String, bool)],
        builtin: bool,
    ) -> Option<AlertPolicy> {
        let before = self.problems.len();
        let ids: Vec<&str> = levels.iter().map(|(id, _)| id.as_str()).collect();
        let pairs: Vec<(&str, bool)> = levels.iter().map(|(id, p)| (id.as_str(), *p)).collect();
        let fitted = SeverityMap::fitted(&pairs);
        let builtin_map = SeverityMap::builtin();
        let fits = |m: &SeverityMap| m.entries().iter().all(|(_, id)| ids.contains(id));
        // Entries a file leaves out: the built-in choice if the scheme has it, else fitted.
        let mut map = match &fitted {
            Some(f) if !fits(&builtin_map) => f.clone(),
            _ => builtin_map,
        };
        let mut refit = false;
        for (key, id) in &text.severity_map {
            let at = [
                Seg::Key("alerts"),
                Seg::Key("severity_map"),
                Seg::Key(key.as_str()),
            ];
            let Some(level) = AlertSeverity::parse(key) else {
                self.report(
                    file,
                    &at,
                    format!("unknown alert severity {key:?}; expected one of critical, error, warning, info"),
                );
                continue;
            };
            if ids.contains(&id.as_str()) {
                map.set(level, id.clone());
            } else if builtin {
                refit = true;
            } else {
                self.report(
                    file,
                    &at,
                    format!(
                        "unknown severity {id:?}; {}",
                        one_of(&ids, "no `severities` are defined")
                    ),
                );
            }
        }
        if refit && let Some(f) = fitted {
            map = f;
        }
        let on_all_resolved = match text.on_all_resolved.as_deref() {
            None => AllResolved::default(),
            Some(value) => AllResolved::parse(value).unwrap_or_else(|| {
                self.report(
                    file,
                    &[Seg::Key("alerts"), Seg::Key("on_all_resolved")],
                    format!(
                        "unknown value {value:?} for `on_all_resolved`; expected recovering or none"
                    ),
                );
                AllResolved::default()
            }),
        };
        (self.problems.len() == before).then(|| AlertPolicy {
            severity_map: map,
            on_all_resolved,
            open_incidents: text.open_incidents.unwrap_or(true),
        })
    }
}

/// "expected one of a, b, c", or `none` when there is nothing to choose from.
fn one_of(known: &[&str], none: &str) -> String {
    if known.is_empty() {
        none.to_string()
    } else {
        format!("expected one of {}", known.join(", "))
    }
}

/// A local date written `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<jiff::civil::Date, String> {
    let t = text.trim();
    let shape = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    match t.parse::<jiff::civil::Date>() {
        Ok(d) if shape => Ok(d),
        _ => Err(format!("invalid date {text:?}: expected YYYY-MM-DD")),
    }
}

/// Ids appear in URLs, commands and labels: keep them plain.
fn check_id(id: &str) -> Result<(), String> {
    let ok_chars = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if id.is_empty()
        || id.len() > 64
        || !ok_chars
        || !id.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(format!(
            "invalid id {id:?}: use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(files: &[SourceFile]) -> Vec<String> {
        match load(files) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn another_scheme_is_expressible_by_config_alone() {
        let text = "\
severities:
  - id: SEV0
    name: Emergency
    acknowledge_within: 5m
    update_every: 10m
    rto: 30m
    pages: true
  - id: SEV1
    name: Major
    acknowledge_within: 15m
    update_every: 30m
  - id: SEV2
    name: Minor
    acknowledge_within: next business day
    update_every: 1d
";
        let config = load(&[SourceFile::new("sev.yaml", text)]).expect("loads");
        let ids: Vec<&str> = config.severities.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["SEV0", "SEV1", "SEV2"]);
        assert_eq!(config.severity_rank("SEV2"), Some(2));
        // Sections not given come from the defaults.
        assert!(config.role("incident-commander").is_some());
        // The built-in playbook keyed to P0..P2 no longer fits and is left out with a warning.
        assert!(config.playbook("db-connection-pool-exhaustion").is_none());
        assert!(config.playbook("unauthorized-access").is_some());
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        assert!(
            config.warnings[0].contains("db-connection-pool-exhaustion.yaml"),
            "{:?}",
            config.warnings
        );
    }

    #[test]
    fn reports_every_problem_with_file_line_and_column() {
        let sev = "\
severities:
  - id: P0
    name: Critical
    acknowledge_within: 15 minutes
    update_every: 15m
  - id: P0
    name: Again
    acknowledge_within: 5m
    update_every: 5m
";
        let roles = "roles:\n  - id: ic\n    name: Commander\n    colour: red\n";
        let got = problems(&[
            SourceFile::new("a/sev.yaml", sev),
            SourceFile::new("a/roles.yaml", roles),
        ]);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(got[0].starts_with("a/roles.yaml:4:5: "), "{}", got[0]);
        assert!(got[0].contains("unknown field `colour`"), "{}", got[0]);
        assert!(got[1].starts_with("a/sev.yaml:4:5: "), "{}", got[1]);
        assert!(
            got[1].contains("invalid duration \"15 minutes\""),
            "{}",
            got[1]
        );
        assert_eq!(
            got[2],
            "a/sev.yaml:6:5: duplicate id \"P0\" in `severities`"
        );
    }

    #[test]
    fn semantic_problems_point_at_the_line() {
        let sev = "\
severities:
  - id: P0
    name: Critical
    acknowledge_within: 15m
    update_every: 15m
  - id: P0
    name: ''
    acknowledge_within: 5m
    update_every: 5m
";
        let got = problems(&[SourceFile::new("sev.yaml", sev)]);
        assert_eq!(
            got,
            [
                "sev.yaml:6:5: duplicate id \"P0\" in `severities`",
                "sev.yaml:7:5: name must not be empty"
            ]
        );
    }

    #[test]
    fn a_section_defined_twice_names_both_files() {
        let a = "roles:\n  - id: ic\n    name: IC\n";
        let b = "# more\nroles:\n  - id: scribe\n    name: Scribe\n";
        let got = problems(&[SourceFile::new("a.yaml", a), SourceFile::new("b.yaml", b)]);
        assert_eq!(
            got,
            ["b.yaml:2:1: section `roles` is already defined in a.yaml"]
        );
    }

    #[test]
    fn syntax_errors_and_unknown_sections_are_located() {
        let got = problems(&[SourceFile::new("x.yaml", "severities: [\n")]);
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("x.yaml:2:"), "{}", got[0]);
        let got = problems(&[SourceFile::new("y.yaml", "# c\nescalations: []\n")]);
        assert!(
            got[0].starts_with("y.yaml:2:1: unknown field `escalations`"),
            "{}",
            got[0]
        );
    }

    #[test]
    fn empty_files_define_nothing() {
        assert_eq!(
            problems(&[SourceFile::new("e.yaml", "# nothing yet\n")]),
            Vec::<String>::new()
        );
    }
}
