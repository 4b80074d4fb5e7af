//! Milestone (docs/domain.md §4.4): `pending → in_progress → completed`;
//! `pending|in_progress → delayed` (new target date in the future) `→ in_progress|completed`;
//! `pending|in_progress|delayed → cancelled`. Completed and cancelled are terminal.

use chrono::NaiveDate;

use super::snake_enum;
use crate::error::Error;
use crate::rules::common::validate_future_date;

snake_enum! {
    /// Where a milestone is.
    pub enum MilestoneStatus {
        /// Not started.
        Pending => "pending",
        /// Being worked on.
        InProgress => "in_progress",
        /// Done (terminal).
        Completed => "completed",
        /// Moved to a later target date.
        Delayed => "delayed",
        /// Dropped (terminal).
        Cancelled => "cancelled",
    }
}

snake_enum! {
    /// What can be done to a milestone.
    pub enum MilestoneCommand {
        /// Start working on it.
        Start => "start",
        /// Mark it done.
        Complete => "complete",
        /// Move its target date.
        Delay => "delay",
        /// Drop it.
        Cancel => "cancel",
    }
}

impl MilestoneStatus {
    /// Completed and cancelled milestones never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, MilestoneStatus::Completed | MilestoneStatus::Cancelled)
    }
}

/// Overdue ⇔ target date before today and not terminal.
pub fn is_overdue(status: MilestoneStatus, target_date: NaiveDate, today: NaiveDate) -> bool {
    target_date < today && !status.is_terminal()
}

const TABLE: &[(MilestoneStatus, MilestoneCommand, MilestoneStatus)] = {
    use MilestoneCommand as C;
    use MilestoneStatus as S;
    &[
        (S::Pending, C::Start, S::InProgress),
        (S::Delayed, C::Start, S::InProgress),
        (S::InProgress, C::Complete, S::Completed),
        (S::Delayed, C::Complete, S::Completed),
        (S::Pending, C::Delay, S::Delayed),
        (S::InProgress, C::Delay, S::Delayed),
        (S::Pending, C::Cancel, S::Cancelled),
        (S::InProgress, C::Cancel, S::Cancelled),
        (S::Delayed, C::Cancel, S::Cancelled),
    ]
};

/// Applies `command`. `new_target` is required by `delay` and must be after `today`.
pub fn transition(
    status: MilestoneStatus,
    command: MilestoneCommand,
    new_target: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<MilestoneStatus, Error> {
    let to = super::lookup("milestone", TABLE, status, command)?;
    if command == MilestoneCommand::Delay {
        let Some(date) = new_target else {
            return Err(Error::invalid("target_date", "is required to delay a milestone"));
        };
        validate_future_date("target_date", date, today, false).map_err(crate::error::ValidationErrors::from)?;
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    #[test]
    fn graph_edges_allowed_and_everything_else_refused() {
        let later = Some(today().succ_opt().unwrap());
        crate::workflow::assert_machine(
            "milestone",
            MilestoneStatus::ALL,
            MilestoneCommand::ALL,
            TABLE,
            |from, cmd| transition(from, cmd, later, today()),
        );
    }

    #[test]
    fn delay_needs_a_future_date() {
        assert!(matches!(
            transition(MilestoneStatus::Pending, MilestoneCommand::Delay, Some(today()), today()),
            Err(Error::Validation(e)) if e.has("target_date")
        ));
        assert!(matches!(
            transition(MilestoneStatus::Pending, MilestoneCommand::Delay, None, today()),
            Err(Error::Validation(_))
        ));
    }

    #[test]
    fn overdue() {
        let yesterday = today().pred_opt().unwrap();
        assert!(is_overdue(MilestoneStatus::Pending, yesterday, today()));
        assert!(!is_overdue(MilestoneStatus::Completed, yesterday, today()));
        assert!(!is_overdue(MilestoneStatus::Pending, today(), today()));
    }
}
