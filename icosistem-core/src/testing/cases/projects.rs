//! Projects and milestones (docs/domain.md §4.3, §4.4).

use std::sync::Arc;

use chrono::Duration;

use crate::error::Error;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::MilestoneAction;
use crate::testing::fixtures::*;
use crate::workflow::project::ProjectCommand;

#[track_caller]
fn assert_invalid_transition(error: &Error, entity: &str, from: &str, command: &str) {
    assert!(
        matches!(
            error,
            Error::InvalidTransition { entity: e, from: f, command: c } if *e == entity && *f == from && *c == command
        ),
        "expected InvalidTransition {{ {entity}, {from}, {command} }}, got {error:?}"
    );
}

/// An entrepreneur may have at most 5 draft/active/paused projects (`Validation` on
/// `owner_id`); cancelled, completed and deleted ones do not count.
pub async fn max_active_projects_is_enforced<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let mut projects = Vec::new();
    for _ in 0..5 {
        projects.push(world.project(&person).await);
    }
    let error = expect_err(eco.create_project(&person.ctx, project_input("Sixth Venture")).await);
    assert_fields(&error, &["owner_id"]);
    eco.project_command(&person.ctx, projects[0].id, ProjectCommand::Cancel, None)
        .await
        .expect("cancel");
    let replacement = eco
        .create_project(&person.ctx, project_input("Sixth Venture"))
        .await
        .expect("a cancelled project frees a place");
    assert_fields(
        &expect_err(eco.create_project(&person.ctx, project_input("Seventh Venture")).await),
        &["owner_id"],
    );
    eco.delete_project(&person.ctx, replacement.id, None)
        .await
        .expect("delete");
    eco.create_project(&person.ctx, project_input("Seventh Venture"))
        .await
        .expect("a deleted project frees a place");
    let open = ProjectFilter {
        owner_id: Some(person.id()),
        open_only: true,
        ..Default::default()
    };
    assert_eq!(world.count(open).await, 5);
    // The limit is per entrepreneur.
    let other = world.entrepreneur().await;
    world.project(&other).await;
}

/// Ten concurrent creations by one entrepreneur with no project yet: exactly five succeed.
pub async fn concurrent_project_creation_respects_max_active_projects<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    let futures = (0..10)
        .map(|i| {
            let eco = Arc::clone(&world.eco);
            let ctx = person.ctx.clone();
            async move { eco.create_project(&ctx, project_input(&format!("Parallel {i}"))).await }
        })
        .collect();
    let results = race(futures).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_fields(&expect_err(result), &["owner_id"]);
    }
    let open = ProjectFilter {
        owner_id: Some(person.id()),
        open_only: true,
        ..Default::default()
    };
    assert_eq!(world.count(open).await, 5);
}

/// Lifecycle commands follow `draft → active ⇄ paused → completed | cancelled`; any other move
/// is `InvalidTransition`; another entrepreneur does not see the project at all.
pub async fn project_status_commands_follow_the_graph<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    assert_invalid_transition(
        &expect_err(
            eco.project_command(&person.ctx, project.id, ProjectCommand::Pause, None)
                .await,
        ),
        "project",
        "draft",
        "pause",
    );
    for (command, to) in [
        (ProjectCommand::Activate, ProjectStatus::Active),
        (ProjectCommand::Pause, ProjectStatus::Paused),
        (ProjectCommand::Resume, ProjectStatus::Active),
        (ProjectCommand::Complete, ProjectStatus::Completed),
    ] {
        let moved = eco
            .project_command(&person.ctx, project.id, command, None)
            .await
            .expect("allowed move");
        assert_eq!(moved.status, to);
    }
    for command in [ProjectCommand::Cancel, ProjectCommand::Resume, ProjectCommand::Complete] {
        assert_invalid_transition(
            &expect_err(eco.project_command(&person.ctx, project.id, command, None).await),
            "project",
            "completed",
            command.as_str(),
        );
    }
    world.assert_notified(person.id(), "project_status").await;
    assert_invalid_transition(
        &expect_err(eco.delete_project(&person.ctx, project.id, None).await),
        "project",
        "completed",
        "delete",
    );
    let stranger = world.entrepreneur().await;
    let other = world.project(&person).await;
    assert_not_found(
        &expect_err(
            eco.project_command(&stranger.ctx, other.id, ProjectCommand::Activate, None)
                .await,
        ),
        "project",
    );
    assert_not_found(&expect_err(eco.get_project(&stranger.ctx, other.id).await), "project");
    assert_eq!(world.row(other.id).await.expect("project").status, ProjectStatus::Draft);
}

