//! Whole-cohort mentor matching (docs/domain.md §11): every entrepreneur of a cohort gets at most one
//! ally, no ally more mentees than its remaining seats, no pair with a conflict of interest, and
//! the total §4.7 match score ([`match_score`]) is maximal — an assignment problem, solved
//! exactly.
//!
//! # Why not one entrepreneur at a time
//!
//! `suggest_allies` serves one entrepreneur: taken in turn for a whole cohort, the first ones take
//! the best allies and later ones may find only weak matches or none, although a different split
//! would serve everyone better. [`match_cohort`] looks at the whole cohort at once; the bench
//! `cohort_matching` measures how much better than that greedy baseline ([`greedy_cohort`]) it
//! is.
//!
//! # The rules, exactly
//!
//! - A pair (entrepreneur, ally) is **assignable** when its score is above
//!   [`CohortInput::min_score`] (and above 0), the ally has seats left and is available, the
//!   entrepreneur seeks mentorship, and the pair is not in [`CohortInput::conflicts`]. Scores
//!   count in thousandths (match scores are rounded to 3 decimals), so the optimum is computed in
//!   exact integers.
//! - **Objective** ([`MatchObjective`]): by default the largest total score, as DOMAIN §11 says;
//!   among assignments with that total, the one with the most pairs. Maximal total does not
//!   always mean most pairs: with E1 scoring 0.9 with A1 and 0.35 with A2, and E2 scoring 0.4
//!   with A1 only (A1 has one seat), the best total (0.9) leaves E2 out, while pairing both gives
//!   0.75. Every pair adds a positive score, so an entrepreneur is left out only when seating them
//!   would cost the others more than they gain. Staff who prefer coverage choose
//!   [`MatchObjective::MaxCoverage`]: the most pairs, then the largest total.
//! - **Ties** (several assignments equally good for the objective): entrepreneurs are taken in
//!   id order (UUID v7: oldest account first), and each in turn gets the best option that still
//!   allows an optimal assignment — the higher-scoring ally, then the smaller ally id, and being
//!   left out last. This defines exactly one assignment for every input, whatever the order of
//!   the input lists; the property test `tests/cohort_matching.rs` checks it against an
//!   exhaustive search.
//!
//! # The solver
//!
//! [`solve_assignment`] is a min-cost flow on the capacity-expanded graph
//! `source → entrepreneur (1) → ally (1 per pair) → sink (the ally's seats)`, plus one
//! `entrepreneur → sink` arc of weight 0 that stands for "left out", so every entrepreneur carries
//! one unit of flow and the optimum is a min-cost *maximum* flow. It augments along shortest
//! paths (Dijkstra over reduced costs with Johnson potentials; the first potentials come from the
//! graph being a DAG), `n` times in `O(E log V)` each. The tie rule is then applied on the
//! optimal flow: an optimal assignment differs from another by cycles of zero reduced cost in the
//! residual graph, so for each entrepreneur in order, the best option reachable through such a
//! cycle (avoiding the entrepreneurs already fixed) is exactly the best option any optimal
//! assignment consistent with the earlier choices offers; pushing flow around that cycle keeps
//! the flow optimal and the potentials valid.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

use super::matching::match_score;
use crate::model::{AllyProfile, EntrepreneurProfile, ProjectStage, UserId};

#[cfg(test)]
mod tests;

/// What the assignment maximizes first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchObjective {
    /// The largest total score (docs/domain.md §11); among those, the most pairs.
    #[default]
    MaxTotalScore,
    /// The most entrepreneurs paired; among those, the largest total score.
    MaxCoverage,
}

/// An entrepreneur of the cohort and what they need.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CohortEntrepreneur {
    /// The entrepreneur's user id (unique in the input).
    pub id: UserId,
    /// Their profile: sectors, mentorship areas, whether they seek mentorship.
    pub profile: EntrepreneurProfile,
    /// The stages of the projects the mentorship would be about.
    pub project_stages: Vec<ProjectStage>,
}

