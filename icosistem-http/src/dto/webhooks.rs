//! Webhook endpoints and their delivery log (docs/domain.md §8). A secret appears in exactly two
//! answers — the creation and a rotation — and never in a read or a list.

use chrono::{DateTime, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{OutboxMessage, WebhookEndpoint};
use icosistem_core::service::{CreateWebhook, UpdateWebhook, WebhookWithSecret};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A webhook endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WebhookDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The organization whose events it receives.
    #[schema(value_type = String, format = Uuid)]
    pub organization_id: String,
    /// Target URL.
    pub url: String,
    /// Event types it receives (`application.submitted`, `application.decided`,
    /// `enrollment.created`, `review.submitted` …).
    pub events: Vec<String>,
    /// Free text.
    pub description: String,
    /// Receives events.
    pub active: bool,
    /// Why the platform disabled it (after failing too long), if it did.
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed deliveries.
    pub failing_since: Option<DateTime<Utc>>,
    /// Last successful delivery.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last failed delivery.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs deliveries.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&WebhookEndpoint> for WebhookDto {
    fn from(w: &WebhookEndpoint) -> Self {
        Self {
            id: w.id.to_string(),
            organization_id: w.organization_id.to_string(),
            url: w.url.clone(),
            events: w.events.clone(),
            description: w.description.clone(),
            active: w.active,
            disabled_reason: w.disabled_reason.clone(),
            failing_since: w.failing_since,
            last_success_at: w.last_success_at,
            last_failure_at: w.last_failure_at,
            previous_secret_expires_at: w.previous_secret_expires_at,
            version: w.meta.version,
            created_at: w.meta.created_at,
            updated_at: w.meta.updated_at,
        }
    }
}

/// An endpoint with its new signing secret: the answer of a creation or a rotation, the only
/// time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WebhookSecretDto {
    /// The endpoint.
    #[serde(flatten)]
    pub webhook: WebhookDto,
    /// The signing secret (`whsec_` and the base64 key), for verifying `webhook-signature` as the
    /// Standard Webhooks libraries do. Store it now: it is not shown again.
    pub secret: String,
}

impl From<&WebhookWithSecret> for WebhookSecretDto {
    fn from(w: &WebhookWithSecret) -> Self {
        Self {
            webhook: WebhookDto::from(&w.endpoint),
            secret: w.secret.expose().to_owned(),
        }
    }
}

/// One event sent (or to send) to an endpoint: its delivery state, never its body or signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WebhookDeliveryDto {
    /// Id (UUID); also the `webhook-id` header the receiver saw (its idempotency key).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Event type.
    pub event_type: String,
    /// `pending` (waiting or retrying), `sent` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: u32,
    /// The HTTP status of the last answer, when the receiver answered.
    pub response_code: Option<u16>,
    /// Milliseconds the last attempt took.
    pub latency_ms: Option<u64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the event was queued.
    pub created_at: DateTime<Utc>,
}

impl From<&OutboxMessage> for WebhookDeliveryDto {
    fn from(m: &OutboxMessage) -> Self {
        let number = |key: &str| m.data.get(key).and_then(serde_json::Value::as_u64);
        Self {
            id: m.id.to_string(),
            event_type: m.kind.clone(),
            status: m.status.as_str().to_owned(),
            attempts: m.attempts,
            response_code: number("response_code").and_then(|c| u16::try_from(c).ok()),
            latency_ms: number("latency_ms"),
            last_error: m.last_error.clone(),
            next_attempt_at: m.next_attempt_at,
            delivered_at: m.sent_at,
            created_at: m.meta.created_at,
        }
    }
}

/// `POST /api/v2/organizations/{id}/webhooks`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateWebhookRequest {
    /// Target URL, required: https (plain http only to a loopback host, for development).
    #[schema(schema_with = super::schema::webhook_url, required = true, nullable = false)]
    pub url: Option<String>,
    /// Event types to receive, at least one, required.
    #[schema(schema_with = super::schema::webhook_events, required = true, nullable = false)]
    pub events: Option<Vec<String>>,
    /// Free text (≤ 500 chars).
    #[schema(schema_with = super::schema::text_or_null::<0, 500>)]
    pub description: Option<String>,
}

impl TryFrom<CreateWebhookRequest> for CreateWebhook {
    type Error = ValidationErrors;

    fn try_from(body: CreateWebhookRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let url = super::parse::required_text(&mut errors, "url", body.url);
        let events = match body.events {
            Some(events) => events,
            None => {
                errors.push("events", "is required");
                Vec::new()
            }
        };
        errors.into_result()?;
        Ok(CreateWebhook {
            url: url.unwrap_or_default(),
            events,
            description: body.description,
        })
    }
}

/// `PATCH /api/v2/webhooks/{id}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateWebhookRequest {
    /// New target URL.
    #[schema(schema_with = super::schema::webhook_url_or_null)]
    pub url: Option<String>,
    /// New event types (at least one).
    #[schema(schema_with = super::schema::webhook_events_or_null)]
    pub events: Option<Vec<String>>,
    /// New description (empty clears it).
    #[schema(schema_with = super::schema::text_or_null::<0, 500>)]
    pub description: Option<String>,
    /// `false` disables the endpoint; `true` re-enables it with a fresh failure window.
    pub active: Option<bool>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

impl From<UpdateWebhookRequest> for UpdateWebhook {
    fn from(body: UpdateWebhookRequest) -> Self {
        UpdateWebhook {
            url: body.url,
            events: body.events,
            description: body.description,
            active: body.active,
            version: body.version,
        }
    }
}
