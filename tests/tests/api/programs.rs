//! `/api/v2/programs`: create, read, list with filters, edit, lifecycle commands, enrollments.

use crate::common::{App, CONFLICT, FORBIDDEN, INVALID, INVALID_TRANSITION, NOT_FOUND};
use axum::http::{Method, StatusCode};
use icosistem_core::model::Role;
use serde_json::json;

#[tokio::test]
async fn create_read_update_and_commands() {
    let app = App::new().await;
    let (_, owner) = app.user(Role::Ally, "owner").await;
    let (_, outsider) = app.user(Role::Ally, "outsider").await;
    let (_, entrepreneur) = app.user(Role::Entrepreneur, "e").await;
    let org = app.organization(&owner, "Hub").await.id();

    app.assert_unauthorized(Method::POST, "/api/v2/programs", Some(json!({})))
        .await;
    let invalid = app
        .post("/api/v2/programs", json!({ "format": "holographic" }), &owner)
        .await;
    invalid.refused(INVALID);
    assert_eq!(
        invalid.fields(),
        [
            "application_deadline",
            "application_opens_at",
            "end_date",
            "format",
            "max_participants",
            "name",
            "organization_id",
            "program_type",
            "start_date",
        ]
    );
    let mut backwards = app.program_body(&org, "Backwards", 5);
    backwards["end_date"] = json!("2000-01-01");
    app.post("/api/v2/programs", backwards, &owner).await.refused(INVALID);
    app.post("/api/v2/programs", app.program_body(&org, "Not mine", 5), &outsider)
        .await
        .refused(FORBIDDEN);

    let created = app
        .post("/api/v2/programs", app.program_body(&org, "Cohort 1", 5), &owner)
        .await;
    let body = created.ok(StatusCode::CREATED);
    assert_eq!(body["status"], "draft");
    assert_eq!(body["min_participants"], 1);
    assert_eq!(body["min_reviews"], 1);
    assert_eq!(body["blind_review"], false);
    assert_eq!(body["version"], 1);
    let id = created.id();
    let path = format!("/api/v2/programs/{id}");

    // A draft is invisible outside its organization.
    app.assert_not_found(&path, &entrepreneur).await;
    assert_eq!(app.get(&path, &owner).await.ok(StatusCode::OK)["name"], "Cohort 1");

    let updated = app
        .patch(
            &path,
            json!({ "max_participants": 8, "blind_review": true }),
            &owner,
            Some(1),
        )
        .await;
    assert_eq!(updated.ok(StatusCode::OK)["max_participants"], 8);
    app.patch(&path, json!({ "max_participants": 9 }), &owner, Some(1))
        .await
        .refused(CONFLICT);
    app.patch(&path, json!({ "max_participants": 0 }), &owner, None)
        .await
        .refused(INVALID);

    // Commands: stale version, invalid transition, role, then publish.
    app.command_refused(&format!("{path}/start"), &owner, INVALID_TRANSITION)
        .await;
    app.post(&format!("{path}/publish"), json!({ "version": 1 }), &owner)
        .await
        .refused(CONFLICT);
    app.command_refused(&format!("{path}/publish"), &entrepreneur, NOT_FOUND)
        .await;
    let published = app
        .send(
            Method::POST,
            &format!("{path}/publish"),
            None,
            Some(&owner),
            Some(updated.version()),
        )
        .await;
    assert_eq!(published.ok(StatusCode::OK)["status"], "published");
    assert_eq!(
        app.get(&path, &entrepreneur).await.ok(StatusCode::OK)["status"],
        "published"
    );
    app.command_refused(&format!("{path}/publish"), &owner, INVALID_TRANSITION)
        .await;
    app.command_refused(&format!("{path}/complete"), &owner, INVALID_TRANSITION)
        .await;
    app.transition(&format!("{path}/cancel"), &owner, "cancelled").await;
}

#[tokio::test]
async fn lists_paginate_and_filter() {
    let app = App::new().await;
    let (_, owner) = app.user(Role::Ally, "owner").await;
    let (_, entrepreneur) = app.user(Role::Entrepreneur, "e").await;
    let org = app.organization(&owner, "Hub").await.id();
    let mut ids = Vec::new();
    for n in 0..3 {
        let created = app
            .post(
                "/api/v2/programs",
                app.program_body(&org, &format!("Cohort {n}"), 5),
                &owner,
            )
            .await;
        ids.push(created.id());
    }
    app.command(&format!("/api/v2/programs/{}/publish", ids[0]), &owner)
        .await
        .ok(StatusCode::OK);

    // Outsiders see published programs only; members of the named organization see drafts.
    let seen = app.get("/api/v2/programs", &entrepreneur).await;
    assert_eq!(seen.ok(StatusCode::OK)["items"].as_array().map(Vec::len), Some(1));
    let staff = app
        .get(&format!("/api/v2/programs?organization_id={org}&limit=2"), &owner)
        .await;
    let body = staff.ok(StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    let cursor = body["next_cursor"].as_str().expect("a next page");
    let rest = app
        .get(
            &format!("/api/v2/programs?organization_id={org}&limit=2&cursor={cursor}"),
            &owner,
        )
        .await;
    let body = rest.ok(StatusCode::OK);
    assert_eq!(body["items"][0]["id"], ids[0].as_str());
    assert!(body["next_cursor"].is_null());

    let drafts = app
        .get(&format!("/api/v2/programs?organization_id={org}&status=draft"), &owner)
        .await;
    assert_eq!(drafts.ok(StatusCode::OK)["items"].as_array().map(Vec::len), Some(2));
    let accepting = app.get("/api/v2/programs?accepting=true", &entrepreneur).await;
    let items = accepting.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[0].as_str());

    assert_eq!(
        app.get_invalid("/api/v2/programs?organization_id=x&status=open&limit=101", &owner)
            .await,
        ["limit", "organization_id", "status"]
    );
}

#[tokio::test]
async fn enrollments_are_for_staff() {
    let app = App::new().await;
    let (_, owner) = app.user(Role::Ally, "owner").await;
    let (_, entrepreneur) = app.user(Role::Entrepreneur, "e").await;
    let org = app.organization(&owner, "Hub").await.id();
    let id = app
        .post("/api/v2/programs", app.program_body(&org, "Cohort", 5), &owner)
        .await
        .id();
    app.publish(&owner, &id).await;
    let path = format!("/api/v2/programs/{id}/enrollments");
    let page = app.get(&path, &owner).await;
    let body = page.ok(StatusCode::OK);
    assert_eq!(body["items"], json!([]));
    assert!(body["next_cursor"].is_null());
    let status = app.get(&format!("{path}?status=active"), &owner).await;
    status.ok(StatusCode::OK);
    app.get_refused(&format!("{path}?status=nope"), &owner, INVALID).await;
    let denied = app.get(&path, &entrepreneur).await;
    assert!(
        matches!(denied.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        denied.raw
    );
    app.assert_unauthorized(Method::GET, &path, None).await;
}
