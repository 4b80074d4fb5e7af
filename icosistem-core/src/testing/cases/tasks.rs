//! Tasks (docs/domain.md §4.8): subtasks roll their progress up, a task waits for its dependencies,
//! and dependencies never form a cycle, not even when edges are added concurrently.

use std::sync::Arc;

use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::testing::fixtures::*;
use crate::workflow::task::TaskCommand;

async fn progress_of<S: Store>(world: &World<S>, id: TaskId) -> u8 {
    let task: Task = world.row(id).await.expect("task");
    task.progress.get()
}

async fn step<S: Store>(world: &World<S>, by: &Person, id: TaskId, command: TaskCommand) -> Task {
    world
        .eco
        .task_command(&by.ctx, id, command, None)
        .await
        .unwrap_or_else(|e| panic!("{command} failed: {e:?}"))
}

async fn finish<S: Store>(world: &World<S>, by: &Person, id: TaskId) -> Task {
    step(world, by, id, TaskCommand::Start).await;
    step(world, by, id, TaskCommand::Complete).await
}

async fn edges_of<S: Store>(world: &World<S>, owner: &Person) -> u64 {
    world
        .count(DependencyFilter {
            owner_id: Some(owner.id()),
            ..Default::default()
        })
        .await
}

/// A parent's progress is the mean of its non-cancelled subtasks (completed counts 100), kept up
/// to date through every level on every change: completing, cancelling, adding a subtask.
pub async fn subtasks_roll_progress_up_to_the_parent<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let parent = world.task(&owner, "Launch the pilot", None).await;
    let design = world.task(&owner, "Design", Some(parent.id)).await;
    let legal = world.task(&owner, "Legal review", Some(parent.id)).await;
    let build = world.task(&owner, "Build", Some(parent.id)).await;
    let backend = world.task(&owner, "Backend", Some(build.id)).await;
    let frontend = world.task(&owner, "Frontend", Some(build.id)).await;
    assert_eq!(progress_of(&world, parent.id).await, 0);

    let done = finish(&world, &owner, design.id).await;
    assert_eq!((done.progress.get(), done.completed_at), (100, Some(world.now())));
    assert_eq!(progress_of(&world, parent.id).await, 33);
    finish(&world, &owner, backend.id).await;
    assert_eq!(progress_of(&world, build.id).await, 50);
    assert_eq!(progress_of(&world, parent.id).await, 50);
    step(&world, &owner, legal.id, TaskCommand::Cancel).await;
    assert_eq!(progress_of(&world, parent.id).await, 75);
    finish(&world, &owner, frontend.id).await;
    assert_eq!(progress_of(&world, build.id).await, 100);
    assert_eq!(progress_of(&world, parent.id).await, 100);
    world.task(&owner, "Launch event", Some(parent.id)).await;
    assert_eq!(progress_of(&world, parent.id).await, 66);
    let parent_row: Task = world.row(parent.id).await.expect("task");
    assert_eq!(parent_row.status, TaskStatus::Todo);
}

/// Completing a task whose dependencies are not all completed or cancelled is `Validation` on
/// `depends_on`, one entry per unfinished dependency, and leaves it in progress; once they are
/// finished it completes, and the owner hears about it when the assignee completes it.
pub async fn completing_a_task_waits_for_its_dependencies<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let owner = world.entrepreneur().await;
    let helper = world.ally().await;
    let release = eco
        .create_task(
            &owner.ctx,
            crate::service::CreateTask {
                title: "Release".to_owned(),
                assignee_id: Some(helper.id()),
                ..Default::default()
            },
        )
        .await
        .expect("task");
    world.assert_notified(helper.id(), "task_assigned").await;
    let tests = world.task(&owner, "Tests", None).await;
    let docs = world.task(&owner, "Docs", None).await;
    eco.add_task_dependency(&owner.ctx, release.id, tests.id)
        .await
        .expect("dependency");
    eco.add_task_dependency(&owner.ctx, release.id, docs.id)
        .await
        .expect("dependency");
    step(&world, &helper, release.id, TaskCommand::Start).await;

    let complete = || eco.task_command(&helper.ctx, release.id, TaskCommand::Complete, None);
    let error = expect_err(complete().await);
    let tests_id = tests.id.to_string();
    let docs_id = docs.id.to_string();
    assert_messages(&error, "depends_on", &[&tests_id, &docs_id]);
    step(&world, &owner, tests.id, TaskCommand::Start).await;
    let error = expect_err(complete().await);
    assert_messages(&error, "depends_on", &[&format!("{tests_id} is in_progress"), &docs_id]);
    step(&world, &owner, tests.id, TaskCommand::Complete).await;
    let error = expect_err(complete().await);
    assert_messages(&error, "depends_on", &[&format!("{docs_id} is todo")]);
    let stored: Task = world.row(release.id).await.expect("task");
    assert_eq!((stored.status, stored.completed_at), (TaskStatus::InProgress, None));

    step(&world, &owner, docs.id, TaskCommand::Cancel).await;
    let done = complete().await.expect("every dependency is finished");
    assert_eq!(done.status, TaskStatus::Completed);
    world.assert_notified(owner.id(), "task_completed").await;
}

