//! Review rounds (docs/domain.md §10): a three-round selection walked to acceptance, the quorum and
//! threshold of every round decision, no skipping, one review per reviewer and round, rounds
//! fixed once an application entered them, and blindness per round.

use serde_json::Map;

use crate::error::Error;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{Decision, RoundInput, SubmitReview, UpdateProgram};
use crate::testing::fixtures::*;
use crate::workflow::program::ProgramCommand;

/// A round of `min_reviews` and `threshold`, open to any member unless `reviewers` are named.
fn round(name: &str, min_reviews: i64, threshold: i64, blind: bool, reviewers: &[&Person]) -> RoundInput {
    RoundInput {
        name: name.to_owned(),
        reviewer_ids: reviewers.iter().map(|p| p.id()).collect(),
        min_reviews,
        threshold,
        blind,
    }
}

/// An organization with an owner and `reviewers` reviewer members, and the means to open a
/// program with rounds in it.
struct Panel {
    cohort: Cohort,
}

impl Panel {
    async fn new<S: Store>(world: &World<S>, reviewers: usize) -> Self {
        let owner = world.ally().await;
        let org = world.organization(&owner).await;
        let mut people = Vec::new();
        for _ in 0..reviewers {
            let reviewer = world.ally().await;
            world.add_member(&owner, &org, &reviewer, MemberRole::Reviewer).await;
            people.push(reviewer);
        }
        // A placeholder program; `open` replaces it with the one under test.
        let program = world.open_program(&owner, &org, ProgramSpec::default()).await;
        Self {
            cohort: Cohort {
                org,
                owner,
                reviewers: people,
                program,
            },
        }
    }

    /// A published program with `rounds`, and the cohort pointing at it.
    async fn open<S: Store>(&mut self, world: &World<S>, rounds: Vec<RoundInput>) -> Program {
        let mut input = world.program_input(
            &self.cohort.org,
            &format!("Rounds {}", world.next()),
            ProgramSpec::seats(5),
        );
        input.rounds = Some(rounds);
        let program = world
            .eco
            .create_program(&self.cohort.owner.ctx, input)
            .await
            .expect("create program with rounds");
        let program = world
            .eco
            .program_command(&self.cohort.owner.ctx, program.id, ProgramCommand::Publish, None)
            .await
            .expect("publish");
        self.cohort.program = program.clone();
        program
    }

    /// A panel of `reviewers` with a published program of `rounds` open.
    async fn opened<S: Store>(world: &World<S>, reviewers: usize, rounds: Vec<RoundInput>) -> Self {
        let mut panel = Self::new(world, reviewers).await;
        panel.open(world, rounds).await;
        panel
    }

    /// A new entrepreneur's submitted application to the open program: (founder, its id).
    async fn applicant<S: Store>(&self, world: &World<S>) -> (Person, ApplicationId) {
        let founder = world.entrepreneur().await;
        let id = world.submit(&self.cohort, &founder).await.id();
        (founder, id)
    }

    fn reviewer(&self, i: usize) -> &Person {
        &self.cohort.reviewers[i]
    }
}

/// `reviewer` is assigned to the application's current round and scores it.
async fn review<S: Store>(
    world: &World<S>,
    panel: &Panel,
    app: ApplicationId,
    reviewer: &Person,
    score: i64,
) -> Review {
    world
        .eco
        .assign_reviewer(&panel.cohort.owner.ctx, app, reviewer.id())
        .await
        .expect("assign reviewer");
    world
        .eco
        .submit_review(&reviewer.ctx, app, SubmitReview::new(score))
        .await
        .expect("submit review")
}

async fn application<S: Store>(world: &World<S>, id: ApplicationId) -> Application {
    world.row(id).await.expect("application")
}

