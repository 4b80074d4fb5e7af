//! Property test: task dependencies never form a cycle (docs/domain.md §4.8).
//!
//! Each case gives one entrepreneur 2–7 tasks and runs 1–60 random `add_task_dependency` /
//! `remove_task_dependency` commands (by the owner, now and then by an admin) on random pairs,
//! self-loops included. Adds are biased toward edges that would close a cycle (the reverse of an
//! existing path), which uniformly random pairs reach less often. Before every step the stored
//! graph is read back through `list_task_dependencies`; the expected answer is derived from it
//! with this file's own search (never the core's `would_create_cycle`):
//!
//! - adding `a → b` ("a depends on b") is refused with a `depends_on` validation error **exactly
//!   when** `a == b` or `a` is reachable from `b` (the edge would close a cycle);
//! - otherwise it is refused with `Conflict { task_dependency, task_depends_on }` exactly when
//!   the edge already exists, and succeeds in every other case;
//! - removing succeeds exactly when the edge exists (`NotFound { task_dependency }` otherwise).
//!
//! After every step the stored graph must be acyclic (a three-colour depth-first search), equal
//! to the model's edge set, and every edge must carry the owner. A directed test at the end
//! closes rings concurrently on a multi-thread runtime: of the commands that would each close
//! the ring, exactly one must fail.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use icosistem_core::Context;
use icosistem_core::error::Error;
use icosistem_core::model::{Role, TaskId, User};
use icosistem_core::service::CreateTask;

mod support;

use support::{Eco, create_user};

// ---------------------------------------------------------------------------------------------
// Commands

#[derive(Debug, Clone, Copy)]
enum Cmd {
    /// `a` depends on `b` (indices modulo the task count).
    Add {
        a: usize,
        b: usize,
    },
    /// The reverse of the `k`-th existing path `x ⇝ y` (modulo their count): `y → x`, which
    /// always closes a cycle. Falls back to `Add { a: k, b: k + 1 }` while there is no edge.
    CloseCycle {
        k: usize,
    },
    /// The `k`-th existing edge again (modulo their count): a duplicate.
    Duplicate {
        k: usize,
    },
    Remove {
        a: usize,
        b: usize,
    },
    /// The `k`-th existing edge (modulo their count).
    RemoveExisting {
        k: usize,
    },
}

#[derive(Debug, Clone, Copy)]
struct Step {
    /// An admin acts instead of the owner (the same rules apply).
    by_admin: bool,
    cmd: Cmd,
}

#[derive(Debug, Clone)]
struct Scenario {
    tasks: usize,
    steps: Vec<Step>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let idx = || 0usize..16;
    let cmd = prop_oneof![
        10 => (idx(), idx()).prop_map(|(a, b)| Cmd::Add { a, b }),
        4 => idx().prop_map(|k| Cmd::CloseCycle { k }),
        1 => idx().prop_map(|k| Cmd::Duplicate { k }),
        2 => (idx(), idx()).prop_map(|(a, b)| Cmd::Remove { a, b }),
        2 => idx().prop_map(|k| Cmd::RemoveExisting { k }),
    ];
    let step = (prop::bool::weighted(0.15), cmd).prop_map(|(by_admin, cmd)| Step { by_admin, cmd });
    (2usize..=7, prop::collection::vec(step, 1..=60)).prop_map(|(tasks, steps)| Scenario { tasks, steps })
}

// ---------------------------------------------------------------------------------------------
// The graph, as this test sees it

type Edges = BTreeSet<(usize, usize)>;

/// Whether `to` is reachable from `from` following edges `a → b` (`from == to` counts).
fn reachable(edges: &Edges, from: usize, to: usize) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        if seen.insert(node) {
            stack.extend(edges.iter().filter(|(a, _)| *a == node).map(|(_, b)| *b));
        }
    }
    false
}