/// `advance_stage` follows the stage graph, recomputes progress and sets the launch date on
/// entering launch; any other move (and any move of a finished project) is `InvalidTransition`.
pub async fn stage_graph_via_advance_stage<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    assert_eq!(project.progress.get(), 5);
    assert_invalid_transition(
        &expect_err(
            eco.advance_stage(&person.ctx, project.id, ProjectStage::Prototype, None)
                .await,
        ),
        "project",
        "idea",
        "advance_stage",
    );
    for (stage, progress) in [
        (ProjectStage::Concept, 15),
        (ProjectStage::Prototype, 25),
        (ProjectStage::Pivoting, 15),
        (ProjectStage::Development, 50),
        (ProjectStage::Pilot, 65),
    ] {
        let moved = eco
            .advance_stage(&person.ctx, project.id, stage, None)
            .await
            .expect("allowed stage move");
        assert_eq!((moved.stage, moved.progress.get()), (stage, progress));
        assert_eq!(moved.launch_date, None);
    }
    world.advance(Duration::days(3));
    let launched = eco
        .advance_stage(&person.ctx, project.id, ProjectStage::Launch, None)
        .await
        .expect("launch");
    assert_eq!(launched.launch_date, Some(world.now().date_naive()));
    assert_eq!(launched.progress.get(), 85);
    assert_invalid_transition(
        &expect_err(
            eco.advance_stage(&person.ctx, project.id, ProjectStage::Mature, None)
                .await,
        ),
        "project",
        "launch",
        "advance_stage",
    );
    let stored = world.row(project.id).await.expect("project");
    assert_eq!(stored.stage, ProjectStage::Launch);

    let stranger = world.entrepreneur().await;
    assert_not_found(
        &expect_err(
            eco.advance_stage(&stranger.ctx, project.id, ProjectStage::Growth, None)
                .await,
        ),
        "project",
    );
    let cancelled = world.project(&person).await;
    eco.project_command(&person.ctx, cancelled.id, ProjectCommand::Cancel, None)
        .await
        .expect("cancel");
    assert_invalid_transition(
        &expect_err(
            eco.advance_stage(&person.ctx, cancelled.id, ProjectStage::Concept, None)
                .await,
        ),
        "project",
        "cancelled",
        "advance_stage",
    );
}

/// Milestone changes recompute the project's progress (stage base + 10 × completed /
/// non-cancelled milestones) in the same unit of work; completing notifies the owner.
pub async fn milestone_completion_recomputes_progress<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let mut milestones = Vec::new();
    for title in ["Interviews", "Landing page", "First sale"] {
        milestones.push(world.milestone(&person, project.id, title, 30).await);
    }
    let progress = |p: &Project| (p.progress.get(), p.milestones_completed, p.milestones_total);
    assert_eq!(progress(&world.row(project.id).await.expect("project")), (5, 0, 3));

    eco.milestone_command(&person.ctx, milestones[0].id, MilestoneAction::Start, None)
        .await
        .expect("start");
    let done = eco
        .milestone_command(&person.ctx, milestones[0].id, MilestoneAction::Complete, None)
        .await
        .expect("complete");
    assert_eq!(done.status, MilestoneStatus::Completed);
    assert_eq!(done.completed_on, Some(world.now().date_naive()));
    assert_eq!(done.progress.get(), 100);
    assert_eq!(progress(&world.row(project.id).await.expect("project")), (8, 1, 3));

    eco.milestone_command(&person.ctx, milestones[1].id, MilestoneAction::Cancel, None)
        .await
        .expect("cancel");
    assert_eq!(progress(&world.row(project.id).await.expect("project")), (10, 1, 2));

    let partial = eco
        .milestone_command(&person.ctx, milestones[2].id, MilestoneAction::Progress(40), None)
        .await
        .expect("progress");
    assert_eq!(partial.status, MilestoneStatus::InProgress);
    assert_eq!(progress(&world.row(project.id).await.expect("project")), (10, 1, 2));
    eco.milestone_command(&person.ctx, milestones[2].id, MilestoneAction::Progress(100), None)
        .await
        .expect("progress to 100 completes");
    assert_eq!(progress(&world.row(project.id).await.expect("project")), (15, 2, 2));

    let moved = eco
        .advance_stage(&person.ctx, project.id, ProjectStage::Concept, None)
        .await
        .expect("advance");
    assert_eq!(moved.progress.get(), 25, "stage base 15 + 10 × 2/2");
    assert_eq!(world.notifications(person.id(), "milestone_achieved").await.len(), 2);
    assert_eq!(world.outbox(person.id(), "milestone_achieved").await.len(), 2);

    let error = expect_err(
        eco.milestone_command(&person.ctx, milestones[0].id, MilestoneAction::Start, None)
            .await,
    );
    assert_invalid_transition(&error, "milestone", "completed", "start");
    assert_fields(
        &expect_err(
            eco.create_milestone(
                &person.ctx,
                project.id,
                milestone_input("Yesterday", world.now().date_naive()),
            )
            .await,
        ),
        &["target_date"],
    );
}

