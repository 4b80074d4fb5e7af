//! Time-driven jobs (docs/domain.md §4.9): each job, run twice at the same `now`, does its work once.
//! The first run's report and the rows it writes (notifications, outbox messages, audit events,
//! job marks) are pinned exactly; the second run reports `processed == 0 && notified == 0` and
//! writes nothing at all.

use chrono::Duration;

use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{JobReport, Register, SessionAction};
use crate::testing::fixtures::*;
use crate::workflow::mentorship::MentorshipCommand;

/// The rows the jobs may write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Totals {
    notifications: u64,
    outbox: u64,
    audit: u64,
    marks: u64,
}

async fn totals<S: Store>(world: &World<S>) -> Totals {
    Totals {
        notifications: world.count(NotificationFilter::default()).await,
        outbox: world.count(OutboxFilter::default()).await,
        audit: world.count(AuditFilter::default()).await,
        // The marks standing for things done; the jobs' watermarks (the review job's last
        // round's cut-off and now, the deadline job's last complete round per program, kept as
        // marks too) are bookkeeping, not notices.
        marks: world
            .rows(JobMarkFilter::default())
            .await
            .iter()
            .filter(|m| !m.key.contains(":watermark:"))
            .count() as u64,
    }
}

#[derive(Debug, Clone, Copy)]
enum Job {
    SessionReminders,
    NoShows,
    FeedbackReminders,
    MilestoneOverdue,
    ReviewOverdue,
    ApplicationDeadline,
    UnverifiedAccounts,
    ArchiveReadNotifications,
}

async fn run<S: Store>(world: &World<S>, job: Job) -> JobReport {
    let eco = &world.eco;
    let report = match job {
        Job::SessionReminders => eco.send_session_reminders().await,
        Job::NoShows => eco.sweep_no_shows().await,
        Job::FeedbackReminders => eco.send_feedback_reminders().await,
        Job::MilestoneOverdue => eco.send_milestone_overdue_notices().await,
        Job::ReviewOverdue => eco.send_review_overdue_notices().await,
        Job::ApplicationDeadline => eco.send_application_deadline_notices().await,
        Job::UnverifiedAccounts => eco.deactivate_unverified_accounts().await,
        Job::ArchiveReadNotifications => eco.archive_read_notifications().await,
    };
    report.unwrap_or_else(|e| panic!("{job:?} failed: {e:?}"))
}

/// What the first run of a job must do: its report, and how many rows of each kind it adds.
#[derive(Debug, Clone, Copy)]
struct Once {
    processed: u32,
    notified: u32,
    added: Totals,
}

impl Once {
    /// A run that finds nothing to do.
    fn nothing() -> Self {
        Self {
            processed: 0,
            notified: 0,
            added: Totals::default(),
        }
    }

    /// A run that finds `processed` rows, marks each, and tells `notified` people once each (in
    /// the app and by email).
    fn told(processed: u32, notified: u32) -> Self {
        Self {
            processed,
            notified,
            added: notices(notified.into(), processed.into()),
        }
    }
}

/// Runs `job` at the clock's now and checks it did exactly `once`; runs it again at the same now
/// and checks it did nothing. Returns the first report.
async fn runs_once<S: Store>(world: &World<S>, job: Job, once: Once) -> JobReport {
    let now = world.now();
    let before = totals(world).await;
    let first = run(world, job).await;
    assert_eq!(
        (first.processed, first.notified),
        (once.processed, once.notified),
        "{job:?}: {first:?}"
    );
    let after = totals(world).await;
    let added = Totals {
        notifications: after.notifications - before.notifications,
        outbox: after.outbox - before.outbox,
        audit: after.audit - before.audit,
        marks: after.marks - before.marks,
    };
    assert_eq!(added, once.added, "{job:?}: rows written by the first run");

    let second = run(world, job).await;
    assert_eq!(world.now(), now);
    assert!(
        second.processed == 0 && second.notified == 0,
        "{job:?} did something twice: {second:?}"
    );
    assert_eq!(totals(world).await, after, "{job:?}: rows written by the second run");
    first
}

