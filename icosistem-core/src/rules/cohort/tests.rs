//! Unit tests of the cohort matcher.

use super::*;

fn id(n: u128) -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128(n))
}

#[test]
fn the_solver_prefers_the_total_over_each_rows_best() {
    // Row 0 alone would take column 0 (10); both rows fit only if row 0 takes column 1.
    let w = vec![vec![Some(10), Some(9)], vec![Some(8), None]];
    assert_eq!(solve_assignment(&w, &[1, 1]), vec![Some(1), Some(0)]);
    // With one seat in all, the best single pair wins.
    assert_eq!(solve_assignment(&w, &[1, 0]), vec![Some(0), None]);
}

#[test]
fn ties_go_to_the_earlier_row_then_the_smaller_column() {
    let w = vec![vec![Some(5), Some(5)], vec![Some(5), Some(5)]];
    assert_eq!(solve_assignment(&w, &[1, 1]), vec![Some(0), Some(1)]);
    assert_eq!(solve_assignment(&w, &[2, 2]), vec![Some(0), Some(0)]);
    // Only one seat: row 0 takes it.
    assert_eq!(solve_assignment(&w, &[1, 0]), vec![Some(0), None]);
    // Disallowed and out-of-range weights are never taken.
    let w = vec![vec![Some(0), Some(-3), Some(MAX_WEIGHT + 1), None]];
    assert_eq!(solve_assignment(&w, &[1, 1, 1, 1]), vec![None]);
    assert_eq!(solve_assignment(&[], &[3]), Vec::<Option<usize>>::new());
}

fn entrepreneur(n: u128, sector: &str, areas: &[&str]) -> CohortEntrepreneur {
    CohortEntrepreneur {
        id: id(n),
        profile: EntrepreneurProfile {
            sectors: vec![sector.to_owned()],
            mentorship_areas: areas.iter().map(|s| (*s).to_owned()).collect(),
            ..EntrepreneurProfile::default()
        },
        project_stages: Vec::new(),
    }
}

fn ally(n: u128, expertise: &str, specializations: &[&str], seats: u32) -> CohortAlly {
    CohortAlly {
        id: id(n),
        profile: AllyProfile {
            primary_expertise: Some(expertise.to_owned()),
            specializations: specializations.iter().map(|s| (*s).to_owned()).collect(),
            ..AllyProfile::default()
        },
        seats,
    }
}

/// The example of the module docs, with real profiles: the best total leaves E2 out,
/// coverage seats both.
#[test]
fn the_objective_decides_between_total_and_coverage() {
    // E1–A1 = 0.3 (sector) + 0.4 (areas) + 0.1 (seat) = 0.8; E1–A2 = 0.4 × 1/3 + 0.1 = 0.233;
    // E2–A1 = 0.4; E2–A2 = 0.1, below the threshold.
    let input = CohortInput {
        entrepreneurs: vec![
            entrepreneur(1, "fintech", &["fundraising"]),
            entrepreneur(2, "fintech", &[]),
        ],
        allies: vec![
            ally(10, "fintech", &["fundraising"], 1),
            ally(11, "health", &["fundraising", "a", "b"], 1),
        ],
        conflicts: BTreeSet::new(),
        min_score: 0.15,
        objective: MatchObjective::MaxTotalScore,
    };
    let best = match_cohort(&input);
    // E1–A1 (0.8) alone beats E1–A2 + E2–A1 (0.633).
    assert_eq!(best.total_score_milli, 800);
    assert_eq!(best.pairs.len(), 1);
    assert_eq!((best.pairs[0].entrepreneur_id, best.pairs[0].ally_id), (id(1), id(10)));
    assert_eq!(best.pairs[0].reasons.len(), 3, "{:?}", best.pairs[0].reasons);
    assert_eq!(best.unassigned.len(), 1);
    assert_eq!(
        best.unassigned[0].reason,
        UnassignedReason::CapacityExhausted { allies: vec![id(10)] }
    );
    let covered = match_cohort(&CohortInput {
        objective: MatchObjective::MaxCoverage,
        ..input.clone()
    });
    assert_eq!(covered.pairs.len(), 2);
    assert_eq!(covered.total_score_milli, 633);
    assert!(covered.unassigned.is_empty());
    // The greedy baseline never gets more than the best total.
    assert!(greedy_cohort(&input).total_score_milli <= best.total_score_milli);
}

#[test]
fn every_unassigned_entrepreneur_says_why() {
    let mut not_seeking = entrepreneur(4, "fintech", &[]);
    not_seeking.profile.seeking_mentorship = false;
    let input = CohortInput {
        entrepreneurs: vec![
            entrepreneur(1, "fintech", &[]),
            entrepreneur(2, "retail", &[]),
            entrepreneur(3, "health", &[]),
            not_seeking,
        ],
        allies: vec![
            ally(10, "fintech", &[], 1),
            ally(11, "health", &[], 3),
            ally(12, "health", &[], 0),
        ],
        conflicts: BTreeSet::from([(id(11), id(3))]),
        min_score: 0.3,
        objective: MatchObjective::MaxTotalScore,
    };
    let result = match_cohort(&input);
    let pairs: Vec<(UserId, UserId, f64)> = result
        .pairs
        .iter()
        .map(|p| (p.entrepreneur_id, p.ally_id, p.score))
        .collect();
    assert_eq!(pairs, vec![(id(1), id(10), 0.4)]);
    let reasons: Vec<(UserId, UnassignedReason)> = result
        .unassigned
        .iter()
        .map(|u| (u.entrepreneur_id, u.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (id(2), UnassignedReason::NoEligibleAlly),
            // Ally 12 has no seat, so its score lacks the capacity part and stays at 0.3.
            (id(3), UnassignedReason::OnlyConflictedAllies { allies: vec![id(11)] }),
            (id(4), UnassignedReason::NotSeekingMentorship),
        ]
    );
    assert!(result.unassigned.iter().all(|u| !u.explanation.is_empty()));
    // The order of the input lists does not matter.
    let mut reversed = input.clone();
    reversed.entrepreneurs.reverse();
    reversed.allies.reverse();
    assert_eq!(match_cohort(&reversed), result);
}

#[test]
fn an_unavailable_ally_gives_no_seat() {
    let mut away = ally(10, "fintech", &[], 5);
    away.profile.available = false;
    let input = CohortInput {
        entrepreneurs: vec![entrepreneur(1, "fintech", &[])],
        allies: vec![away],
        conflicts: BTreeSet::new(),
        min_score: 0.2,
        objective: MatchObjective::MaxTotalScore,
    };
    let result = match_cohort(&input);
    assert!(result.pairs.is_empty());
    assert_eq!(
        result.unassigned[0].reason,
        UnassignedReason::CapacityExhausted { allies: vec![id(10)] }
    );
}
