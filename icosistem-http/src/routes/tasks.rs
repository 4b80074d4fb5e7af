//! `/api/v2/tasks`: the caller's tasks (owned or assigned), their lifecycle commands and their
//! dependencies.

use icosistem_core::model::{ProjectId, TaskId, TaskStatus, UserId};
use icosistem_core::ports::store::TaskFilter;
use icosistem_core::service::UpdateTask;
use icosistem_core::workflow::task::TaskCommand;

use super::kit::{
    NoBody, NoId, PathId, PathIdAnd, api, filter_query, input, lists, path_segment, reads, routes, use_case_commands,
};
use crate::dto::{
    AddDependencyRequest, ApiJson, CommandRequest, CreateTaskRequest, DependencyDto, PageDto, ReadOn, TaskDto,
    UpdateTaskRequest,
};

filter_query! {
    /// `GET /api/v2/tasks` filters.
    pub(crate) struct TaskQuery => TaskFilter {
        /// Status.
        status: TaskStatus,
        /// Of this project.
        project_id: ProjectId,
        /// Subtasks of this task.
        parent_id: TaskId,
        /// Owned by this user.
        owner_id: UserId,
        /// Assigned to this user.
        assignee_id: UserId,
    }
}

lists! {
    tag = "tasks";
    /// The caller's tasks — owned or assigned — newest first (`?status&project_id&parent_id&
    /// owner_id&assignee_id` narrow them). Admins list every task.
    list_tasks: "/api/v2/tasks", NoId, TaskQuery => TaskDto, [],
        |eco, ctx, NoId, filter, page| eco.list_my_tasks(ctx, filter, page);
}

reads! {
    tag = "tasks";
    /// One task (its owner, its assignee, admins; 404 for everyone else).
    get_task: "/api/v2/tasks/{id}", TaskId => TaskDto, |eco, ctx, id| eco.get_task(ctx, id);
}

path_segment! {
    /// `{depends_on}`: the task a task waits for.
    DependsOn(TaskId): "depends_on", "task_dependency", "The task it waits for";
}

routes! {
    tag = "tasks";
    /// Creates a task owned by the caller (`todo`, progress 0). The assignee, when someone else,
    /// is notified (`task_assigned`).
    create_task: post "/api/v2/tasks", NoId, NoIfMatch, json<CreateTaskRequest>
        => etag(201, "Created", TaskDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| eco.create_task(ctx, input(ReadOn(b, eco.clock().now().date_naive()))?);
    /// Edits a task's title, description, priority, due date or assignee (its owner and admins;
    /// the assignee works on it through the commands). A new assignee is notified.
    update_task: patch "/api/v2/tasks/{id}", PathId<TaskId>, IfMatch, json<UpdateTaskRequest>
        => etag(200, "The updated task", TaskDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.update_task(ctx, id, UpdateTask {
             version,
            ..input(ReadOn(b, eco.clock().now().date_naive()))?
        });
    /// The tasks this task waits for (every edge, newest first, on one page: `next_cursor` is
    /// always null).
    list_task_dependencies: get "/api/v2/tasks/{id}/dependencies", PathId<TaskId>, NoIfMatch, none
        => json(200, "The dependencies", PageDto<DependencyDto>) [NotFound],
        |eco, ctx, PathId(id), _, NoBody| eco.list_task_dependencies(ctx, id);
    /// Records that the task cannot be completed before `depends_on` (the owner's, or an admin's).
    /// An edge closing a cycle is refused with 422 on `depends_on`; an existing edge is 409.
    add_task_dependency: post "/api/v2/tasks/{id}/dependencies", PathId<TaskId>, NoIfMatch, json<AddDependencyRequest>
        => json(201, "Created", DependencyDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.add_task_dependency(ctx, id, input(b)?);
    /// Removes the edge `{id} → {depends_on}` (the owner's, or an admin's).
    remove_task_dependency: delete "/api/v2/tasks/{id}/dependencies/{depends_on}", PathIdAnd<TaskId, DependsOn>, NoIfMatch, none
        => empty(204, "Removed") [Forbidden, NotFound, BadInput],
        |eco, ctx, PathIdAnd(id, DependsOn(depends_on)), _, NoBody| eco.remove_task_dependency(ctx, id, depends_on);
}

use_case_commands! {
    tag = "tasks", id = TaskId, answer = TaskDto, command = TaskCommand, run = task_command;
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

api!(
    [
        list_tasks,
        create_task,
        update_task,
        get_task,
        block_task,
        cancel_task,
        complete_task,
        list_task_dependencies,
        add_task_dependency,
        remove_task_dependency,
        start_task,
        unblock_task,
    ],
    components(
        schemas(
            TaskDto,
            CreateTaskRequest,
            UpdateTaskRequest,
            AddDependencyRequest,
            DependencyDto,
            PageDto<TaskDto>,
            PageDto<DependencyDto>,
        ),
    ),
    tags((name = "tasks", description = "Tasks, subtasks and their dependencies"))
);
