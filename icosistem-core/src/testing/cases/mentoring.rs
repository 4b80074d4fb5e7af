//! Mentorships, suggestions and free slots (docs/domain.md §2, §4.5, §4.7): the mentee load under
//! concurrency, one open relationship per pair, who may run which command, the reviewer conflict
//! of interest, what a mentor may see, the ranking of suggested allies and the bookable starts.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;

use crate::error::Error;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{CreateProject, SubmitReview};
use crate::testing::fixtures::*;
use crate::workflow::mentorship::MentorshipCommand;

async fn status_of<S: Store>(world: &World<S>, id: MentorshipId) -> MentorshipStatus {
    world.row(id).await.expect("mentorship").status
}

/// Open (requested/active/paused) mentorships between `ally` and `entrepreneur`.
async fn open_between<S: Store>(world: &World<S>, ally: &Person, entrepreneur: &Person) -> u64 {
    world
        .count(MentorshipFilter {
            ally_id: Some(ally.id()),
            entrepreneur_id: Some(entrepreneur.id()),
            open_only: true,
            ..Default::default()
        })
        .await
}

/// 20 entrepreneurs ask one ally with `max_mentees = 3`; the ally accepts all 20 requests at
/// once: exactly 3 accepts succeed and 17 are `AllyAtCapacity`; afterwards exactly the 3
/// winners are active, the 17 others still requested, with 3 audit events and 3 notices.
pub async fn concurrent_accepts_never_exceed_max_mentees<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.ally_with_capacity(3).await;
    let mut requests = Vec::new();
    for _ in 0..20 {
        let entrepreneur = world.entrepreneur().await;
        let mentorship = world.request_mentorship(&entrepreneur, &ally).await;
        requests.push((entrepreneur, mentorship));
    }
    let futures = requests
        .iter()
        .map(|(_, m)| {
            let eco = Arc::clone(&world.eco);
            let ctx = ally.ctx.clone();
            let id = m.id;
            async move { eco.mentorship_command(&ctx, id, MentorshipCommand::Accept, None).await }
        })
        .collect();
    let results = race(futures).await;
    let mut winners = BTreeSet::new();
    let mut refused = 0;
    for ((_, requested), result) in requests.iter().zip(results) {
        match result {
            Ok(m) => {
                assert_eq!(m.status, MentorshipStatus::Active);
                winners.insert(requested.id);
            }
            Err(Error::AllyAtCapacity) => {
                refused += 1;
                assert_eq!(status_of(&world, requested.id).await, MentorshipStatus::Requested);
            }
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 3);
    assert_eq!(refused, 17);
    let active = world
        .ids(MentorshipFilter {
            ally_id: Some(ally.id()),
            status: Some(MentorshipStatus::Active),
            ..Default::default()
        })
        .await;
    assert_eq!(BTreeSet::from_iter(active), winners);
    let accepted_events = world.audit_count("mentorship.accept").await;
    assert_eq!(accepted_events, 3);
    for (entrepreneur, requested) in &requests {
        let notices = world.notifications(entrepreneur.id(), "mentorship_accepted").await;
        assert_eq!(notices.len(), usize::from(winners.contains(&requested.id)));
    }
}

/// At most one requested/active/paused mentorship per (ally, entrepreneur): a second request is
/// `Conflict { mentorship, ally_entrepreneur }` while one is requested, active or paused, and is
/// allowed again once the open one is declined or cancelled. Another entrepreneur is unaffected.
pub async fn one_open_mentorship_per_ally_and_entrepreneur<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let entrepreneur = world.entrepreneur().await;
    let again = || eco.request_mentorship(&entrepreneur.ctx, mentorship_request(ally.id()));

    let first = world.request_mentorship(&entrepreneur, &ally).await;
    assert_conflict(&expect_err(again().await), "mentorship", "ally_entrepreneur");
    world.mentorship_step(&ally, first.id, MentorshipCommand::Decline).await;

    let second = again().await.expect("a declined request frees the pair");
    world.mentorship_step(&ally, second.id, MentorshipCommand::Accept).await;
    assert_conflict(&expect_err(again().await), "mentorship", "ally_entrepreneur");
    world.mentorship_step(&ally, second.id, MentorshipCommand::Pause).await;
    assert_conflict(&expect_err(again().await), "mentorship", "ally_entrepreneur");
    world
        .mentorship_step(&entrepreneur, second.id, MentorshipCommand::Cancel)
        .await;

    let third = again().await.expect("a cancelled mentorship frees the pair");
    assert_eq!(third.status, MentorshipStatus::Requested);
    assert_eq!(open_between(&world, &ally, &entrepreneur).await, 1);
    let all = world
        .count(MentorshipFilter {
            ally_id: Some(ally.id()),
            entrepreneur_id: Some(entrepreneur.id()),
            ..Default::default()
        })
        .await;
    assert_eq!(all, 3);

    let other = world.entrepreneur().await;
    world.request_mentorship(&other, &ally).await;
    assert_eq!(open_between(&world, &ally, &other).await, 1);
}

