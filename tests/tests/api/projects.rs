//! `/api/v2/projects` and `/api/v2/milestones`: create, read, list with filters, edit, delete,
//! lifecycle and stage commands, milestones and their commands.

use crate::common::{App, CONFLICT, FORBIDDEN, INVALID, INVALID_TRANSITION, NOT_FOUND};
use axum::http::{Method, StatusCode};
use icosistem_core::model::Role;
use serde_json::{Value, json};

fn project_body(name: &str) -> Value {
    json!({
        "name": name,
        "description": "A marketplace for Andean coffee growers",
        "project_type": "marketplace",
        "funding_target": { "amount_minor": 150_000, "currency": "USD" },
    })
}

#[tokio::test]
async fn create_read_update_delete() {
    let app = App::new().await;
    let (_, owner) = app.user(Role::Entrepreneur, "owner").await;
    let (_, other) = app.user(Role::Entrepreneur, "other").await;
    let (_, client) = app.user(Role::Client, "client").await;
    let (_, ally) = app.user(Role::Ally, "ally").await;

    app.assert_unauthorized(Method::POST, "/api/v2/projects", Some(project_body("P")))
        .await;
    app.post("/api/v2/projects", project_body("Cafe"), &ally)
        .await
        .refused(FORBIDDEN);
    assert_eq!(app.post_invalid("/api/v2/projects",
            json!({ "description": "short", "priority": "urgent", "funding_target": { "amount_minor": -1, "currency": "XYZ" } }),
            &owner).await, ["description", "funding_target", "name", "priority", "project_type"]);
    app.post("/api/v2/projects", json!({ "name": 5 }), &owner)
        .await
        .refused(INVALID);

    let created = app.post("/api/v2/projects", project_body("Cafe Andino"), &owner).await;
    let body = created.ok(StatusCode::CREATED).clone();
    assert_eq!(body["status"], "draft");
    assert_eq!(body["stage"], "idea");
    assert_eq!(body["priority"], "medium");
    assert_eq!(body["is_public"], false);
    assert_eq!(
        body["funding_target"],
        json!({ "amount_minor": 150_000, "currency": "USD" })
    );
    let path = format!("/api/v2/projects/{}", created.id());

    // Private: other entrepreneurs and clients do not see it.
    app.assert_not_found(&path, &other).await;
    app.assert_not_found(&path, &client).await;
    app.get(&path, &owner).await.ok(StatusCode::OK);

    let updated = app
        .patch(
            &path,
            json!({ "is_public": true, "tagline": "Coffee, fairly" }),
            &owner,
            Some(1),
        )
        .await;
    assert_eq!(updated.ok(StatusCode::OK)["is_public"], true);
    assert_eq!(
        app.get(&path, &client).await.ok(StatusCode::OK)["tagline"],
        "Coffee, fairly"
    );
    app.patch(&path, json!({ "team_size": 3 }), &owner, Some(1))
        .await
        .refused(CONFLICT);
    app.patch(&path, json!({ "team_size": 0 }), &owner, None)
        .await
        .refused(INVALID);
    app.patch(&path, json!({ "team_size": 3 }), &client, None)
        .await
        .refused(FORBIDDEN);

    app.send(Method::DELETE, &path, None, Some(&owner), Some(1))
        .await
        .refused(CONFLICT);
    let deleted = app.send(Method::DELETE, &path, None, Some(&owner), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.raw);
    app.assert_not_found(&path, &owner).await;
}

#[tokio::test]
async fn lifecycle_and_stage_commands() {
    let app = App::new().await;
    let (_, owner) = app.user(Role::Entrepreneur, "owner").await;
    let (_, other) = app.user(Role::Entrepreneur, "other").await;
    let path = format!(
        "/api/v2/projects/{}",
        app.post("/api/v2/projects", project_body("Cafe"), &owner).await.id()
    );

    app.command_refused(&format!("{path}/pause"), &owner, INVALID_TRANSITION)
        .await;
    app.command_refused(&format!("{path}/activate"), &other, NOT_FOUND)
        .await;
    app.post(&format!("{path}/activate"), json!({ "version": 9 }), &owner)
        .await
        .refused(CONFLICT);
    let active = app.command(&format!("{path}/activate"), &owner).await;
    assert_eq!(active.ok(StatusCode::OK)["status"], "active");
    let paused = app
        .send(
            Method::POST,
            &format!("{path}/pause"),
            None,
            Some(&owner),
            Some(active.version()),
        )
        .await;
    assert_eq!(paused.ok(StatusCode::OK)["status"], "paused");
    app.transition(&format!("{path}/resume"), &owner, "active").await;

    let advance = format!("{path}/advance-stage");
    assert_eq!(app.post_invalid(&advance, json!({}), &owner).await, ["stage"]);
    app.post(&advance, json!({ "stage": "mature" }), &owner)
        .await
        .refused(INVALID_TRANSITION);
    let advanced = app.post(&advance, json!({ "stage": "concept" }), &owner).await;
    assert_eq!(advanced.ok(StatusCode::OK)["stage"], "concept");

    app.transition(&format!("{path}/complete"), &owner, "completed").await;
    app.command_refused(&format!("{path}/cancel"), &owner, INVALID_TRANSITION)
        .await;
}

