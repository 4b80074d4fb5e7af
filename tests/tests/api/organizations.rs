//! `/api/v2/organizations`: create, read, list, edit, members and the admin status commands.

use crate::common::{App, CONFLICT, FORBIDDEN, INVALID, INVALID_TRANSITION, NOT_FOUND, routes};
use axum::http::{Method, StatusCode};
use icosistem_core::model::Role;
use serde_json::json;

#[tokio::test]
async fn create_get_list_and_update() {
    let app = App::new().await;
    let (_, ally) = app.user(Role::Ally, "owner").await;
    let (_, entrepreneur) = app.user(Role::Entrepreneur, "e").await;

    // 401 without a token, 403 for a role that may not create, 422 listing every field.
    let anonymous = app.send(Method::GET, "/api/v2/organizations", None, None, None).await;
    anonymous.problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.post(
        "/api/v2/organizations",
        json!({ "name": "Hub", "organization_type": "incubator" }),
        &entrepreneur,
    )
    .await
    .refused(FORBIDDEN);
    assert_eq!(
        app.post_invalid("/api/v2/organizations", json!({ "email": "nope" }), &ally)
            .await,
        ["name", "organization_type"]
    );
    let invalid = app
        .post(
            "/api/v2/organizations",
            json!({ "name": "Hub", "organization_type": "pirate_ship" }),
            &ally,
        )
        .await;
    invalid.refused(INVALID);
    assert_eq!(invalid.fields(), ["organization_type"]);

    let created = app.organization(&ally, "Andes Hub").await;
    let id = created.id();
    assert_eq!(created.body["status"], "pending");
    assert_eq!(created.body["slug"], "andes-hub");
    assert_eq!(created.version(), 1);
    assert!(created.body["created_at"].is_string() && created.body["updated_at"].is_string());
    assert_eq!(created.headers["etag"], "\"1\"");

    let read = app.get(&format!("/api/v2/organizations/{id}"), &entrepreneur).await;
    assert_eq!(read.ok(StatusCode::OK)["name"], "Andes Hub");
    app.assert_not_found("/api/v2/organizations/not-a-uuid", &ally).await;
    app.assert_not_found(&format!("/api/v2/organizations/{}", uuid::Uuid::now_v7()), &ally)
        .await;

    // Edits: only owners (403), If-Match or body version (409 stale), 422 invalid fields.
    let path = format!("/api/v2/organizations/{id}");
    app.patch(&path, json!({ "description": "x" }), &entrepreneur, None)
        .await
        .refused(FORBIDDEN);
    let updated = app
        .patch(&path, json!({ "description": "Andean startups" }), &ally, Some(1))
        .await;
    assert_eq!(updated.ok(StatusCode::OK)["description"], "Andean startups");
    assert_eq!(updated.version(), 2);
    app.patch(&path, json!({ "name": "Stale" }), &ally, Some(1))
        .await
        .refused(CONFLICT);
    app.patch(&path, json!({ "name": "Stale", "version": 1 }), &ally, None)
        .await
        .refused(CONFLICT);
    let bad = app
        .patch(&path, json!({ "email": "nope", "website": "" }), &ally, None)
        .await;
    bad.refused(INVALID);
    assert!(bad.fields().contains(&"email".to_owned()), "{}", bad.raw);
    let cleared = app.patch(&path, json!({ "description": null }), &ally, None).await;
    assert!(cleared.ok(StatusCode::OK)["description"].is_null());
}

