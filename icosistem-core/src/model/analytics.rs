//! Read models of docs/domain.md §9: figures computed by the store from the rows it holds, never
//! stored twice. The store answers exact integers (counts, sums, sums of squares) and the two
//! percentiles; means, spreads and ratios are derived here, so every store gives the same
//! figures to the last digit.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::ValidationErrors;
use crate::model::{
    ApplicationStatus, EnrollmentStatus, OrganizationId, ProgramId, ProgramStatus, SessionStatus, UserId,
};

/// A half-open range of instants `[from, to)`; a missing end is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateRange {
    /// First instant in the range.
    pub from: Option<DateTime<Utc>>,
    /// First instant after the range.
    pub to: Option<DateTime<Utc>>,
}

impl DateRange {
    /// Every instant.
    pub fn all() -> Self {
        Self::default()
    }

    /// The API's `?from&to`: `from` must come before `to` when both are given.
    pub fn new(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            errors.push("to", "must be after from");
        }
        errors.into_result()?;
        Ok(Self { from, to })
    }

    /// Whether `at` is in the range.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| from <= at) && self.to.is_none_or(|to| at < to)
    }

    /// Whether the day `date` (its first instant, UTC) is in the range.
    pub fn contains_date(&self, date: NaiveDate) -> bool {
        self.contains(date.and_time(chrono::NaiveTime::MIN).and_utc())
    }
}

/// How many rows are in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCount<S> {
    /// The status.
    pub status: S,
    /// Rows in it.
    pub count: u64,
}

/// Every status of `all` with its count from `counted` (zero when absent), in `all`'s order:
/// both stores answer the same shape whatever the data holds.
pub fn every_status<S: Copy + PartialEq>(all: &[S], counted: &[(S, u64)]) -> Vec<StatusCount<S>> {
    all.iter()
        .map(|&status| StatusCount {
            status,
            count: counted.iter().filter(|(s, _)| *s == status).map(|(_, n)| n).sum(),
        })
        .collect()
}

/// Applications of a scope: the funnel and the time decisions take.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationFigures {
    /// Applications created in the range, by status (every status, in workflow order).
    pub funnel: Vec<StatusCount<ApplicationStatus>>,
    /// Applications decided (accepted, rejected or waitlisted) in the range.
    pub decided: u64,
    /// Median of submitted → decided, in whole seconds (interpolated, as `percentile_cont`).
    pub decision_median_seconds: Option<i64>,
    /// 90th percentile of submitted → decided, in whole seconds.
    pub decision_p90_seconds: Option<i64>,
}

/// One reviewer's workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewerLoad {
    /// The reviewer (a member of the organization, never the applicant).
    pub reviewer_id: UserId,
    /// Reviews submitted in the range.
    pub done: u64,
    /// Assignments not submitted on applications still waiting for a decision.
    pub owed: u64,
}

/// Buckets of the score histogram: `[0, 10)`, `[10, 20)` … `[90, 100]`.
pub const SCORE_BUCKETS: usize = 10;

/// The bucket of a 0–100 score (100 joins the last one).
pub fn score_bucket(score: u8) -> usize {
    usize::from(score / 10).min(SCORE_BUCKETS - 1)
}

/// Submitted scores: a histogram and the sums its mean and spread come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScoreFigures {
    /// Scores per 10-point bucket ([`SCORE_BUCKETS`] entries).
    pub buckets: Vec<u64>,
    /// Scores counted.
    pub count: u64,
    /// Their sum.
    pub sum: u64,
    /// The sum of their squares.
    pub sum_squares: u64,
}

impl ScoreFigures {
    /// The mean score.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// The population standard deviation of the scores.
    pub fn stddev(&self) -> Option<f64> {
        let mean = self.mean()?;
        let variance = self.sum_squares as f64 / self.count as f64 - mean * mean;
        Some(variance.max(0.0).sqrt())
    }
}

/// Reviews of a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFigures {
    /// Per reviewer with anything done or owed, by reviewer id.
    pub reviewers: Vec<ReviewerLoad>,
    /// The submitted scores.
    pub scores: ScoreFigures,
}

/// Rows created in one calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthCount {
    /// The first day of the month.
    pub month: NaiveDate,
    /// Rows created in it.
    pub count: u64,
}

/// Enrollments of a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentFigures {
    /// Enrollments created in the range, by status (every status).
    pub by_status: Vec<StatusCount<EnrollmentStatus>>,
    /// Enrollments created in the range, per month, oldest first (months with none omitted).
    pub by_month: Vec<MonthCount>,
}

