//! Webhook endpoints of an organization and the events they receive (docs/domain.md §8).
//!
//! Events are produced in one place: [`Uow::audit`] hands every audit event to
//! [`Uow::enqueue_webhook_events`], which writes one outbox message (channel `webhook`) per
//! active endpoint of the event's organization that subscribed to its type, in the unit of work
//! of the change. The body is `{type, timestamp, data}`; `data` is built from the audit event's
//! target and before/after summaries only, and never names a person, so a blind program's
//! applicants stay anonymous to the organization's systems too.
//!
//! Signing happens at delivery ([`Ecosystem::deliver_outbox`] calls [`prepare_webhook`]), so a
//! rotated secret applies to messages already queued, and the previous secret keeps signing
//! during its overlap window. After each attempt [`Uow::settle_webhook`] tracks the endpoint's
//! failures and disables it after `Limits::webhook_disable_after_hours`, telling its owners.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{Context, Ecosystem, Notice, Uow, authorize_seen, check_version};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::value::{AtField, Url};
use crate::model::webhook::{TEST_EVENT, event_type_of, event_types, signature_header};
use crate::model::{
    AuditEvent, MemberRole, Organization, OrganizationId, OutboxChannel, OutboxMessage, OutboxStatus, WebhookEndpoint,
    WebhookId, WebhookSecret,
};
use crate::policy::{Action, Facts};
use crate::ports::store::{MemberFilter, OutboxFilter, Page, PageRequest, Store, Transaction, WebhookFilter};
use crate::ports::{Clock, DeliveryError, DeliveryReceipt, Notifier};

/// Longest description of an endpoint, in chars.
pub const WEBHOOK_DESCRIPTION_MAX: usize = 500;

/// A new endpoint (`POST /organizations/{id}/webhooks`).
#[derive(Debug, Clone, Default)]
pub struct CreateWebhook {
    /// Target URL: https (plain http only to a loopback host, for development).
    pub url: String,
    /// Event types to receive; at least one, each of [`event_types`].
    pub events: Vec<String>,
    /// Free text (≤ 500 chars).
    pub description: Option<String>,
}

/// Changes to an endpoint (`PATCH /webhooks/{id}`); absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct UpdateWebhook {
    /// New URL.
    pub url: Option<String>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// New description (empty clears it).
    pub description: Option<String>,
    /// Disable (`false`) or re-enable (`true`); re-enabling clears the failure run.
    pub active: Option<bool>,
    /// The version the caller read (`If-Match`).
    pub version: Option<u64>,
}

/// An endpoint with its secret, answered once: at creation and after a rotation.
#[derive(Debug, Clone)]
pub struct WebhookWithSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The new signing secret (`whsec_…`).
    pub secret: WebhookSecret,
}

/// Checks a target URL: http(s), and https unless the host is loopback (development and tests;
/// the delivery side still refuses loopback targets unless private targets are allowed).
fn webhook_url(field: &'static str, raw: &str, errors: &mut ValidationErrors) -> Option<String> {
    let url = errors.check(Url::parse(raw).at(field))?;
    let loopback = url.host() == "localhost" || url.host().starts_with("127.");
    if url.scheme() != "https" && !loopback {
        errors.push(field, "must use https");
        return None;
    }
    Some(url.as_str().to_owned())
}

fn webhook_events(field: &'static str, events: &[String], errors: &mut ValidationErrors) -> Option<Vec<String>> {
    let known = event_types();
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for event in events {
        let event = event.trim();
        if !known.contains(&event) {
            errors.push(
                field,
                format!("{event:?} is not an event type (one of: {})", known.join(", ")),
            );
            return None;
        }
        out.push(event.to_owned());
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        errors.push(field, "must name at least one event type");
        return None;
    }
    Some(out)
}

fn webhook_description(raw: Option<&str>, errors: &mut ValidationErrors) -> String {
    let text = raw.map(str::trim).unwrap_or_default();
    if text.chars().count() > WEBHOOK_DESCRIPTION_MAX {
        errors.push(
            "description",
            format!("must be at most {WEBHOOK_DESCRIPTION_MAX} characters"),
        );
    }
    text.to_owned()
}

