//! The server's notifier: [`ServerNotifier`] POSTs webhook messages to their endpoints and
//! hands every other message to its [`EmailNotifier`]: SMTP when `MAIL_SERVER` is set, else
//! [`LogNotifier`], which writes each message to the log.

use std::sync::Arc;
use std::time::Instant;

use icosistem_core::model::OutboxMessage;
use icosistem_core::ports::{DeliveryError, DeliveryReceipt, Notifier};
use icosistem_delivery::{SmtpNotifier, WebhookConfig, WebhookNotifier, WithWebhooks};
use icosistem_http::metrics::OUTBOX_DELIVERY_DURATION_SECONDS;
/// The notifier of a server without SMTP: each message becomes one log line, never its body
/// (it lives in `icosistem-runner`, next to the loops that deliver the outbox).
pub use icosistem_runner::LogNotifier;

use crate::BoxError;
use crate::config::Config;

/// How email leaves the server: by SMTP when the `MAIL_*` variables configure it, to the log
/// otherwise (development, or production with `ICOSISTEM_MAIL_LOG_ONLY=true`).
#[derive(Debug, Clone)]
pub enum EmailNotifier {
    /// Written to the log.
    Log(LogNotifier),
    /// Sent over SMTP.
    Smtp(Arc<SmtpNotifier>),
}

impl EmailNotifier {
    /// The email notifier of `cfg`: SMTP when `MAIL_SERVER` is set.
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
}

impl Notifier for EmailNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        match self {
            Self::Log(log) => log.deliver(message).await,
            Self::Smtp(smtp) => smtp.deliver(message).await,
        }
    }
}

/// How `serve` (with in-process jobs) and `worker` deliver the outbox: webhook messages are
/// POSTed to their endpoints (`ICOSISTEM_WEBHOOK_*`), every other channel goes to the
/// [`EmailNotifier`]. Every delivery is timed into
/// `outbox_delivery_duration_seconds{channel, outcome}`.
#[derive(Debug, Clone)]
pub struct ServerNotifier {
    inner: Arc<WithWebhooks<EmailNotifier>>,
}

impl ServerNotifier {
    /// The notifier of `cfg`: SMTP when `MAIL_SERVER` is set, webhooks as `ICOSISTEM_WEBHOOK_*`
    /// say.
    pub fn from_config(cfg: &Config) -> Result<Self, BoxError> {
        Self::new(EmailNotifier::from_config(cfg)?, &cfg.webhooks)
    }

    /// Email through `email`, webhooks as `webhooks` says.
    pub fn new(email: EmailNotifier, webhooks: &WebhookConfig) -> Result<Self, BoxError> {
        let webhooks = WebhookNotifier::new(webhooks).map_err(|e| format!("ICOSISTEM_WEBHOOK_*: {e}"))?;
        Ok(Self {
            inner: Arc::new(WithWebhooks::new(email, webhooks)),
        })
    }

    /// Whether mail really leaves the process.
    pub fn is_smtp(&self) -> bool {
        matches!(self.inner.other(), EmailNotifier::Smtp(_))
    }
}

/// Commands that deliver nothing (`seed-demo`, `create-admin`) and tests: email to the log,
/// webhooks with the default settings.
impl From<LogNotifier> for ServerNotifier {
    fn from(log: LogNotifier) -> Self {
        // reqwest's builder fails only when its TLS backend cannot start; rustls with ring and
        // compiled-in roots reads nothing from the system, so that is a build defect, not a
        // configuration an operator can fix.
        Self::new(EmailNotifier::Log(log), &WebhookConfig::default()).expect("the webhook HTTP client builds")
    }
}

impl Notifier for ServerNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        self.deliver_with_receipt(message).await.0
    }

    async fn deliver_with_receipt(&self, message: &OutboxMessage) -> (Result<(), DeliveryError>, DeliveryReceipt) {
        let started = Instant::now();
        let (outcome, receipt) = self.inner.deliver_with_receipt(message).await;
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
        (outcome, receipt)
    }
}
