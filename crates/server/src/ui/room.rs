//! `/ui/incidents/{id}`: the incident room. Its forms post to `/ui/incidents/{id}/...`, run
//! the same domain commands as the JSON API and redirect back (POST-redirect-GET), so a
//! reload never repeats an action.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use warroom_core::export::{Format, render};
use warroom_core::{Command, Event, EventKind, Role, Status};

use super::UiError;
use super::dashboard::due_items;
use super::format::absolute;
use super::session::{FormData, UiUser};
use super::templates::render_page;
use crate::json::PathParams;
use crate::routes::incidents::{execute, incident_with_events, parse_id};
use crate::state::AppState;
use warroom_store::AlertFilter;

/// The most alerts the room lists (newest first); the API lists the rest.
const ALERT_LIMIT: u32 = 100;

/// Timeline filters: which events each shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    All,
    Notes,
    Messages,
    System,
}

impl Filter {
    const ALL: [(Filter, &'static str, &'static str); 4] = [
        (Filter::All, "all", "Everything"),
        (Filter::Notes, "notes", "Notes"),
        (Filter::Messages, "messages", "Messages"),
        (Filter::System, "system", "System events"),
    ];

    fn parse(query: Option<&str>) -> Result<Filter, UiError> {
        let mut filter = Filter::All;
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if k == "compose" {
                continue;
            }
            if k != "kind" {
                return Err(UiError::field(&k, "unknown query parameter"));
            }
            filter = Filter::ALL
                .iter()
                .find(|(_, name, _)| *name == v)
                .map(|(f, _, _)| *f)
                .ok_or_else(|| UiError::field("kind", "expected all, notes, messages or system"))?;
        }
        Ok(filter)
    }

    fn shows(self, kind: &EventKind) -> bool {
        let message = matches!(
            kind,
            EventKind::UpdatePosted { .. }
                | EventKind::NotificationDelivered { .. }
                | EventKind::NotificationDead { .. }
                | EventKind::StatusPagePublished { .. }
                | EventKind::StatusPageUpdated { .. }
        );
        let note = matches!(kind, EventKind::NoteAdded { .. });
        match self {
            Filter::All => true,
            Filter::Notes => note,
            Filter::Messages => message,
            Filter::System => !note && !message,
        }
    }
}

#[derive(Serialize)]
struct Entry {
    seq: u64,
    at: String,
    datetime: String,
    actor: String,
    kind: &'static str,
    text: String,
}

fn entry(e: &Event) -> Entry {
    Entry {
        seq: e.seq,
        at: absolute(e.at),
        datetime: e.at.to_string(),
        actor: e.actor.clone(),
        kind: e.kind.name(),
        text: e.kind.describe(),
    }
}