/// An ally of the pool and what they can give.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CohortAlly {
    /// The ally's user id (unique in the input).
    pub id: UserId,
    /// Their profile: expertise, specializations, preferred stages, the `available` flag.
    pub profile: AllyProfile,
    /// Mentees the ally can still take (seats not held by active or requested mentorships).
    pub seats: u32,
}

impl CohortAlly {
    /// Seats this matching may give: none while the ally is not open to new mentees.
    pub fn usable_seats(&self) -> u32 {
        if self.profile.available { self.seats } else { 0 }
    }
}

/// One matching problem.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CohortInput {
    /// The cohort.
    pub entrepreneurs: Vec<CohortEntrepreneur>,
    /// The eligible pool.
    pub allies: Vec<CohortAlly>,
    /// Pairs `(ally, entrepreneur)` that must not be matched (conflicts of interest, existing
    /// relationships).
    pub conflicts: BTreeSet<(UserId, UserId)>,
    /// Only scores strictly above this are assignable.
    pub min_score: f64,
    /// What to maximize.
    pub objective: MatchObjective,
}

/// One proposed pair.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CohortPair {
    /// The entrepreneur.
    pub entrepreneur_id: UserId,
    /// The ally.
    pub ally_id: UserId,
    /// The §4.7 match score, 0–1, 3 decimals.
    pub score: f64,
    /// Why, one sentence per part of the score that counted.
    pub reasons: Vec<String>,
}

/// Why an entrepreneur got no ally.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum UnassignedReason {
    /// Their profile says they do not seek mentorship.
    NotSeekingMentorship,
    /// No ally of the pool scores above the threshold for them.
    NoEligibleAlly,
    /// Every ally scoring above the threshold has a conflict of interest with them.
    OnlyConflictedAllies {
        /// Those allies.
        allies: Vec<UserId>,
    },
    /// Allies would fit, but every one of them is full: their seats went to pairs that, together,
    /// serve the objective better (or they had none left).
    CapacityExhausted {
        /// The allies that would fit, best score first.
        allies: Vec<UserId>,
    },
}

/// An entrepreneur left without an ally, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CohortUnassigned {
    /// The entrepreneur.
    pub entrepreneur_id: UserId,
    /// Why.
    #[serde(flatten)]
    pub reason: UnassignedReason,
    /// The reason in one sentence.
    pub explanation: String,
}

/// The result: pairs and the unassigned, both in entrepreneur id order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CohortAssignment {
    /// The pairs.
    pub pairs: Vec<CohortPair>,
    /// The entrepreneurs without an ally.
    pub unassigned: Vec<CohortUnassigned>,
    /// Sum of the pairs' scores in thousandths (exact).
    pub total_score_milli: u64,
}

impl CohortAssignment {
    /// Sum of the pairs' scores.
    pub fn total_score(&self) -> f64 {
        self.total_score_milli as f64 / 1000.0
    }
}

/// A score in exact thousandths (scores are already rounded to 3 decimals), clamped to 0–1000.
pub fn score_milli(score: f64) -> i64 {
    ((score * 1000.0).round() as i64).clamp(0, 1000)
}

/// The scored, canonical (id-ordered) form of an input: what both solvers work on.
struct Scored<'a> {
    entrepreneurs: Vec<&'a CohortEntrepreneur>,
    allies: Vec<&'a CohortAlly>,
    /// `scores[i][j]`: the match of entrepreneur `i` and ally `j`.
    scores: Vec<Vec<crate::rules::matching::MatchScore>>,
    /// `assignable[i][j]`: the pair may be matched (threshold, conflicts, seeking).
    assignable: Vec<Vec<bool>>,
    /// Seats per ally.
    seats: Vec<u32>,
}