impl<T: Transaction> Uow<T> {
    /// Writes the webhook messages of one audited change: one per active endpoint of its
    /// organization subscribed to its event type. Called by [`Uow::audit`] and nowhere else.
    pub(crate) async fn enqueue_webhook_events(&mut self, event: &AuditEvent) -> Result<()> {
        let (Some(event_type), Some(organization_id)) = (event_type_of(&event.action), event.organization_id) else {
            return Ok(());
        };
        let endpoints = match self.webhooks.take() {
            Some((org, endpoints)) if org == organization_id => endpoints,
            _ => {
                self.all(&WebhookFilter {
                    organization_id: Some(organization_id),
                    active: Some(true),
                })
                .await?
            }
        };
        let wanted: Vec<WebhookEndpoint> = endpoints.iter().filter(|e| e.wants(event_type)).cloned().collect();
        // No use case changes endpoints and audits an event that becomes a webhook, so the
        // list read here stays true for the rest of the unit of work.
        self.webhooks = Some((organization_id, endpoints));
        if wanted.is_empty() {
            return Ok(());
        }
        // Target and status summaries only: no actor, no applicant (blind review).
        let mut data = json!({
            "object": event.target_kind,
            "id": event.target_id,
            "organization_id": organization_id,
        });
        if let Some(before) = &event.before {
            data["previous"] = before.clone();
        }
        if let Some(after) = &event.after {
            data["current"] = after.clone();
        }
        for endpoint in &wanted {
            let message = self.webhook_message(endpoint, event_type, data.clone());
            self.insert(&message).await?;
        }
        Ok(())
    }

    /// The outbox message of one event for one endpoint. Unsigned: it is signed when sent.
    fn webhook_message(&self, endpoint: &WebhookEndpoint, event_type: &str, data: Value) -> OutboxMessage {
        let body = json!({
            "type": event_type,
            "timestamp": self.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        });
        OutboxMessage {
            id: self.new_id(),
            channel: OutboxChannel::Webhook,
            user_id: None,
            recipient: endpoint.url.clone(),
            kind: event_type.to_owned(),
            subject: event_type.to_owned(),
            body: body.to_string(),
            data: json!({ "webhook_id": endpoint.id, "organization_id": endpoint.organization_id }),
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: self.now,
            sent_at: None,
            last_error: None,
            meta: crate::model::Meta::new(self.now, None),
        }
    }

