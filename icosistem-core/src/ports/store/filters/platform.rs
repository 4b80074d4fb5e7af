//! Filters of what the platform keeps for itself: notifications, the outbox, the audit log and job
//! marks.

use chrono::{DateTime, Utc};

use super::eq;
use crate::model::*;
use crate::ports::store::Entity;

/// Filter of in-app notifications.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// Recipient.
    pub user_id: Option<UserId>,
    /// Read state.
    pub status: Option<NotificationStatus>,
    /// Kind.
    pub kind: Option<String>,
    /// Only notifications read at or before this instant (never-read ones excluded).
    pub read_at_or_before: Option<DateTime<Utc>>,
}

impl Entity for Notification {
    entity_basics!(
        NotificationId,
        NotificationId::KIND,
        NotificationFilter,
        |s| s.id,
        |m| m.meta
    );
    fn matches(&self, f: &NotificationFilter) -> bool {
        eq(&f.user_id, &self.user_id)
            && eq(&f.status, &self.status)
            && eq(&f.kind, &self.kind)
            && f.read_at_or_before
                .is_none_or(|t| self.read_at.is_some_and(|at| at <= t))
    }
}

/// Filter of outbox messages.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// Delivery state.
    pub status: Option<OutboxStatus>,
    /// Channel.
    pub channel: Option<OutboxChannel>,
    /// Only messages due at this instant (`next_attempt_at ≤ due_at`).
    pub due_at: Option<DateTime<Utc>>,
    /// For this user.
    pub user_id: Option<UserId>,
    /// Kind.
    pub kind: Option<String>,
    /// Deliveries to this webhook endpoint (`data.webhook_id`): its delivery log.
    pub webhook_id: Option<WebhookId>,
}

impl Entity for OutboxMessage {
    entity_basics!(OutboxId, OutboxId::KIND, OutboxFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &OutboxFilter) -> bool {
        eq(&f.status, &self.status)
            && eq(&f.channel, &self.channel)
            && f.due_at.is_none_or(|t| self.next_attempt_at <= t)
            && f.user_id.is_none_or(|u| self.user_id == Some(u))
            && eq(&f.kind, &self.kind)
            && f.webhook_id.is_none_or(|w| {
                self.channel == OutboxChannel::Webhook && self.data.get("webhook_id") == Some(&serde_json::json!(w))
            })
    }
}

/// Filter of webhook endpoints.
#[derive(Debug, Clone, Default)]
pub struct WebhookFilter {
    /// Of this organization.
    pub organization_id: Option<OrganizationId>,
    /// Only active (or only inactive) ones.
    pub active: Option<bool>,
}

impl Entity for WebhookEndpoint {
    entity_basics!(WebhookId, WebhookId::KIND, WebhookFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &WebhookFilter) -> bool {
        eq(&f.organization_id, &self.organization_id) && eq(&f.active, &self.active)
    }
}

/// Filter of audit events (API: `?actor_id&target_id&action&from&to`).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// By this actor.
    pub actor_id: Option<UserId>,
    /// About this entity.
    pub target_id: Option<uuid::Uuid>,
    /// This action.
    pub action: Option<String>,
    /// Inside this organization.
    pub organization_id: Option<OrganizationId>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Strictly before.
    pub to: Option<DateTime<Utc>>,
}

impl Entity for AuditEvent {
    type Id = AuditEventId;
    type Filter = AuditFilter;
    const KIND: &'static str = AuditEventId::KIND;
    fn id(&self) -> AuditEventId {
        self.id
    }
    /// Audit events are append-only: their version is always 1.
    fn version(&self) -> u64 {
        1
    }
    fn set_version(&mut self, _version: u64) {}
    fn touch(&mut self, _now: DateTime<Utc>, _by: Option<UserId>) {}
    fn matches(&self, f: &AuditFilter) -> bool {
        f.actor_id.is_none_or(|a| self.actor_id == Some(a))
            && eq(&f.target_id, &self.target_id)
            && eq(&f.action, &self.action)
            && f.organization_id.is_none_or(|o| self.organization_id == Some(o))
            && f.from.is_none_or(|t| self.at >= t)
            && f.to.is_none_or(|t| self.at < t)
    }
}

/// Filter of job marks.
#[derive(Debug, Clone, Default)]
pub struct JobMarkFilter {
    /// Exact key.
    pub key: Option<String>,
}

impl Entity for JobMark {
    type Id = JobMarkId;
    type Filter = JobMarkFilter;
    const KIND: &'static str = JobMarkId::KIND;
    fn id(&self) -> JobMarkId {
        self.id
    }
    /// Job marks are append-only: their version is always 1.
    fn version(&self) -> u64 {
        1
    }
    fn set_version(&mut self, _version: u64) {}
    fn touch(&mut self, _now: DateTime<Utc>, _by: Option<UserId>) {}
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("key", self.key.clone())]
    }
    fn matches(&self, f: &JobMarkFilter) -> bool {
        eq(&f.key, &self.key)
    }
}

/// Filter of calendar feeds.
#[derive(Debug, Clone, Default)]
pub struct CalendarFeedFilter {
    /// The feed of this user.
    pub user_id: Option<UserId>,
    /// Exact token hash (how a feed URL is resolved).
    pub token_hash: Option<String>,
}

impl Entity for CalendarFeed {
    entity_basics!(
        CalendarFeedId,
        CalendarFeedId::KIND,
        CalendarFeedFilter,
        |s| s.id,
        |m| m.meta
    );
    /// One feed per user, and a hash names one feed.
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![
            ("user_id", self.user_id.to_string()),
            ("token_hash", self.token_hash.clone()),
        ]
    }
    fn matches(&self, f: &CalendarFeedFilter) -> bool {
        eq(&f.user_id, &self.user_id) && eq(&f.token_hash, &self.token_hash)
    }
}
