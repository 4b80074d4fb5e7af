//! Selection (docs/domain.md §4.2): capacity under any interleaving, the waitlist, reviews, conflict
//! of interest, blind review and who may see or do what.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use serde_json::Map;

use crate::error::Error;
use crate::model::*;
use crate::ports::store::*;
use crate::ports::{Notifier, Store};
use crate::service::{Decision, Expect, SubmitReview, UpdateProgram};
use crate::testing::fixtures::*;
use crate::workflow::program::ProgramCommand;
use crate::workflow::project::ProjectCommand;

/// The seat invariant of a program: `accepted_count` equals the accepted applications and the
/// live (not dropped-out) enrollments, and never exceeds the capacity. Returns the count.
async fn assert_seats<S: Store, N: Notifier>(world: &World<S, N>, program: ProgramId) -> u32 {
    let stored: Program = world.row(program).await.expect("program");
    let accepted = world
        .count(ApplicationFilter {
            program_id: Some(program),
            status: Some(ApplicationStatus::Accepted),
            ..Default::default()
        })
        .await;
    let live = world
        .rows(EnrollmentFilter {
            program_id: Some(program),
            ..Default::default()
        })
        .await
        .into_iter()
        .filter(|e| e.status != EnrollmentStatus::DroppedOut)
        .count() as u64;
    assert_eq!(
        u64::from(stored.accepted_count),
        accepted,
        "accepted_count vs accepted applications"
    );
    assert_eq!(
        u64::from(stored.accepted_count),
        live,
        "accepted_count vs live enrollments"
    );
    assert!(
        stored.accepted_count <= stored.max_participants,
        "over capacity: {stored:?}"
    );
    stored.accepted_count
}

async fn status_of<S: Store>(world: &World<S>, id: ApplicationId) -> ApplicationStatus {
    world.row(id).await.expect("application").status
}

async fn enrollment_of<S: Store>(world: &World<S>, id: ApplicationId) -> Option<Enrollment> {
    world
        .rows(EnrollmentFilter {
            application_id: Some(id),
            ..Default::default()
        })
        .await
        .into_iter()
        .next()
}

fn decide_future<S: Store>(
    world: &World<S>,
    ctx: &crate::Context,
    id: ApplicationId,
    decision: Decision,
) -> impl std::future::Future<Output = crate::Result<Application>> + Send + 'static {
    let eco = Arc::clone(&world.eco);
    let ctx = ctx.clone();
    async move { eco.decide(&ctx, id, decision, None, None).await }
}

/// 50 concurrent accepts of 50 reviewed applications into a 10-seat program: exactly 10
/// succeed and 40 are `ProgramFull`; the program, the applications and the enrollments agree.
pub async fn concurrent_accepts_never_exceed_capacity<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::seats(10)).await;
    let mut applicants = Vec::new();
    for i in 0..50 {
        applicants.push(world.ready(&cohort, 40 + i).await);
    }
    let futures = applicants
        .iter()
        .map(|a| decide_future(&world, &cohort.owner.ctx, a.id(), Decision::Accept))
        .collect();
    let results = race(futures).await;
    let mut winners = BTreeSet::new();
    let mut full = 0;
    for (applicant, result) in applicants.iter().zip(results) {
        match result {
            Ok(app) => {
                assert_eq!(app.status, ApplicationStatus::Accepted);
                winners.insert(applicant.id());
            }
            Err(Error::ProgramFull) => {
                full += 1;
                assert_eq!(status_of(&world, applicant.id()).await, ApplicationStatus::UnderReview);
            }
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 10);
    assert_eq!(full, 40);
    assert_eq!(assert_seats(&world, cohort.program.id).await, 10);
    let accepted = world
        .ids(ApplicationFilter {
            program_id: Some(cohort.program.id),
            status: Some(ApplicationStatus::Accepted),
            ..Default::default()
        })
        .await;
    assert_eq!(BTreeSet::from_iter(accepted), winners);
    let enrolled: BTreeSet<ApplicationId> = world
        .rows(EnrollmentFilter {
            program_id: Some(cohort.program.id),
            ..Default::default()
        })
        .await
        .iter()
        .map(|e| e.application_id)
        .collect();
    assert_eq!(enrolled, winners);
    let accept_events = world
        .count(AuditFilter {
            action: Some("application.accept".to_owned()),
            organization_id: Some(cohort.org.id),
            ..Default::default()
        })
        .await;
    assert_eq!(accept_events, 10);
}

/// A manual promotion and an accept racing for the last seat: exactly one wins, the other is
/// `ProgramFull` (three rounds, each on its own program).
pub async fn promote_and_accept_race_for_the_last_seat<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    for _ in 0..3 {
        let cohort = world.cohort(ProgramSpec::seats(2)).await;
        world.accepted(&cohort, 80).await;
        let waiting = world.waitlisted(&cohort, 75).await;
        let fresh = world.ready(&cohort, 90).await;
        let results = race(vec![
            decide_future(&world, &cohort.owner.ctx, waiting.id(), Decision::Promote),
            decide_future(&world, &cohort.owner.ctx, fresh.id(), Decision::Accept),
        ])
        .await;
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{results:?}");
        let loser = results.into_iter().find(Result::is_err).expect("a loser");
        assert!(matches!(expect_err(loser), Error::ProgramFull));
        assert_eq!(assert_seats(&world, cohort.program.id).await, 2);
    }
}

