//! Mentorship relationship (docs/domain.md §4.5): `requested → active` (ally accepts) `| declined`;
//! `active ⇄ paused`; `active|paused → completed | cancelled`; `requested → cancelled`
//! (entrepreneur). Accepting needs the ally available and below `max_mentees`; the service checks
//! that under the ally's profile lock so it holds under concurrency too.

use super::snake_enum;
use crate::error::Error;

snake_enum! {
    /// Where a mentorship is.
    pub enum MentorshipStatus {
        /// Asked by the entrepreneur, waiting for the ally.
        Requested => "requested",
        /// Running.
        Active => "active",
        /// On hold.
        Paused => "paused",
        /// Finished (terminal).
        Completed => "completed",
        /// Called off (terminal).
        Cancelled => "cancelled",
        /// Refused by the ally (terminal).
        Declined => "declined",
    }
}

snake_enum! {
    /// What can be done to a mentorship.
    pub enum MentorshipCommand {
        /// The ally accepts.
        Accept => "accept",
        /// The ally declines.
        Decline => "decline",
        /// Put on hold.
        Pause => "pause",
        /// Resume from hold.
        Resume => "resume",
        /// Finish.
        Complete => "complete",
        /// Call off.
        Cancel => "cancel",
    }
}

impl MentorshipStatus {
    /// Completed, cancelled and declined mentorships never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            MentorshipStatus::Completed | MentorshipStatus::Cancelled | MentorshipStatus::Declined
        )
    }

    /// Requested, active and paused relationships are "open": one per (ally, entrepreneur).
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }
}

/// The facts the accept guard needs, read under the ally's lock.
#[derive(Debug, Clone, Copy)]
pub struct AllyLoad {
    /// The ally takes new mentees.
    pub available: bool,
    /// Active mentorships of the ally now.
    pub active_mentees: u32,
    /// The ally's capacity.
    pub max_mentees: u32,
}

const TABLE: &[(MentorshipStatus, MentorshipCommand, MentorshipStatus)] = {
    use MentorshipCommand as C;
    use MentorshipStatus as S;
    &[
        (S::Requested, C::Accept, S::Active),
        (S::Requested, C::Decline, S::Declined),
        (S::Requested, C::Cancel, S::Cancelled),
        (S::Active, C::Pause, S::Paused),
        (S::Paused, C::Resume, S::Active),
        (S::Active, C::Complete, S::Completed),
        (S::Paused, C::Complete, S::Completed),
        (S::Active, C::Cancel, S::Cancelled),
        (S::Paused, C::Cancel, S::Cancelled),
    ]
};

/// Applies `command`. Accepting (and resuming, which re-takes a seat) an ally at capacity or
/// unavailable is `AllyAtCapacity`.
pub fn transition(
    status: MentorshipStatus,
    command: MentorshipCommand,
    load: &AllyLoad,
) -> Result<MentorshipStatus, Error> {
    let to = super::lookup("mentorship", TABLE, status, command)?;
    let full = load.active_mentees >= load.max_mentees;
    let refused = match command {
        MentorshipCommand::Accept => !load.available || full,
        // A paused mentee does not hold a seat; coming back takes one.
        MentorshipCommand::Resume => full,
        _ => false,
    };
    if refused {
        return Err(Error::AllyAtCapacity);
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE: AllyLoad = AllyLoad {
        available: true,
        active_mentees: 0,
        max_mentees: 3,
    };

    #[test]
    fn graph_edges_allowed_and_everything_else_refused() {
        crate::workflow::assert_machine(
            "mentorship",
            MentorshipStatus::ALL,
            MentorshipCommand::ALL,
            TABLE,
            |from, cmd| transition(from, cmd, &FREE),
        );
    }

    #[test]
    fn accept_needs_capacity_and_availability() {
        let full = AllyLoad {
            active_mentees: 3,
            ..FREE
        };
        assert!(matches!(
            transition(MentorshipStatus::Requested, MentorshipCommand::Accept, &full),
            Err(Error::AllyAtCapacity)
        ));
        let away = AllyLoad {
            available: false,
            ..FREE
        };
        assert!(matches!(
            transition(MentorshipStatus::Requested, MentorshipCommand::Accept, &away),
            Err(Error::AllyAtCapacity)
        ));
        assert!(transition(MentorshipStatus::Requested, MentorshipCommand::Decline, &full).is_ok());
        assert!(matches!(
            transition(MentorshipStatus::Paused, MentorshipCommand::Resume, &full),
            Err(Error::AllyAtCapacity)
        ));
    }
}
