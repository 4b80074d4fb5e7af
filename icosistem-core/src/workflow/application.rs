//! Application selection (docs/domain.md §4.2):
//!
//! ```text
//! draft ─submit→ submitted ─(first reviewer assigned)→ under_review
//! under_review ─accept→ accepted | ─reject→ rejected | ─waitlist→ waitlisted
//! waitlisted ─promote→ accepted | ─reject→ rejected
//! draft|submitted|under_review|waitlisted|accepted ─withdraw→ withdrawn
//! ```
//!
//! The guards here are the invariants of the product: a decision needs `min_reviews` submitted
//! reviews without a declared conflict, and `accept`/`promote` never take a program past
//! `max_participants`. The service evaluates them inside the unit of work that holds the program
//! lock, so the facts cannot change between the check and the write.

use super::snake_enum;
use crate::error::{Error, ValidationErrors};
use crate::workflow::program::ProgramStatus;

snake_enum! {
    /// Where an application is in selection.
    pub enum ApplicationStatus {
        /// Being written by the applicant.
        Draft => "draft",
        /// Sent; waiting for a reviewer.
        Submitted => "submitted",
        /// At least one reviewer is assigned.
        UnderReview => "under_review",
        /// In the cohort (an enrollment exists).
        Accepted => "accepted",
        /// Turned down (terminal).
        Rejected => "rejected",
        /// Accepted if a seat frees up.
        Waitlisted => "waitlisted",
        /// Taken back by the applicant (terminal).
        Withdrawn => "withdrawn",
    }
}

snake_enum! {
    /// What can be done to an application.
    pub enum ApplicationCommand {
        /// Send the draft.
        Submit => "submit",
        /// The first reviewer was assigned.
        StartReview => "start_review",
        /// Take it into the program.
        Accept => "accept",
        /// Turn it down.
        Reject => "reject",
        /// Keep it waiting for a seat.
        Waitlist => "waitlist",
        /// Move it from the waitlist into the program.
        Promote => "promote",
        /// The applicant takes it back.
        Withdraw => "withdraw",
    }
}

impl ApplicationStatus {
    /// Rejected and withdrawn applications never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, ApplicationStatus::Rejected | ApplicationStatus::Withdrawn)
    }

    /// Whether this application counts for "one per (program, project)": every status but
    /// withdrawn does.
    pub fn holds_program_slot(self) -> bool {
        self != ApplicationStatus::Withdrawn
    }
}

/// The facts the guards need, loaded by the service under the program's lock.
#[derive(Debug, Clone, Copy)]
pub struct ApplicationFacts {
    /// The program's status.
    pub program_status: ProgramStatus,
    /// Whether the program accepts applications now (published ∧ inside the window).
    pub program_accepting: bool,
    /// Accepted applications of the program right now.
    pub accepted: u32,
    /// The program's capacity.
    pub max_participants: u32,
    /// Submitted reviews by reviewers without a declared conflict.
    pub qualified_reviews: u32,
    /// Reviews the program requires before a decision.
    pub min_reviews: u32,
}

/// What an application transition produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationEvent {
    /// The applicant submitted it.
    Submitted,
    /// Review started.
    ReviewStarted,
    /// Accepted (directly or by promotion): an enrollment must be created and a seat taken.
    Accepted {
        /// True when it came from the waitlist.
        promoted: bool,
    },
    /// Rejected.
    Rejected,
    /// Waitlisted.
    Waitlisted,
    /// Withdrawn; `freed_seat` when it had been accepted (the waitlist may move up).
    Withdrawn {
        /// It held a seat.
        freed_seat: bool,
    },
}

const TABLE: &[(ApplicationStatus, ApplicationCommand, ApplicationStatus)] = {
    use ApplicationCommand as C;
    use ApplicationStatus as S;
    &[
        (S::Draft, C::Submit, S::Submitted),
        (S::Submitted, C::StartReview, S::UnderReview),
        (S::UnderReview, C::Accept, S::Accepted),
        (S::UnderReview, C::Reject, S::Rejected),
        (S::UnderReview, C::Waitlist, S::Waitlisted),
        (S::Waitlisted, C::Promote, S::Accepted),
        (S::Waitlisted, C::Reject, S::Rejected),
        (S::Draft, C::Withdraw, S::Withdrawn),
        (S::Submitted, C::Withdraw, S::Withdrawn),
        (S::UnderReview, C::Withdraw, S::Withdrawn),
        (S::Waitlisted, C::Withdraw, S::Withdrawn),
        (S::Accepted, C::Withdraw, S::Withdrawn),
    ]
};

/// Applies `command` to an application in `status`, checking the guards against `facts`.
///
/// Errors: `InvalidTransition` for a move outside the graph; `Validation` (field `program_id`)
/// when submitting to a program that does not accept applications, (field `reviews`) when a
/// decision lacks `min_reviews` qualified reviews, (field `program_id`) when deciding on a
/// program that is finished; `ProgramFull` when accepting or promoting into a full program.
pub fn transition(
    status: ApplicationStatus,
    command: ApplicationCommand,
    facts: &ApplicationFacts,
) -> Result<(ApplicationStatus, ApplicationEvent), Error> {
    use ApplicationCommand as C;
    let to = super::lookup("application", TABLE, status, command)?;
    let deciding = matches!(command, C::Accept | C::Reject | C::Waitlist | C::Promote);
    if deciding {
        let mut errors = ValidationErrors::new();
        if facts.program_status.is_terminal() {
            errors.push("program_id", "the program is finished; no more decisions");
        }
        // Promotion and rejection from the waitlist reuse the reviews that led to it.
        if status == ApplicationStatus::UnderReview && facts.qualified_reviews < facts.min_reviews {
            errors.push(
                "reviews",
                format!(
                    "a decision needs at least {} submitted reviews without a declared conflict, has {}",
                    facts.min_reviews, facts.qualified_reviews
                ),
            );
        }
        errors.into_result()?;
    }
    if matches!(command, C::Accept | C::Promote) && facts.accepted >= facts.max_participants {
        return Err(Error::ProgramFull);
    }
    let event = match command {
        C::Submit => {
            if !facts.program_accepting {
                return Err(Error::invalid(
                    "program_id",
                    "the program is not accepting applications",
                ));
            }
            ApplicationEvent::Submitted
        }
        C::StartReview => ApplicationEvent::ReviewStarted,
        C::Accept => ApplicationEvent::Accepted { promoted: false },
        C::Promote => ApplicationEvent::Accepted { promoted: true },
        C::Reject => ApplicationEvent::Rejected,
        C::Waitlist => ApplicationEvent::Waitlisted,
        C::Withdraw => ApplicationEvent::Withdrawn {
            freed_seat: status == ApplicationStatus::Accepted,
        },
    };
    Ok((to, event))
}