/// Withdrawals of accepted applications racing with accepts: every withdrawal succeeds, each
/// accept either takes a freed seat or is `ProgramFull`, and the seats always add up.
pub async fn concurrent_withdrawals_and_accepts_keep_capacity<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::seats(5)).await;
    let mut accepted = Vec::new();
    for _ in 0..5 {
        accepted.push(world.accepted(&cohort, 70).await);
    }
    let mut waiting = Vec::new();
    for _ in 0..5 {
        waiting.push(world.ready(&cohort, 60).await);
    }
    let mut futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = crate::Result<Application>> + Send>>> =
        Vec::new();
    for a in &accepted[..3] {
        let eco = Arc::clone(&world.eco);
        let ctx = a.person.ctx.clone();
        let id = a.id();
        futures.push(Box::pin(async move { eco.withdraw_application(&ctx, id, None).await }));
    }
    for a in &waiting {
        futures.push(Box::pin(decide_future(
            &world,
            &cohort.owner.ctx,
            a.id(),
            Decision::Accept,
        )));
    }
    let results = race(futures).await;
    for withdrawal in &results[..3] {
        assert_eq!(
            withdrawal.as_ref().expect("withdrawal").status,
            ApplicationStatus::Withdrawn
        );
    }
    let mut taken = 0;
    for accept in results.into_iter().skip(3) {
        match accept {
            Ok(_) => taken += 1,
            Err(Error::ProgramFull) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert!(taken <= 3, "{taken} accepts but only 3 seats were freed");
    assert_eq!(assert_seats(&world, cohort.program.id).await, 2 + taken);
}

/// Program full; an accepted application is withdrawn: in that same call the best waitlisted
/// application (highest mean score, then earliest submitted) becomes accepted with an
/// enrollment, its applicant is notified in-app and by email, and the audit shows the
/// promotion by the system.
pub async fn withdrawal_promotes_the_best_waitlisted_application<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::seats(1)).await;
    let leaver = world.accepted(&cohort, 80).await;
    let low = world.waitlisted(&cohort, 70).await;
    world.advance(Duration::minutes(1));
    let best = world.waitlisted(&cohort, 90).await;
    world.advance(Duration::minutes(1));
    let tie_later = world.waitlisted(&cohort, 90).await;
    assert!(best.application.submitted_at < tie_later.application.submitted_at);
    world.advance(Duration::minutes(1));

    let withdrawn = world
        .eco
        .withdraw_application(&leaver.person.ctx, leaver.id(), None)
        .await
        .expect("withdraw");
    assert_eq!(withdrawn.status, ApplicationStatus::Withdrawn);

    assert_eq!(status_of(&world, best.id()).await, ApplicationStatus::Accepted);
    assert_eq!(status_of(&world, low.id()).await, ApplicationStatus::Waitlisted);
    assert_eq!(status_of(&world, tie_later.id()).await, ApplicationStatus::Waitlisted);
    let enrollment = enrollment_of(&world, best.id()).await.expect("promoted enrollment");
    assert_eq!(enrollment.status, EnrollmentStatus::Enrolled);
    assert_eq!(enrollment.entrepreneur_id, best.person.id());
    let left = enrollment_of(&world, leaver.id()).await.expect("leaver enrollment");
    assert_eq!(left.status, EnrollmentStatus::DroppedOut);
    assert_eq!(assert_seats(&world, cohort.program.id).await, 1);

    let notice = world.assert_notified(best.person.id(), "application_promoted").await;
    assert_eq!(notice.data["application_id"], serde_json::json!(best.id()));
    world.assert_not_notified(low.person.id(), "application_promoted").await;
    let promotion = world.audited("application.promote", best.id()).await;
    assert_eq!(promotion.actor_kind, "system");
    assert_eq!(promotion.actor_id, None);
    assert_eq!(promotion.before, Some(serde_json::json!({ "status": "waitlisted" })));
    assert_eq!(promotion.after, Some(serde_json::json!({ "status": "accepted" })));
    assert_eq!(promotion.at, world.now());
    assert_eq!(promotion.organization_id, Some(cohort.org.id));
    let withdrawal = world.audited("application.withdraw", leaver.id()).await;
    assert_eq!(withdrawal.actor_id, Some(leaver.person.id()));
    assert_eq!(withdrawal.at, promotion.at);
}

/// An enrollment dropping out before the start frees its seat for the best waitlisted
/// application, in the same call, with the same notices and audit.
pub async fn drop_out_promotes_the_best_waitlisted_application<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::seats(1)).await;
    let leaver = world.accepted(&cohort, 80).await;
    let low = world.waitlisted(&cohort, 60).await;
    let best = world.waitlisted(&cohort, 85).await;
    let enrollment = enrollment_of(&world, leaver.id()).await.expect("enrollment");
    let dropped = world
        .eco
        .drop_out(&leaver.person.ctx, enrollment.id, Some("moving abroad".to_owned()))
        .await
        .expect("drop out");
    assert_eq!(dropped.status, EnrollmentStatus::DroppedOut);
    assert_eq!(dropped.drop_reason.as_deref(), Some("moving abroad"));
    assert_eq!(dropped.ended_at, Some(world.now()));

    assert_eq!(status_of(&world, best.id()).await, ApplicationStatus::Accepted);
    assert_eq!(status_of(&world, low.id()).await, ApplicationStatus::Waitlisted);
    assert_eq!(
        enrollment_of(&world, best.id())
            .await
            .expect("promoted enrollment")
            .status,
        EnrollmentStatus::Enrolled
    );
    let program = world.program(&cohort).await;
    assert_eq!(program.accepted_count, 1);
    world.assert_notified(best.person.id(), "application_promoted").await;
    let promotion = world.audited("application.promote", best.id()).await;
    assert_eq!(promotion.actor_kind, "system");
    let drop_event = world.audited("enrollment.drop_out", enrollment.id).await;
    assert_eq!(drop_event.actor_id, Some(leaver.person.id()));
}

