//! `/api/v2/tasks`: create, read, list with filters, edit, lifecycle commands, dependencies.

use axum::http::{Method, StatusCode};
use icosistem_core::model::Role;
use serde_json::{Value, json};

use crate::common::{App, CONFLICT, FORBIDDEN, INVALID, INVALID_TRANSITION, NOT_FOUND, count};

async fn task(app: &App, token: &str, body: Value) -> String {
    let created = app.post("/api/v2/tasks", body, token).await;
    created.ok(StatusCode::CREATED);
    created.id()
}

#[tokio::test]
async fn create_read_update_and_commands() {
    let app = App::new().await;
    let (owner_person, owner) = app.user(Role::Entrepreneur, "owner").await;
    let (worker_person, worker) = app.user(Role::Ally, "worker").await;
    let (_, outsider) = app.user(Role::Client, "outsider").await;

    app.assert_unauthorized(
        Method::POST,
        "/api/v2/tasks",
        Some(json!({ "title": "Write the pitch" })),
    )
    .await;
    let invalid = app
        .post(
            "/api/v2/tasks",
            json!({ "title": "x", "priority": "urgent", "assignee_id": "nobody", "due_date": "2000-01-01" }),
            &owner,
        )
        .await;
    invalid.refused(INVALID);
    assert_eq!(invalid.fields(), ["assignee_id", "due_date", "priority", "title"]);
    assert_eq!(app.post_invalid("/api/v2/tasks", json!({}), &owner).await, ["title"]);
    // Well-formed ids of nothing: the core names them.
    assert_eq!(app.post_invalid("/api/v2/tasks",
            json!({ "title": "Ghost work", "assignee_id": uuid::Uuid::new_v4().to_string(), "parent_id": uuid::Uuid::new_v4().to_string() }),
            &owner).await, ["assignee_id", "parent_id"]);

    let created = app
        .post(
            "/api/v2/tasks",
            json!({ "title": "Write the pitch", "assignee_id": worker_person.id().to_string(), "priority": "high" }),
            &owner,
        )
        .await;
    let body = created.ok(StatusCode::CREATED);
    assert_eq!(body["status"], "todo");
    assert_eq!(body["priority"], "high");
    assert_eq!(body["progress"], 0);
    assert_eq!(body["version"], 1);
    assert_eq!(body["owner_id"], owner_person.id().to_string());
    assert_eq!(body["assignee_id"], worker_person.id().to_string());
    assert_eq!(created.headers["etag"], "\"1\"");
    let id = created.id();
    let path = format!("/api/v2/tasks/{id}");

    // Owner and assignee see it; for anyone else it does not exist.
    assert_eq!(
        app.get(&path, &owner).await.ok(StatusCode::OK)["title"],
        "Write the pitch"
    );
    assert_eq!(app.get(&path, &worker).await.ok(StatusCode::OK)["id"], id.as_str());
    app.assert_not_found(&path, &outsider).await;
    app.assert_not_found(&format!("/api/v2/tasks/{}", uuid::Uuid::new_v4()), &owner)
        .await;
    app.assert_not_found("/api/v2/tasks/not-a-uuid", &owner).await;
    app.assert_unauthorized(Method::GET, &path, None).await;

    // Editing is the owner's; the assignee works through commands.
    let updated = app
        .patch(
            &path,
            json!({ "title": "Write the investor pitch", "description": "Ten slides" }),
            &owner,
            Some(1),
        )
        .await;
    assert_eq!(updated.ok(StatusCode::OK)["title"], "Write the investor pitch");
    assert_eq!(updated.body["version"], 2);
    app.patch(&path, json!({ "title": "Lost update" }), &owner, Some(1))
        .await
        .refused(CONFLICT);
    app.patch(&path, json!({ "title": "Mine now" }), &worker, None)
        .await
        .refused(FORBIDDEN);
    app.patch(&path, json!({ "title": "Mine now" }), &outsider, None)
        .await
        .refused(NOT_FOUND);
    let bad = app
        .patch(
            &path,
            json!({ "title": "x", "priority": "whenever", "assignee_id": "someone" }),
            &owner,
            None,
        )
        .await;
    bad.refused(INVALID);
    assert_eq!(bad.fields(), ["assignee_id", "priority", "title"]);
    let short = app.patch(&path, json!({ "title": "x" }), &owner, None).await;
    short.refused(INVALID);
    assert_eq!(short.fields(), ["title"]);

    // Commands: invalid transition, stale version, invisible, then the whole life.
    app.command_refused(&format!("{path}/complete"), &worker, INVALID_TRANSITION)
        .await;
    app.command_refused(&format!("{path}/unblock"), &worker, INVALID_TRANSITION)
        .await;
    app.post(&format!("{path}/start"), json!({ "version": 1 }), &worker)
        .await
        .refused(CONFLICT);
    app.command_refused(&format!("{path}/start"), &outsider, NOT_FOUND)
        .await;
    app.command(&format!("{path}/start"), "not-a-token")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let started = app
        .send(Method::POST, &format!("{path}/start"), None, Some(&worker), Some(2))
        .await;
    assert_eq!(started.ok(StatusCode::OK)["status"], "in_progress");
    app.transition(&format!("{path}/block"), &worker, "blocked").await;
    app.command_refused(&format!("{path}/block"), &worker, INVALID_TRANSITION)
        .await;
    app.transition(&format!("{path}/unblock"), &owner, "in_progress").await;
    let completed = app.command(&format!("{path}/complete"), &worker).await;
    let body = completed.ok(StatusCode::OK);
    assert_eq!(body["status"], "completed");
    assert_eq!(body["progress"], 100);
    assert!(body["completed_at"].is_string());
    // The assignee completed it: the owner learns of it in their inbox.
    let inbox = app.get("/api/v2/notifications?status=unread", &owner).await;
    let body = inbox.ok(StatusCode::OK);
    assert_eq!(count(body), 1);
    assert_eq!(body["items"][0]["kind"], "task_completed");
    assert_eq!(body["items"][0]["data"]["task_id"], id.as_str());
    app.command_refused(&format!("{path}/cancel"), &owner, INVALID_TRANSITION)
        .await;
    app.patch(&path, json!({ "title": "Too late now" }), &owner, None)
        .await
        .refused(INVALID_TRANSITION);

    let other = task(&app, &owner, json!({ "title": "Maybe later" })).await;
    app.transition(&format!("/api/v2/tasks/{other}/cancel"), &owner, "cancelled")
        .await;
}