fn notices(n: u64, marks: u64) -> Totals {
    Totals {
        notifications: n,
        outbox: n,
        audit: 0,
        marks,
    }
}

/// Session reminders go out 24 h and 1 h before the start, to both parties, in-app and by
/// email; each is sent once however often the job runs.
pub async fn session_reminders_are_sent_once_per_lead_time<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let session = world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;
    let nothing_yet = Once::nothing();
    world.clock.set(day_at(1, 9, 59));
    runs_once(&world, Job::SessionReminders, nothing_yet).await;

    let both = Once::told(1, 2);
    world.clock.set(day_at(1, 10, 0));
    runs_once(&world, Job::SessionReminders, both).await;
    world.clock.set(day_at(2, 8, 59));
    runs_once(&world, Job::SessionReminders, nothing_yet).await;
    world.clock.set(day_at(2, 9, 0));
    runs_once(&world, Job::SessionReminders, both).await;

    for party in [ally.id(), mentee.person.id()] {
        let reminders = world.notifications(party, "session_reminder").await;
        let mut leads: Vec<_> = reminders.iter().map(|n| n.data["minutes_before"].clone()).collect();
        leads.sort_by_key(|v| v.as_i64());
        assert_eq!(leads, vec![serde_json::json!(60), serde_json::json!(1440)]);
        assert!(
            reminders
                .iter()
                .all(|n| n.data["session_id"] == serde_json::json!(session.id))
        );
        assert_eq!(world.outbox(party, "session_reminder").await.len(), 2);
    }
}

/// The no-show sweep marks a session 24 h after its start, notifies both parties and audits it,
/// once.
pub async fn no_show_sweep_runs_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let session = world.book(&mentee.person, mentee.id(), day_at(1, 10, 0), 60).await;
    world.clock.set(day_at(2, 10, 0));
    let report = runs_once(
        &world,
        Job::NoShows,
        Once {
            processed: 1,
            notified: 2,
            added: Totals {
                notifications: 2,
                outbox: 2,
                audit: 1,
                marks: 0,
            },
        },
    )
    .await;
    assert_eq!(report.examined, 1);
    let stored: Session = world.row(session.id).await.expect("session");
    assert_eq!(stored.status, SessionStatus::NoShow);
    world.audited("session.no_show", session.id).await;
}

/// A completed session's missing feedback is asked for 24 h after completion, only from the side
/// that has not given it, once.
pub async fn feedback_reminders_are_sent_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let session = world.book(&mentee.person, mentee.id(), day_at(1, 10, 0), 60).await;
    for (by, action) in [(&ally, SessionAction::Confirm), (&ally, SessionAction::Start)] {
        world.clock.set(day_at(1, 10, 0));
        eco.session_command(&by.ctx, session.id, action, None)
            .await
            .expect("step");
    }
    world.clock.set(day_at(1, 10, 50));
    eco.session_command(&ally.ctx, session.id, SessionAction::Complete { summary: None }, None)
        .await
        .expect("complete");
    eco.session_feedback(&ally.ctx, session.id, 5, None)
        .await
        .expect("ally feedback");

    world.clock.set(day_at(2, 10, 49));
    runs_once(&world, Job::FeedbackReminders, Once::nothing()).await;
    world.clock.set(day_at(2, 10, 50));
    runs_once(&world, Job::FeedbackReminders, Once::told(1, 1)).await;
    world
        .assert_notified(mentee.person.id(), "session_feedback_reminder")
        .await;
    world.assert_not_notified(ally.id(), "session_feedback_reminder").await;
}

/// The owner of an overdue milestone is told once.
pub async fn milestone_overdue_notices_are_sent_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let milestone = world.milestone(&owner, project.id, "First paying customer", 2).await;
    world.advance(Duration::days(2));
    runs_once(&world, Job::MilestoneOverdue, Once::nothing()).await;
    world.advance(Duration::days(1));
    runs_once(&world, Job::MilestoneOverdue, Once::told(1, 1)).await;
    let notice = world.assert_notified(owner.id(), "milestone_overdue").await;
    assert_eq!(notice.data["milestone_id"], serde_json::json!(milestone.id));
}

