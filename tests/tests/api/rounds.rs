//! Review rounds over HTTP (docs/domain.md §10): `rounds` on program create/update (validated, fixed
//! once an application entered them), `advance` and `reject-in-round`, `round` on reviews and
//! `current_round` on applications, and a blind round's views.

use axum::http::StatusCode;
use icosistem_core::model::Role;
use icosistem_core::testing::fixtures::Person;
use serde_json::{Value, json};

use crate::common::{App, FORBIDDEN, INVALID, INVALID_TRANSITION};

/// An organization owned by an ally with two reviewer members, and a published program with
/// `rounds`.
struct Setup {
    staff: String,
    reviewers: Vec<(Person, String)>,
    program: String,
}

async fn setup(app: &App, rounds: Value) -> Setup {
    let (_, staff) = app.user(Role::Ally, "staff").await;
    let org = app.organization(&staff, "Hub").await.id();
    let mut reviewers = Vec::new();
    for label in ["first", "second"] {
        let (reviewer, token) = app.user(Role::Ally, label).await;
        app.add_member(&staff, &org, &reviewer, "reviewer").await;
        reviewers.push((reviewer, token));
    }
    let mut body = app.program_body(&org, "Rounds cohort", 5);
    body["rounds"] = rounds;
    let created = app.post("/api/v2/programs", body, &staff).await;
    let program = created.id();
    app.publish(&staff, &program).await;
    Setup {
        staff,
        reviewers,
        program,
    }
}

/// A new entrepreneur's submitted application: (applicant, token, application id).
async fn submitted(app: &App, s: &Setup, label: &str) -> (Person, String, String) {
    let (person, token, project) = app.applicant(label).await;
    let id = app.draft(&token, &s.program, &project).await;
    let body = app.command(&format!("/api/v2/applications/{id}/submit"), &token).await;
    assert_eq!(body.ok(StatusCode::OK)["current_round"], 0);
    (person, token, id)
}

/// Reviewer `i` is assigned in the application's current round and scores it.
async fn review(app: &App, s: &Setup, id: &str, i: usize, score: u8) -> Value {
    let (reviewer, token) = &s.reviewers[i];
    app.post(
        &format!("/api/v2/applications/{id}/reviewers"),
        json!({ "reviewer_id": reviewer.id().to_string() }),
        &s.staff,
    )
    .await
    .ok(StatusCode::CREATED);
    app.post(
        &format!("/api/v2/applications/{id}/reviews"),
        json!({ "score": score }),
        token,
    )
    .await
    .ok(StatusCode::CREATED)
    .clone()
}

#[tokio::test]
async fn programs_take_rounds_checked_as_data() {
    let app = App::new().await;
    let (_, staff) = app.user(Role::Ally, "staff").await;
    let org = app.organization(&staff, "Hub").await.id();
    let mut body = app.program_body(&org, "Bad rounds", 5);
    body["rounds"] = json!([
        { "name": "screening", "threshold": 50 },
        { "name": "Screening", "threshold": 101, "min_reviews": 0, "reviewer_ids": ["nope"] },
        { "threshold": 10 },
    ]);
    assert_eq!(
        app.post_invalid("/api/v2/programs", body, &staff).await,
        ["rounds[1].reviewer_ids[0]", "rounds[2].name"],
        "what the body names is read first"
    );
    let mut body = app.program_body(&org, "Bad rounds", 5);
    body["rounds"] = json!([
        { "name": "screening", "threshold": 50 },
        { "name": "Screening", "threshold": 101, "min_reviews": 0 },
    ]);
    assert_eq!(
        app.post_invalid("/api/v2/programs", body, &staff).await,
        ["rounds[1].min_reviews", "rounds[1].name", "rounds[1].threshold"]
    );
    let mut body = app.program_body(&org, "Empty rounds", 5);
    body["rounds"] = json!([]);
    let refused = app.post("/api/v2/programs", body, &staff).await;
    assert_eq!(refused.fields(), ["rounds"]);

    let mut body = app.program_body(&org, "Good rounds", 5);
    body["rounds"] = json!([
        { "name": "screening", "threshold": 50, "blind": true },
        { "name": "committee", "min_reviews": 2, "threshold": 70 },
    ]);
    let created = app.post("/api/v2/programs", body, &staff).await;
    let program = created.ok(StatusCode::CREATED);
    assert_eq!(
        program["rounds"],
        json!([
            { "name": "screening", "reviewer_ids": [], "min_reviews": 1, "threshold": 50, "blind": true },
            { "name": "committee", "reviewer_ids": [], "min_reviews": 2, "threshold": 70, "blind": false },
        ])
    );
    // A program without rounds says so with an empty list.
    let plain = app
        .post("/api/v2/programs", app.program_body(&org, "Plain", 5), &staff)
        .await;
    assert_eq!(plain.ok(StatusCode::CREATED)["rounds"], json!([]));
}

