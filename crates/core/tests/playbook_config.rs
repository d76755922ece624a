//! Config errors for playbooks and triage questions: every mistake is reported at its own
//! `file:line:col` with a message that says what to fix, and several files merge.

use warroom_core::Config;
use warroom_core::config::{SourceFile, load};

/// Every problem `load` reports, as `file:line:col: message`.
fn problems(files: &[(&str, &str)]) -> Vec<String> {
    let files: Vec<SourceFile> = files.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect();
    match load(&files) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

fn loads(files: &[(&str, &str)]) -> Config {
    let files: Vec<SourceFile> = files.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect();
    load(&files).unwrap_or_else(|e| panic!("config refused:\n{e}"))
}

/// A valid playbook; each test breaks one thing in a copy.
const GOOD: &str = "\
playbooks:
  - id: credential-leak
    title: Credential leak
    triggers:
      types: [security-breach]
      severity: P0..P1
      labels:
        region: eu
    params:
      - name: ip_address
        description: Address the attacker used
    phases:
      - id: contain
        title: Contain
        time_box: 0-15m
        tasks:
          - id: block-ip
            text: Block the address
            owner: security-lead
            commands:
              - 'fw block {{ip_address}} --reason {{incident_id}} {{label.region}}'
          - id: rotate
            text: Rotate the credential
            owner: technical-lead
      - id: review
        title: Review
        time_box: within 48h of resolve
        tasks:
          - id: postmortem
            text: Write the postmortem
            owner: incident-commander
";

/// `GOOD` with one line replaced (the first line equal to `from`, trimmed).
fn broken(from: &str, to: &str) -> String {
    let mut hit = false;
    let out: Vec<String> = GOOD
        .lines()
        .map(|l| {
            if !hit && l.trim() == from {
                hit = true;
                let indent = &l[..l.len() - l.trim_start().len()];
                format!("{indent}{to}")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(hit, "no line {from:?} in GOOD");
    out.join("\n") + "\n"
}

#[test]
fn the_good_playbook_loads() {
    let config = loads(&[("pb.yaml", GOOD)]);
    let ids: Vec<&str> = config.playbooks.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["credential-leak"]);
    let pb = &config.playbooks[0];
    assert_eq!(pb.phases.len(), 2);
    assert_eq!(pb.phases[0].tasks[0].commands.len(), 1);
    assert_eq!(pb.triggers.severity.as_deref(), Some("P0..P1"));
}

/// Breaks `GOOD` at one line and returns the problems.
fn problems_of(from: &str, to: &str) -> Vec<String> {
    problems(&[("pb.yaml", &broken(from, to))])
}

#[test]
fn an_unknown_field_in_a_task_is_located_at_the_field() {
    assert_eq!(
        problems_of("owner: technical-lead", "owners: technical-lead"),
        [
            "pb.yaml:24:13: playbooks[0].phases[0].tasks[1]: unknown field `owners`, expected one of \
             `id`, `text`, `owner`, `commands`, `links`"
        ]
    );
}

#[test]
fn bad_time_boxes_are_located_at_the_time_box() {
    assert_eq!(
        problems_of("time_box: 0-15m", "time_box: 15m"),
        [
            "pb.yaml:15:9: time box \"15m\": expected START-END after declaration (0-15m, 1h-4h) or \
             \"within 48h of resolve\""
        ]
    );
    assert_eq!(
        problems_of("time_box: 0-15m", "time_box: 1h-15m"),
        ["pb.yaml:15:9: time box \"1h-15m\": the end must come after the start"]
    );
    assert_eq!(
        problems_of(
            "time_box: within 48h of resolve",
            "time_box: after the review"
        ),
        [
            "pb.yaml:27:9: time box \"after the review\": expected START-END after declaration \
             (0-15m, 1h-4h) or \"within 48h of resolve\""
        ]
    );
}

#[test]
fn an_unknown_owner_role_lists_the_known_ones() {
    assert_eq!(
        problems_of("owner: technical-lead", "owner: janitor"),
        [
            "pb.yaml:24:13: unknown role \"janitor\"; expected one of incident-commander, \
             deputy-commander, technical-lead, communications-lead, security-lead, operations-lead, \
             scribe"
        ]
    );
}

#[test]
fn owners_are_checked_against_the_roles_the_config_defines() {
    let roles = "roles:\n  - id: ic\n    name: Commander\n  - id: technical-lead\n    name: Tech\n";
    let got = problems(&[("roles.yaml", roles), ("pb.yaml", GOOD)]);
    assert_eq!(
        got,
        [
            "pb.yaml:19:13: unknown role \"security-lead\"; expected one of ic, technical-lead",
            "pb.yaml:31:13: unknown role \"incident-commander\"; expected one of ic, technical-lead",
        ]
    );
}

#[test]
fn an_unknown_placeholder_is_located_at_its_command() {
    let from = "- 'fw block {{ip_address}} --reason {{incident_id}} {{label.region}}'";
    assert_eq!(
        problems_of(from, "- 'fw block {{ip}} --reason {{incident_id}}'"),
        [
            "pb.yaml:21:15: unknown placeholder {{ip}}: declare it under `params`, or use one of \
             incident_id, title, severity, status, service, services, declared_at, label.KEY"
        ]
    );
    // `label.` needs a key.
    assert_eq!(
        problems_of(from, "- 'echo {{label.}}'"),
        [
            "pb.yaml:21:15: unknown placeholder {{label.}}: declare it under `params`, or use one \
             of incident_id, title, severity, status, service, services, declared_at, label.KEY"
        ]
    );
}

#[test]
fn a_duplicate_task_id_is_located_at_the_second_task() {
    assert_eq!(
        problems_of("- id: rotate", "- id: block-ip"),
        ["pb.yaml:22:13: task id \"block-ip\" must be a plain id, unique in the playbook"]
    );
    // Unique in the playbook, not just in the phase.
    assert_eq!(
        problems_of("- id: postmortem", "- id: rotate"),
        ["pb.yaml:29:13: task id \"rotate\" must be a plain id, unique in the playbook"]
    );
}

#[test]
fn a_playbook_id_used_in_two_files_names_the_first() {
    let other = "\
# the same id again
playbooks:
  - id: other
    title: Other
    phases:
      - id: all
        title: All
        time_box: 0-1h
  - id: credential-leak
    title: Another credential leak
    phases:
      - id: all
        title: All
        time_box: 0-1h
";
    assert_eq!(
        problems(&[("a/leak.yaml", GOOD), ("b/other.yaml", other)]),
        ["b/other.yaml:9:5: duplicate playbook id \"credential-leak\" (also in a/leak.yaml)"]
    );
}

#[test]
fn trigger_mistakes_are_located_at_the_trigger() {
    assert_eq!(
        problems_of(
            "types: [security-breach]",
            "types: [security-breach, meteor]"
        ),
        ["pb.yaml:5:7: unknown incident type \"meteor\""]
    );
    assert_eq!(
        problems_of("severity: P0..P1", "severity: P1..P0"),
        ["pb.yaml:6:7: severity range \"P1..P0\" must go from the most to the least severe"]
    );
    assert_eq!(
        problems_of("severity: P0..P1", "severity: P0..P7"),
        ["pb.yaml:6:7: unknown severity \"P7\" in \"P0..P7\"; expected one of P0, P1, P2, P3"]
    );
    assert_eq!(
        problems_of("types: [security-breach]", "services: [auth, mainframe]"),
        ["pb.yaml:5:7: unknown service \"mainframe\""]
    );
}

#[test]
fn bad_param_names_are_located_at_the_name() {
    // The command using the old name now names an undeclared param too.
    assert_eq!(
        problems_of("- name: ip_address", "- name: IP-Address"),
        [
            "pb.yaml:10:9: param name \"IP-Address\" must be unique, use lowercase letters, \
             digits and '_', and not shadow a built-in placeholder",
            "pb.yaml:21:15: unknown placeholder {{ip_address}}: declare it under `params`, or use \
             one of incident_id, title, severity, status, service, services, declared_at, label.KEY",
        ]
    );
    let twice = GOOD.replace(
        "        description: Address the attacker used\n",
        "      - name: ip_address\n",
    );
    assert_eq!(
        problems(&[("pb.yaml", &twice)]),
        [
            "pb.yaml:11:9: param name \"ip_address\" must be unique, use lowercase letters, digits and '_', and not shadow a built-in placeholder"
        ]
    );
}

#[test]
fn structural_mistakes_in_a_playbook() {
    let no_phases = "playbooks:\n  - id: empty\n    title: Empty\n    phases: []\n";
    assert_eq!(
        problems(&[("pb.yaml", no_phases)]),
        ["pb.yaml:4:5: a playbook needs at least one phase"]
    );
    assert_eq!(
        problems_of("- id: review", "- id: contain"),
        ["pb.yaml:25:9: phase id \"contain\" must be a unique plain id"]
    );
    assert_eq!(
        problems_of("- id: credential-leak", "- id: 'credential leak'"),
        [
            "pb.yaml:2:5: invalid id \"credential leak\": use 1-64 letters, digits, '-', '_' or \
             '.', starting with a letter or digit"
        ]
    );
    assert_eq!(
        problems_of("text: Block the address", "text: ' '"),
        ["pb.yaml:18:13: task text must not be empty"]
    );
}

#[test]
fn every_mistake_is_reported_in_one_run() {
    let text = broken("owner: technical-lead", "owner: janitor")
        .replace("time_box: 0-15m", "time_box: soon")
        .replace("severity: P0..P1", "severity: P9");
    let got = problems(&[("pb.yaml", &text)]);
    let lines: Vec<&str> = got
        .iter()
        .map(|p| p.split(": ").next().unwrap_or(""))
        .collect();
    assert_eq!(
        lines,
        ["pb.yaml:6:7", "pb.yaml:15:9", "pb.yaml:24:13"],
        "{got:#?}"
    );
}

#[test]
fn playbooks_from_several_files_merge_in_file_order() {
    let more = "\
playbooks:
  - id: db-pool
    title: Database pool exhausted
    triggers:
      services: [database]
    phases:
      - id: mitigate
        title: Mitigate
        time_box: 0-30m
        tasks:
          - id: raise-pool
            text: Raise the pool size
            owner: technical-lead
  - id: comms
    title: Customer communication
    phases:
      - id: tell
        title: Tell
        time_box: 0-1h
";
    let config = loads(&[("playbooks/leak.yaml", GOOD), ("playbooks/more.yaml", more)]);
    let ids: Vec<&str> = config.playbooks.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["credential-leak", "db-pool", "comms"]);
    assert!(
        config
            .playbook("comms")
            .is_some_and(|p| p.triggers.is_empty())
    );
    // Other sections still come from the defaults.
    assert!(config.role("incident-commander").is_some());
    // Files given in the other order merge in that order.
    let config = loads(&[("a.yaml", more), ("b.yaml", GOOD)]);
    let ids: Vec<&str> = config.playbooks.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["db-pool", "comms", "credential-leak"]);
}

#[test]
fn the_effective_config_with_playbooks_round_trips_through_yaml() {
    let config = loads(&[("pb.yaml", GOOD)]);
    let again = loads(&[("all.yaml", &config.to_yaml())]);
    assert_eq!(again, config);
}

// --- Triage ---------------------------------------------------------------------------------

const TRIAGE: &str = "\
triage_questions:
  - key: breach
    question: Is customer data exposed?
    if_yes: {severity: P0}
  - key: down
    question: Is the service down?
    if_yes:
      rank: 1
  - key: workaround
    question: Is there a workaround?
    if_yes: {adjust: 1}
";

#[test]
fn triage_questions_load_and_suggest() {
    let config = loads(&[("triage.yaml", TRIAGE)]);
    let keys: Vec<&str> = config
        .triage_questions
        .iter()
        .map(|q| q.key.as_str())
        .collect();
    assert_eq!(keys, ["breach", "down", "workaround"]);
    let answers = std::collections::BTreeMap::from([
        ("down".to_string(), true),
        ("workaround".to_string(), true),
    ]);
    let got = warroom_core::triage::suggest(&config, &answers).expect("valid answers");
    assert_eq!(got.severity, "P2");
    assert_eq!(got.unanswered, ["breach"]);
}

fn triage_problems(from: &str, to: &str) -> Vec<String> {
    assert!(TRIAGE.contains(from), "no {from:?} in TRIAGE");
    problems(&[("triage.yaml", &TRIAGE.replacen(from, to, 1))])
}

#[test]
fn an_answer_has_exactly_one_effect() {
    let one = "pb: if_yes needs exactly one of `severity: ID`, `rank: N` or `adjust: N` (N not 0)";
    let want = |at: &str| vec![one.replace("pb", &format!("triage.yaml:{at}"))];
    assert_eq!(
        triage_problems("{severity: P0}", "{severity: P0, adjust: -1}"),
        want("4:5")
    );
    assert_eq!(triage_problems("{adjust: 1}", "{adjust: 0}"), want("11:5"));
    assert_eq!(triage_problems("{adjust: 1}", "{}"), want("11:5"));
    assert_eq!(
        triage_problems("      rank: 1\n", "      rank: 1\n      severity: P1\n"),
        want("7:5")
    );
}

#[test]
fn an_answer_names_a_configured_severity() {
    assert_eq!(
        triage_problems("{severity: P0}", "{severity: SEV0}"),
        ["triage.yaml:4:5: unknown severity \"SEV0\""]
    );
}

#[test]
fn question_keys_are_unique() {
    assert_eq!(
        triage_problems("key: workaround", "key: breach"),
        ["triage.yaml:9:5: question key \"breach\" must be a unique plain id"]
    );
    assert_eq!(
        triage_problems("key: down", "key: 'is it down'"),
        ["triage.yaml:5:5: question key \"is it down\" must be a unique plain id"]
    );
}

#[test]
fn triage_questions_are_one_section() {
    assert_eq!(
        problems(&[("a.yaml", TRIAGE), ("b.yaml", TRIAGE)]),
        ["b.yaml:1:1: section `triage_questions` is already defined in a.yaml"]
    );
}

#[test]
fn params_may_not_shadow_built_in_placeholders() {
    let got = problems_of("- name: ip_address", "- name: incident_id");
    assert!(
        got.iter()
            .any(|p| p.starts_with("pb.yaml:10:9: param name \"incident_id\"")),
        "{got:?}"
    );
}

#[test]
fn an_empty_playbook_list_turns_the_built_in_library_off() {
    let config = load(&[SourceFile::new("none.yaml", "playbooks: []\n")]).expect("loads");
    assert!(config.playbooks.is_empty());
    let config = load(&[SourceFile::new(
        "other.yaml",
        "roles:\n  - id: ic\n    name: IC\n",
    )]);
    // Without a `playbooks` key the built-in library applies (here: left out, since it needs
    // the built-in roles, with a warning per playbook file).
    let config = config.expect("loads");
    assert!(config.playbooks.is_empty());
    assert!(!config.warnings.is_empty());
}