/// Screening (any member, 1 review, ≥ 50) → interview (2 reviews, ≥ 60) → committee (one named
/// member, ≥ 70): the application enters the first round at submission, advances one round at a
/// time with each round's reviews, and the final accept takes a seat and enrolls it. Every
/// advance is audited and notified.
pub async fn three_round_selection_walks_to_acceptance<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let mut panel = Panel::new(&world, 3).await;
    let chair = panel.reviewer(2).clone();
    let program = panel
        .open(
            &world,
            vec![
                round("screening", 1, 50, false, &[]),
                round("interview", 2, 60, false, &[]),
                round("committee", 1, 70, false, &[&chair]),
            ],
        )
        .await;
    assert_eq!(program.rounds.len(), 3);
    assert_eq!(program.rounds[2].reviewer_ids, vec![chair.id()]);
    let founder = world.entrepreneur().await;
    let applicant = world.submit(&panel.cohort, &founder).await;
    let id = applicant.id();
    assert_eq!(applicant.application.current_round, Some(0));

    let first = review(&world, &panel, id, panel.reviewer(0), 80).await;
    assert_eq!(first.round, Some(0));
    let owner = panel.cohort.owner.ctx.clone();
    let app = world
        .eco
        .advance_application(&owner, id, None)
        .await
        .expect("advance to interview");
    assert_eq!(
        (app.status, app.current_round),
        (ApplicationStatus::UnderReview, Some(1))
    );
    assert_eq!(app.mean_score_centi, None, "the interview starts without scores");

    // The screening reviewer reviews again in the interview: once per round.
    let again = review(&world, &panel, id, panel.reviewer(0), 70).await;
    assert_eq!(again.round, Some(1));
    review(&world, &panel, id, panel.reviewer(1), 60).await;
    assert_eq!(application(&world, id).await.mean_score_centi, Some(6500));
    let app = world
        .eco
        .advance_application(&owner, id, None)
        .await
        .expect("advance to committee");
    assert_eq!(app.current_round, Some(2));

    // The committee names its reviewer: nobody else is assigned in it.
    let refused = expect_err(world.eco.assign_reviewer(&owner, id, panel.reviewer(0).id()).await);
    assert_fields(&refused, &["reviewer_id"]);
    review(&world, &panel, id, &chair, 90).await;
    let last = expect_err(world.eco.advance_application(&owner, id, None).await);
    assert_fields(&last, &["current_round"]);
    let accepted = world
        .eco
        .decide(&owner, id, Decision::Accept, Some("Welcome".to_owned()), None)
        .await
        .expect("accept in the final round");
    assert_eq!(accepted.status, ApplicationStatus::Accepted);
    assert_eq!(accepted.current_round, Some(2));
    let stored: Program = world.row(program.id).await.expect("program");
    assert_eq!(stored.accepted_count, 1);
    assert_eq!(
        world
            .count(EnrollmentFilter {
                application_id: Some(id),
                ..Default::default()
            })
            .await,
        1
    );
    let advances = world.audit("application.advance", id).await;
    assert_eq!(advances.len(), 2);
    assert_eq!(world.notifications(founder.id(), "application_advanced").await.len(), 2);
    let reviews = world.rows(reviews_of(id)).await;
    let mut rounds: Vec<Option<u32>> = reviews.iter().map(|r| r.round).collect();
    rounds.sort();
    assert_eq!(rounds, vec![Some(0), Some(1), Some(1), Some(2)]);
}

