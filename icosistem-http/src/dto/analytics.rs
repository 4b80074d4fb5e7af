//! Answers of the analytics routes (docs/domain.md §9): the core's figures with their derived
//! values (means, spreads, ratios) computed once, in the core. No figure names an applicant.

use chrono::{DateTime, NaiveDate, Utc};
use icosistem_core::model::analytics::{
    ApplicationFigures, Capacity, DateRange, EnrollmentFigures, MentoringAnalytics, MentoringFigures, MentoringScope,
    MilestoneFigures, OrganizationAnalytics, ProgramAnalytics, ReviewFigures, SCORE_BUCKETS, StatusCount,
    UserAnalytics,
};
use icosistem_core::model::{ApplicationStatus, EnrollmentStatus, ProgramStatus, SessionStatus};
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::one_of;

macro_rules! status_counts {
    ($($(#[doc = $doc:literal])* $name:ident($status:ty);)+) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
        pub struct $name {
            /// The status.
            #[schema(schema_with = one_of::<$status>)]
            pub status: String,
            /// How many.
            pub count: u64,
        }

        impl From<&StatusCount<$status>> for $name {
            fn from(s: &StatusCount<$status>) -> Self {
                Self {
                    status: s.status.as_str().to_owned(),
                    count: s.count,
                }
            }
        }
    )+};
}

status_counts! {
    /// Applications in one status.
    ApplicationStatusCountDto(ApplicationStatus);
    /// Enrollments in one status.
    EnrollmentStatusCountDto(EnrollmentStatus);
    /// Programs in one status.
    ProgramStatusCountDto(ProgramStatus);
    /// Sessions in one status.
    SessionStatusCountDto(SessionStatus);
}

/// The funnel and how long decisions take.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApplicationFiguresDto {
    /// Applications created in the range, by status: every status, in workflow order.
    pub funnel: Vec<ApplicationStatusCountDto>,
    /// Applications decided (accepted, rejected, waitlisted) in the range.
    pub decided: u64,
    /// Median time from submission to decision, in seconds (`null`: no decision).
    pub decision_median_seconds: Option<i64>,
    /// 90th percentile of the time from submission to decision, in seconds.
    pub decision_p90_seconds: Option<i64>,
}

impl From<&ApplicationFigures> for ApplicationFiguresDto {
    fn from(f: &ApplicationFigures) -> Self {
        Self {
            funnel: f.funnel.iter().map(Into::into).collect(),
            decided: f.decided,
            decision_median_seconds: f.decision_median_seconds,
            decision_p90_seconds: f.decision_p90_seconds,
        }
    }
}

/// One reviewer's workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewerLoadDto {
    /// The reviewer.
    #[schema(value_type = String, format = Uuid)]
    pub reviewer_id: String,
    /// Reviews submitted in the range.
    pub done: u64,
    /// Assignments not yet reviewed on applications waiting for a decision.
    pub owed: u64,
}

/// One 10-point bucket of the score histogram: `min ≤ score ≤ max`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScoreBucketDto {
    /// Lowest score of the bucket.
    pub min: u8,
    /// Highest score of the bucket.
    pub max: u8,
    /// Scores in it.
    pub count: u64,
}

/// The distribution of submitted scores.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScoreDistributionDto {
    /// Ten buckets: 0–9, 10–19 … 90–100.
    pub buckets: Vec<ScoreBucketDto>,
    /// Scores counted.
    pub count: u64,
    /// Their mean (`null` without scores).
    pub mean: Option<f64>,
    /// Their population standard deviation (`null` without scores).
    pub stddev: Option<f64>,
}

/// Reviewer workload and scores.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReviewFiguresDto {
    /// Each reviewer with something done or owed.
    pub reviewers: Vec<ReviewerLoadDto>,
    /// The scores.
    pub scores: ScoreDistributionDto,
}

