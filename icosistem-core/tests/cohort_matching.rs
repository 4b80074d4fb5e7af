//! Whole-cohort matching (docs/domain.md §11) against an exhaustive search.
//!
//! On random instances of up to 12 entrepreneurs × 8 allies with random profiles, seats,
//! availability and conflicts, `match_cohort`:
//! - reaches the optimum of its objective, computed here by an exhaustive dynamic programme over
//!   every vector of remaining seats (independent of the flow solver, and of how the solver folds
//!   the two criteria into one weight);
//! - returns exactly the assignment the documented tie rule picks (entrepreneurs in id order,
//!   each taking the best option still optimal: higher score, smaller ally id, left out last);
//! - respects every seat and conflict, lists every entrepreneur once, explains each unassigned
//!   one truthfully;
//! - is deterministic, also when the input lists come in another order;
//! - never does worse than the greedy one-at-a-time baseline.
//!
//! The raw solver gets the same treatment on random integer weights with many ties.

use std::collections::BTreeSet;
use std::ops::Add;

use icosistem_core::model::{AllyProfile, EntrepreneurProfile, ProjectStage, UserId};
use icosistem_core::rules::cohort::{
    CohortAlly, CohortEntrepreneur, CohortInput, MatchObjective, UnassignedReason, greedy_cohort, match_cohort,
    score_milli, solve_assignment,
};
use icosistem_core::rules::matching::match_score;
use proptest::prelude::*;

/// A lexicographic pair of criteria.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Value(i64, i64);

impl Add for Value {
    type Output = Value;
    fn add(self, o: Value) -> Value {
        Value(self.0 + o.0, self.1 + o.1)
    }
}

/// The exhaustive optimum and the tie rule's assignment: `value[i][j]` is what pairing row `i`
/// with column `j` adds (`None`: not allowed), `seats[j]` the column's capacity. Returns the best
/// total and, per row, its column under the rule "rows in order, each the best option (higher
/// value, then smaller column, none last) that still reaches the best total".
fn exhaustive<V>(value: &[Vec<Option<V>>], seats: &[u32]) -> (V, Vec<Option<usize>>)
where
    V: Copy + Ord + Add<Output = V> + Default + std::fmt::Debug,
{
    let rows = value.len();
    let radix: Vec<usize> = seats.iter().map(|&s| s as usize + 1).collect();
    let states: usize = radix.iter().product();
    let encode = |left: &[u32]| {
        left.iter()
            .zip(&radix)
            .rev()
            .fold(0, |acc, (&l, &r)| acc * r + l as usize)
    };
    // best[i][state]: the best value rows i.. can add with `state` seats left.
    let mut memo: Vec<Option<V>> = vec![None; (rows + 1) * states];
    fn best<V: Copy + Ord + Add<Output = V> + Default>(
        i: usize,
        left: &mut [u32],
        value: &[Vec<Option<V>>],
        memo: &mut [Option<V>],
        states: usize,
        encode: &dyn Fn(&[u32]) -> usize,
    ) -> V {
        if i == value.len() {
            return V::default();
        }
        let key = i * states + encode(left);
        if let Some(v) = memo[key] {
            return v;
        }
        let mut top = best(i + 1, left, value, memo, states, encode);
        for j in 0..left.len() {
            if let Some(v) = value[i][j]
                && left[j] > 0
            {
                left[j] -= 1;
                let with = v + best(i + 1, left, value, memo, states, encode);
                left[j] += 1;
                top = top.max(with);
            }
        }
        memo[key] = Some(top);
        top
    }
    let mut left = seats.to_vec();
    let optimum = best(0, &mut left, value, &mut memo, states, &encode);
    let mut choice = Vec::with_capacity(rows);
    let mut target = optimum;
    for i in 0..rows {
        let mut options: Vec<usize> = (0..left.len())
            .filter(|&j| value[i][j].is_some() && left[j] > 0)
            .collect();
        options.sort_by_key(|&j| (std::cmp::Reverse(value[i][j]), j));
        let mut chosen = None;
        for j in options {
            let v = value[i][j].expect("allowed");
            left[j] -= 1;
            let rest = best(i + 1, &mut left, value, &mut memo, states, &encode);
            if v + rest == target {
                chosen = Some(j);
                target = rest;
                break;
            }
            left[j] += 1;
        }
        if chosen.is_none() {
            assert_eq!(best(i + 1, &mut left, value, &mut memo, states, &encode), target);
        }
        choice.push(chosen);
    }
    (optimum, choice)
}

const SECTORS: [&str; 4] = ["fintech", "health", "retail", "edtech"];
const AREAS: [&str; 5] = ["fundraising", "sales", "product", "legal", "marketing"];
const STAGES: [ProjectStage; 3] = [ProjectStage::Idea, ProjectStage::Prototype, ProjectStage::Growth];

fn words(vocab: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(vocab, 0..=max)
        .prop_shuffle()
        .prop_map(|w| w.into_iter().map(str::to_owned).collect())
}

