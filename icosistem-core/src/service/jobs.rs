//! Time-driven jobs (docs/domain.md §4.9).
//!
//! Every job is a use case run by the platform itself ([`Context::system`]) at the clock's
//! now; a worker calls [`Ecosystem::run_due_jobs`] every minute. Every job is **idempotent**:
//! running it twice at the same now sends nothing twice and changes nothing the second time.
//! - Notification jobs record a [`JobMark`](crate::model::JobMark) per thing they notify
//!   (`<job>:<subject id>[:<variant>]`), in the same unit of work as the notifications, and
//!   skip what is already marked. The mark's key is unique in every store, so even two workers
//!   racing cannot both notify: the second one's unit of work fails with `Conflict { entity:
//!   "job_mark", field: "key" }` and rolls back, sending nothing.
//! - State-changing sweeps (no-shows, unverified accounts, read notifications) are idempotent by
//!   their state: what they changed no longer matches their filter.
//!
//! Work is done in pages of [`JOB_BATCH_SIZE`] candidates, oldest first, **one unit of work
//! per page**:
//! - a mark and the notifications it stands for commit together, so a crash never loses a
//!   notification that is marked as sent nor sends one that is not marked;
//! - the lock scope stays bounded (the memory store serializes units of work; PostgreSQL keeps
//!   the sweeps' row locks until commit), so user requests never wait behind a whole run;
//! - one transaction per candidate would cost a transaction for each of the many candidates
//!   that turn out to be marked already (an overdue milestone is examined on every run);
//! - a failing page rolls back alone: the pages before it stay done, and the next run picks
//!   up the rest — which idempotency makes safe.
//!
//! A run walks every page (keyset pagination on the id), so a backlog larger than a page is
//! never starved by candidates that stay candidates after being notified — within the round's
//! time budget (`limits.job_round_budget`): once it is spent, no further page starts and the
//! next round (a minute later) picks up the rest. A round's first page always runs, so every
//! round makes progress whatever the budget; a job that keeps a watermark advances it only
//! after a round that was not cut short.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

mod notices;

use notices::{
    deadline_notice, feedback_reminder_notice, overdue_milestone_notice, review_overdue_notice, session_reminder_notice,
};

use super::{Context, Ecosystem, Notice, Uow};
use crate::error::{Error, Result};
use crate::model::{
    Application, ApplicationStatus, JobMark, Notification, NotificationStatus, Program, Project, SessionStatus, User,
    UserId, UserStatus,
};
use crate::ports::store::{
    ApplicationFilter, Entity, JobMarkFilter, ListFilter, MemberFilter, MilestoneFilter, NotificationFilter, Order,
    Page, PageRequest, ProgramFilter, Repo, ReviewFilter, SessionFilter, Store, Transaction, UserFilter,
};
use crate::ports::{Clock, Notifier};
use crate::workflow::account::{self as account_wf, AccountCommand};

/// The review-overdue job's watermark: the cut-off and the now of its last complete round.
const REVIEW_OVERDUE_CUTOFF: &str = "review_overdue:watermark:cutoff";
const REVIEW_OVERDUE_NOW: &str = "review_overdue:watermark:now";

/// How far back each review-overdue window reaches before the last round's bound: longer than
/// any unit of work that assigns a reviewer takes to commit.
const WATERMARK_OVERLAP: Duration = Duration::minutes(5);

/// Candidates a job handles per unit of work.
pub const JOB_BATCH_SIZE: u32 = 200;

/// What one run of one job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobReport {
    /// Candidates the job looked at (rows matching its filter at the time).
    pub examined: u32,
    /// Things done for the first time: a state change, or a notice newly marked as sent. A
    /// second run at the same now reports 0.
    pub processed: u32,
    /// In-app notifications written (email copies follow each recipient's preferences). A
    /// second run at the same now reports 0.
    pub notified: u32,
}

/// A job of [`Ecosystem::run_due_jobs`] that failed; the other jobs still ran.
#[derive(Debug)]
pub struct JobFailure {
    /// The job's method name (`send_session_reminders`).
    pub job: &'static str,
    /// Why it failed. Pages committed before the failure stay done.
    pub error: Error,
}

