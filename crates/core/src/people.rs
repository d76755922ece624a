//! People who can be paged, how to reach them, and teams.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schedule::TimeZoneName;

/// Someone who can be on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Handle, used in schedules, teams and commands (`alice`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where they live, for showing times in their zone.
    pub time_zone: TimeZoneName,
    /// Ways to reach them.
    #[serde(default)]
    pub contact_methods: Vec<ContactMethod>,
    /// Which method to use how long after a page starts.
    #[serde(default)]
    pub notification_rules: Vec<NotificationRule>,
}

impl Person {
    /// The contact method with this id.
    pub fn contact_method(&self, id: &str) -> Option<&ContactMethod> {
        self.contact_methods.iter().find(|c| c.id == id)
    }
}

/// One way to reach a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactMethod {
    /// Id, unique for the person (`work-email`).
    pub id: String,
    /// Kind of channel.
    #[serde(rename = "type")]
    pub kind: ContactKind,
    /// Email address, webhook URL (Slack incoming webhook or generic), or phone number.
    pub address: String,
}

/// Kinds of contact method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactKind {
    /// Email over SMTP.
    Email,
    /// A Slack incoming webhook URL.
    Slack,
    /// A generic webhook URL (signed JSON).
    Webhook,
    /// A phone number, kept for display.
    Phone,
}

impl fmt::Display for ContactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContactKind::Email => "email",
            ContactKind::Slack => "slack",
            ContactKind::Webhook => "webhook",
            ContactKind::Phone => "phone",
        })
    }
}

impl ContactKind {
    /// Checks an address for this kind of method; the error says what was expected.
    pub fn check_address(self, address: &str) -> Result<(), String> {
        let ok = match self {
            ContactKind::Email => looks_like_email(address),
            ContactKind::Slack | ContactKind::Webhook => looks_like_http_url(address),
            ContactKind::Phone => {
                address.chars().filter(char::is_ascii_digit).count() >= 3
                    && address
                        .chars()
                        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
            }
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            ContactKind::Email => format!("invalid email address {address:?}"),
            ContactKind::Slack => {
                format!(
                    "invalid Slack webhook URL {address:?}: expected an https:// or http:// URL"
                )
            }
            ContactKind::Webhook => {
                format!("invalid webhook URL {address:?}: expected an https:// or http:// URL")
            }
            ContactKind::Phone => {
                format!("invalid phone number {address:?}: use digits, spaces and + - ( ) . only")
            }
        })
    }
}

fn looks_like_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@')
}

fn looks_like_http_url(address: &str) -> bool {
    let rest = address
        .strip_prefix("https://")
        .or_else(|| address.strip_prefix("http://"));
    let Some(rest) = rest else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !address.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Use a contact method this many minutes after a page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    /// Id of one of the person's contact methods.
    pub contact_method: String,
    /// Minutes after the page starts (0 = at once).
    pub after_minutes: u32,
}

/// A named group of people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Id used in escalation policies and services.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Person ids.
    #[serde(default)]
    pub members: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_by_kind() {
        assert!(ContactKind::Email.check_address("a@example.com").is_ok());
        assert!(ContactKind::Email.check_address("a@localhost").is_err());
        assert!(ContactKind::Email.check_address("a example@x.io").is_err());
        assert!(ContactKind::Email.check_address("@x.io").is_err());
        assert!(
            ContactKind::Webhook
                .check_address("http://127.0.0.1:9099/hook")
                .is_ok()
        );
        assert!(
            ContactKind::Slack
                .check_address("https://hooks.slack.com/services/T/B/X")
                .is_ok()
        );
        assert!(ContactKind::Webhook.check_address("ftp://x").is_err());
        assert!(ContactKind::Webhook.check_address("https://").is_err());
        assert!(ContactKind::Phone.check_address("+49 (30) 123-456").is_ok());
        assert_eq!(
            ContactKind::Phone.check_address("call me"),
            Err("invalid phone number \"call me\": use digits, spaces and + - ( ) . only".into())
        );
    }
}
