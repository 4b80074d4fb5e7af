//! `/api/v2/notifications` (the caller's in-app notifications) and `/api/v2/audit-events` (the
//! audit log).

use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{NotificationId, NotificationStatus};
use icosistem_core::ports::store::AuditFilter;

use super::kit::{ListQuery, NoBody, NoId, PathId, api, list_query, lists, routes};
use crate::dto::parse::{optional_enum, optional_id, optional_instant};
use crate::dto::schema::one_of_or_empty;
use crate::dto::{AuditEventDto, NotificationDto, PageDto, ReadAllDto};

list_query! {
    /// `GET /api/v2/notifications` filters.
    pub(crate) struct NotificationQuery {
        /// `unread`, `read` or `archived`.
        #[param(schema_with = one_of_or_empty::<NotificationStatus>)]
        status: Option<String>,
    }
}

list_query! {
    /// `GET /api/v2/audit-events` filters.
    pub(crate) struct AuditQuery {
        /// By this user (UUID).
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        actor_id: Option<String>,
        /// About this entity (UUID).
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        target_id: Option<String>,
        /// This action (`task.create`, `user.unlock` …).
        action: Option<String>,
        /// Inside this organization (UUID): its owners and coordinators read its slice.
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        organization_id: Option<String>,
        /// At or after this instant (RFC 3339).
        #[param(schema_with = crate::dto::schema::instant_or_blank)]
        from: Option<String>,
        /// Strictly before this instant (RFC 3339).
        #[param(schema_with = crate::dto::schema::instant_or_blank)]
        to: Option<String>,
    }
}

impl ListQuery for NotificationQuery {
    type Filter = Option<NotificationStatus>;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        optional_enum(errors, "status", self.status.as_deref())
    }
}

impl ListQuery for AuditQuery {
    type Filter = AuditFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        AuditFilter {
            actor_id: optional_id(errors, "actor_id", self.actor_id.as_deref()),
            target_id: optional_id(errors, "target_id", self.target_id.as_deref()),
            action: self.action.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()),
            organization_id: optional_id(errors, "organization_id", self.organization_id.as_deref()),
            from: optional_instant(errors, "from", self.from.as_deref()),
            to: optional_instant(errors, "to", self.to.as_deref()),
        }
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
