//! `/api/v2/notifications` and `/api/v2/audit-events`: notifications produced by earlier
//! commands, their read state; the audit log of earlier commands, filtered, and who may read it.

use axum::http::{Method, StatusCode};
use chrono::{Duration, SecondsFormat};
use icosistem_core::model::Role;
use serde_json::{Value, json};

use crate::common::{App, FORBIDDEN, INVALID_TRANSITION, NOT_FOUND, count};

#[tokio::test]
async fn commands_notify_and_notifications_are_read_archived_and_private() {
    let app = App::new().await;
    let (_, owner) = app.user(Role::Entrepreneur, "owner").await;
    let (worker_person, worker) = app.user(Role::Ally, "worker").await;

    // An earlier request assigns a task: its assignee has an unread notification about it.
    let created = app
        .post(
            "/api/v2/tasks",
            json!({ "title": "Review the deck", "assignee_id": worker_person.id().to_string() }),
            &owner,
        )
        .await;
    let task = created.ok(StatusCode::CREATED)["id"].clone();
    let unread = app.get("/api/v2/notifications?status=unread", &worker).await;
    let body = unread.ok(StatusCode::OK);
    assert_eq!(count(body), 1);
    let n = &body["items"][0];
    assert_eq!(n["kind"], "task_assigned");
    assert_eq!(n["status"], "unread");
    assert_eq!(n["data"]["task_id"], task);
    assert_eq!(n["user_id"], worker_person.id().to_string());
    assert!(n["read_at"].is_null());
    let id = n["id"].as_str().expect("id").to_owned();
    assert_eq!(
        count(app.get("/api/v2/notifications", &owner).await.ok(StatusCode::OK)),
        0,
        "the actor is not notified of their own command"
    );

    // Someone else's notification does not exist for the caller.
    for command in ["read", "archive"] {
        app.command_refused(&format!("/api/v2/notifications/{id}/{command}"), &owner, NOT_FOUND)
            .await;
        app.assert_unauthorized(Method::POST, &format!("/api/v2/notifications/{id}/{command}"), None)
            .await;
    }
    app.command_refused("/api/v2/notifications/not-a-uuid/read", &worker, NOT_FOUND)
        .await;

    let read = app.command(&format!("/api/v2/notifications/{id}/read"), &worker).await;
    let body = read.ok(StatusCode::OK);
    assert_eq!(body["status"], "read");
    assert!(body["read_at"].is_string());
    app.command_refused(&format!("/api/v2/notifications/{id}/read"), &worker, INVALID_TRANSITION)
        .await;
    let archived = app
        .command(&format!("/api/v2/notifications/{id}/archive"), &worker)
        .await;
    assert_eq!(archived.ok(StatusCode::OK)["status"], "archived");
    app.command_refused(
        &format!("/api/v2/notifications/{id}/archive"),
        &worker,
        INVALID_TRANSITION,
    )
    .await;

    // Two more assignments, then read-all answers how many it changed.
    for title in ["Call the bank", "Book the venue"] {
        app.post(
            "/api/v2/tasks",
            json!({ "title": title, "assignee_id": worker_person.id().to_string() }),
            &owner,
        )
        .await
        .ok(StatusCode::CREATED);
    }
    let page = app.get("/api/v2/notifications?status=unread&limit=1", &worker).await;
    let body = page.ok(StatusCode::OK);
    assert_eq!(count(body), 1);
    assert!(body["next_cursor"].is_string());
    let all = app.command("/api/v2/notifications/read-all", &worker).await;
    assert_eq!(all.ok(StatusCode::OK), &json!({ "updated": 2 }));
    let again = app.command("/api/v2/notifications/read-all", &worker).await;
    assert_eq!(again.ok(StatusCode::OK), &json!({ "updated": 0 }));
    app.assert_unauthorized(Method::POST, "/api/v2/notifications/read-all", None)
        .await;
    for (status, expected) in [("unread", 0), ("read", 2), ("archived", 1)] {
        let listed = app
            .get(&format!("/api/v2/notifications?status={status}"), &worker)
            .await;
        assert_eq!(count(listed.ok(StatusCode::OK)), expected, "{status}");
    }
    assert_eq!(
        count(app.get("/api/v2/notifications", &worker).await.ok(StatusCode::OK)),
        3
    );
    assert_eq!(
        app.get_invalid("/api/v2/notifications?status=seen&limit=0", &worker)
            .await,
        ["limit", "status"]
    );
    app.assert_unauthorized(Method::GET, "/api/v2/notifications", None)
        .await;
}