/// Milestones whose target day is in the range, cancelled ones left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MilestoneFigures {
    /// Completed on or before the target day.
    pub on_time: u64,
    /// Completed after the target day.
    pub late: u64,
    /// Not completed, target day passed.
    pub overdue: u64,
    /// Not completed, target day today or later.
    pub upcoming: u64,
}

/// An ally's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MentorLoad {
    /// The ally.
    pub ally_id: UserId,
    /// Active mentorships.
    pub active_mentees: u64,
    /// The ally's `max_mentees`.
    pub capacity: u64,
}

/// Mentoring of a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentoringFigures {
    /// Allies with a mentorship in scope, by ally id.
    pub mentors: Vec<MentorLoad>,
    /// Sessions starting in the range, by status (every status).
    pub sessions: Vec<StatusCount<SessionStatus>>,
    /// Feedback given on completed sessions (either party; each rated 1–5).
    pub feedback_given: u64,
    /// Feedback that completed sessions call for (two per session).
    pub feedback_expected: u64,
    /// The sum of the ratings given.
    pub rating_sum: u64,
}

impl MentoringFigures {
    /// The mean rating of the feedback given.
    pub fn average_rating(&self) -> Option<f64> {
        (self.feedback_given > 0).then(|| self.rating_sum as f64 / self.feedback_given as f64)
    }

    /// Feedback given out of feedback expected, 0–1.
    pub fn feedback_completion(&self) -> Option<f64> {
        (self.feedback_expected > 0).then(|| self.feedback_given as f64 / self.feedback_expected as f64)
    }
}

/// Accepted applications against the program's seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Applications accepted now.
    pub accepted: u64,
    /// Seats.
    pub max_participants: u64,
}

/// A program's figures (program staff, admins).
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramAnalytics {
    /// The program.
    pub program_id: ProgramId,
    /// Blind review: the figures carry no applicant identity (none of them does; stated so
    /// clients need not guess).
    pub blind_review: bool,
    /// The range asked for.
    pub range: DateRange,
    /// Funnel and decision times.
    pub applications: ApplicationFigures,
    /// Reviewer workload and score distribution.
    pub reviews: ReviewFigures,
    /// Seats used.
    pub capacity: Capacity,
    /// The cohort's enrollments.
    pub enrollments: EnrollmentFigures,
    /// The enrolled projects' milestones.
    pub milestones: MilestoneFigures,
}

/// An organization's figures (its owner, admins).
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationAnalytics {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The range asked for.
    pub range: DateRange,
    /// Live programs by status (now, whatever the range).
    pub programs: Vec<StatusCount<ProgramStatus>>,
    /// Applications to its programs.
    pub applications: ApplicationFigures,
    /// Enrollments in its programs, over time.
    pub enrollments: EnrollmentFigures,
}

/// Whose mentoring figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MentoringScope {
    /// The whole platform.
    All,
    /// Mentorships of entrepreneurs enrolled in a live program of the organization.
    Organization(OrganizationId),
    /// One ally's mentorships.
    Ally(UserId),
    /// One entrepreneur's mentorships.
    Entrepreneur(UserId),
}

/// Mentoring figures with the scope they cover.
#[derive(Debug, Clone, PartialEq)]
pub struct MentoringAnalytics {
    /// The scope.
    pub scope: MentoringScope,
    /// The range asked for.
    pub range: DateRange,
    /// The figures.
    pub figures: MentoringFigures,
}

/// The caller's own figures.
#[derive(Debug, Clone, PartialEq)]
pub struct UserAnalytics {
    /// The caller.
    pub user_id: UserId,
    /// The range asked for.
    pub range: DateRange,
    /// Their applications (as applicant).
    pub applications: ApplicationFigures,
    /// Their projects' milestones.
    pub milestones: MilestoneFigures,
    /// Their reviews (as reviewer): done and owed.
    pub reviews: ReviewFigures,
    /// Their mentoring (as ally for allies, as mentee otherwise).
    pub mentoring: MentoringFigures,
}

/// Linear interpolation between the closest ranks, as PostgreSQL's `percentile_cont`:
/// position `p × (n − 1)` in the sorted values. `None` without values.
pub fn percentile_cont(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = p * last as f64;
    let lower = position.floor();
    let below = sorted[lower as usize];
    let fraction = position - lower;
    if fraction == 0.0 {
        return Some(below);
    }
    let above = sorted[(lower as usize + 1).min(last)];
    Some(below + (above - below) * fraction)
}