/// After the program started, a drop-out promotes nobody.
pub async fn no_promotion_after_the_program_started<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::seats(1)).await;
    let leaver = world.accepted(&cohort, 80).await;
    let waiting = world.waitlisted(&cohort, 90).await;
    world.advance(Duration::days(20));
    let started = world
        .eco
        .program_command(&cohort.owner.ctx, cohort.program.id, ProgramCommand::Start, None)
        .await
        .expect("start");
    assert_eq!(started.status, ProgramStatus::InProgress);
    let enrollment = enrollment_of(&world, leaver.id()).await.expect("enrollment");
    assert_eq!(enrollment.status, EnrollmentStatus::Active);
    world
        .eco
        .drop_out(&leaver.person.ctx, enrollment.id, None)
        .await
        .expect("drop out");
    assert_eq!(status_of(&world, waiting.id()).await, ApplicationStatus::Waitlisted);
    assert!(enrollment_of(&world, waiting.id()).await.is_none());
    world
        .assert_not_notified(waiting.person.id(), "application_promoted")
        .await;
    assert!(world.audit("application.promote", waiting.id()).await.is_empty());
    assert_eq!(world.program(&cohort).await.accepted_count, 0);
}

/// Withdrawing an accepted application whose enrollment already dropped out frees no second
/// seat: the program never takes more than its capacity.
pub async fn withdrawal_after_drop_out_frees_no_second_seat<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::seats(2)).await;
    let leaver = world.accepted(&cohort, 80).await;
    world.accepted(&cohort, 80).await;
    let enrollment = enrollment_of(&world, leaver.id()).await.expect("enrollment");
    world
        .eco
        .drop_out(&leaver.person.ctx, enrollment.id, None)
        .await
        .expect("drop out");
    assert_eq!(world.program(&cohort).await.accepted_count, 1);
    world.accepted(&cohort, 75).await;
    assert_eq!(world.program(&cohort).await.accepted_count, 2);

    let withdrawn = world
        .eco
        .withdraw_application(&leaver.person.ctx, leaver.id(), None)
        .await
        .expect("withdraw");
    assert_eq!(withdrawn.status, ApplicationStatus::Withdrawn);
    assert_eq!(
        world.program(&cohort).await.accepted_count,
        2,
        "no seat was freed twice"
    );
    let late = world.ready(&cohort, 99).await;
    let error = world.refused_decision(&cohort, late.id(), Decision::Accept).await;
    assert!(matches!(error, Error::ProgramFull), "{error:?}");
    assert_eq!(assert_seats(&world, cohort.program.id).await, 2);
}

/// Assigning the project's owner as reviewer is refused (`Validation` on `reviewer_id`), even
/// when they are a member; so is assigning a non-member. Nothing is written.
pub async fn reviewer_with_a_conflict_of_interest_is_refused<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let founder = world.entrepreneur().await;
    world
        .add_member(&cohort.owner, &cohort.org, &founder, MemberRole::Reviewer)
        .await;
    let applicant = world.submit(&cohort, &founder).await;
    let outsider = world.ally().await;
    for reviewer in [founder.id(), outsider.id()] {
        let error = expect_err(
            world
                .eco
                .assign_reviewer(&cohort.owner.ctx, applicant.id(), reviewer)
                .await,
        );
        assert_fields(&error, &["reviewer_id"]);
    }
    let reviews = reviews_of(applicant.id());
    assert_eq!(world.count(reviews.clone()).await, 0);
    assert_eq!(status_of(&world, applicant.id()).await, ApplicationStatus::Submitted);
    world.assert_not_notified(founder.id(), "review_assigned").await;
    // A reviewer without a conflict is assigned.
    world.assign(&cohort, applicant.id(), cohort.reviewers[0].id()).await;
    assert_eq!(world.count(reviews).await, 1);
}

fn leaks(json: &str, person: &Person) -> Vec<String> {
    let mut found = Vec::new();
    let id = person.id().to_string();
    let simple = person.id().as_uuid().simple().to_string();
    for needle in [
        person.user.first_name.as_str(),
        person.user.last_name.as_str(),
        person.email(),
        person.user.email.local_part(),
        id.as_str(),
        simple.as_str(),
    ] {
        if json.to_lowercase().contains(&needle.to_lowercase()) {
            found.push(needle.to_owned());
        }
    }
    found
}

