//! `/api/v2/meetings`: calling a meeting, reading and listing, participants and their answers,
//! the lifecycle commands, and a meeting blocking session bookings — over HTTP on the memory
//! store, with the world's manual clock at t0 (Monday 2030-03-04 09:00Z).

use axum::http::{Method, StatusCode, header};
use chrono::{DateTime, SecondsFormat, Utc};
use icosistem_core::model::Role;
use icosistem_core::testing::fixtures::day_at;
use serde_json::{Value, json};

use crate::common::{App, CONFLICT, FORBIDDEN, INVALID, INVALID_TRANSITION, NOT_FOUND};

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn meeting_body(participants: &[String]) -> Value {
    json!({
        "title": "Quarterly check-in",
        "description": "Numbers and next steps",
        "location": "Room 3",
        "starts_at": at(day_at(1, 10, 0)),
        "ends_at": at(day_at(1, 11, 0)),
        "participant_ids": participants,
    })
}

#[tokio::test]
async fn meetings_are_scheduled_read_and_listed() {
    let app = App::new().await;
    let (_, organizer) = app.user(Role::Client, "organizer").await;
    let (guest, guest_token) = app.user(Role::Entrepreneur, "guest").await;
    let (_, stranger) = app.user(Role::Ally, "stranger").await;
    let guests = [guest.id().to_string()];

    app.assert_unauthorized(Method::POST, "/api/v2/meetings", Some(meeting_body(&guests)))
        .await;
    assert_eq!(
        app.post_invalid("/api/v2/meetings", json!({}), &organizer).await,
        ["ends_at", "starts_at", "title"]
    );
    assert_eq!(
        app.post_invalid(
            "/api/v2/meetings",
            json!({ "title": "Sync", "starts_at": "10am", "ends_at": at(day_at(1, 11, 0)), "participant_ids": ["x"] }),
            &organizer,
        )
        .await,
        ["participant_ids[0]", "starts_at"]
    );
    // The time rules, the title, and an unknown participant, all at once.
    assert_eq!(
        app.post_invalid(
            "/api/v2/meetings",
            json!({
                "title": "ab",
                "starts_at": at(day_at(0, 9, 1)),
                "ends_at": at(day_at(0, 8, 0)),
                "participant_ids": ["00000000-0000-0000-0000-000000000001"],
            }),
            &organizer,
        )
        .await,
        ["ends_at", "participant_ids[0]", "starts_at", "title"]
    );

    let created = app.post("/api/v2/meetings", meeting_body(&guests), &organizer).await;
    let meeting = created.ok(StatusCode::CREATED).clone();
    assert_eq!(meeting["status"], "scheduled");
    assert_eq!(meeting["title"], "Quarterly check-in");
    assert_eq!(meeting["starts_at"], at(day_at(1, 10, 0)));
    assert_eq!(meeting["attendee_ids"].as_array().expect("attendees").len(), 2);
    assert_eq!(meeting["version"], 1);
    let id = created.id();
    let path = format!("/api/v2/meetings/{id}");

    let read = app.get(&path, &guest_token).await;
    assert_eq!(read.ok(StatusCode::OK)["location"], "Room 3");
    assert_eq!(read.headers[header::ETAG], "\"1\"");
    app.get(&path, &organizer).await.ok(StatusCode::OK);
    app.assert_not_found(&path, &stranger).await;
    app.assert_not_found("/api/v2/meetings/nope", &organizer).await;
    app.assert_unauthorized(Method::GET, &path, None).await;

    let parties = [organizer.as_str(), guest_token.as_str()];
    let statuses = ["scheduled", "cancelled", "soon"];
    app.assert_list_contract("/api/v2/meetings", &id, &parties, &stranger, statuses)
        .await;
}

