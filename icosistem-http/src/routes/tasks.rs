//! `/api/v2/tasks`: the caller's tasks (owned or assigned), their lifecycle commands and their
//! dependencies.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing;
use axum::{Json, Router};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::TaskStatus;
use icosistem_core::model::value::{bounded_text, optional_text};
use icosistem_core::model::{Priority, ProjectId, Task, TaskId, UserId};
use icosistem_core::ports::store::TaskFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::rules::common::validate_future_date;
use icosistem_core::service::{CreateTask, UpdateTask};
use icosistem_core::workflow::task::TaskCommand;

use super::kit::{
    Authenticated, BadBody, BadInput, Conflict, Forbidden, IfMatch, ListQuery, NoId, NotFound, PathId, commands,
    list_query, lists, parse_id, reads,
};
use super::{finish, optional_enum, optional_id, required, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::schema::one_of_or_empty;
use crate::dto::{
    AddDependencyRequest, ApiJson, CommandRequest, CreateTaskRequest, DependencyDto, PageDto, TaskDto,
    UpdateTaskRequest,
};
use crate::error::ApiError;

list_query! {
    /// `GET /api/v2/tasks` filters.
    pub(crate) struct TaskQuery {
        /// Status.
        #[param(schema_with = one_of_or_empty::<TaskStatus>)]
        status: Option<String>,
        /// Of this project.
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        project_id: Option<String>,
        /// Subtasks of this task.
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        parent_id: Option<String>,
        /// Owned by this user.
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        owner_id: Option<String>,
        /// Assigned to this user.
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        assignee_id: Option<String>,
    }
}

fn task_response(task: &Task) -> Response {
    versioned(task.meta.version, TaskDto::from(task))
}

impl ListQuery for TaskQuery {
    type Filter = TaskFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        TaskFilter {
            status: optional_enum(errors, "status", self.status.as_deref()),
            project_id: optional_id(errors, "project_id", self.project_id.as_deref()),
            parent_id: optional_id(errors, "parent_id", self.parent_id.as_deref()),
            owner_id: optional_id(errors, "owner_id", self.owner_id.as_deref()),
            assignee_id: optional_id(errors, "assignee_id", self.assignee_id.as_deref()),
            ..Default::default()
        }
    }
}

lists! {
    tag = "tasks";
    /// The caller's tasks — owned or assigned — newest first (`?status&project_id&parent_id&
    /// owner_id&assignee_id` narrow them). Admins list every task.
    list_tasks: "/api/v2/tasks", NoId, TaskQuery => TaskDto, [],
        |eco, ctx, NoId, filter, page| eco.list_my_tasks(ctx, filter, page);
}

/// Creates a task owned by the caller (`todo`, progress 0). The assignee, when someone else,
/// is notified (`task_assigned`).
#[utoipa::path(post, path = "/api/v2/tasks", operation_id = "create_task", tag = "tasks", security(("bearer" = [])),
    request_body = CreateTaskRequest,
    responses(
        (status = 201, description = "Created", body = TaskDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn create_task<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateTaskRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let title = required(&mut errors, "title", body.title.filter(|t| !t.trim().is_empty()));
    let assignee_id = optional_id::<UserId>(&mut errors, "assignee_id", body.assignee_id.as_deref());
    let project_id = optional_id::<ProjectId>(&mut errors, "project_id", body.project_id.as_deref());
    let parent_id = optional_id::<TaskId>(&mut errors, "parent_id", body.parent_id.as_deref());
    let priority = optional_enum::<Priority>(&mut errors, "priority", body.priority.as_deref());
    // The core checks these too, but only once the parsing above passed: checking them here
    // as well makes one answer list every failing field.
    if let Some(t) = title.as_deref() {
        errors.check(bounded_text("title", t, 3, 300));
    }
    errors.check(optional_text("description", body.description.as_deref(), 5000));
    if let Some(due) = body.due_date {
        let today = state.eco.clock().now().date_naive();
        errors.check(validate_future_date("due_date", due, today, true));
    }
    finish(errors)?;
    let task = state
        .eco
        .create_task(
            &auth.ctx,
            CreateTask {
                title: title.unwrap_or_default(),
                description: body.description,
                assignee_id,
                project_id,
                parent_id,
                priority,
                due_date: body.due_date,
            },
        )
        .await?;
    let mut response = task_response(&task);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

reads! {
    tag = "tasks";
/// One task (its owner, its assignee, admins; 404 for everyone else).
    get_task: "/api/v2/tasks/{id}", TaskId => TaskDto, |eco, ctx, id| eco.get_task(ctx, id);
}

/// Edits a task's title, description, priority, due date or assignee (its owner and admins;
/// the assignee works on it through the commands). A new assignee is notified.
#[utoipa::path(patch, path = "/api/v2/tasks/{id}", operation_id = "update_task", tag = "tasks", security(("bearer" = [])),
    request_body = UpdateTaskRequest,
    params(PathId<TaskId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated task", body = TaskDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn update_task<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<TaskId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UpdateTaskRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let priority = optional_enum::<Priority>(&mut errors, "priority", body.priority.as_deref());
    let assignee_id = optional_id::<UserId>(&mut errors, "assignee_id", body.assignee_id.as_deref());
    // Checked again by the core; here too so that one answer lists every failing field.
    if let Some(t) = body.title.as_deref() {
        errors.check(bounded_text("title", t, 3, 300));
    }
    if let Some(d) = &body.description {
        errors.check(optional_text("description", d.as_deref(), 5000));
    }
    if let Some(Some(due)) = body.due_date {
        let today = state.eco.clock().now().date_naive();
        errors.check(validate_future_date("due_date", due, today, true));
    }
    finish(errors)?;
    let task = state
        .eco
        .update_task(
            &auth.ctx,
            id,
            UpdateTask {
                title: body.title,
                description: body.description,
                priority,
                due_date: body.due_date,
                assignee_id,
                version,
            },
        )
        .await?;
    Ok(task_response(&task))
}

/// Runs a task lifecycle command.
async fn command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: TaskId,
    version: Option<u64>,
    command: TaskCommand,
) -> Result<Response, ApiError> {
    let resource = state.eco.task_command(&auth.ctx, id, command, version).await?;
    Ok(task_response(&resource))
}

commands! {
    tag = "tasks", id = TaskId, answer = TaskDto, run = command;
    /// Starts a task (`todo → in_progress`).
    start_task: "/api/v2/tasks/{id}/start", CommandRequest, |body| TaskCommand::Start;
    /// Marks a task blocked (from `todo` or `in_progress`).
    block_task: "/api/v2/tasks/{id}/block", CommandRequest, |body| TaskCommand::Block;
    /// Unblocks a task (`blocked → in_progress`).
    unblock_task: "/api/v2/tasks/{id}/unblock", CommandRequest, |body| TaskCommand::Unblock;
    /// Completes a task (`in_progress → completed`, progress 100) once every dependency is
    /// finished (422 on `depends_on` otherwise); the owner is told when someone else completes it.
    complete_task: "/api/v2/tasks/{id}/complete", CommandRequest, |body| TaskCommand::Complete;
    /// Cancels a task that is not finished.
    cancel_task: "/api/v2/tasks/{id}/cancel", CommandRequest, |body| TaskCommand::Cancel;
}

/// The tasks this task waits for (every edge, newest first, on one page: `next_cursor` is
/// always null).
#[utoipa::path(get, path = "/api/v2/tasks/{id}/dependencies", operation_id = "list_task_dependencies", tag = "tasks", security(("bearer" = [])),
    params(PathId<TaskId>),
    responses(
        (status = 200, description = "The dependencies", body = PageDto<DependencyDto>), Authenticated, NotFound))]