/// `GET /ui/incidents/{id}?kind=all|notes|messages|system`
pub async fn page(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, UiError> {
    let id = parse_id(&id)?;
    let filter = Filter::parse(query.as_deref())?;
    // `?compose=TEMPLATE` opens the message composer with that template's draft.
    let compose = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "compose")
        .map(|(_, v)| v.into_owned());
    let now = state.clock.now();
    let marker = state.store.change_marker().await?;
    let (inc, events) = incident_with_events(&state, &user.auth(), &id).await?;
    // Newest first: during an incident the latest entries matter most.
    let timeline: Vec<Entry> = events
        .iter()
        .rev()
        .filter(|e| filter.shows(&e.kind))
        .map(entry)
        .collect();
    let filters: Vec<_> = Filter::ALL
        .iter()
        .map(
            |(f, name, label)| context! { name => *name, label => *label, current => *f == filter },
        )
        .collect();
    let roles: Vec<_> = inc
        .roles
        .iter()
        .map(|(role, person)| {
            let label = state
                .config
                .role(role)
                .map_or_else(|| role.clone(), |r| r.name.clone());
            context! { role => label, person => person }
        })
        .collect();
    let statuses: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| **s != inc.status && **s != Status::Resolved && **s != Status::Closed)
        .map(Status::as_str)
        .collect();
    let severities: Vec<String> = state
        .config
        .severities
        .iter()
        .filter(|s| s.id != inc.severity)
        .map(|s| s.id.clone())
        .collect();
    let role_choices: Vec<_> = state
        .config
        .roles
        .iter()
        .map(|r| context! { id => r.id.clone(), name => r.name.clone() })
        .collect();
    let checklist: Vec<_> =
        warroom_core::playbook::task_views(&inc, now, &std::collections::BTreeMap::new())
            .into_iter()
            .scan(String::new(), |last_phase, t| {
                // A phase heading before the first task of each phase.
                let phase_key = format!("{}/{}", t.playbook, t.phase);
                let heading = *last_phase != phase_key;
                last_phase.clone_from(&phase_key);
                Some((heading, t))
            })
            .map(|(heading, t)| {
                context! {
                    heading => heading,
                    playbook => t.playbook,
                    phase_title => t.phase_title,
                    time_box => t.time_box,
                    number => t.number,
                    task => t.task,
                    text => t.text,
                    owner => t.owner,
                    owner_person => t.owner_person,
                    state => Value::from(Serde(t.state)),
                    by => t.by,
                    reason => t.reason,
                    due_at => t.due_at.map(absolute),
                    overdue => t.overdue,
                    commands => t.commands,
                }
            })
            .collect();
    let draft = match &compose {
        Some(template) => {
            let t = state
                .config
                .template(template)
                .ok_or_else(|| UiError::field("compose", "no such message template"))?;
            let ctx = warroom_core::comms::context::full(&inc, &events, &state.config, now);
            Some(
                t.render(&ctx)
                    .map_err(|e| UiError::field("compose", &e.to_string()))?,
            )
        }
        None => None,
    };
    let templates: Vec<_> = state
        .config
        .message_templates
        .iter()
        .map(|t| context! { id => t.id.clone(), name => t.name.clone(), audience => t.audience.clone() })
        .collect();
    let deadlines: Vec<_> = warroom_core::comms::deadline::deadlines(
        &inc,
        &state.config.comms.deadlines,
        &state.config.business_hours,
        now,
    )
    .into_iter()
    .map(|d| {
        context! {
            name => d.name,
            state => d.state.as_str(),
            due_at => d.due_at.map(absolute),
            guidance => d.guidance,
            audience => d.audience,
            met_at => d.met_at.map(absolute),
            late => matches!(d.state, warroom_core::comms::DeadlineState::Overdue),
        }
    })
    .collect();
    // Sent messages and recorded updates, newest first: what went to whom, from which template.
    let messages: Vec<_> = events
        .iter()
        .rev()
        .filter_map(|e| match &e.kind {
            EventKind::UpdatePosted {
                audience,
                text,
                template,
                subject,
                to,
                meets,
            } => Some(context! {
                seq => e.seq,
                at => absolute(e.at),
                datetime => e.at.to_string(),
                by => e.actor.clone(),
                audience => audience.clone(),
                template => template.clone(),
                subject => subject.clone(),
                to => to.clone(),
                meets => meets.clone(),
                text => text.clone(),
            }),
            _ => None,
        })
        .collect();
    // The incident is visible to this user (it was just read through the visibility filter),
    // so every alert attached to it is too.
    let alerts: Vec<_> = state
        .store
        .alerts(&AlertFilter {
            incident_id: Some(inc.id.to_string()),
            limit: ALERT_LIMIT,
            ..AlertFilter::default()
        })
        .await?
        .into_iter()
        .map(|rec| {
            let a = rec.routed.alert;
            context! {
                id => a.id,
                summary => a.summary,
                source => a.kind.as_str(),
                status => a.status.as_str(),
                severity => a.severity.as_str(),
                service => a.service,
                count => a.count,
                first_seen => absolute(a.first_seen),
                last_seen => absolute(a.last_seen),
            }
        })
        .collect();
    let impact = &inc.impact;
    let impact = context! {
        users_affected => impact.users_affected,
        data_affected => impact.data_affected.clone(),
        services_impacted => impact.services_impacted.join(", "),
        estimated_cost => impact.estimated_cost.clone(),
    };
    // Roles that are filled, for the unassign form.
    let assigned: Vec<_> = inc
        .roles
        .keys()
        .map(|role| {
            let label = state
                .config
                .role(role)
                .map_or_else(|| role.clone(), |r| r.name.clone());
            context! { id => role.clone(), name => label }
        })
        .collect();
    let p = &user.principal;
    let html = render_page(
        "incident.html",
        &format!("{} {}", inc.id, inc.title),
        Some(&user.viewer()),
        context! {
            marker => marker,
            csrf => user.csrf.clone(),
            id => inc.id.to_string(),
            title => inc.title.clone(),
            severity => inc.severity.clone(),
            status => inc.status.as_str(),
            open => inc.status.is_open(),
            restricted => inc.restricted,
            acknowledged => inc.acknowledged_at.map(absolute),
            acknowledged_by => inc.acknowledged_by.clone(),
            declared_at => absolute(inc.declared_at),
            roles => roles,
            due => Value::from(Serde(due_items(&inc, &state.config, now))),
            timeline => Value::from(Serde(timeline)),
            checklist => checklist,
            root_cause => inc.root_cause.clone().unwrap_or_default(),
            templates => templates,
            draft => draft.map(|d| context! { template => d.template, audience => d.audience, subject => d.subject, body => d.body }),
            deadlines => deadlines,
            filters => filters,
            statuses => statuses,
            severities => severities,
            role_choices => role_choices,
            assigned => assigned,
            messages => messages,
            alerts => alerts,
            impact => impact,
            can_respond => p.has(Role::Responder),
            can_command => p.has(Role::Commander),
        },
    )?;
    Ok(Html(html))
}