#[tokio::test]
async fn project_lists_paginate_and_filter() {
    let app = App::new().await;
    let (owner, token) = app.user(Role::Entrepreneur, "owner").await;
    let (_, client) = app.user(Role::Client, "client").await;
    for n in 0..3 {
        let mut body = project_body(&format!("Project {n}"));
        body["is_public"] = json!(n == 0);
        app.post("/api/v2/projects", body, &token).await.ok(StatusCode::CREATED);
    }
    let first = app.get("/api/v2/projects?limit=2", &token).await;
    let body = first.ok(StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["items"][0]["name"], "Project 2");
    let cursor = body["next_cursor"].as_str().expect("next");
    let rest = app
        .get(&format!("/api/v2/projects?limit=2&cursor={cursor}"), &token)
        .await;
    assert_eq!(rest.ok(StatusCode::OK)["items"][0]["name"], "Project 0");

    // A client sees only public projects; filters by owner and stage.
    let public = app
        .get(&format!("/api/v2/projects?owner_id={}", owner.id()), &client)
        .await;
    let items = public.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "Project 0");
    let ideas = app.get("/api/v2/projects?stage=idea&status=draft", &token).await;
    assert_eq!(ideas.ok(StatusCode::OK)["items"].as_array().map(Vec::len), Some(3));
    let none = app.get("/api/v2/projects?stage=growth", &token).await;
    assert_eq!(none.ok(StatusCode::OK)["items"], json!([]));
    let bad = app
        .get("/api/v2/projects?stage=x&owner_id=y&is_public=maybe", &token)
        .await;
    bad.refused(INVALID);
}

#[tokio::test]
async fn milestones() {
    let app = App::new().await;
    let (owner_person, owner) = app.user(Role::Entrepreneur, "owner").await;
    let (_, other) = app.user(Role::Entrepreneur, "other").await;
    let project = app.post("/api/v2/projects", project_body("Cafe"), &owner).await.id();
    let list = format!("/api/v2/projects/{project}/milestones");
    let today = app.world.now().date_naive();
    let in_days = |d: i64| (today + chrono::Duration::days(d)).to_string();

    assert_eq!(
        app.post_invalid(&list, json!({ "priority": "soon" }), &owner).await,
        ["priority", "target_date", "title"]
    );
    app.post(&list, json!({ "title": "MVP", "target_date": in_days(-1) }), &owner)
        .await
        .refused(INVALID);
    app.post(&list, json!({ "title": "MVP", "target_date": in_days(5) }), &other)
        .await
        .refused(NOT_FOUND);

    let mut ids = Vec::new();
    for n in 0..3 {
        let created = app
            .post(
                &list,
                json!({ "title": format!("Step {n}"), "target_date": in_days(5 + n) }),
                &owner,
            )
            .await;
        let body = created.ok(StatusCode::CREATED);
        assert_eq!(body["status"], "pending");
        assert_eq!(body["priority"], "medium");
        ids.push(created.id());
    }
    let page = app.get(&format!("{list}?limit=2"), &owner).await;
    let cursor = page.ok(StatusCode::OK)["next_cursor"]
        .as_str()
        .expect("next")
        .to_owned();
    let rest = app.get(&format!("{list}?limit=2&cursor={cursor}"), &owner).await;
    assert_eq!(rest.ok(StatusCode::OK)["items"][0]["id"], ids[0].as_str());

    let one = format!("/api/v2/milestones/{}", ids[0]);
    app.assert_not_found(&one, &other).await;
    let edited = app.patch(&one, json!({ "priority": "high" }), &owner, Some(1)).await;
    assert_eq!(edited.ok(StatusCode::OK)["priority"], "high");
    app.patch(&one, json!({ "title": "Old" }), &owner, Some(1))
        .await
        .refused(CONFLICT);

    app.transition(&format!("{one}/start"), &owner, "in_progress").await;
    app.command_refused(&format!("{one}/start"), &owner, INVALID_TRANSITION)
        .await;
    app.post(&format!("{one}/progress"), json!({ "progress": 101 }), &owner)
        .await
        .refused(INVALID);
    app.post(&format!("{one}/progress"), json!({}), &owner)
        .await
        .refused(INVALID);
    let progressed = app
        .post(&format!("{one}/progress"), json!({ "progress": 40 }), &owner)
        .await;
    assert_eq!(progressed.ok(StatusCode::OK)["progress"], 40);
    let delayed = app
        .post(
            &format!("{one}/delay"),
            json!({ "target_date": in_days(30), "reason": "supplier" }),
            &owner,
        )
        .await;
    assert_eq!(delayed.ok(StatusCode::OK)["delay_reason"], "supplier");
    app.transition(&format!("{one}/complete"), &owner, "completed").await;
    app.transition(&format!("/api/v2/milestones/{}/cancel", ids[1]), &owner, "cancelled")
        .await;

    // Mine, by status, and overdue once time passes.
    let mine = app.get("/api/v2/milestones?status=pending", &owner).await;
    let items = mine.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[2].as_str());
    let overdue = app.get("/api/v2/milestones?overdue=true", &owner).await;
    assert_eq!(overdue.ok(StatusCode::OK)["items"], json!([]));
    app.get_refused("/api/v2/milestones?status=late", &owner, INVALID).await;
    app.world.advance(chrono::Duration::days(10));
    let (owner, other) = (app.token(&owner_person), app.user(Role::Entrepreneur, "later").await.1);
    let overdue = app.get("/api/v2/milestones?overdue=true", &owner).await;
    let items = overdue.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[2].as_str());
    let others = app.get("/api/v2/milestones", &other).await;
    assert_eq!(others.ok(StatusCode::OK)["items"], json!([]));
}
