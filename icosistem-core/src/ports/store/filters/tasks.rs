//! Filters of tasks and their dependencies.

use chrono::{DateTime, Utc};

use super::{eq, pair};
use crate::model::*;
use crate::ports::store::Entity;

/// Filter of tasks.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Created by.
    pub owner_id: Option<UserId>,
    /// Assigned to.
    pub assignee_id: Option<UserId>,
    /// Where this user is the owner or the assignee.
    pub involving: Option<UserId>,
    /// Of this project.
    pub project_id: Option<ProjectId>,
    /// Subtasks of this task.
    pub parent_id: Option<TaskId>,
    /// Status.
    pub status: Option<TaskStatus>,
}

impl Entity for Task {
    entity_basics!(TaskId, TaskId::KIND, TaskFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &TaskFilter) -> bool {
        eq(&f.owner_id, &self.owner_id)
            && eq(&f.assignee_id, &self.assignee_id)
            && f.involving.is_none_or(|u| self.owner_id == u || self.assignee_id == u)
            && f.project_id.is_none_or(|p| self.project_id == Some(p))
            && f.parent_id.is_none_or(|p| self.parent_id == Some(p))
            && eq(&f.status, &self.status)
    }
}

/// Filter of task dependencies.
#[derive(Debug, Clone, Default)]
pub struct DependencyFilter {
    /// Of this dependent task.
    pub task_id: Option<TaskId>,
    /// Waiting for this task.
    pub depends_on: Option<TaskId>,
    /// Among the tasks of this owner.
    pub owner_id: Option<UserId>,
}

impl Entity for TaskDependency {
    entity_basics!(DependencyId, DependencyId::KIND, DependencyFilter, |s| s.id, |m| m.meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("task_depends_on", pair(self.task_id, self.depends_on))]
    }
    fn matches(&self, f: &DependencyFilter) -> bool {
        eq(&f.task_id, &self.task_id) && eq(&f.depends_on, &self.depends_on) && eq(&f.owner_id, &self.owner_id)
    }
}
