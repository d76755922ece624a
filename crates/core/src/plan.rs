//! The printable response plan: the whole configuration rendered as one Markdown document a
//! team can print, keep offline and hand to an auditor. It is most needed when systems are
//! down, so it reads on its own: no links into Warroom, every command written out.

use std::fmt::Write as _;

use crate::alert::AlertSeverity;
use crate::alert::policy::AllResolved;
use crate::alert::routing::{OneOrMany, RawMatch, RawRule, RawSeverityMap};
use crate::config::Config;
use crate::playbook::{Playbook, TimeBox};

fn cell(text: &str) -> String {
    text.trim().replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Renders the plan. Deterministic: the same config always gives the same bytes.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    out.push_str("# Incident response plan\n\n");
    out.push_str(
        "This plan is generated from the team's Warroom configuration. Keep a printed or offline \
         copy: it is written to be usable when Warroom and everything else is down.\n\n",
    );
    out.push_str("## Contents\n\n");
    let mut sections = vec![
        "Severity levels",
        "Roles and responsibilities",
        "Incident types",
    ];
    if !config.services.is_empty() {
        sections.push("Services");
    }
    if !config.people.is_empty() || !config.schedules.is_empty() {
        sections.push("On call: people, teams and schedules");
    }
    if !config.triage_questions.is_empty() {
        sections.push("Triage: choosing a severity");
    }
    sections.push("Alerts: routing rules");
    sections.push("Communications: messages and notification deadlines");
    sections.push("Playbooks");
    for (i, s) in sections.iter().enumerate() {
        let _ = writeln!(out, "{}. {s}", i + 1);
    }

    out.push_str("\n## Severity levels\n\n");
    out.push_str("| Level | Name | Acknowledge within | Update every | RTO | Pages on-call |\n|---|---|---|---|---|---|\n");
    for s in &config.severities {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&s.id),
            cell(&s.name),
            s.acknowledge_within,
            s.update_every,
            s.rto.map_or_else(|| "—".to_string(), |d| d.to_string()),
            if s.pages { "yes" } else { "no" }
        );
    }
    let bh = &config.business_hours;
    let days: Vec<&str> = bh.days.iter().map(|d| d.as_str()).collect();
    let _ = writeln!(
        out,
        "\n\"Next business day\" means {} on the next working day ({}, {} to {}, {}{}). An \
         internal status update resets the update clock; when it runs out the communications lead \
         (or the commander) is reminded, and again every interval until one is posted. The \
         post-incident review is due 48 hours after resolution.",
        bh.start,
        days.join(", "),
        bh.start,
        bh.end,
        bh.time_zone,
        if bh.holidays.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = bh.holidays.iter().map(|d| d.to_string()).collect();
            format!("; holidays {}", list.join(", "))
        }
    );
    for s in &config.severities {
        let _ = writeln!(out, "\n**{} — {}.** {}", s.id, s.name, s.description.trim());
        for e in &s.examples {
            let _ = writeln!(out, "- {}", e.trim());
        }
    }

    out.push_str(
        "\n## Roles and responsibilities\n\n| Role | Id | Responsibilities |\n|---|---|---|\n",
    );
    for r in &config.roles {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} |",
            cell(&r.name),
            r.id,
            cell(&r.description)
        );
    }

    out.push_str("\n## Incident types\n\n| Type | Id | When |\n|---|---|---|\n");
    for t in &config.incident_types {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} |",
            cell(&t.name),
            t.id,
            cell(&t.description)
        );
    }

    if !config.services.is_empty() {
        out.push_str(
            "\n## Services\n\n| Service | Id | Owner | What it does |\n|---|---|---|---|\n",
        );
        for s in &config.services {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                cell(&s.name),
                s.id,
                cell(s.owner.as_deref().unwrap_or("—")),
                cell(&s.description)
            );
        }
    }

    on_call(&mut out, config);

    if !config.triage_questions.is_empty() {
        out.push_str("\n## Triage: choosing a severity\n\n");
        out.push_str(
            "Answer each question. Take the most severe level any \"yes\" points to (the least \
             severe level if none does), then apply the adjustments.\n\n",
        );
        out.push_str("| Question | If yes |\n|---|---|\n");
        for q in &config.triage_questions {
            let effect = match (&q.if_yes.severity, q.if_yes.rank, q.if_yes.adjust) {
                (Some(id), _, _) => format!("at least {id}"),
                (None, Some(r), _) => {
                    let id = config
                        .severities
                        .get(r.min(config.severities.len().saturating_sub(1)))
                        .map_or("—", |s| s.id.as_str());
                    format!("at least {id}")
                }
                (None, None, Some(n)) => {
                    let levels = n.unsigned_abs();
                    let plural = if levels == 1 { "" } else { "s" };
                    let direction = if n > 0 { "less" } else { "more" };
                    format!("{levels} level{plural} {direction} severe")
                }
                _ => "—".to_string(),
            };
            let mut question = cell(&q.question);
            if !q.help.trim().is_empty() {
                let _ = write!(question, " <br>*{}*", cell(&q.help));
            }
            let _ = writeln!(out, "| {question} | {effect} |");
        }
    }

    alerts(&mut out, config);
    communications(&mut out, config);

    out.push_str("\n## Playbooks\n\n| Playbook | Id | Attaches when |\n|---|---|---|\n");
    for pb in &config.playbooks {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} |",
            cell(&pb.title),
            pb.id,
            cell(&describe_triggers(pb))
        );
    }
    for pb in &config.playbooks {
        playbook(&mut out, pb);
    }
    out
}