/// The `action` of each audit event in a list answer's body, in order.
fn actions(body: &Value) -> Vec<&str> {
    let items = body["items"].as_array().map(Vec::as_slice).unwrap_or_default();
    items.iter().map(|e| e["action"].as_str().unwrap_or_default()).collect()
}

#[tokio::test]
async fn audit_events_of_earlier_commands_filtered_for_whoever_may_read_them() {
    let app = App::new().await;
    let (owner_person, owner) = app.user(Role::Entrepreneur, "owner").await;
    let (other_person, _) = app.user(Role::Client, "other").await;
    let (ally_person, ally) = app.user(Role::Ally, "ally").await;
    let org = app.organization(&ally, "Hub").await.id();

    let start = app.world.now();
    let created = app.post("/api/v2/tasks", json!({ "title": "Audit me" }), &owner).await;
    let task = created.ok(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    app.world.advance(Duration::hours(2));
    // Access tokens live 15 minutes: new ones at the new time.
    let admin = app.token(&app.world.admin);
    let owner = app.token(&owner_person);
    let other = app.token(&other_person);
    let ally = app.token(&ally_person);
    app.command(&format!("/api/v2/tasks/{task}/start"), &owner)
        .await
        .ok(StatusCode::OK);
    let between = (start + Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);

    let events = app.get(&format!("/api/v2/audit-events?target_id={task}"), &admin).await;
    let body = events.ok(StatusCode::OK);
    assert_eq!(count(body), 2);
    assert_eq!(body["items"][0]["action"], "task.start", "newest first");
    assert_eq!(body["items"][1]["action"], "task.create");
    assert_eq!(body["items"][0]["actor_id"], owner_person.id().to_string());
    assert_eq!(body["items"][0]["target_kind"], "task");
    assert_eq!(body["items"][0]["before"]["status"], "todo");
    assert_eq!(body["items"][0]["after"]["status"], "in_progress");
    assert!(body["items"][0].get("ip").is_none());

    let by_action = app
        .get(
            &format!("/api/v2/audit-events?target_id={task}&action=task.create"),
            &admin,
        )
        .await;
    assert_eq!(actions(by_action.ok(StatusCode::OK)), ["task.create"]);
    let later = app
        .get(&format!("/api/v2/audit-events?target_id={task}&from={between}"), &admin)
        .await;
    assert_eq!(actions(later.ok(StatusCode::OK)), ["task.start"]);
    // An unencoded `+00:00` offset means the same instant.
    let plus = (start + Duration::hours(1)).to_rfc3339();
    assert!(plus.ends_with("+00:00"), "{plus}");
    let same = app
        .get(&format!("/api/v2/audit-events?target_id={task}&from={plus}"), &admin)
        .await;
    assert_eq!(same.ok(StatusCode::OK)["items"], later.body["items"]);
    let earlier = app
        .get(&format!("/api/v2/audit-events?target_id={task}&to={between}"), &admin)
        .await;
    assert_eq!(actions(earlier.ok(StatusCode::OK)), ["task.create"]);
    let by_actor = app
        .get(
            &format!("/api/v2/audit-events?actor_id={}&limit=1", owner_person.id()),
            &admin,
        )
        .await;
    let body = by_actor.ok(StatusCode::OK);
    assert_eq!(count(body), 1);
    assert!(body["next_cursor"].is_string());

    assert_eq!(
        app.get_invalid(
            "/api/v2/audit-events?target_id=x&actor_id=y&from=yesterday&to=2030-13-01",
            &admin,
        )
        .await,
        ["actor_id", "from", "target_id", "to"]
    );
    app.assert_unauthorized(Method::GET, "/api/v2/audit-events", None).await;

    // Everyone else reads only their own actions, whatever they ask for…
    let own = app.get("/api/v2/audit-events", &owner).await;
    let body = own.ok(StatusCode::OK);
    assert!(count(body) >= 2);
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["actor_id"] == owner_person.id().to_string())
    );
    let theirs = app.get(&format!("/api/v2/audit-events?target_id={task}"), &other).await;
    assert_eq!(count(theirs.ok(StatusCode::OK)), 0);
    // …and an organization's slice is its staff's: others are refused it.
    app.get_refused(
        &format!("/api/v2/audit-events?organization_id={org}"),
        &owner,
        FORBIDDEN,
    )
    .await;
    app.get(&format!("/api/v2/audit-events?organization_id={org}"), &ally)
        .await
        .ok(StatusCode::OK);
}
