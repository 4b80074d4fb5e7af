//! Webhook delivery (docs/domain.md §8): POSTs a signed outbox message to its endpoint with reqwest
//! (rustls, timeouts, no redirects), refusing private targets unless the operator allows them.
//!
//! The core signs the message when it hands it over (`data.headers`: `webhook-id`,
//! `webhook-timestamp`, `webhook-signature`), so this side only sends and classifies: 2xx is
//! delivered; 410 Gone is permanent (the receiver says the endpoint is gone for good); every
//! other answer, a timeout or a connection failure is transient and retried by the outbox.
//!
//! Private targets (loopback, RFC 1918, link-local, unique-local … — the core's
//! [`is_private_address`]) are refused twice: an IP literal in the URL before anything is sent,
//! and a host name by the DNS resolver, which drops every private address a name resolves to.
//! Checking the resolved addresses (not the name) is what stops a public name pointing at an
//! internal one; connecting to exactly the checked addresses is what stops a second lookup from
//! answering differently (DNS rebinding).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use icosistem_core::model::webhook::is_private_address;
use icosistem_core::model::{OutboxChannel, OutboxMessage};
use icosistem_core::ports::{DeliveryError, DeliveryReceipt, Notifier};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How webhooks are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Whole-request timeout, connecting included (`ICOSISTEM_WEBHOOK_TIMEOUT_SECS`, default 10).
    pub timeout: Duration,
    /// Allow private, loopback and link-local targets (`ICOSISTEM_WEBHOOK_ALLOW_PRIVATE=true`):
    /// development and tests only.
    pub allow_private: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            allow_private: false,
        }
    }
}

/// A webhook setting that does not parse; names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{name} is invalid: {reason}")]
pub struct WebhookConfigError {
    /// The variable.
    pub name: &'static str,
    /// Why.
    pub reason: String,
}

impl WebhookConfig {
    /// Reads `ICOSISTEM_WEBHOOK_TIMEOUT_SECS` and `ICOSISTEM_WEBHOOK_ALLOW_PRIVATE`.
    pub fn from_env() -> Result<Self, WebhookConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, WebhookConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut config = Self::default();
        if let Some(raw) = get("ICOSISTEM_WEBHOOK_TIMEOUT_SECS") {
            let secs = raw
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=300).contains(s))
                .ok_or_else(|| WebhookConfigError {
                    name: "ICOSISTEM_WEBHOOK_TIMEOUT_SECS",
                    reason: format!("{raw:?} is not a number of seconds from 1 to 300"),
                })?;
            config.timeout = Duration::from_secs(secs);
        }
        if let Some(raw) = get("ICOSISTEM_WEBHOOK_ALLOW_PRIVATE") {
            config.allow_private = match raw.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(WebhookConfigError {
                        name: "ICOSISTEM_WEBHOOK_ALLOW_PRIVATE",
                        reason: format!("{raw:?} is not true or false"),
                    });
                }
            };
        }
        Ok(config)
    }
}

/// Resolves with the system resolver and keeps only public addresses (all of them when private
/// targets are allowed). A name with no public address fails to resolve.
#[derive(Debug, Clone, Copy)]
struct PublicOnlyResolver {
    allow_private: bool,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| allow_private || !is_private_address(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to private addresses").into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Sends webhook outbox messages. Other channels are refused (permanently): wrap another
/// notifier in [`WithWebhooks`] to serve both.
#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    client: reqwest::Client,
    allow_private: bool,
}

impl WebhookNotifier {
    /// A notifier with its own connection pool.
    pub fn new(config: &WebhookConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .https_only(false)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .dns_resolver(Arc::new(PublicOnlyResolver {
                allow_private: config.allow_private,
            }))
            .user_agent(concat!("Icosistem-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow_private: config.allow_private,
        })
    }

