//! In-app notifications, outbox messages and the append-only audit log (`0005_inbox.sql`).

use icosistem_core::model::{AuditEvent, Notification, OutboxMessage};
use icosistem_core::ports::store::{AuditFilter, NotificationFilter, OutboxFilter};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::identity::{bind_meta, filter_eq, meta};
use crate::entity::{PgEntity, parse, unsigned};

impl PgEntity for Notification {
    const TABLE: &'static str = "notifications";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "user_id",
        "kind",
        "title",
        "body",
        "data",
        "status",
        "read_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.user_id))
            .push_bind(self.kind.clone())
            .push_bind(self.title.clone())
            .push_bind(self.body.clone())
            .push_bind(self.data.clone())
            .push_bind(self.status.as_str())
            .push_bind(self.read_at);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Notification {
            id: row.try_get::<Uuid, _>("id")?.into(),
            user_id: row.try_get::<Uuid, _>("user_id")?.into(),
            kind: row.try_get("kind")?,
            title: row.try_get("title")?,
            body: row.try_get("body")?,
            data: row.try_get("data")?,
            status: parse(row, "status")?,
            read_at: row.try_get("read_at")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &NotificationFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "user_id", f.user_id.map(Uuid::from));
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        filter_eq!(qb, "kind", f.kind.clone());
        // A never-read notification has a NULL `read_at`, which no comparison selects.
        if let Some(t) = f.read_at_or_before {
            qb.push(" AND read_at <= ").push_bind(t);
        }
    }
}

impl PgEntity for OutboxMessage {
    const TABLE: &'static str = "outbox_messages";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "channel",
        "user_id",
        "recipient",
        "kind",
        "subject",
        "body",
        "data",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(self.channel.as_str())
            .push_bind(self.user_id.map(Uuid::from))
            .push_bind(self.recipient.clone())
            .push_bind(self.kind.clone())
            .push_bind(self.subject.clone())
            .push_bind(self.body.clone())
            .push_bind(self.data.clone())
            .push_bind(self.status.as_str())
            .push_bind(i64::from(self.attempts))
            .push_bind(self.next_attempt_at)
            .push_bind(self.sent_at)
            .push_bind(self.last_error.clone());
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(OutboxMessage {
            id: row.try_get::<Uuid, _>("id")?.into(),
            channel: parse(row, "channel")?,
            user_id: row.try_get::<Option<Uuid>, _>("user_id")?.map(Into::into),
            recipient: row.try_get("recipient")?,
            kind: row.try_get("kind")?,
            subject: row.try_get("subject")?,
            body: row.try_get("body")?,
            data: row.try_get("data")?,
            status: parse(row, "status")?,
            attempts: unsigned(row, "attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            sent_at: row.try_get("sent_at")?,
            last_error: row.try_get("last_error")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &OutboxFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        filter_eq!(qb, "channel", f.channel.map(|c| c.as_str()));
        if let Some(t) = f.due_at {
            qb.push(" AND next_attempt_at <= ").push_bind(t);
        }
        // Messages without a user (webhooks) never match a user filter: NULL = $1 is not true.
        filter_eq!(qb, "user_id", f.user_id.map(Uuid::from));
        filter_eq!(qb, "kind", f.kind.clone());
        // The same expression and predicate as `outbox_messages_webhook_idx`.
        if let Some(w) = f.webhook_id {
            qb.push(" AND channel = 'webhook' AND (data ->> 'webhook_id') = ")
                .push_bind(Uuid::from(w).to_string());
        }
    }
}

impl PgEntity for AuditEvent {
    const TABLE: &'static str = "audit_events";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "actor_id",
        "actor_kind",
        "action",
        "target_kind",
        "target_id",
        "organization_id",
        "before",
        "after",
        "request_id",
        "ip",
        "at",
    ];
    // Append-only: no version column (the core's `version()` is always 1), and the table's
    // trigger refuses any UPDATE or DELETE of an existing event.
    const VERSIONED: bool = false;

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(self.actor_id.map(Uuid::from))
            .push_bind(self.actor_kind.clone())
            .push_bind(self.action.clone())
            .push_bind(self.target_kind.clone())
            .push_bind(self.target_id)
            .push_bind(self.organization_id.map(Uuid::from))
            .push_bind(self.before.clone())
            .push_bind(self.after.clone())
            .push_bind(self.request_id.clone())
            .push_bind(self.ip.clone())
            .push_bind(self.at);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(AuditEvent {
            id: row.try_get::<Uuid, _>("id")?.into(),
            actor_id: row.try_get::<Option<Uuid>, _>("actor_id")?.map(Into::into),
            actor_kind: row.try_get("actor_kind")?,
            action: row.try_get("action")?,
            target_kind: row.try_get("target_kind")?,
            target_id: row.try_get("target_id")?,
            organization_id: row.try_get::<Option<Uuid>, _>("organization_id")?.map(Into::into),
            before: row.try_get("before")?,
            after: row.try_get("after")?,
            request_id: row.try_get("request_id")?,
            ip: row.try_get("ip")?,
            at: row.try_get("at")?,
        })
    }

    fn push_filter(f: &AuditFilter, qb: &mut QueryBuilder<Postgres>) {
        // Anonymous and system events (NULL actor/organization) never match an id filter.
        filter_eq!(qb, "actor_id", f.actor_id.map(Uuid::from));
        filter_eq!(qb, "target_id", f.target_id);
        filter_eq!(qb, "action", f.action.clone());
        filter_eq!(qb, "organization_id", f.organization_id.map(Uuid::from));
        if let Some(t) = f.from {
            qb.push(" AND at >= ").push_bind(t);
        }
        if let Some(t) = f.to {
            qb.push(" AND at < ").push_bind(t);
        }
    }
}
