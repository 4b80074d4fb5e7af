//! `/api/v2/notifications` (the caller's in-app notifications) and `/api/v2/audit-events` (the
//! audit log).

use axum::extract::State;
use axum::response::Response;
use axum::routing;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{NotificationId, NotificationStatus, OrganizationId, UserId};
use icosistem_core::ports::store::AuditFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use serde::Deserialize;
use utoipa::IntoParams;

use super::kit::{Authenticated, BadInput, Conflict, Forbidden, NotFound, PathId};
use super::{PageQuery, finish, optional_enum, optional_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{ApiQuery, AuditEventDto, NotificationDto, PageDto, ReadAllDto};
use crate::error::ApiError;

/// `GET /api/v2/notifications` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct NotificationQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `unread`, `read` or `archived`.
    status: Option<String>,
}

/// `GET /api/v2/audit-events` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// By this user (UUID).
    actor_id: Option<String>,
    /// About this entity (UUID).
    target_id: Option<String>,
    /// This action (`task.create`, `user.unlock` …).
    action: Option<String>,
    /// Inside this organization (UUID): its owners and coordinators read its slice.
    organization_id: Option<String>,
    /// At or after this instant (RFC 3339).
    from: Option<String>,
    /// Strictly before this instant (RFC 3339).
    to: Option<String>,
}

/// An optional RFC 3339 instant of a query.
fn optional_instant(errors: &mut ValidationErrors, field: &'static str, value: Option<&str>) -> Option<DateTime<Utc>> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    // An offset written `+00:00` and not percent-encoded arrives with a space for its `+`.
    let value = value.replace(' ', "+");
    match DateTime::parse_from_rfc3339(&value) {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(_) => {
            errors.push(field, "must be an RFC 3339 instant");
            None
        }
    }
}

fn notification_response(n: &icosistem_core::model::Notification) -> Response {
    versioned(n.meta.version, NotificationDto::from(n))
}

/// The caller's notifications, newest first (`?status=unread|read|archived`).
#[utoipa::path(get, path = "/api/v2/notifications", operation_id = "list_notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page of notifications", body = PageDto<NotificationDto>), Authenticated, BadInput))]
pub(crate) async fn list_notifications<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<PageDto<NotificationDto>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .check(&mut errors);
    let status = optional_enum::<NotificationStatus>(&mut errors, "status", query.status.as_deref());
    finish(errors)?;
    let page = state
        .eco
        .list_notifications(&auth.ctx, status, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(page)))
}

/// Marks every unread notification of the caller read. Answers 200 with how many changed
/// (`{"updated": n}`, 0 when none was unread) — the count the core returns.
#[utoipa::path(post, path = "/api/v2/notifications/read-all", operation_id = "read_all_notifications", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "How many became read", body = ReadAllDto), Authenticated))]
pub(crate) async fn read_all_notifications<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
) -> Result<Json<ReadAllDto>, ApiError> {
    let updated = state.eco.read_all_notifications(&auth.ctx).await?;
    Ok(Json(ReadAllDto { updated }))
}

/// Marks one of the caller's notifications read (`unread → read`). Another user's notification
/// does not exist for the caller (404).
#[utoipa::path(post, path = "/api/v2/notifications/{id}/read", operation_id = "read_notification", tag = "notifications", security(("bearer" = [])),
    params(PathId<NotificationId>),
    responses(
        (status = 200, description = "The notification", body = NotificationDto), Authenticated, NotFound, Conflict))]
pub(crate) async fn read_notification<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<NotificationId>,
) -> Result<Response, ApiError> {
    let n = state.eco.read_notification(&auth.ctx, id).await?;
    Ok(notification_response(&n))
}

/// Archives one of the caller's notifications (from `unread` or `read`).
#[utoipa::path(post, path = "/api/v2/notifications/{id}/archive", operation_id = "archive_notification", tag = "notifications", security(("bearer" = [])),
    params(PathId<NotificationId>),
    responses(
        (status = 200, description = "The notification", body = NotificationDto), Authenticated, NotFound, Conflict))]
pub(crate) async fn archive_notification<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<NotificationId>,
) -> Result<Response, ApiError> {
    let n = state.eco.archive_notification(&auth.ctx, id).await?;
    Ok(notification_response(&n))
}

/// The audit log, newest first (`?actor_id&target_id&action&organization_id&from&to`). Admins
/// read everything; owners and coordinators of the organization named by `organization_id` read
/// its slice; anyone else reads only their own actions (`actor_id` is forced to them) and is
/// refused (403) an organization's slice.
#[utoipa::path(get, path = "/api/v2/audit-events", operation_id = "list_audit_events", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit events", body = PageDto<AuditEventDto>), Authenticated, Forbidden, BadInput))]
pub(crate) async fn list_audit_events<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<PageDto<AuditEventDto>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .check(&mut errors);
    let actor_id = optional_id::<UserId>(&mut errors, "actor_id", query.actor_id.as_deref());
    let target_id = optional_id::<uuid::Uuid>(&mut errors, "target_id", query.target_id.as_deref());
    let organization_id =
        optional_id::<OrganizationId>(&mut errors, "organization_id", query.organization_id.as_deref());
    let from = optional_instant(&mut errors, "from", query.from.as_deref());
    let to = optional_instant(&mut errors, "to", query.to.as_deref());
    finish(errors)?;
    let filter = AuditFilter {
        actor_id,
        target_id,
        action: query.action.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()),
        organization_id,
        from,
        to,
    };
    let page = state
        .eco
        .list_audit_events(&auth.ctx, filter, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(page)))
}

/// The document of the notification and audit paths.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_audit_events, list_notifications, read_all_notifications, archive_notification, read_notification),
    components(schemas(NotificationDto, ReadAllDto, AuditEventDto, PageDto<NotificationDto>, PageDto<AuditEventDto>)),
    tags(
        (name = "notifications", description = "The caller's in-app notifications"),
        (name = "audit", description = "The audit log")
    )
)]
pub(crate) struct Api;

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route("/api/v2/audit-events", routing::get(list_audit_events::<S, N, C>))
        .route("/api/v2/notifications", routing::get(list_notifications::<S, N, C>))
        .route(
            "/api/v2/notifications/read-all",
            routing::post(read_all_notifications::<S, N, C>),
        )
        .route(
            "/api/v2/notifications/{id}/archive",
            routing::post(archive_notification::<S, N, C>),
        )
        .route(
            "/api/v2/notifications/{id}/read",
            routing::post(read_notification::<S, N, C>),
        )
}
