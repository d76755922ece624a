//! Email over SMTP with lettre. The SMTP URL decides the transport security:
//! `smtp://host:587?tls=required` (STARTTLS, required), `smtp://host:587?tls=opportunistic`,
//! `smtps://host:465` (TLS from the start), `smtp://host:25` (plain, for local relays and tests).
//! Credentials go in the URL's user info.
//!
//! The message id becomes the email's `Message-ID` (`<msg_...@warroom>`), so a mail system that
//! sees a redelivery can recognise it.

use std::time::{Duration, SystemTime};

use jiff::Timestamp;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use warroom_core::outbox::{AttemptError, OutgoingMessage};

use super::ChannelError;

/// Where and as whom to send email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// `smtp://`, `smtp://...?tls=required` or `smtps://` URL.
    pub url: String,
    /// Sender, e.g. `Warroom <warroom@example.com>`.
    pub from: String,
}

/// A ready SMTP transport.
#[derive(Clone)]
pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub(crate) fn new(settings: &SmtpSettings, timeout: Duration) -> Result<Self, ChannelError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| ChannelError::Smtp(format!("invalid SMTP URL: {e}")))?
            .timeout(Some(timeout))
            .build();
        let from = settings
            .from
            .parse()
            .map_err(|e| ChannelError::Smtp(format!("invalid sender {:?}: {e}", settings.from)))?;
        Ok(Self { transport, from })
    }

    /// Sends `message` to `to`, dated `now` (lettre would otherwise read the system clock).
    pub(crate) async fn send(
        &self,
        to: &str,
        message: &OutgoingMessage,
        now: Timestamp,
    ) -> Result<(), AttemptError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| AttemptError::Permanent(format!("invalid recipient {to:?}: {e}")))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .date(
                SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_second().max(0).unsigned_abs()),
            )
            .message_id(Some(format!("<{}@warroom>", message.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.text.clone())
            .map_err(|e| AttemptError::Permanent(format!("cannot build the email: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(AttemptError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(AttemptError::Transient(format!("SMTP: {e}"))),
        }
    }
}