#[tokio::test]
async fn lists_are_mine_paginate_and_filter() {
    let app = App::new().await;
    let (_, owner) = app.user(Role::Entrepreneur, "owner").await;
    let (worker_person, worker) = app.user(Role::Ally, "worker").await;
    let (_, outsider) = app.user(Role::Client, "outsider").await;
    let parent = task(&app, &owner, json!({ "title": "Launch" })).await;
    let sub = task(&app, &owner, json!({ "title": "Landing page", "parent_id": parent })).await;
    let assigned = task(
        &app,
        &owner,
        json!({ "title": "Legal review", "assignee_id": worker_person.id().to_string() }),
    )
    .await;
    app.command(&format!("/api/v2/tasks/{sub}/start"), &owner)
        .await
        .ok(StatusCode::OK);

    let first = app.get("/api/v2/tasks?limit=2", &owner).await;
    let body = first.ok(StatusCode::OK);
    assert_eq!(count(body), 2);
    assert_eq!(body["items"][0]["id"], assigned.as_str(), "newest first");
    let cursor = body["next_cursor"].as_str().expect("a second page");
    let rest = app.get(&format!("/api/v2/tasks?limit=2&cursor={cursor}"), &owner).await;
    let body = rest.ok(StatusCode::OK);
    assert_eq!(count(body), 1);
    assert!(body["next_cursor"].is_null());

    let started = app.get("/api/v2/tasks?status=in_progress", &owner).await;
    assert_eq!(started.ok(StatusCode::OK)["items"][0]["id"], sub.as_str());
    assert_eq!(count(&started.body), 1);
    let subtasks = app.get(&format!("/api/v2/tasks?parent_id={parent}"), &owner).await;
    assert_eq!(count(subtasks.ok(StatusCode::OK)), 1);
    // The parent's progress rolls up from its subtasks.
    let parent_now = app.get(&format!("/api/v2/tasks/{parent}"), &owner).await;
    assert_eq!(parent_now.ok(StatusCode::OK)["progress"], 0);

    // The assignee lists what they are assigned; others list nothing of it.
    let mine = app.get("/api/v2/tasks", &worker).await;
    let body = mine.ok(StatusCode::OK);
    assert_eq!(count(body), 1);
    assert_eq!(body["items"][0]["id"], assigned.as_str());
    assert_eq!(count(app.get("/api/v2/tasks", &outsider).await.ok(StatusCode::OK)), 0);

    assert_eq!(
        app.get_invalid("/api/v2/tasks?status=someday&project_id=x&limit=500", &owner)
            .await,
        ["limit", "project_id", "status"]
    );
    app.assert_unauthorized(Method::GET, "/api/v2/tasks", None).await;
}

