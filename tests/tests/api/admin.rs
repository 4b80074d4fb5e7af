//! `/api/v2/admin/users` (admins only), `/api/v2/users/me/profile` and `/api/v2/enrollments`.

use axum::http::{Method, StatusCode};
use icosistem_core::model::Role;
use icosistem_core::testing::fixtures::{PASSWORD, ProgramSpec};
use serde_json::{Value, json};

use crate::common::{App, CONFLICT, FORBIDDEN, INVALID, INVALID_TRANSITION, NOT_FOUND, Reply, count};

/// A user object shows no secret or lockout internals.
#[track_caller]
fn no_internals(user: &Value) {
    for key in [
        "password",
        "password_hash",
        "security_stamp",
        "failed_logins",
        "locked_until",
        "refresh_tokens",
        "tokens",
    ] {
        assert!(user.get(key).is_none(), "{key} in {user}");
    }
}

async fn put(app: &App, token: &str, body: Value, version: Option<u64>) -> Reply {
    app.send(
        Method::PUT,
        "/api/v2/users/me/profile",
        Some(body),
        Some(token),
        version,
    )
    .await
}

async fn login(app: &App, email: &str, password: &str) -> Reply {
    app.send(
        Method::POST,
        "/api/v2/auth/login",
        Some(json!({ "email": email, "password": password })),
        None,
        None,
    )
    .await
}