/// `GET /ui/incidents/{id}/export?format=md|csv|json`: the API's export, for a session.
pub async fn export(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let mut format = Format::Markdown;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "format" => {
                format = v
                    .parse()
                    .map_err(|e: String| UiError::field("format", &e))?
            }
            other => return Err(UiError::field(other, "unknown query parameter")),
        }
    }
    let (inc, events) = incident_with_events(&state, &user.auth(), &id).await?;
    let body = render(format, &inc, &events, state.clock.now());
    let ext = match format {
        Format::Markdown => "md",
        Format::Csv => "csv",
        Format::Json => "json",
    };
    let disposition = format!("attachment; filename=\"{id}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// Checks the form's CSRF token, runs `cmd` as the user and redirects back to the room.
async fn run(
    state: &AppState,
    user: &UiUser,
    id: &str,
    form: &FormData,
    cmd: impl FnOnce(&FormData) -> Result<Command, UiError>,
) -> Result<Response, UiError> {
    user.check_csrf(form)?;
    let id = parse_id(id)?;
    let cmd = cmd(form)?;
    execute(state, &user.auth(), &id, cmd).await?;
    Ok(Redirect::to(&format!("/ui/incidents/{id}")).into_response())
}

/// `POST /ui/incidents/{id}/notes` (`text`)
pub async fn note(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        Ok(Command::AddNote {
            text: f.required("text")?.to_string(),
        })
    })
    .await
}

/// `POST /ui/incidents/{id}/acknowledge`
pub async fn acknowledge(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |_| Ok(Command::Acknowledge)).await
}

/// `POST /ui/incidents/{id}/status` (`status`, `reason`)
pub async fn status(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        let status = f
            .required("status")?
            .parse::<Status>()
            .map_err(|e| UiError::field("status", &e))?;
        Ok(Command::ChangeStatus {
            status,
            reason: optional(f, "reason"),
        })
    })
    .await
}

/// `POST /ui/incidents/{id}/resolve` (`summary`)
pub async fn resolve(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        Ok(Command::Resolve {
            summary: f.required("summary")?.to_string(),
        })
    })
    .await
}

/// A comma-separated form field as its non-blank items.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// An optional free-text field: `None` when absent or blank.
fn optional(form: &FormData, name: &str) -> Option<String> {
    form.get(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// `POST /ui/incidents/{id}/severity` (`severity`, `reason`)
pub async fn severity(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        Ok(Command::ChangeSeverity {
            severity: f.required("severity")?.to_string(),
            reason: optional(f, "reason"),
        })
    })
    .await
}

/// `POST /ui/incidents/{id}/roles` (`role`, `person`)
pub async fn assign(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        Ok(Command::AssignRole {
            role: f.required("role")?.to_string(),
            person: f.required("person")?.to_string(),
        })
    })
    .await
}

/// `POST /ui/incidents/{id}/escalate`
pub async fn escalate(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |_| Ok(Command::Escalate)).await
}