#[tokio::test]
async fn dependencies_refuse_cycles_and_hold_completion() {
    let app = App::new().await;
    let (worker_person, worker) = app.user(Role::Ally, "worker").await;
    let (_, owner) = app.user(Role::Entrepreneur, "owner").await;
    let (_, outsider) = app.user(Role::Entrepreneur, "outsider").await;
    let a = task(
        &app,
        &owner,
        json!({ "title": "Ship it", "assignee_id": worker_person.id().to_string() }),
    )
    .await;
    let b = task(&app, &owner, json!({ "title": "Test it" })).await;
    let c = task(&app, &owner, json!({ "title": "Plan it" })).await;
    let foreign = task(&app, &outsider, json!({ "title": "Not yours" })).await;
    let deps = |id: &str| format!("/api/v2/tasks/{id}/dependencies");

    app.assert_unauthorized(Method::POST, &deps(&a), Some(json!({ "depends_on": b })))
        .await;
    let added = app.post(&deps(&a), json!({ "depends_on": b }), &owner).await;
    let body = added.ok(StatusCode::CREATED);
    assert_eq!(body["task_id"], a.as_str());
    assert_eq!(body["depends_on"], b.as_str());
    assert_eq!(body["version"], 1);
    app.post(&deps(&b), json!({ "depends_on": c }), &owner)
        .await
        .ok(StatusCode::CREATED);

    app.post(&deps(&a), json!({ "depends_on": b }), &owner)
        .await
        .refused(CONFLICT);
    for (task, on) in [(&c, &a), (&a, &a)] {
        let cycle = app.post(&deps(task), json!({ "depends_on": on }), &owner).await;
        cycle.refused(INVALID);
        assert_eq!(cycle.fields(), ["depends_on"]);
        assert_eq!(cycle.body["errors"][0]["message"], "would create a cycle");
    }
    for body in [
        json!({}),
        json!({ "depends_on": "b" }),
        json!({ "depends_on": foreign }),
    ] {
        assert_eq!(app.post_invalid(&deps(&a), body, &owner).await, ["depends_on"]);
    }
    app.post(&deps(&a), json!({ "depends_on": c }), &worker)
        .await
        .refused(FORBIDDEN);
    app.post(&deps(&a), json!({ "depends_on": c }), &outsider)
        .await
        .refused(NOT_FOUND);

    let listed = app.get(&deps(&a), &worker).await;
    let body = listed.ok(StatusCode::OK);
    assert_eq!(count(body), 1);
    assert_eq!(body["items"][0]["depends_on"], b.as_str());
    assert!(body["next_cursor"].is_null());
    app.assert_not_found(&deps(&a), &outsider).await;

    // A task waits for its dependencies: one `depends_on` entry per unfinished one.
    app.command(&format!("/api/v2/tasks/{a}/start"), &worker)
        .await
        .ok(StatusCode::OK);
    let held = app.command(&format!("/api/v2/tasks/{a}/complete"), &worker).await;
    held.refused(INVALID);
    assert_eq!(held.fields(), ["depends_on"]);

    let edge = format!("/api/v2/tasks/{a}/dependencies/{b}");
    app.send(Method::DELETE, &edge, None, Some(&worker), None)
        .await
        .refused(FORBIDDEN);
    app.send(Method::DELETE, &edge, None, Some(&outsider), None)
        .await
        .refused(NOT_FOUND);
    app.assert_unauthorized(Method::DELETE, &edge, None).await;
    let removed = app.send(Method::DELETE, &edge, None, Some(&owner), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.raw);
    app.send(Method::DELETE, &edge, None, Some(&owner), None)
        .await
        .refused(NOT_FOUND);
    assert_eq!(count(app.get(&deps(&a), &owner).await.ok(StatusCode::OK)), 0);
    app.transition(&format!("/api/v2/tasks/{a}/complete"), &worker, "completed")
        .await;
    app.post(&deps(&a), json!({ "depends_on": c }), &owner)
        .await
        .refused(INVALID_TRANSITION);
}

