//! Whole-cohort mentor matching (docs/domain.md §11): staff ask for a proposal, then confirm it.
//!
//! [`Ecosystem::propose_cohort_matching`] reads the program's cohort (its enrolled and active
//! participants), the pool of allies open to new mentees with their seats left, and the conflicts
//! of interest, and hands them to the pure [`match_cohort`]; it writes nothing.
//! [`Ecosystem::confirm_cohort_matching`] turns a proposal into mentorship requests, all in one
//! unit of work.
//!
//! A proposal is only optimal for the data it was computed from, so it carries a fingerprint of
//! that whole input (SHA-256 of its canonical JSON). Confirming reads the input again — under
//! the program's lock, which queues confirms of one program, and under the profile locks of the
//! proposal's allies, which `accept`/`resume` and profile edits take too — and refuses when the
//! fingerprint differs: seats taken or freed, a profile edited, a new conflict, a participant
//! gone. The first of two concurrent confirms therefore wins, and its requests, which hold seats,
//! make every later confirm of the same proposal stale: each mentorship is created once.
//!
//! Seats left = `max_mentees` − active − requested mentorships: a pending request claims the seat
//! it would take on acceptance, so a proposal never promises a seat twice. (Accepting still
//! checks the real load, as for any request.)

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::mentoring::takes_part_as;
use super::{Context, Ecosystem, Notice, Uow};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::{
    EnrollmentId, EnrollmentStatus, EntrepreneurProfile, Mentorship, MentorshipStatus, Profile, ProfileData, Program,
    ProgramId, ProgramStatus, ProjectId, ProjectStage, Role, User, UserId,
};
use crate::policy::Action;
use crate::ports::store::{
    EnrollmentFilter, MemberFilter, MentorshipFilter, ProfileFilter, Repo, ReviewFilter, Store, Transaction,
};
use crate::ports::{Clock, Notifier};
use crate::rules::cohort::{
    CohortAlly, CohortEntrepreneur, CohortInput, CohortUnassigned, MatchObjective, greedy_cohort, match_cohort,
};

/// Longest request message the matching writes, in chars (the limit of a request's message).
const MAX_MESSAGE_CHARS: usize = 2000;
/// Areas a request names at most, and their longest spelling (the limits of a request).
const MAX_AREAS: usize = 20;
const MAX_AREA_CHARS: usize = 100;

/// A proposed pair, with what the request will be about.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProposedPair {
    /// The entrepreneur.
    pub entrepreneur_id: UserId,
    /// The ally.
    pub ally_id: UserId,
    /// The entrepreneur's enrollment in the program.
    pub enrollment_id: EnrollmentId,
    /// The enrolled project the mentorship is about.
    pub project_id: ProjectId,
    /// The §4.7 match score, 0–1.
    pub score: f64,
    /// Why, one sentence per part of the score that counted.
    pub reasons: Vec<String>,
}

/// An ally of the pool and the seats it had when the proposal was made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PoolSeats {
    /// The ally.
    pub ally_id: UserId,
    /// Seats left: `max_mentees` − active − requested mentorships.
    pub seats: u32,
}

/// A whole-cohort matching, as proposed to staff (read-only) and handed back to confirm it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CohortProposal {
    /// The program.
    pub program_id: ProgramId,
    /// What was maximized.
    pub objective: MatchObjective,
    /// Only pairs scoring above this were assignable (`Limits::suggestion_min_score`).
    pub min_score: f64,
    /// The pairs, in entrepreneur id order.
    pub pairs: Vec<ProposedPair>,
    /// The participants left without an ally, each with why.
    pub unassigned: Vec<CohortUnassigned>,
    /// Sum of the pairs' scores.
    pub total_score: f64,
    /// What taking the cohort one entrepreneur at a time (each its best remaining ally, as
    /// `suggest_allies` would) would total, for comparison.
    pub greedy_total_score: f64,
    /// The pool: every ally considered and its seats left.
    pub pool: Vec<PoolSeats>,
    /// SHA-256 (hex) of the whole input; a confirm computed from other data is refused.
    pub fingerprint: String,
    /// When it was computed.
    pub proposed_at: DateTime<Utc>,
}

/// The input of one matching as read from the store.
struct Gathered {
    input: CohortInput,
    /// Per entrepreneur, the enrollment (the oldest, when a participant enrolled several
    /// projects) the request is about.
    enrollment_of: BTreeMap<UserId, (EnrollmentId, ProjectId)>,
    fingerprint: String,
}