impl<'a> Scored<'a> {
    fn new(input: &'a CohortInput) -> Self {
        let mut entrepreneurs: Vec<&CohortEntrepreneur> = input.entrepreneurs.iter().collect();
        entrepreneurs.sort_by_key(|e| e.id);
        let mut allies: Vec<&CohortAlly> = input.allies.iter().collect();
        allies.sort_by_key(|a| a.id);
        let seats: Vec<u32> = allies.iter().map(|a| a.usable_seats()).collect();
        let scores: Vec<Vec<_>> = entrepreneurs
            .iter()
            .map(|e| {
                allies
                    .iter()
                    .zip(&seats)
                    .map(|(a, &s)| match_score(&e.profile, &e.project_stages, &a.profile, s > 0))
                    .collect()
            })
            .collect();
        let assignable = entrepreneurs
            .iter()
            .zip(&scores)
            .map(|(e, row)| {
                allies
                    .iter()
                    .zip(row)
                    .zip(&seats)
                    .map(|((a, s), &seats)| {
                        e.profile.seeking_mentorship
                            && seats > 0
                            && s.score > input.min_score
                            && score_milli(s.score) > 0
                            && !input.conflicts.contains(&(a.id, e.id))
                    })
                    .collect()
            })
            .collect();
        Self {
            entrepreneurs,
            allies,
            scores,
            assignable,
            seats,
        }
    }

    fn milli(&self, i: usize, j: usize) -> i64 {
        score_milli(self.scores[i][j].score)
    }

    /// Builds the result from `choice[i]` = the ally index of entrepreneur `i`.
    fn assignment(&self, input: &CohortInput, choice: &[Option<usize>]) -> CohortAssignment {
        let mut pairs = Vec::new();
        let mut unassigned = Vec::new();
        let mut total = 0u64;
        for (i, e) in self.entrepreneurs.iter().enumerate() {
            if let Some(j) = choice[i] {
                let s = &self.scores[i][j];
                total += self.milli(i, j) as u64;
                pairs.push(CohortPair {
                    entrepreneur_id: e.id,
                    ally_id: self.allies[j].id,
                    score: s.score,
                    reasons: s.reasons.clone(),
                });
            } else {
                unassigned.push(self.why_unassigned(input, i));
            }
        }
        CohortAssignment {
            pairs,
            unassigned,
            total_score_milli: total,
        }
    }

    fn why_unassigned(&self, input: &CohortInput, i: usize) -> CohortUnassigned {
        let e = self.entrepreneurs[i];
        let mut above: Vec<usize> = (0..self.allies.len())
            .filter(|&j| self.scores[i][j].score > input.min_score && self.milli(i, j) > 0)
            .collect();
        // Best score first, then id: the order the explanation lists them in.
        above.sort_by_key(|&j| (Reverse(self.milli(i, j)), j));
        let (conflicted, free): (Vec<usize>, Vec<usize>) = above
            .iter()
            .partition(|&&j| input.conflicts.contains(&(self.allies[j].id, e.id)));
        let ids = |js: &[usize]| js.iter().map(|&j| self.allies[j].id).collect::<Vec<_>>();
        let (reason, explanation) = if !e.profile.seeking_mentorship {
            (
                UnassignedReason::NotSeekingMentorship,
                "their profile says they are not seeking mentorship".to_owned(),
            )
        } else if above.is_empty() {
            (
                UnassignedReason::NoEligibleAlly,
                format!("no ally of the pool scores above {}", input.min_score),
            )
        } else if free.is_empty() {
            (
                UnassignedReason::OnlyConflictedAllies {
                    allies: ids(&conflicted),
                },
                format!(
                    "all {} allies scoring above {} have a conflict of interest with them",
                    conflicted.len(),
                    input.min_score
                ),
            )
        } else {
            (
                UnassignedReason::CapacityExhausted { allies: ids(&free) },
                format!(
                    "the {} allies that would fit have no seat left after the pairs that serve the cohort best",
                    free.len()
                ),
            )
        };
        CohortUnassigned {
            entrepreneur_id: e.id,
            reason,
            explanation,
        }
    }
}

