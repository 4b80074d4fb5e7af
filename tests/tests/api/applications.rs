//! `/api/v2/applications`: drafts, submission, reviewers, reviews, decisions (with the capacity
//! rule and promotion), blind views, and the whole selection journey over HTTP.

use crate::common::{App, CONFLICT, INVALID, INVALID_TRANSITION, NOT_FOUND};
use axum::http::{Method, StatusCode};
use icosistem_core::model::Role;
use icosistem_core::testing::fixtures::Person;
use serde_json::{Value, json};

/// An organization owned by an ally, a reviewer member, and a published program.
struct Setup {
    staff: String,
    reviewer: Person,
    reviewer_token: String,
    program: String,
}

async fn setup(app: &App, max: u32, blind: bool) -> Setup {
    let (_, staff) = app.user(Role::Ally, "staff").await;
    let (reviewer, reviewer_token) = app.user(Role::Ally, "reviewer").await;
    let org = app.organization(&staff, "Hub").await.id();
    app.add_member(&staff, &org, &reviewer, "reviewer").await;
    let mut body = app.program_body(&org, "Cohort", max);
    body["blind_review"] = json!(blind);
    let program = app.post("/api/v2/programs", body, &staff).await.id();
    app.publish(&staff, &program).await;
    Setup {
        staff,
        reviewer,
        reviewer_token,
        program,
    }
}

/// A submitted application of a new applicant, reviewed once: (token, application id).
async fn reviewed(app: &App, s: &Setup, label: &str) -> (String, String) {
    let (_, token, project) = app.applicant(label).await;
    let id = app
        .post(
            "/api/v2/applications",
            json!({ "program_id": s.program, "project_id": project, "answers": { "why": "growth" } }),
            &token,
        )
        .await
        .id();
    app.command(&format!("/api/v2/applications/{id}/submit"), &token)
        .await
        .ok(StatusCode::OK);
    app.post(
        &format!("/api/v2/applications/{id}/reviewers"),
        json!({ "reviewer_id": s.reviewer.id().to_string() }),
        &s.staff,
    )
    .await
    .ok(StatusCode::CREATED);
    app.post(
        &format!("/api/v2/applications/{id}/reviews"),
        json!({ "score": 80 }),
        &s.reviewer_token,
    )
    .await
    .ok(StatusCode::CREATED);
    (token, id)
}