/// Eight concurrent requests of one entrepreneur to one ally: exactly one is stored, the other
/// seven are `Conflict { mentorship, ally_entrepreneur }`.
pub async fn concurrent_duplicate_mentorship_requests_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.available_ally().await;
    let entrepreneur = world.entrepreneur().await;
    let futures = (0..8)
        .map(|_| {
            let eco = Arc::clone(&world.eco);
            let ctx = entrepreneur.ctx.clone();
            let input = mentorship_request(ally.id());
            async move { eco.request_mentorship(&ctx, input).await }
        })
        .collect();
    let results = race(futures).await;
    let mut stored = 0;
    for result in results {
        match result {
            Ok(_) => stored += 1,
            Err(error) => assert_conflict(&error, "mentorship", "ally_entrepreneur"),
        }
    }
    assert_eq!(stored, 1);
    assert_eq!(open_between(&world, &ally, &entrepreneur).await, 1);
    assert_eq!(world.notifications(ally.id(), "mentorship_requested").await.len(), 1);
}

/// Who may run which mentorship command: the ally accepts, declines, pauses, resumes,
/// completes and cancels (not a request: that it declines); the entrepreneur may only cancel (anything else is `Forbidden`); anyone else gets
/// `NotFound`. Each transition notifies the other party and is audited; a command the status does
/// not allow is `InvalidTransition`.
pub async fn mentorship_commands_follow_who_may_run_them<S: Store + Clone>(store: S) {
    use MentorshipCommand as C;
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let entrepreneur = world.entrepreneur().await;
    let other_ally = world.available_ally().await;
    let other_entrepreneur = world.entrepreneur().await;
    let m = world.request_mentorship(&entrepreneur, &ally).await;

    for command in [C::Accept, C::Decline, C::Pause, C::Resume, C::Complete] {
        let error = expect_err(eco.mentorship_command(&entrepreneur.ctx, m.id, command, None).await);
        assert_forbidden(&error);
    }
    for stranger in [&other_ally, &other_entrepreneur] {
        for command in MentorshipCommand::ALL.iter().copied() {
            let error = expect_err(eco.mentorship_command(&stranger.ctx, m.id, command, None).await);
            assert_not_found(&error, "mentorship");
        }
        assert_not_found(&expect_err(eco.get_mentorship(&stranger.ctx, m.id).await), "mentorship");
    }
    // §4.5: `requested → cancelled` is the entrepreneur's; the ally declines a request instead.
    assert_forbidden(&expect_err(
        eco.mentorship_command(&ally.ctx, m.id, C::Cancel, None).await,
    ));
    assert_eq!(status_of(&world, m.id).await, MentorshipStatus::Requested);

    let accepted = world.mentorship_step(&ally, m.id, C::Accept).await;
    assert_eq!(accepted.started_at, Some(world.now()));
    let notice = world.assert_notified(entrepreneur.id(), "mentorship_accepted").await;
    assert_eq!(notice.data["mentorship_id"], serde_json::json!(m.id));
    let error = expect_err(eco.mentorship_command(&ally.ctx, m.id, C::Accept, None).await);
    assert_invalid_transition(&error, "mentorship", "active", Some("accept"));
    assert_eq!(
        world.mentorship_step(&ally, m.id, C::Pause).await.status,
        MentorshipStatus::Paused
    );
    assert_eq!(
        world.mentorship_step(&ally, m.id, C::Resume).await.status,
        MentorshipStatus::Active
    );
    let cancelled = world.mentorship_step(&entrepreneur, m.id, C::Cancel).await;
    assert_eq!(cancelled.status, MentorshipStatus::Cancelled);
    assert_eq!(cancelled.ended_at, Some(world.now()));
    // Pause and resume told the entrepreneur; the cancel told the ally.
    assert_eq!(
        world.notifications(entrepreneur.id(), "mentorship_status").await.len(),
        2
    );
    assert_eq!(world.notifications(ally.id(), "mentorship_status").await.len(), 1);
    for (action, from, to) in [
        ("mentorship.accept", "requested", "active"),
        ("mentorship.pause", "active", "paused"),
        ("mentorship.resume", "paused", "active"),
        ("mentorship.cancel", "active", "cancelled"),
    ] {
        let event = world.audited(action, m.id).await;
        assert_eq!(event.before, Some(serde_json::json!({ "status": from })));
        assert_eq!(event.after, Some(serde_json::json!({ "status": to })));
    }

    let declined_request = world.request_mentorship(&entrepreneur, &ally).await;
    let declined = world.mentorship_step(&ally, declined_request.id, C::Decline).await;
    assert_eq!(declined.status, MentorshipStatus::Declined);
    world.assert_notified(entrepreneur.id(), "mentorship_declined").await;

    let withdrawn = world.request_mentorship(&entrepreneur, &ally).await;
    let withdrawn = world.mentorship_step(&entrepreneur, withdrawn.id, C::Cancel).await;
    assert_eq!(withdrawn.status, MentorshipStatus::Cancelled);

    let finished = world.request_mentorship(&entrepreneur, &ally).await;
    world.mentorship_step(&ally, finished.id, C::Accept).await;
    let finished = world.mentorship_step(&ally, finished.id, C::Complete).await;
    assert_eq!(finished.status, MentorshipStatus::Completed);
    let error = expect_err(
        eco.mentorship_command(&entrepreneur.ctx, finished.id, C::Cancel, None)
            .await,
    );
    assert!(
        matches!(
            error,
            Error::InvalidTransition {
                entity: "mentorship",
                ..
            }
        ),
        "{error:?}"
    );
}