#[tokio::test]
async fn lists_paginate_and_filter() {
    let app = App::new().await;
    let (_, admin) = app.user(Role::Admin, "admin").await;
    let (_, ally) = app.user(Role::Ally, "owner").await;
    for n in 0..3 {
        app.organization(&ally, &format!("Hub {n}")).await;
    }
    let first = app.get("/api/v2/organizations?limit=2", &ally).await;
    let body = first.ok(StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["items"][0]["name"], "Hub 2", "newest first");
    let cursor = body["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(&format!("/api/v2/organizations?limit=2&cursor={cursor}"), &ally)
        .await;
    let body = second.ok(StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["items"][0]["name"], "Hub 0");
    assert!(body["next_cursor"].is_null());

    assert_eq!(
        app.get_invalid("/api/v2/organizations?limit=0&cursor=%%%&status=nope", &ally)
            .await,
        ["cursor", "limit", "status"]
    );
    app.get_refused("/api/v2/organizations?limit=many", &ally, INVALID)
        .await;

    // The status filter: one activated organization.
    let listed = app.get("/api/v2/organizations?limit=1", &ally).await;
    let id = listed.body["items"][0]["id"].as_str().expect("id").to_owned();
    app.command(&format!("/api/v2/organizations/{id}/activate"), &admin)
        .await
        .ok(StatusCode::OK);
    let active = app.get("/api/v2/organizations?status=active", &ally).await;
    let items = active.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
}

#[tokio::test]
async fn members_are_added_listed_and_removed() {
    let app = App::new().await;
    let (owner, ally) = app.user(Role::Ally, "owner").await;
    let (reviewer, reviewer_token) = app.user(Role::Ally, "reviewer").await;
    let org = app.organization(&ally, "Hub").await.id();
    let members = format!("/api/v2/organizations/{org}/members");

    assert_eq!(
        app.post_invalid(&members, json!({ "role": "boss" }), &ally).await,
        ["role", "user_id"]
    );
    app.post(
        &members,
        json!({ "user_id": owner.id().to_string(), "role": "reviewer" }),
        &reviewer_token,
    )
    .await
    .refused(FORBIDDEN);

    let added = app
        .post(
            &members,
            json!({ "user_id": reviewer.id().to_string(), "role": "reviewer" }),
            &ally,
        )
        .await;
    let body = added.ok(StatusCode::CREATED);
    assert_eq!(body["role"], "reviewer");
    assert_eq!(body["user_id"], reviewer.id().to_string());
    app.post(
        &members,
        json!({ "user_id": reviewer.id().to_string(), "role": "coordinator" }),
        &ally,
    )
    .await
    .refused(CONFLICT);

    let page = app.get(&format!("{members}?limit=1"), &reviewer_token).await;
    let body = page.ok(StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    let cursor = body["next_cursor"].as_str().expect("two members");
    let next = app.get(&format!("{members}?limit=1&cursor={cursor}"), &ally).await;
    assert_eq!(next.ok(StatusCode::OK)["items"].as_array().map(Vec::len), Some(1));

    let remove = format!("{members}/{}", reviewer.id());
    let removed = app.send(Method::DELETE, &remove, None, Some(&ally), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.raw);
    app.send(Method::DELETE, &remove, None, Some(&ally), None)
        .await
        .refused(NOT_FOUND);
    // The last owner stays.
    app.send(
        Method::DELETE,
        &format!("{members}/{}", owner.id()),
        None,
        Some(&ally),
        None,
    )
    .await
    .refused(INVALID);
}

#[tokio::test]
async fn only_admins_activate_and_suspend() {
    let app = App::new().await;
    let (_, admin) = app.user(Role::Admin, "admin").await;
    let (_, ally) = app.user(Role::Ally, "owner").await;
    let org = app.organization(&ally, "Hub").await.id();
    let activate = format!("/api/v2/organizations/{org}/activate");
    let suspend = format!("/api/v2/organizations/{org}/suspend");

    app.command_refused(&activate, &ally, FORBIDDEN).await;
    app.assert_unauthorized(Method::POST, &activate, None).await;
    app.send(Method::POST, &activate, None, Some(&admin), Some(7))
        .await
        .refused(CONFLICT);
    let active = app.command(&activate, &admin).await;
    assert_eq!(active.ok(StatusCode::OK)["status"], "active");
    app.command_refused(&activate, &admin, INVALID_TRANSITION).await;
    let suspended = app.post(&suspend, json!({ "version": active.version() }), &admin).await;
    assert_eq!(suspended.ok(StatusCode::OK)["status"], "suspended");
}

#[tokio::test]
async fn the_openapi_document_lists_the_ecosystem_paths() {
    let app = App::new().await;
    let reply = app.send(Method::GET, "/api-docs/openapi.json", None, None, None).await;
    let paths = &reply.ok(StatusCode::OK)["paths"];
    let expected = routes(
        &[
            ("/api/v2/organizations", &["get", "post"]),
            ("/api/v2/organizations/{id}", &["get", "patch"]),
            ("/api/v2/organizations/{id}/members", &["get", "post"]),
            ("/api/v2/organizations/{id}/members/{user_id}", &["delete"]),
            ("/api/v2/programs", &["get", "post"]),
            ("/api/v2/programs/{id}", &["get", "patch"]),
            ("/api/v2/programs/{id}/enrollments", &["get"]),
            ("/api/v2/projects", &["get", "post"]),
            ("/api/v2/projects/{id}", &["get", "patch", "delete"]),
            ("/api/v2/projects/{id}/milestones", &["get", "post"]),
            ("/api/v2/milestones", &["get"]),
            ("/api/v2/milestones/{id}", &["get", "patch"]),
            ("/api/v2/applications", &["get", "post"]),
            ("/api/v2/applications/{id}", &["get", "patch"]),
            ("/api/v2/applications/{id}/reviews", &["get", "post"]),
        ],
        &[
            ("/api/v2/organizations/{id}", &["activate", "suspend"]),
            ("/api/v2/programs/{id}", &["publish", "start", "complete", "cancel"]),
            (
                "/api/v2/projects/{id}",
                &["advance-stage", "activate", "pause", "resume", "complete", "cancel"],
            ),
            (
                "/api/v2/milestones/{id}",
                &["start", "progress", "complete", "delay", "cancel"],
            ),
            (
                "/api/v2/applications/{id}",
                &[
                    "submit",
                    "withdraw",
                    "accept",
                    "reject",
                    "waitlist",
                    "promote",
                    "reviewers",
                ],
            ),
        ],
    );
    for (path, methods) in expected {
        for method in methods {
            assert!(paths[&path][method].is_object(), "{method} {path} is not documented");
        }
    }
    let schemas = &reply.body["components"]["schemas"];
    for schema in [
        "OrganizationDto",
        "ProgramDto",
        "ProjectDto",
        "MilestoneDto",
        "ApplicationDto",
        "ReviewDto",
        "MoneyDto",
    ] {
        assert!(schemas[schema].is_object(), "{schema} is missing");
    }
}

#[tokio::test]
async fn list_schemas_resolve() {
    let app = App::new().await;
    let reply = app.send(Method::GET, "/api-docs/openapi.json", None, None, None).await;
    let doc = &reply.body;
    let schema =
        &doc["paths"]["/api/v2/organizations"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    let text = schema.to_string();
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(target["properties"]["items"].is_object(), "{name}: {target}");
    } else {
        assert!(schema["properties"]["items"].is_object(), "{text}");
    }
}
