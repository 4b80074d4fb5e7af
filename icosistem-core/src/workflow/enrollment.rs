//! Enrollment (docs/domain.md §3): `enrolled → active → completed | graduated`,
//! `enrolled|active → dropped_out`. Created when an application is accepted.

use super::snake_enum;
use crate::error::Error;

snake_enum! {
    /// Where an enrollment is.
    pub enum EnrollmentStatus {
        /// Accepted, waiting for the program to start.
        Enrolled => "enrolled",
        /// The program is running.
        Active => "active",
        /// Finished without meeting the graduation criteria.
        Completed => "completed",
        /// Finished and graduated.
        Graduated => "graduated",
        /// Left the program.
        DroppedOut => "dropped_out",
    }
}

snake_enum! {
    /// What can happen to an enrollment.
    pub enum EnrollmentCommand {
        /// The program started.
        Activate => "activate",
        /// The program completed and the criteria were not met.
        Complete => "complete",
        /// The program completed and the participant graduated.
        Graduate => "graduate",
        /// The participant left.
        DropOut => "drop_out",
    }
}

impl EnrollmentStatus {
    /// Completed, graduated and dropped-out enrollments never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            EnrollmentStatus::Completed | EnrollmentStatus::Graduated | EnrollmentStatus::DroppedOut
        )
    }
}

const TABLE: &[(EnrollmentStatus, EnrollmentCommand, EnrollmentStatus)] = {
    use EnrollmentCommand as C;
    use EnrollmentStatus as S;
    &[
        (S::Enrolled, C::Activate, S::Active),
        (S::Active, C::Complete, S::Completed),
        (S::Active, C::Graduate, S::Graduated),
        (S::Enrolled, C::DropOut, S::DroppedOut),
        (S::Active, C::DropOut, S::DroppedOut),
    ]
};

/// Applies `command` to an enrollment in `status`.
pub fn transition(status: EnrollmentStatus, command: EnrollmentCommand) -> Result<EnrollmentStatus, Error> {
    super::lookup("enrollment", TABLE, status, command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_edges_allowed_and_everything_else_refused() {
        crate::workflow::assert_machine(
            "enrollment",
            EnrollmentStatus::ALL,
            EnrollmentCommand::ALL,
            TABLE,
            transition,
        );
        assert_eq!(
            transition(EnrollmentStatus::Enrolled, EnrollmentCommand::Activate).unwrap(),
            EnrollmentStatus::Active
        );
        assert!(transition(EnrollmentStatus::Enrolled, EnrollmentCommand::Graduate).is_err());
    }
}
