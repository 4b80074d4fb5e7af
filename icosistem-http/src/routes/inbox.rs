//! `/api/v2/notifications` (the caller's in-app notifications) and `/api/v2/audit-events` (the
//! audit log).

use chrono::{DateTime, Utc};
use icosistem_core::model::{NotificationId, NotificationStatus, OrganizationId, UserId};
use icosistem_core::ports::store::AuditFilter;

use super::kit::{NoBody, NoId, PathId, api, filter_query, lists, routes};
use crate::dto::{AuditEventDto, NotificationDto, PageDto, ReadAllDto};

filter_query! {
    /// `GET /api/v2/notifications` filters.
    pub(crate) struct NotificationQuery {
        /// `unread`, `read` or `archived`.
        status: NotificationStatus,
    } => Option<NotificationStatus>, status
}

filter_query! {
    /// `GET /api/v2/audit-events` filters.
    pub(crate) struct AuditQuery => AuditFilter {
        /// By this user (UUID).
        actor_id: UserId,
        /// About this entity (UUID).
        target_id: uuid::Uuid,
        /// This action (`task.create`, `user.unlock` …).
        action: String,
        /// Inside this organization (UUID): its owners and coordinators read its slice.
        organization_id: OrganizationId,
        /// At or after this instant (RFC 3339).
        from: DateTime<Utc>,
        /// Strictly before this instant (RFC 3339).
        to: DateTime<Utc>,
    }
}

lists! {
    tag = "notifications";
    /// The caller's notifications, newest first (`?status=unread|read|archived`).
    list_notifications: "/api/v2/notifications", NoId, NotificationQuery => NotificationDto, [],
        |eco, ctx, NoId, status, page| eco.list_notifications(ctx, status, page);
}

routes! {
    tag = "notifications";
    /// Marks every unread notification of the caller read. Answers 200 with how many changed
    /// (`{"updated": n}`, 0 when none was unread) — the count the core returns.
    read_all_notifications: post "/api/v2/notifications/read-all", NoId, NoIfMatch, none
        => json(200, "How many became read", ReadAllDto) [],
        |eco, ctx, NoId, _, NoBody| eco.read_all_notifications(ctx);
    /// Marks one of the caller's notifications read (`unread → read`). Another user's
    /// notification does not exist for the caller (404).
    read_notification: post "/api/v2/notifications/{id}/read", PathId<NotificationId>, NoIfMatch, none
        => etag(200, "The notification", NotificationDto) [NotFound, Conflict],
        |eco, ctx, PathId(id), _, NoBody| eco.read_notification(ctx, id);
    /// Archives one of the caller's notifications (from `unread` or `read`).
    archive_notification: post "/api/v2/notifications/{id}/archive", PathId<NotificationId>, NoIfMatch, none
        => etag(200, "The notification", NotificationDto) [NotFound, Conflict],
        |eco, ctx, PathId(id), _, NoBody| eco.archive_notification(ctx, id);
}

lists! {
    tag = "audit";
    /// The audit log, newest first (`?actor_id&target_id&action&organization_id&from&to`). Admins
    /// read everything; owners and coordinators of the organization named by `organization_id` read
    /// its slice; anyone else reads only their own actions (`actor_id` is forced to them) and is
    /// refused (403) an organization's slice.
    list_audit_events: "/api/v2/audit-events", NoId, AuditQuery => AuditEventDto, [Forbidden],
        |eco, ctx, NoId, filter, page| eco.list_audit_events(ctx, filter, page);
}

api!(
    [
        list_audit_events,
        list_notifications,
        read_all_notifications,
        archive_notification,
        read_notification,
    ],
    components(schemas(NotificationDto, ReadAllDto, AuditEventDto, PageDto<NotificationDto>, PageDto<AuditEventDto>)),
    tags(
        (
            name = "notifications",
            description = "The caller's in-app notifications"
        ),
        (name = "audit", description = "The audit log")
    )
);