/// Seats: a paused mentee holds none, so the ally (1 seat) may accept another; resuming the
/// paused one while that seat is taken is `AllyAtCapacity` and changes nothing; once the seat is
/// free, the resume succeeds. An ally who is not available refuses accepts even with free seats.
pub async fn resume_and_accept_respect_the_allys_capacity<S: Store + Clone>(store: S) {
    use MentorshipCommand as C;
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.ally_with_capacity(1).await;
    let first = world.mentee(&ally).await;
    let waiting = world.entrepreneur().await;
    let waiting_request = world.request_mentorship(&waiting, &ally).await;
    let error = expect_err(
        eco.mentorship_command(&ally.ctx, waiting_request.id, C::Accept, None)
            .await,
    );
    assert!(matches!(error, Error::AllyAtCapacity), "{error:?}");

    world.mentorship_step(&ally, first.id(), C::Pause).await;
    world.mentorship_step(&ally, waiting_request.id, C::Accept).await;
    let error = expect_err(eco.mentorship_command(&ally.ctx, first.id(), C::Resume, None).await);
    assert!(matches!(error, Error::AllyAtCapacity), "{error:?}");
    assert_eq!(status_of(&world, first.id()).await, MentorshipStatus::Paused);

    world.mentorship_step(&ally, waiting_request.id, C::Complete).await;
    let resumed = world.mentorship_step(&ally, first.id(), C::Resume).await;
    assert_eq!(resumed.status, MentorshipStatus::Active);

    // Away: more seats, but not taking new mentees.
    eco.update_my_profile(
        &ally.ctx,
        ProfileData::Ally(AllyProfile {
            max_mentees: 5,
            available: false,
            ..AllyProfile::default()
        }),
        None,
    )
    .await
    .expect("profile");
    let late = world.entrepreneur().await;
    let late_request = world.request_mentorship(&late, &ally).await;
    let error = expect_err(
        eco.mentorship_command(&ally.ctx, late_request.id, C::Accept, None)
            .await,
    );
    assert!(matches!(error, Error::AllyAtCapacity), "{error:?}");
    assert_eq!(status_of(&world, late_request.id).await, MentorshipStatus::Requested);
    let active = world
        .count(MentorshipFilter {
            ally_id: Some(ally.id()),
            status: Some(MentorshipStatus::Active),
            ..Default::default()
        })
        .await;
    assert_eq!(active, 1);
}