#[tokio::test]
async fn openapi_documents_the_work_and_admin_paths() {
    let app = App::new().await;
    let doc = app.send(Method::GET, "/api-docs/openapi.json", None, None, None).await;
    let body = doc.ok(StatusCode::OK);
    let paths = body["paths"].as_object().expect("paths");
    for (path, method, statuses) in [
        ("/api/v2/tasks", "get", &["200", "401", "422"][..]),
        ("/api/v2/tasks", "post", &["201", "401", "403", "404", "409", "422"]),
        ("/api/v2/tasks/{id}", "get", &["200", "401", "404"]),
        (
            "/api/v2/tasks/{id}",
            "patch",
            &["200", "401", "403", "404", "409", "422"],
        ),
        ("/api/v2/tasks/{id}/start", "post", &["200", "401", "404", "409"]),
        ("/api/v2/tasks/{id}/block", "post", &["200", "409"]),
        ("/api/v2/tasks/{id}/unblock", "post", &["200", "409"]),
        ("/api/v2/tasks/{id}/complete", "post", &["200", "409", "422"]),
        ("/api/v2/tasks/{id}/cancel", "post", &["200", "409"]),
        ("/api/v2/tasks/{id}/dependencies", "get", &["200", "401", "404"]),
        (
            "/api/v2/tasks/{id}/dependencies",
            "post",
            &["201", "401", "403", "404", "409", "422"],
        ),
        (
            "/api/v2/tasks/{id}/dependencies/{depends_on}",
            "delete",
            &["204", "401", "403", "404"],
        ),
        ("/api/v2/notifications", "get", &["200", "401", "422"]),
        ("/api/v2/notifications/read-all", "post", &["200", "401"]),
        ("/api/v2/notifications/{id}/read", "post", &["200", "401", "404", "409"]),
        (
            "/api/v2/notifications/{id}/archive",
            "post",
            &["200", "401", "404", "409"],
        ),
        ("/api/v2/audit-events", "get", &["200", "401", "403", "422"]),
        ("/api/v2/enrollments/{id}", "get", &["200", "401", "404"]),
        (
            "/api/v2/enrollments/{id}/drop-out",
            "post",
            &["200", "401", "403", "404", "409", "422"],
        ),
        ("/api/v2/users/me/profile", "get", &["200", "401", "404"]),
        ("/api/v2/users/me/profile", "put", &["200", "401", "409", "422"]),
        ("/api/v2/admin/users", "get", &["200", "401", "403", "422"]),
        ("/api/v2/admin/users", "post", &["201", "401", "403", "409", "422"]),
        ("/api/v2/admin/users/{id}", "get", &["200", "401", "403", "404"]),
        (
            "/api/v2/admin/users/{id}",
            "patch",
            &["200", "401", "403", "404", "409", "422"],
        ),
        ("/api/v2/admin/users/{id}/unlock", "post", &["200", "401", "403", "404"]),
    ] {
        let operation = &paths.get(path).unwrap_or_else(|| panic!("{path} is not documented"))[method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        for status in statuses {
            assert!(
                operation["responses"][status].is_object(),
                "{method} {path} does not document {status}"
            );
        }
    }
    let schemas = &body["components"]["schemas"];
    for schema in [
        "TaskDto",
        "DependencyDto",
        "NotificationDto",
        "ReadAllDto",
        "AuditEventDto",
        "ProfileDto",
        "UpdateProfileRequest",
        "AdminCreateUserRequest",
        "AdminUpdateUserRequest",
        "DropOutRequest",
    ] {
        assert!(schemas[schema].is_object(), "{schema} is not in the document");
    }
    // A user object in the document has no secret either.
    let user = &schemas["UserDto"]["properties"];
    assert!(user.get("password_hash").is_none() && user.get("locked_until").is_none());
}