#[tokio::test]
async fn participants_are_invited_and_answer() {
    let app = App::new().await;
    let (organizer, organizer_token) = app.user(Role::Client, "organizer").await;
    let (guest, guest_token) = app.user(Role::Entrepreneur, "guest").await;
    let (late, late_token) = app.user(Role::Ally, "late").await;
    let (_, stranger) = app.user(Role::Ally, "stranger").await;
    let id = app
        .post(
            "/api/v2/meetings",
            meeting_body(&[guest.id().to_string()]),
            &organizer_token,
        )
        .await
        .id();
    let participants = format!("/api/v2/meetings/{id}/participants");

    let listed = app.get(&participants, &guest_token).await;
    let items = listed.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["user_id"], guest.id().to_string());
    assert_eq!(items[0]["status"], "pending");
    assert!(items[0]["responded_at"].is_null());
    app.assert_not_found(&participants, &stranger).await;
    app.assert_unauthorized(Method::GET, &participants, None).await;

    // Inviting is the organizer's.
    let invite = json!({ "user_id": late.id().to_string() });
    app.post(&participants, invite.clone(), &guest_token)
        .await
        .refused(FORBIDDEN);
    app.post(&participants, invite.clone(), &stranger)
        .await
        .refused(NOT_FOUND);
    assert_eq!(
        app.post_invalid(&participants, json!({}), &organizer_token).await,
        ["user_id"]
    );
    assert_eq!(
        app.post_invalid(
            &participants,
            json!({ "user_id": organizer.id().to_string() }),
            &organizer_token,
        )
        .await,
        ["user_id"]
    );
    let added = app.post(&participants, invite.clone(), &organizer_token).await;
    let added = added.ok(StatusCode::CREATED);
    assert_eq!(added["user_id"], late.id().to_string());
    assert_eq!(added["status"], "pending");
    app.post(&participants, invite, &organizer_token)
        .await
        .refused(CONFLICT);
    app.get(&format!("/api/v2/meetings/{id}"), &late_token)
        .await
        .ok(StatusCode::OK);

    // Answers: the invited only, a real answer, If-Match on the caller's invitation.
    let respond = format!("/api/v2/meetings/{id}/respond");
    app.post(&respond, json!({ "response": "accepted" }), &organizer_token)
        .await
        .refused(FORBIDDEN);
    app.post(&respond, json!({ "response": "accepted" }), &stranger)
        .await
        .refused(NOT_FOUND);
    for answer in [
        json!({}),
        json!({ "response": "maybe" }),
        json!({ "response": "pending" }),
    ] {
        let refused = app.post(&respond, answer, &guest_token).await;
        refused.refused(INVALID);
        assert_eq!(refused.fields(), ["response"]);
    }
    app.send(
        Method::POST,
        &respond,
        Some(json!({ "response": "accepted" })),
        Some(&guest_token),
        Some(4),
    )
    .await
    .refused(CONFLICT);
    let answered = app
        .send(
            Method::POST,
            &respond,
            Some(json!({ "response": "accepted" })),
            Some(&guest_token),
            Some(1),
        )
        .await;
    let answered = answered.ok(StatusCode::OK);
    assert_eq!(answered["status"], "accepted");
    assert_eq!(answered["version"], 2);
    assert!(answered["responded_at"].is_string());
    let changed = app
        .post(&respond, json!({ "response": "tentative", "version": 2 }), &guest_token)
        .await;
    assert_eq!(changed.ok(StatusCode::OK)["status"], "tentative");
    let statuses: Vec<Value> = app.get(&participants, &organizer_token).await.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("tentative"), json!("pending")]);
}

