//! The analytics read port (docs/domain.md §9): figures the store computes with aggregate queries
//! over its own rows — a use case never loads the rows to count them. Every method reads;
//! none locks. The memory store is the reference; the conformance suite checks that other
//! stores give the same figures.

use std::future::Future;

use chrono::NaiveDate;

use crate::error::StoreError;
use crate::model::analytics::{
    ApplicationFigures, DateRange, EnrollmentFigures, MentoringFigures, MentoringScope, MilestoneFigures, ReviewFigures,
};
use crate::model::{OrganizationId, ProgramId, UserId};

/// Whose applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationScope {
    /// A program's.
    Program(ProgramId),
    /// Those to the live programs of an organization.
    Organization(OrganizationId),
    /// One applicant's.
    Applicant(UserId),
}

/// Whose reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewScope {
    /// Those of a program's applications.
    Program(ProgramId),
    /// One reviewer's.
    Reviewer(UserId),
}

/// Whose enrollments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentScope {
    /// A program's.
    Program(ProgramId),
    /// Those of the live programs of an organization.
    Organization(OrganizationId),
}

/// Whose milestones (of live projects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneScope {
    /// Those of the projects enrolled in a program.
    Program(ProgramId),
    /// One owner's.
    Owner(UserId),
}

/// Analytics reads. Ranges are half-open (`from ≤ t < to`) on the instant named by each figure
/// (see [`crate::model::analytics`]); `today` decides overdue milestones.
pub trait AnalyticsRead: Send {
    /// Funnel and decision times of the applications in `scope`.
    fn application_figures(
        &mut self,
        scope: ApplicationScope,
        range: DateRange,
    ) -> impl Future<Output = Result<ApplicationFigures, StoreError>> + Send;
    /// Reviewer loads and scores of the reviews in `scope`.
    fn review_figures(
        &mut self,
        scope: ReviewScope,
        range: DateRange,
    ) -> impl Future<Output = Result<ReviewFigures, StoreError>> + Send;
    /// Enrollments in `scope` by status and by month.
    fn enrollment_figures(
        &mut self,
        scope: EnrollmentScope,
        range: DateRange,
    ) -> impl Future<Output = Result<EnrollmentFigures, StoreError>> + Send;
    /// Milestones in `scope` on time, late, overdue and upcoming on `today`.
    fn milestone_figures(
        &mut self,
        scope: MilestoneScope,
        range: DateRange,
        today: NaiveDate,
    ) -> impl Future<Output = Result<MilestoneFigures, StoreError>> + Send;
    /// Mentor loads, sessions and feedback in `scope`. `default_capacity` is the `max_mentees`
    /// of an ally without a profile.
    fn mentoring_figures(
        &mut self,
        scope: MentoringScope,
        range: DateRange,
        default_capacity: u64,
    ) -> impl Future<Output = Result<MentoringFigures, StoreError>> + Send;
}
