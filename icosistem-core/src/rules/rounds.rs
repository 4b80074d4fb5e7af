//! A program's review rounds as data (docs/domain.md §10): what a caller may define, checked with
//! every failing field named (`rounds[1].threshold`).

use std::collections::HashSet;

use crate::error::ValidationErrors;
use crate::model::{Round, UserId};

/// Longest round name, in characters.
pub const MAX_ROUND_NAME: usize = 100;

/// One round as a caller defines it. Numbers are wide so that a negative or huge value is
/// reported on its field rather than failing to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundInput {
    /// Name, unique within the program (trimmed, 1–100 characters).
    pub name: String,
    /// Who may review in the round; empty: any member of the organization.
    pub reviewer_ids: Vec<UserId>,
    /// Reviews the round's decision needs (1–20).
    pub min_reviews: i64,
    /// Mean score needed to pass the round (0–100).
    pub threshold: i64,
    /// Reviewers do not see who applied.
    pub blind: bool,
}

impl From<&Round> for RoundInput {
    fn from(r: &Round) -> Self {
        Self {
            name: r.name.clone(),
            reviewer_ids: r.reviewer_ids.clone(),
            min_reviews: i64::from(r.min_reviews),
            threshold: i64::from(r.threshold),
            blind: r.blind,
        }
    }
}

/// Checks a list of rounds given explicitly: at least one, at most `max_rounds`, names
/// non-empty and unique (case-insensitively), `min_reviews` 1–20, thresholds 0–100, at most
/// `max_reviewers` distinct reviewers per round. Reports into `errors` under `rounds…` and
/// returns the rounds (reviewer ids deduplicated, order kept) when all is well.
pub fn check_rounds(
    input: &[RoundInput],
    max_rounds: usize,
    max_reviewers: usize,
    errors: &mut ValidationErrors,
) -> Option<Vec<Round>> {
    let before = errors.fields().len();
    if input.is_empty() {
        errors.push(
            "rounds",
            "must list at least one round (leave it out for a single implicit round)",
        );
    }
    if input.len() > max_rounds {
        errors.push("rounds", format!("at most {max_rounds} rounds"));
    }
    let mut names = HashSet::new();
    let mut rounds = Vec::with_capacity(input.len());
    for (i, r) in input.iter().enumerate() {
        let name = r.name.trim();
        if name.is_empty() {
            errors.push(format!("rounds[{i}].name"), "must not be empty");
        } else if name.chars().count() > MAX_ROUND_NAME {
            errors.push(
                format!("rounds[{i}].name"),
                format!("must be at most {MAX_ROUND_NAME} characters"),
            );
        } else if !names.insert(name.to_lowercase()) {
            errors.push(format!("rounds[{i}].name"), "must be unique among the program's rounds");
        }
        if !(1..=20).contains(&r.min_reviews) {
            errors.push(format!("rounds[{i}].min_reviews"), "must be between 1 and 20");
        }
        if !(0..=100).contains(&r.threshold) {
            errors.push(format!("rounds[{i}].threshold"), "must be between 0 and 100");
        }
        let mut reviewer_ids = Vec::with_capacity(r.reviewer_ids.len());
        for id in &r.reviewer_ids {
            if !reviewer_ids.contains(id) {
                reviewer_ids.push(*id);
            }
        }
        if reviewer_ids.len() > max_reviewers {
            errors.push(
                format!("rounds[{i}].reviewer_ids"),
                format!("at most {max_reviewers} reviewers"),
            );
        }
        rounds.push(Round {
            name: name.to_owned(),
            reviewer_ids,
            min_reviews: u32::try_from(r.min_reviews).unwrap_or(1),
            threshold: u8::try_from(r.threshold).unwrap_or(0),
            blind: r.blind,
        });
    }
    (errors.fields().len() == before).then_some(rounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(name: &str, min_reviews: i64, threshold: i64) -> RoundInput {
        RoundInput {
            name: name.to_owned(),
            reviewer_ids: Vec::new(),
            min_reviews,
            threshold,
            blind: false,
        }
    }

    #[test]
    fn a_valid_list_comes_back_trimmed_and_deduplicated() {
        let id = UserId::from(uuid::Uuid::from_u128(7));
        let mut screening = round(" screening ", 2, 60);
        screening.reviewer_ids = vec![id, id];
        let mut errors = ValidationErrors::new();
        let rounds = check_rounds(&[screening, round("committee", 1, 70)], 10, 50, &mut errors).expect("valid");
        assert!(errors.is_empty());
        assert_eq!(rounds[0].name, "screening");
        assert_eq!(rounds[0].reviewer_ids, vec![id]);
        assert_eq!(rounds[1].threshold, 70);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut errors = ValidationErrors::new();
        let input = [round("", 0, 50), round("a", 1, 101), round("A", 21, -1)];
        assert!(check_rounds(&input, 10, 50, &mut errors).is_none());
        for field in [
            "rounds[0].name",
            "rounds[0].min_reviews",
            "rounds[1].threshold",
            "rounds[2].name",
            "rounds[2].min_reviews",
            "rounds[2].threshold",
        ] {
            assert!(errors.has(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn the_list_is_bounded_and_never_empty() {
        let mut errors = ValidationErrors::new();
        assert!(check_rounds(&[], 10, 50, &mut errors).is_none());
        assert!(errors.has("rounds"));
        let many: Vec<RoundInput> = (0..3).map(|i| round(&format!("r{i}"), 1, 0)).collect();
        let mut errors = ValidationErrors::new();
        assert!(check_rounds(&many, 2, 50, &mut errors).is_none());
        assert!(errors.has("rounds"));
        let mut crowded = round("r", 1, 0);
        crowded.reviewer_ids = (0..3).map(|i| UserId::from(uuid::Uuid::from_u128(i))).collect();
        let mut errors = ValidationErrors::new();
        assert!(check_rounds(&[crowded], 2, 2, &mut errors).is_none());
        assert!(errors.has("rounds[0].reviewer_ids"));
    }
}