/// An application 14 days in review is reported once to the program's staff and to each
/// reviewer who has not reviewed yet.
pub async fn review_overdue_notices_are_sent_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let entrepreneur = world.entrepreneur().await;
    let applicant = world.submit(&cohort, &entrepreneur).await;
    let reviewer = &cohort.reviewers[0];
    world.assign(&cohort, applicant.id(), reviewer.id()).await;
    world.advance(Duration::days(14) - Duration::minutes(1));
    runs_once(&world, Job::ReviewOverdue, Once::nothing()).await;
    world.advance(Duration::minutes(1));
    runs_once(&world, Job::ReviewOverdue, Once::told(2, 2)).await;
    for told in [cohort.owner.id(), reviewer.id()] {
        let notice = world.assert_notified(told, "review_overdue").await;
        assert_eq!(notice.data["application_id"], serde_json::json!(applicant.id()));
    }
    world.assert_not_notified(entrepreneur.id(), "review_overdue").await;
}

/// "14 days in under_review" counts from when the review started (the first reviewer was
/// assigned), not from the submission: an application submitted long ago but only just put
/// under review is not overdue yet.
pub async fn review_overdue_counts_from_the_start_of_review<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let entrepreneur = world.entrepreneur().await;
    let applicant = world.submit(&cohort, &entrepreneur).await;
    world.advance(Duration::days(10));
    world.assign(&cohort, applicant.id(), cohort.reviewers[0].id()).await;
    let quiet = Once::nothing();
    world.advance(Duration::days(4));
    runs_once(&world, Job::ReviewOverdue, quiet).await;
    world.advance(Duration::days(10) - Duration::minutes(1));
    runs_once(&world, Job::ReviewOverdue, quiet).await;
    world.advance(Duration::minutes(1));
    runs_once(&world, Job::ReviewOverdue, Once::told(2, 2)).await;
}

/// Applicants with a draft are warned once, 48 h before the deadline; applicants who submitted
/// are not.
pub async fn application_deadline_notices_are_sent_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let drafter = world.entrepreneur().await;
    let draft = world.draft(&cohort, &drafter).await.application;
    let submitter = world.entrepreneur().await;
    world.submit(&cohort, &submitter).await;
    let deadline = cohort.program.application_deadline;

    world.clock.set(deadline - Duration::hours(48) - Duration::minutes(1));
    runs_once(&world, Job::ApplicationDeadline, Once::nothing()).await;
    world.clock.set(deadline - Duration::hours(47));
    runs_once(&world, Job::ApplicationDeadline, Once::told(1, 1)).await;
    let notice = world.assert_notified(drafter.id(), "application_deadline").await;
    assert_eq!(notice.data["application_id"], serde_json::json!(draft.id));
    world.assert_not_notified(submitter.id(), "application_deadline").await;

    // Later rounds read only the drafts created since the last complete round: the warned
    // draft is not read again, a new one is read and warned about once.
    world.clock.set(deadline - Duration::hours(40));
    let later = run(&world, Job::ApplicationDeadline).await;
    assert_eq!(later.examined, 0, "a later round re-read the warned draft: {later:?}");
    let latecomer = world.entrepreneur().await;
    world.draft(&cohort, &latecomer).await;
    world.advance(Duration::minutes(1));
    let late = runs_once(&world, Job::ApplicationDeadline, Once::told(1, 1)).await;
    assert_eq!(late.examined, 1, "only the new draft: {late:?}");
    world.assert_notified(latecomer.id(), "application_deadline").await;
}

