//! State-machine test of the application workflow (docs/domain.md §4.2) against a reference model.
//!
//! Each case builds one small world on the memory store — an organization (its owner acts as
//! coordinator) with two reviewers, an admin, an outsider entrepreneur, a published program with
//! a random capacity (1–4), `min_reviews` (1–2) and `blind_review`, and 3–6 entrepreneurs with a
//! draft application each — then runs a random sequence of commands from random actors through
//! the `Ecosystem` use cases. A reference model predicts every answer (success, or which error)
//! and the resulting state; after every step the store is checked against the model and against
//! the invariants of §4.2:
//!
//! - accepted ≤ capacity, and `program.accepted_count` equals the number of accepted applications;
//! - rejected and withdrawn applications never change again;
//! - nothing leaves `under_review` for accepted/rejected/waitlisted without `min_reviews`
//!   submitted reviews without a declared conflict;
//! - every accepted application has its (enrolled) enrollment, a withdrawn one's dropped out;
//! - a blind program's reviewer- and staff-facing views never name the applicant (name, email,
//!   user id).
//!
//! Errors are expected outcomes: the model says which one. The clock moves one minute per step
//! (never past the application deadline), so "earliest submitted" is a strict order.
//!
//! Sequences are generated as "rounds" shaped like a pass through the workflow, with noise (any
//! command, any actor) and "aim" (see [`Step::aim`]), because uniformly random commands almost
//! never get an application past review. The run ends by checking that the generated cases did
//! reach the corners (full program, automatic promotion, every refusal kind); directed scenarios
//! at the end pin the waitlist order and the conflict-of-interest rule of `min_reviews`.
//!
//! A second property runs the same world with 0–3 review rounds (docs/domain.md §10) and random
//! round commands (advance, reject in round, accept, waitlist), checking after every step, from
//! what the store held before it: no application skips a round or moves back; no round decision
//! succeeds without its round's quorum (and, to pass, its threshold); acceptance and the
//! waitlist come only in the last round; accepted ≤ capacity; every review belongs to a round
//! the application was in, once per (reviewer, round); and blindness follows the program or the
//! current round.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use icosistem_core::Context;
use icosistem_core::error::Error;
use icosistem_core::model::{
    ApplicationId, ApplicationStatus, EnrollmentStatus, MemberRole, OrganizationType, ProgramId, ProgramType,
    ProjectType, Role, User,
};
use icosistem_core::ports::store::{ApplicationFilter, PageRequest};
use icosistem_core::ports::{Clock, ManualClock};
use icosistem_core::service::{
    ApplicationView, CreateOrganization, CreateProgram, CreateProject, Decision, RoundInput, SubmitReview,
    UpdateProgram,
};
use icosistem_core::workflow::program::ProgramCommand;

mod support;

use support::{Eco, create_user};

// ---------------------------------------------------------------------------------------------
// Commands

/// Who acts. `Applicant` is the owner of the application the step targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Applicant,
    /// The organization's owner (its coordinator).
    Coordinator,
    Reviewer1,
    Reviewer2,
    Admin,
    /// An entrepreneur with no application in the program.
    Outsider,
}

const EVERYONE: &[Who] = &[
    Who::Applicant,
    Who::Coordinator,
    Who::Reviewer1,
    Who::Reviewer2,
    Who::Admin,
    Who::Outsider,
];

#[derive(Debug, Clone, Copy)]
enum Cmd {
    Submit,
    /// Assign this person as a reviewer.
    AssignReviewer(Who),
    Review {
        score: i64,
        conflict_declared: bool,
    },
    Decide(Decision),
    Withdraw,
    GetView,
}

impl Cmd {
    fn kind(self) -> &'static str {
        match self {
            Cmd::Submit => "submit",
            Cmd::AssignReviewer(_) => "assign_reviewer",
            Cmd::Review { .. } => "review",
            Cmd::Decide(Decision::Accept) => "accept",
            Cmd::Decide(Decision::Reject) => "reject",
            Cmd::Decide(Decision::Waitlist) => "waitlist",
            Cmd::Decide(Decision::Promote) => "promote",
            Cmd::Withdraw => "withdraw",
            Cmd::GetView => "get_view",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Step {
    /// Which application: with `aim`, an index into the applications where the command can
    /// succeed (see [`Model::target`]); otherwise into all of them. Taken modulo the count.
    app: usize,
    /// Aim at an application in a state where the command makes sense (and, for a reviewer's
    /// review or the assignment of a reviewer, at a review still pending or a reviewer still
    /// missing). Random sequences rarely walk a whole pipeline (submit → assign → review →
    /// decide) by chance; aiming only chooses the input, the model still predicts every answer.
    aim: bool,
    actor: Who,
    cmd: Cmd,
}

#[derive(Debug, Clone)]
struct Scenario {
    capacity: u32,
    min_reviews: u32,
    blind: bool,
    applicants: usize,
    steps: Vec<Step>,
}

/// Mostly the actor who may do it, sometimes anyone: both the happy paths and the refusals get
/// exercised.
fn actor(usual: &'static [Who]) -> impl Strategy<Value = Who> {
    prop_oneof![
        6 => prop::sample::select(usual),
        1 => prop::sample::select(EVERYONE),
    ]
}

const STAFF: &[Who] = &[Who::Coordinator, Who::Coordinator, Who::Admin];
const REVIEWERS: &[Who] = &[Who::Reviewer1, Who::Reviewer2];

type Act = BoxedStrategy<(Who, Cmd)>;

fn submit() -> Act {
    actor(&[Who::Applicant]).prop_map(|who| (who, Cmd::Submit)).boxed()
}

fn assign() -> Act {
    let reviewer = prop_oneof![6 => prop::sample::select(REVIEWERS), 1 => prop::sample::select(EVERYONE)];
    (actor(STAFF), reviewer)
        .prop_map(|(who, reviewer)| (who, Cmd::AssignReviewer(reviewer)))
        .boxed()
}

fn review() -> Act {
    // Few distinct scores, so equal means (the waitlist's tie on submission time) are common.
    let score = prop_oneof![
        20 => prop::sample::select(&[40i64, 60, 80][..]),
        10 => 0i64..=100,
        1 => -20i64..0,
        1 => 101i64..=150,
    ];
    (actor(REVIEWERS), score, prop::bool::weighted(0.1))
        .prop_map(|(who, score, conflict_declared)| {
            (
                who,
                Cmd::Review {
                    score,
                    conflict_declared,
                },
            )
        })
        .boxed()
}

fn decide(decisions: &'static [Decision]) -> Act {
    (actor(STAFF), prop::sample::select(decisions))
        .prop_map(|(who, decision)| (who, Cmd::Decide(decision)))
        .boxed()
}

fn withdraw() -> Act {
    // Now and then an admin tries it for the applicant (refused: only the applicant withdraws).
    actor(&[Who::Applicant, Who::Applicant, Who::Applicant, Who::Admin])
        .prop_map(|who| (who, Cmd::Withdraw))
        .boxed()
}

fn view() -> Act {
    prop::sample::select(EVERYONE)
        .prop_map(|who| (who, Cmd::GetView))
        .boxed()
}

/// Any command at all.
fn any_command() -> Act {
    prop_oneof![
        3 => submit(),
        4 => assign(),
        4 => review(),
        6 => decide(&[Decision::Accept, Decision::Accept, Decision::Waitlist, Decision::Waitlist, Decision::Reject, Decision::Promote]),
        1 => withdraw(),
        1 => view(),
    ]
    .boxed()
}

fn step(command: Act) -> impl Strategy<Value = Step> {
    // Index 0 most of the time: aimed steps then pick the first fitting application, which
    // concentrates the work and walks applications deep into the workflow.
    let app = prop_oneof![2 => Just(0usize), 1 => 0..6usize];
    (app, prop::bool::weighted(0.95), command).prop_map(|(app, aim, (actor, cmd))| Step { app, aim, actor, cmd })
}

/// One slot of a round: usually its own kind of command, sometimes any command, sometimes
/// nothing (so shrinking can drop single steps).
fn slot(command: Act) -> impl Strategy<Value = Option<Step>> {
    prop::option::weighted(0.95, step(prop_oneof![7 => command, 1 => any_command()].boxed()))
}

/// Up to eight steps shaped like one pass through the workflow — submit, assign twice, review
/// twice, decide twice, then a withdrawal, promotion, rejection or view. Uniformly random
/// commands seldom get an application past review; rounds get several to a decision, so the
/// program fills up and the waitlist moves.
fn round() -> impl Strategy<Value = Vec<Step>> {
    let first: &'static [Decision] = &[Decision::Accept, Decision::Accept, Decision::Waitlist, Decision::Reject];
    let second: &'static [Decision] = &[Decision::Accept, Decision::Waitlist, Decision::Waitlist];
    let tail = prop_oneof![
        3 => withdraw(),
        1 => decide(&[Decision::Promote]),
        1 => decide(&[Decision::Reject]),
        1 => view(),
    ]
    .boxed();
    (
        slot(submit()),
        slot(assign()),
        slot(assign()),
        slot(review()),
        slot(review()),
        slot(decide(first)),
        slot(decide(second)),
        slot(tail),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| [a, b, c, d, e, f, g, h].into_iter().flatten().collect())
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        // Small programs fill up sooner: more `ProgramFull` and more waitlist traffic.
        prop_oneof![3 => Just(1u32), 2 => Just(2u32), 2 => 3..=4u32],
        1..=2u32,
        any::<bool>(),
        3..=6usize,
        // At most 5 × 8 = 40 steps; mostly the full 40 (a failure shrinks toward fewer).
        prop_oneof![1 => prop::collection::vec(round(), 1..=5), 2 => prop::collection::vec(round(), 5)],
    )
        .prop_map(|(capacity, min_reviews, blind, applicants, rounds)| Scenario {
            capacity,
            min_reviews,
            blind,
            applicants,
            steps: rounds.into_iter().flatten().collect(),
        })
}

// ---------------------------------------------------------------------------------------------
// Reference model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReviewModel {
    reviewer: Who,
    /// `(score, conflict_declared)` once submitted.
    submitted: Option<(u32, bool)>,
}