/// Every round decision needs the round's quorum; passing also needs its threshold, turning
/// down needs a reason. Reviews with a declared conflict do not count.
pub async fn round_decisions_need_their_quorum<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let panel = Panel::opened(
        &world,
        3,
        vec![
            round("screening", 2, 60, false, &[]),
            round("committee", 1, 0, false, &[]),
        ],
    )
    .await;
    let owner = panel.cohort.owner.ctx.clone();
    let (founder, id) = panel.applicant(&world).await;
    review(&world, &panel, id, panel.reviewer(0), 90).await;
    // A declared conflict is recorded and does not count toward the quorum.
    world
        .eco
        .assign_reviewer(&owner, id, panel.reviewer(1).id())
        .await
        .expect("assign");
    world
        .eco
        .submit_review(
            &panel.reviewer(1).ctx,
            id,
            SubmitReview {
                score: 95,
                comment: None,
                conflict_declared: true,
            },
        )
        .await
        .expect("conflicted review");
    assert_fields(
        &expect_err(world.eco.advance_application(&owner, id, None).await),
        &["reviews"],
    );
    assert_fields(
        &expect_err(
            world
                .eco
                .reject_application_in_round(&owner, id, "Not a fit".to_owned(), None)
                .await,
        ),
        &["reviews"],
    );
    assert_fields(
        &expect_err(world.eco.decide(&owner, id, Decision::Reject, None, None).await),
        &["reviews"],
    );
    // Quorum reached, mean 45 < 60: no advance, but a rejection with a reason.
    review(&world, &panel, id, panel.reviewer(2), 0).await;
    assert_fields(
        &expect_err(world.eco.advance_application(&owner, id, None).await),
        &["mean_score"],
    );
    assert_fields(
        &expect_err(
            world
                .eco
                .reject_application_in_round(&owner, id, "  ".to_owned(), None)
                .await,
        ),
        &["reason"],
    );
    let rejected = world
        .eco
        .reject_application_in_round(&owner, id, "Below the screening bar".to_owned(), None)
        .await
        .expect("reject in round");
    assert_eq!(rejected.status, ApplicationStatus::Rejected);
    assert_eq!(rejected.decision_note.as_deref(), Some("Below the screening bar"));
    assert_eq!(rejected.current_round, Some(0));
    world.assert_notified(founder.id(), "application_rejected").await;
    assert_eq!(world.audit("application.reject", id).await.len(), 1);
}

/// Accepting or waitlisting before the last round is refused however good the reviews; an
/// application is advanced only while under review; and the program's program-wide
/// `min_reviews` plays no part once it has rounds.
pub async fn an_application_never_skips_a_round<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let panel = Panel::opened(
        &world,
        1,
        vec![
            round("screening", 1, 0, false, &[]),
            round("interview", 1, 0, false, &[]),
            round("committee", 1, 0, false, &[]),
        ],
    )
    .await;
    let owner = panel.cohort.owner.ctx.clone();
    let (_, id) = panel.applicant(&world).await;
    // Submitted, nobody assigned yet: not under review.
    assert!(matches!(
        expect_err(world.eco.advance_application(&owner, id, None).await),
        Error::InvalidTransition { .. }
    ));
    review(&world, &panel, id, panel.reviewer(0), 100).await;
    for decision in [Decision::Accept, Decision::Waitlist] {
        let refused = expect_err(world.eco.decide(&owner, id, decision, None, None).await);
        assert_fields(&refused, &["current_round"]);
    }
    world
        .eco
        .advance_application(&owner, id, None)
        .await
        .expect("to interview");
    // The interview has no reviews yet: neither an advance nor an acceptance.
    assert_fields(
        &expect_err(world.eco.advance_application(&owner, id, None).await),
        &["reviews"],
    );
    assert_fields(
        &expect_err(world.eco.decide(&owner, id, Decision::Accept, None, None).await),
        &["current_round", "reviews"],
    );
    assert_eq!(application(&world, id).await.current_round, Some(1));
    assert_eq!(application(&world, id).await.status, ApplicationStatus::UnderReview);
    // A program without rounds has nothing to advance to.
    let plain = world.cohort(ProgramSpec::default()).await;
    let ready = world.ready(&plain, 80).await;
    assert_fields(
        &expect_err(world.eco.advance_application(&plain.owner.ctx, ready.id(), None).await),
        &["current_round"],
    );
    assert_eq!(ready.application.current_round, None);
}

