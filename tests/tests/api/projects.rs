//! `/api/v2/projects` and `/api/v2/milestones`: create, read, list with filters, edit, delete,
//! lifecycle and stage commands, milestones and their commands.

use crate::common::App;
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
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let invalid = app
        .post(
            "/api/v2/projects",
            json!({ "description": "short", "priority": "urgent", "funding_target": { "amount_minor": -1, "currency": "XYZ" } }),
            &owner,
        )
        .await;
    invalid.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        invalid.fields(),
        ["description", "funding_target", "name", "priority", "project_type"]
    );
    app.post("/api/v2/projects", json!({ "name": 5 }), &owner)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

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
        .problem(StatusCode::CONFLICT, "conflict");
    app.patch(&path, json!({ "team_size": 0 }), &owner, None)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.patch(&path, json!({ "team_size": 3 }), &client, None)
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");

    app.send(Method::DELETE, &path, None, Some(&owner), Some(1))
        .await
        .problem(StatusCode::CONFLICT, "conflict");
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

    app.command(&format!("{path}/pause"), &owner)
        .await
        .problem(StatusCode::CONFLICT, "invalid_transition");
    app.command(&format!("{path}/activate"), &other)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    app.post(&format!("{path}/activate"), json!({ "version": 9 }), &owner)
        .await
        .problem(StatusCode::CONFLICT, "conflict");
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
    assert_eq!(
        app.command(&format!("{path}/resume"), &owner).await.ok(StatusCode::OK)["status"],
        "active"
    );

    let advance = format!("{path}/advance-stage");
    let missing = app.post(&advance, json!({}), &owner).await;
    missing.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(missing.fields(), ["stage"]);
    app.post(&advance, json!({ "stage": "mature" }), &owner)
        .await
        .problem(StatusCode::CONFLICT, "invalid_transition");
    let advanced = app.post(&advance, json!({ "stage": "concept" }), &owner).await;
    assert_eq!(advanced.ok(StatusCode::OK)["stage"], "concept");

    assert_eq!(
        app.command(&format!("{path}/complete"), &owner)
            .await
            .ok(StatusCode::OK)["status"],
        "completed"
    );
    app.command(&format!("{path}/cancel"), &owner)
        .await
        .problem(StatusCode::CONFLICT, "invalid_transition");
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
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
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

    let invalid = app.post(&list, json!({ "priority": "soon" }), &owner).await;
    invalid.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(invalid.fields(), ["priority", "target_date", "title"]);
    app.post(&list, json!({ "title": "MVP", "target_date": in_days(-1) }), &owner)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.post(&list, json!({ "title": "MVP", "target_date": in_days(5) }), &other)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

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
        .problem(StatusCode::CONFLICT, "conflict");

    let started = app.command(&format!("{one}/start"), &owner).await;
    assert_eq!(started.ok(StatusCode::OK)["status"], "in_progress");
    app.command(&format!("{one}/start"), &owner)
        .await
        .problem(StatusCode::CONFLICT, "invalid_transition");
    app.post(&format!("{one}/progress"), json!({ "progress": 101 }), &owner)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.post(&format!("{one}/progress"), json!({}), &owner)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
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
    let done = app.command(&format!("{one}/complete"), &owner).await;
    assert_eq!(done.ok(StatusCode::OK)["status"], "completed");
    let cancelled = app
        .command(&format!("/api/v2/milestones/{}/cancel", ids[1]), &owner)
        .await;
    assert_eq!(cancelled.ok(StatusCode::OK)["status"], "cancelled");

    // Mine, by status, and overdue once time passes.
    let mine = app.get("/api/v2/milestones?status=pending", &owner).await;
    let items = mine.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[2].as_str());
    let overdue = app.get("/api/v2/milestones?overdue=true", &owner).await;
    assert_eq!(overdue.ok(StatusCode::OK)["items"], json!([]));
    app.get("/api/v2/milestones?status=late", &owner)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.world.advance(chrono::Duration::days(10));
    let (owner, other) = (app.token(&owner_person), app.user(Role::Entrepreneur, "later").await.1);
    let overdue = app.get("/api/v2/milestones?overdue=true", &owner).await;
    let items = overdue.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[2].as_str());
    let others = app.get("/api/v2/milestones", &other).await;
    assert_eq!(others.ok(StatusCode::OK)["items"], json!([]));
}
