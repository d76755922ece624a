//! Where messages go: the named channels of the comms config, people by handle, or one email
//! address, resolved to outbox channels.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::outbox::Channel;
use crate::people::ContactKind;

/// A named destination for messages: the incident Slack channel, the executives' mailing list,
/// the regulator's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedChannel {
    /// Id used with `--to`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// `email`, `slack` or `webhook`.
    #[serde(rename = "type")]
    pub kind: ContactKind,
    /// Email address or webhook URL.
    pub address: String,
    /// Audiences this channel usually serves (a hint for people and the UI; not enforced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
}

impl NamedChannel {
    /// The outbox channel; none for a phone number, which cannot receive text.
    pub fn channel(&self) -> Option<Channel> {
        crate::outbox::contact_channel(self.kind, &self.address)
    }
}

/// Who the company is, for the letters it writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// Company name as it signs letters.
    pub name: String,
    /// Where customers write with questions.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contact: String,
    /// Data protection officer or privacy contact.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub privacy_contact: String,
    /// Public status page address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_page_url: String,
}

impl Default for Organisation {
    fn default() -> Self {
        Self {
            name: "Example Corp".into(),
            contact: String::new(),
            privacy_contact: String::new(),
            status_page_url: String::new(),
        }
    }
}

/// Why a recipient cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipientError {
    /// Names no channel and no person.
    #[error(
        "unknown recipient {0:?}: give a channel id, a person's handle, or email:ADDRESS (channels are listed under `comms.channels` in the config)"
    )]
    Unknown(String),
    /// An `email:` address that is not one.
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    /// A person with no way to receive text.
    #[error("{0} has no email, Slack or webhook contact method")]
    Unreachable(String),
}

/// The outbox channels `to` means: `channel:ID` or `person:ID` or `email:ADDRESS`, or a bare
/// id, which is a channel if one has that id and else a person.
pub fn resolve(to: &str, config: &Config) -> Result<Vec<Channel>, RecipientError> {
    let to = to.trim();
    let (kind, id) = match to.split_once(':') {
        Some((k @ ("channel" | "person" | "email"), rest)) => (Some(k), rest.trim()),
        _ => (None, to),
    };
    if kind == Some("email") {
        ContactKind::Email
            .check_address(id)
            .map_err(|_| RecipientError::BadEmail(id.to_string()))?;
        return Ok(vec![Channel::Email { to: id.to_string() }]);
    }
    if kind != Some("person")
        && let Some(named) = config.comms.channels.iter().find(|c| c.id == id)
    {
        return named
            .channel()
            .map(|c| vec![c])
            .ok_or_else(|| RecipientError::Unreachable(id.to_string()));
    }
    if kind != Some("channel")
        && let Some(person) = config.person(id)
    {
        let channels: Vec<Channel> = person
            .contact_methods
            .iter()
            .filter_map(|m| crate::outbox::contact_channel(m.kind, &m.address))
            .collect();
        if channels.is_empty() {
            return Err(RecipientError::Unreachable(id.to_string()));
        }
        return Ok(channels);
    }
    Err(RecipientError::Unknown(to.to_string()))
}
