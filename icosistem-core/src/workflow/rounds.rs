//! Review rounds (docs/domain.md §10): the guards of a decision taken in a round.
//!
//! ```text
//! under_review(round i) ─advance→ under_review(round i+1)      (i+1 < rounds)
//! under_review(round i) ─reject (in round)→ rejected
//! under_review(last round) ─accept→ accepted | ─waitlist→ waitlisted   (§4.2, capacity-checked)
//! ```
//!
//! Every round decision needs the round's quorum: `min_reviews` submitted reviews written in
//! that round by reviewers without a declared conflict. Passing a round (advance, accept,
//! waitlist) also needs the mean of those scores at or above the round's threshold; turning an
//! application down needs the quorum only. An application never skips a round: `accept` and
//! `waitlist` are refused before the last one, `advance` on it. The capacity and status guards
//! of §4.2 stay in [`super::application::transition`], which the service runs as well.

use crate::error::{Error, ValidationErrors};
use crate::workflow::application::ApplicationStatus;

/// A decision taken in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundDecision {
    /// Move on to the next round.
    Advance,
    /// Turn the application down in this round.
    Reject,
    /// Accept (the last round only).
    Accept,
    /// Waitlist (the last round only).
    Waitlist,
}

impl RoundDecision {
    /// The stable name (errors, audit).
    pub fn as_str(self) -> &'static str {
        match self {
            RoundDecision::Advance => "advance",
            RoundDecision::Reject => "reject",
            RoundDecision::Accept => "accept",
            RoundDecision::Waitlist => "waitlist",
        }
    }
}

/// What the guards of a round decision need, loaded under the program's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundFacts {
    /// The application's round (index).
    pub index: u32,
    /// How many rounds the program has (≥ 1).
    pub count: u32,
    /// The round's quorum.
    pub min_reviews: u32,
    /// The round's threshold, 0–100.
    pub threshold: u8,
    /// Submitted reviews of this round without a declared conflict.
    pub qualified_reviews: u32,
    /// Their mean score × 100.
    pub mean_score_centi: Option<u32>,
}

impl RoundFacts {
    /// Whether the application is in the program's last round.
    pub fn is_last(&self) -> bool {
        self.index + 1 >= self.count
    }
}

/// Checks `decision` on an application in `status` against the round `facts`. Returns the
/// round the application is in afterwards (the next one for `Advance`, the same otherwise).
///
/// Errors: `InvalidTransition` unless the application is under review; `Validation` on
/// `current_round` for a skipped round (accepting or waitlisting before the last round,
/// advancing past it), on `reviews` without the quorum, on `mean_score` below the threshold
/// (once the quorum is there).
pub fn check(status: ApplicationStatus, decision: RoundDecision, facts: &RoundFacts) -> Result<u32, Error> {
    if status != ApplicationStatus::UnderReview {
        return Err(Error::invalid_transition(
            "application",
            status.as_str(),
            decision.as_str(),
        ));
    }
    let mut errors = ValidationErrors::new();
    match decision {
        RoundDecision::Advance if facts.is_last() => errors.push(
            "current_round",
            "this is the program's last round: accept, waitlist or reject instead",
        ),
        RoundDecision::Accept | RoundDecision::Waitlist if !facts.is_last() => errors.push(
            "current_round",
            format!(
                "the application is in round {} of {}: it must pass every round first",
                facts.index + 1,
                facts.count
            ),
        ),
        _ => {}
    }
    let quorate = facts.qualified_reviews >= facts.min_reviews;
    if !quorate {
        errors.push(
            "reviews",
            format!(
                "a decision in this round needs at least {} submitted reviews without a declared conflict, has {}",
                facts.min_reviews, facts.qualified_reviews
            ),
        );
    }
    // The mean of a round without its quorum says nothing yet: only the quorum is reported.
    let passing = decision != RoundDecision::Reject;
    if passing && quorate && facts.mean_score_centi.unwrap_or(0) < u32::from(facts.threshold) * 100 {
        errors.push(
            "mean_score",
            format!("passing this round needs a mean score of at least {}", facts.threshold),
        );
    }
    errors.into_result()?;
    Ok(match decision {
        RoundDecision::Advance => facts.index + 1,
        _ => facts.index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationStatus as S;
    use RoundDecision as D;

    fn facts(index: u32) -> RoundFacts {
        RoundFacts {
            index,
            count: 3,
            min_reviews: 2,
            threshold: 60,
            qualified_reviews: 2,
            mean_score_centi: Some(6000),
        }
    }

    fn fields(result: Result<u32, Error>) -> Vec<String> {
        match result {
            Err(Error::Validation(e)) => e.fields().iter().map(|f| f.field.to_string()).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn advance_moves_one_round_at_a_time() {
        assert_eq!(check(S::UnderReview, D::Advance, &facts(0)).unwrap(), 1);
        assert_eq!(check(S::UnderReview, D::Advance, &facts(1)).unwrap(), 2);
        assert_eq!(fields(check(S::UnderReview, D::Advance, &facts(2))), ["current_round"]);
    }

    #[test]
    fn no_acceptance_before_the_last_round() {
        for decision in [D::Accept, D::Waitlist] {
            assert_eq!(fields(check(S::UnderReview, decision, &facts(0))), ["current_round"]);
            assert_eq!(check(S::UnderReview, decision, &facts(2)).unwrap(), 2);
        }
        assert_eq!(check(S::UnderReview, D::Reject, &facts(0)).unwrap(), 0);
    }

    #[test]
    fn every_decision_needs_the_quorum() {
        let f = RoundFacts {
            qualified_reviews: 1,
            ..facts(1)
        };
        for decision in [D::Advance, D::Reject] {
            assert_eq!(fields(check(S::UnderReview, decision, &f)), ["reviews"]);
        }
    }

    #[test]
    fn passing_needs_the_threshold_rejecting_does_not() {
        let f = RoundFacts {
            mean_score_centi: Some(5999),
            ..facts(1)
        };
        assert_eq!(fields(check(S::UnderReview, D::Advance, &f)), ["mean_score"]);
        assert_eq!(check(S::UnderReview, D::Reject, &f).unwrap(), 1);
        let last = RoundFacts {
            mean_score_centi: None,
            threshold: 0,
            ..facts(2)
        };
        assert_eq!(check(S::UnderReview, D::Accept, &last).unwrap(), 2);
        // Without the quorum, only the quorum is reported.
        let early = RoundFacts {
            qualified_reviews: 0,
            mean_score_centi: None,
            ..facts(1)
        };
        assert_eq!(fields(check(S::UnderReview, D::Advance, &early)), ["reviews"]);
    }

    #[test]
    fn only_applications_under_review_are_decided_in_a_round() {
        for status in ApplicationStatus::ALL.iter().filter(|s| **s != S::UnderReview) {
            assert!(matches!(
                check(*status, D::Advance, &facts(0)),
                Err(Error::InvalidTransition { .. })
            ));
        }
    }
}