fn stages() -> impl Strategy<Value = Vec<ProjectStage>> {
    proptest::sample::subsequence(&STAGES[..], 0..=2)
}

fn entrepreneur() -> impl Strategy<Value = (EntrepreneurProfile, Vec<ProjectStage>)> {
    (
        words(&SECTORS, 2),
        words(&AREAS, 3),
        proptest::bool::weighted(0.9),
        stages(),
    )
        .prop_map(|(sectors, mentorship_areas, seeking_mentorship, stages)| {
            (
                EntrepreneurProfile {
                    sectors,
                    mentorship_areas,
                    seeking_mentorship,
                    ..EntrepreneurProfile::default()
                },
                stages,
            )
        })
}

fn ally() -> impl Strategy<Value = (AllyProfile, u32)> {
    (
        proptest::option::of(proptest::sample::select(&SECTORS[..])),
        words(&AREAS, 3),
        stages(),
        proptest::bool::weighted(0.85),
        0u32..=3,
    )
        .prop_map(|(expertise, specializations, preferred_stages, available, seats)| {
            (
                AllyProfile {
                    primary_expertise: expertise.map(str::to_owned),
                    specializations,
                    preferred_stages,
                    available,
                    ..AllyProfile::default()
                },
                seats,
            )
        })
}

fn instance() -> impl Strategy<Value = CohortInput> {
    (
        proptest::collection::vec((any::<u64>(), entrepreneur()), 0..=12),
        proptest::collection::vec((any::<u64>(), ally()), 0..=8),
        proptest::collection::vec(proptest::bool::weighted(0.15), 12 * 8),
        proptest::sample::select(&[0.0, 0.15, 0.3][..]),
        prop_oneof![Just(MatchObjective::MaxTotalScore), Just(MatchObjective::MaxCoverage)],
    )
        .prop_map(|(es, allies, conflicted, min_score, objective)| {
            // Entrepreneurs and allies take disjoint id ranges; the ids are random, so the input
            // order is not the id order.
            let entrepreneurs: Vec<CohortEntrepreneur> = es
                .into_iter()
                .map(|(id, (profile, project_stages))| CohortEntrepreneur {
                    id: user(1, id),
                    profile,
                    project_stages,
                })
                .collect();
            let allies: Vec<CohortAlly> = allies
                .into_iter()
                .map(|(id, (profile, seats))| CohortAlly {
                    id: user(2, id),
                    profile,
                    seats,
                })
                .collect();
            let mut conflicts = BTreeSet::new();
            for (i, e) in entrepreneurs.iter().enumerate() {
                for (j, a) in allies.iter().enumerate() {
                    if conflicted[i * 8 + j] {
                        conflicts.insert((a.id, e.id));
                    }
                }
            }
            CohortInput {
                entrepreneurs,
                allies,
                conflicts,
                min_score,
                objective,
            }
        })
        .prop_filter("ids are unique", |input| {
            let es: BTreeSet<UserId> = input.entrepreneurs.iter().map(|e| e.id).collect();
            let allies: BTreeSet<UserId> = input.allies.iter().map(|a| a.id).collect();
            es.len() == input.entrepreneurs.len() && allies.len() == input.allies.len()
        })
}

fn user(kind: u128, n: u64) -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128((kind << 64) | u128::from(n)))
}

/// The rules of docs/domain.md §11 restated from scratch: the value each allowed pair adds under the
/// objective, on the id-ordered lists.
/// The id-ordered lists and, per pair, the value it adds (`None`: not assignable).
struct Reference {
    entrepreneurs: Vec<UserId>,
    allies: Vec<UserId>,
    values: Vec<Vec<Option<Value>>>,
    seats: Vec<u32>,
}

