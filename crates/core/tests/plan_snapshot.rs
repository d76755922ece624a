//! The printable response plan rendered from the built-in config, and from a custom scheme.

use warroom_core::Config;
use warroom_core::config::{SourceFile, load};
use warroom_core::plan::render;

#[test]
fn builtin_plan() {
    let plan = render(&Config::builtin());
    // Every section a responder looks for when systems are down.
    for heading in [
        "## Severity levels",
        "## Roles and responsibilities",
        "## Incident types",
        "## Services",
        "## Triage: choosing a severity",
        "## Playbooks",
        "### Personal data breach",
    ] {
        assert!(plan.contains(heading), "missing {heading}");
    }
    assert!(plan.contains("| P0 | Critical | 15m | 15m | 1h | yes |"));
    insta::assert_snapshot!(plan);
}

#[test]
fn plan_follows_a_custom_scheme() {
    let sev = "severities:\n  - id: SEV0\n    name: Emergency\n    acknowledge_within: 5m\n    update_every: 10m\n    pages: true\n  - id: SEV1\n    name: Minor\n    acknowledge_within: 1d\n    update_every: 1d\n";
    let config = load(&[SourceFile::new("sev.yaml", sev)]).expect("loads");
    let plan = render(&config);
    assert!(
        plan.contains("| SEV0 | Emergency | 5m | 10m | — | yes |"),
        "{plan}"
    );
    // The built-in triage questions adapt to the scheme by rank.
    assert!(plan.contains("at least SEV0"), "{plan}");
    assert!(!plan.contains("| P0 |"));
}