/// A job round stops starting pages once its time budget (`limits.job_round_budget`) is spent,
/// and the next round carries on with what is left. With no budget at all a round does its
/// first page only ([`JOB_BATCH_SIZE`](crate::service::JOB_BATCH_SIZE) candidates, the
/// progress every round makes) and the clock, frozen here, does the rest: the second round
/// finishes the backlog, the third finds nothing.
pub async fn a_job_round_stops_at_its_budget_and_the_next_continues<S: Store + Clone>(store: S) {
    let limits = crate::Limits {
        job_round_budget: Duration::zero(),
        ..Default::default()
    };
    let world = World::with_limits(
        store,
        std::sync::Arc::new(crate::ports::RecordingNotifier::new()),
        limits,
    )
    .await;
    let backlog = crate::service::JOB_BATCH_SIZE + 3;
    for n in 0..backlog {
        world
            .eco
            .register(
                &crate::Context::anonymous(),
                Register {
                    email: format!("unverified{n}@example.test"),
                    password: password(),
                    first_name: "Un".to_owned(),
                    last_name: "Verified".to_owned(),
                    role: Role::Client,
                },
            )
            .await
            .expect("register");
    }
    world.advance(Duration::days(31));
    let pending = UserFilter {
        status: Some(UserStatus::PendingVerification),
        ..Default::default()
    };
    let first = run(&world, Job::UnverifiedAccounts).await;
    assert_eq!(
        (first.examined, first.processed),
        (crate::service::JOB_BATCH_SIZE, crate::service::JOB_BATCH_SIZE),
        "the first round stops after its first page: {first:?}"
    );
    assert_eq!(
        world.count(pending.clone()).await,
        3,
        "the rest waits for the next round"
    );
    let second = run(&world, Job::UnverifiedAccounts).await;
    assert_eq!((second.examined, second.processed), (3, 3), "{second:?}");
    assert_eq!(world.count(pending.clone()).await, 0);
    let third = run(&world, Job::UnverifiedAccounts).await;
    assert_eq!((third.examined, third.processed), (0, 0), "{third:?}");
}

/// Accounts left unverified for 30 days are deactivated once (audited, nobody notified); active
/// accounts are untouched.
pub async fn unverified_accounts_are_deactivated_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let (pending, _token) = world
        .eco
        .register(
            &crate::Context::anonymous(),
            Register {
                email: "late.comer@example.test".to_owned(),
                password: password(),
                first_name: "Late".to_owned(),
                last_name: "Comer".to_owned(),
                role: Role::Client,
            },
        )
        .await
        .expect("register");
    assert_eq!(pending.status, UserStatus::PendingVerification);
    let verified = world.entrepreneur().await;
    world.advance(Duration::days(30));
    runs_once(&world, Job::UnverifiedAccounts, Once::nothing()).await;
    world.advance(Duration::minutes(1));
    runs_once(
        &world,
        Job::UnverifiedAccounts,
        Once {
            processed: 1,
            notified: 0,
            added: Totals {
                audit: 1,
                ..Totals::default()
            },
        },
    )
    .await;
    let stored: User = world.row(pending.id).await.expect("user");
    assert_eq!(stored.status, UserStatus::Inactive);
    assert_eq!(stored.security_stamp, pending.security_stamp + 1);
    let untouched: User = world.row(verified.id()).await.expect("user");
    assert_eq!(untouched.status, UserStatus::Active);
    world.audited("user.deactivated_unverified", pending.id).await;
}

/// Notifications read more than 90 days ago are archived once; unread ones and recently read
/// ones stay as they are.
pub async fn read_notifications_are_archived_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let first = world.entrepreneur().await;
    let second = world.entrepreneur().await;
    world.request_mentorship(&first, &ally).await;
    let unread = world.request_mentorship(&second, &ally).await;
    let requests = world.notifications(ally.id(), "mentorship_requested").await;
    let old = requests
        .iter()
        .find(|n| n.data["mentorship_id"] != serde_json::json!(unread.id))
        .expect("the first request's notice")
        .clone();
    eco.read_notification(&ally.ctx, old.id).await.expect("read");
    world.advance(Duration::days(30));
    let decided = world
        .mentorship_step(&ally, unread.id, MentorshipCommand::Decline)
        .await;
    let recent = world.notifications(second.id(), "mentorship_declined").await;
    eco.read_notification(&second.ctx, recent[0].id).await.expect("read");
    assert_eq!(decided.status, MentorshipStatus::Declined);

    world.advance(Duration::days(60));
    runs_once(
        &world,
        Job::ArchiveReadNotifications,
        Once {
            processed: 1,
            notified: 0,
            added: Totals::default(),
        },
    )
    .await;
    let status = |n: &Notification| n.status;
    let archived: Notification = world.row(old.id).await.expect("notification");
    assert_eq!(status(&archived), NotificationStatus::Archived);
    let still_read: Notification = world.row(recent[0].id).await.expect("notification");
    assert_eq!(status(&still_read), NotificationStatus::Read);
    let untouched = requests
        .iter()
        .find(|n| n.id != old.id)
        .expect("the second request's notice");
    let untouched: Notification = world.row(untouched.id).await.expect("notification");
    assert_eq!(status(&untouched), NotificationStatus::Unread);
}