#[tokio::test]
async fn drafts_are_created_edited_listed_and_submitted() {
    let app = App::new().await;
    let s = setup(&app, 5, false).await;
    let (_, token, project) = app.applicant("a").await;
    let (_, other, _) = app.applicant("b").await;

    app.assert_unauthorized(Method::GET, "/api/v2/applications", None).await;
    assert_eq!(
        app.post_invalid("/api/v2/applications", json!({ "project_id": "x" }), &token)
            .await,
        ["program_id", "project_id"]
    );
    // Someone else's project is "no such project".
    assert_eq!(
        app.post_invalid(
            "/api/v2/applications",
            json!({ "program_id": s.program, "project_id": project }),
            &other,
        )
        .await,
        ["project_id"]
    );

    let created = app
        .post(
            "/api/v2/applications",
            json!({ "program_id": s.program, "project_id": project }),
            &token,
        )
        .await;
    let body = created.ok(StatusCode::CREATED);
    assert_eq!(body["status"], "draft");
    assert_eq!(body["answers"], json!({}));
    assert_eq!(body["project"]["id"], project.as_str());
    assert!(body["applicant"]["email"].is_string());
    let id = created.id();
    let path = format!("/api/v2/applications/{id}");

    app.assert_not_found(&path, &other).await;
    // Drafts are invisible to staff.
    app.assert_not_found(&path, &s.staff).await;

    let edited = app
        .patch(&path, json!({ "answers": { "team": 3 } }), &token, Some(1))
        .await;
    assert_eq!(edited.ok(StatusCode::OK)["answers"], json!({ "team": 3 }));
    app.patch(&path, json!({ "answers": {} }), &token, Some(1))
        .await
        .refused(CONFLICT);
    let missing = app.patch(&path, json!({}), &token, None).await;
    missing.refused(INVALID);
    assert_eq!(missing.fields(), ["answers"]);

    app.post(&format!("{path}/submit"), json!({ "version": 1 }), &token)
        .await
        .refused(CONFLICT);
    app.transition(&format!("{path}/submit"), &token, "submitted").await;
    app.command_refused(&format!("{path}/submit"), &token, INVALID_TRANSITION)
        .await;
    app.patch(&path, json!({ "answers": {} }), &token, None)
        .await
        .refused(INVALID_TRANSITION);

    // Lists: mine; the program's for staff, filtered by status; pagination.
    let mine = app.get("/api/v2/applications", &token).await;
    assert_eq!(mine.ok(StatusCode::OK)["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.get("/api/v2/applications", &other).await.ok(StatusCode::OK)["items"],
        json!([])
    );
    for label in ["c", "d"] {
        let (_, t, p) = app.applicant(label).await;
        let id = app.draft(&t, &s.program, &p).await;
        app.command(&format!("/api/v2/applications/{id}/submit"), &t)
            .await
            .ok(StatusCode::OK);
    }
    let program = &s.program;
    let first = app
        .get(&format!("/api/v2/applications?program_id={program}&limit=2"), &s.staff)
        .await;
    let body = first.ok(StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    let cursor = body["next_cursor"].as_str().expect("next");
    let rest = app
        .get(
            &format!("/api/v2/applications?program_id={program}&limit=2&cursor={cursor}"),
            &s.staff,
        )
        .await;
    assert_eq!(rest.ok(StatusCode::OK)["items"][0]["id"], id.as_str());
    let submitted = app
        .get(
            &format!("/api/v2/applications?program_id={program}&status=submitted"),
            &s.staff,
        )
        .await;
    assert_eq!(submitted.ok(StatusCode::OK)["items"].as_array().map(Vec::len), Some(3));
    let none = app
        .get(
            &format!("/api/v2/applications?program_id={program}&status=accepted"),
            &s.staff,
        )
        .await;
    assert_eq!(none.ok(StatusCode::OK)["items"], json!([]));
    app.get_refused("/api/v2/applications?status=maybe", &s.staff, INVALID)
        .await;

    // Withdraw.
    app.transition(&format!("{path}/withdraw"), &token, "withdrawn").await;
    app.command_refused(&format!("{path}/withdraw"), &other, NOT_FOUND)
        .await;
}

#[tokio::test]
async fn reviewers_reviews_and_decisions() {
    let app = App::new().await;
    let s = setup(&app, 1, false).await;
    let (_, outsider) = app.user(Role::Ally, "outsider").await;
    let (_, token, project) = app.applicant("a").await;
    let id = app.draft(&token, &s.program, &project).await;
    let path = format!("/api/v2/applications/{id}");
    let reviewers = format!("{path}/reviewers");
    let reviews = format!("{path}/reviews");

    // Not yet submitted: no reviewer. The draft is the applicant's alone, so the program's staff
    // are told it does not exist; an admin sees it and gets the refused transition.
    app.post(
        &reviewers,
        json!({ "reviewer_id": s.reviewer.id().to_string() }),
        &s.staff,
    )
    .await
    .refused(NOT_FOUND);
    let (_, admin) = app.user(Role::Admin, "admin").await;
    app.post(
        &reviewers,
        json!({ "reviewer_id": s.reviewer.id().to_string() }),
        &admin,
    )
    .await
    .refused(INVALID_TRANSITION);
    app.command(&format!("{path}/submit"), &token).await.ok(StatusCode::OK);

    assert_eq!(app.post_invalid(&reviewers, json!({}), &s.staff).await, ["reviewer_id"]);
    let stranger = app.user(Role::Ally, "stranger").await.0;
    app.post(
        &reviewers,
        json!({ "reviewer_id": stranger.id().to_string() }),
        &s.staff,
    )
    .await
    .refused(INVALID);
    app.post(
        &reviewers,
        json!({ "reviewer_id": s.reviewer.id().to_string() }),
        &outsider,
    )
    .await
    // An ally outside the program cannot see the application: it does not exist for them.
    .refused(NOT_FOUND);
    let assigned = app
        .post(
            &reviewers,
            json!({ "reviewer_id": s.reviewer.id().to_string() }),
            &s.staff,
        )
        .await;
    assert_eq!(assigned.ok(StatusCode::CREATED)["status"], "assigned");

    app.assert_not_found(&reviews, &token).await;
    assert_eq!(
        app.post_invalid(&reviews, json!({ "score": 101 }), &s.reviewer_token)
            .await,
        ["score"]
    );
    let missing = app
        .post(&reviews, json!({ "comment": "fine" }), &s.reviewer_token)
        .await;
    assert_eq!(missing.fields(), ["score"]);
    let review = app
        .post(
            &reviews,
            json!({ "score": 72, "comment": "solid team" }),
            &s.reviewer_token,
        )
        .await;
    let body = review.ok(StatusCode::CREATED);
    assert_eq!(body["score"], 72);
    assert_eq!(body["status"], "submitted");
    let listed = app.get(&reviews, &s.staff).await;
    let body = listed.ok(StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    assert!(body["next_cursor"].is_null());
    assert_eq!(
        app.get(&reviews, &s.reviewer_token).await.ok(StatusCode::OK)["items"][0]["score"],
        72
    );

    // Decisions: applicants may not decide; stale; accept; then the program is full.
    let denied = app.command(&format!("{path}/accept"), &token).await;
    assert!(
        matches!(denied.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        denied.raw
    );
    app.post(&format!("{path}/accept"), json!({ "version": 1 }), &s.staff)
        .await
        .refused(CONFLICT);
    let accepted = app
        .post(&format!("{path}/accept"), json!({ "note": "welcome" }), &s.staff)
        .await;
    let body = accepted.ok(StatusCode::OK);
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["decision_note"], "welcome");
    app.command_refused(&format!("{path}/reject"), &s.staff, INVALID_TRANSITION)
        .await;

    let (other_token, other) = reviewed(&app, &s, "b").await;
    let other_path = format!("/api/v2/applications/{other}");
    app.command(&format!("{other_path}/accept"), &s.staff)
        .await
        .problem(StatusCode::CONFLICT, "program_full");
    let waitlisted = app.command(&format!("{other_path}/waitlist"), &s.staff).await;
    assert_eq!(waitlisted.ok(StatusCode::OK)["status"], "waitlisted");
    app.command(&format!("{other_path}/promote"), &s.staff)
        .await
        .problem(StatusCode::CONFLICT, "program_full");

    // The accepted applicant withdraws: the waitlisted one is promoted automatically.
    app.command(&format!("{path}/withdraw"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        app.get(&other_path, &other_token).await.ok(StatusCode::OK)["status"],
        "accepted"
    );
    let (_, third) = reviewed(&app, &s, "c").await;
    app.transition(&format!("/api/v2/applications/{third}/reject"), &s.staff, "rejected")
        .await;

    let enrollments = app
        .get(&format!("/api/v2/programs/{}/enrollments", s.program), &s.staff)
        .await;
    let items = enrollments.ok(StatusCode::OK)["items"]
        .as_array()
        .expect("items")
        .clone();
    assert!(items.iter().any(|e| e["application_id"] == other.as_str()));
}

fn has_identity(body: &Value, person: &Person) -> bool {
    let text = body.to_string();
    text.contains(person.email()) || text.contains(&person.id().to_string()) || body.get("applicant").is_some()
}

#[tokio::test]
async fn blind_review_hides_the_applicant() {
    let app = App::new().await;
    let s = setup(&app, 5, true).await;
    let (person, token, project) = app.applicant("a").await;
    let id = app.draft(&token, &s.program, &project).await;
    app.command(&format!("/api/v2/applications/{id}/submit"), &token)
        .await
        .ok(StatusCode::OK);
    let assigned = app
        .post(
            &format!("/api/v2/applications/{id}/reviewers"),
            json!({ "reviewer_id": s.reviewer.id().to_string() }),
            &s.staff,
        )
        .await;
    assigned.ok(StatusCode::CREATED);

    let path = format!("/api/v2/applications/{id}");
    let as_reviewer = app.get(&path, &s.reviewer_token).await;
    let body = as_reviewer.ok(StatusCode::OK);
    assert_eq!(body["blind"], true);
    assert!(!has_identity(body, &person), "{body}");
    assert!(body["project"].get("owner_id").is_none());
    let listed = app
        .get(&format!("/api/v2/applications?program_id={}", s.program), &s.staff)
        .await;
    let body = listed.ok(StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    assert!(!has_identity(&body["items"][0], &person), "{body}");
    let decided = app.command(&format!("{path}/reject"), &s.staff).await;
    // Not enough reviews yet, or rejected: either way no identity leaks.
    assert!(!has_identity(&decided.body, &person), "{}", decided.raw);

    let own = app.get(&path, &token).await;
    let body = own.ok(StatusCode::OK);
    assert_eq!(body["blind"], false);
    assert_eq!(body["applicant"]["email"], person.email());
}

#[tokio::test]
async fn the_selection_journey() {
    let app = App::new().await;
    let (_, admin) = app.user(Role::Admin, "admin").await;
    let (reviewer, reviewer_token) = app.user(Role::Ally, "reviewer").await;

    // Admin: an organization, activated, with a reviewer; a program, published.
    let org = app.organization(&admin, "Andes Ventures").await.id();
    app.command(&format!("/api/v2/organizations/{org}/activate"), &admin)
        .await
        .ok(StatusCode::OK);
    app.add_member(&admin, &org, &reviewer, "reviewer").await;
    let program = app
        .post("/api/v2/programs", app.program_body(&org, "Seed Cohort", 10), &admin)
        .await
        .id();
    let published = app
        .send(
            Method::POST,
            &format!("/api/v2/programs/{program}/publish"),
            None,
            Some(&admin),
            Some(1),
        )
        .await;
    assert_eq!(published.ok(StatusCode::OK)["status"], "published");

    // Entrepreneur: a project, an application, submitted.
    let (_, entrepreneur, project) = app.applicant("founder").await;
    let open = app.get("/api/v2/programs?accepting=true", &entrepreneur).await;
    assert_eq!(open.ok(StatusCode::OK)["items"][0]["id"], program.as_str());
    let application = app
        .post(
            "/api/v2/applications",
            json!({ "program_id": program, "project_id": project, "answers": { "pitch": "coffee" } }),
            &entrepreneur,
        )
        .await
        .id();
    let path = format!("/api/v2/applications/{application}");
    app.transition(&format!("{path}/submit"), &entrepreneur, "submitted")
        .await;

    // Admin assigns the reviewer; the reviewer reviews; the admin accepts.
    app.post(
        &format!("{path}/reviewers"),
        json!({ "reviewer_id": reviewer.id().to_string() }),
        &admin,
    )
    .await
    .ok(StatusCode::CREATED);
    app.post(
        &format!("{path}/reviews"),
        json!({ "score": 90, "comment": "strong", "conflict_declared": false }),
        &reviewer_token,
    )
    .await
    .ok(StatusCode::CREATED);
    let accepted = app.command(&format!("{path}/accept"), &admin).await;
    let body = accepted.ok(StatusCode::OK);
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["mean_score_centi"], 9000);

    let mine = app.get(&path, &entrepreneur).await;
    assert_eq!(mine.ok(StatusCode::OK)["status"], "accepted");
    let program_now = app.get(&format!("/api/v2/programs/{program}"), &admin).await;
    assert_eq!(program_now.ok(StatusCode::OK)["accepted_count"], 1);
    let enrollments = app
        .get(&format!("/api/v2/programs/{program}/enrollments"), &admin)
        .await;
    let items = enrollments.ok(StatusCode::OK)["items"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["project_id"], project.as_str());
}
