//! Mentorship session (docs/domain.md §4.6):
//! `scheduled → confirmed → in_progress → completed`; `scheduled|confirmed → cancelled`
//! (late when less than 24 h before the start); `scheduled|confirmed → scheduled` by reschedule
//! (new time, `reschedule_count + 1`); `scheduled|confirmed → no_show` (the system, 24 h after
//! the start). Completed, cancelled and no-show are terminal.

use chrono::{DateTime, Duration, Utc};

use super::snake_enum;
use crate::error::{Error, ValidationErrors};

snake_enum! {
    /// Where a session is.
    pub enum SessionStatus {
        /// Booked.
        Scheduled => "scheduled",
        /// Confirmed by the ally.
        Confirmed => "confirmed",
        /// Happening.
        InProgress => "in_progress",
        /// Held (terminal).
        Completed => "completed",
        /// Called off (terminal).
        Cancelled => "cancelled",
        /// Nobody held it (terminal).
        NoShow => "no_show",
    }
}

snake_enum! {
    /// What can be done to a session.
    pub enum SessionCommand {
        /// The ally confirms.
        Confirm => "confirm",
        /// It begins.
        Start => "start",
        /// It ends.
        Complete => "complete",
        /// Called off.
        Cancel => "cancel",
        /// Moved to another time.
        Reschedule => "reschedule",
        /// Marked as not held (system).
        MarkNoShow => "no_show",
    }
}

impl SessionStatus {
    /// Completed, cancelled and no-show sessions never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionStatus::Completed | SessionStatus::Cancelled | SessionStatus::NoShow
        )
    }

    /// Whether the session occupies its time slot (for overlap checks): every status but
    /// cancelled. A no-show or completed session happened (or was due) at that time.
    pub fn occupies_calendar(self) -> bool {
        self != SessionStatus::Cancelled
    }
}

const TABLE: &[(SessionStatus, SessionCommand, SessionStatus)] = {
    use SessionCommand as C;
    use SessionStatus as S;
    &[
        (S::Scheduled, C::Confirm, S::Confirmed),
        (S::Confirmed, C::Start, S::InProgress),
        (S::InProgress, C::Complete, S::Completed),
        (S::Scheduled, C::Cancel, S::Cancelled),
        (S::Confirmed, C::Cancel, S::Cancelled),
        (S::Scheduled, C::Reschedule, S::Scheduled),
        (S::Confirmed, C::Reschedule, S::Scheduled),
        (S::Scheduled, C::MarkNoShow, S::NoShow),
        (S::Confirmed, C::MarkNoShow, S::NoShow),
    ]
};

/// The timing rules a session command depends on.
#[derive(Debug, Clone, Copy)]
pub struct SessionTiming {
    /// The session's start.
    pub starts_at: DateTime<Utc>,
    /// Now.
    pub now: DateTime<Utc>,
    /// Cancellations closer than this to the start are late (default 24 h).
    pub late_cancellation_window: Duration,
    /// A session not held this long after its start is a no-show (default 24 h).
    pub no_show_after: Duration,
}

/// The outcome of a session transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTransition {
    /// The new status.
    pub to: SessionStatus,
    /// A cancellation inside the late window.
    pub late_cancellation: bool,
}

/// Applies `command`. Starting is allowed from 15 minutes before the start on; a no-show only
/// once `no_show_after` has passed since the start.
pub fn transition(
    status: SessionStatus,
    command: SessionCommand,
    timing: &SessionTiming,
) -> Result<SessionTransition, Error> {
    let to = super::lookup("session", TABLE, status, command)?;
    let mut late_cancellation = false;
    match command {
        SessionCommand::Start if timing.now < timing.starts_at - Duration::minutes(15) => {
            return Err(ValidationErrors::single("starts_at", "a session starts at most 15 minutes early").into());
        }
        // Past the no-show point the session is a no-show, whether or not the sweep ran yet.
        SessionCommand::Start if timing.now >= timing.starts_at + timing.no_show_after => {
            return Err(ValidationErrors::single("starts_at", "too late to start: the session is a no-show").into());
        }
        SessionCommand::MarkNoShow if timing.now < timing.starts_at + timing.no_show_after => {
            return Err(ValidationErrors::single("starts_at", "too early to mark the session as a no-show").into());
        }
        SessionCommand::Cancel => late_cancellation = timing.starts_at - timing.now < timing.late_cancellation_window,
        _ => {}
    }
    Ok(SessionTransition { to, late_cancellation })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn timing(hours_before_start: i64) -> SessionTiming {
        let starts_at = Utc.with_ymd_and_hms(2027, 3, 1, 15, 0, 0).unwrap();
        SessionTiming {
            starts_at,
            now: starts_at - Duration::hours(hours_before_start),
            late_cancellation_window: Duration::hours(24),
            no_show_after: Duration::hours(24),
        }
    }

    #[test]
    fn graph_edges_allowed_and_everything_else_refused() {
        crate::workflow::assert_machine(
            "session",
            SessionStatus::ALL,
            SessionCommand::ALL,
            TABLE,
            |from, cmd| {
                // A moment that satisfies every timing guard that applies to the command.
                let t = match cmd {
                    SessionCommand::MarkNoShow => timing(-25),
                    _ => timing(0),
                };
                transition(from, cmd, &t).map(|outcome| outcome.to)
            },
        );
    }

    #[test]
    fn late_cancellation_inside_24_hours() {
        assert!(
            transition(SessionStatus::Scheduled, SessionCommand::Cancel, &timing(23))
                .unwrap()
                .late_cancellation
        );
        assert!(
            !transition(SessionStatus::Scheduled, SessionCommand::Cancel, &timing(25))
                .unwrap()
                .late_cancellation
        );
    }

    #[test]
    fn timing_guards() {
        assert!(matches!(
            transition(SessionStatus::Confirmed, SessionCommand::Start, &timing(1)),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            transition(SessionStatus::Confirmed, SessionCommand::MarkNoShow, &timing(-23)),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            transition(SessionStatus::Confirmed, SessionCommand::Start, &timing(-24)),
            Err(Error::Validation(_))
        ));
        assert!(transition(SessionStatus::Confirmed, SessionCommand::Start, &timing(-23)).is_ok());
    }
}
