//! Meetings (docs/domain.md §4.8): `scheduled → in_progress → completed`; `scheduled → cancelled`;
//! rescheduling keeps the id (and the status `scheduled`). Participants answer
//! `pending | accepted | declined | tentative`.

use chrono::{DateTime, Duration, Utc};

use super::snake_enum;
use crate::error::{Error, ValidationErrors};

snake_enum! {
    /// Where a meeting is.
    pub enum MeetingStatus {
        /// Planned.
        Scheduled => "scheduled",
        /// Happening.
        InProgress => "in_progress",
        /// Held (terminal).
        Completed => "completed",
        /// Called off (terminal).
        Cancelled => "cancelled",
    }
}

snake_enum! {
    /// What can be done to a meeting.
    pub enum MeetingCommand {
        /// It begins.
        Start => "start",
        /// It ends.
        Complete => "complete",
        /// Called off.
        Cancel => "cancel",
        /// Moved to another time.
        Reschedule => "reschedule",
    }
}

snake_enum! {
    /// A participant's answer to an invitation.
    pub enum ParticipantResponse {
        /// Not answered yet.
        Pending => "pending",
        /// Coming.
        Accepted => "accepted",
        /// Not coming.
        Declined => "declined",
        /// Maybe.
        Tentative => "tentative",
    }
}

impl MeetingStatus {
    /// Completed and cancelled meetings never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, MeetingStatus::Completed | MeetingStatus::Cancelled)
    }
}

const TABLE: &[(MeetingStatus, MeetingCommand, MeetingStatus)] = {
    use MeetingCommand as C;
    use MeetingStatus as S;
    &[
        (S::Scheduled, C::Start, S::InProgress),
        (S::InProgress, C::Complete, S::Completed),
        (S::Scheduled, C::Cancel, S::Cancelled),
        (S::Scheduled, C::Reschedule, S::Scheduled),
    ]
};

/// Applies a meeting command.
pub fn transition(status: MeetingStatus, command: MeetingCommand) -> Result<MeetingStatus, Error> {
    super::lookup("meeting", TABLE, status, command)
}

/// A meeting's time rules: start < end, at most `max_duration` long, start at least `min_lead`
/// after now. Reports every failure.
pub fn check_times(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
    min_lead: Duration,
    max_duration: Duration,
) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    if ends_at <= starts_at {
        errors.push("ends_at", "must be after starts_at");
    } else if ends_at - starts_at > max_duration {
        errors.push(
            "ends_at",
            format!("a meeting lasts at most {} minutes", max_duration.num_minutes()),
        );
    }
    if starts_at < now + min_lead {
        errors.push(
            "starts_at",
            format!("must be at least {} minutes from now", min_lead.num_minutes()),
        );
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn graph_edges_allowed_and_everything_else_refused() {
        crate::workflow::assert_machine("meeting", MeetingStatus::ALL, MeetingCommand::ALL, TABLE, transition);
    }

    #[test]
    fn time_rules_report_every_failure() {
        let now = Utc.with_ymd_and_hms(2027, 1, 1, 10, 0, 0).unwrap();
        let lead = Duration::minutes(5);
        let max = Duration::hours(8);
        assert!(check_times(now + lead, now + Duration::hours(1), now, lead, max).is_empty());
        let e = check_times(now, now - Duration::minutes(1), now, lead, max);
        assert!(e.has("ends_at") && e.has("starts_at"));
        assert!(check_times(now + lead, now + lead + Duration::hours(9), now, lead, max).has("ends_at"));
    }
}