/// What [`Ecosystem::run_due_jobs`] did, job by job.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct JobsReport {
    /// [`Ecosystem::send_session_reminders`].
    pub session_reminders: JobReport,
    /// [`Ecosystem::sweep_no_shows`].
    pub no_shows: JobReport,
    /// [`Ecosystem::send_feedback_reminders`].
    pub feedback_reminders: JobReport,
    /// [`Ecosystem::send_milestone_overdue_notices`].
    pub milestone_overdue: JobReport,
    /// [`Ecosystem::send_review_overdue_notices`].
    pub review_overdue: JobReport,
    /// [`Ecosystem::send_application_deadline_notices`].
    pub application_deadline: JobReport,
    /// [`Ecosystem::deactivate_unverified_accounts`].
    pub unverified_accounts: JobReport,
    /// [`Ecosystem::archive_read_notifications`].
    pub archived_notifications: JobReport,
    /// [`Ecosystem::sweep_orphan_blobs`].
    pub orphan_blobs: JobReport,
    /// Jobs that failed, in the order they ran. Empty when everything succeeded.
    pub failures: Vec<JobFailure>,
}

impl JobsReport {
    /// True when no job failed.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One page of job candidates, oldest first, after the `after` cursor.
fn job_page(after: Option<Uuid>) -> PageRequest {
    PageRequest {
        limit: JOB_BATCH_SIZE,
        after,
        order: Order::OldestFirst,
    }
}

/// Where the next page starts, or `None` after the last one.
fn next_after<E: Entity>(page: &Page<E>) -> Option<Uuid> {
    page.next_cursor.as_ref()?;
    page.items.last().map(|e| e.id().into())
}

/// The walk over every page of a job's candidates, oldest first, **one unit of work per page**
/// (see the module documentation for why): [`JobPages::next`] opens the unit of work and lists
/// the next page in it; the job does that page's work and commits.
struct JobPages<'r> {
    after: Option<Uuid>,
    done: bool,
    round: &'r mut Round,
}

/// One round of one job, held to `limits.job_round_budget` on the ecosystem's clock: a job with
/// a backlog (a first review-overdue round, a mass of unverified accounts) must not hold the
/// worker past the next minute's round, nor starve the jobs after it in `run_due_jobs`.
struct Round {
    until: DateTime<Utc>,
    pages: u32,
    cut_short: bool,
}

impl Round {
    fn start<S: Store, N: Notifier, C: Clock>(eco: &Ecosystem<S, N, C>) -> Self {
        Round {
            until: eco.clock.now() + eco.limits.job_round_budget,
            pages: 0,
            cut_short: false,
        }
    }

    /// Whether another page may start now: the round's first page always does.
    fn may_start_page(&mut self, now: DateTime<Utc>) -> bool {
        if self.pages > 0 && now >= self.until {
            self.cut_short = true;
        }
        if self.cut_short {
            return false;
        }
        self.pages += 1;
        true
    }
}

impl<'r> JobPages<'r> {
    /// A walk from the first candidate, counted against `round`'s budget.
    fn within(round: &'r mut Round) -> Self {
        JobPages {
            after: None,
            done: false,
            round,
        }
    }

    /// The next page's unit of work and candidates, `None` after the last page or once the
    /// round's budget is spent. `filter` is built at the unit of work's now.
    async fn next<S, N, C, F>(
        &mut self,
        eco: &Ecosystem<S, N, C>,
        ctx: &Context,
        filter: impl FnOnce(DateTime<Utc>) -> F,
    ) -> Result<Option<(Uow<S::Tx>, Vec<F::Entity>)>>
    where
        S: Store,
        N: Notifier,
        C: Clock,
        F: ListFilter,
        S::Tx: Repo<F::Entity>,
    {
        if self.done || !self.round.may_start_page(eco.clock.now()) {
            return Ok(None);
        }
        let mut uow = eco.uow(ctx).await?;
        let page = uow.list(&filter(uow.now), job_page(self.after)).await?;
        self.after = next_after(&page);
        self.done = self.after.is_none();
        Ok(Some((uow, page.items)))
    }
}

const SESSION_WAITING: [SessionStatus; 2] = [SessionStatus::Scheduled, SessionStatus::Confirmed];

impl<T: Transaction> Uow<T> {
    /// The job mark stored under `key`, if any.
    async fn job_mark(&mut self, key: &str) -> Result<Option<JobMark>> {
        self.first(&JobMarkFilter {
            key: Some(key.to_owned()),
        })
        .await
    }

