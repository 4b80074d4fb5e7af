//! In-app notifications, outbox messages and the append-only audit log (`0005_inbox.sql`).

use icosistem_core::model::{AuditEvent, Meta, Notification, OutboxMessage};
use icosistem_core::ports::store::{AuditFilter, NotificationFilter, OutboxFilter};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::entity::PgEntity;
use crate::mapping::{filter_eq, pg_mapping};

impl PgEntity for Notification {
    pg_mapping! {
        table: "notifications",
        id: id,
        user_id: id,
        kind: value,
        title: value,
        body: value,
        data: value,
        status: text,
        read_at: value,
        meta: nested(Meta),
    }
    const DEFERRED: bool = true;

    fn push_filter(f: &NotificationFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, user_id: id, status: text, kind: value);
        // A never-read notification has a NULL `read_at`, which no comparison selects.
        if let Some(t) = f.read_at_or_before {
            qb.push(" AND read_at <= ").push_bind(t);
        }
    }
}

impl PgEntity for OutboxMessage {
    pg_mapping! {
        table: "outbox_messages",
        id: id,
        channel: text,
        user_id: opt_id,
        recipient: value,
        kind: value,
        subject: value,
        body: value,
        data: value,
        status: text,
        attempts: bigint,
        next_attempt_at: value,
        sent_at: value,
        last_error: value,
        meta: nested(Meta),
    }
    const DEFERRED: bool = true;

    fn push_filter(f: &OutboxFilter, qb: &mut QueryBuilder<Postgres>) {
        // Messages without a user (webhooks) never match a user filter: NULL = $1 is not true.
        filter_eq!(qb, f, status: text, channel: text, user_id: id, kind: value);
        if let Some(t) = f.due_at {
            qb.push(" AND next_attempt_at <= ").push_bind(t);
        }
        // The same expression and predicate as `outbox_messages_webhook_idx`.
        if let Some(w) = f.webhook_id {
            qb.push(" AND channel = 'webhook' AND (data ->> 'webhook_id') = ")
                .push_bind(Uuid::from(w).to_string());
        }
    }
}

impl PgEntity for AuditEvent {
    // Append-only: no version column (the core's `version()` is always 1), and the table's
    // trigger refuses any UPDATE or DELETE of an existing event.
    pg_mapping! {
        table: "audit_events",
        id: id,
        actor_id: opt_id,
        actor_kind: value,
        action: value,
        target_kind: value,
        target_id: value,
        organization_id: opt_id,
        before: value,
        after: value,
        request_id: value,
        ip: value,
        at: value,
    }
    const VERSIONED: bool = false;
    const DEFERRED: bool = true;

    fn push_filter(f: &AuditFilter, qb: &mut QueryBuilder<Postgres>) {
        // Anonymous and system events (NULL actor/organization) never match an id filter.
        filter_eq!(qb, f, actor_id: id, target_id: value, action: value, organization_id: id);
        if let Some(t) = f.from {
            qb.push(" AND at >= ").push_bind(t);
        }
        if let Some(t) = f.to {
            qb.push(" AND at < ").push_bind(t);
        }
    }
}
