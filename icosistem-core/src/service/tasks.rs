//! Tasks and dependencies (docs/domain.md §4.8).
//!
//! A task belongs to the user who created it (its owner) and is done by its assignee (the owner
//! unless named). Both of them see it and run its commands; admins see and do everything; for
//! everyone else the task does not exist (`NotFound`). Editing a task's fields and changing its
//! dependencies is the owner's (and admins') business; the assignee works on it through the
//! lifecycle commands.
//!
//! Two invariants span rows:
//! - **progress roll-up**: a task with (non-cancelled) subtasks has the mean progress of its
//!   subtasks (completed counts 100). Every change of a subtask recomputes its ancestors in the
//!   same unit of work, each ancestor locked, child before parent, so two concurrent subtask
//!   changes cannot lose one another's contribution.
//! - **no dependency cycle**: every change of an owner's dependency graph (adding or removing
//!   an edge) and every completion first locks the owner's user row. The cycle check and the
//!   "dependencies finished" check then read a graph no concurrent unit of work can change, on
//!   every store. (Dependencies never cross owners, which is what makes one row enough.)
//!
//! Lock order, to stay deadlock-free: the owner's user row, then the task, then its ancestors
//! from the nearest up.

use crate::service::Expect;
use chrono::NaiveDate;
use serde_json::json;

use super::{Context, Ecosystem, Notice, Uow, check_version};
use crate::error::{Error, FieldError, Forbidden, Result, ValidationErrors};
use crate::model::value::{Percent, bounded_text, optional_text};
use crate::model::{Actor, Priority, ProjectId, Task, TaskDependency, TaskId, TaskStatus, User, UserId};
use crate::policy::Action;
use crate::ports::store::{DependencyFilter, Page, PageRequest, Repo, Store, TaskFilter, Transaction};
use crate::ports::{Clock, Notifier};
use crate::rules::common::validate_future_date;
use crate::workflow::task::{self as wf, TaskCommand};

/// Input of `create_task`.
#[derive(Debug, Clone, Default)]
pub struct CreateTask {
    /// Title (3–300 chars, trimmed).
    pub title: String,
    /// Description (≤ 5000 chars; blank means none).
    pub description: Option<String>,
    /// Who does it (default: the caller). Must be an existing user.
    pub assignee_id: Option<UserId>,
    /// The project it belongs to: one the caller may edit (its owner, admins). A subtask without
    /// one takes its parent's.
    pub project_id: Option<ProjectId>,
    /// Makes it a subtask of this task: one of the caller's own tasks, not completed or
    /// cancelled.
    pub parent_id: Option<TaskId>,
    /// Priority (default medium).
    pub priority: Option<Priority>,
    /// Due date (today or later).
    pub due_date: Option<NaiveDate>,
}

/// Input of `update_task`; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct UpdateTask {
    /// Title (3–300).
    pub title: Option<String>,
    /// Description (≤ 5000; `Some(None)` clears).
    pub description: Option<Option<String>>,
    /// Priority.
    pub priority: Option<Priority>,
    /// Due date (today or later; `Some(None)` clears).
    pub due_date: Option<Option<NaiveDate>>,
    /// New assignee (an existing user); they are notified unless they are the caller.
    pub assignee_id: Option<UserId>,
    /// The version read.
    pub version: Option<u64>,
}

/// A task's title: 3–300 characters. Public (like the two below) so that a front end reading a
/// body can report these rules together with the fields it could not read, without restating
/// them.
pub fn task_title(value: &str) -> std::result::Result<String, FieldError> {
    bounded_text("title", value, 3, 300)
}

/// A task's description: at most 5000 characters (`None` stays `None`).
pub fn task_description(value: Option<&str>) -> std::result::Result<Option<String>, FieldError> {
    optional_text("description", value, 5000)
}

/// A task's due date: `today` or later.
pub fn task_due_date(due: NaiveDate, today: NaiveDate) -> std::result::Result<(), FieldError> {
    validate_future_date("due_date", due, today, true)
}