/// Matches a whole cohort: the assignment with the best [`MatchObjective`] under seats and
/// conflicts, ties broken as the module docs say. Ids must be unique within each list; the
/// result does not depend on the order of the lists.
pub fn match_cohort(input: &CohortInput) -> CohortAssignment {
    let scored = Scored::new(input);
    let n = scored.entrepreneurs.len() as i64;
    // Both criteria of the objective folded into one integer weight per pair: the secondary one
    // sums to less than one unit of the primary, so it only ever breaks ties.
    let weights: Vec<Vec<Option<i64>>> = (0..scored.entrepreneurs.len())
        .map(|i| {
            (0..scored.allies.len())
                .map(|j| {
                    scored.assignable[i][j].then(|| {
                        let milli = scored.milli(i, j);
                        match input.objective {
                            MatchObjective::MaxTotalScore => milli * (n + 1) + 1,
                            MatchObjective::MaxCoverage => (1000 * n + 1) + milli,
                        }
                    })
                })
                .collect()
        })
        .collect();
    let choice = solve_assignment(&weights, &scored.seats);
    scored.assignment(input, &choice)
}

/// The baseline of one entrepreneur at a time, as `suggest_allies` serves them: entrepreneurs in
/// id order, each taking its best assignable ally that still has a seat (higher score, then
/// smaller id). For comparison only; never optimal by design.
pub fn greedy_cohort(input: &CohortInput) -> CohortAssignment {
    let scored = Scored::new(input);
    let mut seats = scored.seats.clone();
    let choice: Vec<Option<usize>> = (0..scored.entrepreneurs.len())
        .map(|i| {
            let best = (0..scored.allies.len())
                .filter(|&j| scored.assignable[i][j] && seats[j] > 0)
                .min_by_key(|&j| (Reverse(scored.milli(i, j)), j));
            if let Some(j) = best {
                seats[j] -= 1;
            }
            best
        })
        .collect();
    scored.assignment(input, &choice)
}

/// Largest weight [`solve_assignment`] accepts: sums over any assignment then stay far from
/// overflowing `i64`, whatever the number of rows a cohort can have.
pub const MAX_WEIGHT: i64 = 1 << 40;

