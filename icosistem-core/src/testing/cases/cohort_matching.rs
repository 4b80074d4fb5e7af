//! Whole-cohort mentor matching (docs/domain.md §11): the proposal is the optimal assignment under
//! seats and conflicts, with reasons, and writes nothing; only staff ask for it; confirming
//! creates every request in one unit of work; a stale proposal is refused; concurrent confirms
//! create each mentorship once.

use std::sync::Arc;

use crate::error::Error;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::rules::cohort::{MatchObjective, UnassignedReason};
use crate::service::CohortProposal;
use crate::testing::fixtures::*;

fn needs(sector: &str, areas: &[&str]) -> ProfileData {
    ProfileData::Entrepreneur(EntrepreneurProfile {
        sectors: vec![sector.to_owned()],
        mentorship_areas: areas.iter().map(|s| (*s).to_owned()).collect(),
        ..EntrepreneurProfile::default()
    })
}

fn expertise(sector: &str, specializations: &[&str], max_mentees: u8) -> AllyProfile {
    AllyProfile {
        primary_expertise: Some(sector.to_owned()),
        specializations: specializations.iter().map(|s| (*s).to_owned()).collect(),
        max_mentees,
        ..AllyProfile::default()
    }
}

/// A new participant of the cohort's program with these needs.
async fn participant<S: Store>(world: &World<S>, cohort: &Cohort, sector: &str, areas: &[&str]) -> Applicant {
    let applicant = world.accepted(cohort, 80).await;
    world
        .eco
        .update_my_profile(&applicant.person.ctx, needs(sector, areas), None)
        .await
        .expect("entrepreneur profile");
    applicant
}

async fn set_ally_profile<S: Store>(world: &World<S>, ally: &Person, profile: AllyProfile) {
    world
        .eco
        .update_my_profile(&ally.ctx, ProfileData::Ally(profile), None)
        .await
        .expect("ally profile");
}

async fn mentorships<S: Store>(world: &World<S>) -> u64 {
    world.count(MentorshipFilter::default()).await
}

fn pairs(proposal: &CohortProposal) -> Vec<(UserId, UserId)> {
    let mut pairs: Vec<(UserId, UserId)> = proposal.pairs.iter().map(|p| (p.entrepreneur_id, p.ally_id)).collect();
    pairs.sort();
    pairs
}

