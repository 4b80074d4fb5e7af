//! `/api/v2/organizations`: the tenants, their members and their admin-set status.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing;
use axum::{Json, Router};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::value::Name;
use icosistem_core::model::{MemberRole, OrganizationId, OrganizationStatus, OrganizationType, UserId};
use icosistem_core::ports::store::OrganizationFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{CreateOrganization, UpdateOrganization};

use super::check_version;
use super::kit::{
    Authenticated, BadBody, BadInput, Conflict, Forbidden, IfMatch, ListQuery, NoId, NotFound, PathId, commands,
    list_query, lists, parse_id, reads,
};
use super::{PageQuery, finish, optional_enum, required, required_enum, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::schema::one_of_or_empty;
use crate::dto::{
    AddMemberRequest, ApiJson, CommandRequest, CreateOrganizationRequest, MemberDto, OrganizationDto, PageDto,
    UpdateOrganizationRequest,
};
use crate::error::ApiError;

list_query! {
    /// `GET /api/v2/organizations` filters.
    pub(crate) struct OrganizationQuery {
        /// Status.
        #[param(schema_with = one_of_or_empty::<OrganizationStatus>)]
        status: Option<String>,
        /// Kind.
        #[param(schema_with = one_of_or_empty::<OrganizationType>)]
        organization_type: Option<String>,
        /// Public ones only (`true`) or private ones only (`false`, admins).
        is_public: Option<bool>,
    }
}

fn org_response(org: &icosistem_core::model::Organization) -> Response {
    versioned(org.meta.version, OrganizationDto::from(org))
}

impl ListQuery for OrganizationQuery {
    type Filter = OrganizationFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        OrganizationFilter {
            status: optional_enum(errors, "status", self.status.as_deref()),
            organization_type: optional_enum(errors, "organization_type", self.organization_type.as_deref()),
            is_public: self.is_public,
            ..Default::default()
        }
    }
}

lists! {
    tag = "organizations";
    /// Lists organizations, newest first: the public directory, or every one for admins.
    list_organizations: "/api/v2/organizations", NoId, OrganizationQuery => OrganizationDto, [],
        |eco, ctx, NoId, filter, page| eco.list_organizations(ctx, filter, page);
}

/// Creates an organization; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v2/organizations", operation_id = "create_organization", tag = "organizations", security(("bearer" = [])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, description = "Created", body = OrganizationDto), Authenticated, Forbidden, Conflict, BadBody))]
pub(crate) async fn create_organization<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateOrganizationRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let name = required(&mut errors, "name", body.name.filter(|n| !n.trim().is_empty()));
    if let Some(Err(e)) = name.as_deref().map(Name::parse) {
        errors.push("name", e.message().to_owned());
    }
    let organization_type =
        required_enum::<OrganizationType>(&mut errors, "organization_type", body.organization_type.as_deref());
    finish(errors)?;
    let (Some(name), Some(organization_type)) = (name, organization_type) else {
        return Err(ApiError::internal());
    };
    let org = state
        .eco
        .create_organization(
            &auth.ctx,
            CreateOrganization {
                name,
                organization_type,
                is_public: body.is_public,
                allow_applications: body.allow_applications,
                email: body.email,
                website: body.website,
                tax_id: body.tax_id,
                description: body.description,
            },
        )
        .await?;
    let mut response = org_response(&org);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

reads! {
    tag = "organizations";
/// One organization (404 when the caller may not see it).
    get_organization: "/api/v2/organizations/{id}", OrganizationId => OrganizationDto, |eco, ctx, id| eco.get_organization(ctx, id);
}

/// Edits an organization (its owners and admins).
#[utoipa::path(patch, path = "/api/v2/organizations/{id}", operation_id = "update_organization", tag = "organizations", security(("bearer" = [])),
    request_body = UpdateOrganizationRequest,
    params(PathId<OrganizationId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated organization", body = OrganizationDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn update_organization<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<OrganizationId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UpdateOrganizationRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let org = state
        .eco
        .update_organization(
            &auth.ctx,
            id,
            UpdateOrganization {
                name: body.name,
                is_public: body.is_public,
                allow_applications: body.allow_applications,
                email: body.email,
                website: body.website,
                description: body.description,
                version,
            },
        )
        .await?;
    Ok(org_response(&org))
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
    Ok(org_response(&org))
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

/// Adds a member (owners and admins).
#[utoipa::path(post, path = "/api/v2/organizations/{id}/members", operation_id = "add_organization_member", tag = "organizations", security(("bearer" = [])),
    request_body = AddMemberRequest,
    params(PathId<OrganizationId>),
    responses(
        (status = 201, description = "Added", body = MemberDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn add_organization_member<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<OrganizationId>,
    ApiJson(body): ApiJson<AddMemberRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    let user = required_id::<UserId>(&mut errors, "user_id", body.user_id.as_deref());
    let role = required_enum::<MemberRole>(&mut errors, "role", body.role.as_deref());
    finish(errors)?;
    let (Some(user), Some(role)) = (user, role) else {
        return Err(ApiError::internal());
    };
    let member = state.eco.add_member(&auth.ctx, id, user, role).await?;
    Ok((StatusCode::CREATED, Json(MemberDto::from(&member))))
}

/// Removes a member (owners and admins).
#[utoipa::path(delete, path = "/api/v2/organizations/{id}/members/{user_id}", operation_id = "remove_organization_member", tag = "organizations", security(("bearer" = [])),
    params(PathId<OrganizationId>, ("user_id" = uuid::Uuid, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"), Authenticated, Forbidden, NotFound, BadInput))]
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

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route(
            "/api/v2/organizations",
            routing::get(list_organizations::<S, N, C>).post(create_organization::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}",
            routing::patch(update_organization::<S, N, C>).get(get_organization::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}/activate",
            routing::post(activate_organization::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}/members",
            routing::get(list_organization_members::<S, N, C>).post(add_organization_member::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}/members/{user_id}",
            routing::delete(remove_organization_member::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}/suspend",
            routing::post(suspend_organization::<S, N, C>),
        )
}

/// This module's part of the OpenAPI document (its components are listed in [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_organizations,
    create_organization,
    update_organization,
    get_organization,
    activate_organization,
    list_organization_members,
    add_organization_member,
    remove_organization_member,
    suspend_organization
))]
pub(crate) struct Api;
