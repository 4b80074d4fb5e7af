//! `/api/v2/projects` and `/api/v2/milestones`: entrepreneurs' projects, their lifecycle and
//! stage, and their milestones.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::ProjectStatus;
use icosistem_core::model::value::{AtField, Currency, Money, Name, bounded_text};
use icosistem_core::model::{
    FundingStage, Milestone, MilestoneId, MilestoneStatus, Priority, Project, ProjectId, ProjectStage, ProjectType,
};
use icosistem_core::ports::store::{MilestoneFilter, ProjectFilter};
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{CreateMilestone, CreateProject, MilestoneAction, UpdateMilestone, UpdateProject};
use icosistem_core::workflow::project::ProjectCommand;

use super::kit::{
    Authenticated, BadBody, BadInput, Conflict, Forbidden, IfMatch, ListQuery, NoId, NotFound, PathId, commands,
    list_query, lists, reads,
};
use super::{finish, optional_enum, optional_id, required, required_enum, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::schema::one_of_or_empty;
use crate::dto::{
    AdvanceStageRequest, ApiJson, CommandRequest, CreateMilestoneRequest, CreateProjectRequest, DelayRequest,
    MilestoneDto, MoneyDto, PageDto, ProgressRequest, ProjectDto, UpdateMilestoneRequest, UpdateProjectRequest,
};
use crate::error::ApiError;

list_query! {
    /// `GET /api/v2/projects` filters.
    pub(crate) struct ProjectQuery {
        /// Owned by this user.
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        owner_id: Option<String>,
        /// Stage.
        #[param(schema_with = one_of_or_empty::<ProjectStage>)]
        stage: Option<String>,
        /// Status.
        #[param(schema_with = one_of_or_empty::<ProjectStatus>)]
        status: Option<String>,
        /// Public ones only (`true`) or private ones only (`false`).
        is_public: Option<bool>,
    }
}

list_query! {
    /// `GET /api/v2/projects/{id}/milestones` filters.
    pub(crate) struct ProjectMilestoneQuery {
        /// Status.
        #[param(schema_with = one_of_or_empty::<MilestoneStatus>)]
        status: Option<String>,
    }
}

list_query! {
    /// `GET /api/v2/milestones` filters.
    pub(crate) struct MilestoneQuery {
        /// Status.
        #[param(schema_with = one_of_or_empty::<MilestoneStatus>)]
        status: Option<String>,
        /// `true`: only unfinished milestones past their target date.
        overdue: Option<bool>,
    }
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

impl ListQuery for ProjectQuery {
    type Filter = ProjectFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        ProjectFilter {
            owner_id: optional_id(errors, "owner_id", self.owner_id.as_deref()),
            stage: optional_enum(errors, "stage", self.stage.as_deref()),
            status: optional_enum(errors, "status", self.status.as_deref()),
            is_public: self.is_public,
            ..Default::default()
        }
    }
}

impl ListQuery for ProjectMilestoneQuery {
    type Filter = MilestoneFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        MilestoneFilter {
            status: optional_enum(errors, "status", self.status.as_deref()),
            ..Default::default()
        }
    }
}

impl ListQuery for MilestoneQuery {
    type Filter = (Option<MilestoneStatus>, bool);

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        let status = optional_enum(errors, "status", self.status.as_deref());
        (status, self.overdue.unwrap_or(false))
    }
}

lists! {
    tag = "projects";
    /// Lists projects, newest first (`?owner_id&stage&status&is_public`): exactly those the caller
    /// may get — admins all, entrepreneurs their own, allies their mentees', clients the public
    /// ones, program staff and assigned reviewers those applying to their programs.
    list_projects: "/api/v2/projects", NoId, ProjectQuery => ProjectDto, [],
        |eco, ctx, NoId, filter, page| eco.list_projects(ctx, filter, page);
}

/// Creates a project owned by the calling entrepreneur.
#[utoipa::path(post, path = "/api/v2/projects", operation_id = "create_project", tag = "projects", security(("bearer" = [])),
    request_body = CreateProjectRequest,
    responses(
        (status = 201, description = "Created", body = ProjectDto), Authenticated, Forbidden, BadBody))]