/// Solves a capacitated assignment problem exactly: row `i` may take column `j` when
/// `weights[i][j]` is `Some(w)` with `0 < w ≤ MAX_WEIGHT` (other weights mean "not allowed"),
/// column `j` takes at most `capacities[j]` rows, and each row at most one column. Returns, per
/// row, its column: the assignment with the largest total weight; among those, rows in index
/// order each take the best column still possible — higher weight, then smaller index, no column
/// last.
///
/// # Panics
/// When a row of `weights` does not have one entry per column.
pub fn solve_assignment(weights: &[Vec<Option<i64>>], capacities: &[u32]) -> Vec<Option<usize>> {
    let rows = weights.len();
    let cols = capacities.len();
    assert!(
        weights.iter().all(|row| row.len() == cols),
        "one weight per column in every row"
    );
    let allowed = |w: Option<i64>| w.filter(|w| (1..=MAX_WEIGHT).contains(w));
    let mut g = Flow::new(rows + cols + 2);
    let (source, sink) = (0, rows + cols + 1);
    let row = |i: usize| 1 + i;
    let col = |j: usize| 1 + rows + j;
    // Per row, its candidate arcs in preference order (best weight, then smaller column), with
    // the "left out" arc last.
    let mut options: Vec<Vec<(usize, usize)>> = Vec::with_capacity(rows);
    for (i, ws) in weights.iter().enumerate() {
        g.arc(source, row(i), 1, 0);
        let mut mine: Vec<(i64, usize)> = ws
            .iter()
            .enumerate()
            .filter_map(|(j, &w)| allowed(w).filter(|_| capacities[j] > 0).map(|w| (w, j)))
            .collect();
        mine.sort_by_key(|&(w, j)| (Reverse(w), j));
        let mut arcs: Vec<(usize, usize)> = mine
            .into_iter()
            .map(|(w, j)| (g.arc(row(i), col(j), 1, -w), col(j)))
            .collect();
        arcs.push((g.arc(row(i), sink, 1, 0), sink));
        options.push(arcs);
    }
    for (j, &c) in capacities.iter().enumerate() {
        if c > 0 {
            g.arc(col(j), sink, i64::from(c), 0);
        }
    }
    g.initial_potentials_of_the_dag(source, &(1..=rows).collect::<Vec<_>>(), sink);
    for _ in 0..rows {
        let augmented = g.augment_shortest_path(source, sink);
        debug_assert!(augmented, "the left-out arcs always leave a path");
    }
    debug_assert!(g.potentials_are_feasible());

    // The tie rule on the optimal flow.
    let mut frozen = vec![false; g.nodes()];
    frozen[source] = true;
    for (i, arcs) in options.iter().enumerate() {
        let e = row(i);
        let current = arcs
            .iter()
            .position(|&(arc, _)| g.cap[arc] == 0)
            .expect("every row carries one unit of flow");
        frozen[e] = true;
        if current > 0 {
            let (_, current_to) = arcs[current];
            let can_reach = g.tight_reverse_reach(current_to, &frozen);
            let better = arcs[..current]
                .iter()
                .find(|&&(arc, to)| can_reach[to] && g.reduced_cost(arc) == 0);
            if let Some(&(arc, to)) = better {
                let path = g.tight_path(to, current_to, &frozen).expect("reachable");
                g.push(arc);
                for a in path {
                    g.push(a);
                }
                g.push(arcs[current].0 ^ 1);
                debug_assert!(g.potentials_are_feasible());
            }
        }
    }
    options
        .iter()
        .map(|arcs| {
            arcs.iter()
                .find(|&&(arc, _)| g.cap[arc] == 0)
                .and_then(|&(_, to)| (to != sink).then(|| to - 1 - rows))
        })
        .collect()
}

/// A flow network: arc `a` and its residual twin `a ^ 1`, with Johnson potentials.
struct Flow {
    adj: Vec<Vec<usize>>,
    to: Vec<usize>,
    cap: Vec<i64>,
    cost: Vec<i64>,
    potential: Vec<i64>,
}

impl Flow {
    fn new(nodes: usize) -> Self {
        Self {
            adj: vec![Vec::new(); nodes],
            to: Vec::new(),
            cap: Vec::new(),
            cost: Vec::new(),
            potential: vec![0; nodes],
        }
    }

    fn nodes(&self) -> usize {
        self.adj.len()
    }

    /// Adds `from → to` and its empty twin; returns the arc.
    fn arc(&mut self, from: usize, to: usize, cap: i64, cost: i64) -> usize {
        let a = self.to.len();
        self.adj[from].push(a);
        self.to.push(to);
        self.cap.push(cap);
        self.cost.push(cost);
        self.adj[to].push(a + 1);
        self.to.push(from);
        self.cap.push(0);
        self.cost.push(-cost);
        a
    }

    fn from(&self, a: usize) -> usize {
        self.to[a ^ 1]
    }

    fn reduced_cost(&self, a: usize) -> i64 {
        self.cost[a] + self.potential[self.from(a)] - self.potential[self.to[a]]
    }

    /// Sends one unit along `a`.
    fn push(&mut self, a: usize) {
        self.cap[a] -= 1;
        self.cap[a ^ 1] += 1;
    }