impl From<&ReviewFigures> for ReviewFiguresDto {
    fn from(f: &ReviewFigures) -> Self {
        let last = u8::try_from(SCORE_BUCKETS - 1).unwrap_or(u8::MAX);
        Self {
            reviewers: f
                .reviewers
                .iter()
                .map(|r| ReviewerLoadDto {
                    reviewer_id: r.reviewer_id.to_string(),
                    done: r.done,
                    owed: r.owed,
                })
                .collect(),
            scores: ScoreDistributionDto {
                buckets: (0..=last)
                    .map(|i| ScoreBucketDto {
                        min: i * 10,
                        max: if i == last { 100 } else { i * 10 + 9 },
                        count: f.scores.buckets.get(usize::from(i)).copied().unwrap_or(0),
                    })
                    .collect(),
                count: f.scores.count,
                mean: f.scores.mean(),
                stddev: f.scores.stddev(),
            },
        }
    }
}

/// Seats used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CapacityDto {
    /// Applications accepted now.
    pub accepted: u64,
    /// The program's seats.
    pub max_participants: u64,
}

impl From<&Capacity> for CapacityDto {
    fn from(c: &Capacity) -> Self {
        Self {
            accepted: c.accepted,
            max_participants: c.max_participants,
        }
    }
}

/// Enrollments created in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MonthCountDto {
    /// The first day of the month (UTC).
    pub month: NaiveDate,
    /// Enrollments created in it.
    pub count: u64,
}

/// Enrollments by status and over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EnrollmentFiguresDto {
    /// Enrollments created in the range, by status: every status.
    pub by_status: Vec<EnrollmentStatusCountDto>,
    /// Enrollments created in the range, per month, oldest first (months without any left out).
    pub by_month: Vec<MonthCountDto>,
}

impl From<&EnrollmentFigures> for EnrollmentFiguresDto {
    fn from(f: &EnrollmentFigures) -> Self {
        Self {
            by_status: f.by_status.iter().map(Into::into).collect(),
            by_month: f
                .by_month
                .iter()
                .map(|m| MonthCountDto {
                    month: m.month,
                    count: m.count,
                })
                .collect(),
        }
    }
}

/// Milestones whose target day is in the range (cancelled ones left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MilestoneFiguresDto {
    /// Completed on or before the target day.
    pub on_time: u64,
    /// Completed after the target day.
    pub late: u64,
    /// Not completed, target day passed.
    pub overdue: u64,
    /// Not completed, target day today or later.
    pub upcoming: u64,
}

impl From<&MilestoneFigures> for MilestoneFiguresDto {
    fn from(f: &MilestoneFigures) -> Self {
        Self {
            on_time: f.on_time,
            late: f.late,
            overdue: f.overdue,
            upcoming: f.upcoming,
        }
    }
}

/// An ally's load against their capacity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MentorLoadDto {
    /// The ally.
    #[schema(value_type = String, format = Uuid)]
    pub ally_id: String,
    /// Active mentorships.
    pub active_mentees: u64,
    /// Their `max_mentees`.
    pub capacity: u64,
}

/// Mentor load, sessions and feedback.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MentoringFiguresDto {
    /// Allies with a mentorship in scope.
    pub mentors: Vec<MentorLoadDto>,
    /// Sessions starting in the range, by status: every status (held = `completed`).
    pub sessions: Vec<SessionStatusCountDto>,
    /// Feedback given on completed sessions (either party).
    pub feedback_given: u64,
    /// Feedback completed sessions call for (two each).
    pub feedback_expected: u64,
    /// Given out of expected, 0–1 (`null` without completed sessions).
    pub feedback_completion: Option<f64>,
    /// Mean rating of the feedback given, 1–5 (`null` without feedback).
    pub average_rating: Option<f64>,
}

impl From<&MentoringFigures> for MentoringFiguresDto {
    fn from(f: &MentoringFigures) -> Self {
        Self {
            mentors: f
                .mentors
                .iter()
                .map(|m| MentorLoadDto {
                    ally_id: m.ally_id.to_string(),
                    active_mentees: m.active_mentees,
                    capacity: m.capacity,
                })
                .collect(),
            sessions: f.sessions.iter().map(Into::into).collect(),
            feedback_given: f.feedback_given,
            feedback_expected: f.feedback_expected,
            feedback_completion: f.feedback_completion(),
            average_rating: f.average_rating(),
        }
    }
}

fn ends(range: &DateRange) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    (range.from, range.to)
}