    /// Records one delivery attempt of a webhook message on its endpoint: a success ends a
    /// failure run; a failure starts or extends one, and a run as long as `disable_after`
    /// disables the endpoint and tells its organization's owners (in-app and email).
    pub(crate) async fn settle_webhook(
        &mut self,
        message: &OutboxMessage,
        delivered: bool,
        disable_after: Duration,
    ) -> Result<()> {
        let Some(id) = webhook_id_of(message) else {
            return Ok(());
        };
        let Some(mut endpoint) = crate::ports::store::Repo::<WebhookEndpoint>::get_for_update(&mut self.tx, id).await?
        else {
            return Ok(());
        };
        let now = self.now;
        let mut disabled = false;
        if delivered {
            endpoint.failing_since = None;
            endpoint.last_success_at = Some(now);
        } else {
            endpoint.last_failure_at = Some(now);
            let since = *endpoint.failing_since.get_or_insert(now);
            if endpoint.active && now - since >= disable_after {
                endpoint.active = false;
                endpoint.disabled_reason =
                    Some(format!("every delivery failed for {} hours", disable_after.num_hours()));
                disabled = true;
            }
        }
        let endpoint = self.update(endpoint).await?;
        if disabled {
            self.audit(
                "webhook.auto_disable",
                "webhook",
                endpoint.id,
                Some(endpoint.organization_id),
                Some(json!({ "active": true })),
                Some(json!({ "active": false })),
            )
            .await?;
            let owners = self
                .all(&MemberFilter {
                    organization_id: Some(endpoint.organization_id),
                    ..Default::default()
                })
                .await?
                .into_iter()
                .filter(|m| m.role == MemberRole::Owner);
            for owner in owners {
                self.notify_id(
                    owner.user_id,
                    Notice::new(
                        "webhook_disabled",
                        "A webhook endpoint was disabled",
                        format!(
                            "Deliveries to {} failed for {} hours, so it was disabled. Fix the receiver and \
                             re-enable it.",
                            endpoint.url,
                            disable_after.num_hours()
                        ),
                        json!({
                            "webhook_id": endpoint.id,
                            "organization_id": endpoint.organization_id,
                            "url": endpoint.url,
                        }),
                    ),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// The endpoint a webhook message is for.
fn webhook_id_of(message: &OutboxMessage) -> Option<WebhookId> {
    if message.channel != OutboxChannel::Webhook {
        return None;
    }
    message
        .data
        .get("webhook_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<uuid::Uuid>().ok())
        .map(WebhookId::from_uuid)
}

/// What the dispatcher does with a due message.
pub(crate) enum Prepared {
    /// Hand it to the notifier (a webhook message now carries its signature headers).
    Deliver(Box<OutboxMessage>),
    /// Settle it without sending: its endpoint is gone or disabled.
    Refuse(DeliveryError),
}

/// Signs a due webhook message with its endpoint's secrets at `now` (other channels pass through).
/// The headers go into `data.headers` of the copy handed to the notifier, never to the store.
pub(crate) fn prepare_webhook(
    message: &OutboxMessage,
    endpoint: Option<&WebhookEndpoint>,
    now: DateTime<Utc>,
) -> Prepared {
    if message.channel != OutboxChannel::Webhook {
        return Prepared::Deliver(Box::new(message.clone()));
    }
    let Some(endpoint) = endpoint else {
        return Prepared::Refuse(DeliveryError::permanent("the webhook endpoint was deleted"));
    };
    if !endpoint.active {
        return Prepared::Refuse(DeliveryError::permanent("the webhook endpoint is disabled"));
    }
    let id = message.id.to_string();
    let timestamp = now.timestamp();
    let signature = signature_header(&endpoint.signing_secrets(now), &id, timestamp, &message.body);
    let mut signed = message.clone();
    // The endpoint's current URL: an edit applies to messages already queued.
    signed.recipient = endpoint.url.clone();
    signed.data["headers"] = json!({
        "webhook-id": id,
        "webhook-timestamp": timestamp.to_string(),
        "webhook-signature": signature,
    });
    Prepared::Deliver(Box::new(signed))
}

/// Keeps what a delivery attempt observed on the outbox row (the delivery log reads it).
pub(crate) fn record_receipt(message: &mut OutboxMessage, receipt: DeliveryReceipt) {
    if message.channel != OutboxChannel::Webhook {
        return;
    }
    message.data["response_code"] = json!(receipt.response_code);
    message.data["latency_ms"] = json!(receipt.latency_ms);
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Loads the organization and checks the caller may manage its webhooks: a caller who may
    /// not see it gets `NotFound`, a member who is not its owner `Forbidden`.
    async fn webhook_scope(&self, uow: &mut Uow<S::Tx>, organization_id: OrganizationId) -> Result<()> {
        let org: Organization = uow.load(organization_id).await?;
        let facts = Facts {
            org_role: uow.org_role(organization_id).await?,
            is_public: org.is_public,
            ..Facts::none()
        };
        authorize_seen(
            &uow.ctx.actor,
            Action::ViewOrganization,
            Action::ManageWebhooks,
            &facts,
            "organization",
            organization_id,
        )
    }

    /// Loads an endpoint the caller may manage; one of an organization they do not manage is
    /// `NotFound` (its existence does not leak).
    async fn load_webhook(&self, uow: &mut Uow<S::Tx>, id: WebhookId, for_update: bool) -> Result<WebhookEndpoint> {
        let endpoint: WebhookEndpoint = if for_update {
            uow.load_for_update(id).await?
        } else {
            uow.load(id).await?
        };
        let facts = Facts {
            org_role: uow.org_role(endpoint.organization_id).await?,
            ..Facts::none()
        };
        // Members who do not manage webhooks see that the endpoint exists (403); outsiders do not.
        authorize_seen(
            &uow.ctx.actor,
            Action::ViewOrganization,
            Action::ManageWebhooks,
            &facts,
            "webhook",
            id,
        )?;
        Ok(endpoint)
    }

    /// Registers an endpoint for an organization (its owners, admins). The answer carries the
    /// signing secret, which is never shown again.
    pub async fn create_webhook(
        &self,
        ctx: &Context,
        organization_id: OrganizationId,
        input: CreateWebhook,
    ) -> Result<WebhookWithSecret> {
        let mut uow = self.uow(ctx).await?;
        // The organization row guards the per-organization count.
        let _: Organization = uow.load_for_update(organization_id).await?;
        self.webhook_scope(&mut uow, organization_id).await?;
        let mut errors = ValidationErrors::new();
        let url = webhook_url("url", &input.url, &mut errors);
        let events = webhook_events("events", &input.events, &mut errors);
        let description = webhook_description(input.description.as_deref(), &mut errors);
        errors.into_result()?;
        let (Some(url), Some(events)) = (url, events) else {
            unreachable!("validation passed");
        };
        let existing = uow
            .count(&WebhookFilter {
                organization_id: Some(organization_id),
                ..Default::default()
            })
            .await?;
        if existing >= u64::from(self.limits.max_webhooks_per_organization) {
            return Err(Error::invalid(
                "url",
                format!(
                    "the organization already has the most webhook endpoints allowed ({})",
                    self.limits.max_webhooks_per_organization
                ),
            ));
        }
        let secret = WebhookSecret::generate();
        let endpoint = WebhookEndpoint {
            id: uow.new_id(),
            organization_id,
            url,
            events,
            description,
            active: true,
            secret: secret.clone(),
            previous_secret: None,
            previous_secret_expires_at: None,
            failing_since: None,
            last_success_at: None,
            last_failure_at: None,
            disabled_reason: None,
            meta: uow.meta(),
        };
        uow.insert(&endpoint).await?;
        uow.audit(
            "webhook.create",
            "webhook",
            endpoint.id,
            Some(organization_id),
            None,
            Some(json!({ "url": endpoint.url, "events": endpoint.events })),
        )
        .await?;
        uow.commit().await?;
        Ok(WebhookWithSecret { endpoint, secret })
    }

    /// An organization's endpoints, newest first (its owners, admins).
    pub async fn list_webhooks(
        &self,
        ctx: &Context,
        organization_id: OrganizationId,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>> {
        let mut uow = self.uow(ctx).await?;
        self.webhook_scope(&mut uow, organization_id).await?;
        uow.list(
            &WebhookFilter {
                organization_id: Some(organization_id),
                ..Default::default()
            },
            page,
        )
        .await
    }

    /// One endpoint (without its secret).
    pub async fn get_webhook(&self, ctx: &Context, id: WebhookId) -> Result<WebhookEndpoint> {
        let mut uow = self.uow(ctx).await?;
        self.load_webhook(&mut uow, id, false).await
    }

    /// Changes an endpoint's URL, events, description or active flag. Re-enabling clears the
    /// failure run, so an endpoint disabled for failing gets a fresh window.
    pub async fn update_webhook(&self, ctx: &Context, id: WebhookId, input: UpdateWebhook) -> Result<WebhookEndpoint> {
        let mut uow = self.uow(ctx).await?;
        let mut endpoint = self.load_webhook(&mut uow, id, true).await?;
        check_version(&endpoint, input.version)?;
        let mut errors = ValidationErrors::new();
        let url = input.url.as_deref().map(|u| webhook_url("url", u, &mut errors));
        let events = input
            .events
            .as_deref()
            .map(|e| webhook_events("events", e, &mut errors));
        let description = input
            .description
            .as_deref()
            .map(|d| webhook_description(Some(d), &mut errors));
        errors.into_result()?;
        let before = json!({ "url": endpoint.url, "events": endpoint.events, "active": endpoint.active });
        if let Some(Some(url)) = url {
            endpoint.url = url;
        }
        if let Some(Some(events)) = events {
            endpoint.events = events;
        }
        if let Some(description) = description {
            endpoint.description = description;
        }
        if let Some(active) = input.active {
            if active && !endpoint.active {
                endpoint.failing_since = None;
                endpoint.disabled_reason = None;
            }
            endpoint.active = active;
        }
        let endpoint = uow.update(endpoint).await?;
        uow.audit(
            "webhook.update",
            "webhook",
            endpoint.id,
            Some(endpoint.organization_id),
            Some(before),
            Some(json!({ "url": endpoint.url, "events": endpoint.events, "active": endpoint.active })),
        )
        .await?;
        uow.commit().await?;
        Ok(endpoint)
    }

    /// Removes an endpoint for good. Its queued messages fail when their turn comes.
    pub async fn delete_webhook(&self, ctx: &Context, id: WebhookId) -> Result<()> {
        let mut uow = self.uow(ctx).await?;
        let endpoint = self.load_webhook(&mut uow, id, true).await?;
        uow.delete(id).await?;
        uow.audit(
            "webhook.delete",
            "webhook",
            id,
            Some(endpoint.organization_id),
            Some(json!({ "url": endpoint.url })),
            None,
        )
        .await?;
        uow.commit().await
    }

    /// Replaces the signing secret. The previous one keeps signing (next to the new one) for
    /// `Limits::webhook_secret_overlap`, so receivers can switch without losing events.
    pub async fn rotate_webhook_secret(&self, ctx: &Context, id: WebhookId) -> Result<WebhookWithSecret> {
        let mut uow = self.uow(ctx).await?;
        let mut endpoint = self.load_webhook(&mut uow, id, true).await?;
        let secret = WebhookSecret::generate();
        endpoint.previous_secret = Some(std::mem::replace(&mut endpoint.secret, secret.clone()));
        endpoint.previous_secret_expires_at = Some(uow.now + self.limits.webhook_secret_overlap);
        let endpoint = uow.update(endpoint).await?;
        uow.audit(
            "webhook.rotate_secret",
            "webhook",
            endpoint.id,
            Some(endpoint.organization_id),
            None,
            None,
        )
        .await?;
        uow.commit().await?;
        Ok(WebhookWithSecret { endpoint, secret })
    }

    /// Queues a `webhook.test` event to an active endpoint; answers the queued delivery.
    pub async fn send_test_webhook(&self, ctx: &Context, id: WebhookId) -> Result<OutboxMessage> {
        let mut uow = self.uow(ctx).await?;
        let endpoint = self.load_webhook(&mut uow, id, false).await?;
        if !endpoint.active {
            return Err(Error::invalid_transition("webhook", "disabled", "test"));
        }
        let message = uow.webhook_message(
            &endpoint,
            TEST_EVENT,
            json!({ "webhook_id": endpoint.id, "organization_id": endpoint.organization_id }),
        );
        uow.insert(&message).await?;
        uow.commit().await?;
        Ok(message)
    }

    /// The delivery log of an endpoint, newest first: one row per event with its state,
    /// attempts, last response code and latency (the message bodies and signatures are not part
    /// of it).
    pub async fn list_webhook_deliveries(
        &self,
        ctx: &Context,
        id: WebhookId,
        page: PageRequest,
    ) -> Result<Page<OutboxMessage>> {
        let mut uow = self.uow(ctx).await?;
        self.load_webhook(&mut uow, id, false).await?;
        uow.list(
            &OutboxFilter {
                webhook_id: Some(id),
                ..Default::default()
            },
            page,
        )
        .await
    }

    /// Signs a due message if it is a webhook (see [`prepare_webhook`]).
    pub(crate) async fn prepare_delivery(&self, message: &OutboxMessage) -> Result<Prepared> {
        let endpoint = match webhook_id_of(message) {
            Some(id) => {
                let mut uow = self.uow(&Context::system()).await?;
                uow.get(id).await?
            }
            None => None,
        };
        Ok(prepare_webhook(message, endpoint.as_ref(), self.clock.now()))
    }
}