/// Conflict of interest (docs/domain.md §4.2): a reviewer who is the applicant's ally in an active
/// mentorship is refused (`Validation` on `reviewer_id`, nothing written); once the mentorship
/// is completed the same assignment succeeds.
pub async fn reviewer_who_mentors_the_applicant_is_refused<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let reviewer = cohort.reviewers[0].clone();
    let entrepreneur = world.entrepreneur().await;
    let mentorship = world.request_mentorship(&entrepreneur, &reviewer).await;
    world
        .mentorship_step(&reviewer, mentorship.id, MentorshipCommand::Accept)
        .await;
    let applicant = world.submit(&cohort, &entrepreneur).await;

    let error = expect_err(
        world
            .eco
            .assign_reviewer(&cohort.owner.ctx, applicant.id(), reviewer.id())
            .await,
    );
    assert_fields(&error, &["reviewer_id"]);
    let reviews = reviews_of(applicant.id());
    assert_eq!(world.count(reviews.clone()).await, 0);
    world.assert_not_notified(reviewer.id(), "review_assigned").await;
    let app: Application = world.row(applicant.id()).await.expect("application");
    assert_eq!(app.status, ApplicationStatus::Submitted);

    world
        .mentorship_step(&reviewer, mentorship.id, MentorshipCommand::Complete)
        .await;
    // No conflict once the mentorship is over.
    world.assign(&cohort, applicant.id(), reviewer.id()).await;
    world
        .eco
        .submit_review(&reviewer.ctx, applicant.id(), SubmitReview::new(70))
        .await
        .expect("review");
    assert_eq!(world.count(reviews).await, 1);
}

/// An ally sees a mentee's private project only while their mentorship is active: not while
/// requested or paused, not after it ends; another ally never does, and the mentor never sees a
/// private project of someone who is not their mentee.
pub async fn mentor_sees_the_mentees_project_only_while_active<S: Store + Clone>(store: S) {
    use MentorshipCommand as C;
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let outsider = world.available_ally().await;
    let entrepreneur = world.entrepreneur().await;
    let project = world.project(&entrepreneur).await;
    assert!(!project.is_public);
    let stranger = world.entrepreneur().await;
    let strangers_project = world.project(&stranger).await;
    let sees = |who: &Person| {
        let ctx = who.ctx.clone();
        let eco = Arc::clone(eco);
        async move { eco.get_project(&ctx, project.id).await }
    };

    let m = world.request_mentorship(&entrepreneur, &ally).await;
    assert_not_found(&expect_err(sees(&ally).await), "project");
    world.mentorship_step(&ally, m.id, C::Accept).await;
    assert_eq!(sees(&ally).await.expect("mentor sees").id, project.id);
    assert_not_found(&expect_err(sees(&outsider).await), "project");
    assert_not_found(
        &expect_err(eco.get_project(&ally.ctx, strangers_project.id).await),
        "project",
    );
    world.mentorship_step(&ally, m.id, C::Pause).await;
    assert_not_found(&expect_err(sees(&ally).await), "project");
    world.mentorship_step(&ally, m.id, C::Resume).await;
    assert_eq!(sees(&ally).await.expect("mentor sees again").id, project.id);
    world.mentorship_step(&ally, m.id, C::Complete).await;
    assert_not_found(&expect_err(sees(&ally).await), "project");
}

fn expert(expertise: Option<&str>, specializations: &[&str], stages: &[ProjectStage]) -> AllyProfile {
    AllyProfile {
        primary_expertise: expertise.map(str::to_owned),
        specializations: specializations.iter().map(|s| (*s).to_owned()).collect(),
        preferred_stages: stages.to_vec(),
        ..AllyProfile::default()
    }
}