/// A reviewer is assigned and reviews once per round: a second assignment in the same round
/// conflicts, a second review is refused; in the next round they may review again.
pub async fn a_reviewer_reviews_once_per_round<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let panel = Panel::opened(
        &world,
        1,
        vec![
            round("screening", 1, 0, false, &[]),
            round("committee", 1, 0, false, &[]),
        ],
    )
    .await;
    let owner = panel.cohort.owner.ctx.clone();
    let reviewer = panel.reviewer(0).clone();
    let (_, id) = panel.applicant(&world).await;
    review(&world, &panel, id, &reviewer, 70).await;
    assert!(matches!(
        expect_err(world.eco.assign_reviewer(&owner, id, reviewer.id()).await),
        Error::Conflict {
            entity: "review",
            field: "application_reviewer"
        }
    ));
    let twice = SubmitReview::new(10);
    assert!(matches!(
        expect_err(world.eco.submit_review(&reviewer.ctx, id, twice.clone()).await),
        Error::InvalidTransition { entity: "review", .. }
    ));
    world
        .eco
        .advance_application(&owner, id, None)
        .await
        .expect("to committee");
    // Not yet assigned in the committee: their screening review is not an assignment here.
    assert!(matches!(
        expect_err(world.eco.submit_review(&reviewer.ctx, id, twice.clone()).await),
        Error::Forbidden(_)
    ));
    let second = review(&world, &panel, id, &reviewer, 90).await;
    assert_eq!(second.round, Some(1));
    assert!(matches!(
        expect_err(world.eco.submit_review(&reviewer.ctx, id, twice).await),
        Error::InvalidTransition { entity: "review", .. }
    ));
    // Only the committee's review counts for its decision and the mean score.
    assert_eq!(application(&world, id).await.mean_score_centi, Some(9000));
    let mine = world.eco.list_reviews(&reviewer.ctx, id).await.expect("own reviews");
    assert_eq!(mine.len(), 2);
}

/// The rounds are checked as data (every failing field named) and fixed once an application
/// has entered them: a draft does not fix them, a submission does; restating the same rounds is
/// no change.
pub async fn rounds_cannot_change_once_an_application_entered_them<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let mut panel = Panel::new(&world, 1).await;
    let outsider = world.ally().await;
    let mut input = world.program_input(&panel.cohort.org, "Bad rounds", ProgramSpec::default());
    input.rounds = Some(vec![
        round("screening", 1, 50, false, &[]),
        round("Screening", 0, 101, false, &[&outsider]),
    ]);
    let refused = expect_err(world.eco.create_program(&panel.cohort.owner.ctx, input).await);
    assert_fields(
        &refused,
        &["rounds[1].name", "rounds[1].min_reviews", "rounds[1].threshold"],
    );
    let mut input = world.program_input(&panel.cohort.org, "No rounds", ProgramSpec::default());
    input.rounds = Some(Vec::new());
    assert_fields(
        &expect_err(world.eco.create_program(&panel.cohort.owner.ctx, input).await),
        &["rounds"],
    );
    let mut input = world.program_input(&panel.cohort.org, "Stranger", ProgramSpec::default());
    input.rounds = Some(vec![round("screening", 1, 50, false, &[&outsider])]);
    assert_fields(
        &expect_err(world.eco.create_program(&panel.cohort.owner.ctx, input).await),
        &["rounds[0].reviewer_ids[0]"],
    );

    let rounds = vec![
        round("screening", 1, 50, false, &[]),
        round("committee", 1, 70, false, &[]),
    ];
    let program = panel.open(&world, rounds.clone()).await;
    let owner = panel.cohort.owner.ctx.clone();
    let change = |rounds: Vec<RoundInput>| UpdateProgram {
        rounds: Some(rounds),
        ..Default::default()
    };
    let founder = world.entrepreneur().await;
    let project = world.project(&founder).await;
    let draft = world
        .eco
        .create_application(&founder.ctx, program.id, project.id, Map::new())
        .await
        .expect("draft");
    assert_eq!(draft.current_round, None);
    let three = vec![
        round("screening", 1, 50, false, &[]),
        round("interview", 1, 60, false, &[]),
        round("committee", 1, 70, false, &[]),
    ];
    let updated = world
        .eco
        .update_program(&owner, program.id, change(three.clone()))
        .await
        .expect("a draft has not entered the rounds");
    assert_eq!(updated.rounds.len(), 3);
    let submitted = world
        .eco
        .submit_application(&founder.ctx, draft.id, None)
        .await
        .expect("submit");
    assert_eq!(submitted.current_round, Some(0));
    let refused = expect_err(world.eco.update_program(&owner, program.id, change(rounds)).await);
    assert_fields(&refused, &["rounds"]);
    let stored: Program = world.row(program.id).await.expect("program");
    assert_eq!(stored.rounds.len(), 3);
    world
        .eco
        .update_program(&owner, program.id, change(three))
        .await
        .expect("the same rounds are no change");
    // Other fields still change.
    world
        .eco
        .update_program(
            &owner,
            program.id,
            UpdateProgram {
                name: Some("Renamed cohort".to_owned()),
                ..Default::default()
            },
        )
        .await
        .expect("rename");
}

