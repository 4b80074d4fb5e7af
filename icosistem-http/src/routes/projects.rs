//! `/api/v2/projects` and `/api/v2/milestones`: entrepreneurs' projects, their lifecycle and
//! stage, and their milestones.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::value::{AtField, Currency, Money, Name, bounded_text};
use icosistem_core::model::{
    FundingStage, Milestone, MilestoneId, MilestoneStatus, Priority, Project, ProjectId, ProjectStage, ProjectStatus,
    ProjectType, UserId,
};
use icosistem_core::ports::store::{MilestoneFilter, ProjectFilter};
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{CreateMilestone, CreateProject, MilestoneAction, UpdateMilestone, UpdateProject};
use icosistem_core::workflow::project::ProjectCommand;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{PageQuery, finish, optional_enum, optional_id, path_id, required, required_enum, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{
    AdvanceStageRequest, ApiJson, ApiQuery, CommandRequest, CreateMilestoneRequest, CreateProjectRequest, DelayRequest,
    MilestoneDto, MoneyDto, OptionalJson, PageDto, ProgressRequest, ProjectDto, UpdateMilestoneRequest,
    UpdateProjectRequest,
};
use crate::error::{ApiError, Problem};
use crate::routes::users::if_match;

/// `GET /api/v2/projects` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProjectQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Owned by this user.
    owner_id: Option<String>,
    /// Stage.
    stage: Option<String>,
    /// Status.
    status: Option<String>,
    /// Public ones only (`true`) or private ones only (`false`).
    is_public: Option<bool>,
}

/// `GET /api/v2/projects/{id}/milestones` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProjectMilestoneQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Status.
    status: Option<String>,
}

/// `GET /api/v2/milestones` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct MilestoneQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Status.
    status: Option<String>,
    /// `true`: only unfinished milestones past their target date.
    overdue: Option<bool>,
}

fn project_response(project: &Project) -> Response {
    versioned(project.meta.version, ProjectDto::from(project))
}

fn milestone_response(milestone: &Milestone) -> Response {
    versioned(milestone.meta.version, MilestoneDto::from(milestone))
}

/// Money of a body, its failures pushed under `field`.
fn money(errors: &mut ValidationErrors, field: &'static str, dto: &MoneyDto) -> Option<Money> {
    let currency = errors.check(dto.currency.parse::<Currency>().at(field))?;
    errors.check(Money::new(dto.amount_minor, currency).at(field))
}

fn page(
    errors: &mut ValidationErrors,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Option<icosistem_core::ports::PageRequest> {
    PageQuery {
        limit,
        cursor: cursor.map(str::to_owned),
    }
    .check(errors)
}

/// Lists projects, newest first (`?owner_id&stage&status&is_public`): exactly those the caller
/// may get — admins all, entrepreneurs their own, allies their mentees', clients the public
/// ones, program staff and assigned reviewers those applying to their programs.
#[utoipa::path(get, path = "/api/v2/projects", tag = "projects", security(("bearer" = [])),
    params(ProjectQuery),
    responses(
        (status = 200, description = "A page of projects", body = PageDto<ProjectDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<ProjectQuery>,
) -> Result<Json<PageDto<ProjectDto>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let page = page(&mut errors, query.limit, query.cursor.as_deref());
    let owner_id = optional_id::<UserId>(&mut errors, "owner_id", query.owner_id.as_deref());
    let stage = optional_enum::<ProjectStage>(&mut errors, "stage", query.stage.as_deref());
    let status = optional_enum::<ProjectStatus>(&mut errors, "status", query.status.as_deref());
    finish(errors)?;
    let filter = ProjectFilter {
        owner_id,
        stage,
        status,
        is_public: query.is_public,
        ..Default::default()
    };
    let page = state
        .eco
        .list_projects(&auth.ctx, filter, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(page)))
}