/// `suggest_allies` for an entrepreneur in fintech wanting help with fundraising and sales, with
/// an idea-stage project: only scores above 0.3 (exactly 0.3 is out), best first, at most 5, each
/// with one reason per part that counted; never an ally at capacity, one who is not available, or
/// one already in an open mentorship with the caller.
pub async fn suggest_allies_returns_the_best_five_above_the_threshold<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let entrepreneur = world.entrepreneur().await;
    eco.update_my_profile(
        &entrepreneur.ctx,
        ProfileData::Entrepreneur(EntrepreneurProfile {
            sectors: vec!["Fintech".to_owned(), "Retail".to_owned()],
            mentorship_areas: vec!["Fundraising".to_owned(), "Sales".to_owned()],
            ..EntrepreneurProfile::default()
        }),
        None,
    )
    .await
    .expect("entrepreneur profile");
    eco.create_project(
        &entrepreneur.ctx,
        CreateProject {
            stage: Some(ProjectStage::Idea),
            ..project_input("Pocket Bank")
        },
    )
    .await
    .expect("project");
    let idea = [ProjectStage::Idea];
    let ideal = expert(Some("fintech"), &["fundraising", "sales"], &idea);
    let slots = weekdays(8, 18);

    // Phase 1: one ally above the threshold; the others are out for a reason each.
    let fintech_only = world
        .mentor(expert(Some("Fintech"), &[], &[]), "UTC", slots.clone())
        .await;
    world
        .mentor(
            expert(None, &["sales", "marketing", "legal"], &[]),
            "UTC",
            slots.clone(),
        )
        .await; // 0.1 + 0.1
    world.mentor(expert(None, &[], &idea), "UTC", slots.clone()).await; // 0.2 + 0.1 = 0.3
    world
        .mentor(expert(Some("health"), &["retail"], &[]), "UTC", slots.clone())
        .await; // 0.2 + 0.1 = 0.3
    let full = world
        .mentor(
            AllyProfile {
                max_mentees: 1,
                ..ideal.clone()
            },
            "UTC",
            slots.clone(),
        )
        .await;
    world.mentee(&full).await;
    world
        .mentor(
            AllyProfile {
                available: false,
                ..ideal.clone()
            },
            "UTC",
            slots.clone(),
        )
        .await;
    let asked = world.mentor(ideal.clone(), "UTC", slots.clone()).await;
    world.request_mentorship(&entrepreneur, &asked).await;

    let suggestions = eco.suggest_allies(&entrepreneur.ctx).await.expect("suggestions");
    let got: Vec<(UserId, f64)> = suggestions.iter().map(|s| (s.ally.id, s.score)).collect();
    assert_eq!(got, vec![(fintech_only.id(), 0.4)]);
    assert_eq!(suggestions[0].reasons.len(), 2, "{:?}", suggestions[0].reasons);

    // Phase 2: six allies above the threshold; the weakest is cut by the limit.
    let best = world.mentor(ideal.clone(), "UTC", slots.clone()).await; // 1.0
    let second = world
        .mentor(expert(Some("fintech"), &["sales"], &idea), "UTC", slots.clone())
        .await; // 0.3 + 0.2 + 0.2 + 0.1
    let third = world
        .mentor(
            expert(Some("fintech"), &["fundraising", "sales", "legal"], &[]),
            "UTC",
            slots.clone(),
        )
        .await; // 0.3 + 0.267 + 0.1
    let fourth = world
        .mentor(expert(Some("fintech"), &[], &idea), "UTC", slots.clone())
        .await; // 0.6
    let fifth = world
        .mentor(expert(None, &["Fundraising", "Sales"], &[]), "UTC", slots.clone())
        .await; // 0.4 + 0.1
    let suggestions = eco.suggest_allies(&entrepreneur.ctx).await.expect("suggestions");
    let got: Vec<(UserId, f64, usize)> = suggestions
        .iter()
        .map(|s| (s.ally.id, s.score, s.reasons.len()))
        .collect();
    assert_eq!(
        got,
        vec![
            (best.id(), 1.0, 4),
            (second.id(), 0.8, 4),
            (third.id(), 0.667, 3),
            (fourth.id(), 0.6, 3),
            (fifth.id(), 0.5, 2),
        ]
    );
    for s in &suggestions {
        assert!(s.ally.has_capacity && s.score > 0.3, "{s:?}");
        assert!(s.reasons.iter().all(|r| !r.trim().is_empty()), "{s:?}");
    }
    assert_forbidden(&expect_err(eco.suggest_allies(&best.ctx).await));
}