pub(crate) async fn create_project<S: Store, N: Notifier, C: Clock>(
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

reads! {
    tag = "projects";
/// One project (404 when the caller may not see it).
    get_project: "/api/v2/projects/{id}", ProjectId => ProjectDto, |eco, ctx, id| eco.get_project(ctx, id);
}

/// Edits a project (its owner and admins).
#[utoipa::path(patch, path = "/api/v2/projects/{id}", operation_id = "update_project", tag = "projects", security(("bearer" = [])),
    request_body = UpdateProjectRequest,
    params(PathId<ProjectId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated project", body = ProjectDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn update_project<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ProjectId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UpdateProjectRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
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
#[utoipa::path(delete, path = "/api/v2/projects/{id}", operation_id = "delete_project", tag = "projects", security(("bearer" = [])),
    params(PathId<ProjectId>,
        IfMatch),
    responses(
        (status = 204, description = "Deleted"), Authenticated, Forbidden, NotFound, Conflict, BadInput))]
pub(crate) async fn delete_project<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ProjectId>,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode, ApiError> {
    let version = if_match;
    state.eco.delete_project(&auth.ctx, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a project to another stage.
#[utoipa::path(post, path = "/api/v2/projects/{id}/advance-stage", operation_id = "advance_project_stage", tag = "projects", security(("bearer" = [])),
    request_body = AdvanceStageRequest,
    params(PathId<ProjectId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated project", body = ProjectDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn advance_project_stage<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ProjectId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<AdvanceStageRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let stage = required_enum::<ProjectStage>(&mut errors, "stage", body.stage.as_deref());
    finish(errors)?;
    let stage = stage.ok_or_else(ApiError::internal)?;
    let project = state.eco.advance_stage(&auth.ctx, id, stage, version).await?;
    Ok(project_response(&project))
}

/// Runs a project lifecycle command.
async fn project_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: ProjectId,
    version: Option<u64>,
    command: ProjectCommand,
) -> Result<Response, ApiError> {
    let project = state.eco.project_command(&auth.ctx, id, command, version).await?;
    Ok(project_response(&project))
}

commands! {
    tag = "projects", id = ProjectId, answer = ProjectDto, run = project_command;
    /// Activates a project.
    activate_project: "/api/v2/projects/{id}/activate", CommandRequest, |body| ProjectCommand::Activate;
    /// Pauses an active project.
    pause_project: "/api/v2/projects/{id}/pause", CommandRequest, |body| ProjectCommand::Pause;
    /// Resumes a paused project.
    resume_project: "/api/v2/projects/{id}/resume", CommandRequest, |body| ProjectCommand::Resume;
    /// Completes a project.
    complete_project: "/api/v2/projects/{id}/complete", CommandRequest, |body| ProjectCommand::Complete;
    /// Cancels a project.
    cancel_project: "/api/v2/projects/{id}/cancel", CommandRequest, |body| ProjectCommand::Cancel;
}

lists! {
    tag = "milestones";
    /// A project's milestones, newest first (`?status`).
    list_project_milestones: "/api/v2/projects/{id}/milestones", PathId<ProjectId>, ProjectMilestoneQuery => MilestoneDto, [NotFound],
        |eco, ctx, PathId(id), filter, page| eco.list_project_milestones(ctx, id, filter, page);
}

/// Adds a milestone to a project (its owner).
#[utoipa::path(post, path = "/api/v2/projects/{id}/milestones", operation_id = "create_milestone", tag = "milestones", security(("bearer" = [])),
    request_body = CreateMilestoneRequest,
    params(PathId<ProjectId>),
    responses(
        (status = 201, description = "Created", body = MilestoneDto), Authenticated, Forbidden, NotFound, BadBody))]
