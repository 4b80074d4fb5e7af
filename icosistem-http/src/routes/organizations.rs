//! `/api/v2/organizations`: the tenants, their members and their admin-set status.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::value::Name;
use icosistem_core::model::{MemberRole, OrganizationId, OrganizationStatus, OrganizationType, UserId};
use icosistem_core::ports::store::OrganizationFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{CreateOrganization, UpdateOrganization};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{PageQuery, finish, optional_enum, path_id, required, required_enum, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{
    AddMemberRequest, ApiJson, ApiQuery, CommandRequest, CreateOrganizationRequest, MemberDto, OptionalJson,
    OrganizationDto, PageDto, UpdateOrganizationRequest,
};
use crate::error::{ApiError, Problem};
use crate::routes::users::if_match;

/// `GET /api/v2/organizations` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct OrganizationQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Status.
    status: Option<String>,
    /// Kind.
    organization_type: Option<String>,
    /// Public ones only (`true`) or private ones only (`false`, admins).
    is_public: Option<bool>,
}

fn org_response(org: &icosistem_core::model::Organization) -> Response {
    versioned(org.meta.version, OrganizationDto::from(org))
}

/// Lists organizations, newest first: the public directory, or every one for admins.
#[utoipa::path(get, path = "/api/v2/organizations", tag = "organizations", security(("bearer" = [])),
    params(OrganizationQuery),
    responses(
        (status = 200, description = "A page of organizations", body = PageDto<OrganizationDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<OrganizationQuery>,
) -> Result<Json<PageDto<OrganizationDto>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .check(&mut errors);
    let status = optional_enum::<OrganizationStatus>(&mut errors, "status", query.status.as_deref());
    let organization_type =
        optional_enum::<OrganizationType>(&mut errors, "organization_type", query.organization_type.as_deref());
    finish(errors)?;
    let filter = OrganizationFilter {
        status,
        organization_type,
        is_public: query.is_public,
        ..Default::default()
    };
    let page = state
        .eco
        .list_organizations(&auth.ctx, filter, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(page)))
}

/// Creates an organization; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v2/organizations", tag = "organizations", security(("bearer" = [])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, description = "Created", body = OrganizationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role may not create organizations", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The tax id is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create<S: Store, N: Notifier, C: Clock>(
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

/// One organization (404 when the caller may not see it).
#[utoipa::path(get, path = "/api/v2/organizations/{id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The organization", body = OrganizationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: OrganizationId = path_id(&id, "organization")?;
    let org = state.eco.get_organization(&auth.ctx, id).await?;
    Ok(org_response(&org))
}

/// Edits an organization (its owners and admins).
#[utoipa::path(patch, path = "/api/v2/organizations/{id}", tag = "organizations", security(("bearer" = [])),
    request_body = UpdateOrganizationRequest,
    params(("id" = String, Path, description = "Organization id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated organization", body = OrganizationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateOrganizationRequest>,
) -> Result<Response, ApiError> {
    let id: OrganizationId = path_id(&id, "organization")?;
    let version = if_match(&headers)?.or(body.version);
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

async fn set_status<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: &str,
    headers: &HeaderMap,
    body: CommandRequest,
    status: OrganizationStatus,
) -> Result<Response, ApiError> {
    let id: OrganizationId = path_id(id, "organization")?;
    let version = if_match(headers)?.or(body.version);
    if let Some(version) = version {
        // The core's status change takes no version: check it here against the current row.
        let current = state.eco.get_organization(&auth.ctx, id).await?;
        if current.meta.version != version {
            return Err(icosistem_core::Error::Conflict {
                entity: "organization",
                field: "version",
            }
            .into());
        }
    }
    let org = state.eco.set_organization_status(&auth.ctx, id, status).await?;
    Ok(org_response(&org))
}

/// Activates an organization (admins).
#[utoipa::path(post, path = "/api/v2/organizations/{id}/activate", tag = "organizations", security(("bearer" = [])),
    request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
    params(("id" = String, Path, description = "Organization id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The activated organization", body = OrganizationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or already active", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn activate<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CommandRequest>,
) -> Result<Response, ApiError> {
    set_status(&state, &auth, &id, &headers, body, OrganizationStatus::Active).await
}

/// Suspends an organization (admins).
#[utoipa::path(post, path = "/api/v2/organizations/{id}/suspend", tag = "organizations", security(("bearer" = [])),
    request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
    params(("id" = String, Path, description = "Organization id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The suspended organization", body = OrganizationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or already suspended", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn suspend<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CommandRequest>,
) -> Result<Response, ApiError> {
    set_status(&state, &auth, &id, &headers, body, OrganizationStatus::Suspended).await
}

/// Lists an organization's members (whoever may see the organization).
#[utoipa::path(get, path = "/api/v2/organizations/{id}/members", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id"), PageQuery),
    responses(
        (status = 200, description = "A page of members", body = PageDto<MemberDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn members<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<PageDto<MemberDto>>, ApiError> {
    let id: OrganizationId = path_id(&id, "organization")?;
    let mut errors = ValidationErrors::new();
    let page = query.check(&mut errors);
    finish(errors)?;
    let page = state
        .eco
        .list_members(&auth.ctx, id, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(page)))
}

/// Adds a member (owners and admins).
#[utoipa::path(post, path = "/api/v2/organizations/{id}/members", tag = "organizations", security(("bearer" = [])),
    request_body = AddMemberRequest,
    params(("id" = String, Path, description = "Organization id")),
    responses(
        (status = 201, description = "Added", body = MemberDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization or user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_member<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddMemberRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let id: OrganizationId = path_id(&id, "organization")?;
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
#[utoipa::path(delete, path = "/api/v2/organizations/{id}/members/{user_id}", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id"), ("user_id" = String, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization or member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The last owner cannot leave", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn remove_member<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: OrganizationId = path_id(&id, "organization")?;
    let user: UserId = path_id(&user_id, "member")?;
    state.eco.remove_member(&auth.ctx, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