/// `list_my_milestones(overdue = true)` lists the unfinished milestones whose target date is
/// before the clock's today, and follows the clock as it moves.
pub async fn overdue_milestones_follow_the_clock<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let soon = world.milestone(&person, project.id, "Soon", 5).await;
    let later = world.milestone(&person, project.id, "Later", 30).await;
    let done = world.milestone(&person, project.id, "Done", 2).await;
    eco.milestone_command(&person.ctx, done.id, MilestoneAction::Progress(100), None)
        .await
        .expect("complete");
    let overdue = || async {
        let page = eco
            .list_my_milestones(&person.ctx, None, true, PageRequest::first(50))
            .await;
        ids(&page.expect("list").items)
    };
    assert!(overdue().await.is_empty());
    world.advance(Duration::days(5));
    assert!(overdue().await.is_empty(), "due today is not overdue");
    world.advance(Duration::days(1));
    assert_eq!(overdue().await, [soon.id]);
    let all = eco
        .list_my_milestones(&person.ctx, None, false, PageRequest::first(50))
        .await
        .expect("list");
    assert_eq!(all.items.len(), 3);
    world.advance(Duration::days(30));
    assert_eq!(overdue().await, [later.id, soon.id]);
    eco.milestone_command(
        &person.ctx,
        later.id,
        MilestoneAction::Delay {
            target_date: world.now().date_naive() + Duration::days(10),
            reason: Some("supplier late".to_owned()),
        },
        None,
    )
    .await
    .expect("delay");
    eco.milestone_command(&person.ctx, soon.id, MilestoneAction::Cancel, None)
        .await
        .expect("cancel");
    assert!(overdue().await.is_empty());
    let stranger = world.entrepreneur().await;
    assert!(
        eco.list_my_milestones(&stranger.ctx, None, false, PageRequest::first(50))
            .await
            .expect("list")
            .items
            .is_empty()
    );
}

/// Every project `ctx` lists, one small page at a time, asserting no page repeats a row.
async fn list_all_projects<S: Store>(
    world: &World<S>,
    ctx: &crate::service::Context,
    filter: ProjectFilter,
) -> Vec<ProjectId> {
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let got = world
            .eco
            .list_projects(ctx, filter.clone(), page)
            .await
            .expect("list projects");
        assert!(got.items.len() <= 2, "a page holds at most its limit");
        for project in &got.items {
            assert!(!seen.contains(&project.id), "{} listed twice", project.id);
            seen.push(project.id);
        }
        match got.next_cursor {
            Some(cursor) => page = PageRequest::parse(Some(2), Some(&cursor)).expect("cursor"),
            None => return seen,
        }
    }
}

