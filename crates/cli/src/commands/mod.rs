//! One function per subcommand; `run` picks it. Client commands share an [`Api`] and print
//! either the API's JSON (`--json`) or a human view.

mod actions;
mod admin;
mod alerts;
mod audit;
mod checklist;
mod comms;
mod config;
mod deliveries;
mod docs;
mod evidence;
mod incident;
mod indicators;
mod init;
mod list;
mod overrides;
mod playbook;
mod postmortem;
mod report;
mod serve;
mod statuspage;
mod task;
mod triage;
mod update;
mod users;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::args::{Cli, Command};
use crate::client::Api;
use crate::output;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let Cli { global, command } = cli;
    match command {
        Command::Serve(args) => serve::run(args, global.data_dir).await,
        Command::Config(cmd) => config::run(cmd, global.json),
        Command::Init { dir, force } => init::run(&dir, force, global.json),
        Command::Docs(cmd) => docs::run(cmd, global.json),
        command => {
            // A mistyped id is reported as such, even when no token is at hand.
            if let Some(id) = command.incident_id() {
                crate::input::incident_id(id)?;
            }
            let api = Api::from_global(&global)?;
            let out = Out { json: global.json };
            client_command(command, &api, out).await
        }
    }
}

async fn client_command(command: Command, api: &Api, out: Out) -> Result<()> {
    use incident::Change;
    match command {
        Command::Declare(args) => incident::declare(api, out, args).await,
        Command::Ack { id } => incident::change(api, out, &id, Change::Ack).await,
        Command::Escalate { id } => incident::change(api, out, &id, Change::Escalate).await,
        Command::Assign { id, role, person } => {
            incident::change(api, out, &id, Change::Assign { role, person }).await
        }
        Command::Unassign { id, role } => {
            incident::change(api, out, &id, Change::Unassign { role }).await
        }
        Command::Note { id, text } => {
            let text = text.join(" ");
            incident::change(api, out, &id, Change::Note { text }).await
        }
        Command::PostUpdate { id, audience, text } => {
            let text = text.join(" ");
            incident::change(api, out, &id, Change::PostUpdate { audience, text }).await
        }
        Command::Sev {
            id,
            severity,
            reason,
        } => incident::change(api, out, &id, Change::Severity { severity, reason }).await,
        Command::Status { id, status, reason } => {
            incident::change(api, out, &id, Change::Status { status, reason }).await
        }
        Command::Resolve { id, summary } => {
            incident::change(api, out, &id, Change::Resolve { summary }).await
        }
        Command::Close { id } => incident::change(api, out, &id, Change::Close).await,
        Command::Reopen { id, reason } => {
            incident::change(api, out, &id, Change::Reopen { reason }).await
        }
        Command::Update(args) => update::run(api, out, args).await,
        Command::Show { id, format } => incident::show(api, out, &id, format).await,
        Command::List(args) => list::run(api, out, args).await,
        Command::Timeline { id } => list::timeline(api, out, &id).await,
        Command::Deliveries { id } => deliveries::run(api, out, &id).await,
        Command::Metrics { id } => report::metrics(api, out, &id).await,
        Command::Actions(cmd) => actions::run(api, out, cmd).await,
        Command::Evidence(cmd) => evidence::run(api, out, cmd).await,
        Command::Indicator(cmd) => indicators::run(api, out, cmd).await,
        Command::Audit(args) => audit::run(api, out, args).await,
        Command::Report(args) => report::run(api, out, args).await,
        Command::Verify => admin::verify(api, out).await,
        Command::Token(cmd) => admin::token(api, out, cmd).await,
        Command::User(cmd) => users::run(api, out, cmd).await,
        Command::Whoami => admin::whoami(api, out).await,
        Command::Oncall { at } => admin::oncall(api, out, at).await,
        Command::Override(cmd) => overrides::run(api, out, cmd).await,
        Command::Statuspage(cmd) => statuspage::run(api, out, cmd).await,
        Command::Alerts(cmd) => alerts::run(api, out, cmd).await,
        Command::Integration(cmd) => alerts::integration(api, out, cmd).await,
        Command::Comms(cmd) => comms::run(api, out, cmd).await,
        Command::Deadlines { id } => comms::deadlines(api, out, &id).await,
        Command::Postmortem(args) => postmortem::run(api, out, args).await,
        Command::Moment { id, moment, at } => comms::moment(api, out, &id, &moment, at).await,
        Command::Playbook(cmd) => playbook::run(api, out, cmd).await,
        Command::Task(cmd) => task::run(api, out, cmd).await,
        Command::Triage(args) => triage::run(api, out, args).await,
        // Handled in `run`, which needs no server.
        Command::Serve(_) | Command::Config(_) | Command::Init { .. } | Command::Docs(_) => Ok(()),
    }
}

/// How to print an answer.
#[derive(Debug, Clone, Copy)]
struct Out {
    json: bool,
}

impl Out {
    /// The API's JSON with `--json`, else the human line(s) `human` makes from it.
    fn print(self, value: &Value, human: impl FnOnce(&Value) -> Result<String>) -> Result<()> {
        if self.json {
            output::emit_json(value)
        } else {
            output::emit(&human(value)?)
        }
    }
}

/// The incident fields the human views use. Deliberately lenient (unknown fields ignored) so a
/// newer server does not break an older CLI's output.
#[derive(Debug, Deserialize)]
struct IncidentView {
    id: String,
    title: String,
    #[serde(rename = "type")]
    incident_type: String,
    severity: String,
    status: String,
    #[serde(default)]
    roles: BTreeMap<String, String>,
    declared_at: Timestamp,
}

impl IncidentView {
    fn from_value(value: &Value) -> Result<IncidentView> {
        IncidentView::deserialize(value).context("the server's answer is not an incident")
    }
}