/// A blind round hides who applied (and, from reviewers, the mean score); the next, open round
/// shows them again. The program's own `blind_review` stays off throughout.
pub async fn a_blind_round_hides_the_applicant<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let panel = Panel::opened(
        &world,
        1,
        vec![
            round("screening", 1, 0, true, &[]),
            round("interview", 1, 0, false, &[]),
        ],
    )
    .await;
    let owner = panel.cohort.owner.clone();
    let reviewer = panel.reviewer(0).clone();
    let founder = world.person_named(Role::Entrepreneur, "Valentina", "Quintero").await;
    let id = world.submit(&panel.cohort, &founder).await.id();
    review(&world, &panel, id, &reviewer, 80).await;
    let by_program = applications_of(panel.cohort.program.id);

    let seen = world
        .eco
        .get_application(&reviewer.ctx, id)
        .await
        .expect("reviewer view");
    assert!(seen.blind);
    assert_eq!(seen.applicant, None);
    assert_eq!(seen.project.owner_id, None);
    assert_eq!(
        seen.mean_score_centi, None,
        "a blind round hides the scores from reviewers"
    );
    let json = serde_json::to_string(&seen).expect("json");
    assert!(
        !json.contains("Quintero") && !json.contains(&founder.id().to_string()),
        "{json}"
    );
    let staff = world.eco.get_application(&owner.ctx, id).await.expect("staff view");
    assert!(staff.blind);
    assert_eq!(staff.applicant, None);
    assert_eq!(staff.mean_score_centi, Some(8000), "staff decide on the scores");
    let list = world
        .eco
        .list_applications(&owner.ctx, by_program.clone(), PageRequest::first(10))
        .await
        .expect("list");
    assert!(list.items.iter().all(|v| v.blind && v.applicant.is_none()));
    // The applicant and admins always see who applied.
    assert!(!world.eco.get_application(&founder.ctx, id).await.expect("own").blind);
    assert!(
        !world
            .eco
            .get_application(&world.admin.ctx, id)
            .await
            .expect("admin")
            .blind
    );
    // Neither staff nor reviewers reach the applicant's project through a program with a blind
    // round (the store's list and the use case's single read agree).
    let project_id = application(&world, id).await.project_id;
    for person in [&owner, &reviewer] {
        assert!(world.eco.get_project(&person.ctx, project_id).await.is_err());
        let listed = world
            .eco
            .list_projects(&person.ctx, ProjectFilter::default(), PageRequest::first(50))
            .await
            .expect("list projects");
        assert!(listed.items.iter().all(|p| p.id != project_id));
    }

    world
        .eco
        .advance_application(&owner.ctx, id, None)
        .await
        .expect("to the interview");
    let open = world
        .eco
        .get_application(&reviewer.ctx, id)
        .await
        .expect("open round view");
    assert!(!open.blind);
    assert_eq!(open.applicant.as_ref().map(|a| a.id), Some(founder.id()));
    let list = world
        .eco
        .list_applications(&owner.ctx, by_program, PageRequest::first(10))
        .await
        .expect("list");
    assert!(list.items.iter().all(|v| !v.blind && v.applicant.is_some()));
}