/// Creates a project owned by the calling entrepreneur.
#[utoipa::path(post, path = "/api/v2/projects", tag = "projects", security(("bearer" = [])),
    request_body = CreateProjectRequest,
    responses(
        (status = 201, description = "Created", body = ProjectDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an entrepreneur", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateProjectRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let name = required(&mut errors, "name", body.name.filter(|n| !n.trim().is_empty()));
    if let Some(Err(e)) = name.as_deref().map(Name::parse) {
        errors.push("name", e.message().to_owned());
    }
    let description = required(
        &mut errors,
        "description",
        body.description.filter(|d| !d.trim().is_empty()),
    );
    if let Some(d) = description.as_deref() {
        errors.check(bounded_text("description", d, 10, 10_000));
    }
    let project_type = required_enum::<ProjectType>(&mut errors, "project_type", body.project_type.as_deref());
    let priority = optional_enum::<Priority>(&mut errors, "priority", body.priority.as_deref());
    let stage = optional_enum::<ProjectStage>(&mut errors, "stage", body.stage.as_deref());
    let funding_stage = optional_enum::<FundingStage>(&mut errors, "funding_stage", body.funding_stage.as_deref());
    let funding_target = body
        .funding_target
        .as_ref()
        .and_then(|m| money(&mut errors, "funding_target", m));
    finish(errors)?;
    let (Some(name), Some(description), Some(project_type)) = (name, description, project_type) else {
        return Err(ApiError::internal());
    };
    let project = state
        .eco
        .create_project(
            &auth.ctx,
            CreateProject {
                name,
                description,
                project_type,
                tagline: body.tagline,
                category: body.category,
                priority,
                stage,
                funding_stage,
                funding_target,
                team_size: body.team_size,
                is_public: body.is_public,
                seeking_mentorship: body.seeking_mentorship,
            },
        )
        .await?;
    let mut response = project_response(&project);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// One project (404 when the caller may not see it).
#[utoipa::path(get, path = "/api/v2/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project", body = ProjectDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: ProjectId = path_id(&id, "project")?;
    let project = state.eco.get_project(&auth.ctx, id).await?;
    Ok(project_response(&project))
}

/// Edits a project (its owner and admins).
#[utoipa::path(patch, path = "/api/v2/projects/{id}", tag = "projects", security(("bearer" = [])),
    request_body = UpdateProjectRequest,
    params(("id" = String, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated project", body = ProjectDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateProjectRequest>,
) -> Result<Response, ApiError> {
    let id: ProjectId = path_id(&id, "project")?;
    let version = if_match(&headers)?.or(body.version);
    let mut errors = ValidationErrors::new();
    let priority = optional_enum::<Priority>(&mut errors, "priority", body.priority.as_deref());
    let funding_stage = optional_enum::<FundingStage>(&mut errors, "funding_stage", body.funding_stage.as_deref());
    let funding_target = body
        .funding_target
        .map(|m| m.and_then(|m| money(&mut errors, "funding_target", &m)));
    let funding_raised = body
        .funding_raised
        .map(|m| m.and_then(|m| money(&mut errors, "funding_raised", &m)));
    finish(errors)?;
    let project = state
        .eco
        .update_project(
            &auth.ctx,
            id,
            UpdateProject {
                name: body.name,
                description: body.description,
                tagline: body.tagline,
                category: body.category,
                priority,
                funding_stage,
                funding_target,
                funding_raised,
                team_size: body.team_size,
                is_public: body.is_public,
                seeking_mentorship: body.seeking_mentorship,
                version,
            },
        )
        .await?;
    Ok(project_response(&project))
}

/// Deletes a project (soft; its owner and admins).
#[utoipa::path(delete, path = "/api/v2/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version, or the project may not be deleted now", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn delete<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let id: ProjectId = path_id(&id, "project")?;
    let version = if_match(&headers)?;
    state.eco.delete_project(&auth.ctx, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a project to another stage.
#[utoipa::path(post, path = "/api/v2/projects/{id}/advance-stage", tag = "projects", security(("bearer" = [])),
    request_body = AdvanceStageRequest,
    params(("id" = String, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated project", body = ProjectDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or unknown stage", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn advance_stage<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AdvanceStageRequest>,
) -> Result<Response, ApiError> {
    let id: ProjectId = path_id(&id, "project")?;
    let version = if_match(&headers)?.or(body.version);
    let mut errors = ValidationErrors::new();
    let stage = required_enum::<ProjectStage>(&mut errors, "stage", body.stage.as_deref());
    finish(errors)?;
    let stage = stage.ok_or_else(ApiError::internal)?;
    let project = state.eco.advance_stage(&auth.ctx, id, stage, version).await?;
    Ok(project_response(&project))
}

async fn project_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: &str,
    headers: &HeaderMap,
    body: CommandRequest,
    command: ProjectCommand,
) -> Result<Response, ApiError> {
    let id: ProjectId = path_id(id, "project")?;
    let version = if_match(headers)?.or(body.version);
    let project = state.eco.project_command(&auth.ctx, id, command, version).await?;
    Ok(project_response(&project))
}

macro_rules! project_command {
    ($name:ident, $command:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "projects", security(("bearer" = [])),
            request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
            params(("id" = String, Path, description = "Project id"),
                ("If-Match" = Option<String>, Header, description = "The quoted version read")),
            responses(
                (status = 200, description = "The updated project", body = ProjectDto),
                (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json")))]
        pub(crate) async fn $name<S: Store, N: Notifier, C: Clock>(
            State(state): State<AppState<S, N, C>>,
            auth: AuthUser,
            Path(id): Path<String>,
            headers: HeaderMap,
            OptionalJson(body): OptionalJson<CommandRequest>,
        ) -> Result<Response, ApiError> {
            project_command(&state, &auth, &id, &headers, body, $command).await
        }
    };
}

project_command!(
    activate,
    ProjectCommand::Activate,
    "/api/v2/projects/{id}/activate",
    "Activates a project."
);
project_command!(
    pause,
    ProjectCommand::Pause,
    "/api/v2/projects/{id}/pause",
    "Pauses an active project."
);
project_command!(
    resume,
    ProjectCommand::Resume,
    "/api/v2/projects/{id}/resume",
    "Resumes a paused project."
);
project_command!(
    complete,
    ProjectCommand::Complete,
    "/api/v2/projects/{id}/complete",
    "Completes a project."
);
project_command!(
    cancel,
    ProjectCommand::Cancel,
    "/api/v2/projects/{id}/cancel",
    "Cancels a project."
);

/// A project's milestones, newest first (`?status`).
#[utoipa::path(get, path = "/api/v2/projects/{id}/milestones", tag = "milestones", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ProjectMilestoneQuery),
    responses(
        (status = 200, description = "A page of milestones", body = PageDto<MilestoneDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn project_milestones<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ProjectMilestoneQuery>,
) -> Result<Json<PageDto<MilestoneDto>>, ApiError> {
    let id: ProjectId = path_id(&id, "project")?;
    let mut errors = ValidationErrors::new();
    let page = page(&mut errors, query.limit, query.cursor.as_deref());
    let status = optional_enum::<MilestoneStatus>(&mut errors, "status", query.status.as_deref());
    finish(errors)?;
    let filter = MilestoneFilter {
        status,
        ..Default::default()
    };
    let page = state
        .eco
        .list_project_milestones(&auth.ctx, id, filter, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(page)))
}

/// Adds a milestone to a project (its owner).
#[utoipa::path(post, path = "/api/v2/projects/{id}/milestones", tag = "milestones", security(("bearer" = [])),
    request_body = CreateMilestoneRequest,
    params(("id" = String, Path, description = "Project id")),
    responses(
        (status = 201, description = "Created", body = MilestoneDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateMilestoneRequest>,
) -> Result<Response, ApiError> {
    let id: ProjectId = path_id(&id, "project")?;
    let mut errors = ValidationErrors::new();
    let title = required(&mut errors, "title", body.title.filter(|t| !t.trim().is_empty()));
    if let Some(t) = title.as_deref() {
        errors.check(bounded_text("title", t, 2, 200));
    }
    let target_date = required(&mut errors, "target_date", body.target_date);
    let priority = optional_enum::<Priority>(&mut errors, "priority", body.priority.as_deref());
    finish(errors)?;
    let (Some(title), Some(target_date)) = (title, target_date) else {
        return Err(ApiError::internal());
    };
    let milestone = state
        .eco
        .create_milestone(
            &auth.ctx,
            id,
            CreateMilestone {
                title,
                description: body.description,
                target_date,
                priority,
            },
        )
        .await?;
    let mut response = milestone_response(&milestone);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// The caller's milestones, newest first (`?overdue=true&status`).
#[utoipa::path(get, path = "/api/v2/milestones", tag = "milestones", security(("bearer" = [])),
    params(MilestoneQuery),
    responses(
        (status = 200, description = "A page of milestones", body = PageDto<MilestoneDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn my_milestones<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<MilestoneQuery>,
) -> Result<Json<PageDto<MilestoneDto>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let page = page(&mut errors, query.limit, query.cursor.as_deref());
    let status = optional_enum::<MilestoneStatus>(&mut errors, "status", query.status.as_deref());
    finish(errors)?;
    let page = state
        .eco
        .list_my_milestones(
            &auth.ctx,
            status,
            query.overdue.unwrap_or(false),
            page.ok_or_else(ApiError::internal)?,
        )
        .await?;
    Ok(Json(PageDto::from_page(page)))
}

/// One milestone (whoever may see its project).
#[utoipa::path(get, path = "/api/v2/milestones/{id}", tag = "milestones", security(("bearer" = [])),
    params(("id" = String, Path, description = "Milestone id")),
    responses(
        (status = 200, description = "The milestone", body = MilestoneDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: MilestoneId = path_id(&id, "milestone")?;
    let milestone = state.eco.get_milestone(&auth.ctx, id).await?;
    Ok(milestone_response(&milestone))
}

/// Edits a milestone's title, description or priority.
#[utoipa::path(patch, path = "/api/v2/milestones/{id}", tag = "milestones", security(("bearer" = [])),
    request_body = UpdateMilestoneRequest,
    params(("id" = String, Path, description = "Milestone id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated milestone", body = MilestoneDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateMilestoneRequest>,
) -> Result<Response, ApiError> {
    let id: MilestoneId = path_id(&id, "milestone")?;
    let version = if_match(&headers)?.or(body.version);
    let mut errors = ValidationErrors::new();
    let priority = optional_enum::<Priority>(&mut errors, "priority", body.priority.as_deref());
    finish(errors)?;
    let milestone = state
        .eco
        .update_milestone(
            &auth.ctx,
            id,
            UpdateMilestone {
                title: body.title,
                description: body.description,
                priority,
                version,
            },
        )
        .await?;
    Ok(milestone_response(&milestone))
}

async fn milestone_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: &str,
    version: Option<u64>,
    action: MilestoneAction,
) -> Result<Response, ApiError> {
    let id: MilestoneId = path_id(id, "milestone")?;
    let milestone = state.eco.milestone_command(&auth.ctx, id, action, version).await?;
    Ok(milestone_response(&milestone))
}

macro_rules! milestone_command {
    ($name:ident, $action:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "milestones", security(("bearer" = [])),
            request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
            params(("id" = String, Path, description = "Milestone id"),
                ("If-Match" = Option<String>, Header, description = "The quoted version read")),
            responses(
                (status = 200, description = "The updated milestone", body = MilestoneDto),
                (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json")))]
        pub(crate) async fn $name<S: Store, N: Notifier, C: Clock>(
            State(state): State<AppState<S, N, C>>,
            auth: AuthUser,
            Path(id): Path<String>,
            headers: HeaderMap,
            OptionalJson(body): OptionalJson<CommandRequest>,
        ) -> Result<Response, ApiError> {
            let version = if_match(&headers)?.or(body.version);
            milestone_command(&state, &auth, &id, version, $action).await
        }
    };
}

milestone_command!(
    start_milestone,
    MilestoneAction::Start,
    "/api/v2/milestones/{id}/start",
    "Starts a pending milestone."
);
milestone_command!(
    complete_milestone,
    MilestoneAction::Complete,
    "/api/v2/milestones/{id}/complete",
    "Completes a milestone."
);
milestone_command!(
    cancel_milestone,
    MilestoneAction::Cancel,
    "/api/v2/milestones/{id}/cancel",
    "Cancels a milestone."
);

/// Reports a milestone's progress (0–100; 100 completes it, more than 0 starts a pending one).
#[utoipa::path(post, path = "/api/v2/milestones/{id}/progress", tag = "milestones", security(("bearer" = [])),
    request_body = ProgressRequest,
    params(("id" = String, Path, description = "Milestone id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated milestone", body = MilestoneDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or out-of-range progress", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn progress_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ProgressRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
    let mut errors = ValidationErrors::new();
    let progress = required(&mut errors, "progress", body.progress);
    finish(errors)?;
    let progress = progress.ok_or_else(ApiError::internal)?;
    milestone_command(&state, &auth, &id, version, MilestoneAction::Progress(progress)).await
}

/// Moves a milestone's target date (after today), with a reason.
#[utoipa::path(post, path = "/api/v2/milestones/{id}/delay", tag = "milestones", security(("bearer" = [])),
    request_body = DelayRequest,
    params(("id" = String, Path, description = "Milestone id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated milestone", body = MilestoneDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such milestone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or past target date", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn delay_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DelayRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
    let mut errors = ValidationErrors::new();
    let target_date = required(&mut errors, "target_date", body.target_date);
    finish(errors)?;
    let target_date = target_date.ok_or_else(ApiError::internal)?;
    let action = MilestoneAction::Delay {
        target_date,
        reason: body.reason,
    };
    milestone_command(&state, &auth, &id, version, action).await
}
