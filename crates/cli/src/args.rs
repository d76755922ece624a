//! The command line as clap sees it. Doc comments on fields are the `--help` text.

mod playbooks;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use warroom_core::duration::Duration;
use warroom_core::{Role, Status, TokenScope};

pub use playbooks::{DocsCommand, PlaybookCommand, TaskCommand, TriageArgs};

/// Incident response from the terminal: declare, coordinate, resolve, export.
#[derive(Debug, Parser)]
#[command(name = "warroom", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every client command understands; `global` so they may come before or after the
/// subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// Warroom server to talk to.
    #[arg(
        long,
        global = true,
        env = "WARROOM_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    pub server: String,
    /// API token; for a server on this machine, DATA_DIR/admin.token is used when absent.
    #[arg(
        long,
        global = true,
        env = "WARROOM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Data directory (the server's store and admin.token).
    #[arg(
        long,
        global = true,
        default_value = "./warroom-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
    /// Print the JSON the API returned instead of the human view.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Warroom server.
    Serve(ServeArgs),
    /// Declare a new incident.
    Declare(DeclareArgs),
    /// Acknowledge an incident: someone is on it.
    #[command(visible_alias = "acknowledge")]
    Ack {
        /// Incident id (INC-YYYYMMDD-NNN).
        id: String,
    },
    /// Page the next step of the escalation policy now (or start paging).
    Escalate {
        /// Incident id.
        id: String,
    },
    /// Give someone an incident role.
    Assign {
        /// Incident id.
        id: String,
        /// Role id, e.g. incident-commander.
        #[arg(long)]
        role: String,
        /// Person taking the role.
        #[arg(long)]
        person: String,
    },
    /// Leave an incident role empty.
    Unassign {
        /// Incident id.
        id: String,
        /// Role id.
        #[arg(long)]
        role: String,
    },
    /// Record a status update sent to stakeholders; an internal one resets the severity's
    /// update cadence (and stops its reminders).
    PostUpdate {
        /// Incident id.
        id: String,
        /// Who it went to: internal, executives, customers or regulators.
        #[arg(long, default_value = "internal")]
        audience: String,
        /// What it said; several words are joined with spaces.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Add a note to the timeline.
    Note {
        /// Incident id.
        id: String,
        /// The note; several words are joined with spaces.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Change the severity.
    #[command(visible_alias = "severity")]
    Sev {
        /// Incident id.
        id: String,
        /// New severity, e.g. P0.
        severity: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Change the status (investigating, contained, recovering).
    Status {
        /// Incident id.
        id: String,
        /// New status.
        status: Status,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Resolve: the impact is over.
    Resolve {
        /// Incident id.
        id: String,
        /// How it was resolved.
        #[arg(long)]
        summary: String,
    },
    /// Close a resolved incident after review.
    Close {
        /// Incident id.
        id: String,
    },
    /// Reopen a resolved or closed incident.
    Reopen {
        /// Incident id.
        id: String,
        /// Why work resumes.
        #[arg(long)]
        reason: String,
    },
    /// Change an incident's details (at least one field).
    #[command(override_usage = "warroom update [OPTIONS] <ID> --FIELD VALUE...")]
    Update(UpdateArgs),
    /// Print the incident log (Markdown by default).
    Show {
        /// Incident id.
        id: String,
        /// Document format.
        #[arg(long, value_enum)]
        format: Option<ExportFormat>,
    },
    /// List incidents, newest first.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Print an incident's timeline.
    Timeline {
        /// Incident id.
        id: String,
    },
    /// Show an incident's notifications: channel, destination, status, attempts, last error.
    Deliveries {
        /// Incident id.
        id: String,
    },
    /// Response metrics of one incident: times to detect, acknowledge, contain and resolve,
    /// time in each status, escalations, target and RTO breaches, update cadence.
    Metrics {
        /// Incident id.
        id: String,
    },
    /// Follow-up action items: add, update, list across incidents.
    #[command(subcommand)]
    Actions(ActionsCommand),
    /// Evidence on an incident: add files (streamed, stored by SHA-256), list, download and
    /// check, verify every blob, record transfers. Each view, download and transfer is on the
    /// incident's timeline.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Indicators of compromise: record on an incident, list, search across incidents.
    #[command(subcommand)]
    Indicator(IndicatorCommand),
    /// The access audit log (admin): restricted reads, evidence access, failed
    /// authentications, token use; --verify recomputes its hash chain.
    Audit(AuditArgs),
    /// Incident report over a window: counts, MTTA, MTTR, time to contain, breaches, action
    /// items, trend per week.
    Report(ReportArgs),
    /// Check every incident's hash chain (admin).
    Verify,
    /// Manage API tokens (admin).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage web UI accounts (admin).
    #[command(subcommand)]
    User(UserCommand),
    /// Show who the token belongs to.
    Whoami,
    /// Who is on call on every schedule, now or at --at.
    Oncall {
        /// An RFC 3339 time (2026-11-22T10:00:00Z) instead of now.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Schedule overrides: put someone on call instead for a while (commander to change).
    #[command(subcommand)]
    Override(OverrideCommand),
    /// The public status page: components, published incidents, public updates, maintenance.
    #[command(subcommand)]
    Statuspage(StatuspageCommand),
    /// Alerts from monitoring: list, show, acknowledge, resolve.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Integrations: the routing keys monitoring tools send alerts with (admin).
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Messages from templates: list templates, render a draft, send it.
    #[command(subcommand)]
    Comms(CommsCommand),
    /// The post-incident review in Markdown: write its sections, mark key moments, publish.
    Postmortem(PostmortemArgs),
    /// An incident's notification deadlines with time left, and its update cadence.
    Deadlines {
        /// Incident id.
        id: String,
    },
    /// Record when the company became aware of, discovered, or determined the materiality of
    /// an incident: notification clocks start from these moments.
    Moment {
        /// Incident id.
        id: String,
        /// aware, discovered or materiality-determined.
        moment: String,
        /// When (RFC 3339, e.g. 2026-11-22T10:00:00Z); now if not given.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Check or show the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Browse playbooks; attach them to incidents or detach them.
    #[command(subcommand)]
    Playbook(PlaybookCommand),
    /// Work an incident's checklist: list, done, skip, reopen, commands.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Answer yes/no questions for a suggested severity; --declare declares with it.
    Triage(TriageArgs),
    /// Write the built-in configuration into DIR, to start your own.
    Init {
        /// Directory to write into (created if missing).
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// Documents made from the configuration.
    #[command(subcommand)]
    Docs(DocsCommand),
}

impl Command {
    /// The incident the command acts on, if it acts on one.
    pub fn incident_id(&self) -> Option<&str> {
        match self {
            Command::Ack { id }
            | Command::Escalate { id }
            | Command::Assign { id, .. }
            | Command::Unassign { id, .. }
            | Command::Note { id, .. }
            | Command::PostUpdate { id, .. }
            | Command::Sev { id, .. }
            | Command::Status { id, .. }
            | Command::Resolve { id, .. }
            | Command::Close { id }
            | Command::Reopen { id, .. }
            | Command::Show { id, .. }
            | Command::Timeline { id }
            | Command::Deadlines { id }
            | Command::Postmortem(PostmortemArgs { id, .. })
            | Command::Moment { id, .. }
            | Command::Comms(CommsCommand::Render { id, .. } | CommsCommand::Send { id, .. })
            | Command::Deliveries { id }
            | Command::Metrics { id } => Some(id),
            Command::Actions(
                ActionsCommand::Add { incident, .. } | ActionsCommand::Update { incident, .. },
            ) => Some(incident),
            Command::Update(args) => Some(&args.id),
            Command::Evidence(cmd) => Some(cmd.incident()),
            Command::Indicator(
                IndicatorCommand::Add { incident, .. } | IndicatorCommand::List { incident },
            ) => Some(incident),
            Command::Indicator(IndicatorCommand::Search { .. }) => None,
            Command::Playbook(
                PlaybookCommand::Attach { incident, .. } | PlaybookCommand::Detach { incident, .. },
            ) => Some(incident),
            Command::Task(cmd) => Some(cmd.incident()),
            Command::Statuspage(
                StatuspageCommand::Incident { id, .. } | StatuspageCommand::Update { id, .. },
            ) => Some(id),
            Command::Statuspage(
                StatuspageCommand::Component(_) | StatuspageCommand::Maintenance(_),
            ) => None,
            Command::Playbook(PlaybookCommand::List | PlaybookCommand::Show { .. })
            | Command::Triage(_)
            | Command::Init { .. }
            | Command::Docs(_)
            | Command::Serve(_)
            | Command::Declare(_)
            | Command::List(_)
            | Command::Verify
            | Command::Actions(ActionsCommand::List(_))
            | Command::Report(_)
            | Command::Audit(_)
            | Command::Token(_)
            | Command::User(_)
            | Command::Whoami
            | Command::Oncall { .. }
            | Command::Override(_)
            | Command::Alerts(_)
            | Command::Integration(_)
            | Command::Comms(CommsCommand::Templates)
            | Command::Config(_) => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// sqlite://... or postgres://... (default: SQLite in the data directory).
    #[arg(
        long,
        env = "WARROOM_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,
    /// Read --database-url from this file (for a URL with a password: not in the process list).
    #[arg(
        long,
        env = "WARROOM_DATABASE_URL_FILE",
        value_name = "PATH",
        conflicts_with = "database_url"
    )]
    pub database_url_file: Option<PathBuf>,
    /// Config directory (*.yaml, also in its direct subdirectories); built-in defaults without
    /// it.
    #[arg(long, value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// Do not run the timer engine in this process (API-only replica).
    #[arg(long)]
    pub no_engine: bool,
    /// Seed demo incidents into an empty store.
    #[arg(long)]
    pub demo: bool,
    /// SMTP server for email pages: smtp://HOST:PORT (plain), smtp://HOST:587?tls=required
    /// (STARTTLS), smtps://HOST:465; credentials as user:password@. Without it, email pages
    /// are dead-lettered with that reason.
    #[arg(
        long,
        env = "WARROOM_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp_url: Option<String>,
    /// Read --smtp-url from this file.
    #[arg(
        long,
        env = "WARROOM_SMTP_URL_FILE",
        value_name = "PATH",
        conflicts_with = "smtp_url"
    )]
    pub smtp_url_file: Option<PathBuf>,
    /// Sender of email pages.
    #[arg(
        long,
        env = "WARROOM_SMTP_FROM",
        default_value = "Warroom <warroom@localhost>",
        value_name = "ADDRESS"
    )]
    pub smtp_from: String,
    /// Check Grafana webhook signatures (HMAC-SHA256) with this shared secret, as set in
    /// Grafana's contact point; unsigned or wrongly signed Grafana webhooks are refused.
    #[arg(
        long,
        env = "WARROOM_GRAFANA_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub grafana_secret: Option<String>,
    /// Read --grafana-secret from this file.
    #[arg(
        long,
        env = "WARROOM_GRAFANA_SECRET_FILE",
        value_name = "PATH",
        conflicts_with = "grafana_secret"
    )]
    pub grafana_secret_file: Option<PathBuf>,
    /// Header carrying Grafana's signature.
    #[arg(
        long,
        default_value = "X-Grafana-Alert-Signature",
        value_name = "HEADER"
    )]
    pub grafana_signature_header: String,
    /// Header carrying the time Grafana signed, when it sends one (replays older than five
    /// minutes are refused).
    #[arg(long, value_name = "HEADER")]
    pub grafana_timestamp_header: Option<String>,
    /// Serve /metrics without a token, for a Prometheus on a trusted network (it shows only
    /// counts by severity and status, never an incident's title or labels).
    #[arg(long)]
    pub metrics_public: bool,
    /// Mark web UI session cookies Secure (implied by --tls-cert and --behind-tls-proxy; set
    /// it for any other setup where browsers reach Warroom over HTTPS).
    #[arg(long, env = "WARROOM_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Serve HTTPS with this PEM certificate chain (server certificate first).
    #[arg(
        long,
        env = "WARROOM_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        env = "WARROOM_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// A proxy in front terminates TLS: allow plain HTTP on a non-loopback --listen address.
    #[arg(long, env = "WARROOM_BEHIND_TLS_PROXY")]
    pub behind_tls_proxy: bool,
    /// Limit and lock out clients by the last X-Forwarded-For entry (the address the proxy
    /// saw) instead of the connection's peer; only with --behind-tls-proxy, and only if the
    /// proxy appends that header and nothing else can reach Warroom.
    #[arg(
        long,
        env = "WARROOM_TRUST_FORWARDED_FOR",
        requires = "behind_tls_proxy"
    )]
    pub trust_forwarded_for: bool,
    /// API requests per second per token, sustained (0: no limit).
    #[arg(long, default_value_t = 20.0, value_name = "N")]
    pub rate_limit_per_second: f64,
    /// API requests a token may make at once after a quiet period.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub rate_limit_burst: u32,
    /// API and status page requests per second per source address (0: no limit).
    #[arg(long, default_value_t = 50.0, value_name = "N")]
    pub source_rate_limit_per_second: f64,
    /// Requests a source address may make at once after a quiet period.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub source_rate_limit_burst: u32,
    /// Ingestion requests per second per routing key and per source address (0: no limit).
    /// High, since monitoring sends storms and the ingestion queue already pushes back.
    #[arg(long, default_value_t = 50_000.0, value_name = "N")]
    pub ingest_rate_limit_per_second: f64,
    /// Ingestion requests a routing key or address may make at once.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub ingest_rate_limit_burst: u32,
    /// Failed authentications (bad token or routing key) from one address that lock it out
    /// (0: never).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub auth_lockout_failures: u32,
    /// Seconds the failures are counted over, and how long a lockout lasts.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub auth_lockout_seconds: u64,
    /// Largest evidence upload in bytes (a bigger one is refused with 413). Default 2 GiB.
    #[arg(long, default_value_t = warroom_server::vault::DEFAULT_MAX_BYTES, value_name = "BYTES", env = "WARROOM_EVIDENCE_MAX_BYTES")]
    pub evidence_max_bytes: u64,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Add an action item to an incident (also once it is closed).
    Add {
        /// Incident id.
        incident: String,
        /// What to do.
        #[arg(long)]
        title: String,
        /// Owner: a person's handle from the configuration.
        #[arg(long)]
        owner: String,
        /// Due date, YYYY-MM-DD (the item is overdue once that day ends where the owner lives).
        #[arg(long, value_name = "DATE")]
        due: String,
        /// p1 (most urgent) to p4; p3 when absent.
        #[arg(long, value_name = "P")]
        priority: Option<String>,
        /// Link to the ticket tracking it.
        #[arg(long, value_name = "URL")]
        ticket: Option<String>,
    },
    /// Change an action item (at least one field).
    Update {
        /// Incident id.
        incident: String,
        /// Action item id (A1, A2...).
        action: String,
        /// open, in_progress, done or cancelled.
        #[arg(long)]
        status: Option<String>,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// New owner.
        #[arg(long)]
        owner: Option<String>,
        /// New due date, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
        /// New priority, p1 to p4.
        #[arg(long, value_name = "P")]
        priority: Option<String>,
        /// New ticket link; an empty string removes it.
        #[arg(long, value_name = "URL")]
        ticket: Option<String>,
    },
    /// List action items across incidents, by due time.
    #[command(visible_alias = "ls")]
    List(ActionListArgs),
}