/// People with every way to reach them (the plan is for when the tools are down), teams, and
/// how each schedule rotates.
fn on_call(out: &mut String, config: &Config) {
    if config.people.is_empty() && config.schedules.is_empty() {
        return;
    }
    out.push_str("\n## On call: people, teams and schedules\n\n");
    if !config.people.is_empty() {
        out.push_str("| Person | Id | Time zone | How to reach |\n|---|---|---|---|\n");
        for p in &config.people {
            let reach: Vec<String> = p
                .contact_methods
                .iter()
                .map(|c| format!("{}: {}", c.kind, c.address))
                .collect();
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                cell(&p.name),
                p.id,
                p.time_zone,
                cell(&reach.join("; "))
            );
        }
    }
    if !config.teams.is_empty() {
        out.push_str("\n| Team | Id | Members |\n|---|---|---|\n");
        for t in &config.teams {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} |",
                cell(&t.name),
                t.id,
                t.members.join(", ")
            );
        }
    }
    for p in &config.escalation_policies {
        let _ = writeln!(
            out,
            "\n**Escalation: {} (`{}`)**{}. Each step pages its targets and waits for an acknowledgement before the next.\n",
            p.name.trim(),
            p.id,
            if p.repeat > 0 {
                format!(", run {} times in all", p.repeat + 1)
            } else {
                String::new()
            }
        );
        for (i, step) in p.steps.iter().enumerate() {
            let targets: Vec<String> = step
                .targets
                .iter()
                .map(|t| match (&t.person, &t.schedule, &t.team, &t.role) {
                    (Some(x), _, _, _) => format!("person {x}"),
                    (_, Some(x), _, _) => format!("on call on {x}"),
                    (_, _, Some(x), _) => format!("team {x}"),
                    (_, _, _, Some(x)) => format!("the {x}"),
                    _ => "—".to_string(),
                })
                .collect();
            let _ = writeln!(
                out,
                "{}. Page {}; escalate after {}.",
                i + 1,
                targets.join(", "),
                step.escalate_after
            );
        }
    }
    for s in &config.schedules {
        let _ = writeln!(
            out,
            "\n**Schedule {} (`{}`)**, times in {}. Later layers take precedence.\n",
            s.name.trim(),
            s.id,
            s.time_zone
        );
        for l in &s.layers {
            let r = &l.rotation;
            let length = r.length.map(|d| format!(" of {d}")).unwrap_or_default();
            let mut line = format!(
                "- Layer `{}`: {} rotation{length}, handoff {} from {}, in order {}",
                l.id,
                r.kind,
                r.handoff,
                r.start,
                r.members.join(" → ")
            );
            if !l.restrictions.is_empty() {
                let windows: Vec<String> = l
                    .restrictions
                    .iter()
                    .map(|w| {
                        let days: Vec<String> = w.days.iter().map(ToString::to_string).collect();
                        format!("{} {}–{}", days.join(","), w.from, w.to)
                    })
                    .collect();
                let _ = write!(line, "; only {}", windows.join("; "));
            }
            let _ = writeln!(out, "{line}.");
        }
    }
}

