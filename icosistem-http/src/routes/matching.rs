//! `/api/v2/programs/{id}/matching/*`: the whole-cohort mentor matching of a program (docs/domain.md
//! §11) — a proposal staff read, then hand back to confirm.
//!
//! The proposal travels as the core's own JSON ([`CohortProposal`]): confirming needs it back
//! exactly as proposed (its fingerprint and pairs are checked), so the API neither renames nor
//! drops anything. The `*Doc` types below only describe that JSON for the OpenAPI document; a
//! test keeps them and the core's serialization the same shape.

use chrono::{DateTime, Utc};
use icosistem_core::model::ProgramId;
use icosistem_core::rules::cohort::MatchObjective;
use icosistem_core::service::CohortProposal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::kit::{PathId, api, routes};
use crate::dto::{ApiJson, MentorshipDto, OptionalJson};

/// `POST /api/v2/programs/{id}/matching/proposals`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(crate) struct ProposeMatchingRequest {
    /// `max_total_score` (default: the largest total match score, then the most pairs) or
    /// `max_coverage` (the most participants paired, then the largest total).
    #[schema(value_type = Option<String>, pattern = "^(max_total_score|max_coverage)$")]
    pub(crate) objective: Option<MatchObjective>,
}

/// `POST /api/v2/programs/{id}/matching/confirm`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub(crate) struct ConfirmMatchingRequest {
    /// The proposal, exactly as `…/matching/proposals` answered it.
    #[schema(value_type = CohortProposalDoc)]
    pub(crate) proposal: CohortProposal,
}

/// A proposed pair.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub(crate) struct ProposedPairDoc {
    /// The participant (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub(crate) entrepreneur_id: String,
    /// The ally (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub(crate) ally_id: String,
    /// The participant's enrollment (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub(crate) enrollment_id: String,
    /// The enrolled project the mentorship is about (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub(crate) project_id: String,
    /// Match score 0–1 (docs/domain.md §4.7).
    pub(crate) score: f64,
    /// One sentence per part of the score that counted.
    pub(crate) reasons: Vec<String>,
}

/// A participant left without an ally.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub(crate) struct UnassignedDoc {
    /// The participant (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub(crate) entrepreneur_id: String,
    /// `not_seeking_mentorship`, `no_eligible_ally`, `only_conflicted_allies` or
    /// `capacity_exhausted`.
    pub(crate) reason: String,
    /// With `only_conflicted_allies` and `capacity_exhausted`: the allies concerned (UUIDs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub(crate) allies: Option<Vec<String>>,
    /// The reason in one sentence.
    pub(crate) explanation: String,
}

/// An ally of the pool and its seats left when proposed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub(crate) struct PoolSeatsDoc {
    /// The ally (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub(crate) ally_id: String,
    /// `max_mentees` − active − requested mentorships.
    pub(crate) seats: u32,
}

/// A whole-cohort matching proposal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub(crate) struct CohortProposalDoc {
    /// The program (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub(crate) program_id: String,
    /// `max_total_score` or `max_coverage`.
    #[schema(pattern = "^(max_total_score|max_coverage)$")]
    pub(crate) objective: String,
    /// Only pairs scoring above this were assignable.
    pub(crate) min_score: f64,
    /// The pairs, in participant id order.
    pub(crate) pairs: Vec<ProposedPairDoc>,
    /// The participants without an ally, each with why.
    pub(crate) unassigned: Vec<UnassignedDoc>,
    /// Sum of the pairs' scores.
    pub(crate) total_score: f64,
    /// What taking the participants one at a time (each its best remaining ally) would total.
    pub(crate) greedy_total_score: f64,
    /// Every ally considered and its seats left.
    pub(crate) pool: Vec<PoolSeatsDoc>,
    /// SHA-256 of the data the proposal was computed from.
    pub(crate) fingerprint: String,
    /// When it was computed.
    pub(crate) proposed_at: DateTime<Utc>,
}

