//! Input rules of programs and the eligibility of an application (docs/domain.md §3 Program, §4.2).

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::ValidationErrors;
use crate::model::{Organization, OrganizationStatus, Program, Project};
use crate::rules::common::validate_range;

/// The schedule and size fields of a program, checked together so every failure is reported.
#[derive(Debug, Clone, Copy)]
pub struct ProgramShape {
    /// Applications open at.
    pub application_opens_at: DateTime<Utc>,
    /// Applications close at.
    pub application_deadline: DateTime<Utc>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Minimum cohort.
    pub min_participants: u32,
    /// Capacity.
    pub max_participants: u32,
    /// Reviews needed per decision.
    pub min_reviews: u32,
}

/// Checks a program's shape: window order, dates order, 1 ≤ min ≤ max ≤ `max_capacity`,
/// 1 ≤ min_reviews ≤ 20. Reports into `errors`.
pub fn check_program_shape(shape: &ProgramShape, max_capacity: u32, errors: &mut ValidationErrors) {
    if shape.application_opens_at >= shape.application_deadline {
        errors.push("application_deadline", "must be after application_opens_at");
    }
    if shape.start_date <= shape.application_deadline.date_naive() {
        errors.push("start_date", "must be after application_deadline");
    }
    if shape.end_date <= shape.start_date {
        errors.push("end_date", "must be after start_date");
    }
    if let Err(e) = validate_range("max_participants", shape.max_participants, 1, max_capacity) {
        errors.push(e.field, e.message);
    }
    if shape.min_participants < 1 {
        errors.push("min_participants", "must be at least 1");
    } else if shape.min_participants > shape.max_participants {
        errors.push("min_participants", "must not exceed max_participants");
    }
    if let Err(e) = validate_range("min_reviews", shape.min_reviews, 1, 20) {
        errors.push(e.field, e.message);
    }
}

/// Why `project` may not apply to `program` (run by `organization`) at `now`: every reason at
/// once (docs/domain.md §3 Organization, §4.2).
pub fn eligibility(
    organization: &Organization,
    program: &Program,
    project: &Project,
    now: DateTime<Utc>,
) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    if !program.accepts_applications(now) {
        errors.push("program_id", "the program is not accepting applications");
    } else if !organization.allow_applications
        || matches!(
            organization.status,
            OrganizationStatus::Suspended | OrganizationStatus::Inactive
        )
    {
        errors.push(
            "program_id",
            "the organization running the program is not taking applications",
        );
    }
    if project.status.is_terminal() {
        errors.push("project_id", "a completed or cancelled project cannot apply");
    }
    if !program.target_stages.is_empty() && !program.target_stages.contains(&project.stage) {
        errors.push(
            "project.stage",
            format!(
                "the program takes projects in stages: {}",
                program
                    .target_stages
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if !program.target_sectors.is_empty() {
        let matches = project
            .category
            .as_deref()
            .is_some_and(|c| program.target_sectors.iter().any(|s| s.eq_ignore_ascii_case(c)));
        if !matches {
            errors.push(
                "project.category",
                format!(
                    "the program takes projects in sectors: {}",
                    program.target_sectors.join(", ")
                ),
            );
        }
    }
    errors
}
