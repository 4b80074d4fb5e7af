//! Program lifecycle (docs/domain.md §4.1):
//! `draft → published → in_progress → completed`, `draft|published|in_progress → cancelled`.

use chrono::{DateTime, NaiveDate, Utc};

use super::snake_enum;
use crate::error::{Error, ValidationErrors};

snake_enum! {
    /// Where a program is in its life.
    pub enum ProgramStatus {
        /// Being prepared by its organization; invisible to applicants.
        Draft => "draft",
        /// Visible; accepting applications while its window is open.
        Published => "published",
        /// The cohort is running.
        InProgress => "in_progress",
        /// Finished; enrollments graduated or completed.
        Completed => "completed",
        /// Called off.
        Cancelled => "cancelled",
    }
}

snake_enum! {
    /// What can be done to a program.
    pub enum ProgramCommand {
        /// Open it to applicants.
        Publish => "publish",
        /// Start the cohort.
        Start => "start",
        /// Finish the cohort.
        Complete => "complete",
        /// Call it off.
        Cancel => "cancel",
    }
}

impl ProgramStatus {
    /// Completed and cancelled programs never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, ProgramStatus::Completed | ProgramStatus::Cancelled)
    }
}

/// The facts the program guards look at.
#[derive(Debug, Clone, Copy)]
pub struct ProgramFacts {
    /// Applications open at.
    pub application_opens_at: DateTime<Utc>,
    /// Applications close at.
    pub application_deadline: DateTime<Utc>,
    /// First day of the cohort.
    pub start_date: NaiveDate,
    /// Last day of the cohort.
    pub end_date: NaiveDate,
    /// Accepted applications so far.
    pub accepted: u32,
    /// The minimum cohort size.
    pub min_participants: u32,
}

/// What a program transition produced, besides its new status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramEvent {
    /// Now published.
    Published,
    /// Started: enrollments `enrolled → active`.
    Started,
    /// Completed: active enrollments graduate.
    Completed,
    /// Cancelled.
    Cancelled,
}

const TABLE: &[(ProgramStatus, ProgramCommand, ProgramStatus)] = {
    use ProgramCommand as C;
    use ProgramStatus as S;
    &[
        (S::Draft, C::Publish, S::Published),
        (S::Published, C::Start, S::InProgress),
        (S::InProgress, C::Complete, S::Completed),
        (S::Draft, C::Cancel, S::Cancelled),
        (S::Published, C::Cancel, S::Cancelled),
        (S::InProgress, C::Cancel, S::Cancelled),
    ]
};

/// Applies `command` to a program in `status`. Guards: publishing needs the deadline in the
/// future, start after the deadline and end after start; starting needs `now` on/after the start
/// date and at least `min_participants` accepted.
pub fn transition(
    status: ProgramStatus,
    command: ProgramCommand,
    facts: &ProgramFacts,
    now: DateTime<Utc>,
) -> Result<(ProgramStatus, ProgramEvent), Error> {
    let to = super::lookup("program", TABLE, status, command)?;
    let event = match command {
        ProgramCommand::Publish => {
            let mut errors = ValidationErrors::new();
            if facts.application_deadline <= now {
                errors.push("application_deadline", "must be in the future to publish");
            }
            if facts.application_opens_at >= facts.application_deadline {
                errors.push("application_opens_at", "must be before application_deadline");
            }
            if facts.start_date <= facts.application_deadline.date_naive() {
                errors.push("start_date", "must be after application_deadline");
            }
            if facts.end_date <= facts.start_date {
                errors.push("end_date", "must be after start_date");
            }
            errors.into_result()?;
            ProgramEvent::Published
        }
        ProgramCommand::Start => {
            let mut errors = ValidationErrors::new();
            if now.date_naive() < facts.start_date {
                errors.push("start_date", "the program cannot start before its start date");
            }
            if facts.accepted < facts.min_participants {
                errors.push(
                    "min_participants",
                    format!(
                        "needs at least {} accepted participants, has {}",
                        facts.min_participants, facts.accepted
                    ),
                );
            }
            errors.into_result()?;
            ProgramEvent::Started
        }
        ProgramCommand::Complete => ProgramEvent::Completed,
        ProgramCommand::Cancel => ProgramEvent::Cancelled,
    };
    Ok((to, event))
}