/// In a blind-review program, what reviewers and staff get from `get_application` and
/// `list_applications` never names the applicant (name, email, owner id) anywhere in its JSON;
/// the applicant and admins do see who applied.
pub async fn blind_review_hides_the_applicant_from_reviewers_and_staff<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::blind()).await;
    let coordinator = world.ally().await;
    world
        .add_member(&cohort.owner, &cohort.org, &coordinator, MemberRole::Coordinator)
        .await;
    let founder = world.person_named(Role::Entrepreneur, "Valentina", "Quintero").await;
    let mut applicant = world.submit(&cohort, &founder).await;
    world.review(&cohort, &mut applicant, 77).await;
    let reviewer = &cohort.reviewers[0];
    let by_program = applications_of(cohort.program.id);

    for (who, ctx) in [
        ("reviewer", &reviewer.ctx),
        ("owner", &cohort.owner.ctx),
        ("coordinator", &coordinator.ctx),
    ] {
        let view = world.eco.get_application(ctx, applicant.id()).await.expect("view");
        assert!(view.blind, "{who}");
        assert_eq!(view.applicant, None, "{who}");
        assert_eq!(view.project.owner_id, None, "{who}");
        assert_eq!(view.project.id, applicant.project.id, "{who} still sees the project");
        let json = serde_json::to_string(&view).expect("json");
        assert!(
            leaks(&json, &founder).is_empty(),
            "{who} sees {:?} in {json}",
            leaks(&json, &founder)
        );
        let list = world
            .eco
            .list_applications(ctx, by_program.clone(), PageRequest::first(50))
            .await
            .expect("list");
        let json = serde_json::to_string(&list.items).expect("json");
        assert!(leaks(&json, &founder).is_empty(), "{who} list leaks {json}");
    }
    let staff_list = world
        .eco
        .list_applications(&cohort.owner.ctx, by_program.clone(), PageRequest::first(50))
        .await
        .expect("staff list");
    assert_eq!(
        staff_list.items.iter().map(|v| v.id).collect::<Vec<_>>(),
        [applicant.id()]
    );
    assert!(staff_list.items.iter().all(|v| v.blind));

    // The staff notice of the new application does not name the applicant either.
    let received = world.assert_notified(cohort.owner.id(), "application_received").await;
    let json = serde_json::to_string(&received).expect("json");
    assert!(leaks(&json, &founder).is_empty(), "notice leaks {json}");

    for (who, ctx) in [("applicant", &founder.ctx), ("admin", &world.admin.ctx)] {
        let view = world.eco.get_application(ctx, applicant.id()).await.expect("view");
        assert!(!view.blind, "{who}");
        let shown = view.applicant.as_ref().expect("identity shown");
        assert_eq!(shown.id, founder.id());
        assert_eq!(shown.email.as_str(), founder.email());
        assert_eq!(shown.name, "Valentina Quintero");
        assert_eq!(view.project.owner_id, Some(founder.id()));
    }
    let admin_list = world
        .eco
        .list_applications(&world.admin.ctx, by_program, PageRequest::first(50))
        .await
        .expect("admin list");
    assert!(admin_list.items.iter().all(|v| v.applicant.is_some()));
}

/// A command answered with its view (`act_on_application`, what HTTP answers) gives exactly
/// the view its caller reads next with `get_application`: the applicant's whole view after
/// submitting and withdrawing, the coordinator's blind view after deciding; a refused command
/// answers its error and changes nothing.
pub async fn a_command_answers_the_view_its_caller_reads_next<S: Store + Clone>(store: S) {
    use crate::service::ApplicationAction;
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::blind()).await;
    let coordinator = world.ally().await;
    world
        .add_member(&cohort.owner, &cohort.org, &coordinator, MemberRole::Coordinator)
        .await;
    let json = |view: &crate::service::ApplicationView| serde_json::to_value(view).expect("json");

    let founder = world.entrepreneur().await;
    let mut applicant = world.draft(&cohort, &founder).await;
    let draft = applicant.application.clone();
    let submitted = world
        .eco
        .act_on_application(&founder.ctx, draft.id, ApplicationAction::Submit, draft.meta.version)
        .await
        .expect("submit");
    assert_eq!(submitted.status, ApplicationStatus::Submitted);
    assert!(!submitted.blind, "the applicant sees their own application whole");
    let read = world.eco.get_application(&founder.ctx, draft.id).await.expect("read");
    assert_eq!(json(&submitted), json(&read));

    applicant.application = world.row(draft.id).await.expect("application");
    world.review(&cohort, &mut applicant, 80).await;
    let stale = applicant.application.meta.version - 1;
    let refused = world
        .eco
        .act_on_application(
            &coordinator.ctx,
            applicant.id(),
            ApplicationAction::Decide {
                decision: Decision::Waitlist,
                note: None,
            },
            stale,
        )
        .await;
    assert!(
        matches!(refused, Err(Error::Conflict { field: "version", .. })),
        "{refused:?}"
    );
    let unchanged: Application = world.row(applicant.id()).await.expect("application");
    assert_eq!(unchanged, applicant.application);

    let decided = world
        .eco
        .act_on_application(
            &coordinator.ctx,
            applicant.id(),
            ApplicationAction::Decide {
                decision: Decision::Waitlist,
                note: Some("Strong, but the cohort is full of fintech.".to_owned()),
            },
            unchanged.meta.version,
        )
        .await
        .expect("waitlist");
    assert_eq!(decided.status, ApplicationStatus::Waitlisted);
    assert!(decided.blind && decided.applicant.is_none(), "staff decide blind");
    let read = world
        .eco
        .get_application(&coordinator.ctx, applicant.id())
        .await
        .expect("read");
    assert_eq!(json(&decided), json(&read));

    let withdrawn = world
        .eco
        .act_on_application(
            &applicant.person.ctx,
            applicant.id(),
            ApplicationAction::Withdraw,
            Expect::Any,
        )
        .await
        .expect("withdraw");
    assert_eq!(withdrawn.status, ApplicationStatus::Withdrawn);
    let read = world
        .eco
        .get_application(&applicant.person.ctx, applicant.id())
        .await
        .expect("read");
    assert_eq!(json(&withdrawn), json(&read));
}