#[derive(Debug, Clone)]
struct AppModel {
    status: ApplicationStatus,
    submitted_at: Option<DateTime<Utc>>,
    /// In assignment order.
    reviews: Vec<ReviewModel>,
    /// Promotions (manual or automatic) this application received.
    promotions: u32,
}

impl AppModel {
    fn assigned(&self, who: Who) -> Option<&ReviewModel> {
        self.reviews.iter().find(|r| r.reviewer == who)
    }

    fn qualified_scores(&self) -> Vec<u32> {
        self.reviews
            .iter()
            .filter_map(|r| r.submitted)
            .filter(|(_, conflict)| !conflict)
            .map(|(score, _)| score)
            .collect()
    }

    /// Mean of the qualified scores × 100, rounded down; `None` without any.
    fn mean_centi(&self) -> Option<u32> {
        let scores = self.qualified_scores();
        (!scores.is_empty()).then(|| scores.iter().sum::<u32>() * 100 / scores.len() as u32)
    }
}

#[derive(Debug, Clone)]
struct Model {
    capacity: u32,
    min_reviews: u32,
    blind: bool,
    accepted: u32,
    apps: Vec<AppModel>,
}

/// An answer of a use case, reduced to what the model predicts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    NotFound,
    Forbidden,
    /// Validation failed on these fields (sorted, deduplicated, comma-separated).
    Invalid(String),
    InvalidTransition {
        entity: &'static str,
        from: &'static str,
        command: &'static str,
    },
    Conflict {
        entity: &'static str,
        field: &'static str,
    },
    ProgramFull,
    /// Anything the model never predicts.
    Unexpected(String),
}

impl Outcome {
    fn of<T>(result: &Result<T, Error>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(Error::NotFound { .. }) => Outcome::NotFound,
            Err(Error::Forbidden(_)) => Outcome::Forbidden,
            Err(Error::Validation(errors)) => {
                let mut fields: Vec<&str> = errors.fields().iter().map(|f| f.field.as_ref()).collect();
                fields.sort_unstable();
                fields.dedup();
                Outcome::Invalid(fields.join(","))
            }
            Err(Error::InvalidTransition { entity, from, command }) => {
                Outcome::InvalidTransition { entity, from, command }
            }
            Err(Error::Conflict { entity, field }) => Outcome::Conflict { entity, field },
            Err(Error::ProgramFull) => Outcome::ProgramFull,
            Err(other) => Outcome::Unexpected(format!("{other:?}")),
        }
    }

    fn label(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::NotFound => "not_found".into(),
            Outcome::Forbidden => "forbidden".into(),
            Outcome::Invalid(fields) => format!("invalid({fields})"),
            Outcome::InvalidTransition { entity, .. } => format!("invalid_transition({entity})"),
            Outcome::Conflict { entity, field } => format!("conflict({entity}.{field})"),
            Outcome::ProgramFull => "program_full".into(),
            Outcome::Unexpected(e) => format!("unexpected({e})"),
        }
    }
}

fn transition_error(entity: &'static str, from: ApplicationStatus, command: &'static str) -> Outcome {
    Outcome::InvalidTransition {
        entity,
        from: from.as_str(),
        command,
    }
}

fn is_member(who: Who) -> bool {
    matches!(who, Who::Coordinator | Who::Reviewer1 | Who::Reviewer2)
}

/// Program staff (owners and coordinators of the organization) and admins.
fn is_staff_or_admin(who: Who) -> bool {
    matches!(who, Who::Coordinator | Who::Admin)
}

/// What the model expects from one step, and what changes if it succeeds.
#[derive(Debug)]
struct Prediction {
    outcome: Outcome,
    /// The application promoted from the waitlist as a consequence of the step.
    auto_promoted: Option<usize>,
    /// How many applications were waiting when that happened, and whether the best mean score
    /// was shared (so the submission time decided).
    waitlist: (usize, bool),
}

/// A test on an application's state (see [`Model::target`]).
type Fits<'a> = Box<dyn Fn(&AppModel) -> bool + 'a>;

