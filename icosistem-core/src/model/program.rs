//! Programs, applications, reviews and enrollments.

use chrono::{DateTime, NaiveDate, Utc};

use super::value::{Name, Score, Slug};
use super::{
    ApplicationId, ApplicationStatus, Deletion, EnrollmentId, EnrollmentStatus, Meta, OrganizationId, ProgramFormat,
    ProgramId, ProgramStatus, ProgramType, ProjectId, ProjectStage, ReviewId, UserId,
};

/// A cohort run by an organization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Program {
    /// Id.
    pub id: ProgramId,
    /// Organization running it.
    pub organization_id: OrganizationId,
    /// Display name.
    pub name: Name,
    /// Unique among live programs.
    pub slug: Slug,
    /// Kind.
    pub program_type: ProgramType,
    /// Lifecycle status.
    pub status: ProgramStatus,
    /// Free text.
    pub description: Option<String>,
    /// Applications open at.
    pub application_opens_at: DateTime<Utc>,
    /// Applications close at.
    pub application_deadline: DateTime<Utc>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Minimum cohort to start, ≥ 1.
    pub min_participants: u32,
    /// Capacity, 1–1000, ≥ min.
    pub max_participants: u32,
    /// Accepted applications right now. Maintained in the same unit of work as every accept,
    /// promotion and withdrawal, under the program's lock: this row guards the capacity
    /// invariant `accepted_count ≤ max_participants`.
    pub accepted_count: u32,
    /// Reviews needed before a decision (default 1).
    pub min_reviews: u32,
    /// Reviewers do not see who applied.
    pub blind_review: bool,
    /// Eligible sectors (empty: any).
    pub target_sectors: Vec<String>,
    /// Eligible project stages (empty: any).
    pub target_stages: Vec<ProjectStage>,
    /// Delivery format.
    pub format: ProgramFormat,
    /// The ordered review rounds (docs/domain.md §10); empty: one implicit round decided with
    /// `min_reviews`, exactly as a program without rounds always was.
    #[serde(default)]
    pub rounds: Vec<Round>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
    /// Soft delete.
    #[serde(flatten)]
    pub deletion: Deletion,
}

impl Program {
    /// Published and inside its application window at `now`.
    pub fn accepts_applications(&self, now: DateTime<Utc>) -> bool {
        crate::workflow::program::accepts_applications(
            self.status,
            self.application_opens_at,
            self.application_deadline,
            now,
        )
    }

    /// Seats left.
    pub fn seats_left(&self) -> u32 {
        self.max_participants.saturating_sub(self.accepted_count)
    }

    /// The round at `index` (an application's `current_round`), if the program has rounds.
    pub fn round(&self, index: Option<u32>) -> Option<&Round> {
        index.and_then(|i| self.rounds.get(i as usize))
    }

    /// Whether evaluators of `app` must not learn who applied: the program is blind, or the
    /// round the application is in is.
    pub fn blind_for(&self, app: &Application) -> bool {
        self.blind_review || self.round(app.current_round).is_some_and(|r| r.blind)
    }

    /// Whether any application of the program may be under blind review at some point: the
    /// program is blind or one of its rounds is. What reaches projects through programs (staff
    /// and reviewers seeing applicants' projects) is refused for such programs.
    pub fn ever_blind(&self) -> bool {
        self.blind_review || self.rounds.iter().any(|r| r.blind)
    }
}

/// One review round of a program (docs/domain.md §10): who reviews in it, how many reviews its
/// decision needs, the mean score an application needs to pass it, and whether it is blind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Round {
    /// Its name, unique within the program (`screening`, `interview`, `committee`).
    pub name: String,
    /// Who may review in this round; empty: any member of the organization, as without rounds.
    #[serde(default)]
    pub reviewer_ids: Vec<UserId>,
    /// Reviews without a declared conflict a decision in this round needs (≥ 1).
    pub min_reviews: u32,
    /// The mean score (0–100) an application needs to advance past or be accepted in it.
    pub threshold: u8,
    /// Reviewers in this round do not see who applied.
    #[serde(default)]
    pub blind: bool,
}

/// A project's application to a program.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Application {
    /// Id.
    pub id: ApplicationId,
    /// Program applied to.
    pub program_id: ProgramId,
    /// Project applying.
    pub project_id: ProjectId,
    /// The project's owner.
    pub applicant_id: UserId,
    /// Answers to the program's questions (a JSON object).
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// Selection status.
    pub status: ApplicationStatus,
    /// When submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When accepted/rejected/waitlisted.
    pub decided_at: Option<DateTime<Utc>>,
    /// Note given with the decision.
    pub decision_note: Option<String>,
    /// Mean score of submitted, non-conflicted reviews × 100 (waitlist order); with rounds,
    /// of the current round's reviews.
    pub mean_score_centi: Option<u32>,
    /// The index of the round the application is in (set at submission when the program has
    /// rounds; `None` without rounds).
    #[serde(default)]
    pub current_round: Option<u32>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// A reviewer's assignment to an application and, once submitted, their review.
/// One per (application, reviewer, round).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Review {
    /// Id.
    pub id: ReviewId,
    /// Application reviewed.
    pub application_id: ApplicationId,
    /// Reviewer.
    pub reviewer_id: UserId,
    /// Score 0–100, once submitted.
    pub score: Option<Score>,
    /// Comment.
    pub comment: Option<String>,
    /// The reviewer declared a conflict of interest: the review does not count.
    pub conflict_declared: bool,
    /// When the review was submitted (`None` while only assigned).
    pub submitted_at: Option<DateTime<Utc>>,
    /// The round (index) it belongs to: the application's round when it was assigned; `None`
    /// for programs without rounds.
    #[serde(default)]
    pub round: Option<u32>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

impl Review {
    /// Submitted without a declared conflict: counts toward `min_reviews` and the mean score.
    pub fn is_qualified(&self) -> bool {
        self.submitted_at.is_some() && !self.conflict_declared && self.score.is_some()
    }
}

/// A participant's place in a program, created when the application is accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Enrollment {
    /// Id.
    pub id: EnrollmentId,
    /// Program.
    pub program_id: ProgramId,
    /// The accepted application (unique).
    pub application_id: ApplicationId,
    /// Project.
    pub project_id: ProjectId,
    /// The entrepreneur.
    pub entrepreneur_id: UserId,
    /// Status.
    pub status: EnrollmentStatus,
    /// When it reached a terminal status.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why the participant dropped out.
    pub drop_reason: Option<String>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}