/// Without blind review, staff and reviewers see who applied.
pub async fn open_review_shows_the_applicant_to_staff<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let founder = world.person_named(Role::Entrepreneur, "Mateo", "Arboleda").await;
    let mut applicant = world.submit(&cohort, &founder).await;
    world.review(&cohort, &mut applicant, 70).await;
    for ctx in [&cohort.owner.ctx, &cohort.reviewers[0].ctx] {
        let view = world.eco.get_application(ctx, applicant.id()).await.expect("view");
        assert!(!view.blind);
        let shown = view.applicant.expect("identity shown");
        assert_eq!(shown.id, founder.id());
        assert_eq!(shown.name, "Mateo Arboleda");
        assert_eq!(view.project.owner_id, Some(founder.id()));
    }
    let list = world
        .eco
        .list_applications(
            &cohort.owner.ctx,
            applications_of(cohort.program.id),
            PageRequest::first(10),
        )
        .await
        .expect("list");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].applicant.as_ref().map(|a| a.id), Some(founder.id()));
}

/// A decision needs `min_reviews` submitted reviews without a declared conflict (`Validation` on
/// `reviews`); a conflicted review counts neither for that nor for the mean score.
pub async fn decisions_need_min_qualified_reviews<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::reviews(2)).await;
    let person = world.entrepreneur().await;
    let applicant = world.submit(&cohort, &person).await;
    let eco = &world.eco;
    let (first, second) = (&cohort.reviewers[0], &cohort.reviewers[1]);
    for reviewer in [first, second] {
        eco.assign_reviewer(&cohort.owner.ctx, applicant.id(), reviewer.id())
            .await
            .expect("assign");
    }
    eco.submit_review(
        &first.ctx,
        applicant.id(),
        SubmitReview {
            score: 10,
            comment: Some("I know the founder".to_owned()),
            conflict_declared: true,
        },
    )
    .await
    .expect("conflicted review");
    for decision in [Decision::Accept, Decision::Reject, Decision::Waitlist] {
        let error = world.refused_decision(&cohort, applicant.id(), decision).await;
        assert_fields(&error, &["reviews"]);
    }
    eco.submit_review(&second.ctx, applicant.id(), SubmitReview::new(80))
        .await
        .expect("review");
    assert_eq!(
        world.row(applicant.id()).await.expect("app").mean_score_centi,
        Some(8000)
    );
    let error = world.refused_decision(&cohort, applicant.id(), Decision::Accept).await;
    assert_fields(&error, &["reviews"]);
    assert_eq!(status_of(&world, applicant.id()).await, ApplicationStatus::UnderReview);

    // The owner (staff) reviews too: two qualified reviews now.
    eco.assign_reviewer(&cohort.owner.ctx, applicant.id(), cohort.owner.id())
        .await
        .expect("assign owner");
    eco.submit_review(&cohort.owner.ctx, applicant.id(), SubmitReview::new(91))
        .await
        .expect("owner review");
    assert_eq!(
        world.row(applicant.id()).await.expect("app").mean_score_centi,
        Some(8550)
    );
    let decided = eco
        .decide(
            &cohort.owner.ctx,
            applicant.id(),
            Decision::Accept,
            Some("Strong team".to_owned()),
            None,
        )
        .await
        .expect("accept");
    assert_eq!(decided.status, ApplicationStatus::Accepted);
    assert_eq!(decided.decision_note.as_deref(), Some("Strong team"));
    assert_eq!(decided.decided_at, Some(world.now()));
}

/// Entrepreneurs — the applicant included — cannot decide, assign reviewers or review.
pub async fn entrepreneurs_cannot_decide_or_review<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let applicant = world.ready(&cohort, 70).await;
    let stranger = world.entrepreneur().await;
    let eco = &world.eco;
    // The applicant sees their application (Forbidden); a stranger does not (NotFound).
    assert_forbidden(&expect_err(
        eco.decide(&applicant.person.ctx, applicant.id(), Decision::Accept, None, None)
            .await,
    ));
    assert_forbidden(&expect_err(
        eco.assign_reviewer(&applicant.person.ctx, applicant.id(), cohort.reviewers[0].id())
            .await,
    ));
    assert_not_found(
        &expect_err(
            eco.decide(&stranger.ctx, applicant.id(), Decision::Accept, None, None)
                .await,
        ),
        "application",
    );
    assert_not_found(
        &expect_err(
            eco.assign_reviewer(&stranger.ctx, applicant.id(), cohort.reviewers[0].id())
                .await,
        ),
        "application",
    );
    let review = SubmitReview::new(100);
    assert_forbidden(&expect_err(
        eco.submit_review(&applicant.person.ctx, applicant.id(), review.clone())
            .await,
    ));
    assert_not_found(
        &expect_err(eco.submit_review(&stranger.ctx, applicant.id(), review).await),
        "application",
    );
    let stored = world.row(applicant.id()).await.expect("application");
    assert_eq!(stored, applicant.application, "nothing changed");
    assert_eq!(world.program(&cohort).await.accepted_count, 0);
}

