//! In-app notifications and the outbox of messages for other channels.
//!
//! Both are written in the same unit of work as the change that caused them, so a notification
//! exists if and only if its change was committed. A dispatcher later hands outbox messages to a
//! [`Notifier`](crate::ports::Notifier) and records the outcome.

use chrono::{DateTime, Utc};

use super::{Meta, NotificationId, OutboxId, UserId};
use crate::workflow::snake_enum;

snake_enum! {
    /// Read state of an in-app notification: `unread → read → archived`.
    pub enum NotificationStatus {
        /// New.
        Unread => "unread",
        /// Seen.
        Read => "read",
        /// Put away.
        Archived => "archived",
    }
}

/// A message shown inside the application.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    /// Id.
    pub id: NotificationId,
    /// Recipient.
    pub user_id: UserId,
    /// Stable kind (`application_accepted`, `review_assigned` …).
    pub kind: String,
    /// Short title (≤ 200).
    pub title: String,
    /// Body text.
    pub body: String,
    /// Structured data (ids of the things it is about).
    pub data: serde_json::Value,
    /// Read state.
    pub status: NotificationStatus,
    /// When read.
    pub read_at: Option<DateTime<Utc>>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

snake_enum! {
    /// Delivery channel of an outbox message.
    pub enum OutboxChannel {
        /// Email.
        Email => "email",
        /// Webhook.
        Webhook => "webhook",
    }
}

snake_enum! {
    /// Delivery state of an outbox message.
    pub enum OutboxStatus {
        /// Waiting to be delivered (or retried).
        Pending => "pending",
        /// Delivered.
        Sent => "sent",
        /// Gave up after the maximum attempts.
        Failed => "failed",
    }
}

/// A message to deliver on another channel, written atomically with its cause.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutboxMessage {
    /// Id.
    pub id: OutboxId,
    /// Channel.
    pub channel: OutboxChannel,
    /// Recipient user, when there is one.
    pub user_id: Option<UserId>,
    /// Address on the channel (an email address, a URL).
    pub recipient: String,
    /// Stable kind, same vocabulary as notifications.
    pub kind: String,
    /// Subject line.
    pub subject: String,
    /// Body text. May carry a one-time token (verification, reset): never logged.
    pub body: String,
    /// Structured data.
    pub data: serde_json::Value,
    /// Delivery state.
    pub status: OutboxStatus,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not to be tried before this instant.
    pub next_attempt_at: DateTime<Utc>,
    /// When delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}