/// Four participants, three allies of the pool, and two allies who may not mentor them (the
/// program's owner is staff, the reviewer reviewed every application) although they would match
/// best: the proposal is the optimal assignment (E1 with the fintech fundraiser although E2
/// scores the same with a second fintech ally), each pair with its score and reasons, E4 left out
/// for want of any eligible ally. Proposing writes nothing and is refused to a participant and to
/// the (non-staff) reviewer. Confirming creates the three requests, about the enrolled projects,
/// audited and notified to both sides.
pub async fn cohort_matching_proposes_the_optimal_assignment_and_confirms_it<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let reviewer = cohort.reviewers[0].clone();
    // The best match of E1 and of E3 on paper, but staff and reviewer of their selection.
    set_ally_profile(&world, &cohort.owner, expertise("fintech", &["fundraising"], 5)).await;
    set_ally_profile(&world, &reviewer, expertise("health", &[], 5)).await;
    let e1 = participant(&world, &cohort, "fintech", &["Fundraising"]).await;
    let e2 = participant(&world, &cohort, "fintech", &[]).await;
    let e3 = participant(&world, &cohort, "health", &[]).await;
    let e4 = participant(&world, &cohort, "retail", &[]).await;
    let slots = weekdays(8, 18);
    let fundraiser = world
        .mentor(expertise("fintech", &["fundraising"], 1), "UTC", slots.clone())
        .await;
    let fintech = world.mentor(expertise("fintech", &[], 1), "UTC", slots.clone()).await;
    let health = world.mentor(expertise("health", &[], 2), "UTC", slots.clone()).await;
    let program = cohort.program.id;

    for outsider in [&e1.person, &reviewer] {
        assert_forbidden(&expect_err(
            eco.propose_cohort_matching(&outsider.ctx, program, MatchObjective::MaxTotalScore)
                .await,
        ));
    }
    let proposal = eco
        .propose_cohort_matching(&cohort.owner.ctx, program, MatchObjective::MaxTotalScore)
        .await
        .expect("proposal");
    assert_eq!(mentorships(&world).await, 0, "proposing writes nothing");
    let mut expected = vec![
        (e1.person.id(), fundraiser.id()),
        (e2.person.id(), fintech.id()),
        (e3.person.id(), health.id()),
    ];
    expected.sort();
    assert_eq!(pairs(&proposal), expected);
    let scores: Vec<(UserId, f64, usize)> = proposal
        .pairs
        .iter()
        .map(|p| (p.entrepreneur_id, p.score, p.reasons.len()))
        .collect();
    let mut want = vec![
        (e1.person.id(), 0.8, 3),
        (e2.person.id(), 0.4, 2),
        (e3.person.id(), 0.4, 2),
    ];
    want.sort_by_key(|w| w.0);
    assert_eq!(scores, want);
    assert!((proposal.total_score - 1.6).abs() < 1e-9, "{}", proposal.total_score);
    assert!(proposal.greedy_total_score <= proposal.total_score);
    assert_eq!(proposal.unassigned.len(), 1);
    assert_eq!(proposal.unassigned[0].entrepreneur_id, e4.person.id());
    assert_eq!(proposal.unassigned[0].reason, UnassignedReason::NoEligibleAlly);
    let e1_pair = proposal
        .pairs
        .iter()
        .find(|p| p.entrepreneur_id == e1.person.id())
        .expect("E1 is paired");
    assert_eq!(e1_pair.project_id, e1.project.id);
    let seats_of = |ally: &Person| proposal.pool.iter().find(|p| p.ally_id == ally.id()).map(|p| p.seats);
    assert_eq!(seats_of(&fundraiser), Some(1));
    assert_eq!(seats_of(&health), Some(2));
    // The same data gives the same proposal, for an admin too.
    let again = eco
        .propose_cohort_matching(&world.admin.ctx, program, MatchObjective::MaxTotalScore)
        .await
        .expect("admin proposal");
    assert_eq!(
        (pairs(&again), &again.fingerprint),
        (pairs(&proposal), &proposal.fingerprint)
    );

    let created = eco
        .confirm_cohort_matching(&cohort.owner.ctx, program, &proposal)
        .await
        .expect("confirm");
    assert_eq!(created.len(), 3);
    for m in &created {
        assert_eq!(m.status, MentorshipStatus::Requested);
        assert_eq!(m.meta.created_by, Some(cohort.owner.id()));
        let stored: Mentorship = world.row(m.id).await.expect("stored");
        assert_eq!(&stored, m);
        world.audited("mentorship.request", m.id).await;
        world.assert_notified(m.ally_id, "mentorship_requested").await;
        world.assert_notified(m.entrepreneur_id, "mentorship_matched").await;
    }
    let e1_request = created
        .iter()
        .find(|m| m.entrepreneur_id == e1.person.id())
        .expect("E1's request");
    assert_eq!(e1_request.project_id, Some(e1.project.id));
    assert_eq!(e1_request.areas, vec!["Fundraising".to_owned()]);
    assert!(e1_request.message.as_deref().is_some_and(|m| m.contains("fundraising")));
    world.audited("program.match_cohort", program).await;
    assert_eq!(mentorships(&world).await, 3);
    // Confirmed once: the requests took the seats, so the same proposal is now stale.
    assert_conflict(
        &expect_err(eco.confirm_cohort_matching(&cohort.owner.ctx, program, &proposal).await),
        "cohort_proposal",
        "version",
    );
    assert_eq!(mentorships(&world).await, 3);
}