/// A program's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgramAnalyticsDto {
    /// The program.
    #[schema(value_type = String, format = Uuid)]
    pub program_id: String,
    /// Blind review: no figure names an applicant (none does in any program).
    pub blind_review: bool,
    /// Start of the range (inclusive), as asked.
    pub from: Option<DateTime<Utc>>,
    /// End of the range (exclusive), as asked.
    pub to: Option<DateTime<Utc>>,
    /// Funnel and time to decision.
    pub applications: ApplicationFiguresDto,
    /// Reviewer workload and score distribution.
    pub reviews: ReviewFiguresDto,
    /// Seats used.
    pub capacity: CapacityDto,
    /// The cohort's enrollments.
    pub enrollments: EnrollmentFiguresDto,
    /// The enrolled projects' milestones.
    pub milestones: MilestoneFiguresDto,
}

impl From<&ProgramAnalytics> for ProgramAnalyticsDto {
    fn from(a: &ProgramAnalytics) -> Self {
        let (from, to) = ends(&a.range);
        Self {
            program_id: a.program_id.to_string(),
            blind_review: a.blind_review,
            from,
            to,
            applications: (&a.applications).into(),
            reviews: (&a.reviews).into(),
            capacity: (&a.capacity).into(),
            enrollments: (&a.enrollments).into(),
            milestones: (&a.milestones).into(),
        }
    }
}

/// An organization's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrganizationAnalyticsDto {
    /// The organization.
    #[schema(value_type = String, format = Uuid)]
    pub organization_id: String,
    /// Start of the range (inclusive), as asked.
    pub from: Option<DateTime<Utc>>,
    /// End of the range (exclusive), as asked.
    pub to: Option<DateTime<Utc>>,
    /// Its programs by status now: every status.
    pub programs: Vec<ProgramStatusCountDto>,
    /// Applications to its programs.
    pub applications: ApplicationFiguresDto,
    /// Enrollments in its programs, over time.
    pub enrollments: EnrollmentFiguresDto,
}

impl From<&OrganizationAnalytics> for OrganizationAnalyticsDto {
    fn from(a: &OrganizationAnalytics) -> Self {
        let (from, to) = ends(&a.range);
        Self {
            organization_id: a.organization_id.to_string(),
            from,
            to,
            programs: a.programs.iter().map(Into::into).collect(),
            applications: (&a.applications).into(),
            enrollments: (&a.enrollments).into(),
        }
    }
}

/// Mentoring figures of the platform or of one organization's enrolled entrepreneurs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MentoringAnalyticsDto {
    /// The organization asked for (`null`: the whole platform).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub organization_id: Option<String>,
    /// Start of the range (inclusive), as asked.
    pub from: Option<DateTime<Utc>>,
    /// End of the range (exclusive), as asked.
    pub to: Option<DateTime<Utc>>,
    /// The figures.
    pub mentoring: MentoringFiguresDto,
}

impl From<&MentoringAnalytics> for MentoringAnalyticsDto {
    fn from(a: &MentoringAnalytics) -> Self {
        let (from, to) = ends(&a.range);
        Self {
            organization_id: match a.scope {
                MentoringScope::Organization(id) => Some(id.to_string()),
                _ => None,
            },
            from,
            to,
            mentoring: (&a.figures).into(),
        }
    }
}

/// The caller's own figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UserAnalyticsDto {
    /// The caller.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: String,
    /// Start of the range (inclusive), as asked.
    pub from: Option<DateTime<Utc>>,
    /// End of the range (exclusive), as asked.
    pub to: Option<DateTime<Utc>>,
    /// Their applications.
    pub applications: ApplicationFiguresDto,
    /// Their projects' milestones.
    pub milestones: MilestoneFiguresDto,
    /// Their reviews as a reviewer.
    pub reviews: ReviewFiguresDto,
    /// Their mentoring: as the ally for allies, as the mentee otherwise.
    pub mentoring: MentoringFiguresDto,
}

impl From<&UserAnalytics> for UserAnalyticsDto {
    fn from(a: &UserAnalytics) -> Self {
        let (from, to) = ends(&a.range);
        Self {
            user_id: a.user_id.to_string(),
            from,
            to,
            applications: (&a.applications).into(),
            milestones: (&a.milestones).into(),
            reviews: (&a.reviews).into(),
            mentoring: (&a.mentoring).into(),
        }
    }
}