/// Reviewer members review only what they are assigned (anything else does not exist for them:
/// `NotFound`), and only while they are members; owners and coordinators may score any
/// application of their programs; a review is submitted once.
pub async fn only_assigned_reviewers_review<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::reviews(2)).await;
    let person = world.entrepreneur().await;
    let applicant = world.submit(&cohort, &person).await;
    let (assigned, unassigned) = (&cohort.reviewers[0], &cohort.reviewers[1]);
    world.assign(&cohort, applicant.id(), assigned.id()).await;
    let review = SubmitReview::new;
    assert_not_found(
        &expect_err(
            world
                .eco
                .submit_review(&unassigned.ctx, applicant.id(), review(50))
                .await,
        ),
        "application",
    );
    assert_not_found(
        &expect_err(world.eco.get_application(&unassigned.ctx, applicant.id()).await),
        "application",
    );
    let outsider = world.ally().await;
    assert_not_found(
        &expect_err(world.eco.submit_review(&outsider.ctx, applicant.id(), review(50)).await),
        "application",
    );
    let by_staff = world
        .eco
        .submit_review(&cohort.owner.ctx, applicant.id(), review(58))
        .await
        .expect("staff score without an assignment");
    assert_eq!(by_staff.reviewer_id, cohort.owner.id());
    let done = world
        .eco
        .submit_review(&assigned.ctx, applicant.id(), review(64))
        .await
        .expect("assigned reviewer reviews");
    assert_eq!(done.score.map(|s| s.get()), Some(64));
    for ctx in [&assigned.ctx, &cohort.owner.ctx] {
        let error = expect_err(world.eco.submit_review(ctx, applicant.id(), review(99)).await);
        assert!(
            matches!(error, Error::InvalidTransition { entity: "review", .. }),
            "{error:?}"
        );
    }
    let submitted = world
        .rows(ReviewFilter {
            application_id: Some(applicant.id()),
            submitted: Some(true),
            ..Default::default()
        })
        .await;
    let mut scores: Vec<u8> = submitted.iter().filter_map(|r| r.score.map(|s| s.get())).collect();
    scores.sort_unstable();
    assert_eq!(scores, [58, 64]);
    assert_eq!(
        world.row(applicant.id()).await.expect("app").mean_score_centi,
        Some(6100)
    );

    // An assignment counts only while the reviewer is a member of the organization.
    world.assign(&cohort, applicant.id(), unassigned.id()).await;
    world
        .eco
        .get_application(&unassigned.ctx, applicant.id())
        .await
        .expect("an assigned member sees it");
    world
        .eco
        .remove_member(&cohort.owner.ctx, cohort.org.id, unassigned.id())
        .await
        .expect("remove");
    assert_not_found(
        &expect_err(world.eco.get_application(&unassigned.ctx, applicant.id()).await),
        "application",
    );
    assert_not_found(
        &expect_err(
            world
                .eco
                .submit_review(&unassigned.ctx, applicant.id(), review(10))
                .await,
        ),
        "application",
    );
    assert_not_found(
        &expect_err(world.eco.get_project(&unassigned.ctx, applicant.project.id).await),
        "project",
    );
}

/// Someone else's application does not exist for an entrepreneur or a client: `NotFound`,
/// never `Forbidden`, and it appears in none of their lists.
pub async fn applications_are_invisible_to_strangers<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let owner = world.entrepreneur().await;
    let Applicant {
        project,
        application: draft,
        ..
    } = world.draft(&cohort, &owner).await;
    let stranger = world.entrepreneur().await;
    let client = world.person(Role::Client, "client").await;
    for ctx in [&stranger.ctx, &client.ctx] {
        assert_not_found(
            &expect_err(world.eco.get_application(ctx, draft.id).await),
            "application",
        );
        assert_not_found(
            &expect_err(world.eco.withdraw_application(ctx, draft.id, None).await),
            "application",
        );
        assert_not_found(
            &expect_err(world.eco.update_application(ctx, draft.id, Map::new(), None).await),
            "application",
        );
        assert_not_found(
            &expect_err(world.eco.submit_application(ctx, draft.id, None).await),
            "application",
        );
        assert_not_found(&expect_err(world.eco.list_reviews(ctx, draft.id).await), "application");
        for filter in [
            ApplicationFilter::default(),
            applications_of(cohort.program.id),
            ApplicationFilter {
                applicant_id: Some(owner.id()),
                ..Default::default()
            },
        ] {
            let list = world
                .eco
                .list_applications(ctx, filter, PageRequest::first(50))
                .await
                .expect("list");
            assert!(list.items.is_empty(), "{:?}", list.items);
        }
    }
    // Applying with someone else's project is refused as if it did not exist.
    let error = expect_err(
        world
            .eco
            .create_application(&stranger.ctx, cohort.program.id, project.id, Map::new())
            .await,
    );
    assert_fields(&error, &["project_id"]);
    let mine = world
        .eco
        .list_applications(&owner.ctx, ApplicationFilter::default(), PageRequest::first(50))
        .await
        .expect("own list");
    assert_eq!(mine.items.iter().map(|v| v.id).collect::<Vec<_>>(), [draft.id]);
    assert_eq!(world.row(draft.id).await.expect("draft"), draft);
}

