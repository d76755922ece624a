//! Communications during an incident: message templates and the drafts rendered from them,
//! where messages go, and the regulatory and contractual notification clocks.
//!
//! Everything here is pure. Sending is recording: the server renders a draft (or takes an
//! edited one), and the `update_posted` event that records it names the template, the
//! recipients and the clocks it met; the outbox messages are derived from that event in the
//! same transaction (see [`crate::outbox::message_sends`]).

pub mod context;
pub mod deadline;
pub mod recipient;
pub mod template;

use serde::{Deserialize, Serialize};

pub use deadline::{Deadline, DeadlineRule, DeadlineState, Within};
pub use recipient::{NamedChannel, Organisation};
pub use template::{AUDIENCES, Draft, MessageTemplate, TemplateError};

/// The `comms` config section: who the company is, where messages go, and which notification
/// clocks apply. Each part a team's file leaves out keeps its built-in default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommsConfig {
    /// Who the company is.
    #[serde(default)]
    pub organisation: Organisation,
    /// Named destinations for `--to`.
    #[serde(default)]
    pub channels: Vec<NamedChannel>,
    /// Notification clocks.
    #[serde(default)]
    pub deadlines: Vec<DeadlineRule>,
}