/// `POST /ui/incidents` (`title`, `severity`, `type`, `services` comma-separated,
/// `description`, `restricted`): declares and opens the new incident's room.
pub async fn declare(
    State(state): State<AppState>,
    user: UiUser,
    form: FormData,
) -> Result<Response, UiError> {
    user.check_csrf(&form)?;
    user.auth().require(Role::Responder)?;
    let declaration = warroom_core::Declaration {
        title: form.required("title")?.to_string(),
        severity: form.required("severity")?.to_string(),
        incident_type: optional(&form, "type"),
        services: optional(&form, "services")
            .map(|s| comma_list(&s))
            .unwrap_or_default(),
        description: optional(&form, "description"),
        restricted: form.get("restricted").is_some(),
        ..warroom_core::Declaration::default()
    };
    let inc = crate::routes::incidents::declare(&state, &user.principal.name, &declaration).await?;
    Ok(Redirect::to(&format!("/ui/incidents/{}", inc.id)).into_response())
}

/// `POST /ui/incidents/{id}/tasks` (`playbook`, `task`, `action` = done|skip|reopen,
/// `reason` for a skip): works the checklist with the API's task commands.
pub async fn task(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        let playbook = f.required("playbook")?.to_string();
        let task = f.required("task")?.to_string();
        match f.required("action")? {
            "done" => Ok(Command::CompleteTask { playbook, task }),
            "reopen" => Ok(Command::ReopenTask { playbook, task }),
            "skip" => Ok(Command::SkipTask {
                playbook,
                task,
                reason: f.required("reason")?.to_string(),
            }),
            _ => Err(UiError::field("action", "expected done, skip or reopen")),
        }
    })
    .await
}

/// `POST /ui/incidents/{id}/messages` (`template`, `subject`, `text`, `to` comma-separated):
/// sends the (edited) draft exactly as `warroom comms send` does.
pub async fn send_message(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        let to = comma_list(f.required("to")?);
        Ok(Command::SendMessage(warroom_core::command::OutgoingDraft {
            template: f.required("template")?.to_string(),
            subject: f.required("subject")?.to_string(),
            text: f.required("text")?.to_string(),
            to,
            meets: None,
        }))
    })
    .await
}

/// `POST /ui/incidents/{id}/close`
pub async fn close(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |_| Ok(Command::Close)).await
}

/// `POST /ui/incidents/{id}/reopen` (`reason`)
pub async fn reopen(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        Ok(Command::Reopen {
            reason: f.required("reason")?.to_string(),
        })
    })
    .await
}

/// `POST /ui/incidents/{id}/root-cause` (`root_cause`)
pub async fn root_cause(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        Ok(Command::Update(warroom_core::IncidentPatch {
            root_cause: Some(f.required("root_cause")?.to_string()),
            ..warroom_core::IncidentPatch::default()
        }))
    })
    .await
}

/// `POST /ui/incidents/{id}/roles/unassign` (`role`)
pub async fn unassign(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        Ok(Command::UnassignRole {
            role: f.required("role")?.to_string(),
        })
    })
    .await
}

/// `POST /ui/incidents/{id}/impact` (`users_affected`, `data_affected`, `services_impacted`
/// comma-separated, `estimated_cost`): replaces the impact as a whole, as the form shows all of
/// it; a blank field clears that part.
pub async fn impact(
    State(state): State<AppState>,
    user: UiUser,
    PathParams(id): PathParams<String>,
    form: FormData,
) -> Result<Response, UiError> {
    run(&state, &user, &id, &form, |f| {
        let users_affected = optional(f, "users_affected")
            .map(|v| {
                v.replace([',', '_', ' '], "").parse::<u64>().map_err(|_| {
                    UiError::field("users_affected", "expected a whole number, e.g. 1200")
                })
            })
            .transpose()?;
        Ok(Command::Update(warroom_core::IncidentPatch {
            impact: Some(warroom_core::Impact {
                users_affected,
                data_affected: optional(f, "data_affected"),
                services_impacted: optional(f, "services_impacted")
                    .map(|s| comma_list(&s))
                    .unwrap_or_default(),
                estimated_cost: optional(f, "estimated_cost"),
            }),
            ..warroom_core::IncidentPatch::default()
        }))
    })
    .await
}