    /// The time a watermark mark holds (`None` before the job's first complete round).
    async fn watermark(&mut self, key: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.job_mark(key).await?.map(|m| m.at))
    }

    /// Moves a watermark mark forward to `at` (creating it), never back.
    async fn advance_watermark(&mut self, key: &str, at: DateTime<Utc>) -> Result<()> {
        match self.job_mark(key).await? {
            Some(mut mark) if mark.at < at => {
                mark.at = at;
                self.update(mark).await?;
            }
            Some(_) => {}
            None => {
                let mark = JobMark {
                    id: self.new_id(),
                    key: key.to_owned(),
                    at,
                };
                self.insert(&mark).await?;
            }
        }
        Ok(())
    }

    /// Notifies the user with this id with a notice `write` composes for them (so times read
    /// in their own time zone); returns how many notifications were written (0 when the user no
    /// longer exists), for the job reports.
    async fn job_notify(&mut self, user_id: UserId, write: impl FnOnce(&User) -> Notice) -> Result<u32> {
        let user: Option<User> = self.get(user_id).await?;
        match user {
            Some(user) => {
                let notice = write(&user);
                self.notify(&user, notice).await?;
                Ok(1)
            }
            None => Ok(0),
        }
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Sends session reminders: for each lead time of `limits.session_reminders` (default 24 h
    /// and 1 h), every scheduled or confirmed session starting within `(now, now + lead]`
    /// gets one reminder (`session_reminder`) to the ally and to the entrepreneur.
    ///
    /// Idempotent: one mark `session_reminder:<session id>:<lead minutes>:<start unix
    /// seconds>` per session, lead time and start. The start is part of the key so a session
    /// rescheduled after its reminder is reminded again for its new time. Errors: store
    /// failures only (including `Conflict` on `job_mark.key` when another run races this one).
    pub async fn send_session_reminders(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let mut report = JobReport::default();
        let mut round = Round::start(self);
        for lead in self.limits.session_reminders.clone() {
            let filter = |now| SessionFilter {
                status_in: SESSION_WAITING.to_vec(),
                starts_after: Some(now),
                starts_at_or_before: Some(now + lead),
                ..Default::default()
            };
            let mut pages = JobPages::within(&mut round);
            while let Some((mut uow, sessions)) = pages.next(self, &ctx, &filter).await? {
                for session in &sessions {
                    report.examined += 1;
                    let key = format!(
                        "session_reminder:{}:{}:{}",
                        session.id,
                        lead.num_minutes(),
                        session.starts_at.timestamp()
                    );
                    if !uow.mark_once(key).await? {
                        continue;
                    }
                    report.processed += 1;
                    for party in [session.ally_id, session.entrepreneur_id] {
                        report.notified += uow
                            .job_notify(party, |reader| session_reminder_notice(session, lead, reader))
                            .await?;
                    }
                }
                uow.commit().await?;
            }
        }
        Ok(report)
    }

    /// Marks as `no_show` every scheduled or confirmed session whose start is at or before
    /// `now − limits.no_show_after` (default 24 h), through the session workflow's system
    /// transition; audited as `session.no_show` (actor: system); both parties are notified
    /// (`session_no_show`). The transition itself is the sessions module's `no_show_in`, the
    /// same one a system `mark_no_show` runs.
    ///
    /// Idempotent by state: a no-show session no longer matches. Each session is re-read under
    /// its row lock, so one confirmed, started or cancelled meanwhile is left alone. Errors:
    /// store failures only.
    pub async fn sweep_no_shows(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let mut report = JobReport::default();
        let mut round = Round::start(self);
        let filter = |now| SessionFilter {
            status_in: SESSION_WAITING.to_vec(),
            starts_at_or_before: Some(now - self.limits.no_show_after),
            ..Default::default()
        };
        let mut pages = JobPages::within(&mut round);
        while let Some((mut uow, sessions)) = pages.next(self, &ctx, &filter).await? {
            for session in &sessions {
                report.examined += 1;
                // `no_show_in` re-reads the row under its lock and refuses (writing nothing) a
                // session that changed since it was listed: that one is skipped, not an error.
                match self.no_show_in(&mut uow, session.clone()).await {
                    Ok(_) => {}
                    Err(Error::Validation(_) | Error::InvalidTransition { .. }) => continue,
                    Err(other) => return Err(other),
                }
                report.processed += 1;
                // `no_show_in` notifies both parties that still exist.
                for party in [session.ally_id, session.entrepreneur_id] {
                    let user: Option<User> = uow.get(party).await?;
                    report.notified += u32::from(user.is_some());
                }
            }
            uow.commit().await?;
        }
        Ok(report)
    }

    /// Reminds each party of a completed session to give feedback: sessions completed at or
    /// before `now − limits.feedback_reminder_after` (default 24 h) get one reminder
    /// (`session_feedback_reminder`) per side whose feedback is missing.
    ///
    /// Idempotent: one mark `session_feedback_reminder:<session id>:<ally|entrepreneur>` per
    /// side, so a side is reminded once, ever. Errors: store failures only.
    pub async fn send_feedback_reminders(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let mut report = JobReport::default();
        let mut round = Round::start(self);
        let filter = |now| SessionFilter {
            status: Some(SessionStatus::Completed),
            completed_at_or_before: Some(now - self.limits.feedback_reminder_after),
            awaiting_feedback: true,
            ..Default::default()
        };
        let mut pages = JobPages::within(&mut round);
        while let Some((mut uow, sessions)) = pages.next(self, &ctx, &filter).await? {
            for session in &sessions {
                report.examined += 1;
                let sides = [
                    ("ally", session.ally_id, session.ally_feedback.is_none()),
                    (
                        "entrepreneur",
                        session.entrepreneur_id,
                        session.entrepreneur_feedback.is_none(),
                    ),
                ];
                for (side, user_id, missing) in sides {
                    if !missing
                        || !uow
                            .mark_once(format!("session_feedback_reminder:{}:{side}", session.id))
                            .await?
                    {
                        continue;
                    }
                    report.processed += 1;
                    report.notified += uow
                        .job_notify(user_id, |reader| feedback_reminder_notice(session, reader))
                        .await?;
                }
            }
            uow.commit().await?;
        }
        Ok(report)
    }

    /// Tells the owner of every overdue milestone (target date before today, UTC, and not
    /// completed or cancelled) once per milestone and target date (`milestone_overdue`).
    /// Milestones of a soft-deleted, completed or cancelled project are skipped.
    ///
    /// Idempotent: one mark `milestone_overdue:<milestone id>:<target date>`; a milestone
    /// delayed to a new date that becomes overdue again is notified again. Errors: store
    /// failures only.
    pub async fn send_milestone_overdue_notices(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let mut report = JobReport::default();
        let mut round = Round::start(self);
        let filter = |now: DateTime<Utc>| MilestoneFilter {
            overdue_on: Some(now.date_naive()),
            ..Default::default()
        };
        let mut pages = JobPages::within(&mut round);
        while let Some((mut uow, milestones)) = pages.next(self, &ctx, &filter).await? {
            for milestone in &milestones {
                report.examined += 1;
                let project: Option<Project> = uow.get(milestone.project_id).await?;
                let Some(project) = project.filter(|p| !p.status.is_terminal()) else {
                    continue;
                };
                if !uow
                    .mark_once(format!("milestone_overdue:{}:{}", milestone.id, milestone.target_date))
                    .await?
                {
                    continue;
                }
                report.processed += 1;
                report.notified += uow
                    .job_notify(milestone.owner_id, |_| overdue_milestone_notice(milestone, &project))
                    .await?;
            }
            uow.commit().await?;
        }
        Ok(report)
    }

    /// Warns about applications stuck in review: every application that has been `under_review`
    /// since at or before `now − limits.review_overdue_after` (default 14 days; the review
    /// started with the first reviewer's assignment, not at submission) notifies (`review_overdue`) the program's owners and coordinators and the assigned
    /// reviewers who have not submitted their review. The notice names the program and the
    /// application id only — never the applicant, so blind review holds.
    ///
    /// Idempotent: one mark `review_overdue:<application id>:<recipient id>` per recipient, so
    /// a reviewer assigned later is still told once. Errors: store failures only.
    ///
    /// Bounded rounds: after its first round the job keeps a watermark (two [`JobMark`]s, the
    /// last round's cut-off and its now). An application becomes overdue when its first
    /// assignment crosses the cut-off, and a reviewer assigned to an overdue application must
    /// be told too, so a later round examines only the applications with an assignment made in
    /// `(last cut-off, cut-off]` or in `(last now, now]` (each reaching back five minutes more) — found by the assignments' creation
    /// time (`ReviewFilter::created_after`), whatever the number of old applications still
    /// under review. The first round (no watermark yet) examines every candidate, as before.
    /// Staff who join an organization later are told about the applications that become
    /// overdue afterwards, not about older ones.
    ///
    /// [`JobMark`]: crate::model::JobMark
    pub async fn send_review_overdue_notices(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let mut report = JobReport::default();
        let mut round = Round::start(self);
        let (now, watermark) = {
            let mut uow = self.uow(&ctx).await?;
            let cut = uow.watermark(REVIEW_OVERDUE_CUTOFF).await?;
            let last = uow.watermark(REVIEW_OVERDUE_NOW).await?;
            (uow.now, cut.zip(last))
        };
        let cutoff = now - self.limits.review_overdue_after;
        match &watermark {
            None => {
                self.review_overdue_full_round(&ctx, cutoff, &mut report, &mut round)
                    .await?
            }
            Some((last_cutoff, last_now)) => {
                // Each window reaches back `WATERMARK_OVERLAP` before the last round's bound: an
                // assignment stamped just before that bound may have committed after the last
                // round read, and must not fall between two rounds. Re-examining the overlap
                // sends nothing twice (the marks).
                for (after, until) in [(*last_cutoff, cutoff), (*last_now, now)] {
                    let after = after - WATERMARK_OVERLAP;
                    if after < until {
                        self.review_overdue_window(&ctx, cutoff, after, until, &mut report, &mut round)
                            .await?;
                    }
                }
            }
        }
        // Advance the watermark only once every page is done: a round that failed half-way, or
        // ran out of its time budget, is redone by the next one, which the per-recipient marks
        // make safe.
        if round.cut_short {
            return Ok(report);
        }
        let mut uow = self.uow(&ctx).await?;
        for (key, at) in [(REVIEW_OVERDUE_CUTOFF, cutoff), (REVIEW_OVERDUE_NOW, now)] {
            uow.advance_watermark(key, at).await?;
        }
        uow.commit().await?;
        Ok(report)
    }

    /// Every candidate of the review-overdue job, page by page (the first round).
    async fn review_overdue_full_round(
        &self,
        ctx: &Context,
        cutoff: DateTime<Utc>,
        report: &mut JobReport,
        round: &mut Round,
    ) -> Result<()> {
        // Under review since at least the cutoff implies submitted by then: a cheap superset
        // for the store to find; the start of the review is checked per application below.
        let filter = |_| ApplicationFilter {
            status: Some(ApplicationStatus::UnderReview),
            submitted_at_or_before: Some(cutoff),
            ..Default::default()
        };
        let mut pages = JobPages::within(round);
        while let Some((mut uow, apps)) = pages.next(self, ctx, &filter).await? {
            for app in &apps {
                self.review_overdue_application(&mut uow, app, cutoff, report).await?;
            }
            uow.commit().await?;
        }
        Ok(())
    }

    /// The applications with an assignment made in `(after, until]`, page by page.
    async fn review_overdue_window(
        &self,
        ctx: &Context,
        cutoff: DateTime<Utc>,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        report: &mut JobReport,
        round: &mut Round,
    ) -> Result<()> {
        let filter = |_| ReviewFilter {
            created_after: Some(after),
            created_at_or_before: Some(until),
            ..Default::default()
        };
        let mut pages = JobPages::within(round);
        while let Some((mut uow, reviews)) = pages.next(self, ctx, &filter).await? {
            let mut seen = BTreeSet::new();
            for review in &reviews {
                if !seen.insert(review.application_id) {
                    continue;
                }
                let app: Option<Application> = uow.get(review.application_id).await?;
                if let Some(app) = app.filter(|a| a.status == ApplicationStatus::UnderReview) {
                    self.review_overdue_application(&mut uow, &app, cutoff, report).await?;
                }
            }
            uow.commit().await?;
        }
        Ok(())
    }

    /// Notifies the staff and the pending reviewers of `app` if its review started at or
    /// before `cutoff`, once per recipient.
    async fn review_overdue_application(
        &self,
        uow: &mut Uow<S::Tx>,
        app: &Application,
        cutoff: DateTime<Utc>,
        report: &mut JobReport,
    ) -> Result<()> {
        report.examined += 1;
        let program: Option<Program> = uow.get(app.program_id).await?;
        let Some(program) = program else {
            return Ok(());
        };
        let reviews = uow
            .all(&ReviewFilter {
                application_id: Some(app.id),
                ..Default::default()
            })
            .await?;
        // The review started when the first reviewer was assigned (that assignment moved the
        // application to under_review); reviewers are never unassigned, so the oldest
        // assignment dates it.
        let review_started = reviews.iter().map(|r| r.meta.created_at).min().or(app.submitted_at);
        if review_started.is_none_or(|started| started > cutoff) {
            return Ok(());
        }
        let mut recipients = BTreeSet::new();
        let members = uow
            .all(&MemberFilter {
                organization_id: Some(program.organization_id),
                ..Default::default()
            })
            .await?;
        recipients.extend(members.iter().filter(|m| m.role.is_staff()).map(|m| m.user_id));
        recipients.extend(
            reviews
                .iter()
                .filter(|r| r.submitted_at.is_none())
                .map(|r| r.reviewer_id),
        );
        for user_id in recipients {
            if !uow.mark_once(format!("review_overdue:{}:{user_id}", app.id)).await? {
                continue;
            }
            report.processed += 1;
            report.notified += uow
                .job_notify(user_id, |_| {
                    review_overdue_notice(app, &program, self.limits.review_overdue_after)
                })
                .await?;
        }
        Ok(())
    }

    /// Warns applicants before a deadline: for every program accepting applications now whose
    /// deadline is within `(now, now + limits.application_deadline_notice]` (default 48 h),
    /// every applicant with a draft application to it is notified (`application_deadline`)
    /// once, however many drafts they have there.
    ///
    /// Idempotent: one mark `application_deadline:<program id>:<applicant id>:<deadline unix
    /// seconds>`; a program whose deadline moves warns again before the new one. Errors: store
    /// failures only.
    ///
    /// Bounded rounds: a program stays in the notice window for two days, a round runs every
    /// minute, and the drafts it has warned about stay drafts. So once a round has walked all of
    /// a program's drafts it leaves a watermark (`application_deadline:watermark:<program
    /// id>:<deadline unix seconds>`, that round's now), and later rounds read only the drafts
    /// created since (reaching back five minutes more, for units of work that committed late).
    pub async fn send_application_deadline_notices(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let mut report = JobReport::default();
        let mut round = Round::start(self);
        // Programs closing soon are few: read them once, then page through each one's drafts.
        let (now, programs) = {
            let mut uow = self.uow(&ctx).await?;
            let now = uow.now;
            let programs = uow
                .all(&ProgramFilter {
                    accepting_at: Some(now),
                    deadline_at_or_before: Some(now + self.limits.application_deadline_notice),
                    ..Default::default()
                })
                .await?;
            let mut marked = Vec::with_capacity(programs.len());
            for program in programs {
                let key = format!(
                    "application_deadline:watermark:{}:{}",
                    program.id,
                    program.application_deadline.timestamp()
                );
                let since = uow.watermark(&key).await?;
                marked.push((program, key, since));
            }
            (now, marked)
        };
        for (program, key, since) in &programs {
            let filter = |_| ApplicationFilter {
                program_id: Some(program.id),
                status: Some(ApplicationStatus::Draft),
                created_after: since.map(|at| at - WATERMARK_OVERLAP),
                ..Default::default()
            };
            let mut pages = JobPages::within(&mut round);
            while let Some((mut uow, drafts)) = pages.next(self, &ctx, &filter).await? {
                for app in &drafts {
                    report.examined += 1;
                    let key = format!(
                        "application_deadline:{}:{}:{}",
                        program.id,
                        app.applicant_id,
                        program.application_deadline.timestamp()
                    );
                    if !uow.mark_once(key).await? {
                        continue;
                    }
                    report.processed += 1;
                    report.notified += uow
                        .job_notify(app.applicant_id, |reader| deadline_notice(app, program, reader))
                        .await?;
                }
                uow.commit().await?;
            }
            // Cut short: this program's watermark stays, the next round redoes its window.
            if round.cut_short {
                break;
            }
            let mut uow = self.uow(&ctx).await?;
            uow.advance_watermark(key, now).await?;
            uow.commit().await?;
        }
        Ok(report)
    }

    /// Deactivates accounts never verified: users `pending_verification` created strictly
    /// before `now − limits.unverified_account_max_age` (default 30 days) become `inactive`
    /// through the account workflow (`deactivate`); their security stamp is bumped so any token
    /// they hold stops working. Audited as `user.deactivated_unverified` (actor: system,
    /// status before/after). Nobody is notified or emailed.
    ///
    /// Idempotent by state: an inactive account no longer matches. Each user is re-read under
    /// its row lock, so one verified meanwhile is left alone. Errors: store failures only.
    pub async fn deactivate_unverified_accounts(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let mut report = JobReport::default();
        let mut round = Round::start(self);
        let max_age = self.limits.unverified_account_max_age;
        let filter = |now| UserFilter {
            status: Some(UserStatus::PendingVerification),
            created_before: Some(now - max_age),
            ..Default::default()
        };
        let mut pages = JobPages::within(&mut round);
        while let Some((mut uow, candidates)) = pages.next(self, &ctx, &filter).await? {
            let cutoff = uow.now - max_age;
            for candidate in &candidates {
                report.examined += 1;
                let mut user: User = uow.load_for_update(candidate.id).await?;
                if user.status != UserStatus::PendingVerification || user.meta.created_at >= cutoff {
                    continue;
                }
                let from = user.status;
                user.status = account_wf::transition(from, AccountCommand::Deactivate)?;
                user.security_stamp += 1;
                let user = uow.update(user).await?;
                uow.audit_transition(
                    "user.deactivated_unverified",
                    "user",
                    user.id,
                    None,
                    from.as_str(),
                    user.status.as_str(),
                )
                .await?;
                report.processed += 1;
            }
            uow.commit().await?;
        }
        Ok(report)
    }

    /// Archives read notifications: every notification `read` whose `read_at` is at or before
    /// `now − limits.archive_read_notifications_after` (default 90 days) becomes `archived`.
    /// Not audited — a notification's read state is the recipient's housekeeping, not a
    /// change of the ecosystem (reading one is not audited either).
    ///
    /// Idempotent by state: an archived notification no longer matches. Errors: store failures
    /// only.
    pub async fn archive_read_notifications(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let mut report = JobReport::default();
        let mut round = Round::start(self);
        let filter = |now| NotificationFilter {
            status: Some(NotificationStatus::Read),
            read_at_or_before: Some(now - self.limits.archive_read_notifications_after),
            ..Default::default()
        };
        let mut pages = JobPages::within(&mut round);
        while let Some((mut uow, candidates)) = pages.next(self, &ctx, &filter).await? {
            for candidate in &candidates {
                report.examined += 1;
                // Locked re-read: the recipient may have archived it themselves meanwhile.
                let mut notification: Notification = uow.load_for_update(candidate.id).await?;
                if notification.status != NotificationStatus::Read {
                    continue;
                }
                notification.status = NotificationStatus::Archived;
                uow.update(notification).await?;
                report.processed += 1;
            }
            uow.commit().await?;
        }
        Ok(report)
    }

    /// Runs every job once, in this order: session reminders, no-show sweep, feedback
    /// reminders, milestone overdue notices, review overdue notices, application deadline
    /// notices, unverified account deactivation, read notification archiving, the orphan blob
    /// sweep (hourly at most). What a worker
    /// calls every minute.
    ///
    /// A failing job does not stop the others: its error is in [`JobsReport::failures`] and
    /// its report field stays empty (the pages it committed before failing stay done and are
    /// not redone next time). Idempotent, as every job is.
    pub async fn run_due_jobs(&self) -> JobsReport {
        let mut report = JobsReport::default();
        macro_rules! run {
            ($field:ident, $job:ident) => {
                match self.$job().await {
                    Ok(done) => report.$field = done,
                    Err(error) => report.failures.push(JobFailure {
                        job: stringify!($job),
                        error,
                    }),
                }
            };
        }
        run!(session_reminders, send_session_reminders);
        run!(no_shows, sweep_no_shows);
        run!(feedback_reminders, send_feedback_reminders);
        run!(milestone_overdue, send_milestone_overdue_notices);
        run!(review_overdue, send_review_overdue_notices);
        run!(application_deadline, send_application_deadline_notices);
        run!(unverified_accounts, deactivate_unverified_accounts);
        run!(archived_notifications, archive_read_notifications);
        run!(orphan_blobs, sweep_orphan_blobs);
        report
    }
}