#[tokio::test]
async fn an_application_walks_three_rounds_to_acceptance() {
    let app = App::new().await;
    let s = setup(
        &app,
        json!([
            { "name": "screening", "threshold": 50 },
            { "name": "interview", "min_reviews": 2, "threshold": 60 },
            { "name": "committee", "threshold": 70 },
        ]),
    )
    .await;
    let (_, _, id) = submitted(&app, &s, "walker").await;
    let base = format!("/api/v2/applications/{id}");

    // A round decision before the round's quorum, then acceptance before the last round.
    let early = app.command(&format!("{base}/advance"), &s.staff).await;
    early.refused(INVALID_TRANSITION);
    let first = review(&app, &s, &id, 0, 80).await;
    assert_eq!(first["round"], 0);
    let skip = app.command(&format!("{base}/accept"), &s.staff).await;
    skip.refused(INVALID);
    assert_eq!(skip.fields(), ["current_round"]);
    // Reviewers decide nothing.
    app.command_refused(&format!("{base}/advance"), &s.reviewers[0].1, FORBIDDEN)
        .await;

    let advanced = app.command(&format!("{base}/advance"), &s.staff).await;
    let body = advanced.ok(StatusCode::OK);
    assert_eq!(body["current_round"], 1);
    assert_eq!(body["status"], "under_review");
    review(&app, &s, &id, 0, 70).await;
    let quorum = app.command(&format!("{base}/advance"), &s.staff).await;
    assert_eq!(quorum.fields(), ["reviews"]);
    review(&app, &s, &id, 1, 60).await;
    let reviews = app.get(&format!("{base}/reviews"), &s.staff).await;
    let rounds: Vec<Value> = reviews.ok(StatusCode::OK)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["round"].clone())
        .collect();
    assert_eq!(rounds.iter().filter(|r| **r == json!(1)).count(), 2);
    assert_eq!(
        app.command(&format!("{base}/advance"), &s.staff)
            .await
            .ok(StatusCode::OK)["current_round"],
        2
    );
    review(&app, &s, &id, 1, 90).await;
    let last = app.command(&format!("{base}/advance"), &s.staff).await;
    assert_eq!(last.fields(), ["current_round"]);
    let accepted = app
        .post(&format!("{base}/accept"), json!({ "note": "Welcome" }), &s.staff)
        .await;
    let body = accepted.ok(StatusCode::OK);
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["current_round"], 2);

    // The rounds are fixed now that an application entered them.
    let change = app
        .patch(
            &format!("/api/v2/programs/{}", s.program),
            json!({ "rounds": [{ "name": "only" }] }),
            &s.staff,
            None,
        )
        .await;
    change.refused(INVALID);
    assert_eq!(change.fields(), ["rounds"]);
}

#[tokio::test]
async fn reject_in_round_needs_a_reason_and_the_quorum() {
    let app = App::new().await;
    let s = setup(
        &app,
        json!([
            { "name": "screening", "min_reviews": 2, "threshold": 90 },
            { "name": "committee" },
        ]),
    )
    .await;
    let (person, token, id) = submitted(&app, &s, "rejected").await;
    let path = format!("/api/v2/applications/{id}/reject-in-round");
    review(&app, &s, &id, 0, 40).await;
    let no_quorum = app.post(&path, json!({ "reason": "Too early" }), &s.staff).await;
    assert_eq!(no_quorum.fields(), ["reviews"]);
    review(&app, &s, &id, 1, 50).await;
    let below = app
        .command(&format!("/api/v2/applications/{id}/advance"), &s.staff)
        .await;
    assert_eq!(below.fields(), ["mean_score"]);
    assert_eq!(app.post_invalid(&path, json!({}), &s.staff).await, ["reason"]);
    // The applicant may not decide on their own application.
    app.post(&path, json!({ "reason": "Mine" }), &token)
        .await
        .refused(FORBIDDEN);
    let rejected = app
        .post(&path, json!({ "reason": "Below the screening bar" }), &s.staff)
        .await;
    let body = rejected.ok(StatusCode::OK);
    assert_eq!(body["status"], "rejected");
    assert_eq!(body["decision_note"], "Below the screening bar");
    assert_eq!(body["current_round"], 0);
    let own = app.get(&format!("/api/v2/applications/{id}"), &token).await;
    assert_eq!(own.ok(StatusCode::OK)["applicant"]["id"], person.id().to_string());
}

#[tokio::test]
async fn a_blind_round_hides_the_applicant_then_the_next_shows_them() {
    let app = App::new().await;
    let s = setup(
        &app,
        json!([
            { "name": "screening", "blind": true },
            { "name": "interview" },
        ]),
    )
    .await;
    let (person, _, id) = submitted(&app, &s, "hidden").await;
    review(&app, &s, &id, 0, 75).await;
    let path = format!("/api/v2/applications/{id}");
    let reviewer = &s.reviewers[0].1;
    let seen = app.get(&path, reviewer).await;
    let body = seen.ok(StatusCode::OK).clone();
    assert_eq!(body["blind"], true);
    assert!(body.get("applicant").is_none());
    assert!(body["project"].get("owner_id").is_none());
    assert_eq!(body["mean_score_centi"], Value::Null);
    assert!(!body.to_string().contains(&person.id().to_string()));
    let staff = app.get(&path, &s.staff).await;
    let body = staff.ok(StatusCode::OK);
    assert_eq!(body["blind"], true);
    assert_eq!(body["mean_score_centi"], 7500);

    app.command(&format!("{path}/advance"), &s.staff)
        .await
        .ok(StatusCode::OK);
    let open = app.get(&path, reviewer).await;
    let body = open.ok(StatusCode::OK);
    assert_eq!(body["blind"], false);
    assert_eq!(body["applicant"]["id"], person.id().to_string());
}
