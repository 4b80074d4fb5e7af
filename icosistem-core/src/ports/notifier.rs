use std::future::Future;
use std::sync::Mutex;

use crate::model::OutboxMessage;

/// Why a delivery failed. `permanent` failures are not retried.
#[derive(Debug, thiserror::Error)]
#[error("delivery failed: {message}")]
pub struct DeliveryError {
    /// What went wrong (no secrets: it is stored on the outbox row).
    pub message: String,
    /// Retrying cannot help (bad address, rejected content).
    pub permanent: bool,
    /// The underlying error, when there is one.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl DeliveryError {
    /// A failure that may succeed later.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
            source: None,
        }
    }

    /// A failure that will not succeed on retry.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
            source: None,
        }
    }
}

/// What a delivery attempt observed besides its outcome: a webhook's HTTP status and latency,
/// kept on the outbox row for the endpoint's delivery log. Empty for channels that have neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReceipt {
    /// The HTTP status the receiver answered, when it answered.
    pub response_code: Option<u16>,
    /// Milliseconds from sending to the answer (or to the failure).
    pub latency_ms: Option<u64>,
}

/// Delivers outbox messages on their channel (SMTP, webhooks …). Called by
/// [`Ecosystem::deliver_outbox`](crate::service::Ecosystem::deliver_outbox) after the message
/// was committed, so a failure here never loses the change that caused it.
pub trait Notifier: Send + Sync + 'static {
    /// Delivers one message. Must be idempotent enough to survive a retry after a timeout.
    fn deliver(&self, message: &OutboxMessage) -> impl Future<Output = Result<(), DeliveryError>> + Send;

    /// Delivers one message and reports what the attempt observed. The outbox dispatcher calls
    /// this one; channels with nothing to report keep the default, which is `deliver`.
    fn deliver_with_receipt(
        &self,
        message: &OutboxMessage,
    ) -> impl Future<Output = (Result<(), DeliveryError>, DeliveryReceipt)> + Send {
        async move { (self.deliver(message).await, DeliveryReceipt::default()) }
    }
}

/// Keeps every delivered message in memory: the default for tests, examples and the in-memory
/// server, where no mail server exists.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    delivered: Mutex<Vec<OutboxMessage>>,
}

impl RecordingNotifier {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything delivered so far, oldest first.
    pub fn delivered(&self) -> Vec<OutboxMessage> {
        self.delivered.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Notifier for RecordingNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        self.delivered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.clone());
        Ok(())
    }
}

impl<N: Notifier> Notifier for std::sync::Arc<N> {
    fn deliver(&self, message: &OutboxMessage) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        (**self).deliver(message)
    }

    fn deliver_with_receipt(
        &self,
        message: &OutboxMessage,
    ) -> impl Future<Output = (Result<(), DeliveryError>, DeliveryReceipt)> + Send {
        (**self).deliver_with_receipt(message)
    }
}