/// How the actor relates to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskAccess {
    /// Invisible: answered as `NotFound`.
    None,
    /// The assignee (not the owner): may see it and run its commands.
    Assignee,
    /// The owner, an admin or the system: may do everything.
    Full,
}

/// The task permission table. Tasks are personal work items outside the organization table of
/// docs/domain.md §2, so the decision needs nothing but the owner/assignee relation.
fn task_access(actor: &Actor, task: &Task) -> TaskAccess {
    match actor {
        Actor::System => TaskAccess::Full,
        Actor::Anonymous => TaskAccess::None,
        Actor::User { id, .. } if actor.is_admin() || *id == task.owner_id => TaskAccess::Full,
        Actor::User { id, .. } if *id == task.assignee_id => TaskAccess::Assignee,
        Actor::User { .. } => TaskAccess::None,
    }
}

fn forbidden(action: &'static str) -> Error {
    Error::Forbidden(Forbidden {
        action,
        resource: "task",
    })
}

fn assigned_notice(task: &Task, by: Option<&User>) -> Notice {
    let by = by.map(User::full_name).unwrap_or_else(|| "Someone".to_owned());
    Notice::new(
        "task_assigned",
        format!("New task: {}", task.title),
        format!("{by} assigned you the task {}.", task.title),
        json!({ "task_id": task.id, "project_id": task.project_id }),
    )
}

impl<T: Transaction> Uow<T> {
    /// A task the actor may see, locked for the rest of the unit of work; `NotFound` otherwise.
    async fn visible_task_for_update(&mut self, id: TaskId) -> Result<(Task, TaskAccess)> {
        let task: Task = self.load_for_update(id).await?;
        match task_access(&self.ctx.actor, &task) {
            TaskAccess::None => Err(Error::not_found("task", id)),
            access => Ok((task, access)),
        }
    }

    /// Recomputes the progress of `parent` and of its ancestors from their subtasks, in this
    /// unit of work. Stops at a terminal ancestor (completed and cancelled tasks never change),
    /// at one without counting subtasks (its own progress stands), or where nothing changed.
    /// The walk ends: a parent exists before its subtasks and `parent_id` never changes, so the
    /// chain has no cycle.
    async fn refresh_task_rollup(&mut self, parent: Option<TaskId>) -> Result<()> {
        let mut next = parent;
        while let Some(id) = next {
            let mut parent: Task = self.load_for_update(id).await?;
            if parent.status.is_terminal() {
                break;
            }
            let subtasks = self
                .all(&TaskFilter {
                    parent_id: Some(id),
                    ..Default::default()
                })
                .await?;
            let Some(progress) = wf::rolled_up_progress(subtasks.iter().map(|t| (t.status, t.progress.get()))) else {
                break;
            };
            if progress == parent.progress.get() {
                break;
            }
            parent.progress = Percent::new(progress).expect("a mean of percents is a percent");
            next = parent.parent_id;
            self.update(parent).await?;
        }
        Ok(())
    }