/// `free_slots` offers every 30-minute start inside the weekly slots from now + 24 h on, keeps
/// 15 minutes clear around the ally's sessions and meetings (exactly 15 is fine), clips to
/// `[from, to)`, frees time again when a booking is cancelled, and validates its window.
pub async fn free_slots_keep_busy_time_and_the_buffer_free<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let profile = AllyProfile::default();
    // Tuesday 08:00–10:00 and Wednesday 09:00–13:00, UTC.
    let ally = world
        .mentor(profile, "UTC", vec![slot(1, (8, 0), (10, 0)), slot(2, (9, 0), (13, 0))])
        .await;
    let mentee = world.mentee(&ally).await;
    let session = world.book(&mentee.person, mentee.id(), day_at(2, 10, 30), 30).await;
    let organizer = world.person(Role::Client, "client").await;
    let meeting = world
        .meeting(&organizer, &[&ally], day_at(2, 12, 45), day_at(2, 13, 30))
        .await;
    let free = |from, to| eco.free_slots(&mentee.person.ctx, ally.id(), from, to, Some(60));

    // Tuesday 08:00 and 08:30 are less than 24 h away; Wednesday 09:30–11:00 touch the session
    // or its buffer, 12:00 the meeting's; 11:30 ends exactly 15 minutes before the meeting.
    let week = free(world.now(), day_at(3, 0, 0)).await.expect("free slots");
    assert_eq!(week, vec![day_at(1, 9, 0), day_at(2, 9, 0), day_at(2, 11, 30)]);
    assert_eq!(
        free(day_at(2, 9, 30), day_at(2, 12, 30)).await.expect("free slots"),
        vec![day_at(2, 11, 30)]
    );
    assert!(
        free(day_at(2, 9, 30), day_at(2, 12, 29))
            .await
            .expect("free slots")
            .is_empty()
    );

    world
        .eco
        .session_command(
            &mentee.person.ctx,
            session.id,
            crate::service::SessionAction::Cancel { reason: None },
            None,
        )
        .await
        .expect("cancel session");
    let wednesday = free(day_at(2, 0, 0), day_at(3, 0, 0)).await.expect("free slots");
    let half_hours: Vec<_> = (0..6).map(|i| day_at(2, 9, 0) + Duration::minutes(30 * i)).collect();
    assert_eq!(wednesday, half_hours);
    world
        .eco
        .meeting_command(&organizer.ctx, meeting.id, crate::service::MeetingAction::Cancel, None)
        .await
        .expect("cancel meeting");
    let wednesday = free(day_at(2, 0, 0), day_at(3, 0, 0)).await.expect("free slots");
    assert_eq!(wednesday.len(), 7);
    assert_eq!(wednesday.last(), Some(&day_at(2, 12, 0)));

    let ctx = &mentee.person.ctx;
    let now = world.now();
    let error = expect_err(eco.free_slots(ctx, ally.id(), now, now, None).await);
    assert_fields(&error, &["from"]);
    let error = expect_err(
        eco.free_slots(ctx, ally.id(), now, now + Duration::days(32), None)
            .await,
    );
    assert_fields(&error, &["to"]);
    let error = expect_err(
        eco.free_slots(ctx, ally.id(), now, now + Duration::days(1), Some(10))
            .await,
    );
    assert_fields(&error, &["duration_minutes"]);
    let error = expect_err(
        eco.free_slots(ctx, ally.id(), now + Duration::days(1), now, Some(500))
            .await,
    );
    assert_fields(&error, &["from", "duration_minutes"]);
    let nobody = world.entrepreneur().await;
    let error = expect_err(
        eco.free_slots(ctx, nobody.id(), now, now + Duration::days(1), None)
            .await,
    );
    assert_not_found(&error, "user");
}
