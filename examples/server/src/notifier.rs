//! [`LogNotifier`]: "delivers" outbox messages by writing them to the log.

use icosistem_core::model::OutboxMessage;
use icosistem_core::ports::{DeliveryError, Notifier};

/// The notifier of a server without SMTP: each message becomes one log line with its channel,
/// recipient, kind and subject, so an operator sees that a verification or reset email went
/// out. The body is never logged: verification and password-reset bodies carry a token that
/// would let anyone reading the logs take over the account.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        tracing::info!(
            target: "icosistem_server::outbox",
            channel = %message.channel,
            recipient = %message.recipient,
            kind = %message.kind,
            subject = %message.subject,
            attempt = message.attempts + 1,
            "outbox message delivered to the log (no SMTP configured)"
        );
        Ok(())
    }
}
