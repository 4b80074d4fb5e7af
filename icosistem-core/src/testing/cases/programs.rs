//! The program lifecycle (docs/domain.md §4.1).

use chrono::Duration;

use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::testing::fixtures::*;
use crate::workflow::program::ProgramCommand;

async fn enrollment_of<S: Store>(world: &World<S>, id: ApplicationId) -> Enrollment {
    world
        .rows(EnrollmentFilter {
            application_id: Some(id),
            ..Default::default()
        })
        .await
        .remove(0)
}

/// Publishing needs the deadline in the future (`Validation` on `application_deadline`) and a
/// draft (`InvalidTransition` otherwise); a refused publish changes nothing.
pub async fn publish_refuses_a_past_deadline<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let owner = world.ally().await;
    let org = world.organization(&owner).await;
    let late = eco
        .create_program(
            &owner.ctx,
            world.program_input(&org, "Late Cohort", ProgramSpec::default()),
        )
        .await
        .expect("program");
    let timely = eco
        .create_program(
            &owner.ctx,
            world.program_input(&org, "Timely Cohort", ProgramSpec::default()),
        )
        .await
        .expect("program");
    let published = eco
        .program_command(&owner.ctx, timely.id, ProgramCommand::Publish, None)
        .await
        .expect("publish");
    assert_eq!(published.status, ProgramStatus::Published);
    assert!(published.accepts_applications(world.now()));
    assert_invalid_transition(
        &expect_err(
            eco.program_command(&owner.ctx, timely.id, ProgramCommand::Publish, None)
                .await,
        ),
        "program",
        "published",
        Some("publish"),
    );

    world.advance(Duration::days(10));
    let error = expect_err(
        eco.program_command(&owner.ctx, late.id, ProgramCommand::Publish, None)
            .await,
    );
    assert_fields(&error, &["application_deadline"]);
    let stored: Program = world.row(late.id).await.expect("program");
    assert_eq!(stored.status, ProgramStatus::Draft);
    assert_eq!(stored.meta.version, late.meta.version);
    assert!(world.audit("program.publish", late.id).await.is_empty());
}

/// Starting needs the start date reached and `min_participants` accepted, reporting both; it
/// moves every enrollment `enrolled → active` and tells the participants.
pub async fn start_needs_min_participants_and_start_date<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world
        .cohort(ProgramSpec {
            max_participants: 5,
            min_participants: 2,
            ..ProgramSpec::default()
        })
        .await;
    let first = world.accepted(&cohort, 80).await;
    let start = |ctx: &crate::Context| {
        let (eco, ctx, id) = (std::sync::Arc::clone(eco), ctx.clone(), cohort.program.id);
        async move { eco.program_command(&ctx, id, ProgramCommand::Start, None).await }
    };
    assert_fields(
        &expect_err(start(&cohort.owner.ctx).await),
        &["start_date", "min_participants"],
    );
    let second = world.accepted(&cohort, 75).await;
    assert_fields(&expect_err(start(&cohort.owner.ctx).await), &["start_date"]);
    world.advance(Duration::days(20) - Duration::hours(10));
    assert_eq!(world.now().date_naive(), cohort.program.start_date - Duration::days(1));
    assert_fields(&expect_err(start(&cohort.owner.ctx).await), &["start_date"]);
    world.advance(Duration::hours(10));
    assert_forbidden(&expect_err(start(&first.person.ctx).await));
    let started = start(&cohort.owner.ctx).await.expect("start");
    assert_eq!(started.status, ProgramStatus::InProgress);
    let enrollments = world
        .rows(EnrollmentFilter {
            program_id: Some(cohort.program.id),
            ..Default::default()
        })
        .await;
    assert_eq!(enrollments.len(), 2);
    assert!(enrollments.iter().all(|e| e.status == EnrollmentStatus::Active));
    for participant in [&first, &second] {
        let notice = world.assert_notified(participant.person.id(), "program_status").await;
        assert_eq!(notice.data["status"], serde_json::json!("in_progress"));
    }
    assert!(!world.program(&cohort).await.accepts_applications(world.now()));
}

/// Completing a running program graduates its active enrollments (dropped-out ones stay so);
/// completed is terminal.
pub async fn complete_graduates_active_enrollments<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::seats(3)).await;
    let stayer = world.accepted(&cohort, 80).await;
    let leaver = world.accepted(&cohort, 70).await;
    assert_invalid_transition(
        &expect_err(
            eco.program_command(&cohort.owner.ctx, cohort.program.id, ProgramCommand::Complete, None)
                .await,
        ),
        "program",
        "published",
        Some("complete"),
    );
    world.advance(Duration::days(20));
    eco.program_command(&cohort.owner.ctx, cohort.program.id, ProgramCommand::Start, None)
        .await
        .expect("start");
    let leaving = enrollment_of(&world, leaver.id()).await;
    eco.drop_out(&cohort.owner.ctx, leaving.id, Some("no longer available".to_owned()))
        .await
        .expect("staff records a drop-out");
    world.advance(Duration::days(60));
    let completed = eco
        .program_command(&cohort.owner.ctx, cohort.program.id, ProgramCommand::Complete, None)
        .await
        .expect("complete");
    assert_eq!(completed.status, ProgramStatus::Completed);
    let graduated = enrollment_of(&world, stayer.id()).await;
    assert_eq!(graduated.status, EnrollmentStatus::Graduated);
    assert_eq!(graduated.ended_at, Some(world.now()));
    let dropped = enrollment_of(&world, leaver.id()).await;
    assert_eq!(dropped.status, EnrollmentStatus::DroppedOut);
    assert_invalid_transition(
        &expect_err(
            eco.program_command(&cohort.owner.ctx, cohort.program.id, ProgramCommand::Cancel, None)
                .await,
        ),
        "program",
        "completed",
        None,
    );
    let notices = world.notifications(stayer.person.id(), "program_status").await;
    assert_eq!(notices.len(), 2, "started and completed");
}