/// Staff of another organization: the application is `NotFound` to them, and so are deciding
/// and assigning reviewers (they act on the application, which they cannot see); managing the
/// program is `Forbidden` (it is a published program they can see), and a draft program of the
/// other organization is `NotFound`.
pub async fn staff_of_another_organization_cannot_act<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let rival = world.cohort(ProgramSpec::default()).await;
    let applicant = world.ready(&cohort, 70).await;
    let eco = &world.eco;
    let other = &rival.owner.ctx;
    assert_not_found(
        &expect_err(eco.get_application(other, applicant.id()).await),
        "application",
    );
    assert_not_found(
        &expect_err(eco.decide(other, applicant.id(), Decision::Accept, None, None).await),
        "application",
    );
    assert_not_found(
        &expect_err(
            eco.assign_reviewer(other, applicant.id(), rival.reviewers[0].id())
                .await,
        ),
        "application",
    );
    assert_forbidden(&expect_err(
        eco.program_command(other, cohort.program.id, ProgramCommand::Cancel, None)
            .await,
    ));
    assert_forbidden(&expect_err(
        eco.update_program(
            other,
            cohort.program.id,
            UpdateProgram {
                name: Some("Hijacked".to_owned()),
                ..Default::default()
            },
        )
        .await,
    ));
    assert_forbidden(&expect_err(
        eco.list_enrollments(other, cohort.program.id, None, PageRequest::first(10))
            .await,
    ));
    let list = eco
        .list_applications(other, applications_of(cohort.program.id), PageRequest::first(50))
        .await
        .expect("list");
    assert!(list.items.is_empty());
    let draft = eco
        .create_program(
            &cohort.owner.ctx,
            world.program_input(&cohort.org, "Secret Draft", ProgramSpec::default()),
        )
        .await
        .expect("draft");
    assert_not_found(&expect_err(eco.get_program(other, draft.id).await), "program");
    assert_not_found(
        &expect_err(
            eco.program_command(other, draft.id, ProgramCommand::Publish, None)
                .await,
        ),
        "program",
    );
    assert_eq!(world.row(applicant.id()).await.expect("app"), applicant.application);
    assert_eq!(world.program(&cohort).await.status, ProgramStatus::Published);
}

/// Every command on an application answers `NotFound` to whoever cannot see the application
/// and `Forbidden` to whoever sees it but may not act (the HTTP contract): editing a draft is the
/// applicant's alone (an admin sees it: Forbidden); withdrawing too (the program's staff and the
/// assigned reviewer see it: Forbidden); assigning reviewers and deciding are the staff's (the
/// assigned reviewer and the applicant see it: Forbidden; another entrepreneur, an ally, a
/// client and a reviewer not assigned yet do not: NotFound, though the program is public).
pub async fn application_commands_hide_what_the_caller_cannot_see<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::reviews(2)).await;
    let eco = &world.eco;
    let coordinator = world.ally().await;
    world
        .add_member(&cohort.owner, &cohort.org, &coordinator, MemberRole::Coordinator)
        .await;
    let other = world.entrepreneur().await;
    let ally = world.ally().await;
    let client = world.person(Role::Client, "client").await;
    let (assigned, unassigned) = (&cohort.reviewers[0], &cohort.reviewers[1]);

    // A draft: only the applicant edits it; the admin sees it, the staff do not yet.
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let draft = eco
        .create_application(&person.ctx, cohort.program.id, project.id, Map::new())
        .await
        .expect("draft");
    let mut answers = Map::new();
    answers.insert("team".to_owned(), serde_json::json!(3));
    assert_forbidden(&expect_err(
        eco.update_application(&world.admin.ctx, draft.id, answers.clone(), None)
            .await,
    ));
    for ctx in [
        &cohort.owner.ctx,
        &coordinator.ctx,
        &assigned.ctx,
        &other.ctx,
        &ally.ctx,
        &client.ctx,
    ] {
        assert_not_found(
            &expect_err(eco.update_application(ctx, draft.id, answers.clone(), None).await),
            "application",
        );
        assert_not_found(
            &expect_err(eco.assign_reviewer(ctx, draft.id, assigned.id()).await),
            "application",
        );
    }
    assert_eq!(world.row(draft.id).await.expect("draft"), draft, "nothing changed");
    eco.update_application(&person.ctx, draft.id, answers, None)
        .await
        .expect("the applicant edits the draft");

    // Submitted: no reviewer is assigned yet, so no reviewer sees it.
    let mut applicant = world.submit(&cohort, &world.entrepreneur().await).await;
    for ctx in [&assigned.ctx, &unassigned.ctx, &other.ctx, &ally.ctx, &client.ctx] {
        assert_not_found(
            &expect_err(eco.assign_reviewer(ctx, applicant.id(), assigned.id()).await),
            "application",
        );
        assert_not_found(
            &expect_err(eco.decide(ctx, applicant.id(), Decision::Reject, None, None).await),
            "application",
        );
    }
    assert_forbidden(&expect_err(
        eco.assign_reviewer(&applicant.person.ctx, applicant.id(), assigned.id())
            .await,
    ));
    // The staff see the submitted application but may not edit it.
    assert_forbidden(&expect_err(
        eco.update_application(&cohort.owner.ctx, applicant.id(), Map::new(), None)
            .await,
    ));
    assert_eq!(
        world.row(applicant.id()).await.expect("app"),
        applicant.application,
        "nothing changed"
    );
    eco.assign_reviewer(&coordinator.ctx, applicant.id(), assigned.id())
        .await
        .expect("a coordinator assigns");
    // Now the assigned reviewer sees it: refused, not hidden. The other reviewer still does not.
    assert_forbidden(&expect_err(
        eco.assign_reviewer(&assigned.ctx, applicant.id(), unassigned.id())
            .await,
    ));
    assert_forbidden(&expect_err(
        eco.decide(&assigned.ctx, applicant.id(), Decision::Reject, None, None)
            .await,
    ));
    assert_not_found(
        &expect_err(
            eco.decide(&unassigned.ctx, applicant.id(), Decision::Reject, None, None)
                .await,
        ),
        "application",
    );
    eco.assign_reviewer(&cohort.owner.ctx, applicant.id(), unassigned.id())
        .await
        .expect("assign the second reviewer");
    for reviewer in [assigned, unassigned] {
        let review = SubmitReview::new(80);
        eco.submit_review(&reviewer.ctx, applicant.id(), review)
            .await
            .expect("review");
    }
    world.decide(&cohort, &mut applicant, Decision::Accept).await;

    // Accepted: only the applicant withdraws it. Those who see it are refused; the rest are not
    // told it exists.
    for ctx in [&world.admin.ctx, &cohort.owner.ctx, &coordinator.ctx, &assigned.ctx] {
        assert_forbidden(&expect_err(eco.withdraw_application(ctx, applicant.id(), None).await));
    }
    let outsider_reviewer = world.ally().await;
    world
        .add_member(&cohort.owner, &cohort.org, &outsider_reviewer, MemberRole::Reviewer)
        .await;
    for ctx in [&outsider_reviewer.ctx, &other.ctx, &ally.ctx, &client.ctx] {
        assert_not_found(
            &expect_err(eco.withdraw_application(ctx, applicant.id(), None).await),
            "application",
        );
    }
    assert_eq!(
        world.row(applicant.id()).await.expect("app").status,
        ApplicationStatus::Accepted
    );
    assert_eq!(world.program(&cohort).await.accepted_count, 1);
    let withdrawn = eco
        .withdraw_application(&applicant.person.ctx, applicant.id(), None)
        .await
        .expect("the applicant withdraws");
    assert_eq!(withdrawn.status, ApplicationStatus::Withdrawn);
}