/// Waitlist order: highest mean score first, then earliest submitted, then id (so the order is
/// total and every store agrees). `mean_score_centi` is the mean review score × 100.
pub fn waitlist_rank_cmp(
    a: (Option<u32>, Option<chrono::DateTime<chrono::Utc>>, uuid::Uuid),
    b: (Option<u32>, Option<chrono::DateTime<chrono::Utc>>, uuid::Uuid),
) -> std::cmp::Ordering {
    b.0.unwrap_or(0)
        .cmp(&a.0.unwrap_or(0))
        .then_with(|| a.1.cmp(&b.1))
        .then_with(|| a.2.cmp(&b.2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationCommand as C;
    use ApplicationStatus as S;

    fn facts() -> ApplicationFacts {
        ApplicationFacts {
            program_status: ProgramStatus::Published,
            program_accepting: true,
            accepted: 0,
            max_participants: 2,
            qualified_reviews: 1,
            min_reviews: 1,
        }
    }

    fn refused(from: S, cmd: C) {
        assert!(
            matches!(
                transition(from, cmd, &facts()),
                Err(Error::InvalidTransition {
                    entity: "application",
                    ..
                })
            ),
            "{from} -{cmd}-> should be refused"
        );
    }

    #[test]
    fn every_edge_of_the_graph_is_allowed() {
        for (from, cmd, to) in TABLE {
            assert_eq!(transition(*from, *cmd, &facts()).unwrap().0, *to, "{from} -{cmd}->");
        }
    }

    #[test]
    fn every_other_move_is_refused() {
        for from in S::ALL {
            for cmd in C::ALL {
                if !TABLE.iter().any(|(f, c, _)| f == from && c == cmd) {
                    refused(*from, *cmd);
                }
            }
        }
    }

    #[test]
    fn terminal_states_accept_nothing() {
        for from in S::ALL.iter().filter(|s| s.is_terminal()) {
            for cmd in C::ALL {
                refused(*from, *cmd);
            }
        }
    }

    #[test]
    fn submit_needs_an_open_program() {
        let f = ApplicationFacts {
            program_accepting: false,
            ..facts()
        };
        let Err(Error::Validation(e)) = transition(S::Draft, C::Submit, &f) else {
            panic!()
        };
        assert!(e.has("program_id"));
    }

    #[test]
    fn decisions_need_min_reviews() {
        let f = ApplicationFacts {
            qualified_reviews: 1,
            min_reviews: 2,
            ..facts()
        };
        for cmd in [C::Accept, C::Reject, C::Waitlist] {
            let Err(Error::Validation(e)) = transition(S::UnderReview, cmd, &f) else {
                panic!("{cmd}")
            };
            assert!(e.has("reviews"));
        }
        // The waitlist was reached with enough reviews; promoting re-checks capacity only.
        assert!(transition(S::Waitlisted, C::Promote, &f).is_ok());
    }

    #[test]
    fn accept_and_promote_refuse_a_full_program() {
        let f = ApplicationFacts { accepted: 2, ..facts() };
        assert!(matches!(
            transition(S::UnderReview, C::Accept, &f),
            Err(Error::ProgramFull)
        ));
        assert!(matches!(
            transition(S::Waitlisted, C::Promote, &f),
            Err(Error::ProgramFull)
        ));
        assert!(transition(S::UnderReview, C::Waitlist, &f).is_ok());
    }

    #[test]
    fn withdrawing_an_accepted_application_frees_a_seat() {
        assert_eq!(
            transition(S::Accepted, C::Withdraw, &facts()).unwrap().1,
            ApplicationEvent::Withdrawn { freed_seat: true }
        );
        assert_eq!(
            transition(S::Waitlisted, C::Withdraw, &facts()).unwrap().1,
            ApplicationEvent::Withdrawn { freed_seat: false }
        );
    }

    #[test]
    fn no_decision_on_a_finished_program() {
        let f = ApplicationFacts {
            program_status: ProgramStatus::Cancelled,
            ..facts()
        };
        assert!(matches!(
            transition(S::UnderReview, C::Accept, &f),
            Err(Error::Validation(_))
        ));
    }

    #[test]
    fn waitlist_order() {
        use chrono::TimeZone;
        let t1 = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let t2 = t1 + chrono::Duration::hours(1);
        let a = (Some(9000), Some(t2), uuid::Uuid::from_u128(2));
        let b = (Some(8000), Some(t1), uuid::Uuid::from_u128(1));
        let c = (Some(9000), Some(t1), uuid::Uuid::from_u128(3));
        let mut v = vec![a, b, c];
        v.sort_by(|x, y| waitlist_rank_cmp(*x, *y));
        assert_eq!(v, vec![c, a, b]);
    }
}
