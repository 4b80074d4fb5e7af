//! Tasks (docs/domain.md §4.8): `todo → in_progress → completed`; `todo|in_progress ⇄ blocked`;
//! any non-terminal → cancelled. Subtasks roll their progress up to the parent; dependencies
//! never form a cycle.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use super::snake_enum;
use crate::error::Error;

snake_enum! {
    /// Where a task is.
    pub enum TaskStatus {
        /// Not started.
        Todo => "todo",
        /// Being worked on.
        InProgress => "in_progress",
        /// Waiting on something.
        Blocked => "blocked",
        /// Done (terminal).
        Completed => "completed",
        /// Dropped (terminal).
        Cancelled => "cancelled",
    }
}

snake_enum! {
    /// What can be done to a task.
    pub enum TaskCommand {
        /// Start working.
        Start => "start",
        /// Mark blocked.
        Block => "block",
        /// Unblock (back to in progress).
        Unblock => "unblock",
        /// Finish.
        Complete => "complete",
        /// Drop.
        Cancel => "cancel",
    }
}

impl TaskStatus {
    /// Completed and cancelled tasks never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Cancelled)
    }
}

const TABLE: &[(TaskStatus, TaskCommand, TaskStatus)] = {
    use TaskCommand as C;
    use TaskStatus as S;
    &[
        (S::Todo, C::Start, S::InProgress),
        (S::InProgress, C::Complete, S::Completed),
        (S::Todo, C::Block, S::Blocked),
        (S::InProgress, C::Block, S::Blocked),
        (S::Blocked, C::Unblock, S::InProgress),
        (S::Todo, C::Cancel, S::Cancelled),
        (S::InProgress, C::Cancel, S::Cancelled),
        (S::Blocked, C::Cancel, S::Cancelled),
    ]
};

/// Applies a task command.
pub fn transition(status: TaskStatus, command: TaskCommand) -> Result<TaskStatus, Error> {
    super::lookup("task", TABLE, status, command)
}

/// A parent's progress from its subtasks: the mean of the non-cancelled subtasks' progress
/// (completed counts 100); `None` when no subtask counts.
pub fn rolled_up_progress(subtasks: impl IntoIterator<Item = (TaskStatus, u8)>) -> Option<u8> {
    let (sum, n) = subtasks
        .into_iter()
        .filter(|(status, _)| *status != TaskStatus::Cancelled)
        .map(|(status, progress)| {
            if status == TaskStatus::Completed {
                100
            } else {
                u32::from(progress)
            }
        })
        .fold((0u32, 0u32), |(sum, n), p| (sum + p, n + 1));
    sum.checked_div(n).map(|mean| mean as u8)
}

/// Whether adding the edge `task → depends_on` to `edges` (task depends on …) would close a
/// cycle, i.e. whether `task` is reachable from `depends_on` (or they are the same task).
pub fn would_create_cycle<T: Copy + Eq + Hash>(edges: &[(T, T)], task: T, depends_on: T) -> bool {
    if task == depends_on {
        return true;
    }
    let mut graph: HashMap<T, Vec<T>> = HashMap::new();
    for (from, to) in edges {
        graph.entry(*from).or_default().push(*to);
    }
    let mut seen = HashSet::new();
    let mut stack = vec![depends_on];
    while let Some(node) = stack.pop() {
        if node == task {
            return true;
        }
        if seen.insert(node) {
            stack.extend(graph.get(&node).into_iter().flatten().copied());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_edges_allowed_and_everything_else_refused() {
        crate::workflow::assert_machine("task", TaskStatus::ALL, TaskCommand::ALL, TABLE, transition);
    }

    #[test]
    fn cycles_are_detected() {
        let edges = [(1, 2), (2, 3)];
        assert!(would_create_cycle(&edges, 3, 1));
        assert!(would_create_cycle(&edges, 1, 1));
        assert!(!would_create_cycle(&edges, 1, 3));
        assert!(!would_create_cycle(&edges, 4, 1));
    }

    #[test]
    fn progress_rolls_up() {
        use TaskStatus::*;
        assert_eq!(rolled_up_progress([(Completed, 0), (Todo, 0)]), Some(50));
        assert_eq!(rolled_up_progress([(Cancelled, 0), (InProgress, 40)]), Some(40));
        assert_eq!(rolled_up_progress([(Cancelled, 0)]), None);
    }
}
