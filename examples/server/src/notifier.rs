//! The server's notifier: [`ServerNotifier`], SMTP when `MAIL_SERVER` is set, else
//! [`LogNotifier`], which writes each message to the log.

use std::sync::Arc;
use std::time::Instant;

use icosistem_core::model::OutboxMessage;
use icosistem_core::ports::{DeliveryError, Notifier};
use icosistem_delivery::SmtpNotifier;
use icosistem_http::metrics::OUTBOX_DELIVERY_DURATION_SECONDS;

use crate::BoxError;
use crate::config::Config;

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

/// How `serve` (with in-process jobs) and `worker` deliver the outbox: by SMTP when the
/// `MAIL_*` variables configure it, to the log otherwise (development, or production with
/// `ICOSISTEM_MAIL_LOG_ONLY=true`). Every delivery is timed into
/// `outbox_delivery_duration_seconds{channel, outcome}`.
#[derive(Debug, Clone)]
pub enum ServerNotifier {
    /// Messages written to the log.
    Log(LogNotifier),
    /// Email over SMTP (pooled connections, shared by clones).
    Smtp(Arc<SmtpNotifier>),
}

impl ServerNotifier {
    /// The notifier `cfg` selects. Building the SMTP transport checks every template (a broken
    /// one stops the start, not a delivery) and must run inside the Tokio runtime (the
    /// connection pool's reaper is a task); no connection is opened yet.
    pub fn from_config(cfg: &Config) -> Result<Self, BoxError> {
        match &cfg.mail {
            Some(smtp) => {
                let notifier = SmtpNotifier::new(smtp).map_err(|e| format!("MAIL_*: {e}"))?;
                tracing::info!(server = %smtp.server, port = smtp.port, security = ?smtp.security, "email over SMTP");
                Ok(Self::Smtp(Arc::new(notifier)))
            }
            None => Ok(Self::Log(LogNotifier)),
        }
    }

    /// Whether mail really leaves the process.
    pub fn is_smtp(&self) -> bool {
        matches!(self, Self::Smtp(_))
    }
}

impl From<LogNotifier> for ServerNotifier {
    fn from(log: LogNotifier) -> Self {
        Self::Log(log)
    }
}

impl Notifier for ServerNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let started = Instant::now();
        let outcome = match self {
            Self::Log(log) => log.deliver(message).await,
            Self::Smtp(smtp) => smtp.deliver(message).await,
        };
        let label = match &outcome {
            Ok(()) => "sent",
            Err(e) if e.permanent => "failed",
            Err(_) => "retry",
        };
        metrics::histogram!(
            OUTBOX_DELIVERY_DURATION_SECONDS,
            "channel" => message.channel.as_str(),
            "outcome" => label
        )
        .record(started.elapsed().as_secs_f64());
        outcome
    }
}
