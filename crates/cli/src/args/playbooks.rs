//! Arguments of the playbook, task, triage, init and docs commands.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    /// List the configured playbooks and when each attaches by itself.
    #[command(visible_alias = "ls")]
    List,
    /// Print a playbook: phases, time boxes, tasks with owners and commands.
    Show {
        /// Playbook id.
        id: String,
    },
    /// Attach a playbook to an incident by hand (commander).
    Attach {
        /// Incident id.
        incident: String,
        /// Playbook id.
        playbook: String,
    },
    /// Detach a playbook from an incident; it will not re-attach by itself (commander).
    Detach {
        /// Incident id.
        incident: String,
        /// Playbook id.
        playbook: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// The incident's checklist, by playbook and phase, with due times and overdue tasks.
    #[command(visible_alias = "ls")]
    List {
        /// Incident id.
        incident: String,
    },
    /// Mark a task done.
    Done {
        /// Incident id.
        incident: String,
        /// Checklist number (3), task id (block-ip) or PLAYBOOK/TASK.
        task: String,
    },
    /// Skip a task, saying why.
    Skip {
        /// Incident id.
        incident: String,
        /// Checklist number, task id or PLAYBOOK/TASK.
        task: String,
        /// Why it is not done.
        #[arg(long)]
        reason: String,
    },
    /// Open a done or skipped task again.
    Reopen {
        /// Incident id.
        incident: String,
        /// Checklist number, task id or PLAYBOOK/TASK.
        task: String,
    },
    /// Print a task's commands with the incident's values filled in, one per line.
    Commands {
        /// Incident id.
        incident: String,
        /// Checklist number, task id or PLAYBOOK/TASK.
        task: String,
        /// A value for a {{placeholder}} (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
}

impl TaskCommand {
    /// The incident every task command acts on.
    pub fn incident(&self) -> &str {
        match self {
            TaskCommand::List { incident }
            | TaskCommand::Done { incident, .. }
            | TaskCommand::Skip { incident, .. }
            | TaskCommand::Reopen { incident, .. }
            | TaskCommand::Commands { incident, .. } => incident,
        }
    }
}

#[derive(Debug, Args)]
pub struct TriageArgs {
    /// Answer a question without being asked: KEY=yes or KEY=no (repeatable). Questions not
    /// answered are asked when stdin is a terminal, else left unanswered.
    #[arg(long = "answer", value_name = "KEY=yes|no")]
    pub answers: Vec<String>,
    /// Declare the incident at the suggested severity (with --json, prints the incident).
    #[arg(long, requires = "title")]
    pub declare: bool,
    /// Title of the incident to declare.
    #[arg(long, requires = "declare")]
    pub title: Option<String>,
    /// Incident type of the incident to declare.
    #[arg(long = "type", value_name = "TYPE", requires = "declare")]
    pub incident_type: Option<String>,
    /// Affected service (repeatable, or comma-separated).
    #[arg(long = "service", value_name = "SERVICE", requires = "declare")]
    pub services: Vec<String>,
    /// Label (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", requires = "declare")]
    pub labels: Vec<String>,
    /// Visible only to participants, security and admins.
    #[arg(long, requires = "declare")]
    pub restricted: bool,
    /// Longer description.
    #[arg(long, requires = "declare")]
    pub description: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// Write the response plan (severities, roles, triage, every playbook) as a document.
    Export {
        /// Document format; only md (Markdown) for now.
        #[arg(long, default_value = "md", value_name = "FORMAT")]
        format: String,
        /// Config directory; built-in defaults without it.
        #[arg(long, value_name = "CONFIGDIR")]
        config: Option<PathBuf>,
        /// Directory to write response-plan.md into (created if missing).
        dir: PathBuf,
    },
}