pub(crate) async fn create_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ProjectId>,
    ApiJson(body): ApiJson<CreateMilestoneRequest>,
) -> Result<Response, ApiError> {
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

lists! {
    tag = "milestones";
    /// The caller's milestones, newest first (`?overdue=true&status`).
    list_my_milestones: "/api/v2/milestones", NoId, MilestoneQuery => MilestoneDto, [],
        |eco, ctx, NoId, (status, overdue), page| eco.list_my_milestones(ctx, status, overdue, page);
}

reads! {
    tag = "milestones";
/// One milestone (whoever may see its project).
    get_milestone: "/api/v2/milestones/{id}", MilestoneId => MilestoneDto, |eco, ctx, id| eco.get_milestone(ctx, id);
}

/// Edits a milestone's title, description or priority.
#[utoipa::path(patch, path = "/api/v2/milestones/{id}", operation_id = "update_milestone", tag = "milestones", security(("bearer" = [])),
    request_body = UpdateMilestoneRequest,
    params(PathId<MilestoneId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated milestone", body = MilestoneDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn update_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<MilestoneId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UpdateMilestoneRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
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

/// Runs a milestone action.
async fn milestone_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: MilestoneId,
    version: Option<u64>,
    action: MilestoneAction,
) -> Result<Response, ApiError> {
    let milestone = state.eco.milestone_command(&auth.ctx, id, action, version).await?;
    Ok(milestone_response(&milestone))
}

commands! {
    tag = "milestones", id = MilestoneId, answer = MilestoneDto, run = milestone_command;
    /// Starts a pending milestone.
    start_milestone: "/api/v2/milestones/{id}/start", CommandRequest, |body| MilestoneAction::Start;
    /// Completes a milestone.
    complete_milestone: "/api/v2/milestones/{id}/complete", CommandRequest, |body| MilestoneAction::Complete;
    /// Cancels a milestone.
    cancel_milestone: "/api/v2/milestones/{id}/cancel", CommandRequest, |body| MilestoneAction::Cancel;
}

/// Reports a milestone's progress (0–100; 100 completes it, more than 0 starts a pending one).
#[utoipa::path(post, path = "/api/v2/milestones/{id}/progress", operation_id = "progress_milestone", tag = "milestones", security(("bearer" = [])),
    request_body = ProgressRequest,
    params(PathId<MilestoneId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated milestone", body = MilestoneDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn progress_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<MilestoneId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<ProgressRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let progress = required(&mut errors, "progress", body.progress);
    finish(errors)?;
    let progress = progress.ok_or_else(ApiError::internal)?;
    milestone_command(&state, &auth, id, version, MilestoneAction::Progress(progress)).await
}

/// Moves a milestone's target date (after today), with a reason.
#[utoipa::path(post, path = "/api/v2/milestones/{id}/delay", operation_id = "delay_milestone", tag = "milestones", security(("bearer" = [])),
    request_body = DelayRequest,
    params(PathId<MilestoneId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated milestone", body = MilestoneDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn delay_milestone<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<MilestoneId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<DelayRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let target_date = required(&mut errors, "target_date", body.target_date);
    finish(errors)?;
    let target_date = target_date.ok_or_else(ApiError::internal)?;
    let action = MilestoneAction::Delay {
        target_date,
        reason: body.reason,
    };
    milestone_command(&state, &auth, id, version, action).await
}

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route("/api/v2/milestones", routing::get(list_my_milestones::<S, N, C>))
        .route(
            "/api/v2/milestones/{id}",
            routing::patch(update_milestone::<S, N, C>).get(get_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/cancel",
            routing::post(cancel_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/complete",
            routing::post(complete_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/delay",
            routing::post(delay_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/progress",
            routing::post(progress_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/start",
            routing::post(start_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/projects",
            routing::get(list_projects::<S, N, C>).post(create_project::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}",
            routing::patch(update_project::<S, N, C>)
                .delete(delete_project::<S, N, C>)
                .get(get_project::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}/activate",
            routing::post(activate_project::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}/advance-stage",
            routing::post(advance_project_stage::<S, N, C>),
        )
        .route("/api/v2/projects/{id}/cancel", routing::post(cancel_project::<S, N, C>))
        .route(
            "/api/v2/projects/{id}/complete",
            routing::post(complete_project::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}/milestones",
            routing::get(list_project_milestones::<S, N, C>).post(create_milestone::<S, N, C>),
        )
        .route("/api/v2/projects/{id}/pause", routing::post(pause_project::<S, N, C>))
        .route("/api/v2/projects/{id}/resume", routing::post(resume_project::<S, N, C>))
}

/// This module's part of the OpenAPI document (its components are listed in [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_my_milestones,
    update_milestone,
    get_milestone,
    cancel_milestone,
    complete_milestone,
    delay_milestone,
    progress_milestone,
    start_milestone,
    list_projects,
    create_project,
    update_project,
    delete_project,
    get_project,
    activate_project,
    advance_project_stage,
    cancel_project,
    complete_project,
    list_project_milestones,
    create_milestone,
    pause_project,
    resume_project
))]
pub(crate) struct Api;
