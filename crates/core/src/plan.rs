//! The printable response plan: the whole configuration rendered as one Markdown document a
//! team can print, keep offline and hand to an auditor. It is most needed when systems are
//! down, so it reads on its own: no links into Warroom, every command written out.

use std::fmt::Write as _;

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
