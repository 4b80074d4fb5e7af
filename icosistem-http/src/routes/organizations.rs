//! `/api/v2/organizations`: the tenants, their members and their admin-set status.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use icosistem_core::model::{OrganizationId, OrganizationStatus, OrganizationType, UserId};
use icosistem_core::ports::store::OrganizationFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::UpdateOrganization;

use super::PageQuery;
use super::check_version;
use super::kit::{NoId, PathId, answer, api, commands, filter_query, input, lists, mount, parse_id, reads, routes};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{
    AddMemberRequest, ApiJson, CommandRequest, CreateOrganizationRequest, MemberDto, OrganizationDto, PageDto,
    UpdateOrganizationRequest,
};
use crate::error::ApiError;

filter_query! {
    /// `GET /api/v2/organizations` filters.
    pub(crate) struct OrganizationQuery => OrganizationFilter {
        /// Status.
        status: OrganizationStatus,
        /// Kind.
        organization_type: OrganizationType,
        /// Public ones only (`true`) or private ones only (`false`, admins).
        is_public: bool,
    }
}

lists! {
    tag = "organizations";
    /// Lists organizations, newest first: the public directory, or every one for admins.
    list_organizations: "/api/v2/organizations", NoId, OrganizationQuery => OrganizationDto, [],
        |eco, ctx, NoId, filter, page| eco.list_organizations(ctx, filter, page);
}

routes! {
    tag = "organizations";
    /// Creates an organization; the caller becomes its owner.
    create_organization: post "/api/v2/organizations", NoId, NoIfMatch, json<CreateOrganizationRequest>
        => etag(201, "Created", OrganizationDto) [Forbidden, Conflict, BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| eco.create_organization(ctx, input(b)?);
    /// Edits an organization (its owners and admins).
    update_organization: patch "/api/v2/organizations/{id}", PathId<OrganizationId>, IfMatch, json<UpdateOrganizationRequest>
        => etag(200, "The updated organization", OrganizationDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.update_organization(ctx, id, UpdateOrganization { version, ..b.into() });
    /// Adds a member (owners and admins).
    add_organization_member: post "/api/v2/organizations/{id}/members", PathId<OrganizationId>, NoIfMatch, json<AddMemberRequest>
        => json(201, "Added", MemberDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| {
            let (user, role) = input(b)?;
            eco.add_member(ctx, id, user, role)
        };
}

reads! {
    tag = "organizations";
/// One organization (404 when the caller may not see it).
    get_organization: "/api/v2/organizations/{id}", OrganizationId => OrganizationDto, |eco, ctx, id| eco.get_organization(ctx, id);
}

/// Sets an organization's status.
async fn set_status<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: OrganizationId,
    version: Option<u64>,
    status: OrganizationStatus,
) -> Result<Response, ApiError> {
    if let Some(version) = version {
        // The core's status change takes no version: check it here against the current row.
        let current = state.eco.get_organization(&auth.ctx, id).await?;
        check_version("organization", Some(version), current.meta.version)?;
    }
    let org = state.eco.set_organization_status(&auth.ctx, id, status).await?;
    Ok(answer::<_, OrganizationDto>(&org))
}

commands! {
    tag = "organizations", id = OrganizationId, answer = OrganizationDto, run = set_status;
    /// Activates an organization (admins).
    activate_organization: "/api/v2/organizations/{id}/activate", CommandRequest, |body| OrganizationStatus::Active;
    /// Suspends an organization (admins).
    suspend_organization: "/api/v2/organizations/{id}/suspend", CommandRequest, |body| OrganizationStatus::Suspended;
}

lists! {
    tag = "organizations";
    /// Lists an organization's members (whoever may see the organization).
    list_organization_members: "/api/v2/organizations/{id}/members", PathId<OrganizationId>, PageQuery => MemberDto, [NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_members(ctx, id, page);
}

/// Removes a member (owners and admins).
#[utoipa::path(delete, path = "/api/v2/organizations/{id}/members/{user_id}", operation_id = "remove_organization_member", tag = "organizations", security(("bearer" = [])),
    params(PathId<OrganizationId>, ("user_id" = uuid::Uuid, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"), super::kit::Authenticated, super::kit::Forbidden, super::kit::NotFound, super::kit::BadInput))]
pub(crate) async fn remove_organization_member<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<OrganizationId>,
    Path((_, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user: UserId = parse_id(&user_id, "member")?;
    state.eco.remove_member(&auth.ctx, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

mount!(remove_organization_member: delete "/api/v2/organizations/{id}/members/{user_id}");

api!([
    list_organizations,
    create_organization,
    update_organization,
    get_organization,
    activate_organization,
    list_organization_members,
    add_organization_member,
    remove_organization_member,
    suspend_organization,
]);