pub(crate) async fn list_task_dependencies<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<TaskId>,
) -> Result<Json<PageDto<DependencyDto>>, ApiError> {
    let edges = state.eco.list_task_dependencies(&auth.ctx, id).await?;
    Ok(Json(PageDto {
        items: edges.iter().map(DependencyDto::from).collect(),
        next_cursor: None,
    }))
}

/// Records that the task cannot be completed before `depends_on` (the owner's, or an admin's).
/// An edge closing a cycle is refused with 422 on `depends_on`; an existing edge is 409.
#[utoipa::path(post, path = "/api/v2/tasks/{id}/dependencies", operation_id = "add_task_dependency", tag = "tasks", security(("bearer" = [])),
    request_body = AddDependencyRequest,
    params(PathId<TaskId>),
    responses(
        (status = 201, description = "Created", body = DependencyDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn add_task_dependency<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<TaskId>,
    ApiJson(body): ApiJson<AddDependencyRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let depends_on = required_id::<TaskId>(&mut errors, "depends_on", body.depends_on.as_deref());
    finish(errors)?;
    let depends_on = depends_on.ok_or_else(ApiError::internal)?;
    let dependency = state.eco.add_task_dependency(&auth.ctx, id, depends_on).await?;
    Ok((StatusCode::CREATED, Json(DependencyDto::from(&dependency))).into_response())
}

/// Removes the edge `{id} → {depends_on}` (the owner's, or an admin's).
#[utoipa::path(delete, path = "/api/v2/tasks/{id}/dependencies/{depends_on}", operation_id = "remove_task_dependency", tag = "tasks", security(("bearer" = [])),
    params(PathId<TaskId>, ("depends_on" = uuid::Uuid, Path, description = "The task it waits for")),
    responses(
        (status = 204, description = "Removed"), Authenticated, Forbidden, NotFound, BadInput))]
pub(crate) async fn remove_task_dependency<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<TaskId>,
    Path((_, depends_on)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let depends_on: TaskId = parse_id(&depends_on, "task_dependency")?;
    state.eco.remove_task_dependency(&auth.ctx, id, depends_on).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The document of the task paths.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_tasks, create_task, update_task, get_task, block_task, cancel_task, complete_task, list_task_dependencies, add_task_dependency, remove_task_dependency, start_task, unblock_task),
    components(schemas(
        TaskDto,
        CreateTaskRequest,
        UpdateTaskRequest,
        AddDependencyRequest,
        DependencyDto,
        PageDto<TaskDto>,
        PageDto<DependencyDto>
    )),
    tags((name = "tasks", description = "Tasks, subtasks and their dependencies"))
)]
pub(crate) struct Api;

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route(
            "/api/v2/tasks",
            routing::get(list_tasks::<S, N, C>).post(create_task::<S, N, C>),
        )
        .route(
            "/api/v2/tasks/{id}",
            routing::patch(update_task::<S, N, C>).get(get_task::<S, N, C>),
        )
        .route("/api/v2/tasks/{id}/block", routing::post(block_task::<S, N, C>))
        .route("/api/v2/tasks/{id}/cancel", routing::post(cancel_task::<S, N, C>))
        .route("/api/v2/tasks/{id}/complete", routing::post(complete_task::<S, N, C>))
        .route(
            "/api/v2/tasks/{id}/dependencies",
            routing::get(list_task_dependencies::<S, N, C>).post(add_task_dependency::<S, N, C>),
        )
        .route(
            "/api/v2/tasks/{id}/dependencies/{depends_on}",
            routing::delete(remove_task_dependency::<S, N, C>),
        )
        .route("/api/v2/tasks/{id}/start", routing::post(start_task::<S, N, C>))
        .route("/api/v2/tasks/{id}/unblock", routing::post(unblock_task::<S, N, C>))
}