/// A dependency that would close a cycle is refused (`Validation` on `depends_on`): on itself,
/// directly (b → a after a → b) and transitively (c → a after a → b → c); a repeated edge is
/// `Conflict { task_dependency, task_depends_on }`; a shortcut that closes no cycle is fine.
pub async fn dependency_cycles_are_refused<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let owner = world.entrepreneur().await;
    let a = world.task(&owner, "Task A", None).await;
    let b = world.task(&owner, "Task B", None).await;
    let c = world.task(&owner, "Task C", None).await;
    eco.add_task_dependency(&owner.ctx, a.id, b.id).await.expect("a → b");
    eco.add_task_dependency(&owner.ctx, b.id, c.id).await.expect("b → c");

    for (from, to) in [(a.id, a.id), (b.id, a.id), (c.id, a.id), (c.id, b.id)] {
        let error = expect_err(eco.add_task_dependency(&owner.ctx, from, to).await);
        assert_messages(&error, "depends_on", &["would create a cycle"]);
    }
    let error = expect_err(eco.add_task_dependency(&owner.ctx, a.id, b.id).await);
    assert_conflict(&error, "task_dependency", "task_depends_on");
    assert_eq!(edges_of(&world, &owner).await, 2);
    eco.add_task_dependency(&owner.ctx, a.id, c.id)
        .await
        .expect("a shortcut closes no cycle");
    assert_eq!(edges_of(&world, &owner).await, 3);
    let waits_for: Vec<TaskId> = eco
        .list_task_dependencies(&owner.ctx, a.id)
        .await
        .expect("dependencies")
        .iter()
        .map(|d| d.depends_on)
        .collect();
    assert_eq!(waits_for.len(), 2);
    assert!(waits_for.contains(&b.id) && waits_for.contains(&c.id));
    eco.remove_task_dependency(&owner.ctx, b.id, c.id)
        .await
        .expect("remove b → c");
    eco.add_task_dependency(&owner.ctx, c.id, b.id)
        .await
        .expect("c → b closes no cycle any more");
    let error = expect_err(eco.add_task_dependency(&owner.ctx, b.id, a.id).await);
    assert_messages(&error, "depends_on", &["would create a cycle"]);
}

/// Concurrent edges never close a cycle: five times, a → b and b → a race and exactly one is
/// stored (the other is refused as a cycle); three edges a → b, b → c, c → a racing leave
/// exactly two.
pub async fn concurrent_dependencies_never_close_a_cycle<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let add = |from: TaskId, to: TaskId| {
        let eco = Arc::clone(&world.eco);
        let ctx = owner.ctx.clone();
        async move { eco.add_task_dependency(&ctx, from, to).await }
    };
    let tally = |results: Vec<crate::Result<TaskDependency>>| {
        let mut stored = 0;
        for result in results {
            match result {
                Ok(_) => stored += 1,
                Err(error) => assert_messages(&error, "depends_on", &["would create a cycle"]),
            }
        }
        stored
    };
    for round in 0..5 {
        let a = world.task(&owner, &format!("Left {round}"), None).await;
        let b = world.task(&owner, &format!("Right {round}"), None).await;
        let results = race(vec![add(a.id, b.id), add(b.id, a.id)]).await;
        assert_eq!(tally(results), 1, "round {round}");
        assert_eq!(edges_of(&world, &owner).await, round + 1);
    }
    let a = world.task(&owner, "Ring A", None).await;
    let b = world.task(&owner, "Ring B", None).await;
    let c = world.task(&owner, "Ring C", None).await;
    let results = race(vec![add(a.id, b.id), add(b.id, c.id), add(c.id, a.id)]).await;
    assert_eq!(tally(results), 2);
    assert_eq!(edges_of(&world, &owner).await, 7);
    let edges: Vec<(TaskId, TaskId)> = world
        .rows(DependencyFilter {
            owner_id: Some(owner.id()),
            ..Default::default()
        })
        .await
        .iter()
        .map(|d| (d.task_id, d.depends_on))
        .collect();
    for (i, (from, to)) in edges.iter().enumerate() {
        let mut others = edges.clone();
        others.remove(i);
        assert!(
            !crate::workflow::task::would_create_cycle(&others, *from, *to),
            "cycle through {from} → {to}"
        );
    }
}