/// Submitting reports every reason at once: window closed, project finished, stage and sector
/// outside the program's targets.
pub async fn submission_reports_every_eligibility_failure<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.ally().await;
    let org = world.organization(&owner).await;
    let mut input = world.program_input(&org, "Fintech Sprint", ProgramSpec::default());
    input.target_sectors = vec!["Fintech".to_owned()];
    input.target_stages = vec![ProjectStage::Prototype];
    let program = world.eco.create_program(&owner.ctx, input).await.expect("program");
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let eligible = eco
        .create_project(
            &person.ctx,
            crate::service::CreateProject {
                category: Some("FinTech".to_owned()),
                stage: Some(ProjectStage::Prototype),
                ..project_input("Ledger Lite")
            },
        )
        .await
        .expect("eligible project");
    let off_target = eco
        .create_project(
            &person.ctx,
            crate::service::CreateProject {
                category: Some("retail".to_owned()),
                ..project_input("Corner Shop")
            },
        )
        .await
        .expect("off-target project");
    let finished = eco
        .create_project(&person.ctx, project_input("Old Idea"))
        .await
        .expect("project");
    eco.project_command(&person.ctx, finished.id, ProjectCommand::Cancel, None)
        .await
        .expect("cancel");

    // A draft program takes no applications at all.
    assert_fields(
        &expect_err(
            eco.create_application(&person.ctx, program.id, eligible.id, Map::new())
                .await,
        ),
        &["program_id"],
    );
    eco.program_command(&owner.ctx, program.id, ProgramCommand::Publish, None)
        .await
        .expect("publish");

    let draft = |project: ProjectId| {
        let eco = Arc::clone(&world.eco);
        let ctx = person.ctx.clone();
        async move {
            eco.create_application(&ctx, program.id, project, Map::new())
                .await
                .expect("draft")
        }
    };
    let good = draft(eligible.id).await;
    let off = draft(off_target.id).await;
    let late = draft(finished.id).await;
    eco.submit_application(&person.ctx, good.id, None)
        .await
        .expect("eligible submission");
    assert_fields(
        &expect_err(eco.submit_application(&person.ctx, off.id, None).await),
        &["project.stage", "project.category"],
    );
    world.advance(Duration::days(10));
    assert_fields(
        &expect_err(eco.submit_application(&person.ctx, late.id, None).await),
        &["program_id", "project_id", "project.stage", "project.category"],
    );
    for id in [off.id, late.id] {
        assert_eq!(world.row(id).await.expect("draft").status, ApplicationStatus::Draft);
    }

    // An organization that stopped taking applications closes its open programs too.
    let cohort = world.cohort(ProgramSpec::default()).await;
    let project = world.project(&person).await;
    let draft = eco
        .create_application(&person.ctx, cohort.program.id, project.id, Map::new())
        .await
        .expect("draft");
    eco.update_organization(
        &cohort.owner.ctx,
        cohort.org.id,
        crate::service::UpdateOrganization {
            allow_applications: Some(false),
            ..Default::default()
        },
    )
    .await
    .expect("stop applications");
    assert_fields(
        &expect_err(eco.submit_application(&person.ctx, draft.id, None).await),
        &["program_id"],
    );
    assert_eq!(
        world.row(draft.id).await.expect("draft").status,
        ApplicationStatus::Draft
    );
}

/// No decision on a cancelled program (`Validation` on `program_id`).
pub async fn no_decision_on_a_cancelled_program<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let applicant = world.ready(&cohort, 70).await;
    world
        .eco
        .program_command(&cohort.owner.ctx, cohort.program.id, ProgramCommand::Cancel, None)
        .await
        .expect("cancel");
    for decision in [Decision::Accept, Decision::Reject, Decision::Waitlist] {
        assert_fields(
            &world.refused_decision(&cohort, applicant.id(), decision).await,
            &["program_id"],
        );
    }
    assert_eq!(status_of(&world, applicant.id()).await, ApplicationStatus::UnderReview);
}