/// The project list shows each caller exactly the projects `get_project` shows them (docs/domain.md
/// §2 "view project"), paged without skipping or repeating a row: admins all; entrepreneurs
/// their own; allies their active mentees'; every signed-in role the public ones (§2, widened);
/// program staff those submitted to their open-review programs (not drafts, not blind
/// programs'); reviewers those of the applications assigned to them while they are members.
/// Query filters narrow the visible set, never widen it; soft-deleted projects are gone.
pub async fn project_list_shows_exactly_what_get_shows<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let public = |p: &Project| crate::service::UpdateProject {
        is_public: Some(true),
        version: Some(p.meta.version),
        ..Default::default()
    };
    let ally = world.ally().await;
    let mentee = world.mentee(&ally).await.person;
    let mentee_private = world.project(&mentee).await;
    let mentee_public = world.project(&mentee).await;
    let mentee_public = eco
        .update_project(&mentee.ctx, mentee_public.id, public(&mentee_public))
        .await
        .expect("make public");
    let gone = world.project(&mentee).await;
    eco.delete_project(&mentee.ctx, gone.id, None).await.expect("delete");
    let other = world.entrepreneur().await;
    let other_public = world.project(&other).await;
    let other_public = eco
        .update_project(&other.ctx, other_public.id, public(&other_public))
        .await
        .expect("make public");

    // An open-review program with a submitted and a draft application; a blind one with a
    // submitted application.
    let cohort = world.cohort(ProgramSpec::reviews(2)).await;
    let coordinator = world.person(Role::Client, "coordinator").await;
    world
        .add_member(&cohort.owner, &cohort.org, &coordinator, MemberRole::Coordinator)
        .await;
    let applicant = world.submit(&cohort, &world.entrepreneur().await).await;
    let drafter = world.entrepreneur().await;
    let drafted = world.project(&drafter).await;
    eco.create_application(&drafter.ctx, cohort.program.id, drafted.id, serde_json::Map::new())
        .await
        .expect("draft application");
    let (assigned, unassigned) = (&cohort.reviewers[0], &cohort.reviewers[1]);
    eco.assign_reviewer(&cohort.owner.ctx, applicant.id(), assigned.id())
        .await
        .expect("assign");
    let blind = world.cohort(ProgramSpec::blind()).await;
    let blind_applicant = world.submit(&blind, &world.entrepreneur().await).await;
    eco.assign_reviewer(&blind.owner.ctx, blind_applicant.id(), blind.reviewers[0].id())
        .await
        .expect("assign blind");
    let client = world.person(Role::Client, "client").await;

    let everything: Vec<ProjectId> = world
        .ids(ProjectFilter {
            include_deleted: true,
            ..Default::default()
        })
        .await;
    // Public projects are in every set (docs/domain.md §2: readable by every signed-in role).
    let publics = [mentee_public.id, other_public.id];
    let with_public = |ids: &[ProjectId]| -> Vec<ProjectId> {
        let mut all = ids.to_vec();
        all.extend(publics.iter().filter(|id| !ids.contains(id)));
        all
    };
    let expected: Vec<(&Person, Vec<ProjectId>)> = vec![
        (&mentee, with_public(&[mentee_private.id])),
        (&other, with_public(&[])),
        (&ally, with_public(&[mentee_private.id])),
        (&client, with_public(&[])),
        (&cohort.owner, with_public(&[applicant.project.id])),
        (&coordinator, with_public(&[applicant.project.id])),
        (assigned, with_public(&[applicant.project.id])),
        (unassigned, with_public(&[])),
        (&blind.owner, with_public(&[])),
        (&blind.reviewers[0], with_public(&[])),
        (&drafter, with_public(&[drafted.id])),
    ];
    for (person, wanted) in &expected {
        let listed = list_all_projects(&world, &person.ctx, ProjectFilter::default()).await;
        let mut visible = Vec::new();
        for id in &everything {
            if eco.get_project(&person.ctx, *id).await.is_ok() {
                visible.push(*id);
            }
        }
        let (mut listed, mut visible, mut wanted) = (listed, visible, wanted.clone());
        listed.sort();
        visible.sort();
        wanted.sort();
        assert_eq!(listed, visible, "{:?} lists what they can get", person.user.role);
        assert_eq!(listed, wanted, "{:?} sees docs/domain.md's set", person.user.role);
    }
    let admin = list_all_projects(&world, &world.admin.ctx, ProjectFilter::default()).await;
    assert_eq!(admin.len(), everything.len() - 1, "admins list every live project");
    assert!(!admin.contains(&gone.id));

    // Query filters narrow the visible set, never widen it.
    let narrowed = list_all_projects(
        &world,
        &client.ctx,
        ProjectFilter {
            owner_id: Some(other.id()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(narrowed, [other_public.id]);
    let theirs = list_all_projects(
        &world,
        &other.ctx,
        ProjectFilter {
            owner_id: Some(mentee.id()),
            is_public: Some(true),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        theirs,
        [mentee_public.id],
        "an entrepreneur lists someone else's public project"
    );
    let deleted = list_all_projects(
        &world,
        &mentee.ctx,
        ProjectFilter {
            include_deleted: true,
            ..Default::default()
        },
    )
    .await;
    assert!(!deleted.contains(&gone.id));

    // A reviewer removed from the organization loses the assignment's projects.
    eco.remove_member(&cohort.owner.ctx, cohort.org.id, assigned.id())
        .await
        .expect("remove");
    let mut left = list_all_projects(&world, &assigned.ctx, ProjectFilter::default()).await;
    left.sort();
    let mut only_public = publics.to_vec();
    only_public.sort();
    assert_eq!(left, only_public, "only the public projects are left");
}