fn reference_values(input: &CohortInput) -> Reference {
    let mut es: Vec<&CohortEntrepreneur> = input.entrepreneurs.iter().collect();
    es.sort_by_key(|e| e.id);
    let mut allies: Vec<&CohortAlly> = input.allies.iter().collect();
    allies.sort_by_key(|a| a.id);
    let seats: Vec<u32> = allies
        .iter()
        .map(|a| if a.profile.available { a.seats } else { 0 })
        .collect();
    let values = es
        .iter()
        .map(|e| {
            allies
                .iter()
                .zip(&seats)
                .map(|(a, &s)| {
                    let score = match_score(&e.profile, &e.project_stages, &a.profile, s > 0).score;
                    let ok = e.profile.seeking_mentorship
                        && s > 0
                        && score > input.min_score
                        && score_milli(score) > 0
                        && !input.conflicts.contains(&(a.id, e.id));
                    ok.then(|| match input.objective {
                        MatchObjective::MaxTotalScore => Value(score_milli(score), 1),
                        MatchObjective::MaxCoverage => Value(1, score_milli(score)),
                    })
                })
                .collect()
        })
        .collect();
    Reference {
        entrepreneurs: es.iter().map(|e| e.id).collect(),
        allies: allies.iter().map(|a| a.id).collect(),
        values,
        seats,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_matcher_is_optimal_explains_itself_and_is_deterministic(input in instance()) {
        let result = match_cohort(&input);
        let Reference { entrepreneurs: es, allies, values, seats } = reference_values(&input);
        let (optimum, expected) = exhaustive(&values, &seats);

        // Optimal, and exactly the assignment of the tie rule.
        let got: Vec<Option<usize>> = es
            .iter()
            .map(|e| {
                result
                    .pairs
                    .iter()
                    .find(|p| p.entrepreneur_id == *e)
                    .map(|p| allies.iter().position(|a| *a == p.ally_id).expect("a pool ally"))
            })
            .collect();
        let achieved = got
            .iter()
            .enumerate()
            .filter_map(|(i, j)| j.map(|j| values[i][j].expect("only allowed pairs")))
            .fold(Value::default(), |a, b| a + b);
        prop_assert_eq!(achieved, optimum);
        prop_assert_eq!(&got, &expected);
        let total: i64 = result.pairs.iter().map(|p| score_milli(p.score)).sum();
        prop_assert_eq!(total as u64, result.total_score_milli);

        // Seats and conflicts.
        for (j, ally) in allies.iter().enumerate() {
            let taken = result.pairs.iter().filter(|p| p.ally_id == *ally).count() as u32;
            prop_assert!(taken <= seats[j], "ally {} takes {} of {} seats", j, taken, seats[j]);
        }
        for p in &result.pairs {
            prop_assert!(!input.conflicts.contains(&(p.ally_id, p.entrepreneur_id)));
            prop_assert!(p.score > input.min_score);
            prop_assert!(!p.reasons.is_empty());
        }

        // Everyone once, in id order; every reason true.
        let mut listed: Vec<UserId> = result.pairs.iter().map(|p| p.entrepreneur_id).collect();
        listed.extend(result.unassigned.iter().map(|u| u.entrepreneur_id));
        listed.sort();
        prop_assert_eq!(&listed, &es);
        prop_assert!(result.pairs.windows(2).all(|w| w[0].entrepreneur_id < w[1].entrepreneur_id));
        for u in &result.unassigned {
            let i = es.iter().position(|e| *e == u.entrepreneur_id).expect("a cohort entrepreneur");
            let entrepreneur = input.entrepreneurs.iter().find(|e| e.id == u.entrepreneur_id).expect("listed");
            prop_assert!(!u.explanation.is_empty());
            match &u.reason {
                UnassignedReason::NotSeekingMentorship => {
                    prop_assert!(!entrepreneur.profile.seeking_mentorship)
                }
                UnassignedReason::NoEligibleAlly | UnassignedReason::OnlyConflictedAllies { .. } => {
                    prop_assert!(values[i].iter().all(Option::is_none))
                }
                UnassignedReason::CapacityExhausted { allies: full } => {
                    prop_assert!(!full.is_empty());
                    for ally in full {
                        let j = allies.iter().position(|a| a == ally).expect("a pool ally");
                        prop_assert!(!input.conflicts.contains(&(*ally, u.entrepreneur_id)), "a listed ally has no conflict");
                        let taken = result.pairs.iter().filter(|p| p.ally_id == *ally).count() as u32;
                        prop_assert_eq!(taken, seats[j], "a listed ally is full");
                    }
                }
            }
        }

        // Deterministic, whatever the order of the lists.
        prop_assert_eq!(&match_cohort(&input), &result);
        let mut shuffled = input.clone();
        shuffled.entrepreneurs.reverse();
        shuffled.allies.rotate_left(input.allies.len() / 2);
        prop_assert_eq!(&match_cohort(&shuffled), &result);

        // Never worse than one at a time.
        let greedy = greedy_cohort(&input);
        match input.objective {
            MatchObjective::MaxTotalScore => prop_assert!(greedy.total_score_milli <= result.total_score_milli),
            MatchObjective::MaxCoverage => prop_assert!(greedy.pairs.len() <= result.pairs.len()),
        }
    }

    #[test]
    fn the_solver_matches_the_exhaustive_search_on_weights_with_ties(
        rows in 0usize..=10,
        seats in proptest::collection::vec(0u32..=3, 0..=6),
        cells in proptest::collection::vec(proptest::option::weighted(0.6, 1i64..=6), 10 * 6),
    ) {
        let cols = seats.len();
        let weights: Vec<Vec<Option<i64>>> = (0..rows)
            .map(|i| (0..cols).map(|j| cells[i * 6 + j]).collect())
            .collect();
        let got = solve_assignment(&weights, &seats);
        let (optimum, expected) = exhaustive(&weights, &seats);
        let total: i64 = got.iter().enumerate().filter_map(|(i, j)| j.map(|j| weights[i][j].expect("allowed"))).sum();
        prop_assert_eq!(total, optimum);
        prop_assert_eq!(got, expected);
    }
}