/// A cycle of the graph, if it has one: three-colour depth-first search from every node.
fn find_cycle(n: usize, edges: &Edges) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    fn visit(node: usize, edges: &Edges, colour: &mut [Colour], path: &mut Vec<usize>) -> Option<Vec<usize>> {
        colour[node] = Colour::Grey;
        path.push(node);
        for &(_, next) in edges.iter().filter(|(a, _)| *a == node) {
            match colour[next] {
                Colour::Grey => {
                    let at = path
                        .iter()
                        .position(|&p| p == next)
                        .expect("grey nodes are on the path");
                    return Some(path[at..].to_vec());
                }
                Colour::White => {
                    if let Some(cycle) = visit(next, edges, colour, path) {
                        return Some(cycle);
                    }
                }
                Colour::Black => {}
            }
        }
        path.pop();
        colour[node] = Colour::Black;
        None
    }
    let mut colour = vec![Colour::White; n];
    for start in 0..n {
        if colour[start] == Colour::White
            && let Some(cycle) = visit(start, edges, &mut colour, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

/// Every pair `(x, y)` with a non-empty path `x ⇝ y`, in order.
fn paths(n: usize, edges: &Edges) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for x in 0..n {
        for &(_, first) in edges.iter().filter(|(a, _)| *a == x) {
            for y in 0..n {
                if reachable(edges, first, y) {
                    out.push((x, y));
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

// ---------------------------------------------------------------------------------------------
// Outcomes

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// Validation failed: (field, message) pairs.
    Invalid(Vec<(String, String)>),
    Conflict {
        entity: &'static str,
        field: &'static str,
    },
    NotFound(&'static str),
    Unexpected(String),
}

impl Outcome {
    fn of<T>(result: &Result<T, Error>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(Error::Validation(errors)) => Outcome::Invalid(
                errors
                    .fields()
                    .iter()
                    .map(|f| (f.field.to_string(), f.message.to_string()))
                    .collect(),
            ),
            Err(Error::Conflict { entity, field }) => Outcome::Conflict { entity, field },
            Err(Error::NotFound { entity, .. }) => Outcome::NotFound(entity),
            Err(other) => Outcome::Unexpected(format!("{other:?}")),
        }
    }

    fn cycle() -> Outcome {
        Outcome::Invalid(vec![("depends_on".into(), "would create a cycle".into())])
    }

    fn label(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Invalid(_) => "cycle",
            Outcome::Conflict { .. } => "duplicate",
            Outcome::NotFound(_) => "not_found",
            Outcome::Unexpected(_) => "unexpected",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The world

struct World {
    eco: Eco,
    owner: User,
    admin: User,
    tasks: Vec<TaskId>,
}

impl World {
    async fn new(tasks: usize) -> World {
        let (eco, _) = support::ecosystem(support::instant((2031, 3, 3), 9));
        let owner = create_user(&eco, "Olga", "Owner", Role::Entrepreneur).await;
        let admin = create_user(&eco, "Ada", "Operator", Role::Admin).await;
        let mut ids = Vec::new();
        for i in 0..tasks {
            let task = eco
                .create_task(
                    &Context::user(&owner),
                    CreateTask {
                        title: format!("Task number {i}"),
                        ..Default::default()
                    },
                )
                .await
                .expect("create task");
            ids.push(task.id);
        }
        World {
            eco,
            owner,
            admin,
            tasks: ids,
        }
    }

    fn index(&self, id: TaskId) -> Option<usize> {
        self.tasks.iter().position(|t| *t == id)
    }

    /// The stored graph as the owner reads it, edge by edge; fails on an edge that names an
    /// unknown task, another owner, or comes twice.
    async fn stored_edges(&self) -> Result<Edges, TestCaseError> {
        let ctx = Context::user(&self.owner);
        let mut edges = Edges::new();
        for (i, id) in self.tasks.iter().enumerate() {
            let deps = self
                .eco
                .list_task_dependencies(&ctx, *id)
                .await
                .expect("the owner lists dependencies");
            for d in deps {
                prop_assert_eq!(d.task_id, *id, "listed under the wrong task");
                prop_assert_eq!(d.owner_id, self.owner.id, "edge of another owner");
                let j = self.index(d.depends_on);
                prop_assert!(j.is_some(), "edge to an unknown task {}", d.depends_on);
                let j = j.expect("checked");
                prop_assert!(edges.insert((i, j)), "edge {} → {} stored twice", i, j);
            }
        }
        Ok(edges)
    }
}

#[derive(Default)]
struct Coverage {
    outcomes: BTreeMap<(&'static str, &'static str), u64>,
    self_loops_refused: u64,
    longest_refused_cycle: usize,
    most_edges: usize,
}

async fn run_scenario(s: &Scenario, coverage: &mut Coverage) -> Result<(), TestCaseError> {
    let world = World::new(s.tasks).await;
    let n = s.tasks;
    let mut model = Edges::new();
    for (step_no, step) in s.steps.iter().enumerate() {
        let stored = world.stored_edges().await?;
        prop_assert_eq!(&stored, &model, "stored graph before step {}", step_no);
        let ctx = Context::user(if step.by_admin { &world.admin } else { &world.owner });

        // Resolve the command against the graph as stored.
        let edge_list: Vec<(usize, usize)> = stored.iter().copied().collect();
        let (kind, add, (a, b)) = match step.cmd {
            Cmd::Add { a, b } => ("add", true, (a % n, b % n)),
            Cmd::CloseCycle { k } => {
                let p = paths(n, &stored);
                let pair = if p.is_empty() {
                    (k % n, (k + 1) % n)
                } else {
                    let (x, y) = p[k % p.len()];
                    (y, x)
                };
                ("add", true, pair)
            }
            Cmd::Duplicate { k } if !edge_list.is_empty() => ("add", true, edge_list[k % edge_list.len()]),
            Cmd::Duplicate { k } => ("add", true, (k % n, (k + 1) % n)),
            Cmd::Remove { a, b } => ("remove", false, (a % n, b % n)),
            Cmd::RemoveExisting { k } if !edge_list.is_empty() => ("remove", false, edge_list[k % edge_list.len()]),
            Cmd::RemoveExisting { k } => ("remove", false, (k % n, (k + 1) % n)),
        };

        // What the answer must be, from this test's own search over the stored graph.
        let closes_cycle = reachable(&stored, b, a);
        let expected = if add {
            if closes_cycle {
                Outcome::cycle()
            } else if stored.contains(&(a, b)) {
                Outcome::Conflict {
                    entity: "task_dependency",
                    field: "task_depends_on",
                }
            } else {
                Outcome::Ok
            }
        } else if stored.contains(&(a, b)) {
            Outcome::Ok
        } else {
            Outcome::NotFound("task_dependency")
        };

        let (ta, tb) = (world.tasks[a], world.tasks[b]);
        let outcome = if add {
            Outcome::of(&world.eco.add_task_dependency(&ctx, ta, tb).await)
        } else {
            Outcome::of(&world.eco.remove_task_dependency(&ctx, ta, tb).await)
        };
        *coverage.outcomes.entry((kind, outcome.label())).or_default() += 1;
        prop_assert_eq!(
            &outcome,
            &expected,
            "step {} {:?}: {} {} → {} on {:?}",
            step_no,
            step,
            kind,
            a,
            b,
            stored
        );
        if add && outcome == Outcome::cycle() {
            if a == b {
                coverage.self_loops_refused += 1;
            } else {
                // The length of the cycle the edge would have closed: the shortest path b ⇝ a,
                // plus the edge itself.
                let mut frontier = vec![b];
                let mut seen = BTreeSet::from([b]);
                let mut hops = 0;
                while !frontier.contains(&a) {
                    hops += 1;
                    frontier = frontier
                        .iter()
                        .flat_map(|x| stored.iter().filter(move |(p, _)| p == x).map(|(_, q)| *q))
                        .filter(|q| seen.insert(*q))
                        .collect();
                }
                coverage.longest_refused_cycle = coverage.longest_refused_cycle.max(hops + 1);
            }
        }
        match (add, &outcome) {
            (true, Outcome::Ok) => {
                model.insert((a, b));
            }
            (false, Outcome::Ok) => {
                model.remove(&(a, b));
            }
            _ => {}
        }

        // The invariant itself, on what is stored now.
        let after = world.stored_edges().await?;
        if let Some(cycle) = find_cycle(n, &after) {
            return Err(TestCaseError::fail(format!(
                "after step {step_no} ({kind} {a} → {b}) the stored graph has the cycle {cycle:?}: {after:?}"
            )));
        }
        prop_assert_eq!(&after, &model, "stored graph after step {}", step_no);
        coverage.most_edges = coverage.most_edges.max(after.len());
    }
    Ok(())
}

#[test]
fn dependencies_never_form_a_cycle_and_only_cycles_and_duplicates_are_refused() {
    let coverage = RefCell::new(Coverage::default());
    support::check_model("task_dependencies", scenario(), |s| {
        support::block_on(run_scenario(&s, &mut coverage.borrow_mut()))
    });

    let c = coverage.into_inner();
    eprintln!(
        "{:?}\nself-loops refused: {}, longest refused cycle: {}, most edges at once: {}",
        c.outcomes, c.self_loops_refused, c.longest_refused_cycle, c.most_edges
    );
    for key in [
        ("add", "ok"),
        ("add", "cycle"),
        ("add", "duplicate"),
        ("remove", "ok"),
        ("remove", "not_found"),
    ] {
        assert!(c.outcomes.get(&key).copied().unwrap_or(0) > 0, "never saw {key:?}");
    }
    assert!(c.self_loops_refused > 0, "no self-loop was tried");
    assert!(
        c.longest_refused_cycle >= 4,
        "only short cycles were refused (longest {})",
        c.longest_refused_cycle
    );
}

/// Rings closed concurrently: tasks 0 → 1 → … → k−1 are chained, then every "closing" edge
/// `k−1 → 0` … is raced against the others on a multi-thread runtime. Each command alone would
/// be accepted or refused depending on the others; together at most one of the mutually
/// exclusive edges may land, and the stored graph stays acyclic.
#[test]
fn concurrent_additions_never_close_a_cycle() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .expect("a multi-thread runtime");
    rt.block_on(async {
        for round in 0..20 {
            let k = 3 + round % 4;
            let world = Arc::new(World::new(k).await);
            let owner = Context::user(&world.owner);
            // A chain 0 → 1 → … → k−1 without its last link, so that both `k-2 → k-1` and
            // `k-1 → 0` are acceptable alone but not together (with them, 0 ⇝ k−1 ⇝ 0).
            for i in 0..k - 2 {
                world
                    .eco
                    .add_task_dependency(&owner, world.tasks[i], world.tasks[i + 1])
                    .await
                    .expect("chain link");
            }
            let racers = [(k - 2, k - 1), (k - 1, 0), (k - 1, 0), (k - 2, k - 1)];
            let mut joins = tokio::task::JoinSet::new();
            for (a, b) in racers {
                let world = Arc::clone(&world);
                joins.spawn(async move {
                    let ctx = Context::user(&world.owner);
                    let result = world
                        .eco
                        .add_task_dependency(&ctx, world.tasks[a], world.tasks[b])
                        .await;
                    ((a, b), Outcome::of(&result))
                });
            }
            let mut landed = BTreeSet::new();
            while let Some(done) = joins.join_next().await {
                let ((a, b), outcome) = done.expect("a racer panicked");
                match outcome {
                    Outcome::Ok => assert!(landed.insert((a, b)), "edge {a} → {b} added twice"),
                    Outcome::Conflict { .. } => {}
                    other if other == Outcome::cycle() => {}
                    other => panic!("unexpected answer to {a} → {b}: {other:?}"),
                }
            }
            assert_eq!(
                landed.len(),
                1,
                "round {round}: exactly one closing edge lands, got {landed:?}"
            );
            let edges = world.stored_edges().await.expect("stored graph");
            assert_eq!(find_cycle(k, &edges), None, "round {round}: a cycle in {edges:?}");
            assert_eq!(edges.len(), k - 1, "round {round}: the chain plus one edge");
        }
    });
}

/// The test's own graph search, on graphs small enough to check by hand: if it could not see a
/// cycle, the property above would prove nothing.
#[test]
fn the_cycle_search_sees_cycles() {
    let graph = |edges: &[(usize, usize)]| edges.iter().copied().collect::<Edges>();
    assert_eq!(find_cycle(3, &graph(&[(0, 1), (1, 2)])), None);
    assert_eq!(
        find_cycle(3, &graph(&[(0, 1), (0, 2), (1, 2)])),
        None,
        "a diamond is no cycle"
    );
    assert_eq!(find_cycle(1, &graph(&[(0, 0)])), Some(vec![0]));
    assert_eq!(
        find_cycle(4, &graph(&[(3, 0), (0, 1), (1, 2), (2, 0)])),
        Some(vec![0, 1, 2])
    );
    assert!(reachable(&graph(&[(0, 1), (1, 2)]), 0, 2));
    assert!(!reachable(&graph(&[(0, 1), (1, 2)]), 2, 0));
    assert_eq!(paths(3, &graph(&[(0, 1), (1, 2)])), vec![(0, 1), (0, 2), (1, 2)]);
}
