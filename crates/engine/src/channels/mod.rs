//! The ways a message leaves Warroom: generic webhook, Slack incoming webhook, email over SMTP.
//!
//! Each channel makes one attempt with a timeout and says whether it worked, and if not whether
//! retrying can help ([`AttemptError::Transient`]) or not ([`AttemptError::Permanent`]). The
//! engine records the outcome and schedules retries; channels keep no state of their own.

pub mod email;
pub mod slack;
pub mod webhook;

use std::time::Duration;

use jiff::Timestamp;
use warroom_core::outbox::{AttemptError, Channel, OutgoingMessage};

pub use email::SmtpSettings;

/// Everything needed to send: one HTTP client, the SMTP server (if any), the timeout.
#[derive(Clone)]
pub struct Channels {
    http: reqwest::Client,
    smtp: Option<email::Mailer>,
    timeout: Duration,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("smtp", &self.smtp.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why the channels could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The SMTP URL or sender is unusable.
    #[error("SMTP: {0}")]
    Smtp(String),
}

impl Channels {
    /// Channels with `timeout` on every attempt; email only when `smtp` is given.
    pub fn new(timeout: Duration, smtp: Option<SmtpSettings>) -> Result<Self, ChannelError> {
        // reqwest is built without a TLS provider of its own; ring is the one the workspace
        // uses. An Err only means one is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let smtp = smtp.map(|s| email::Mailer::new(&s, timeout)).transpose()?;
        Ok(Self {
            http,
            smtp,
            timeout,
        })
    }

    /// One attempt to deliver `message`; `now` is stamped on signed webhooks.
    pub async fn send(
        &self,
        message: &OutgoingMessage,
        now: Timestamp,
    ) -> Result<(), AttemptError> {
        let attempt = async {
            match &message.channel {
                Channel::Webhook { url, secret } => {
                    webhook::send(&self.http, url, secret.as_deref(), message, now).await
                }
                Channel::Slack { webhook_url } => {
                    slack::send(&self.http, webhook_url, message).await
                }
                Channel::Email { to } => match &self.smtp {
                    Some(mailer) => mailer.send(to, message, now).await,
                    None => Err(AttemptError::Permanent(
                        "no SMTP server configured for email notifications".into(),
                    )),
                },
            }
        };
        // Each channel sets its own timeouts; this one is the backstop for all of them.
        match tokio::time::timeout(self.timeout + Duration::from_secs(1), attempt).await {
            Ok(result) => result,
            Err(_) => Err(AttemptError::Transient(format!(
                "timed out after {:?}",
                self.timeout
            ))),
        }
    }
}

/// Sorts an HTTP answer: 2xx delivered; 408, 429 and 5xx worth retrying; other 4xx (and 3xx,
/// since redirects are not followed) refused for good.
pub(crate) fn http_outcome(status: reqwest::StatusCode) -> Result<(), AttemptError> {
    let text = format!("HTTP {}", status.as_u16());
    if status.is_success() {
        Ok(())
    } else if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        Err(AttemptError::Transient(text))
    } else {
        Err(AttemptError::Permanent(text))
    }
}

/// Network errors are worth retrying, except a URL that cannot work at all.
pub(crate) fn transport_error(err: &reqwest::Error) -> AttemptError {
    let text = error_chain(err);
    if err.is_builder() {
        AttemptError::Permanent(text)
    } else {
        AttemptError::Transient(text)
    }
}

/// The error and its causes on one line, without the URL (it may hold a secret).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_sort_into_retry_or_give_up() {
        let s = |n| reqwest::StatusCode::from_u16(n).expect("status");
        assert_eq!(http_outcome(s(204)), Ok(()));
        for n in [500, 502, 503, 429, 408] {
            assert!(
                matches!(http_outcome(s(n)), Err(AttemptError::Transient(_))),
                "{n}"
            );
        }
        for n in [400, 401, 404, 410, 301] {
            assert!(
                matches!(http_outcome(s(n)), Err(AttemptError::Permanent(_))),
                "{n}"
            );
        }
    }
}