#[tokio::test]
async fn admins_create_list_and_read_users_and_nobody_else_does() {
    let app = App::new().await;
    let admin = app.token(&app.world.admin);
    let (me, entrepreneur) = app.user(Role::Entrepreneur, "e").await;
    let (_, ally) = app.user(Role::Ally, "a").await;

    for path in [
        "/api/v2/admin/users".to_owned(),
        format!("/api/v2/admin/users/{}", me.id()),
    ] {
        app.get_refused(&path, &entrepreneur, FORBIDDEN).await;
        app.assert_unauthorized(Method::GET, &path, None).await;
    }
    let body = json!({
        "email": "grace@example.test",
        "password": "a long and uncommon passphrase 7",
        "first_name": "Grace",
        "last_name": "Hopper",
        "role": "admin",
    });
    app.post("/api/v2/admin/users", body.clone(), &ally)
        .await
        .refused(FORBIDDEN);
    app.assert_unauthorized(Method::POST, "/api/v2/admin/users", Some(body.clone()))
        .await;

    let created = app.post("/api/v2/admin/users", body.clone(), &admin).await;
    let user = created.ok(StatusCode::CREATED);
    assert_eq!(user["role"], "admin");
    assert_eq!(user["status"], "active");
    assert!(user["email_verified_at"].is_string(), "pre-verified");
    no_internals(user);
    assert_eq!(
        created.headers[axum::http::header::CACHE_CONTROL],
        "no-store",
        "account data is never cached"
    );
    let id = created.id();
    assert_eq!(
        login(&app, "grace@example.test", "a long and uncommon passphrase 7")
            .await
            .status,
        StatusCode::OK
    );
    app.post("/api/v2/admin/users", body, &admin).await.refused(CONFLICT);
    assert_eq!(
        app.post_invalid(
            "/api/v2/admin/users",
            json!({ "email": "not an email", "role": "emperor" }),
            &admin,
        )
        .await,
        ["email", "first_name", "last_name", "password", "role"]
    );
    let weak = app
        .post(
            "/api/v2/admin/users",
            json!({ "email": "weak@example.test", "password": "short", "first_name": "Wendy", "last_name": "Kay", "role": "client" }),
            &admin,
        )
        .await;
    weak.refused(INVALID);
    assert!(weak.fields().contains(&"password".to_owned()), "{}", weak.raw);

    let read = app.get(&format!("/api/v2/admin/users/{id}"), &admin).await;
    assert_eq!(read.ok(StatusCode::OK)["email"], "grace@example.test");
    no_internals(&read.body);
    assert_eq!(read.headers["etag"], format!("\"{}\"", read.version()));
    app.assert_not_found(&format!("/api/v2/admin/users/{}", uuid::Uuid::new_v4()), &admin)
        .await;
    app.assert_not_found("/api/v2/admin/users/not-a-uuid", &admin).await;

    let admins = app.get("/api/v2/admin/users?role=admin", &admin).await;
    let body = admins.ok(StatusCode::OK);
    assert_eq!(count(body), 2);
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|u| u["role"] == "admin")
    );
    body["items"].as_array().expect("items").iter().for_each(no_internals);
    let by_email = app
        .get(&format!("/api/v2/admin/users?email={}", me.email()), &admin)
        .await;
    let body = by_email.ok(StatusCode::OK);
    assert_eq!(count(body), 1);
    assert_eq!(body["items"][0]["id"], me.id().to_string());
    let active = app.get("/api/v2/admin/users?status=active&limit=2", &admin).await;
    let body = active.ok(StatusCode::OK);
    assert_eq!(count(body), 2);
    let cursor = body["next_cursor"].as_str().expect("a second page");
    let rest = app
        .get(
            &format!("/api/v2/admin/users?status=active&limit=2&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(count(rest.ok(StatusCode::OK)), 2);
    assert_eq!(
        app.get_invalid("/api/v2/admin/users?role=king&status=asleep&email=nope", &admin)
            .await,
        ["email", "role", "status"]
    );
}

#[tokio::test]
async fn admins_change_role_and_status_with_if_match_and_unlock() {
    let app = App::new().await;
    let admin = app.token(&app.world.admin);
    let (person, token) = app.user(Role::Entrepreneur, "e").await;
    let (_, ally) = app.user(Role::Ally, "a").await;
    let path = format!("/api/v2/admin/users/{}", person.id());
    let version = app.get(&path, &admin).await.version();

    app.patch(&path, json!({ "role": "ally" }), &ally, None)
        .await
        .refused(FORBIDDEN);
    app.assert_unauthorized(Method::PATCH, &path, Some(json!({ "role": "ally" })))
        .await;
    let invalid = app
        .patch(&path, json!({ "role": "king", "status": "asleep" }), &admin, None)
        .await;
    invalid.refused(INVALID);
    assert_eq!(invalid.fields(), ["role", "status"]);
    let pending = app
        .patch(&path, json!({ "status": "pending_verification" }), &admin, None)
        .await;
    pending.refused(INVALID);
    assert_eq!(pending.fields(), ["status"]);
    let names = app.patch(&path, json!({ "first_name": "" }), &admin, None).await;
    names.refused(INVALID);
    assert_eq!(names.fields(), ["first_name"]);
    app.patch(
        &format!("/api/v2/admin/users/{}", uuid::Uuid::new_v4()),
        json!({ "role": "ally" }),
        &admin,
        None,
    )
    .await
    .refused(NOT_FOUND);

    let changed = app.patch(&path, json!({ "role": "ally" }), &admin, Some(version)).await;
    let body = changed.ok(StatusCode::OK);
    assert_eq!(body["role"], "ally");
    no_internals(body);
    app.patch(&path, json!({ "status": "suspended" }), &admin, Some(version))
        .await
        .refused(CONFLICT);
    // A role change ends the user's sessions.
    app.get("/api/v2/users/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let suspended = app
        .patch(
            &path,
            json!({ "status": "suspended", "version": changed.version() }),
            &admin,
            None,
        )
        .await;
    assert_eq!(suspended.ok(StatusCode::OK)["status"], "suspended");
    app.patch(&path, json!({ "status": "inactive" }), &admin, None)
        .await
        .refused(INVALID_TRANSITION);
    let active = app.patch(&path, json!({ "status": "active" }), &admin, None).await;
    assert_eq!(active.ok(StatusCode::OK)["status"], "active");
    let events = app
        .get(
            &format!(
                "/api/v2/audit-events?target_id={}&action=user.role_changed",
                person.id()
            ),
            &admin,
        )
        .await;
    assert_eq!(count(events.ok(StatusCode::OK)), 1);

    // Unlock: five failed logins lock the account; the admin lifts it.
    for _ in 0..5 {
        login(&app, person.email(), "wrong password entirely").await;
    }
    login(&app, person.email(), PASSWORD)
        .await
        .problem(StatusCode::LOCKED, "account_locked");
    let unlock = format!("{path}/unlock");
    app.command_refused(&unlock, &ally, FORBIDDEN).await;
    app.assert_unauthorized(Method::POST, &unlock, None).await;
    app.command_refused(
        &format!("/api/v2/admin/users/{}/unlock", uuid::Uuid::new_v4()),
        &admin,
        NOT_FOUND,
    )
    .await;
    let unlocked = app.command(&unlock, &admin).await;
    no_internals(unlocked.ok(StatusCode::OK));
    assert_eq!(login(&app, person.email(), PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn role_profiles_are_replaced_field_by_field() {
    let app = App::new().await;
    let admin = app.token(&app.world.admin);
    let (_, entrepreneur) = app.user(Role::Entrepreneur, "e").await;
    let (_, ally) = app.user(Role::Ally, "a").await;
    let (_, client) = app.user(Role::Client, "c").await;
    let path = "/api/v2/users/me/profile";

    app.assert_unauthorized(Method::PUT, path, Some(json!({}))).await;
    app.assert_unauthorized(Method::GET, path, None).await;
    app.assert_not_found(path, &admin).await;

    let saved = put(
        &app,
        &entrepreneur,
        json!({ "stage": "early", "sectors": ["fintech"], "mentorship_areas": ["sales"] }),
        None,
    )
    .await;
    let body = saved.ok(StatusCode::OK);
    assert_eq!(body["kind"], "entrepreneur");
    assert_eq!(body["stage"], "early");
    assert_eq!(body["sectors"], json!(["fintech"]));
    assert_eq!(body["seeking_mentorship"], true);
    assert!(body.get("max_mentees").is_none());
    let version = saved.version();
    let read = app.get(path, &entrepreneur).await;
    assert_eq!(read.ok(StatusCode::OK)["stage"], "early");
    assert_eq!(read.headers["etag"], format!("\"{version}\""));
    put(&app, &entrepreneur, json!({ "stage": "serial" }), Some(version))
        .await
        .ok(StatusCode::OK);
    put(&app, &entrepreneur, json!({ "stage": "established" }), Some(version))
        .await
        .refused(CONFLICT);
    let invalid = put(
        &app,
        &entrepreneur,
        json!({ "stage": "veteran", "max_mentees": 5, "client_type": "investor" }),
        None,
    )
    .await;
    invalid.refused(INVALID);
    assert_eq!(invalid.fields(), ["client_type", "max_mentees", "stage"]);
    let wrong_kind = put(&app, &entrepreneur, json!({ "kind": "ally" }), None).await;
    wrong_kind.refused(INVALID);
    assert_eq!(wrong_kind.fields(), ["kind"]);
    let unknown_kind = put(&app, &entrepreneur, json!({ "kind": "wizard" }), None).await;
    unknown_kind.refused(INVALID);
    assert_eq!(unknown_kind.fields(), ["kind"]);
    let admin_profile = put(&app, &admin, json!({}), None).await;
    admin_profile.refused(INVALID);
    assert_eq!(admin_profile.fields(), ["kind"]);

    let invalid = put(
        &app,
        &ally,
        json!({ "max_mentees": 25, "session_duration_minutes": 5, "preferred_stages": ["idea", "bogus"], "stage": "early" }),
        None,
    )
    .await;
    invalid.refused(INVALID);
    assert_eq!(
        invalid.fields(),
        ["max_mentees", "preferred_stages", "session_duration_minutes", "stage"]
    );
    let saved = put(
        &app,
        &ally,
        json!({
            "kind": "ally",
            "primary_expertise": "go-to-market",
            "specializations": ["marketing", "sales"],
            "preferred_stages": ["idea", "prototype"],
            "max_mentees": 3,
            "available": false,
            "session_duration_minutes": 45,
        }),
        None,
    )
    .await;
    let body = saved.ok(StatusCode::OK);
    assert_eq!(body["kind"], "ally");
    assert_eq!(body["specializations"], json!(["marketing", "sales"]));
    assert_eq!(body["preferred_stages"], json!(["idea", "prototype"]));
    assert_eq!(body["max_mentees"], 3);
    assert_eq!(body["available"], false);
    assert_eq!(body["session_duration_minutes"], 45);
    assert_eq!(body["ratings_count"], 0);
    assert!(body.get("stage").is_none());

    let invalid = put(
        &app,
        &client,
        json!({ "client_type": "alien", "investment_min": { "amount_minor": 100, "currency": "XXX" }, "investment_max": { "amount_minor": -5, "currency": "USD" } }),
        None,
    )
    .await;
    invalid.refused(INVALID);
    assert_eq!(invalid.fields(), ["client_type", "investment_max", "investment_min"]);
    let saved = put(
        &app,
        &client,
        json!({ "client_type": "investor", "interest_areas": ["climate"], "investment_min": { "amount_minor": 1_000_000, "currency": "USD" } }),
        None,
    )
    .await;
    let body = saved.ok(StatusCode::OK);
    assert_eq!(body["client_type"], "investor");
    assert_eq!(
        body["investment_min"],
        json!({ "amount_minor": 1_000_000, "currency": "USD" })
    );
    app.get(path, &client).await.ok(StatusCode::OK);
}

#[tokio::test]
async fn enrollments_are_read_and_dropped_out() {
    let app = App::new().await;
    let cohort = app.world.cohort(ProgramSpec::seats(3)).await;
    let participant = app.world.accepted(&cohort, 80).await;
    let staff = app.token(&cohort.owner);
    let me = app.token(&participant.person);
    let (_, stranger) = app.user(Role::Entrepreneur, "stranger").await;
    let listed = app
        .get(&format!("/api/v2/programs/{}/enrollments", cohort.program.id), &staff)
        .await;
    let id = listed.ok(StatusCode::OK)["items"][0]["id"]
        .as_str()
        .expect("an enrollment")
        .to_owned();
    let path = format!("/api/v2/enrollments/{id}");

    let read = app.get(&path, &me).await;
    let body = read.ok(StatusCode::OK);
    assert_eq!(body["status"], "enrolled");
    assert_eq!(body["entrepreneur_id"], participant.person.id().to_string());
    assert_eq!(app.get(&path, &staff).await.ok(StatusCode::OK)["id"], id.as_str());
    app.assert_not_found(&path, &stranger).await;
    app.assert_not_found(&format!("/api/v2/enrollments/{}", uuid::Uuid::new_v4()), &me)
        .await;
    app.assert_unauthorized(Method::GET, &path, None).await;

    let drop = format!("{path}/drop-out");
    // The stranger sees the published program but not the enrollment: 404, as its GET answers.
    app.post(&drop, json!({ "reason": "not mine" }), &stranger)
        .await
        .refused(NOT_FOUND);
    app.assert_unauthorized(Method::POST, &drop, None).await;
    assert_eq!(
        app.post_invalid(&drop, json!({ "reason": "x".repeat(2001) }), &me)
            .await,
        ["reason"]
    );
    let dropped = app.post(&drop, json!({ "reason": "moving abroad" }), &me).await;
    let body = dropped.ok(StatusCode::OK);
    assert_eq!(body["status"], "dropped_out");
    assert_eq!(body["drop_reason"], "moving abroad");
    assert!(body["ended_at"].is_string());
    app.command_refused(&drop, &staff, INVALID_TRANSITION).await;
}