/// The request's areas from the entrepreneur's profile, within the limits of a request.
fn request_areas(profile: &EntrepreneurProfile) -> Vec<String> {
    let mut seen = BTreeSet::new();
    profile
        .mentorship_areas
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty() && a.chars().count() <= MAX_AREA_CHARS && seen.insert(a.to_lowercase()))
        .take(MAX_AREAS)
        .map(str::to_owned)
        .collect()
}

fn request_message(program: &Program, pair: &ProposedPair) -> String {
    let text = format!(
        "Proposed by the cohort matching of {} (score {:.3}): {}.",
        program.name,
        pair.score,
        pair.reasons.join("; ")
    );
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}

fn not_while(program: &Program, command: &'static str) -> Result<()> {
    if matches!(program.status, ProgramStatus::Cancelled | ProgramStatus::Completed) {
        return Err(Error::invalid_transition("program", program.status.as_str(), command));
    }
    Ok(())
}

impl<T: Transaction> Uow<T> {
    /// Reads everything the matching of `program` depends on, in a canonical order.
    async fn cohort_input(&mut self, program: &Program, objective: MatchObjective, min_score: f64) -> Result<Gathered> {
        let mut enrollments = self
            .all(&EnrollmentFilter {
                program_id: Some(program.id),
                ..Default::default()
            })
            .await?;
        enrollments.retain(|e| matches!(e.status, EnrollmentStatus::Enrolled | EnrollmentStatus::Active));
        enrollments.sort_by_key(|e| e.id);
        let mut conflicts = BTreeSet::new();
        let mut cohort: BTreeMap<UserId, CohortEntrepreneur> = BTreeMap::new();
        let mut enrollment_of = BTreeMap::new();
        // Reviewers of a participant's application, and the program's staff, judged them: they
        // do not mentor them (docs/domain.md §11).
        let mut judges: BTreeMap<UserId, BTreeSet<UserId>> = BTreeMap::new();
        for enrollment in &enrollments {
            let entrepreneur = enrollment.entrepreneur_id;
            if let std::collections::btree_map::Entry::Vacant(slot) = cohort.entry(entrepreneur) {
                let user: Option<User> = self.get(entrepreneur).await?;
                if !user.is_some_and(|u| takes_part_as(&u, Role::Entrepreneur)) {
                    continue;
                }
                let profile = match Repo::<Profile>::get(&mut self.tx, entrepreneur).await? {
                    Some(Profile {
                        data: ProfileData::Entrepreneur(p),
                        ..
                    }) => p,
                    _ => EntrepreneurProfile::default(),
                };
                slot.insert(CohortEntrepreneur {
                    id: entrepreneur,
                    profile,
                    project_stages: Vec::new(),
                });
                enrollment_of.insert(entrepreneur, (enrollment.id, enrollment.project_id));
            }
            if let Some(project) = self.get(enrollment.project_id).await? {
                let stages: &mut Vec<ProjectStage> =
                    &mut cohort.get_mut(&entrepreneur).expect("inserted").project_stages;
                if !stages.contains(&project.stage) {
                    stages.push(project.stage);
                    stages.sort();
                }
            }
            let reviews = self
                .all(&ReviewFilter {
                    application_id: Some(enrollment.application_id),
                    ..Default::default()
                })
                .await?;
            judges
                .entry(entrepreneur)
                .or_default()
                .extend(reviews.iter().map(|r| r.reviewer_id));
        }
        let staff: Vec<UserId> = self
            .all(&MemberFilter {
                organization_id: Some(program.organization_id),
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|m| m.role.is_staff())
            .map(|m| m.user_id)
            .collect();
        for entrepreneur in cohort.keys() {
            for &judge in judges.get(entrepreneur).into_iter().flatten().chain(&staff) {
                conflicts.insert((judge, *entrepreneur));
            }
        }
        let profiles = self
            .all(&ProfileFilter {
                role: Some(Role::Ally),
                available: Some(true),
                ..Default::default()
            })
            .await?;
        let mut allies = Vec::new();
        for profile in profiles {
            let ProfileData::Ally(ally) = profile.data else {
                continue;
            };
            let user: Option<User> = self.get(profile.user_id).await?;
            if !user.is_some_and(|u| takes_part_as(&u, Role::Ally)) {
                continue;
            }
            let open = self
                .all(&MentorshipFilter {
                    ally_id: Some(profile.user_id),
                    open_only: true,
                    ..Default::default()
                })
                .await?;
            let held = open
                .iter()
                .filter(|m| matches!(m.status, MentorshipStatus::Active | MentorshipStatus::Requested))
                .count();
            for m in &open {
                // An open relationship already pairs them (and the store's unique key would
                // refuse a second).
                if cohort.contains_key(&m.entrepreneur_id) {
                    conflicts.insert((profile.user_id, m.entrepreneur_id));
                }
            }
            let seats = u32::from(ally.max_mentees).saturating_sub(u32::try_from(held).unwrap_or(u32::MAX));
            allies.push(CohortAlly {
                id: profile.user_id,
                profile: ally,
                seats,
            });
        }
        allies.sort_by_key(|a| a.id);
        let input = CohortInput {
            entrepreneurs: cohort.into_values().collect(),
            allies,
            conflicts,
            min_score,
            objective,
        };
        let canonical = serde_json::to_vec(&json!({ "program_id": program.id, "input": &input }))
            .map_err(|e| Error::Store(crate::error::StoreError::backend(e)))?;
        let fingerprint = Sha256::digest(&canonical).iter().map(|b| format!("{b:02x}")).collect();
        Ok(Gathered {
            input,
            enrollment_of,
            fingerprint,
        })
    }
}

fn pairs_of(gathered: &Gathered, assignment: &crate::rules::cohort::CohortAssignment) -> Vec<ProposedPair> {
    assignment
        .pairs
        .iter()
        .map(|p| {
            let (enrollment_id, project_id) = gathered.enrollment_of[&p.entrepreneur_id];
            ProposedPair {
                entrepreneur_id: p.entrepreneur_id,
                ally_id: p.ally_id,
                enrollment_id,
                project_id,
                score: p.score,
                reasons: p.reasons.clone(),
            }
        })
        .collect()
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Proposes a mentor for every participant of the program (enrolled or active) at once
    /// (docs/domain.md §11): the assignment maximizing `objective` under the allies' seats left, never
    /// pairing a participant with an ally who reviewed their application, is staff of the
    /// program's organization, or already has an open mentorship with them; only pairs above
    /// `Limits::suggestion_min_score`. Ties are broken as [`match_cohort`] documents, so the same
    /// data always gives the same proposal. Writes nothing.
    ///
    /// # Errors
    /// - `NotFound` when the program does not exist or the caller may not see it;
    /// - `Forbidden` unless the caller is an admin or staff (owner/coordinator) of its
    ///   organization;
    /// - `InvalidTransition` when the program is cancelled or completed.
    pub async fn propose_cohort_matching(
        &self,
        ctx: &Context,
        program_id: ProgramId,
        objective: MatchObjective,
    ) -> Result<CohortProposal> {
        let mut uow = self.uow(ctx).await?;
        let program: Program = uow.load(program_id).await?;
        uow.authorize_program(&program, Action::MatchCohort).await?;
        not_while(&program, "match_cohort")?;
        let gathered = uow
            .cohort_input(&program, objective, self.limits.suggestion_min_score)
            .await?;
        let assignment = match_cohort(&gathered.input);
        let greedy = greedy_cohort(&gathered.input);
        Ok(CohortProposal {
            program_id,
            objective,
            min_score: gathered.input.min_score,
            pairs: pairs_of(&gathered, &assignment),
            unassigned: assignment.unassigned.clone(),
            total_score: assignment.total_score(),
            greedy_total_score: greedy.total_score(),
            pool: gathered
                .input
                .allies
                .iter()
                .map(|a| PoolSeats {
                    ally_id: a.id,
                    seats: a.seats,
                })
                .collect(),
            fingerprint: gathered.fingerprint,
            proposed_at: uow.now,
        })
    }

    /// Confirms a proposal of [`propose_cohort_matching`](Self::propose_cohort_matching): one
    /// unit of work creates a mentorship request (status `requested`) per pair — about the
    /// enrolled project, with the entrepreneur's mentorship areas and the pair's reasons as its
    /// message, created by the confirming staff member — audits each (`mentorship.request`) and
    /// the confirmation (`program.match_cohort`), and notifies each ally
    /// (`mentorship_requested`) and participant (`mentorship_matched`). Returns the requests in
    /// the proposal's order.
    ///
    /// # Errors
    /// - `NotFound`, `Forbidden`, `InvalidTransition` as for proposing;
    /// - `Validation` (`program_id`) when the proposal is of another program, (`pairs`) when its
    ///   pairs are not the matching of its data (an edited proposal);
    /// - `Conflict { entity: "cohort_proposal", field: "version" }` when anything the proposal
    ///   was computed from changed since (seats, profiles, conflicts, the cohort) — including an
    ///   earlier confirm of the same proposal: propose again.
    pub async fn confirm_cohort_matching(
        &self,
        ctx: &Context,
        program_id: ProgramId,
        proposal: &CohortProposal,
    ) -> Result<Vec<Mentorship>> {
        if proposal.program_id != program_id {
            return Err(Error::Validation(ValidationErrors::single(
                "program_id",
                "the proposal is of another program",
            )));
        }
        let mut uow = self.uow(ctx).await?;
        // The program's lock queues confirms of one program behind each other.
        let program = uow.program_for(program_id, Action::MatchCohort).await?;
        not_while(&program, "match_cohort")?;
        // The seat guards, in id order like every multi-row lock, so that no accept or profile
        // edit of these allies interleaves with the check below.
        let allies: BTreeSet<UserId> = proposal.pairs.iter().map(|p| p.ally_id).collect();
        for ally in allies {
            Repo::<Profile>::get_for_update(&mut uow.tx, ally).await?;
        }
        let gathered = uow
            .cohort_input(&program, proposal.objective, proposal.min_score)
            .await?;
        if gathered.fingerprint != proposal.fingerprint {
            // A stale proposal is a stale version of the data it was computed from: the same
            // answer as any stale read (409, "read again" — here: propose again).
            return Err(Error::Conflict {
                entity: "cohort_proposal",
                field: "version",
            });
        }
        let pairs = pairs_of(&gathered, &match_cohort(&gathered.input));
        let same = pairs.len() == proposal.pairs.len()
            && pairs.iter().zip(&proposal.pairs).all(|(a, b)| {
                (a.entrepreneur_id, a.ally_id, a.enrollment_id, a.project_id)
                    == (b.entrepreneur_id, b.ally_id, b.enrollment_id, b.project_id)
            });
        if !same {
            return Err(Error::invalid("pairs", "are not the matching of the proposal's data"));
        }
        let profiles: BTreeMap<UserId, &CohortEntrepreneur> =
            gathered.input.entrepreneurs.iter().map(|e| (e.id, e)).collect();
        let mut created = Vec::with_capacity(pairs.len());
        for pair in &pairs {
            let mentorship = Mentorship {
                id: uow.new_id(),
                ally_id: pair.ally_id,
                entrepreneur_id: pair.entrepreneur_id,
                project_id: Some(pair.project_id),
                status: MentorshipStatus::Requested,
                message: Some(request_message(&program, pair)),
                areas: request_areas(&profiles[&pair.entrepreneur_id].profile),
                duration_months: self.limits.mentorship_default_months,
                started_at: None,
                ended_at: None,
                meta: uow.meta(),
            };
            uow.insert(&mentorship).await?;
            uow.audit(
                "mentorship.request",
                "mentorship",
                mentorship.id,
                Some(program.organization_id),
                None,
                Some(json!({
                    "status": mentorship.status,
                    "ally_id": mentorship.ally_id,
                    "entrepreneur_id": mentorship.entrepreneur_id,
                    "program_id": program.id,
                    "score": pair.score,
                })),
            )
            .await?;
            let entrepreneur = uow.name_or_former(pair.entrepreneur_id).await?;
            let ally = uow.name_or_former(pair.ally_id).await?;
            uow.notify_id(
                pair.ally_id,
                Notice::new(
                    "mentorship_requested",
                    format!("{} proposes you mentor {entrepreneur}", program.name),
                    format!(
                        "The cohort matching of {} paired you with {entrepreneur} (score {:.3}): {}.",
                        program.name,
                        pair.score,
                        pair.reasons.join("; ")
                    ),
                    json!({ "mentorship_id": mentorship.id, "entrepreneur_id": pair.entrepreneur_id, "program_id": program.id }),
                ),
            )
            .await?;
            uow.notify_id(
                pair.entrepreneur_id,
                Notice::new(
                    "mentorship_matched",
                    format!("{ally} is proposed as your mentor"),
                    format!(
                        "The cohort matching of {} paired you with {ally}; {ally} was asked to accept.",
                        program.name
                    ),
                    json!({ "mentorship_id": mentorship.id, "ally_id": pair.ally_id, "program_id": program.id }),
                ),
            )
            .await?;
            created.push(mentorship);
        }
        uow.audit(
            "program.match_cohort",
            "program",
            program.id,
            Some(program.organization_id),
            None,
            Some(json!({
                "pairs": created.len(),
                "unassigned": proposal.unassigned.len(),
                "objective": proposal.objective,
                "total_score": proposal.total_score,
                "fingerprint": proposal.fingerprint,
            })),
        )
        .await?;
        uow.commit().await?;
        Ok(created)
    }
}

impl<T: Transaction> Uow<T> {
    async fn name_or_former(&mut self, id: UserId) -> Result<String> {
        let user: Option<User> = self.get(id).await?;
        Ok(user.map_or_else(|| "a former user".to_owned(), |u| u.full_name()))
    }
}