    /// Sends one signed message; see the module docs for how answers are classified.
    pub async fn send(&self, message: &OutboxMessage) -> (Result<(), DeliveryError>, DeliveryReceipt) {
        let mut receipt = DeliveryReceipt::default();
        let url = match reqwest::Url::parse(&message.recipient) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            _ => {
                return (
                    Err(DeliveryError::permanent("the webhook URL is not an http(s) URL")),
                    receipt,
                );
            }
        };
        // An IP literal never reaches the resolver, so it is checked here.
        let literal = url.host_str().and_then(|host| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        });
        if let Some(ip) = literal
            && !self.allow_private
            && is_private_address(ip)
        {
            return (
                Err(DeliveryError::permanent(
                    "the webhook target is a private address (set ICOSISTEM_WEBHOOK_ALLOW_PRIVATE=true to allow it)",
                )),
                receipt,
            );
        }
        let Some(headers) = message.data.get("headers").and_then(|h| h.as_object()) else {
            return (
                Err(DeliveryError::permanent("the webhook message is not signed")),
                receipt,
            );
        };
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            if let Some(value) = headers.get(name).and_then(|v| v.as_str()) {
                request = request.header(name, value);
            }
        }
        let started = Instant::now();
        let outcome = request.body(message.body.clone()).send().await;
        receipt.latency_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        let response = match outcome {
            Ok(response) => response,
            Err(error) => {
                let what = if error.is_timeout() {
                    "the webhook receiver timed out"
                } else if error.is_connect() {
                    "could not connect to the webhook receiver"
                } else {
                    "the webhook request failed"
                };
                let mut failure = DeliveryError::transient(what);
                failure.source = Some(Box::new(error));
                return (Err(failure), receipt);
            }
        };
        let status = response.status();
        receipt.response_code = Some(status.as_u16());
        if status.is_success() {
            (Ok(()), receipt)
        } else if status == reqwest::StatusCode::GONE {
            (
                Err(DeliveryError::permanent("the webhook receiver answered 410 Gone")),
                receipt,
            )
        } else {
            (
                Err(DeliveryError::transient(format!(
                    "the webhook receiver answered {}",
                    status.as_u16()
                ))),
                receipt,
            )
        }
    }
}

impl Notifier for WebhookNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        self.deliver_with_receipt(message).await.0
    }

    async fn deliver_with_receipt(&self, message: &OutboxMessage) -> (Result<(), DeliveryError>, DeliveryReceipt) {
        if message.channel != OutboxChannel::Webhook {
            return (
                Err(DeliveryError::permanent("not a webhook message")),
                DeliveryReceipt::default(),
            );
        }
        self.send(message).await
    }
}

/// A notifier for every channel: webhook messages go to a [`WebhookNotifier`], everything else
/// to the wrapped notifier (email over SMTP, or the log).
#[derive(Debug, Clone)]
pub struct WithWebhooks<E> {
    other: E,
    webhooks: WebhookNotifier,
}

impl<E: Notifier> WithWebhooks<E> {
    /// Sends webhooks with `webhooks` and every other message with `other`.
    pub fn new(other: E, webhooks: WebhookNotifier) -> Self {
        Self { other, webhooks }
    }

    /// The notifier of the other channels.
    pub fn other(&self) -> &E {
        &self.other
    }
}

impl<E: Notifier> Notifier for WithWebhooks<E> {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        self.deliver_with_receipt(message).await.0
    }

    async fn deliver_with_receipt(&self, message: &OutboxMessage) -> (Result<(), DeliveryError>, DeliveryReceipt) {
        match message.channel {
            OutboxChannel::Webhook => self.webhooks.send(message).await,
            _ => self.other.deliver_with_receipt(message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_the_environment_names() {
        let config = WebhookConfig::from_lookup(|name| match name {
            "ICOSISTEM_WEBHOOK_TIMEOUT_SECS" => Some("3".into()),
            "ICOSISTEM_WEBHOOK_ALLOW_PRIVATE" => Some("true".into()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(config.timeout, Duration::from_secs(3));
        assert!(config.allow_private);
        assert_eq!(
            WebhookConfig::from_lookup(|_| None).expect("defaults"),
            WebhookConfig::default()
        );
        let error =
            WebhookConfig::from_lookup(|name| (name == "ICOSISTEM_WEBHOOK_TIMEOUT_SECS").then(|| "0".to_owned()))
                .expect_err("zero");
        assert_eq!(error.name, "ICOSISTEM_WEBHOOK_TIMEOUT_SECS");
    }
}
