//! Analytics (docs/domain.md §9): every store computes the same figures on the same fixture — a
//! program with an application in every status, reviews with known scores, decisions with
//! known waits, enrollments, milestones on time, late, overdue and upcoming, a blind program,
//! and mentoring with sessions held, cancelled and missed — and answers the same refusals.

use chrono::{Datelike, Duration};

use crate::error::Error;
use crate::model::analytics::*;
use crate::model::*;
use crate::ports::Store;
use crate::service::{Decision, MilestoneAction, SessionAction};
use crate::testing::fixtures::*;
use crate::workflow::mentorship::MentorshipCommand;
use crate::{Context, Result};

fn counts<S: Copy + PartialEq>(all: &[S], counted: &[(S, u64)]) -> Vec<StatusCount<S>> {
    every_status(all, counted)
}

fn refused<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
    match result {
        Err(Error::Forbidden(_)) => "forbidden",
        Err(Error::NotFound { .. }) => "not_found",
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Program, organization, mentoring and one's own figures on a fixture covering every
/// application status, session outcome and milestone timing, with a blind program; the same
/// figures on every store (the assertions are exact), and the §9 refusals.
pub async fn analytics_figures_are_the_same_on_every_store<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world
        .cohort(ProgramSpec {
            min_reviews: 2,
            max_participants: 2,
            ..ProgramSpec::default()
        })
        .await;
    let (r0, r1) = (&cohort.reviewers[0], &cohort.reviewers[1]);

    // Decided applications, each waiting a known number of hours between submission and
    // decision: 1 h, 2 h, 3 h, 4 h.
    let mut decided = Vec::new();
    for (hours, score, decision) in [
        (1, 90, Decision::Accept),
        (2, 75, Decision::Accept),
        (3, 60, Decision::Waitlist),
        (4, 40, Decision::Reject),
    ] {
        let mut applicant = world.ready(&cohort, score).await;
        world.advance(Duration::hours(hours));
        world.decide(&cohort, &mut applicant, decision).await;
        decided.push(applicant);
    }
    // Draft, submitted, under review (one reviewer owes a score), withdrawn.
    let drafter = world.entrepreneur().await;
    let drafted = world.project(&drafter).await;
    eco.create_application(&drafter.ctx, cohort.program.id, drafted.id, Default::default())
        .await
        .expect("draft");
    world.submit(&cohort, &world.entrepreneur().await).await;
    let waiting = world.submit(&cohort, &world.entrepreneur().await).await;
    eco.assign_reviewer(&cohort.owner.ctx, waiting.id(), r0.id())
        .await
        .expect("assign");
    let leaving = world.submit(&cohort, &world.entrepreneur().await).await;
    eco.withdraw_application(&leaving.person.ctx, leaving.id(), None)
        .await
        .expect("withdraw");

    // Milestones of the enrolled projects (and one of a project not enrolled).
    let today = world.now().date_naive();
    let milestone = |owner: &Person, project: ProjectId, days: i64| {
        let owner = owner.clone();
        let world = &world;
        async move { world.milestone(&owner, project, "Pilot", days).await }
    };
    let (first, second) = (&decided[0], &decided[1]);
    let on_time = milestone(&first.person, first.project.id, 3).await;
    eco.milestone_command(&first.person.ctx, on_time.id, MilestoneAction::Start, None)
        .await
        .expect("start");
    eco.milestone_command(&first.person.ctx, on_time.id, MilestoneAction::Complete, None)
        .await
        .expect("complete on time");
    milestone(&first.person, first.project.id, 1).await; // overdue by the end
    let late = milestone(&second.person, second.project.id, 1).await;
    milestone(&second.person, second.project.id, 30).await; // upcoming
    let dropped = milestone(&second.person, second.project.id, 5).await;
    eco.milestone_command(&second.person.ctx, dropped.id, MilestoneAction::Cancel, None)
        .await
        .expect("cancel");
    milestone(&decided[2].person, decided[2].project.id, 1).await; // waitlisted: not enrolled

    // A blind program of another organization with one accepted applicant.
    let blind = world.cohort(ProgramSpec::blind()).await;
    let hidden = world.accepted(&blind, 80).await;

    // Mentoring: an ally (capacity 3) mentoring both accepted founders and an outsider; the
    // first founder's sessions end held (rated 5 and 4), cancelled and missed.
    let ally = world.ally_with_capacity(3).await;
    let mut mentorships = Vec::new();
    for person in [&first.person, &second.person] {
        let requested = world.request_mentorship(person, &ally).await;
        mentorships.push(
            world
                .mentorship_step(&ally, requested.id, MentorshipCommand::Accept)
                .await,
        );
    }
    let outsider = world.mentee(&ally).await.person;
    let held = world.book(&first.person, mentorships[0].id, day_at(2, 10, 0), 60).await;
    let called_off = world.book(&first.person, mentorships[0].id, day_at(2, 12, 0), 60).await;
    let missed = world.book(&first.person, mentorships[0].id, day_at(3, 10, 0), 60).await;
    eco.session_command(
        &first.person.ctx,
        called_off.id,
        SessionAction::Cancel { reason: None },
        None,
    )
    .await
    .expect("cancel");
    eco.session_command(&ally.ctx, held.id, SessionAction::Confirm, None)
        .await
        .expect("confirm");
    world.advance(day_at(2, 10, 0) - world.now());
    eco.milestone_command(&second.person.ctx, late.id, MilestoneAction::Start, None)
        .await
        .expect("start");
    eco.milestone_command(&second.person.ctx, late.id, MilestoneAction::Complete, None)
        .await
        .expect("complete late");
    eco.session_command(&ally.ctx, held.id, SessionAction::Start, None)
        .await
        .expect("start");
    eco.session_command(&ally.ctx, held.id, SessionAction::Complete { summary: None }, None)
        .await
        .expect("complete");
    eco.session_feedback(&first.person.ctx, held.id, 5, None)
        .await
        .expect("feedback");
    eco.session_feedback(&ally.ctx, held.id, 4, None)
        .await
        .expect("feedback");
    world.advance(day_at(4, 11, 0) - world.now());
    eco.mark_no_show(&Context::system(), missed.id).await.expect("no-show");

    // The program's figures.
    let figures = eco
        .program_analytics(&cohort.owner.ctx, cohort.program.id, DateRange::all())
        .await
        .expect("program analytics");
    use ApplicationStatus as A;
    assert_eq!(
        figures.applications,
        ApplicationFigures {
            funnel: counts(
                A::ALL,
                &[
                    (A::Draft, 1),
                    (A::Submitted, 1),
                    (A::UnderReview, 1),
                    (A::Accepted, 2),
                    (A::Rejected, 1),
                    (A::Waitlisted, 1),
                    (A::Withdrawn, 1),
                ]
            ),
            decided: 4,
            // percentile_cont over 1 h, 2 h, 3 h, 4 h: 2.5 h, and 3 h + 0.7 × 1 h.
            decision_median_seconds: Some(9_000),
            decision_p90_seconds: Some(13_320),
        }
    );
    let mut loads = vec![
        ReviewerLoad {
            reviewer_id: r0.id(),
            done: 4,
            owed: 1,
        },
        ReviewerLoad {
            reviewer_id: r1.id(),
            done: 4,
            owed: 0,
        },
    ];
    loads.sort_by_key(|l| l.reviewer_id);
    let mut buckets = vec![0; SCORE_BUCKETS];
    for (bucket, n) in [(9, 2), (7, 2), (6, 2), (4, 2)] {
        buckets[bucket] = n;
    }
    let scores = ScoreFigures {
        buckets,
        count: 8,
        sum: 2 * (90 + 75 + 60 + 40),
        sum_squares: 2 * (8_100 + 5_625 + 3_600 + 1_600),
    };
    assert_eq!(
        figures.reviews,
        ReviewFigures {
            reviewers: loads,
            scores
        }
    );
    assert_eq!(figures.reviews.scores.mean(), Some(66.25));
    let spread = figures.reviews.scores.stddev().expect("spread");
    // Population variance: E[x²] − mean² = 37 850 / 8 − 66.25².
    assert!(
        (spread - 342.1875f64.sqrt()).abs() < 1e-9,
        "population stddev, got {spread}"
    );
    assert_eq!(
        figures.capacity,
        Capacity {
            accepted: 2,
            max_participants: 2
        }
    );
    let march = today.with_day0(0).expect("first of the month");
    assert_eq!(
        figures.enrollments,
        EnrollmentFigures {
            by_status: counts(EnrollmentStatus::ALL, &[(EnrollmentStatus::Enrolled, 2)]),
            by_month: vec![MonthCount { month: march, count: 2 }],
        }
    );
    assert_eq!(
        figures.milestones,
        MilestoneFigures {
            on_time: 1,
            late: 1,
            overdue: 1,
            upcoming: 1
        }
    );
    assert!(!figures.blind_review);

    // A range after everything: nothing created or decided in it; the owed review remains.
    let later = DateRange::new(Some(world.now()), None).expect("range");
    let quiet = eco
        .program_analytics(&world.admin.ctx, cohort.program.id, later)
        .await
        .expect("admins read every program");
    assert!(quiet.applications.funnel.iter().all(|s| s.count == 0));
    assert_eq!(
        (quiet.applications.decided, quiet.applications.decision_median_seconds),
        (0, None)
    );
    assert_eq!(
        quiet.reviews.reviewers,
        [ReviewerLoad {
            reviewer_id: r0.id(),
            done: 0,
            owed: 1
        }]
    );
    assert_eq!(quiet.reviews.scores.count, 0);
    assert!(quiet.enrollments.by_month.is_empty());
    assert_eq!(
        quiet.milestones,
        MilestoneFigures {
            upcoming: 1,
            ..MilestoneFigures::default()
        }
    );

    // The blind program: figures, and no applicant identity anywhere in them.
    let blind_figures = eco
        .program_analytics(&blind.owner.ctx, blind.program.id, DateRange::all())
        .await
        .expect("blind analytics");
    assert!(blind_figures.blind_review);
    assert_eq!(blind_figures.applications.funnel[3].count, 1, "one accepted");
    assert_eq!(blind_figures.reviews.scores.sum, 80);
    let shown = format!("{blind_figures:?}");
    for identity in [hidden.person.id().as_uuid(), hidden.project.id.as_uuid()] {
        assert!(
            !shown.contains(&identity.to_string()),
            "blind analytics name no applicant"
        );
    }

    // The organization's figures.
    let org = eco
        .organization_analytics(&cohort.owner.ctx, cohort.org.id, DateRange::all())
        .await
        .expect("organization analytics");
    assert_eq!(
        org.programs,
        counts(ProgramStatus::ALL, &[(ProgramStatus::Published, 1)])
    );
    assert_eq!(org.applications, figures.applications);
    assert_eq!(org.enrollments, figures.enrollments);

    // Mentoring: the platform's, the organization's (its enrolled founders only), one's own.
    let sessions = counts(
        SessionStatus::ALL,
        &[
            (SessionStatus::Completed, 1),
            (SessionStatus::Cancelled, 1),
            (SessionStatus::NoShow, 1),
        ],
    );
    let platform = eco
        .mentoring_analytics(&world.admin.ctx, None, DateRange::all())
        .await
        .expect("platform mentoring");
    assert_eq!(
        platform.figures,
        MentoringFigures {
            mentors: vec![MentorLoad {
                ally_id: ally.id(),
                active_mentees: 3,
                capacity: 3
            }],
            sessions: sessions.clone(),
            feedback_given: 2,
            feedback_expected: 2,
            rating_sum: 9,
        }
    );
    assert_eq!(platform.figures.average_rating(), Some(4.5));
    assert_eq!(platform.figures.feedback_completion(), Some(1.0));
    let of_org = eco
        .mentoring_analytics(&cohort.owner.ctx, Some(cohort.org.id), DateRange::all())
        .await
        .expect("organization mentoring");
    assert_eq!(
        of_org.figures.mentors[0].active_mentees, 2,
        "the outsider is not enrolled"
    );
    assert_eq!(of_org.figures.sessions, sessions);
    let mine = eco.my_analytics(&ally.ctx, DateRange::all()).await.expect("mine");
    assert_eq!(mine.mentoring, platform.figures);
    let theirs = eco.my_analytics(&outsider.ctx, DateRange::all()).await.expect("theirs");
    assert_eq!(theirs.mentoring.mentors[0].active_mentees, 1);
    assert!(theirs.mentoring.sessions.iter().all(|s| s.count == 0));
    let founder = eco
        .my_analytics(&first.person.ctx, DateRange::all())
        .await
        .expect("founder");
    assert_eq!(founder.applications.funnel[3].count, 1, "their accepted application");
    assert_eq!(founder.applications.decision_median_seconds, Some(3_600));
    assert_eq!(
        founder.milestones,
        MilestoneFigures {
            on_time: 1,
            overdue: 1,
            ..MilestoneFigures::default()
        }
    );
    let reviewer = eco.my_analytics(&r0.ctx, DateRange::all()).await.expect("reviewer");
    assert_eq!(
        reviewer.reviews.reviewers,
        [ReviewerLoad {
            reviewer_id: r0.id(),
            done: 4,
            owed: 1
        }]
    );

    // Refusals: a reviewer, an outsider and another organization's staff.
    let program = cohort.program.id;
    for (who, ctx, expected) in [
        ("reviewer", &r0.ctx, "forbidden"),
        ("outsider", &outsider.ctx, "forbidden"),
        ("other organization's staff", &blind.owner.ctx, "forbidden"),
    ] {
        let got = refused(eco.program_analytics(ctx, program, DateRange::all()).await);
        assert_eq!(got, expected, "{who} on the program");
    }
    let draft = eco
        .create_program(
            &cohort.owner.ctx,
            world.program_input(&cohort.org, "Quiet cohort", ProgramSpec::default()),
        )
        .await
        .expect("draft program");
    for (who, ctx) in [
        ("outsider", &outsider.ctx),
        ("other organization's staff", &blind.owner.ctx),
    ] {
        let got = refused(eco.program_analytics(ctx, draft.id, DateRange::all()).await);
        assert_eq!(got, "not_found", "{who} on a draft program");
    }
    assert_eq!(
        refused(eco.program_analytics(&r0.ctx, draft.id, DateRange::all()).await),
        "forbidden",
        "a member sees the draft but reads no analytics"
    );
    for (who, ctx) in [
        ("reviewer", &r0.ctx),
        ("outsider", &outsider.ctx),
        ("other organization's staff", &blind.owner.ctx),
    ] {
        let got = refused(eco.organization_analytics(ctx, cohort.org.id, DateRange::all()).await);
        assert_eq!(got, "forbidden", "{who} on the organization");
        let got = refused(
            eco.mentoring_analytics(ctx, Some(cohort.org.id), DateRange::all())
                .await,
        );
        assert_eq!(got, "forbidden", "{who} on the organization's mentoring");
        let got = refused(eco.mentoring_analytics(ctx, None, DateRange::all()).await);
        assert_eq!(got, "forbidden", "{who} on the platform's mentoring");
    }
    assert_eq!(
        refused(eco.my_analytics(&Context::anonymous(), DateRange::all()).await),
        "forbidden"
    );
    assert!(
        DateRange::new(Some(world.now()), Some(world.now())).is_err(),
        "an empty range is refused"
    );
}