/// The routing rules in order, then the policy that applies where they say nothing.
/// Which messages exist for whom, where they go, and the legal clocks with what starts them:
/// the part of the plan a communications lead and counsel read first.
fn communications(out: &mut String, config: &Config) {
    out.push_str("\n## Communications: messages and notification deadlines\n\n");
    out.push_str(
        "Every message is drafted from the incident with `warroom comms render ID TEMPLATE` and \
         sent with `warroom comms send ID TEMPLATE --to CHANNEL`; internal updates are due on \
         the severity's cadence above.\n\n",
    );
    if !config.message_templates.is_empty() {
        out.push_str("| Template | Id | Audience | Use it |\n|---|---|---|---|\n");
        for t in &config.message_templates {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                cell(&t.name),
                t.id,
                t.audience,
                cell(&t.description)
            );
        }
    }
    if !config.comms.channels.is_empty() {
        out.push_str("\n| Channel | Id | Kind | Goes to | Audiences |\n|---|---|---|---|---|\n");
        for c in &config.comms.channels {
            // Slack and webhook URLs are credentials: the plan shows where, never the secret.
            let destination = c.channel().map(|ch| ch.destination()).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                cell(&c.name),
                c.id,
                c.kind,
                cell(&destination),
                c.audiences.join(", ")
            );
        }
    }
    if config.comms.deadlines.is_empty() {
        out.push_str("\nNo notification deadlines are configured.\n");
        return;
    }
    out.push_str(
        "\nNotification deadlines apply when an incident's type and labels match; record the \
         moment you became aware, discovered or determined materiality with `warroom moment`, \
         and see the clocks with `warroom deadlines ID`.\n\n\
         | Deadline | Applies when | Clock starts | Due | Notify | Reference |\n|---|---|---|---|---|---|\n",
    );
    for d in &config.comms.deadlines {
        let mut when: Vec<String> = Vec::new();
        if !d.when.types.is_empty() {
            when.push(format!("type {}", d.when.types.join(" or ")));
        }
        for (k, v) in &d.when.labels {
            when.push(format!("{k}={}", v.join("|")));
        }
        let due = d
            .within
            .map_or_else(|| d.guidance.clone(), |w| format!("within {w}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&d.name),
            cell(&when.join(", ")),
            d.starts_at,
            cell(&due),
            d.audience,
            cell(&d.reference)
        );
    }
}

fn alerts(out: &mut String, config: &Config) {
    let policy = &config.alerts;
    out.push_str("\n## Alerts: routing rules\n\n");
    out.push_str(
        "Alerts from monitoring (PagerDuty Events API, Alertmanager, Grafana, generic events) are \
         tried against these rules in order. The first matching rule decides, unless it says \
         \"then continue\": later matching rules then apply too, without undoing what an earlier \
         one set. An alert no rule matches opens or joins an incident on its integration's \
         service. Every alert is recorded, unless a rule drops it.\n\n",
    );
    if config.routing_rules.is_empty() {
        out.push_str("No routing rules are configured.\n");
    } else {
        out.push_str("| # | Rule | Matches | Does |\n|---|---|---|---|\n");
        for (i, r) in config.routing_rules.raw().iter().enumerate() {
            let name = r
                .name
                .as_deref()
                .map_or_else(|| "—".to_string(), |n| format!("`{}`", cell(n)));
            let _ = writeln!(
                out,
                "| {} | {name} | {} | {} |",
                i + 1,
                cell(&describe_match(&r.matcher)),
                cell(&describe_rule_actions(r))
            );
        }
    }
    let map: Vec<String> = AlertSeverity::ALL
        .iter()
        .map(|s| format!("{s} → {}", policy.incident_severity(*s)))
        .collect();
    let _ = writeln!(
        out,
        "\nWhere no rule sets the incident severity, an alert's severity decides it: {}.",
        map.join(", ")
    );
    let resolved = match policy.on_all_resolved {
        AllResolved::Recovering => {
            "it is recorded on the timeline and an open incident moves to recovering; someone \
             still confirms and resolves it"
        }
        AllResolved::Nothing => "it is recorded on the timeline; the incident stays as it is",
    };
    let _ = writeln!(
        out,
        "\nWhen every alert attached to an incident has resolved, {resolved}."
    );
    if !policy.open_incidents {
        out.push_str(
            "\nAlerts never open incidents on their own: they are only recorded, and incidents are \
             declared by people.\n",
        );
    }
}

fn items(list: &OneOrMany) -> String {
    match list {
        OneOrMany::One(x) => x.clone(),
        OneOrMany::Many(xs) => xs.join(" or "),
    }
}