/// `run_due_jobs` with work for several jobs at once: the second run at the same now reports
/// nothing done by any job and writes no row.
pub async fn run_due_jobs_twice_at_the_same_now_sends_nothing_twice<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;
    world.book(&mentee.person, mentee.id(), day_at(1, 10, 0), 60).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    world.milestone(&owner, project.id, "Pilot signed", 1).await;
    world.clock.set(day_at(2, 10, 0));

    let before = totals(&world).await;
    let first = world.eco.run_due_jobs().await;
    assert!(first.is_ok(), "{first:?}");
    assert_eq!((first.no_shows.processed, first.no_shows.notified), (1, 2));
    assert_eq!(first.milestone_overdue.notified, 1);
    // The Wednesday session starts now: not in any reminder window any more.
    assert_eq!(first.session_reminders.processed, 0);
    let after = totals(&world).await;
    assert_eq!(after.notifications - before.notifications, 3);

    let second = world.eco.run_due_jobs().await;
    assert!(second.is_ok(), "{second:?}");
    for (job, report) in [
        ("session_reminders", second.session_reminders),
        ("no_shows", second.no_shows),
        ("feedback_reminders", second.feedback_reminders),
        ("milestone_overdue", second.milestone_overdue),
        ("review_overdue", second.review_overdue),
        ("application_deadline", second.application_deadline),
        ("unverified_accounts", second.unverified_accounts),
        ("archived_notifications", second.archived_notifications),
    ] {
        assert!(report.processed == 0 && report.notified == 0, "{job}: {report:?}");
    }
    assert_eq!(totals(&world).await, after);
}

/// One [`Runner::tick`](crate::runner::Runner::tick) runs the due jobs and delivers the outbox:
/// an account left unverified past its window is deactivated and the emails waiting in the
/// outbox leave, both reported; a second tick at the same now does nothing. The runner's batch
/// bounds each channel's pass.
pub async fn a_tick_runs_the_due_jobs_and_delivers_the_outbox<S: Store + Clone>(store: S) {
    use crate::runner::Runner;
    let world = World::new(store).await;
    let (pending, _token) = world
        .eco
        .register(
            &crate::Context::anonymous(),
            Register::new("ticked@example.test", password(), "Tick", "Tock", Role::Client),
        )
        .await
        .expect("register");
    let waiting = world.count(OutboxFilter::default()).await;
    assert_eq!(waiting, 2, "verification email and welcome");
    world.advance(Duration::days(30) + Duration::minutes(1));

    // A batch of one delivers one message per channel and pass; the jobs still run.
    let first = Runner::new().with_outbox_batch(1).tick(&world.eco).await;
    assert!(first.is_ok(), "{first:?}");
    assert_eq!(first.jobs.unverified_accounts.processed, 1);
    assert_eq!(first.outbox.total().sent, 1);
    assert_eq!(world.delivered().len(), 1);
    let stored: User = world.row(pending.id).await.expect("user");
    assert_eq!(stored.status, UserStatus::Inactive);

    let second = world.eco.tick().await;
    assert!(second.is_ok(), "{second:?}");
    assert_eq!(second.jobs.unverified_accounts.processed, 0);
    assert_eq!(second.outbox.total().sent, 1);
    assert_eq!(world.delivered().len(), 2);

    let idle = world.eco.tick().await;
    assert!(idle.is_ok() && idle.outbox.is_idle(), "{idle:?}");
    assert_eq!(idle.jobs.unverified_accounts.processed, 0);
    assert_eq!(world.delivered().len(), 2);
}