/// A proposal is refused once anything it was computed from changed — a seat claimed by a new
/// request, an ally's capacity edited — and writes nothing then; a fresh proposal confirms.
/// A proposal of another program, or with edited pairs, is invalid.
pub async fn confirming_a_stale_cohort_proposal_is_refused<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let program = cohort.program.id;
    let e1 = participant(&world, &cohort, "fintech", &[]).await;
    let e2 = participant(&world, &cohort, "health", &[]).await;
    let slots = weekdays(8, 18);
    let fintech = world.mentor(expertise("fintech", &[], 2), "UTC", slots.clone()).await;
    let health = world.mentor(expertise("health", &[], 2), "UTC", slots.clone()).await;
    let propose = || eco.propose_cohort_matching(&cohort.owner.ctx, program, MatchObjective::MaxTotalScore);
    let stale = |result| assert_conflict(&expect_err(result), "cohort_proposal", "version");

    // A request from outside the cohort claims one of the fintech ally's seats.
    let first = propose().await.expect("proposal");
    assert_eq!(first.pairs.len(), 2);
    let outsider = world.entrepreneur().await;
    world.request_mentorship(&outsider, &fintech).await;
    stale(eco.confirm_cohort_matching(&cohort.owner.ctx, program, &first).await);
    assert_eq!(mentorships(&world).await, 1, "only the outsider's request");

    // The health ally changes capacity.
    let second = propose().await.expect("proposal");
    assert_ne!(second.fingerprint, first.fingerprint);
    set_ally_profile(&world, &health, expertise("health", &[], 3)).await;
    stale(eco.confirm_cohort_matching(&cohort.owner.ctx, program, &second).await);
    assert_eq!(mentorships(&world).await, 1);

    // Edited or misdirected proposals are invalid, not stale.
    let third = propose().await.expect("proposal");
    let mut edited = third.clone();
    edited.pairs.swap(0, 1);
    let (a, b) = (edited.pairs[0].ally_id, edited.pairs[1].ally_id);
    edited.pairs[0].ally_id = b;
    edited.pairs[1].ally_id = a;
    assert_fields(
        &expect_err(eco.confirm_cohort_matching(&cohort.owner.ctx, program, &edited).await),
        &["pairs"],
    );
    let other = world
        .open_program(&cohort.owner, &cohort.org, ProgramSpec::default())
        .await;
    assert_fields(
        &expect_err(eco.confirm_cohort_matching(&cohort.owner.ctx, other.id, &third).await),
        &["program_id"],
    );
    assert_forbidden(&expect_err(
        eco.confirm_cohort_matching(&e1.person.ctx, program, &third).await,
    ));

    let created = eco
        .confirm_cohort_matching(&cohort.owner.ctx, program, &third)
        .await
        .expect("a fresh proposal confirms");
    let mut got: Vec<(UserId, UserId)> = created.iter().map(|m| (m.entrepreneur_id, m.ally_id)).collect();
    got.sort();
    let mut want = vec![(e1.person.id(), fintech.id()), (e2.person.id(), health.id())];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(mentorships(&world).await, 3);
}

/// Ten staff confirms of one proposal at once: exactly one creates the requests, nine are
/// refused as stale, and every pair has exactly one open mentorship.
pub async fn concurrent_cohort_confirms_create_each_mentorship_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let program = cohort.program.id;
    let slots = weekdays(8, 18);
    let mut people = Vec::new();
    for sector in ["fintech", "health", "retail"] {
        people.push(participant(&world, &cohort, sector, &[]).await);
        world.mentor(expertise(sector, &[], 1), "UTC", slots.clone()).await;
    }
    let proposal = eco
        .propose_cohort_matching(&cohort.owner.ctx, program, MatchObjective::MaxTotalScore)
        .await
        .expect("proposal");
    assert_eq!(proposal.pairs.len(), 3);
    let proposal = Arc::new(proposal);
    let attempts = (0..10)
        .map(|_| {
            let eco = Arc::clone(&world.eco);
            let ctx = cohort.owner.ctx.clone();
            let proposal = Arc::clone(&proposal);
            async move { eco.confirm_cohort_matching(&ctx, program, &proposal).await }
        })
        .collect();
    let results = race(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        let error: Error = expect_err(result);
        assert_conflict(&error, "cohort_proposal", "version");
    }
    for pair in &proposal.pairs {
        let open = world
            .count(MentorshipFilter {
                ally_id: Some(pair.ally_id),
                entrepreneur_id: Some(pair.entrepreneur_id),
                open_only: true,
                ..Default::default()
            })
            .await;
        assert_eq!(open, 1, "{pair:?}");
    }
    assert_eq!(mentorships(&world).await, 3);
    assert_eq!(world.audit("program.match_cohort", program).await.len(), 1);
}
