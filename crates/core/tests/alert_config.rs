//! Routing rules and the alert policy in config files: loading, evaluation of the loaded rules,
//! located errors, and the built-in rules under a team's own config.

use jiff::Timestamp;
use warroom_core::Config;
use warroom_core::alert::policy::AllResolved;
use warroom_core::alert::routing::{Disposition, RoutingRules, ThresholdState};
use warroom_core::alert::{Action, AlertEvent, AlertSeverity, SourceKind};
use warroom_core::config::{SourceFile, load};

fn files(files: &[(&str, &str)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(name, text)| SourceFile::new(*name, *text))
        .collect()
}

fn problems(list: &[(&str, &str)]) -> Vec<String> {
    match load(&files(list)) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

fn loads(list: &[(&str, &str)]) -> Config {
    load(&files(list)).unwrap_or_else(|e| panic!("config should load:\n{e}"))
}

/// Wednesday 25 November 2026, 10:00 in Paris.
fn now() -> Timestamp {
    "2026-11-25T09:00:00Z".parse().expect("time")
}

fn alert(severity: AlertSeverity, labels: &[(&str, &str)]) -> AlertEvent {
    let mut e = AlertEvent::new(SourceKind::Alertmanager, Action::Trigger, "something broke");
    e.severity = Some(severity);
    e.labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    e
}

const SERVICES: &str = "\
services:
  - id: checkout
    name: Checkout
  - id: identity
    name: Identity
";

const RULES: &str = r#"
routing_rules:
  - name: staging
    match:
      labels:
        env: staging
    action: drop
  - name: checkout
    match:
      labels_regex:
        alertname: 'Checkout.*'
    service: checkout
    incident_severity:
      critical: P0
      error: P2
    playbook: application-downtime
    continue: true
  - name: office-hours-warnings
    match:
      severity: warning
      time: {zone: Europe/Paris, days: [weekdays], from: "08:00", to: "19:00"}
    action: suppress
  - name: login-burst
    match:
      summary: '(?i)failed login'
    threshold: {count: 3, window: 1m, group_by: [source_ip]}
    service: identity
alerts:
  severity_map:
    critical: P0
  on_all_resolved: none
  open_incidents: false
"#;

#[test]
fn a_valid_config_loads_and_its_rules_route() {
    let config = loads(&[("services.yaml", SERVICES), ("alerts.yaml", RULES)]);
    // (Built-in playbooks for services this config lacks are left out; no rule is.)
    assert!(
        !config.warnings.iter().any(|w| w.contains("routing rule")),
        "{:?}",
        config.warnings
    );
    let rules = &config.routing_rules;
    assert_eq!(rules.len(), 4);
    assert_eq!(rules.raw()[1].service.as_deref(), Some("checkout"));

    let d = rules.evaluate(
        &alert(AlertSeverity::Critical, &[("env", "staging")]),
        now(),
    );
    assert_eq!((d.disposition, d.matched), (Disposition::Drop, vec![0]));

    // `continue` on to the suppress rule: the earlier rule's settings stay.
    let e = alert(AlertSeverity::Warning, &[("alertname", "CheckoutLatency")]);
    let d = warroom_core::alert::routing::evaluate(rules.rules(), &e, now());
    assert_eq!(d.matched, vec![1, 2]);
    assert_eq!(d.disposition, Disposition::Suppress);
    assert_eq!(d.service.as_deref(), Some("checkout"));
    assert_eq!(
        d.incident_severity, None,
        "warning is not in the rule's map"
    );
    assert_eq!(d.playbooks, vec!["application-downtime"]);

    let e = alert(AlertSeverity::Critical, &[("alertname", "CheckoutDown")]);
    let d = rules.evaluate(&e, now());
    assert_eq!(d.disposition, Disposition::Open);
    assert_eq!(d.incident_severity.as_deref(), Some("P0"));

    let mut e = alert(AlertSeverity::Error, &[("source_ip", "203.0.113.7")]);
    e.summary = "Failed login for admin".into();
    let d = rules.evaluate(&e, now());
    assert_eq!(d.service.as_deref(), Some("identity"));
    let check = d.threshold.expect("threshold");
    let mut state = ThresholdState::new();
    let crossed: Vec<bool> = (0..3)
        .map(|s| state.record(now() + jiff::SignedDuration::from_secs(s), &check.threshold))
        .collect();
    assert_eq!(crossed, [false, false, true]);

    // The policy: the map entry given, the built-in choices for the rest.
    let policy = &config.alerts;
    let map: Vec<&str> = AlertSeverity::ALL
        .iter()
        .map(|s| policy.incident_severity(*s))
        .collect();
    assert_eq!(map, ["P0", "P2", "P3", "P3"]);
    assert_eq!(policy.on_all_resolved, AllResolved::Nothing);
    assert!(!policy.open_incidents);

    // The effective config writes out and loads back the same, and serde keeps the rules.
    let again = loads(&[("all.yaml", &config.to_yaml())]);
    assert_eq!(again, config);
    let json = serde_json::to_string(&config).expect("json");
    let back: Config = serde_json::from_str(&json).expect("json");
    assert_eq!(back.routing_rules, config.routing_rules);
    assert_eq!(back.routing_rules.rules().len(), 4);
}

#[test]
fn rules_that_do_not_compile_fail_deserialisation() {
    let ok: RoutingRules = serde_json::from_str(r#"[{"name": "a"}]"#).expect("compiles");
    assert_eq!(ok.rules().len(), 1);
    let err = serde_json::from_str::<RoutingRules>(r#"[{"name": "a"}, {"action": "mute"}]"#)
        .expect_err("bad action");
    assert!(
        err.to_string().starts_with("routing_rules[1].action: "),
        "{err}"
    );
}

#[test]
fn every_rule_problem_is_reported_at_its_position() {
    let rules = r#"routing_rules:
  - name: bad-regex
    match:
      summary: '(unclosed'
  - name: bad-severity-in-list
    match:
      severity:
        - critical
        - high
  - name: bad-window
    match: {labels: {alertname: X}}
    threshold:
      count: 5
      window: 5 minutes
  - name: unknown-things
    service: billing
    incident_severity: SEV1
    playbook: no-such-playbook
  - name: unknown-mapped
    incident_severity:
      critical: P0
      error: SEV2
  - name: bad-regex
    action: suppress
"#;
    let alerts = "\
alerts:
  severity_map:
    critical: P1
    page: P0
    error: SEV9
  on_all_resolved: sometimes
";
    let got = problems(&[
        ("services.yaml", SERVICES),
        ("rules.yaml", rules),
        ("policy.yaml", alerts),
    ]);
    let want = [
        "policy.yaml:4:5: unknown alert severity \"page\"; expected one of critical, error, warning, info",
        "policy.yaml:5:5: unknown severity \"SEV9\"; expected one of P0, P1, P2, P3",
        "policy.yaml:6:3: unknown value \"sometimes\" for `on_all_resolved`; expected recovering or none",
        "rules.yaml:4:7: invalid regex \"(unclosed\": unclosed group",
        "rules.yaml:9:9: \"high\" is not one of critical, error, warning, info",
        "rules.yaml:14:7: invalid duration \"5 minutes\"",
        "rules.yaml:16:5: unknown service \"billing\"; expected one of checkout, identity",
        "rules.yaml:17:5: unknown severity \"SEV1\"; expected one of P0, P1, P2, P3",
        "rules.yaml:18:5: unknown playbook \"no-such-playbook\"; expected one of application-downtime,",
        "rules.yaml:22:7: unknown severity \"SEV2\"; expected one of P0, P1, P2, P3",
        "rules.yaml:23:5: duplicate rule name \"bad-regex\": names must be unique, they key threshold counters",
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(want) {
        assert!(g.starts_with(w), "got {g:?}\nwant {w:?}…");
    }
}

#[test]
fn syntax_level_problems_are_located_too() {
    // Unknown fields and wrong types are refused while parsing, at their line.
    let got = problems(&[(
        "rules.yaml",
        "routing_rules:\n  - name: a\n    match:\n      sumary: x\n",
    )]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("rules.yaml:4:7: ") && got[0].contains("unknown field `sumary`"),
        "{got:?}"
    );
    let got = problems(&[(
        "alerts.yaml",
        "alerts:\n  on_all_resolved: none\n  open_incidents: maybe\n",
    )]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("alerts.yaml:3:"), "{got:?}");
    let got = problems(&[("a.yaml", "alerts:\n  colour: red\n")]);
    assert!(
        got[0].starts_with("a.yaml:2:3: ") && got[0].contains("unknown field `colour`"),
        "{got:?}"
    );
    // Each section once.
    let got = problems(&[
        ("a.yaml", "routing_rules: []\n"),
        ("b.yaml", "# again\nrouting_rules: []\nalerts: {}\n"),
        ("c.yaml", "alerts: {open_incidents: true}\n"),
    ]);
    assert_eq!(
        got,
        [
            "b.yaml:2:1: section `routing_rules` is already defined in a.yaml",
            "c.yaml:1:1: section `alerts` is already defined in b.yaml",
        ]
    );
}

#[test]
fn an_empty_rule_list_turns_the_built_in_rules_off() {
    let config = loads(&[("r.yaml", "routing_rules: []\n")]);
    assert!(config.routing_rules.is_empty());
    let d = config
        .routing_rules
        .evaluate(&alert(AlertSeverity::Info, &[]), now());
    assert_eq!(d.disposition, Disposition::Open);
}

#[test]
fn the_built_in_rules_route_a_newcomers_alerts() {
    let config = Config::builtin();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let rules = &config.routing_rules;
    // Ordinary alerts open incidents, unrouted.
    for severity in [
        AlertSeverity::Critical,
        AlertSeverity::Error,
        AlertSeverity::Warning,
    ] {
        let d = rules.evaluate(&alert(severity, &[("alertname", "HighLatency")]), now());
        assert_eq!(d.disposition, Disposition::Open, "{severity}");
        assert_eq!(d.threshold, None);
    }
    // Info is recorded only; nothing is dropped.
    let d = rules.evaluate(&alert(AlertSeverity::Info, &[]), now());
    assert_eq!(d.disposition, Disposition::Suppress);
    // The payments team's alerts land on payments, and still follow the later rules.
    let d = rules.evaluate(
        &alert(AlertSeverity::Critical, &[("team", "payments")]),
        now(),
    );
    assert_eq!(d.service.as_deref(), Some("payments"));
    assert_eq!(d.disposition, Disposition::Open);
    let d = rules.evaluate(&alert(AlertSeverity::Info, &[("team", "payments")]), now());
    assert_eq!(
        (d.service.as_deref(), d.disposition),
        (Some("payments"), Disposition::Suppress)
    );
    // Failed logins: counted per source address, more than 10 a minute opens.
    let e = alert(
        AlertSeverity::Warning,
        &[("alertname", "FailedLogin"), ("source_ip", "198.51.100.23")],
    );
    let d = rules.evaluate(&e, now());
    assert_eq!(d.service.as_deref(), Some("auth"));
    assert_eq!(d.playbooks, vec!["unauthorized-access"]);
    let check = d.threshold.expect("threshold");
    assert!(check.key.contains("198.51.100.23"), "{}", check.key);
    let mut state = ThresholdState::new();
    let opened: Vec<bool> = (0..11)
        .map(|s| {
            state.record(
                now() + jiff::SignedDuration::from_secs(s * 5),
                &check.threshold,
            )
        })
        .collect();
    assert_eq!(opened.iter().filter(|o| **o).count(), 1);
    assert!(opened[10]);
    // The built-in policy.
    assert_eq!(
        config.alerts.incident_severity(AlertSeverity::Critical),
        "P1"
    );
    assert_eq!(config.alerts.on_all_resolved, AllResolved::Recovering);
    assert!(config.alerts.open_incidents);
}

#[test]
fn built_in_rules_that_do_not_fit_a_custom_config_are_left_out_with_a_warning() {
    let severities = "\
severities:
  - id: SEV0
    name: Emergency
    acknowledge_within: 5m
    update_every: 10m
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
    let config = loads(&[("services.yaml", SERVICES), ("sev.yaml", severities)]);
    let names: Vec<&str> = config
        .routing_rules
        .raw()
        .iter()
        .filter_map(|r| r.name.as_deref())
        .collect();
    // The rate limit and the info rule name nothing and stay.
    assert_eq!(names, ["failed-login-burst", "record-info"]);
    let rule_warnings: Vec<&String> = config
        .warnings
        .iter()
        .filter(|w| w.contains("built-in routing rule left out"))
        .collect();
    assert_eq!(rule_warnings.len(), 2, "{:?}", config.warnings);
    assert!(
        rule_warnings[0].starts_with("<built-in>/alerts.yaml:")
            && rule_warnings[0].contains("unknown service \"payments\""),
        "{rule_warnings:?}"
    );
    assert!(
        rule_warnings[1].contains("unknown service \"auth\""),
        "{rule_warnings:?}"
    );
    // The built-in severity map is fitted to the scheme.
    let map: Vec<&str> = AlertSeverity::ALL
        .iter()
        .map(|s| config.alerts.incident_severity(*s))
        .collect();
    assert_eq!(map, ["SEV0", "SEV1", "SEV2", "SEV2"]);

    // Without the built-in playbook library, the rule attaching one is left out.
    let config = loads(&[("none.yaml", "playbooks: []\n")]);
    assert!(
        config
            .warnings
            .iter()
            .any(|w| w.contains("unknown playbook \"unauthorized-access\"")),
        "{:?}",
        config.warnings
    );
    assert_eq!(config.routing_rules.len(), 3);

    // A team's own `alerts` section naming unknown ids is an error, not fitted.
    let got = problems(&[
        ("sev.yaml", severities),
        (
            "alerts.yaml",
            "alerts:\n  severity_map:\n    critical: P1\n",
        ),
    ]);
    assert_eq!(
        got,
        ["alerts.yaml:3:5: unknown severity \"P1\"; expected one of SEV0, SEV1, SEV2"]
    );
    // Left-out entries follow the scheme.
    let config = loads(&[
        ("sev.yaml", severities),
        ("alerts.yaml", "alerts:\n  severity_map:\n    info: SEV1\n"),
    ]);
    let map: Vec<&str> = AlertSeverity::ALL
        .iter()
        .map(|s| config.alerts.incident_severity(*s))
        .collect();
    assert_eq!(map, ["SEV0", "SEV1", "SEV2", "SEV1"]);
}