fn describe_match(m: &RawMatch) -> String {
    let mut parts = Vec::new();
    if let Some(keys) = &m.routing_key {
        parts.push(format!("routing key {}", items(keys)));
    }
    if let Some(kinds) = &m.source_kind {
        parts.push(format!("from {}", items(kinds)));
    }
    if let Some(sev) = &m.severity {
        parts.push(format!("severity {}", items(sev)));
    }
    if let Some(re) = &m.source {
        parts.push(format!("source matches `{re}`"));
    }
    for (k, v) in &m.labels {
        parts.push(format!("label {k}={v}"));
    }
    for (k, re) in &m.labels_regex {
        parts.push(format!("label {k} matches `{re}`"));
    }
    if let Some(re) = &m.summary {
        parts.push(format!("summary matches `{re}`"));
    }
    if let Some(t) = &m.time {
        let mut when = Vec::new();
        if !t.days.is_empty() {
            when.push(t.days.join(", "));
        }
        if let (Some(from), Some(to)) = (&t.from, &t.to) {
            when.push(format!("{from}–{to}"));
        }
        if when.is_empty() {
            when.push("any time".into());
        }
        parts.push(format!(
            "{} ({})",
            when.join(" "),
            t.zone.as_deref().unwrap_or("UTC")
        ));
    }
    if parts.is_empty() {
        "every alert".into()
    } else {
        parts.join("; ")
    }
}

fn describe_rule_actions(r: &RawRule) -> String {
    let mut parts = Vec::new();
    match r.action.as_deref() {
        Some("suppress") => parts.push("record only, open no incident".to_string()),
        Some("drop") => parts.push("drop (not even recorded)".to_string()),
        _ => {}
    }
    if let Some(t) = &r.threshold {
        let per = if t.group_by.is_empty() {
            String::new()
        } else {
            format!(" per {}", t.group_by.join(", "))
        };
        parts.push(format!(
            "open only once {} matching alerts arrive within {}{per}, below that record only",
            t.count, t.window
        ));
    }
    if let Some(s) = &r.service {
        parts.push(format!("service {s}"));
    }
    match &r.incident_severity {
        None => {}
        Some(RawSeverityMap::Fixed(id)) => parts.push(format!("severity {id}")),
        Some(RawSeverityMap::ByAlertSeverity(map)) => {
            let mut pairs: Vec<(Option<AlertSeverity>, &String, &String)> = map
                .iter()
                .map(|(k, v)| (AlertSeverity::parse(k), k, v))
                .collect();
            pairs.sort_by_key(|(level, _, _)| *level);
            let text: Vec<String> = pairs.iter().map(|(_, k, v)| format!("{k} → {v}")).collect();
            parts.push(format!("severity {}", text.join(", ")));
        }
    }
    if let Some(p) = &r.playbook {
        parts.push(format!("playbook {p}"));
    }
    if r.continue_matching {
        parts.push("then continue".into());
    }
    if parts.is_empty() {
        "open or join an incident as usual".into()
    } else {
        parts.join("; ")
    }
}

fn describe_triggers(pb: &Playbook) -> String {
    let t = &pb.triggers;
    if t.is_empty() {
        return "attached by hand".into();
    }
    let mut parts = Vec::new();
    if !t.types.is_empty() {
        parts.push(format!("type {}", t.types.join(" or ")));
    }
    if !t.services.is_empty() {
        parts.push(format!("service {}", t.services.join(" or ")));
    }
    if let Some(s) = &t.severity {
        parts.push(format!("severity {s}"));
    }
    for (k, v) in &t.labels {
        parts.push(format!("label {k}={v}"));
    }
    parts.join("; ")
}

fn playbook(out: &mut String, pb: &Playbook) {
    let _ = writeln!(out, "\n### {} (`{}`)\n", pb.title.trim(), pb.id);
    if !pb.description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", pb.description.trim());
    }
    let _ = writeln!(out, "*Attaches when:* {}.", describe_triggers(pb));
    if !pb.params.is_empty() {
        out.push_str("\n*Values to gather for the commands:*\n\n");
        for p in &pb.params {
            let _ = writeln!(out, "- `{{{{{}}}}}` — {}", p.name, p.description.trim());
        }
    }
    if !pb.templates.is_empty() {
        let _ = writeln!(out, "\n*Messages:* {}.", pb.templates.join(", "));
    }
    let mut n = 0;
    for phase in &pb.phases {
        let when = match TimeBox::parse(&phase.time_box) {
            Ok(TimeBox::SinceDeclared { .. }) => format!("{} after declaration", phase.time_box),
            _ => phase.time_box.clone(),
        };
        let _ = writeln!(out, "\n#### {} ({when})\n", phase.title.trim());
        for task in &phase.tasks {
            n += 1;
            let _ = writeln!(out, "{n}. [ ] {} — *{}*", task.text.trim(), task.owner);
            if !task.commands.is_empty() {
                out.push_str("\n   ```sh\n");
                for c in &task.commands {
                    let _ = writeln!(out, "   {}", c.trim());
                }
                out.push_str("   ```\n\n");
            }
            for l in &task.links {
                let _ = writeln!(out, "   - <{}>", l.trim());
            }
        }
    }
}