    /// The dependency edges of `owner` as pairs `(task, depends_on)`.
    async fn task_dependency_edges(&mut self, owner: UserId) -> Result<Vec<(TaskId, TaskId)>> {
        Ok(self
            .all(&DependencyFilter {
                owner_id: Some(owner),
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|d| (d.task_id, d.depends_on))
            .collect())
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Creates a task owned by the caller (any signed-in user), `todo`, progress 0.
    ///
    /// Every field is checked and all failures are reported at once (`Validation`): `title`
    /// 3–300, `description` ≤ 5000, `due_date` today or later, `assignee_id` an existing user
    /// ("no such user"), `parent_id` one of the caller's own tasks ("no such task" when the
    /// caller cannot see it, "must be one of your own tasks" when they see it as its assignee)
    /// that is not completed or cancelled, and `project_id` equal to the parent's project when
    /// both are given. A project must be one the caller may edit: an invisible project is
    /// `NotFound`, a visible but not editable one `Forbidden`; a completed or cancelled
    /// project is `InvalidTransition { entity: "project", command: "add_task" }`.
    ///
    /// A subtask recomputes its parent's (and ancestors') progress in the same unit of work.
    /// Writes `task.create` to the audit log and notifies the assignee (`task_assigned`) when
    /// it is not the caller. Anonymous and system callers get `Forbidden`.
    pub async fn create_task(&self, ctx: &Context, input: CreateTask) -> Result<Task> {
        let me = ctx.user_id("task.create")?;
        let mut uow = self.uow(ctx).await?;
        let today = uow.now.date_naive();
        let mut errors = ValidationErrors::new();
        let title = errors.check(task_title(&input.title));
        let description = errors.check(task_description(input.description.as_deref())).flatten();
        if let Some(due) = input.due_date {
            errors.check(task_due_date(due, today));
        }
        let assignee_id = input.assignee_id.unwrap_or(me);
        let assignee: Option<User> = uow.get(assignee_id).await?;
        if assignee.is_none() {
            errors.push("assignee_id", "no such user");
        }
        let mut project_id = input.project_id;
        if let Some(parent_id) = input.parent_id {
            // Locked now, so the parent cannot be completed or cancelled before its new subtask
            // is in (the roll-up below locks it anyway; this is the same lock, taken earlier).
            let parent: Option<Task> = Repo::<Task>::get_for_update(&mut uow.tx, parent_id).await?;
            match parent {
                Some(p) if task_access(&ctx.actor, &p) == TaskAccess::None => errors.push("parent_id", "no such task"),
                None => errors.push("parent_id", "no such task"),
                Some(p) if p.owner_id != me => errors.push("parent_id", "must be one of your own tasks"),
                Some(p) if p.status.is_terminal() => {
                    errors.push("parent_id", format!("the parent task is {}", p.status));
                }
                Some(p) => match (project_id, p.project_id) {
                    (Some(mine), Some(its)) if mine != its => {
                        errors.push("project_id", "must be the parent task's project");
                    }
                    (None, its) => project_id = its,
                    _ => {}
                },
            }
        }
        errors.into_result()?;
        if let Some(id) = input.project_id {
            let project = uow.project_for(id, Action::EditProject).await?;
            if project.status.is_terminal() {
                return Err(Error::invalid_transition(
                    "project",
                    project.status.as_str(),
                    "add_task",
                ));
            }
        }
        let task = Task {
            id: uow.new_id(),
            owner_id: me,
            assignee_id,
            project_id,
            parent_id: input.parent_id,
            title: title.expect("validated"),
            description,
            status: TaskStatus::Todo,
            priority: input.priority.unwrap_or_default(),
            due_date: input.due_date,
            progress: Percent::new(0).expect("0 is a percent"),
            completed_at: None,
            meta: uow.meta(),
        };
        uow.insert(&task).await?;
        uow.refresh_task_rollup(task.parent_id).await?;
        uow.audit(
            "task.create",
            "task",
            task.id,
            None,
            None,
            Some(json!({ "status": task.status, "assignee_id": task.assignee_id, "parent_id": task.parent_id })),
        )
        .await?;
        if assignee_id != me {
            let caller: Option<User> = uow.get(me).await?;
            let assignee = assignee.expect("checked");
            uow.notify(&assignee, assigned_notice(&task, caller.as_ref())).await?;
        }
        uow.commit().await?;
        Ok(task)
    }

    /// A task: its owner and assignee see it, admins see all; for everyone else `NotFound`.
    pub async fn get_task(&self, ctx: &Context, id: TaskId) -> Result<Task> {
        let mut uow = self.uow(ctx).await?;
        let task: Task = uow.load(id).await?;
        if task_access(&ctx.actor, &task) == TaskAccess::None {
            return Err(Error::not_found("task", id));
        }
        Ok(task)
    }

    /// The tasks the caller owns or is assigned (`?owner_id&assignee_id&project_id&parent_id&
    /// status`), newest first. For everyone but admins (and the system) `involving` is forced
    /// to the caller, so other filters only narrow their own tasks; admins list every task.
    /// Anonymous callers get `Forbidden`.
    pub async fn list_my_tasks(&self, ctx: &Context, mut filter: TaskFilter, page: PageRequest) -> Result<Page<Task>> {
        if !ctx.actor.is_admin() && ctx.actor != Actor::System {
            filter.involving = Some(ctx.user_id("task.list")?);
        }
        let mut uow = self.uow(ctx).await?;
        uow.list(&filter, page).await
    }

    /// Edits a task's title, description, priority, due date or assignee (its owner, admins).
    ///
    /// Errors: `NotFound` when the caller cannot see the task; `Forbidden` for its assignee;
    /// `Conflict { field: "version" }` for a stale `version`; `InvalidTransition { command:
    /// "update" }` on a completed or cancelled task; `Validation` listing every bad field
    /// (`title` 3–300, `description` ≤ 5000, `due_date` today or later, `assignee_id` an
    /// existing user). A new assignee other than the caller is notified (`task_assigned`).
    /// Audited as `task.update`.
    pub async fn update_task(&self, ctx: &Context, id: TaskId, input: UpdateTask) -> Result<Task> {
        let mut uow = self.uow(ctx).await?;
        let (mut task, access) = uow.visible_task_for_update(id).await?;
        if access != TaskAccess::Full {
            return Err(forbidden("task.update"));
        }
        check_version(&task, input.version)?;
        if task.status.is_terminal() {
            return Err(Error::invalid_transition("task", task.status.as_str(), "update"));
        }
        let today = uow.now.date_naive();
        let mut errors = ValidationErrors::new();
        if let Some(v) = input.title.as_deref()
            && let Some(v) = errors.check(task_title(v))
        {
            task.title = v;
        }
        if let Some(v) = input.description {
            task.description = errors.check(task_description(v.as_deref())).flatten();
        }
        if let Some(v) = input.due_date {
            if let Some(due) = v {
                errors.check(task_due_date(due, today));
            }
            task.due_date = v;
        }
        let mut new_assignee = None;
        if let Some(assignee_id) = input.assignee_id.filter(|a| *a != task.assignee_id) {
            let user: Option<User> = uow.get(assignee_id).await?;
            match user {
                Some(user) => new_assignee = Some(user),
                None => errors.push("assignee_id", "no such user"),
            }
        }
        errors.into_result()?;
        if let Some(v) = input.priority {
            task.priority = v;
        }
        let before = json!({ "assignee_id": task.assignee_id });
        if let Some(user) = &new_assignee {
            task.assignee_id = user.id;
        }
        let task = uow.update(task).await?;
        let after = json!({ "assignee_id": task.assignee_id });
        let (before, after) = if new_assignee.is_some() {
            (Some(before), Some(after))
        } else {
            (None, None)
        };
        uow.audit("task.update", "task", task.id, None, before, after).await?;
        if let Some(user) = new_assignee.filter(|u| ctx.actor.user_id() != Some(u.id)) {
            let caller: Option<User> = match ctx.actor.user_id() {
                Some(me) => uow.get(me).await?,
                None => None,
            };
            uow.notify(&user, assigned_notice(&task, caller.as_ref())).await?;
        }
        uow.commit().await?;
        Ok(task)
    }

    /// Runs a lifecycle command on a task (its owner or assignee; admins): `start`
    /// (todo → in_progress), `block` (todo|in_progress → blocked), `unblock` (→ in_progress),
    /// `complete` (in_progress → completed; sets `completed_at` and progress 100), `cancel`
    /// (any non-terminal → cancelled).
    ///
    /// Errors: `NotFound` when the caller cannot see the task; `Conflict { field: "version" }`
    /// for a stale `version`; `InvalidTransition { entity: "task" }` for a move the graph does
    /// not allow (checked first); completing a task with a dependency that is neither completed
    /// nor cancelled is `Validation` with one `depends_on` entry per unfinished dependency
    /// (`"task <id> is <status>"`).
    ///
    /// A subtask's change recomputes its ancestors' progress in the same unit of work. Audited
    /// as `task.<command>` (status before/after). When someone other than the owner completes
    /// the task, the owner is notified (`task_completed`).
    pub async fn task_command(
        &self,
        ctx: &Context,
        id: TaskId,
        command: TaskCommand,
        version: impl Into<Expect>,
    ) -> Result<Task> {
        let mut uow = self.uow(ctx).await?;
        if command == TaskCommand::Complete {
            // Completion reads the dependency graph: take the owner's lock first (lock order:
            // user, then task), so an edge added concurrently is either seen here or refused
            // there because the task is completed.
            let peek: Task = uow.load(id).await?;
            if task_access(&ctx.actor, &peek) == TaskAccess::None {
                return Err(Error::not_found("task", id));
            }
            let _owner: User = uow.load_for_update(peek.owner_id).await?;
        }
        let (mut task, _) = uow.visible_task_for_update(id).await?;
        check_version(&task, version)?;
        let from = task.status;
        task.status = wf::transition(from, command)?;
        if command == TaskCommand::Complete {
            let dependencies = uow
                .all(&DependencyFilter {
                    task_id: Some(id),
                    ..Default::default()
                })
                .await?;
            let mut errors = ValidationErrors::new();
            for dependency in dependencies {
                let other: Option<Task> = uow.get(dependency.depends_on).await?;
                if let Some(other) = other.filter(|t| !t.status.is_terminal()) {
                    errors.push("depends_on", format!("task {} is {}", other.id, other.status));
                }
            }
            errors.into_result()?;
            task.completed_at = Some(uow.now);
            task.progress = Percent::new(100).expect("100 is a percent");
        }
        let task = uow.update(task).await?;
        uow.refresh_task_rollup(task.parent_id).await?;
        uow.audit_transition(
            &format!("task.{}", command.as_str()),
            "task",
            task.id,
            None,
            from.as_str(),
            task.status.as_str(),
        )
        .await?;
        if command == TaskCommand::Complete && ctx.actor.user_id() != Some(task.owner_id) {
            uow.notify_id(
                task.owner_id,
                Notice::new(
                    "task_completed",
                    format!("Task completed: {}", task.title),
                    format!("The task {} was completed.", task.title),
                    json!({ "task_id": task.id, "project_id": task.project_id }),
                ),
            )
            .await?;
        }
        uow.commit().await?;
        Ok(task)
    }

    /// Records that `task_id` cannot be completed before `depends_on` (the tasks' owner, or an
    /// admin).
    ///
    /// Never a cycle, also under concurrency: the owner's user row is locked first (every
    /// dependency change and completion of that owner serializes on it), then the owner's whole
    /// graph is read and checked with [`wf::would_create_cycle`].
    ///
    /// Errors: `NotFound` when the caller cannot see `task_id`; `Forbidden` for its assignee;
    /// `InvalidTransition { command: "add_dependency" }` when `task_id` is completed or
    /// cancelled; `Validation` on `depends_on` for a task the caller cannot see ("no such
    /// task"), one of another owner ("must belong to the same owner") or an edge that would
    /// close a cycle, itself included ("would create a cycle"); `Conflict { entity:
    /// "task_dependency", field: "task_depends_on" }` when the edge exists. Audited as
    /// `task.add_dependency`.
    pub async fn add_task_dependency(
        &self,
        ctx: &Context,
        task_id: TaskId,
        depends_on: TaskId,
    ) -> Result<TaskDependency> {
        let mut uow = self.uow(ctx).await?;
        let peek: Task = uow.load(task_id).await?;
        if task_access(&ctx.actor, &peek) == TaskAccess::None {
            return Err(Error::not_found("task", task_id));
        }
        let owner_id = peek.owner_id;
        let _owner: User = uow.load_for_update(owner_id).await?;
        // Re-read under the owner's lock: a completion may have committed in between.
        let (task, access) = uow.visible_task_for_update(task_id).await?;
        if access != TaskAccess::Full {
            return Err(forbidden("task.add_dependency"));
        }
        if task.status.is_terminal() {
            return Err(Error::invalid_transition(
                "task",
                task.status.as_str(),
                "add_dependency",
            ));
        }
        let other: Option<Task> = uow.get(depends_on).await?;
        match other {
            None => return Err(Error::invalid("depends_on", "no such task")),
            Some(o) if task_access(&ctx.actor, &o) == TaskAccess::None => {
                return Err(Error::invalid("depends_on", "no such task"));
            }
            Some(o) if o.owner_id != owner_id => {
                return Err(Error::invalid("depends_on", "must belong to the same owner"));
            }
            Some(_) => {}
        }
        let edges = uow.task_dependency_edges(owner_id).await?;
        if wf::would_create_cycle(&edges, task_id, depends_on) {
            return Err(Error::invalid("depends_on", "would create a cycle"));
        }
        if edges.contains(&(task_id, depends_on)) {
            return Err(Error::Conflict {
                entity: "task_dependency",
                field: "task_depends_on",
            });
        }
        let dependency = TaskDependency {
            id: uow.new_id(),
            task_id,
            depends_on,
            owner_id,
            meta: uow.meta(),
        };
        uow.insert(&dependency).await?;
        uow.audit(
            "task.add_dependency",
            "task",
            task_id,
            None,
            None,
            Some(json!({ "depends_on": depends_on })),
        )
        .await?;
        uow.commit().await?;
        Ok(dependency)
    }

    /// Removes the edge `task_id → depends_on` (the tasks' owner, or an admin), under the
    /// owner's lock like every dependency change.
    ///
    /// Errors: `NotFound { entity: "task" }` when the caller cannot see `task_id`; `Forbidden`
    /// for its assignee; `NotFound { entity: "task_dependency" }` when there is no such edge.
    /// Audited as `task.remove_dependency`.
    pub async fn remove_task_dependency(&self, ctx: &Context, task_id: TaskId, depends_on: TaskId) -> Result<()> {
        let mut uow = self.uow(ctx).await?;
        let peek: Task = uow.load(task_id).await?;
        match task_access(&ctx.actor, &peek) {
            TaskAccess::None => return Err(Error::not_found("task", task_id)),
            TaskAccess::Assignee => return Err(forbidden("task.remove_dependency")),
            TaskAccess::Full => {}
        }
        let _owner: User = uow.load_for_update(peek.owner_id).await?;
        let dependency = uow
            .first(&DependencyFilter {
                task_id: Some(task_id),
                depends_on: Some(depends_on),
                ..Default::default()
            })
            .await?
            .ok_or_else(|| Error::not_found("task_dependency", format!("{task_id}:{depends_on}")))?;
        uow.delete(dependency.id).await?;
        uow.audit(
            "task.remove_dependency",
            "task",
            task_id,
            None,
            Some(json!({ "depends_on": depends_on })),
            None,
        )
        .await?;
        uow.commit().await
    }

    /// The tasks `task_id` waits for (its dependency edges, newest first), for whoever may see
    /// the task; `NotFound` otherwise.
    pub async fn list_task_dependencies(&self, ctx: &Context, task_id: TaskId) -> Result<Vec<TaskDependency>> {
        let mut uow = self.uow(ctx).await?;
        let task: Task = uow.load(task_id).await?;
        if task_access(&ctx.actor, &task) == TaskAccess::None {
            return Err(Error::not_found("task", task_id));
        }
        uow.all(&DependencyFilter {
            task_id: Some(task_id),
            ..Default::default()
        })
        .await
    }
}