    /// Shortest-path distances of the layered graph source → rows → columns → sink: the only
    /// negative costs are row → column, so one pass in layer order is exact.
    fn initial_potentials_of_the_dag(&mut self, source: usize, rows: &[usize], sink: usize) {
        self.potential[source] = 0;
        let mut sink_distance = 0i64;
        for &r in rows {
            self.potential[r] = 0;
        }
        for &r in rows {
            for &a in &self.adj[r] {
                if a % 2 == 0 && self.to[a] != sink {
                    let c = self.to[a];
                    self.potential[c] = self.potential[c].min(self.cost[a]);
                }
            }
        }
        for &r in rows {
            for &a in &self.adj[r] {
                if a % 2 == 0 {
                    let c = self.to[a];
                    let d = if c == sink { 0 } else { self.potential[c] };
                    sink_distance = sink_distance.min(d);
                }
            }
        }
        self.potential[sink] = sink_distance;
    }

    /// Dijkstra over reduced costs from `source`, stopping at `sink`; updates the potentials
    /// (nodes not settled move by the sink's distance, which keeps every reduced cost ≥ 0) and
    /// sends one unit along the path. `false` when the sink is unreachable.
    fn augment_shortest_path(&mut self, source: usize, sink: usize) -> bool {
        let n = self.nodes();
        let mut dist = vec![i64::MAX; n];
        let mut via = vec![usize::MAX; n];
        let mut done = vec![false; n];
        let mut heap = BinaryHeap::new();
        dist[source] = 0;
        heap.push(Reverse((0i64, source)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if done[u] {
                continue;
            }
            done[u] = true;
            if u == sink {
                break;
            }
            for &a in &self.adj[u] {
                if self.cap[a] > 0 {
                    let v = self.to[a];
                    let nd = d + self.reduced_cost(a);
                    if nd < dist[v] {
                        dist[v] = nd;
                        via[v] = a;
                        heap.push(Reverse((nd, v)));
                    }
                }
            }
        }
        if !done[sink] {
            return false;
        }
        let ds = dist[sink];
        for v in 0..n {
            self.potential[v] += if done[v] { dist[v] } else { ds };
        }
        let mut v = sink;
        while v != source {
            let a = via[v];
            self.push(a);
            v = self.from(a);
        }
        true
    }

    /// Residual arcs of zero reduced cost: the arcs an optimal flow may shift along.
    fn tight(&self, a: usize) -> bool {
        self.cap[a] > 0 && self.reduced_cost(a) == 0
    }

    /// Which nodes reach `target` through tight arcs, never through a frozen node.
    fn tight_reverse_reach(&self, target: usize, frozen: &[bool]) -> Vec<bool> {
        let mut seen = vec![false; self.nodes()];
        seen[target] = true;
        let mut queue = VecDeque::from([target]);
        while let Some(v) = queue.pop_front() {
            for &b in &self.adj[v] {
                // `b` leaves `v`; its twin enters `v`.
                let a = b ^ 1;
                let u = self.to[b];
                if !seen[u] && !frozen[u] && self.tight(a) {
                    seen[u] = true;
                    queue.push_back(u);
                }
            }
        }
        seen
    }

    /// A path of tight arcs `from ⇝ to` avoiding frozen nodes (breadth first, so the arcs' order
    /// decides among equal paths: deterministic).
    fn tight_path(&self, from: usize, to: usize, frozen: &[bool]) -> Option<Vec<usize>> {
        let mut via = vec![usize::MAX; self.nodes()];
        let mut seen = vec![false; self.nodes()];
        seen[from] = true;
        let mut queue = VecDeque::from([from]);
        while let Some(u) = queue.pop_front() {
            if u == to {
                let mut path = Vec::new();
                let mut v = to;
                while v != from {
                    path.push(via[v]);
                    v = self.from(via[v]);
                }
                path.reverse();
                return Some(path);
            }
            for &a in &self.adj[u] {
                let v = self.to[a];
                if !seen[v] && !frozen[v] && self.tight(a) {
                    seen[v] = true;
                    via[v] = a;
                    queue.push_back(v);
                }
            }
        }
        None
    }

    /// Every residual arc has a reduced cost ≥ 0: the flow is optimal for its value.
    fn potentials_are_feasible(&self) -> bool {
        (0..self.to.len()).all(|a| self.cap[a] == 0 || self.reduced_cost(a) >= 0)
    }
}