impl Model {
    /// The application a step works on and who acts (see [`Step::aim`]): aimed, the first
    /// non-empty group of applications where the command is most likely to do something, and a
    /// reviewer's review goes to one of the reviews still pending; otherwise as generated.
    fn target(&self, step: &Step) -> (usize, Who, Cmd) {
        use ApplicationStatus as S;
        if step.aim && matches!(step.cmd, Cmd::Review { .. }) && REVIEWERS.contains(&step.actor) {
            let pending: Vec<(usize, Who)> = self
                .apps
                .iter()
                .enumerate()
                .filter(|(_, a)| a.status == S::UnderReview)
                .flat_map(|(i, a)| {
                    a.reviews
                        .iter()
                        .filter(|r| r.submitted.is_none())
                        .map(move |r| (i, r.reviewer))
                })
                .collect();
            if !pending.is_empty() {
                let (i, reviewer) = pending[step.app % pending.len()];
                return (i, reviewer, step.cmd);
            }
        }
        if step.aim && matches!(step.cmd, Cmd::AssignReviewer(r) if REVIEWERS.contains(&r)) {
            // Assign a reviewer the application does not have yet (the second of min_reviews 2).
            let open: Vec<(usize, Who)> = self
                .apps
                .iter()
                .enumerate()
                .filter(|(_, a)| matches!(a.status, S::Submitted | S::UnderReview))
                .flat_map(|(i, a)| {
                    REVIEWERS
                        .iter()
                        .filter(|r| a.assigned(**r).is_none())
                        .map(move |r| (i, *r))
                })
                .collect();
            if !open.is_empty() {
                let (i, reviewer) = open[step.app % open.len()];
                return (i, step.actor, Cmd::AssignReviewer(reviewer));
            }
        }
        let enough = |a: &AppModel| a.qualified_scores().len() as u32 >= self.min_reviews;
        let groups: Vec<Fits<'_>> = match step.cmd {
            Cmd::Submit => vec![Box::new(|a| a.status == S::Draft)],
            Cmd::AssignReviewer(reviewer) => vec![
                Box::new(move |a| matches!(a.status, S::Submitted | S::UnderReview) && a.assigned(reviewer).is_none()),
                Box::new(|a| matches!(a.status, S::Submitted | S::UnderReview)),
            ],
            Cmd::Review { .. } => vec![
                Box::new(|a| {
                    a.status == S::UnderReview && a.assigned(step.actor).is_some_and(|r| r.submitted.is_none())
                }),
                Box::new(|a| a.status == S::UnderReview),
            ],
            Cmd::Decide(Decision::Promote) => vec![Box::new(|a| a.status == S::Waitlisted)],
            Cmd::Decide(Decision::Reject) => vec![
                Box::new(move |a| (a.status == S::UnderReview && enough(a)) || a.status == S::Waitlisted),
                Box::new(|a| a.status == S::UnderReview),
            ],
            Cmd::Decide(_) => vec![
                Box::new(move |a| a.status == S::UnderReview && enough(a)),
                Box::new(|a| a.status == S::UnderReview),
            ],
            // Freeing a seat while someone waits is what moves the waitlist.
            Cmd::Withdraw if self.apps.iter().any(|a| a.status == S::Waitlisted) => vec![
                Box::new(|a| a.status == S::Accepted),
                Box::new(|a| !a.status.is_terminal()),
            ],
            Cmd::Withdraw => vec![Box::new(|a| matches!(a.status, S::Accepted | S::Waitlisted))],
            Cmd::GetView => Vec::new(),
        };
        let n = self.apps.len();
        if step.aim {
            for fits in &groups {
                let candidates: Vec<usize> = (0..n).filter(|&i| fits(&self.apps[i])).collect();
                if !candidates.is_empty() {
                    return (candidates[step.app % candidates.len()], step.actor, step.cmd);
                }
            }
        }
        (step.app % n, step.actor, step.cmd)
    }

    /// Who may see application `i` (`get_application`): admins and the applicant always; program
    /// staff and its assigned reviewers once it is submitted (a draft is the applicant's alone).
    fn may_view(&self, i: usize, who: Who) -> bool {
        let app = &self.apps[i];
        matches!(who, Who::Admin | Who::Applicant)
            || (app.status != ApplicationStatus::Draft && (who == Who::Coordinator || app.assigned(who).is_some()))
    }

    /// Predicts the answer to `step` and, when it succeeds, applies it to the model.
    fn apply(&mut self, i: usize, step: &Step, now: DateTime<Utc>) -> Prediction {
        let who = step.actor;
        let status = self.apps[i].status;
        let mut auto_promoted = None;
        let mut waitlist = (0, false);
        let outcome = match step.cmd {
            Cmd::Submit => match who {
                Who::Applicant if status == ApplicationStatus::Draft => {
                    let app = &mut self.apps[i];
                    app.status = ApplicationStatus::Submitted;
                    app.submitted_at = Some(now);
                    Outcome::Ok
                }
                Who::Applicant => transition_error("application", status, "submit"),
                // Only the applicant submits; whoever else sees it learns it is not theirs to do.
                _ if self.may_view(i, who) => Outcome::Forbidden,
                _ => Outcome::NotFound,
            },
            Cmd::AssignReviewer(reviewer) => {
                // An application the caller cannot see does not exist for them, whatever the
                // (public) program says.
                if !self.may_view(i, who) {
                    Outcome::NotFound
                } else if !is_staff_or_admin(who) {
                    Outcome::Forbidden
                } else if !is_member(reviewer) {
                    // Not a member of the organization (the applicant, the outsider, the admin).
                    Outcome::Invalid("reviewer_id".into())
                } else if !matches!(status, ApplicationStatus::Submitted | ApplicationStatus::UnderReview) {
                    transition_error("application", status, "assign_reviewer")
                } else if self.apps[i].assigned(reviewer).is_some() {
                    Outcome::Conflict {
                        entity: "review",
                        field: "application_reviewer",
                    }
                } else {
                    let app = &mut self.apps[i];
                    app.reviews.push(ReviewModel {
                        reviewer,
                        submitted: None,
                    });
                    app.status = ApplicationStatus::UnderReview;
                    Outcome::Ok
                }
            }
            Cmd::Review {
                score,
                conflict_declared,
            } => {
                let assigned = self.apps[i].assigned(who).copied();
                if !self.may_view(i, who) {
                    Outcome::NotFound
                } else if !(who == Who::Coordinator || (is_member(who) && assigned.is_some())) {
                    // Admins and the applicant see the application but do not score it.
                    Outcome::Forbidden
                } else if !(0..=100).contains(&score) {
                    Outcome::Invalid("score".into())
                } else {
                    match assigned {
                        // Staff may score without an assignment (docs/domain.md §2): their review
                        // takes an assignment's place.
                        None if status != ApplicationStatus::UnderReview => {
                            transition_error("application", status, "review")
                        }
                        None => {
                            self.apps[i].reviews.push(ReviewModel {
                                reviewer: who,
                                submitted: Some((score as u32, conflict_declared)),
                            });
                            Outcome::Ok
                        }
                        Some(review) if review.submitted.is_some() => Outcome::InvalidTransition {
                            entity: "review",
                            from: "submitted",
                            command: "submit",
                        },
                        Some(_) if status != ApplicationStatus::UnderReview => {
                            transition_error("application", status, "review")
                        }
                        Some(_) => {
                            let review = self.apps[i]
                                .reviews
                                .iter_mut()
                                .find(|r| r.reviewer == who)
                                .expect("assigned");
                            review.submitted = Some((score as u32, conflict_declared));
                            Outcome::Ok
                        }
                    }
                }
            }
            Cmd::Decide(decision) => {
                use ApplicationStatus as S;
                let (command, to) = match decision {
                    Decision::Accept => ("accept", S::Accepted),
                    Decision::Reject => ("reject", S::Rejected),
                    Decision::Waitlist => ("waitlist", S::Waitlisted),
                    Decision::Promote => ("promote", S::Accepted),
                };
                let in_graph = matches!(
                    (status, decision),
                    (S::UnderReview, Decision::Accept | Decision::Reject | Decision::Waitlist)
                        | (S::Waitlisted, Decision::Promote | Decision::Reject)
                );
                let takes_seat = to == S::Accepted;
                if !self.may_view(i, who) {
                    Outcome::NotFound
                } else if !is_staff_or_admin(who) {
                    Outcome::Forbidden
                } else if !in_graph {
                    transition_error("application", status, command)
                } else if status == S::UnderReview && (self.apps[i].qualified_scores().len() as u32) < self.min_reviews
                {
                    Outcome::Invalid("reviews".into())
                } else if takes_seat && self.accepted >= self.capacity {
                    Outcome::ProgramFull
                } else {
                    self.apps[i].status = to;
                    if takes_seat {
                        self.accepted += 1;
                    }
                    if decision == Decision::Promote {
                        self.apps[i].promotions += 1;
                    }
                    Outcome::Ok
                }
            }
            Cmd::Withdraw => match who {
                Who::Applicant if status.is_terminal() => transition_error("application", status, "withdraw"),
                Who::Applicant => {
                    self.apps[i].status = ApplicationStatus::Withdrawn;
                    if status == ApplicationStatus::Accepted {
                        // The seat goes to the best waitlisted application (the program has not
                        // started: it stays published throughout).
                        self.accepted -= 1;
                        let rank = |a: &AppModel| (std::cmp::Reverse(a.mean_centi().unwrap_or(0)), a.submitted_at);
                        let waiting: Vec<usize> = (0..self.apps.len())
                            .filter(|&j| self.apps[j].status == ApplicationStatus::Waitlisted)
                            .collect();
                        let best = waiting.iter().copied().min_by_key(|&j| rank(&self.apps[j]));
                        if let Some(j) = best {
                            let top = rank(&self.apps[j]).0;
                            let tied = waiting.iter().filter(|&&k| rank(&self.apps[k]).0 == top).count() > 1;
                            waitlist = (waiting.len(), tied);
                            self.apps[j].status = ApplicationStatus::Accepted;
                            self.apps[j].promotions += 1;
                            self.accepted += 1;
                            auto_promoted = Some(j);
                        }
                    }
                    Outcome::Ok
                }
                // Whoever sees it (admins, staff, assigned reviewers) may not withdraw it.
                _ if self.may_view(i, who) => Outcome::Forbidden,
                _ => Outcome::NotFound,
            },
            Cmd::GetView => {
                if self.may_view(i, who) {
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                }
            }
        };
        Prediction {
            outcome,
            auto_promoted,
            waitlist,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The world of one case

const T0: (i32, u32, u32) = (2031, 3, 1);
const FIRST_NAMES: [&str; 6] = [
    "Wilhelmina",
    "Bartholomew",
    "Philippa",
    "Zebulon",
    "Octavia",
    "Fitzgerald",
];
const LAST_NAMES: [&str; 6] = [
    "Quenneville",
    "Abernathy",
    "Montgomery",
    "Kowalczyk",
    "Villanueva",
    "Thistlewood",
];
const PROJECT_NAMES: [&str; 6] = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"];

struct World {
    eco: Eco,
    clock: Arc<ManualClock>,
    program: ProgramId,
    admin: User,
    coordinator: User,
    reviewers: [User; 2],
    outsider: User,
    applicants: Vec<User>,
    apps: Vec<ApplicationId>,
}

impl World {
    async fn new(s: &Scenario) -> World {
        let t0 = support::instant(T0, 9);
        let (eco, clock) = support::ecosystem(t0);

        let admin = create_user(&eco, "Ada", "Operator", Role::Admin).await;
        // Allies and clients may create organizations; the creator becomes its owner.
        let coordinator = create_user(&eco, "Carmen", "Coordinadora", Role::Ally).await;
        let reviewers = [
            create_user(&eco, "Rafael", "Revisor", Role::Ally).await,
            create_user(&eco, "Rosario", "Revisora", Role::Client).await,
        ];
        let outsider = create_user(&eco, "Oscar", "Forastero", Role::Entrepreneur).await;
        let mut applicants = Vec::new();
        for k in 0..s.applicants {
            applicants.push(create_user(&eco, FIRST_NAMES[k], LAST_NAMES[k], Role::Entrepreneur).await);
        }

        let staff = Context::user(&coordinator);
        let org = eco
            .create_organization(
                &staff,
                CreateOrganization {
                    name: "Andes Incubator".into(),
                    organization_type: OrganizationType::Incubator,
                    is_public: None,
                    allow_applications: None,
                    email: None,
                    website: None,
                    tax_id: None,
                    description: None,
                },
            )
            .await
            .expect("organization");
        for reviewer in &reviewers {
            eco.add_member(&staff, org.id, reviewer.id, MemberRole::Reviewer)
                .await
                .expect("reviewer membership");
        }
        let program = eco
            .create_program(
                &staff,
                CreateProgram {
                    organization_id: org.id,
                    name: "Seed Cohort".into(),
                    program_type: ProgramType::Incubation,
                    description: None,
                    application_opens_at: t0 - Duration::days(1),
                    application_deadline: t0 + Duration::days(30),
                    start_date: (t0 + Duration::days(45)).date_naive(),
                    end_date: (t0 + Duration::days(120)).date_naive(),
                    min_participants: Some(1),
                    max_participants: s.capacity,
                    min_reviews: Some(s.min_reviews),
                    blind_review: Some(s.blind),
                    target_sectors: Vec::new(),
                    target_stages: Vec::new(),
                    format: None,
                    rounds: None,
                },
            )
            .await
            .expect("program");
        eco.program_command(&staff, program.id, ProgramCommand::Publish, None)
            .await
            .expect("publish");

        let mut apps = Vec::new();
        for (k, applicant) in applicants.iter().enumerate() {
            let ctx = Context::user(applicant);
            let project = eco
                .create_project(
                    &ctx,
                    CreateProject {
                        name: format!("Venture {}", PROJECT_NAMES[k]),
                        description: "A venture that turns a good idea into a product.".into(),
                        project_type: ProjectType::Startup,
                        tagline: None,
                        category: None,
                        priority: None,
                        stage: None,
                        funding_stage: None,
                        funding_target: None,
                        team_size: None,
                        is_public: None,
                        seeking_mentorship: None,
                    },
                )
                .await
                .expect("project");
            let app = eco
                .create_application(&ctx, program.id, project.id, serde_json::Map::new())
                .await
                .expect("draft application");
            apps.push(app.id);
        }
        World {
            eco,
            clock,
            program: program.id,
            admin,
            coordinator,
            reviewers,
            outsider,
            applicants,
            apps,
        }
    }

    fn user(&self, who: Who, app: usize) -> &User {
        match who {
            Who::Applicant => &self.applicants[app],
            Who::Coordinator => &self.coordinator,
            Who::Reviewer1 => &self.reviewers[0],
            Who::Reviewer2 => &self.reviewers[1],
            Who::Admin => &self.admin,
            Who::Outsider => &self.outsider,
        }
    }

    fn ctx(&self, who: Who, app: usize) -> Context {
        Context::user(self.user(who, app))
    }

    async fn run(&self, i: usize, step: &Step) -> (Outcome, Option<ApplicationView>) {
        let ctx = self.ctx(step.actor, i);
        let id = self.apps[i];
        let eco = &self.eco;
        match step.cmd {
            Cmd::Submit => (Outcome::of(&eco.submit_application(&ctx, id, None).await), None),
            Cmd::AssignReviewer(reviewer) => {
                let reviewer = self.user(reviewer, i).id;
                (Outcome::of(&eco.assign_reviewer(&ctx, id, reviewer).await), None)
            }
            Cmd::Review {
                score,
                conflict_declared,
            } => {
                let input = SubmitReview {
                    score,
                    comment: Some("Solid team, unclear market.".into()),
                    conflict_declared,
                };
                (Outcome::of(&eco.submit_review(&ctx, id, input).await), None)
            }
            Cmd::Decide(decision) => (Outcome::of(&eco.decide(&ctx, id, decision, None, None).await), None),
            Cmd::Withdraw => (Outcome::of(&eco.withdraw_application(&ctx, id, None).await), None),
            Cmd::GetView => {
                let result = eco.get_application(&ctx, id).await;
                (Outcome::of(&result), result.ok())
            }
        }
    }

    /// The identities of every applicant: what a blind view must never contain.
    fn identities(&self) -> Vec<String> {
        self.applicants
            .iter()
            .flat_map(|u| {
                [
                    u.first_name.to_string(),
                    u.last_name.to_string(),
                    u.email.as_str().to_owned(),
                    u.id.to_string(),
                ]
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The checks

#[derive(Default)]
struct Coverage {
    outcomes: BTreeMap<(String, String), u64>,
    auto_promotions: u64,
    /// Automatic promotions that chose among several waiting applications / broke a tie.
    contested_promotions: u64,
    tied_promotions: u64,
    guarded_decisions: u64,
    blind_views: u64,
    open_views: u64,
}

impl Coverage {
    fn count(&self, kind: &str, outcome: &str) -> u64 {
        self.outcomes
            .get(&(kind.to_owned(), outcome.to_owned()))
            .copied()
            .unwrap_or(0)
    }
}

/// Checks one view's identity rules: blind views carry no identity at all; open views carry the
/// applicant (which also proves the needles would be found if they leaked).
fn check_view(
    world: &World,
    model: &Model,
    i: usize,
    viewer: Who,
    view: &ApplicationView,
    coverage: &mut Coverage,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(view).expect("a view serializes");
    let expect_blind = model.blind && !matches!(viewer, Who::Applicant | Who::Admin);
    prop_assert_eq!(
        view.blind,
        expect_blind,
        "blind flag of the view of app {} as {:?}",
        i,
        viewer
    );
    prop_assert_eq!(view.id, world.apps[i]);
    prop_assert_eq!(
        view.status,
        model.apps[i].status,
        "view status of app {} as {:?}",
        i,
        viewer
    );
    prop_assert_eq!(
        view.mean_score_centi,
        model.apps[i].mean_centi(),
        "view mean of app {}",
        i
    );
    if expect_blind {
        coverage.blind_views += 1;
        for needle in world.identities() {
            prop_assert!(
                !json.contains(&needle),
                "blind view of app {} as {:?} leaks {:?}: {}",
                i,
                viewer,
                needle,
                json
            );
        }
    } else {
        coverage.open_views += 1;
        let applicant = &world.applicants[i];
        prop_assert!(
            json.contains(applicant.email.as_str()),
            "open view lacks the email: {}",
            json
        );
        prop_assert!(
            json.contains(&applicant.id.to_string()),
            "open view lacks the id: {}",
            json
        );
    }
    Ok(())
}

/// Compares the store with the model and checks the invariants of §4.2 after a step.
async fn check_store(
    world: &World,
    model: &Model,
    previous: &mut HashMap<ApplicationId, ApplicationStatus>,
    touched: usize,
    prediction: &Prediction,
    coverage: &mut Coverage,
) -> Result<(), TestCaseError> {
    let admin = Context::user(&world.admin);
    let eco = &world.eco;
    let views = eco
        .list_applications(
            &admin,
            ApplicationFilter {
                program_id: Some(world.program),
                ..Default::default()
            },
            PageRequest::all(),
        )
        .await
        .expect("admin lists the program's applications")
        .items;
    // The program's list leaves drafts out (they are the applicant's alone); an admin still
    // reads each draft directly.
    let submitted = model
        .apps
        .iter()
        .filter(|a| a.status != ApplicationStatus::Draft)
        .count();
    prop_assert_eq!(
        views.len(),
        submitted,
        "the program lists every submitted application, no draft"
    );
    let mut stored: HashMap<ApplicationId, ApplicationView> = views.into_iter().map(|v| (v.id, v)).collect();
    for (i, id) in world.apps.iter().enumerate() {
        if model.apps[i].status == ApplicationStatus::Draft {
            let draft = eco.get_application(&admin, *id).await.expect("an admin reads a draft");
            prop_assert!(stored.insert(*id, draft).is_none(), "draft app {} was listed", i);
        }
    }
    let program = eco
        .get_program(&admin, world.program)
        .await
        .expect("admin sees the program");

    // Capacity, and the seat counter guarding it.
    let accepted = stored
        .values()
        .filter(|v| v.status == ApplicationStatus::Accepted)
        .count() as u32;
    prop_assert!(
        accepted <= program.max_participants,
        "{} accepted > capacity {}",
        accepted,
        program.max_participants
    );
    prop_assert_eq!(program.accepted_count, accepted, "program.accepted_count");
    prop_assert_eq!(model.accepted, accepted, "model's accepted count");

    for (i, id) in world.apps.iter().enumerate() {
        let now = &stored[id];
        let expected = &model.apps[i];
        prop_assert_eq!(now.status, expected.status, "status of app {}", i);
        prop_assert_eq!(now.submitted_at, expected.submitted_at, "submitted_at of app {}", i);
        prop_assert_eq!(now.mean_score_centi, expected.mean_centi(), "mean score of app {}", i);
        prop_assert!(!now.blind, "an admin's view is never blind");
        let before = previous.insert(*id, now.status).expect("every app had a status");
        if before.is_terminal() {
            prop_assert_eq!(now.status, before, "app {} left the terminal status {}", i, before);
        }
        // A decision out of review needs min_reviews qualified reviews at that moment (reviews
        // cannot change in the step that decided, so reading them now is reading them then).
        if before == ApplicationStatus::UnderReview
            && matches!(
                now.status,
                ApplicationStatus::Accepted | ApplicationStatus::Rejected | ApplicationStatus::Waitlisted
            )
        {
            coverage.guarded_decisions += 1;
            let reviews = eco.list_reviews(&admin, *id).await.expect("admin lists reviews");
            let qualified = reviews.iter().filter(|r| r.is_qualified()).count() as u32;
            prop_assert!(
                qualified >= program.min_reviews,
                "app {} went {} -> {} with {} qualified reviews (min {})",
                i,
                before,
                now.status,
                qualified,
                program.min_reviews
            );
        }
    }

    // The touched application's reviews, row by row.
    let id = world.apps[touched];
    let reviews = eco.list_reviews(&admin, id).await.expect("admin lists reviews");
    let mut actual: Vec<(String, Option<(u32, bool)>)> = reviews
        .iter()
        .map(|r| {
            let score = r.score.map(|s| (u32::from(s.get()), r.conflict_declared));
            (r.reviewer_id.to_string(), r.submitted_at.and(score))
        })
        .collect();
    let mut wanted: Vec<(String, Option<(u32, bool)>)> = model.apps[touched]
        .reviews
        .iter()
        .map(|r| (world.user(r.reviewer, touched).id.to_string(), r.submitted))
        .collect();
    actual.sort();
    wanted.sort();
    prop_assert_eq!(actual, wanted, "reviews of app {}", touched);

    // Accepted creates the enrollment; withdrawing an accepted application drops it out.
    let enrollments = eco
        .list_enrollments(&admin, world.program, None, PageRequest::all())
        .await
        .expect("admin lists enrollments")
        .items;
    for (i, id) in world.apps.iter().enumerate() {
        let mine: Vec<EnrollmentStatus> = enrollments
            .iter()
            .filter(|e| e.application_id == *id)
            .map(|e| e.status)
            .collect();
        match stored[id].status {
            ApplicationStatus::Accepted => {
                prop_assert_eq!(
                    mine,
                    vec![EnrollmentStatus::Enrolled],
                    "enrollment of accepted app {}",
                    i
                )
            }
            ApplicationStatus::Withdrawn if !mine.is_empty() => {
                prop_assert_eq!(
                    mine,
                    vec![EnrollmentStatus::DroppedOut],
                    "enrollment of withdrawn app {}",
                    i
                )
            }
            other => prop_assert!(mine.is_empty(), "app {} is {} but has enrollments {:?}", i, other, mine),
        }
    }

    // The promoted applicant hears about it.
    if let Some(j) = prediction.auto_promoted {
        coverage.auto_promotions += 1;
        coverage.contested_promotions += u64::from(prediction.waitlist.0 > 1);
        coverage.tied_promotions += u64::from(prediction.waitlist.1);
        let notes = eco
            .list_notifications(&Context::user(&world.applicants[j]), None, PageRequest::all())
            .await
            .expect("own notifications")
            .items;
        let promoted = notes.iter().filter(|n| n.kind == "application_promoted").count() as u32;
        prop_assert_eq!(promoted, model.apps[j].promotions, "promotion notices of app {}", j);
    }

    // Identity in the views of the evaluators of the touched application (blind programs: none;
    // open programs: all of it), and in the staff's list of the program.
    for viewer in [Who::Coordinator, Who::Reviewer1, Who::Reviewer2] {
        if model.may_view(touched, viewer) {
            let view = eco
                .get_application(&world.ctx(viewer, touched), id)
                .await
                .expect("an evaluator sees the application");
            check_view(world, model, touched, viewer, &view, coverage)?;
        }
    }
    let staff_list = eco
        .list_applications(
            &world.ctx(Who::Coordinator, touched),
            ApplicationFilter {
                program_id: Some(world.program),
                ..Default::default()
            },
            PageRequest::all(),
        )
        .await
        .expect("staff list the program's applications")
        .items;
    prop_assert_eq!(
        staff_list.len(),
        submitted,
        "staff see every submitted application, no draft"
    );
    if model.blind {
        let json = serde_json::to_string(&staff_list).expect("views serialize");
        for needle in world.identities() {
            prop_assert!(
                !json.contains(&needle),
                "staff list of a blind program leaks {:?}",
                needle
            );
        }
    }
    Ok(())
}

/// Runs one scenario, checking every step; answers the final model.
async fn run_scenario(s: &Scenario, coverage: &mut Coverage) -> Result<Model, TestCaseError> {
    let world = World::new(s).await;
    let mut model = Model {
        capacity: s.capacity,
        min_reviews: s.min_reviews,
        blind: s.blind,
        accepted: 0,
        apps: vec![
            AppModel {
                status: ApplicationStatus::Draft,
                submitted_at: None,
                reviews: Vec::new(),
                promotions: 0,
            };
            s.applicants
        ],
    };
    let mut previous: HashMap<ApplicationId, ApplicationStatus> =
        world.apps.iter().map(|id| (*id, ApplicationStatus::Draft)).collect();
    for (n, step) in s.steps.iter().enumerate() {
        world.clock.advance(Duration::minutes(1));
        let (i, actor, cmd) = model.target(step);
        let step = &Step { actor, cmd, ..*step };
        let before = model.clone();
        let prediction = model.apply(i, step, world.clock.now());
        let (outcome, view) = world.run(i, step).await;
        *coverage
            .outcomes
            .entry((step.cmd.kind().to_owned(), outcome.label()))
            .or_default() += 1;
        prop_assert_eq!(
            &outcome,
            &prediction.outcome,
            "step {} {:?} on app {} (model before: {:?})",
            n,
            step,
            i,
            before.apps[i]
        );
        if let Some(view) = &view {
            check_view(&world, &model, i, step.actor, view, coverage)?;
        }
        check_store(&world, &model, &mut previous, i, &prediction, coverage).await?;
    }
    Ok(model)
}

#[test]
fn application_workflow_matches_the_reference_model() {
    let coverage = RefCell::new(Coverage::default());
    support::check_model("application_state_machine", scenario(), |s| {
        support::block_on(run_scenario(&s, &mut coverage.borrow_mut())).map(drop)
    });

    // The generators must actually reach the interesting corners; a run that never fills the
    // program or never promotes from the waitlist would prove nothing about them.
    let c = coverage.into_inner();
    let table = support::outcome_table(&c.outcomes, 16, 44);
    eprintln!(
        "{table}auto promotions: {} ({} contested, {} tied), guarded decisions: {}, blind views: {}, open views: {}",
        c.auto_promotions, c.contested_promotions, c.tied_promotions, c.guarded_decisions, c.blind_views, c.open_views
    );
    for kind in [
        "submit",
        "assign_reviewer",
        "review",
        "accept",
        "reject",
        "waitlist",
        "promote",
        "withdraw",
        "get_view",
    ] {
        assert!(
            c.count(kind, "ok") > 0,
            "no successful {kind} in the whole run:\n{table}"
        );
    }
    for (kind, outcome) in [
        ("accept", "program_full"),
        ("accept", "invalid(reviews)"),
        ("assign_reviewer", "conflict(review.application_reviewer)"),
        ("assign_reviewer", "invalid(reviewer_id)"),
        ("review", "forbidden"),
        ("review", "not_found"),
        ("review", "invalid(score)"),
        ("submit", "not_found"),
        ("withdraw", "forbidden"),
    ] {
        assert!(c.count(kind, outcome) > 0, "never saw {kind} -> {outcome}:\n{table}");
    }
    assert!(
        c.auto_promotions > 0,
        "no automatic promotion from the waitlist happened"
    );
    assert!(c.guarded_decisions > 0, "no decision out of under_review happened");
    assert!(
        c.blind_views > 0 && c.open_views > 0,
        "blind and open views both need checking"
    );
}

// ---------------------------------------------------------------------------------------------
// Directed scenarios through the same harness: corners that random runs reach only rarely (the
// waitlist choosing between several applications), with the expected end state spelled out.

fn at(app: usize, actor: Who, cmd: Cmd) -> Step {
    Step {
        app,
        aim: false,
        actor,
        cmd,
    }
}

fn scored(score: i64, conflict_declared: bool) -> Cmd {
    Cmd::Review {
        score,
        conflict_declared,
    }
}

/// Three applications submitted in the order 2, 1, 0, each reviewed once with `scores[i]`; app 0
/// takes the only seat, apps 1 then 2 go to the waitlist, then app 0 withdraws.
fn waitlist_race(scores: [i64; 3]) -> Model {
    let mut steps = vec![
        at(2, Who::Applicant, Cmd::Submit),
        at(1, Who::Applicant, Cmd::Submit),
        at(0, Who::Applicant, Cmd::Submit),
    ];
    for (i, score) in scores.into_iter().enumerate() {
        steps.push(at(i, Who::Coordinator, Cmd::AssignReviewer(Who::Reviewer1)));
        steps.push(at(i, Who::Reviewer1, scored(score, false)));
    }
    steps.extend([
        at(0, Who::Coordinator, Cmd::Decide(Decision::Accept)),
        at(1, Who::Coordinator, Cmd::Decide(Decision::Waitlist)),
        at(2, Who::Coordinator, Cmd::Decide(Decision::Waitlist)),
        at(0, Who::Applicant, Cmd::Withdraw),
    ]);
    run_directed(Scenario {
        capacity: 1,
        min_reviews: 1,
        blind: false,
        applicants: 3,
        steps,
    })
}

fn run_directed(s: Scenario) -> Model {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    rt.block_on(run_scenario(&s, &mut Coverage::default()))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn statuses(model: &Model) -> Vec<ApplicationStatus> {
    model.apps.iter().map(|a| a.status).collect()
}

#[test]
fn an_equal_score_waitlist_promotes_the_earliest_submitted() {
    use ApplicationStatus::{Accepted, Waitlisted, Withdrawn};
    // App 2 was submitted before app 1 (and created after it): submission time decides.
    let model = waitlist_race([60, 60, 60]);
    assert_eq!(statuses(&model), [Withdrawn, Waitlisted, Accepted]);
}

#[test]
fn a_higher_mean_score_beats_an_earlier_submission() {
    use ApplicationStatus::{Accepted, Waitlisted, Withdrawn};
    let model = waitlist_race([60, 70, 50]);
    assert_eq!(statuses(&model), [Withdrawn, Accepted, Waitlisted]);
}

#[test]
fn declared_conflicts_do_not_count_toward_min_reviews() {
    use ApplicationStatus::{Accepted, Draft};
    let model = run_directed(Scenario {
        capacity: 2,
        min_reviews: 2,
        blind: true,
        applicants: 3,
        steps: vec![
            at(0, Who::Applicant, Cmd::Submit),
            at(0, Who::Admin, Cmd::AssignReviewer(Who::Reviewer1)),
            at(0, Who::Coordinator, Cmd::AssignReviewer(Who::Reviewer2)),
            at(0, Who::Reviewer1, scored(80, true)),
            at(0, Who::Reviewer2, scored(70, false)),
            // One qualified review of two needed: refused (the model expects `invalid(reviews)`).
            at(0, Who::Coordinator, Cmd::Decide(Decision::Accept)),
            at(0, Who::Reviewer1, Cmd::GetView),
            // Staff may score where assigned.
            at(0, Who::Coordinator, Cmd::AssignReviewer(Who::Coordinator)),
            at(0, Who::Coordinator, scored(90, false)),
            at(0, Who::Admin, Cmd::Decide(Decision::Accept)),
            at(1, Who::Reviewer2, Cmd::GetView),
        ],
    });
    assert_eq!(model.apps[0].status, Accepted);
    assert_eq!(
        model.apps[0].mean_centi(),
        Some(8000),
        "(70 + 90) / 2, the conflicted 80 left out"
    );
    assert_eq!(model.apps[1].status, Draft);
}

// ---------------------------------------------------------------------------------------------
// Review rounds (docs/domain.md §10): invariants checked against the store's state before each step

#[derive(Debug, Clone, Copy)]
enum RoundCmd {
    Submit,
    Assign(Who),
    Review(i64),
    Advance,
    RejectInRound,
    Decide(Decision),
    Withdraw,
}

#[derive(Debug, Clone, Copy)]
struct RoundStep {
    /// Which application (modulo the count).
    app: usize,
    /// An `advance` aimed at an application in its last round (or in a program without
    /// rounds) is sent as `accept` instead: random passes rarely line an acceptance up with
    /// the last round. The invariants do not depend on it; the coverage does.
    aim: bool,
    actor: Who,
    cmd: RoundCmd,
}

#[derive(Debug, Clone)]
struct RoundScenario {
    base: Scenario,
    /// `(min_reviews, threshold, blind, named reviewer)` per round; empty: no rounds.
    rounds: Vec<(u32, u8, bool, Option<Who>)>,
    steps: Vec<RoundStep>,
}

fn round_pass() -> impl Strategy<Value = Vec<RoundStep>> {
    let staff = || actor(STAFF);
    let reviewer = || prop_oneof![8 => prop::sample::select(REVIEWERS), 1 => prop::sample::select(EVERYONE)];
    let score = prop::sample::select(&[40i64, 60, 80, 100][..]);
    let decision = prop_oneof![
        6 => Just(RoundCmd::Advance),
        2 => Just(RoundCmd::Decide(Decision::Accept)),
        1 => Just(RoundCmd::Decide(Decision::Waitlist)),
        1 => Just(RoundCmd::Decide(Decision::Reject)),
        1 => Just(RoundCmd::RejectInRound),
        1 => Just(RoundCmd::Withdraw),
    ];
    (
        prop_oneof![2 => Just(0usize), 1 => 0..6usize],
        staff(),
        (reviewer(), reviewer()),
        (score.clone(), score),
        (staff(), decision, prop::bool::weighted(0.7)),
    )
        .prop_map(|(app, assigner, (r1, r2), (s1, s2), (decider, decision, aim))| {
            let withdraw = matches!(decision, RoundCmd::Withdraw);
            let step = |actor, cmd| RoundStep { app, aim, actor, cmd };
            vec![
                step(Who::Applicant, RoundCmd::Submit),
                step(assigner, RoundCmd::Assign(r1)),
                step(assigner, RoundCmd::Assign(r2)),
                step(r1, RoundCmd::Review(s1)),
                step(r2, RoundCmd::Review(s2)),
                step(if withdraw { Who::Applicant } else { decider }, decision),
            ]
        })
}

fn round_scenario() -> impl Strategy<Value = RoundScenario> {
    let round = (
        1..=2u32,
        prop::sample::select(&[0u8, 40, 60, 80][..]),
        prop::bool::weighted(0.3),
        prop_oneof![4 => Just(None), 1 => Just(Some(Who::Reviewer1)), 1 => Just(Some(Who::Reviewer2))],
    );
    (
        scenario(),
        prop::collection::vec(round, 0..=3),
        prop::collection::vec(round_pass(), 4..=10),
    )
        .prop_map(|(base, rounds, passes)| RoundScenario {
            base,
            rounds,
            steps: passes.into_iter().flatten().collect(),
        })
}

#[derive(Default)]
struct RoundCoverage {
    advances: u64,
    final_round_accepts: u64,
    quorum_refusals: u64,
    threshold_refusals: u64,
    skip_refusals: u64,
    blind_round_views: u64,
}

/// What the store holds of one application, read by an admin.
struct Seen {
    view: ApplicationView,
    reviews: Vec<icosistem_core::model::Review>,
}

async fn seen(world: &World, i: usize) -> Seen {
    let admin = Context::user(&world.admin);
    let id = world.apps[i];
    Seen {
        view: world.eco.get_application(&admin, id).await.expect("admin sees it"),
        reviews: world.eco.list_reviews(&admin, id).await.expect("admin lists reviews"),
    }
}

/// The qualified reviews of the application's current round: (count, mean × 100).
fn quorum(seen: &Seen) -> (u32, u32) {
    let scores: Vec<u32> = seen
        .reviews
        .iter()
        .filter(|r| r.is_qualified() && r.round == seen.view.current_round)
        .filter_map(|r| r.score.map(|s| u32::from(s.get())))
        .collect();
    let mean = if scores.is_empty() {
        0
    } else {
        scores.iter().sum::<u32>() * 100 / scores.len() as u32
    };
    (scores.len() as u32, mean)
}

async fn run_round_scenario(s: &RoundScenario, coverage: &mut RoundCoverage) -> Result<(), TestCaseError> {
    let world = World::new(&s.base).await;
    // The rounds name the world's reviewers: they are set once the world exists, which is
    // allowed while its applications are drafts.
    let inputs: Vec<RoundInput> = s
        .rounds
        .iter()
        .enumerate()
        .map(|(k, (min_reviews, threshold, blind, named))| RoundInput {
            name: format!("round-{k}"),
            reviewer_ids: named.map(|w| world.user(w, 0).id).into_iter().collect(),
            min_reviews: i64::from(*min_reviews),
            threshold: i64::from(*threshold),
            blind: *blind,
        })
        .collect();
    if !inputs.is_empty() {
        world
            .eco
            .update_program(
                &world.ctx(Who::Coordinator, 0),
                world.program,
                UpdateProgram {
                    rounds: Some(inputs),
                    ..Default::default()
                },
            )
            .await
            .expect("rounds while only drafts exist");
    }
    let admin = Context::user(&world.admin);
    let program = world.eco.get_program(&admin, world.program).await.expect("program");
    prop_assert_eq!(program.rounds.len(), s.rounds.len());
    let count = program.rounds.len() as u32;
    let n = world.apps.len();
    for (k, step) in s.steps.iter().enumerate() {
        world.clock.advance(Duration::minutes(1));
        let i = step.app % n;
        let id = world.apps[i];
        let before = seen(&world, i).await;
        let ctx = world.ctx(step.actor, i);
        let eco = &world.eco;
        let last = count.checked_sub(1);
        let cmd = match step.cmd {
            RoundCmd::Advance if step.aim && before.view.current_round == last => RoundCmd::Decide(Decision::Accept),
            other => other,
        };
        let step = &RoundStep { cmd, ..*step };
        let result: Result<(), Error> = match step.cmd {
            RoundCmd::Submit => eco.submit_application(&ctx, id, None).await.map(drop),
            RoundCmd::Assign(who) => eco.assign_reviewer(&ctx, id, world.user(who, i).id).await.map(drop),
            RoundCmd::Review(score) => eco
                .submit_review(
                    &ctx,
                    id,
                    SubmitReview {
                        score,
                        comment: None,
                        conflict_declared: false,
                    },
                )
                .await
                .map(drop),
            RoundCmd::Advance => eco.advance_application(&ctx, id, None).await.map(drop),
            RoundCmd::RejectInRound => eco
                .reject_application_in_round(&ctx, id, "Not this time".into(), None)
                .await
                .map(drop),
            RoundCmd::Decide(decision) => eco.decide(&ctx, id, decision, None, None).await.map(drop),
            RoundCmd::Withdraw => eco.withdraw_application(&ctx, id, None).await.map(drop),
        };
        if let Err(Error::Validation(errors)) = &result {
            coverage.quorum_refusals += u64::from(errors.has("reviews"));
            coverage.threshold_refusals += u64::from(errors.has("mean_score"));
            coverage.skip_refusals += u64::from(errors.has("current_round"));
        }
        prop_assert!(
            !matches!(result, Err(Error::Store(_))),
            "step {} {:?}: {:?}",
            k,
            step,
            result
        );
        let after = seen(&world, i).await;
        let (was, now) = (before.view.current_round, after.view.current_round);
        let context = format!("step {k} {step:?} on app {i}: {result:?}, round {was:?} → {now:?}");

        // Rounds move one at a time, forward, by `advance` only (and are entered at submission).
        match (step.cmd, &result) {
            (RoundCmd::Submit, Ok(())) => {
                prop_assert_eq!(now, (count > 0).then_some(0), "{}", context);
            }
            (RoundCmd::Advance, Ok(())) => {
                coverage.advances += 1;
                let r = was.expect("an advanced application is in a round");
                prop_assert_eq!(now, Some(r + 1), "{}", context);
                prop_assert!(r + 1 < count, "advanced past the last round: {}", context);
                let round = &program.rounds[r as usize];
                let (qualified, mean) = quorum(&before);
                prop_assert!(qualified >= round.min_reviews, "advance without quorum: {}", context);
                prop_assert!(
                    mean >= u32::from(round.threshold) * 100,
                    "advance below threshold: {}",
                    context
                );
                prop_assert_eq!(before.view.status, ApplicationStatus::UnderReview, "{}", context);
            }
            _ => prop_assert_eq!(now, was, "the round changed: {}", context),
        }

        // A decision out of review needs the quorum of the round it is taken in; passing (accept,
        // waitlist) also its threshold, and only the last round ends in acceptance.
        let decided = matches!(step.cmd, RoundCmd::Decide(_) | RoundCmd::RejectInRound)
            && result.is_ok()
            && before.view.status == ApplicationStatus::UnderReview;
        if decided {
            let (qualified, mean) = quorum(&before);
            match program.round(was) {
                Some(round) => {
                    prop_assert!(
                        qualified >= round.min_reviews,
                        "round decision without quorum: {}",
                        context
                    );
                    if matches!(
                        after.view.status,
                        ApplicationStatus::Accepted | ApplicationStatus::Waitlisted
                    ) {
                        prop_assert_eq!(was, Some(count - 1), "accepted before the last round: {}", context);
                        prop_assert!(mean >= u32::from(round.threshold) * 100, "below threshold: {}", context);
                        if after.view.status == ApplicationStatus::Accepted && count > 1 {
                            coverage.final_round_accepts += 1;
                        }
                    }
                }
                None => {
                    prop_assert_eq!(count, 0, "{}", context);
                    prop_assert!(qualified >= program.min_reviews, "decision without quorum: {}", context);
                }
            }
        }

        // Every review belongs to a round the application was in, once per (reviewer, round).
        let mut keys: Vec<(String, Option<u32>)> = after
            .reviews
            .iter()
            .map(|r| (r.reviewer_id.to_string(), r.round))
            .collect();
        for (_, round) in &keys {
            prop_assert_eq!(round.is_some(), count > 0, "{}", context);
            prop_assert!(*round <= now, "a review of a round not reached yet: {}", context);
        }
        let total = keys.len();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(
            keys.len(),
            total,
            "two reviews of one reviewer in one round: {}",
            context
        );

        // Capacity.
        let stored = world.eco.get_program(&admin, world.program).await.expect("program");
        let accepted = world
            .eco
            .list_applications(
                &admin,
                ApplicationFilter {
                    program_id: Some(world.program),
                    status: Some(ApplicationStatus::Accepted),
                    ..Default::default()
                },
                PageRequest::all(),
            )
            .await
            .expect("list")
            .items
            .len() as u32;
        prop_assert!(accepted <= stored.max_participants, "over capacity: {}", context);
        prop_assert_eq!(stored.accepted_count, accepted, "{}", context);

        // Blindness follows the program or the current round, for every evaluator who sees it.
        if after.view.status != ApplicationStatus::Draft {
            let blind = program.blind_review || program.round(now).is_some_and(|r| r.blind);
            for viewer in [Who::Coordinator, Who::Reviewer1, Who::Reviewer2] {
                let Ok(view) = world.eco.get_application(&world.ctx(viewer, i), id).await else {
                    continue;
                };
                prop_assert_eq!(view.blind, blind, "blindness as {:?}: {}", viewer, context);
                if blind {
                    coverage.blind_round_views += u64::from(!program.blind_review);
                    let json = serde_json::to_string(&view).expect("json");
                    for needle in world.identities() {
                        prop_assert!(!json.contains(&needle), "blind view leaks {:?}: {}", needle, context);
                    }
                }
            }
        }
    }
    Ok(())
}

#[test]
fn review_rounds_never_skip_and_never_decide_without_quorum() {
    let coverage = RefCell::new(RoundCoverage::default());
    support::check_model("application_rounds", round_scenario(), |s| {
        support::block_on(run_round_scenario(&s, &mut coverage.borrow_mut()))
    });
    // The generators must reach the corners, or the invariants above were checked on nothing.
    let c = coverage.into_inner();
    println!(
        "rounds coverage: {} advances, {} final-round accepts, refusals: {} quorum, {} threshold, {} skip; {} blind-round views",
        c.advances,
        c.final_round_accepts,
        c.quorum_refusals,
        c.threshold_refusals,
        c.skip_refusals,
        c.blind_round_views
    );
    assert!(c.advances > 40, "advances: {}", c.advances);
    assert!(
        c.final_round_accepts > 3,
        "final-round accepts: {}",
        c.final_round_accepts
    );
    assert!(c.quorum_refusals > 5, "quorum refusals: {}", c.quorum_refusals);
    assert!(c.threshold_refusals > 5, "threshold refusals: {}", c.threshold_refusals);
    assert!(c.skip_refusals > 5, "skip refusals: {}", c.skip_refusals);
    assert!(c.blind_round_views > 5, "blind-round views: {}", c.blind_round_views);
}