#[derive(Debug, Args)]
pub struct ActionListArgs {
    /// Only this person's items.
    #[arg(long)]
    pub owner: Option<String>,
    /// Only open items past their due date.
    #[arg(long)]
    pub overdue: bool,
    /// Only open or in-progress items.
    #[arg(long)]
    pub open: bool,
    /// Only this incident's items.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Incidents declared this long ago or later (90d, 4w) or since an RFC 3339 time.
    #[arg(long, default_value = "90d", value_name = "WHEN")]
    pub since: String,
    /// Group by severity, service or type.
    #[arg(long, value_enum)]
    pub by: Option<ReportGroup>,
    /// md (default), json or csv; --json means json.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormatArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportGroup {
    Severity,
    Service,
    Type,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    Md,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct DeclareArgs {
    /// One line saying what is wrong.
    #[arg(long)]
    pub title: String,
    /// Severity id, e.g. P1.
    #[arg(long)]
    pub severity: String,
    /// Incident type id, e.g. security-breach.
    #[arg(long = "type", value_name = "TYPE")]
    pub incident_type: Option<String>,
    /// Affected service (repeatable, or comma-separated).
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Label (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Visible only to participants, security and admins.
    #[arg(long)]
    pub restricted: bool,
    /// Longer description.
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Incident id.
    pub id: String,
    #[command(flatten)]
    pub changes: Changes,
}

/// At least one change is required; an empty PATCH is almost certainly a typo.
#[derive(Debug, Default, Args)]
#[group(required = true, multiple = true)]
pub struct Changes {
    /// New title.
    #[arg(long)]
    pub title: Option<String>,
    /// New incident type.
    #[arg(long = "type", value_name = "TYPE")]
    pub incident_type: Option<String>,
    /// Replace the services (repeatable, or comma-separated; "" clears).
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Option<Vec<String>>,
    /// Set a label; KEY= (empty value) removes it (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Option<Vec<String>>,
    /// Root cause.
    #[arg(long)]
    pub root_cause: Option<String>,
    /// Ticket link ("" removes).
    #[arg(long)]
    pub ticket: Option<String>,
    /// Chat channel ("" removes).
    #[arg(long)]
    pub chat_channel: Option<String>,
    /// Dashboard link ("" removes).
    #[arg(long)]
    pub dashboard: Option<String>,
    /// Number of users affected.
    #[arg(long, value_name = "N")]
    pub users_affected: Option<u64>,
    /// What data is affected ("" removes).
    #[arg(long, value_name = "TEXT")]
    pub data_affected: Option<String>,
    /// Estimated cost, with currency ("" removes).
    #[arg(long, value_name = "TEXT")]
    pub estimated_cost: Option<String>,
    /// Restricted classification (commander).
    #[arg(long, value_name = "true|false")]
    pub restricted: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Md,
    Json,
    Csv,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Md => "md",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

#[derive(Debug, Default, Args)]
pub struct ListArgs {
    /// Status filter: open, or statuses like triage,investigating.
    #[arg(long)]
    pub status: Option<String>,
    /// Severity filter, e.g. P0,P1.
    #[arg(long)]
    pub severity: Option<String>,
    /// Incident type.
    #[arg(long = "type", value_name = "TYPE")]
    pub incident_type: Option<String>,
    /// Service the incident lists.
    #[arg(long)]
    pub service: Option<String>,
    /// Label the incident has (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Free text in id, title, description, root cause, resolution.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Declared at or after: a time (2026-11-22T10:00:00Z), a date, or an age (24h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Declared before: a time, a date, or an age.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Page size (1-500).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: Option<u32>,
    /// Start from this page (next_cursor of a previous answer).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Follow next_cursor and list every match.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is shown once.
    Create {
        /// Who or what uses it.
        #[arg(long)]
        name: String,
        /// viewer, responder, commander or admin.
        #[arg(long)]
        role: Role,
        /// May see every restricted incident.
        #[arg(long)]
        security: bool,
        /// full (everything the role allows) or read-only (only what a viewer may do).
        #[arg(long, default_value = "full")]
        scope: TokenScope,
        /// Stops working after this long (90d, 12h, 1w); never expires without it.
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<Duration>,
    },
    /// List tokens.
    #[command(visible_alias = "ls")]
    List,
    /// Revoke a token.
    Revoke {
        /// Token id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a web UI account. The password is read from --password-file or from stdin
    /// (never from an argument, which other users could see in the process list).
    Create {
        /// Login name; also the name its actions are recorded under.
        name: String,
        /// viewer, responder, commander or admin.
        #[arg(long)]
        role: Role,
        /// May see every restricted incident.
        #[arg(long)]
        security: bool,
        /// Read the password from this file (its first line) instead of stdin.
        #[arg(long, value_name = "PATH")]
        password_file: Option<std::path::PathBuf>,
    },
    /// List web UI accounts.
    #[command(visible_alias = "ls")]
    List,
    /// Disable a web UI account: it can no longer sign in, and its open sessions end now.
    Disable {
        /// Login name.
        name: String,
    },
    /// Let a disabled web UI account sign in again.
    Enable {
        /// Login name.
        name: String,
    },
    /// Set a web UI account's password (a forgotten or leaked one); its sessions end. Read
    /// from --password-file or stdin, never from an argument. Signed-in users change their own
    /// on their account page (/ui/account).
    Password {
        /// Login name.
        name: String,
        /// Read the password from this file (its first line) instead of stdin.
        #[arg(long, value_name = "PATH")]
        password_file: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config directory; lists every problem as file:line:col.
    Check {
        /// Config directory (*.yaml, *.yml, also in its direct subdirectories); built-in
        /// defaults without it.
        #[arg(value_name = "DIR", conflicts_with = "config")]
        dir: Option<PathBuf>,
        /// Same as DIR.
        #[arg(long, value_name = "DIR")]
        config: Option<PathBuf>,
    },
    /// Print the effective configuration as YAML.
    Show {
        /// Config directory; built-in defaults without it.
        #[arg(long, value_name = "DIR")]
        config: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn update_needs_a_change_and_reads_restricted_as_a_value() {
        assert!(Cli::try_parse_from(["warroom", "update", "INC-20261122-001"]).is_err());
        let cli = Cli::try_parse_from([
            "warroom",
            "update",
            "INC-20261122-001",
            "--restricted",
            "false",
        ])
        .expect("parses");
        let Command::Update(args) = cli.command else {
            panic!("not update")
        };
        assert_eq!(args.changes.restricted, Some(false));
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["warroom", "--json", "whoami", "--token", "t"]).expect("parses");
        assert!(cli.global.json);
        assert_eq!(cli.global.token.as_deref(), Some("t"));
    }
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Alerts, newest first.
    #[command(visible_alias = "ls")]
    List {
        /// open, triggered, acknowledged or resolved (comma-separated).
        #[arg(long)]
        status: Option<String>,
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
        /// Only alerts attached to this incident.
        #[arg(long)]
        incident: Option<String>,
        /// First seen at or after: a time (2026-11-22T10:00:00Z) or an age (1h, 7d).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Page size (1-500).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        /// Start from this page (next_cursor of a previous answer).
        #[arg(long)]
        cursor: Option<String>,
        /// Follow next_cursor and list every match.
        #[arg(long)]
        all: bool,
    },
    /// One alert and the events it folded in.
    Show {
        /// Alert id (alr_...).
        id: String,
    },
    /// Acknowledge an alert.
    Ack {
        /// Alert id (alr_...).
        id: String,
    },
    /// Resolve an alert.
    Resolve {
        /// Alert id (alr_...).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct PostmortemArgs {
    /// Incident id.
    pub id: String,
    /// Write a section: summary, what-went-well, what-went-wrong, lessons-learned, links
    /// (SECTION=TEXT; an empty TEXT clears it; repeatable).
    #[arg(long = "set", value_name = "SECTION=TEXT")]
    pub set: Vec<String>,
    /// Write a section from a file (SECTION=PATH; repeatable).
    #[arg(long = "set-file", value_name = "SECTION=PATH")]
    pub set_file: Vec<String>,
    /// Mark the note with this sequence number (see `warroom timeline`) as a key moment.
    #[arg(long = "key-moment", value_name = "SEQ")]
    pub key_moment: Vec<u64>,
    /// Stop treating a note as a key moment.
    #[arg(long = "unmark", value_name = "SEQ")]
    pub unmark: Vec<u64>,
    /// Freeze the review as it reads now and record its SHA-256 (commander).
    #[arg(long, conflicts_with = "published")]
    pub publish: bool,
    /// Print published version N exactly as it was frozen, instead of the current review.
    #[arg(long, value_name = "N")]
    pub published: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum CommsCommand {
    /// The message templates: id, audience, name.
    Templates,
    /// Print the draft a template makes for an incident as it is now.
    Render {
        /// Incident id.
        id: String,
        /// Template id (see `warroom comms templates`).
        template: String,
    },
    /// Send a template's draft through the notification channels; recorded on the timeline
    /// with what was sent, to whom and by whom.
    Send {
        /// Incident id.
        id: String,
        /// Template id.
        template: String,
        /// Recipient: a channel id from `comms.channels`, a person's handle, or
        /// email:ADDRESS (repeatable, or comma-separated).
        #[arg(long, required = true, value_delimiter = ',')]
        to: Vec<String>,
        /// Edit the draft in $VISUAL or $EDITOR before sending (first line: the subject).
        #[arg(long)]
        edit: bool,
        /// The notification deadline this message meets (repeatable); by default every
        /// started, unmet deadline of its audience and template.
        #[arg(long, value_delimiter = ',')]
        meets: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Create an integration for a service and print its routing key (shown once).
    Create {
        /// Service its alerts are for.
        #[arg(long)]
        service: String,
        /// Name shown in lists (default: the service).
        #[arg(long)]
        name: Option<String>,
    },
    /// List integrations (keys are never shown again).
    #[command(visible_alias = "ls")]
    List,
    /// Give an integration a new routing key (printed once). The old key keeps working for
    /// --grace, so senders can be moved to the new one without losing events.
    Rotate {
        /// Integration id (as `warroom integration list` shows).
        id: String,
        /// How long the old key keeps working: 24h by default, 0s to end it now, at most 30d.
        #[arg(long)]
        grace: Option<String>,
    },
    /// Revoke an integration: none of its routing keys is accepted any more.
    Revoke {
        /// Integration id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OverrideCommand {
    /// Put PERSON on call on SCHEDULE from --start to --end.
    Add {
        /// Schedule id.
        schedule: String,
        /// Person id (as in the config).
        #[arg(long)]
        person: String,
        /// RFC 3339 time, `now`, or relative to now (`+2h`, `-30m`, `+1d`).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        start: String,
        /// RFC 3339 time, `now`, or relative to now (`+2h`, `-30m`, `+1d`).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        end: String,
    },
    /// The schedule's live overrides that have not ended.
    #[command(visible_alias = "ls")]
    List {
        /// Schedule id.
        schedule: String,
    },
    /// Remove an override (recorded; the schedule goes back to its layers).
    #[command(visible_alias = "rm")]
    Remove {
        /// Schedule id.
        schedule: String,
        /// Override id (ovr_...).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatuspageCommand {
    /// Component statuses: list, set.
    #[command(subcommand)]
    Component(ComponentCommand),
    /// Show an incident's status page entry; with --publish, put the incident on the page
    /// (commander). The public title defaults to a neutral text, never the internal title.
    Incident {
        /// Incident id.
        id: String,
        /// Put the incident on the status page.
        #[arg(long)]
        publish: bool,
        /// Public title (with --publish).
        #[arg(long, requires = "publish")]
        title: Option<String>,
        /// Public status: investigating, identified, monitoring, resolved (with --publish).
        #[arg(long, requires = "publish")]
        status: Option<String>,
        /// The first public update (with --publish).
        #[arg(long, requires = "publish")]
        message: Option<String>,
        /// COMPONENT=STATUS, e.g. api=major_outage; repeatable (with --publish).
        #[arg(
            long = "component",
            value_name = "COMPONENT=STATUS",
            requires = "publish"
        )]
        components: Vec<String>,
        /// none, minor, major or critical (default: from the components).
        #[arg(long, requires = "publish")]
        impact: Option<String>,
    },
    /// Post a public update to a published incident.
    Update {
        /// Incident id.
        id: String,
        /// New public status: investigating, identified, monitoring, resolved.
        #[arg(long)]
        status: Option<String>,
        /// What the public is told.
        #[arg(long)]
        message: String,
        /// COMPONENT=STATUS, e.g. api=operational; repeatable.
        #[arg(long = "component", value_name = "COMPONENT=STATUS")]
        components: Vec<String>,
        /// none, minor, major or critical.
        #[arg(long)]
        impact: Option<String>,
    },
    /// Scheduled maintenance: create, list, update.
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
}

#[derive(Debug, Subcommand)]
pub enum ComponentCommand {
    /// Every component with its status.
    #[command(visible_alias = "ls")]
    List,
    /// Set a component's status: operational, degraded_performance, partial_outage,
    /// major_outage, under_maintenance.
    Set {
        /// Component id.
        id: String,
        /// New status.
        status: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MaintenanceCommand {
    /// Announce a maintenance window.
    Create {
        /// Public title.
        #[arg(long)]
        title: String,
        /// Component id the work touches; repeatable.
        #[arg(long = "component", value_name = "COMPONENT")]
        components: Vec<String>,
        /// Window start: RFC 3339 time, `now`, or relative to now (`+2h`).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        start: String,
        /// Window end: RFC 3339 time, `now`, or relative to now (`+4h`).
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        end: String,
        /// First public update.
        #[arg(long)]
        message: Option<String>,
    },
    /// Maintenances, newest first.
    #[command(visible_alias = "ls")]
    List,
    /// Post progress: scheduled, in_progress, verifying, completed.
    Update {
        /// Maintenance id (sm_...).
        id: String,
        /// New status.
        #[arg(long)]
        status: String,
        /// What the public is told.
        #[arg(long)]
        message: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Upload a file as evidence (streamed; prints its SHA-256).
    Add {
        /// Incident id.
        incident: String,
        /// The file.
        file: PathBuf,
        /// Media type (default: guessed from the extension, else application/octet-stream).
        #[arg(long, value_name = "TYPE")]
        media_type: Option<String>,
        /// What it is and why it matters.
        #[arg(long)]
        description: Option<String>,
        /// Where it was collected: host, system, account.
        #[arg(long, value_name = "WHERE")]
        collected_from: Option<String>,
        /// The name to record instead of the file's own.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// List an incident's evidence with each SHA-256.
    List {
        /// Incident id.
        incident: String,
    },
    /// Show one piece of evidence and its chain of custody (the view is recorded).
    Show {
        /// Incident id.
        incident: String,
        /// Its SHA-256.
        sha256: String,
    },
    /// Download evidence and check that what arrived hashes to SHA256 (the download is
    /// recorded).
    Get {
        /// Incident id.
        incident: String,
        /// Its SHA-256.
        sha256: String,
        /// Where to write it (default: the recorded file name in the current directory; `-`
        /// for standard output).
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Re-hash every blob of the incident on the server; fails when any is missing or altered.
    Verify {
        /// Incident id.
        incident: String,
    },
    /// Record that evidence was handed to someone or exported.
    Transfer {
        /// Incident id.
        incident: String,
        /// Its SHA-256.
        sha256: String,
        /// Who receives it.
        #[arg(long)]
        to: String,
        /// Why, or under what authority.
        #[arg(long)]
        reason: Option<String>,
    },
}

impl EvidenceCommand {
    /// The incident every evidence command acts on.
    pub fn incident(&self) -> &str {
        match self {
            EvidenceCommand::Add { incident, .. }
            | EvidenceCommand::List { incident }
            | EvidenceCommand::Show { incident, .. }
            | EvidenceCommand::Get { incident, .. }
            | EvidenceCommand::Verify { incident }
            | EvidenceCommand::Transfer { incident, .. } => incident,
        }
    }
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Entries at or after: a duration ago (1h, 7d) or an RFC 3339 time.
    #[arg(long, default_value = "24h", value_name = "WHEN")]
    pub since: String,
    /// Only this actor.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this action: restricted_read, evidence_view, evidence_download,
    /// evidence_transfer, token_use, auth_failure.
    #[arg(long)]
    pub action: Option<String>,
    /// At most this many entries (1-10000).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Also recompute the whole log's hash chain; fails naming the first broken entry.
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Subcommand)]
pub enum IndicatorCommand {
    /// Record an indicator on an incident (again: widens first/last seen, replaces the note).
    Add {
        /// Incident id.
        incident: String,
        /// ip, domain, url, hash, email or account.
        kind: String,
        /// The indicator.
        value: String,
        /// When it was first seen (RFC 3339).
        #[arg(long, value_name = "TIME")]
        first_seen: Option<String>,
        /// When it was last seen (RFC 3339).
        #[arg(long, value_name = "TIME")]
        last_seen: Option<String>,
        /// Context: where it showed up, how confident.
        #[arg(long)]
        note: Option<String>,
    },
    /// An incident's indicators.
    List {
        /// Incident id.
        incident: String,
    },
    /// Find an indicator across the incidents you may see.
    Search {
        /// The indicator.
        value: String,
        /// Read the value as this kind only.
        #[arg(long)]
        kind: Option<String>,
    },
}