routes! {
    tag = "programs";
    /// Proposes a mentor for every participant of the program at once: the assignment with the
    /// largest total match score (or the most pairs, with `objective: max_coverage`) under the
    /// allies' seats left, never pairing a participant with an ally who reviewed their application,
    /// is staff of the organization, or already has an open mentorship with them. Each pair comes
    /// with its score and reasons, each participant left out with why. Writes nothing.
    propose_cohort_matching: post "/api/v2/programs/{id}/matching/proposals", PathId<ProgramId>, NoIfMatch,
        optional<ProposeMatchingRequest, "Optional: the objective">
        => as_is(200, "The proposal", CohortProposalDoc) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, OptionalJson(b)| eco.propose_cohort_matching(ctx, id, b.objective.unwrap_or_default());
    /// Confirms a proposal: one mentorship request per pair, created at once (each ally and
    /// participant is notified). Refused with 409 `conflict` when anything the proposal was
    /// computed from changed since — seats, profiles, conflicts, the cohort, or an earlier confirm
    /// of the same proposal: propose again.
    confirm_cohort_matching: post "/api/v2/programs/{id}/matching/confirm", PathId<ProgramId>, NoIfMatch, json<ConfirmMatchingRequest>
        => each(201, "The mentorship requests created, in the proposal's order; 409 when the proposal is stale", Vec<MentorshipDto>)
            [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.confirm_cohort_matching(ctx, id, &b.proposal);
}

api!(
    [propose_cohort_matching, confirm_cohort_matching],
    components(schemas(
        ProposeMatchingRequest,
        ConfirmMatchingRequest,
        CohortProposalDoc,
        ProposedPairDoc,
        UnassignedDoc,
        PoolSeatsDoc
    ))
);

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use icosistem_core::model::{EnrollmentId, ProgramId, ProjectId, UserId};
    use icosistem_core::rules::cohort::{CohortUnassigned, UnassignedReason};
    use icosistem_core::service::{PoolSeats, ProposedPair};
    use uuid::Uuid;

    use super::*;

    /// The documented shape is the core's JSON, field for field: a proposal read through the
    /// `*Doc` types and written again is unchanged.
    #[test]
    fn the_documented_shape_is_the_cores_json() {
        let id = |n| Uuid::from_u128(n);
        let proposal = CohortProposal {
            program_id: ProgramId::from_uuid(id(1)),
            objective: MatchObjective::MaxCoverage,
            min_score: 0.3,
            pairs: vec![ProposedPair {
                entrepreneur_id: UserId::from_uuid(id(2)),
                ally_id: UserId::from_uuid(id(3)),
                enrollment_id: EnrollmentId::from_uuid(id(4)),
                project_id: ProjectId::from_uuid(id(5)),
                score: 0.8,
                reasons: vec!["has room for new mentees".into()],
            }],
            unassigned: vec![
                CohortUnassigned {
                    entrepreneur_id: UserId::from_uuid(id(6)),
                    reason: UnassignedReason::CapacityExhausted {
                        allies: vec![UserId::from_uuid(id(3))],
                    },
                    explanation: "full".into(),
                },
                CohortUnassigned {
                    entrepreneur_id: UserId::from_uuid(id(7)),
                    reason: UnassignedReason::NoEligibleAlly,
                    explanation: "none".into(),
                },
            ],
            total_score: 0.8,
            greedy_total_score: 0.4,
            pool: vec![PoolSeats {
                ally_id: UserId::from_uuid(id(3)),
                seats: 1,
            }],
            fingerprint: "ab".into(),
            proposed_at: DateTime::UNIX_EPOCH,
        };
        let core = serde_json::to_value(&proposal).unwrap();
        let doc: CohortProposalDoc = serde_json::from_value(core.clone()).unwrap();
        assert_eq!(serde_json::to_value(&doc).unwrap(), core);
        let back: CohortProposal = serde_json::from_value(serde_json::to_value(&doc).unwrap()).unwrap();
        assert_eq!(back, proposal);
        let keys: BTreeSet<&str> = core.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 10, "{keys:?}");
    }
}