#[tokio::test]
async fn meeting_commands_follow_the_lifecycle() {
    let app = App::new().await;
    let (_, organizer) = app.user(Role::Entrepreneur, "organizer").await;
    let (guest, guest_token) = app.user(Role::Client, "guest").await;
    let (_, stranger) = app.user(Role::Client, "stranger").await;
    let id = app
        .post("/api/v2/meetings", meeting_body(&[guest.id().to_string()]), &organizer)
        .await
        .id();
    let path = format!("/api/v2/meetings/{id}");

    app.assert_unauthorized(Method::POST, &format!("{path}/start"), None)
        .await;
    app.command_refused(&format!("{path}/start"), &guest_token, FORBIDDEN)
        .await;
    app.command_refused(&format!("{path}/cancel"), &stranger, NOT_FOUND)
        .await;
    app.command_refused(&format!("{path}/complete"), &organizer, INVALID_TRANSITION)
        .await;

    // Reschedule keeps the id and the answers; the time rules apply again.
    let reschedule = format!("{path}/reschedule");
    assert_eq!(
        app.post_invalid(&reschedule, json!({}), &organizer).await,
        ["ends_at", "starts_at"]
    );
    assert_eq!(
        app.post_invalid(
            &reschedule,
            json!({ "starts_at": at(day_at(2, 8, 0)), "ends_at": at(day_at(2, 17, 0)) }),
            &organizer,
        )
        .await,
        ["ends_at"]
    );
    let new_time = json!({ "starts_at": at(day_at(2, 15, 0)), "ends_at": at(day_at(2, 16, 0)) });
    app.post(&reschedule, new_time.clone(), &guest_token)
        .await
        .refused(FORBIDDEN);
    app.send(
        Method::POST,
        &reschedule,
        Some(new_time.clone()),
        Some(&organizer),
        Some(7),
    )
    .await
    .refused(CONFLICT);
    let moved = app
        .send(Method::POST, &reschedule, Some(new_time), Some(&organizer), Some(1))
        .await;
    let moved = moved.ok(StatusCode::OK);
    assert_eq!(moved["id"], id);
    assert_eq!(moved["status"], "scheduled");
    assert_eq!(moved["starts_at"], at(day_at(2, 15, 0)));

    app.post(&format!("{path}/start"), json!({ "version": 1 }), &organizer)
        .await
        .refused(CONFLICT);
    let started = app
        .post(&format!("{path}/start"), json!({ "version": 2 }), &organizer)
        .await;
    assert_eq!(started.ok(StatusCode::OK)["status"], "in_progress");
    app.command_refused(&format!("{path}/cancel"), &organizer, INVALID_TRANSITION)
        .await;
    app.transition(&format!("{path}/complete"), &organizer, "completed")
        .await;
    app.post(
        &format!("{path}/respond"),
        json!({ "response": "declined" }),
        &guest_token,
    )
    .await
    .refused(INVALID_TRANSITION);
    app.post(
        &format!("{path}/participants"),
        json!({ "user_id": app.world.admin.id().to_string() }),
        &organizer,
    )
    .await
    .refused(INVALID_TRANSITION);

    // A second meeting is called off before it starts.
    let other = app.post("/api/v2/meetings", meeting_body(&[]), &organizer).await.id();
    app.transition(&format!("/api/v2/meetings/{other}/cancel"), &organizer, "cancelled")
        .await;
    app.command_refused(
        &format!("/api/v2/meetings/{other}/start"),
        &organizer,
        INVALID_TRANSITION,
    )
    .await;
}

#[tokio::test]
async fn a_meeting_blocks_session_bookings_and_free_slots() {
    let app = App::new().await;
    let ally = app.world.ally_with_capacity(3).await;
    let ally_token = app.token(&ally);
    let mentee = app.world.mentee(&ally).await;
    let entrepreneur = app.token(&mentee.person);
    // The ally attends a meeting Tuesday 10:00–11:00.
    let (_, organizer) = app.user(Role::Client, "organizer").await;
    app.post("/api/v2/meetings", meeting_body(&[ally.id().to_string()]), &organizer)
        .await
        .ok(StatusCode::CREATED);

    let clash = app
        .post(
            &format!("/api/v2/mentorships/{}/sessions", mentee.id()),
            json!({ "starts_at": at(day_at(1, 10, 30)), "duration_minutes": 30 }),
            &entrepreneur,
        )
        .await;
    clash.refused(INVALID);
    assert_eq!(clash.fields(), ["starts_at"]);
    assert!(clash.raw.contains("meeting"), "{}", clash.raw);

    let free = app
        .get(
            &format!(
                "/api/v2/allies/me/free-slots?from={}&to={}&duration_minutes=30",
                at(day_at(1, 9, 0)),
                at(day_at(1, 12, 0))
            ),
            &ally_token,
        )
        .await;
    let starts: Vec<Value> = free.ok(StatusCode::OK)["slots"].as_array().expect("slots").clone();
    // 09:00 (ends 09:30, 30 minutes clear), then 11:30 onwards (11:00 + 15 minutes buffer).
    assert_eq!(starts, [json!(at(day_at(1, 9, 0))), json!(at(day_at(1, 11, 30))),]);
}