/// "Accepting applications" ⇔ published ∧ opens_at ≤ now < deadline.
pub fn accepts_applications(
    status: ProgramStatus,
    opens_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    status == ProgramStatus::Published && opens_at <= now && now < deadline
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap()
    }

    fn facts() -> ProgramFacts {
        ProgramFacts {
            application_opens_at: now() - Duration::days(1),
            application_deadline: now() + Duration::days(10),
            start_date: (now() + Duration::days(20)).date_naive(),
            end_date: (now() + Duration::days(80)).date_naive(),
            accepted: 3,
            min_participants: 2,
        }
    }

    #[test]
    fn publish_allowed_from_draft_and_refused_elsewhere() {
        assert_eq!(
            transition(ProgramStatus::Draft, ProgramCommand::Publish, &facts(), now()).unwrap(),
            (ProgramStatus::Published, ProgramEvent::Published)
        );
        for from in [
            ProgramStatus::Published,
            ProgramStatus::InProgress,
            ProgramStatus::Completed,
            ProgramStatus::Cancelled,
        ] {
            let err = transition(from, ProgramCommand::Publish, &facts(), now()).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidTransition {
                        entity: "program",
                        command: "publish",
                        ..
                    }
                ),
                "{from}"
            );
        }
    }

    #[test]
    fn publish_reports_every_bad_date() {
        let mut f = facts();
        f.application_deadline = now() - Duration::days(1);
        f.application_opens_at = now();
        f.end_date = f.start_date;
        let Err(Error::Validation(errors)) = transition(ProgramStatus::Draft, ProgramCommand::Publish, &f, now())
        else {
            panic!("expected validation error")
        };
        assert!(errors.has("application_deadline"));
        assert!(errors.has("application_opens_at"));
        assert!(errors.has("end_date"));
    }

    #[test]
    fn start_needs_date_and_minimum() {
        let f = facts();
        let at_start = f.start_date.and_hms_opt(9, 0, 0).unwrap().and_utc();
        assert_eq!(
            transition(ProgramStatus::Published, ProgramCommand::Start, &f, at_start)
                .unwrap()
                .0,
            ProgramStatus::InProgress
        );
        let Err(Error::Validation(e)) = transition(ProgramStatus::Published, ProgramCommand::Start, &f, now()) else {
            panic!()
        };
        assert!(e.has("start_date"));
        let few = ProgramFacts { accepted: 1, ..f };
        let Err(Error::Validation(e)) = transition(ProgramStatus::Published, ProgramCommand::Start, &few, at_start)
        else {
            panic!()
        };
        assert!(e.has("min_participants"));
        assert!(transition(ProgramStatus::Draft, ProgramCommand::Start, &f, at_start).is_err());
    }

    #[test]
    fn complete_only_in_progress() {
        assert_eq!(
            transition(ProgramStatus::InProgress, ProgramCommand::Complete, &facts(), now())
                .unwrap()
                .0,
            ProgramStatus::Completed
        );
        assert!(matches!(
            transition(ProgramStatus::Published, ProgramCommand::Complete, &facts(), now()),
            Err(Error::InvalidTransition { .. })
        ));
    }

    #[test]
    fn cancel_from_open_states_only() {
        for from in [
            ProgramStatus::Draft,
            ProgramStatus::Published,
            ProgramStatus::InProgress,
        ] {
            assert_eq!(
                transition(from, ProgramCommand::Cancel, &facts(), now()).unwrap().0,
                ProgramStatus::Cancelled
            );
        }
        for from in [ProgramStatus::Completed, ProgramStatus::Cancelled] {
            assert!(matches!(
                transition(from, ProgramCommand::Cancel, &facts(), now()),
                Err(Error::InvalidTransition { .. })
            ));
        }
    }

    #[test]
    fn accepting_window() {
        let f = facts();
        assert!(accepts_applications(
            ProgramStatus::Published,
            f.application_opens_at,
            f.application_deadline,
            now()
        ));
        assert!(!accepts_applications(
            ProgramStatus::Draft,
            f.application_opens_at,
            f.application_deadline,
            now()
        ));
        assert!(!accepts_applications(
            ProgramStatus::Published,
            f.application_opens_at,
            f.application_deadline,
            f.application_deadline
        ));
        assert!(!accepts_applications(
            ProgramStatus::Published,
            now() + Duration::hours(1),
            f.application_deadline,
            now()
        ));
    }
}
