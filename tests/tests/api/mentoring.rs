//! `/api/v2/mentorships`, `/api/v2/allies` and the sessions: requests and their lifecycle with
//! the ally's capacity, the directory and suggestions, weekly availability, free slots, booking
//! and the session lifecycle up to feedback — over HTTP on the memory store, with the world's
//! manual clock at t0 (Monday 2030-03-04 09:00Z).

use axum::http::{Method, StatusCode, header};
use chrono::{DateTime, SecondsFormat, Utc};
use icosistem_core::model::{AllyProfile, EntrepreneurProfile, ProfileData, ProjectStage, Role};
use icosistem_core::testing::fixtures::{Person, day_at, project_input, weekdays};
use serde_json::{Value, json};

use crate::common::{App, CONFLICT, FORBIDDEN, INVALID, INVALID_TRANSITION, NOT_FOUND, Reply, routes};

/// An instant as a query or body value (`Z`, so no `+` needs escaping in a query string).
fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn put(app: &App, path: &str, body: Value, token: &str, if_match: Option<u64>) -> Reply {
    app.send(Method::PUT, path, Some(body), Some(token), if_match).await
}

/// A new ally with a UTC schedule Monday–Friday 08:00–18:00 taking at most `max` mentees, and
/// their token.
async fn ally(app: &App, max: u8) -> (Person, String) {
    let person = app.world.ally_with_capacity(max).await;
    let token = app.token(&person);
    (person, token)
}

/// `entrepreneur` asks `ally` over HTTP; the new mentorship's id.
async fn request(app: &App, entrepreneur: &str, ally: &Person) -> String {
    app.post(
        "/api/v2/mentorships",
        json!({ "ally_id": ally.id().to_string() }),
        entrepreneur,
    )
    .await
    .ok(StatusCode::CREATED);
    let mine = app.get("/api/v2/mentorships?status=requested", entrepreneur).await;
    mine.ok(StatusCode::OK)["items"][0]["id"]
        .as_str()
        .expect("the request")
        .to_owned()
}

#[tokio::test]
async fn mentorship_requests_read_and_list() {
    let app = App::new().await;
    let (ally, ally_token) = ally(&app, 3).await;
    let (_, entrepreneur) = app.user(Role::Entrepreneur, "ent").await;
    let (_, stranger) = app.user(Role::Entrepreneur, "stranger").await;
    let (client, client_token) = app.user(Role::Client, "client").await;
    let body = json!({
        "ally_id": ally.id().to_string(),
        "message": "Help me raise a seed round",
        "areas": ["Fundraising", " fundraising ", "Sales"],
    });

    app.assert_unauthorized(Method::POST, "/api/v2/mentorships", Some(body.clone()))
        .await;
    app.post("/api/v2/mentorships", body.clone(), &ally_token)
        .await
        .refused(FORBIDDEN);
    app.post("/api/v2/mentorships", body.clone(), &client_token)
        .await
        .refused(FORBIDDEN);
    assert_eq!(
        app.post_invalid(
            "/api/v2/mentorships",
            json!({ "ally_id": "nobody", "project_id": "x", "duration_months": 300 }),
            &entrepreneur,
        )
        .await,
        ["ally_id", "duration_months", "project_id"]
    );
    app.post("/api/v2/mentorships", json!({}), &entrepreneur)
        .await
        .refused(INVALID);
    assert_eq!(
        app.post_invalid(
            "/api/v2/mentorships",
            json!({
                "ally_id": client.id().to_string(),
                "message": "m".repeat(2001),
                "areas": ["", "ok"],
                "duration_months": 30,
            }),
            &entrepreneur,
        )
        .await,
        ["ally_id", "areas[0]", "duration_months", "message"]
    );

    let created = app.post("/api/v2/mentorships", body.clone(), &entrepreneur).await;
    let mentorship = created.ok(StatusCode::CREATED).clone();
    assert_eq!(mentorship["status"], "requested");
    assert_eq!(mentorship["ally_id"], ally.id().to_string());
    assert_eq!(mentorship["areas"], json!(["Fundraising", "Sales"]));
    assert_eq!(mentorship["duration_months"], 6);
    assert_eq!(mentorship["version"], 1);
    assert!(mentorship["started_at"].is_null() && mentorship["created_at"].is_string());
    let id = created.id();
    let path = format!("/api/v2/mentorships/{id}");
    // One open relationship per pair.
    app.post("/api/v2/mentorships", body, &entrepreneur)
        .await
        .refused(CONFLICT);

    let read = app.get(&path, &entrepreneur).await;
    assert_eq!(read.ok(StatusCode::OK)["id"], id);
    assert_eq!(read.headers[header::ETAG], "\"1\"");
    app.get(&path, &ally_token).await.ok(StatusCode::OK);
    app.assert_not_found(&path, &stranger).await;
    app.assert_not_found("/api/v2/mentorships/not-a-uuid", &entrepreneur)
        .await;
    app.assert_unauthorized(Method::GET, &path, None).await;

    // Lists: each party sees it, a stranger nothing; `?status` filters.
    let mine = app.get("/api/v2/mentorships", &entrepreneur).await;
    assert_eq!(mine.ids(), [id.as_str()]);
    assert!(mine.body["next_cursor"].is_null());
    let statuses = ["requested", "active", "open"];
    app.assert_list_contract("/api/v2/mentorships", &id, &[&ally_token], &stranger, statuses)
        .await;
}

#[tokio::test]
async fn mentorship_commands_respect_roles_versions_transitions_and_capacity() {
    let app = App::new().await;
    let (ally, ally_token) = ally(&app, 1).await;
    let (_, other_ally) = ally_pair(&app).await;
    let (_, first) = app.user(Role::Entrepreneur, "first").await;
    let (_, second) = app.user(Role::Entrepreneur, "second").await;
    let (_, third) = app.user(Role::Entrepreneur, "third").await;
    let m1 = format!("/api/v2/mentorships/{}", request(&app, &first, &ally).await);

    app.assert_unauthorized(Method::POST, &format!("{m1}/accept"), None)
        .await;
    app.command_refused(&format!("{m1}/accept"), &first, FORBIDDEN).await;
    app.command_refused(&format!("{m1}/accept"), &other_ally, NOT_FOUND)
        .await;
    app.command_refused(
        "/api/v2/mentorships/00000000-0000-0000-0000-000000000000/accept",
        &ally_token,
        NOT_FOUND,
    )
    .await;
    app.send(Method::POST, &format!("{m1}/accept"), None, Some(&ally_token), Some(9))
        .await
        .refused(CONFLICT);
    app.command_refused(&format!("{m1}/pause"), &ally_token, INVALID_TRANSITION)
        .await;
    let accepted = app
        .send(Method::POST, &format!("{m1}/accept"), None, Some(&ally_token), Some(1))
        .await;
    let accepted = accepted.ok(StatusCode::OK);
    assert_eq!(accepted["status"], "active");
    assert!(accepted["started_at"].is_string());
    app.command_refused(&format!("{m1}/accept"), &ally_token, INVALID_TRANSITION)
        .await;

    // The one seat is taken: a second accept is refused for capacity.
    let m2 = format!("/api/v2/mentorships/{}", request(&app, &second, &ally).await);
    app.command(&format!("{m2}/accept"), &ally_token)
        .await
        .problem(StatusCode::CONFLICT, "ally_at_capacity");
    // Pausing frees the seat (body `version` works like If-Match) …
    app.post(&format!("{m1}/pause"), json!({ "version": 1 }), &ally_token)
        .await
        .refused(CONFLICT);
    let paused = app
        .post(&format!("{m1}/pause"), json!({ "version": 2 }), &ally_token)
        .await;
    assert_eq!(paused.ok(StatusCode::OK)["status"], "paused");
    app.transition(&format!("{m2}/accept"), &ally_token, "active").await;
    // … and resuming needs it back.
    app.command(&format!("{m1}/resume"), &ally_token)
        .await
        .problem(StatusCode::CONFLICT, "ally_at_capacity");
    let done = app.command(&format!("{m2}/complete"), &ally_token).await;
    let done = done.ok(StatusCode::OK);
    assert_eq!(done["status"], "completed");
    assert!(done["ended_at"].is_string());
    app.command_refused(&format!("{m2}/complete"), &ally_token, INVALID_TRANSITION)
        .await;
    app.transition(&format!("{m1}/resume"), &ally_token, "active").await;

    // Declining is the ally's; the entrepreneur may only cancel.
    let m3 = format!("/api/v2/mentorships/{}", request(&app, &third, &ally).await);
    app.command_refused(&format!("{m3}/decline"), &third, FORBIDDEN).await;
    app.transition(&format!("{m3}/decline"), &ally_token, "declined").await;
    app.command_refused(&format!("{m1}/complete"), &first, FORBIDDEN).await;
    let cancelled = app
        .post(&format!("{m1}/cancel"), json!({ "reason": "moving on" }), &first)
        .await;
    assert_eq!(cancelled.ok(StatusCode::OK)["status"], "cancelled");
    app.command_refused(&format!("{m1}/cancel"), &first, INVALID_TRANSITION)
        .await;
    app.post(&format!("{m1}/cancel"), json!({ "version": "two" }), &first)
        .await
        .refused(INVALID);
}

/// Another ally (with a token) who is party to nothing.
async fn ally_pair(app: &App) -> (Person, String) {
    ally(app, 5).await
}

#[tokio::test]
async fn ally_directory_filters_and_pages() {
    let app = App::new().await;
    let (_, viewer) = app.user(Role::Client, "viewer").await;
    let fintech = app
        .world
        .mentor(
            AllyProfile {
                primary_expertise: Some("Fintech".into()),
                specializations: vec!["fundraising".into()],
                ..AllyProfile::default()
            },
            "UTC",
            weekdays(8, 18),
        )
        .await;
    let away = app
        .world
        .mentor(
            AllyProfile {
                specializations: vec!["FinTech".into()],
                available: false,
                ..AllyProfile::default()
            },
            "UTC",
            weekdays(8, 18),
        )
        .await;
    let health = app
        .world
        .mentor(
            AllyProfile {
                primary_expertise: Some("health".into()),
                ..AllyProfile::default()
            },
            "UTC",
            weekdays(8, 18),
        )
        .await;

    app.assert_unauthorized(Method::GET, "/api/v2/allies", None).await;
    let all = app.get("/api/v2/allies", &viewer).await;
    assert_eq!(
        all.ids(),
        [health.id().to_string(), away.id().to_string(), fintech.id().to_string()]
    );
    let card = &all.body["items"][2];
    assert_eq!(card["name"], fintech.user.full_name());
    assert_eq!(card["primary_expertise"], "Fintech");
    assert_eq!(card["has_capacity"], true);
    assert_eq!(card["active_mentees"], 0);
    assert_eq!(card["max_mentees"], 10);
    assert!(card["average_rating"].is_null());
    assert!(card.get("email").is_none(), "no contact details: {card}");

    let fintech_ones = app.get("/api/v2/allies?specialization=%20fintech", &viewer).await;
    assert_eq!(fintech_ones.ids(), [away.id().to_string(), fintech.id().to_string()]);
    let open = app
        .get("/api/v2/allies?specialization=fintech&available=true", &viewer)
        .await;
    assert_eq!(open.ids(), [fintech.id().to_string()]);
    let closed = app.get("/api/v2/allies?available=false", &viewer).await;
    assert_eq!(closed.ids(), [away.id().to_string()]);

    let first = app.get("/api/v2/allies?limit=2", &viewer).await;
    assert_eq!(first.ids().len(), 2);
    let cursor = first.body["next_cursor"].as_str().expect("a next page").to_owned();
    let second = app
        .get(&format!("/api/v2/allies?limit=2&cursor={cursor}"), &viewer)
        .await;
    assert_eq!(second.ids(), [fintech.id().to_string()]);

    assert_eq!(
        app.get_invalid("/api/v2/allies?available=maybe&limit=500", &viewer)
            .await,
        ["available", "limit"]
    );
}

#[tokio::test]
async fn suggestions_rank_with_reasons_and_never_offer_a_full_ally() {
    let app = App::new().await;
    let (entrepreneur, token) = app.user(Role::Entrepreneur, "ent").await;
    let eco = &app.world.eco;
    eco.update_my_profile(
        &entrepreneur.ctx,
        ProfileData::Entrepreneur(EntrepreneurProfile {
            sectors: vec!["Fintech".into()],
            mentorship_areas: vec!["Fundraising".into(), "Sales".into()],
            ..EntrepreneurProfile::default()
        }),
        None,
    )
    .await
    .expect("entrepreneur profile");
    eco.create_project(
        &entrepreneur.ctx,
        icosistem_core::service::CreateProject {
            stage: Some(ProjectStage::Idea),
            ..project_input("Pocket Bank")
        },
    )
    .await
    .expect("project");
    let ideal = AllyProfile {
        primary_expertise: Some("fintech".into()),
        specializations: vec!["fundraising".into(), "sales".into()],
        preferred_stages: vec![ProjectStage::Idea],
        ..AllyProfile::default()
    };
    // The best match on paper, but its only seat is taken.
    let full = app
        .world
        .mentor(
            AllyProfile {
                max_mentees: 1,
                ..ideal.clone()
            },
            "UTC",
            weekdays(8, 18),
        )
        .await;
    app.world.mentee(&full).await;
    let good = app
        .world
        .mentor(
            AllyProfile {
                preferred_stages: Vec::new(),
                ..ideal.clone()
            },
            "UTC",
            weekdays(8, 18),
        )
        .await; // 0.3 + 0.4 + 0.1
    let weak = app
        .world
        .mentor(
            AllyProfile {
                primary_expertise: Some("fintech".into()),
                ..AllyProfile::default()
            },
            "UTC",
            weekdays(8, 18),
        )
        .await; // 0.3 + 0.1
    app.world.mentor(AllyProfile::default(), "UTC", weekdays(8, 18)).await; // 0.1: below

    app.assert_unauthorized(Method::GET, "/api/v2/allies/suggestions", None)
        .await;
    let ally_token = app.token(&good);
    app.get_refused("/api/v2/allies/suggestions", &ally_token, FORBIDDEN)
        .await;
    let (_, client) = app.user(Role::Client, "client").await;
    app.get_refused("/api/v2/allies/suggestions", &client, FORBIDDEN).await;

    let reply = app.get("/api/v2/allies/suggestions", &token).await;
    let items = reply.ok(StatusCode::OK)["items"].as_array().expect("items").clone();
    let got: Vec<(String, f64, usize)> = items
        .iter()
        .map(|s| {
            (
                s["ally"]["id"].as_str().expect("id").to_owned(),
                s["score"].as_f64().expect("score"),
                s["reasons"].as_array().expect("reasons").len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(good.id().to_string(), 0.8, 3), (weak.id().to_string(), 0.4, 2)]
    );
    assert!(items.iter().all(|s| s["ally"]["has_capacity"] == true));
    assert!(!reply.raw.contains(&full.id().to_string()), "{}", reply.raw);
}

#[tokio::test]
async fn literal_ally_paths_win_over_the_id_segment() {
    let app = App::new().await;
    let (ally, token) = ally(&app, 3).await;
    let (_, entrepreneur) = app.user(Role::Entrepreneur, "ent").await;
    // `/allies/suggestions` is not an ally called "suggestions".
    app.get("/api/v2/allies/suggestions", &entrepreneur)
        .await
        .ok(StatusCode::OK);
    // `/allies/me/availability` is the caller's schedule …
    let mine = app.get("/api/v2/allies/me/availability", &token).await;
    assert_eq!(mine.ok(StatusCode::OK)["ally_id"], ally.id().to_string());
    // … while `/allies/{id}/free-slots` still takes ids, and `me` there too.
    let window = format!("from={}&to={}", at(day_at(1, 8, 0)), at(day_at(1, 12, 0)));
    let by_id = app
        .get(
            &format!("/api/v2/allies/{}/free-slots?{window}", ally.id()),
            &entrepreneur,
        )
        .await;
    let by_me = app.get(&format!("/api/v2/allies/me/free-slots?{window}"), &token).await;
    assert_eq!(by_id.ok(StatusCode::OK)["slots"], by_me.ok(StatusCode::OK)["slots"]);
    assert_eq!(by_me.body["ally_id"], ally.id().to_string());
    app.assert_not_found("/api/v2/allies/suggestions/free-slots", &entrepreneur)
        .await;
}

#[tokio::test]
async fn weekly_availability_is_read_and_replaced_by_the_ally() {
    let app = App::new().await;
    let (ally, token) = app.user(Role::Ally, "ally").await;
    let (_, entrepreneur) = app.user(Role::Entrepreneur, "ent").await;
    let path = "/api/v2/allies/me/availability";
    let week = json!({
        "timezone": "America/Bogota",
        "slots": [
            { "weekday": 2, "start": "14:00", "end": "17:30" },
            { "weekday": 0, "start": "09:00:00", "end": "12:00" },
        ],
    });

    app.assert_unauthorized(Method::GET, path, None).await;
    app.assert_unauthorized(Method::PUT, path, Some(week.clone())).await;
    app.get_refused(path, &entrepreneur, FORBIDDEN).await;
    put(&app, path, week.clone(), &entrepreneur, None)
        .await
        .refused(FORBIDDEN);

    let empty = app.get(path, &token).await;
    let empty = empty.ok(StatusCode::OK);
    assert_eq!(empty["version"], 0);
    assert_eq!(empty["slots"], json!([]));
    assert_eq!(empty["ally_id"], ally.id().to_string());

    // Fields the HTTP layer cannot read, each named.
    let unreadable = put(
        &app,
        path,
        json!({ "slots": [{ "weekday": 0, "start": "09:00", "end": "12:00" }, { "start": "9am" }] }),
        &token,
        None,
    )
    .await;
    unreadable.refused(INVALID);
    assert_eq!(
        unreadable.fields(),
        ["slots[1].end", "slots[1].start", "slots[1].weekday"]
    );
    put(&app, path, json!({ "timezone": "UTC" }), &token, None)
        .await
        .refused(INVALID);
    // The schedule's rules, every failing slot field at once.
    let invalid = put(
        &app,
        path,
        json!({
            "timezone": "Mars/Olympus",
            "slots": [
                { "weekday": 0, "start": "09:00", "end": "12:00" },
                { "weekday": 7, "start": "10:00", "end": "11:00" },
                { "weekday": 1, "start": "14:00", "end": "13:00" },
                { "weekday": 0, "start": "11:00", "end": "13:00" },
            ],
        }),
        &token,
        None,
    )
    .await;
    invalid.refused(INVALID);
    assert_eq!(
        invalid.fields(),
        ["slots[1].weekday", "slots[2].end", "slots[3]", "timezone"]
    );

    // First save: version 0 (the empty schedule's) or none.
    let saved = put(&app, path, week.clone(), &token, Some(0)).await;
    let saved = saved.ok(StatusCode::OK).clone();
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["timezone"], "America/Bogota");
    assert_eq!(
        saved["slots"],
        json!([
            { "weekday": 0, "start": "09:00", "end": "12:00" },
            { "weekday": 2, "start": "14:00", "end": "17:30" },
        ])
    );
    put(&app, path, week.clone(), &token, Some(0)).await.refused(CONFLICT);
    let read = app.get(path, &token).await;
    assert_eq!(read.ok(StatusCode::OK)["slots"], saved["slots"]);
    assert_eq!(read.headers[header::ETAG], "\"1\"");
    // Without a time zone the account's is used; the body's version works like If-Match.
    let cleared = put(&app, path, json!({ "slots": [], "version": 1 }), &token, None).await;
    let cleared = cleared.ok(StatusCode::OK);
    assert_eq!(cleared["version"], 2);
    assert_eq!(cleared["timezone"], ally.user.timezone.as_str());
    assert_eq!(cleared["slots"], json!([]));
}

#[tokio::test]
async fn free_slots_validate_the_window_and_skip_booked_time() {
    let app = App::new().await;
    let (ally, _) = ally(&app, 3).await;
    let mentee = app.world.mentee(&ally).await;
    let entrepreneur = app.token(&mentee.person);
    let (_, viewer) = app.user(Role::Client, "viewer").await;
    let slots_of = |from: DateTime<Utc>, to: DateTime<Utc>| {
        format!(
            "/api/v2/allies/{}/free-slots?from={}&to={}",
            ally.id(),
            at(from),
            at(to)
        )
    };
    // Tuesday 08:00–18:00; 24 h notice makes 09:00 the first start.
    let tuesday = slots_of(day_at(1, 8, 0), day_at(1, 18, 0));

    app.assert_unauthorized(Method::GET, &tuesday, None).await;
    let base = format!("/api/v2/allies/{}/free-slots", ally.id());
    assert_eq!(app.get_invalid(&base, &viewer).await, ["from", "to"]);
    assert_eq!(
        app.get_invalid(&format!("{base}?from=tomorrow&to=2030-03-05"), &viewer)
            .await,
        ["from", "to"]
    );
    assert_eq!(
        app.get_invalid(&slots_of(day_at(2, 8, 0), day_at(1, 8, 0)), &viewer)
            .await,
        ["from"]
    );
    assert_eq!(
        app.get_invalid(&slots_of(day_at(1, 8, 0), day_at(40, 8, 0)), &viewer)
            .await,
        ["to"]
    );
    assert_eq!(
        app.get_invalid(&format!("{tuesday}&duration_minutes=long"), &viewer)
            .await,
        ["duration_minutes"]
    );
    assert_eq!(
        app.get_invalid(&format!("{tuesday}&duration_minutes=5"), &viewer).await,
        ["duration_minutes"]
    );
    app.get_refused(
        &format!(
            "/api/v2/allies/{}/free-slots?from={}&to={}",
            mentee.person.id(),
            at(day_at(1, 8, 0)),
            at(day_at(1, 18, 0))
        ),
        &viewer,
        NOT_FOUND,
    )
    .await;
    app.get_refused(
        &format!("/api/v2/allies/nobody/free-slots?from={}", at(day_at(1, 8, 0))),
        &viewer,
        NOT_FOUND,
    )
    .await;

    let free = app.get(&tuesday, &viewer).await;
    let starts: Vec<String> = free.ok(StatusCode::OK)["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|s| s.as_str().expect("instant").to_owned())
        .collect();
    // 09:00 … 17:00 every 30 minutes for a 60-minute session.
    assert_eq!(starts.len(), 17, "{starts:?}");
    assert_eq!(
        DateTime::parse_from_rfc3339(&starts[0]).expect("rfc 3339"),
        day_at(1, 9, 0)
    );

    // Book 11:00–12:00: starts closer than 15 minutes to it disappear.
    app.post(
        &format!("/api/v2/mentorships/{}/sessions", mentee.id()),
        json!({ "starts_at": at(day_at(1, 11, 0)), "duration_minutes": 60 }),
        &entrepreneur,
    )
    .await
    .ok(StatusCode::CREATED);
    let after = app.get(&tuesday, &viewer).await;
    let after: Vec<DateTime<Utc>> = after.ok(StatusCode::OK)["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|s| {
            DateTime::parse_from_rfc3339(s.as_str().expect("instant"))
                .expect("rfc 3339")
                .to_utc()
        })
        .collect();
    assert_eq!(after.len(), 12, "{after:?}");
    for (h, m) in [(10, 0), (10, 30), (11, 0), (11, 30), (12, 0)] {
        assert!(!after.contains(&day_at(1, h, m)), "{h}:{m:02} is taken: {after:?}");
    }
    assert!(after.contains(&day_at(1, 9, 30)) && after.contains(&day_at(1, 12, 30)));
}

#[tokio::test]
async fn booking_validates_and_refuses_overlaps_and_inactive_mentorships() {
    let app = App::new().await;
    let (ally, ally_token) = ally(&app, 3).await;
    let mentee = app.world.mentee(&ally).await;
    let entrepreneur = app.token(&mentee.person);
    let (_, stranger) = app.user(Role::Entrepreneur, "stranger").await;
    let sessions = format!("/api/v2/mentorships/{}/sessions", mentee.id());
    let body = json!({ "starts_at": at(day_at(1, 10, 0)), "duration_minutes": 60, "agenda": "Pitch deck" });

    app.assert_unauthorized(Method::POST, &sessions, Some(body.clone()))
        .await;
    app.post(&sessions, body.clone(), &stranger).await.refused(NOT_FOUND);
    app.post("/api/v2/mentorships/nope/sessions", body.clone(), &entrepreneur)
        .await
        .refused(NOT_FOUND);
    assert_eq!(
        app.post_invalid(
            &sessions,
            json!({ "starts_at": "tomorrow at ten", "duration_minutes": 100_000 }),
            &entrepreneur,
        )
        .await,
        ["duration_minutes", "starts_at"]
    );
    assert_eq!(
        app.post_invalid(&sessions, json!({}), &entrepreneur).await,
        ["starts_at"]
    );
    // Too soon (24 h notice) and too short, both reported.
    assert_eq!(
        app.post_invalid(
            &sessions,
            json!({ "starts_at": at(day_at(0, 15, 0)), "duration_minutes": 10, "agenda": "a".repeat(2001) }),
            &entrepreneur,
        )
        .await,
        ["agenda", "duration_minutes", "starts_at"]
    );

    let booked = app.post(&sessions, body.clone(), &entrepreneur).await;
    let session = booked.ok(StatusCode::CREATED).clone();
    assert_eq!(session["status"], "scheduled");
    assert_eq!(session["mentorship_id"], mentee.id().to_string());
    assert_eq!(session["ends_at"], at(day_at(1, 11, 0)));
    assert_eq!(session["agenda"], "Pitch deck");
    assert_eq!(session["version"], 1);

    // An overlap (and one inside the 15-minute buffer) is refused on `starts_at`, by the ally too.
    for (by, start) in [(&entrepreneur, day_at(1, 10, 30)), (&ally_token, day_at(1, 11, 10))] {
        let clash = app
            .post(&sessions, json!({ "starts_at": at(start), "duration_minutes": 30 }), by)
            .await;
        clash.refused(INVALID);
        assert_eq!(clash.fields(), ["starts_at"]);
        assert!(clash.raw.contains("overlaps"), "{}", clash.raw);
    }
    // Exactly the buffer apart is fine.
    app.post(
        &sessions,
        json!({ "starts_at": at(day_at(1, 11, 15)), "duration_minutes": 30 }),
        &ally_token,
    )
    .await
    .ok(StatusCode::CREATED);

    // Only an active mentorship books.
    app.command(&format!("/api/v2/mentorships/{}/pause", mentee.id()), &ally_token)
        .await
        .ok(StatusCode::OK);
    app.post(&sessions, json!({ "starts_at": at(day_at(2, 10, 0)) }), &entrepreneur)
        .await
        .refused(INVALID_TRANSITION);
}

#[tokio::test]
async fn sessions_read_list_reschedule_and_cancel() {
    let app = App::new().await;
    let (ally, ally_token) = ally(&app, 3).await;
    let mentee = app.world.mentee(&ally).await;
    let entrepreneur = app.token(&mentee.person);
    let (_, stranger) = app.user(Role::Ally, "stranger").await;
    let sessions = format!("/api/v2/mentorships/{}/sessions", mentee.id());
    let id = app
        .post(&sessions, json!({ "starts_at": at(day_at(2, 10, 0)) }), &entrepreneur)
        .await
        .id();
    let path = format!("/api/v2/sessions/{id}");

    // Reads: the parties, not a stranger.
    let read = app.get(&path, &ally_token).await;
    assert_eq!(read.ok(StatusCode::OK)["duration_minutes"], 60);
    assert_eq!(read.headers[header::ETAG], "\"1\"");
    app.assert_not_found(&path, &stranger).await;
    app.assert_not_found("/api/v2/sessions/nope", &ally_token).await;
    app.assert_unauthorized(Method::GET, &path, None).await;
    assert_eq!(app.get(&sessions, &entrepreneur).await.ids(), [id.as_str()]);
    app.assert_not_found(&sessions, &stranger).await;
    app.get_refused(&format!("{sessions}?limit=0"), &entrepreneur, INVALID)
        .await;
    assert_eq!(app.get("/api/v2/sessions", &ally_token).await.ids(), [id.as_str()]);
    assert_eq!(
        app.get("/api/v2/sessions?status=scheduled", &entrepreneur).await.ids(),
        [id.as_str()]
    );
    assert!(
        app.get("/api/v2/sessions?status=completed", &entrepreneur)
            .await
            .ids()
            .is_empty()
    );
    assert!(app.get("/api/v2/sessions", &stranger).await.ids().is_empty());
    assert_eq!(
        app.get_invalid("/api/v2/sessions?status=done", &entrepreneur).await,
        ["status"]
    );
    app.assert_unauthorized(Method::GET, "/api/v2/sessions", None).await;

    // Reschedule: the new start passes every booking rule again.
    let reschedule = format!("{path}/reschedule");
    assert_eq!(
        app.post_invalid(&reschedule, json!({}), &entrepreneur).await,
        ["starts_at"]
    );
    assert_eq!(
        app.post_invalid(&reschedule, json!({ "starts_at": at(day_at(5, 10, 0)) }), &entrepreneur)
            .await,
        ["starts_at"]
    );
    app.post(&reschedule, json!({ "starts_at": at(day_at(2, 14, 0)) }), &stranger)
        .await
        .refused(NOT_FOUND);
    app.send(
        Method::POST,
        &reschedule,
        Some(json!({ "starts_at": at(day_at(2, 14, 0)) })),
        Some(&entrepreneur),
        Some(5),
    )
    .await
    .refused(CONFLICT);
    app.transition(&format!("{path}/confirm"), &ally_token, "confirmed")
        .await;
    let moved = app
        .post(
            &reschedule,
            json!({ "starts_at": at(day_at(2, 14, 0)), "version": 2 }),
            &entrepreneur,
        )
        .await;
    let moved = moved.ok(StatusCode::OK);
    assert_eq!(moved["status"], "scheduled");
    assert_eq!(moved["starts_at"], at(day_at(2, 14, 0)));
    assert_eq!(moved["reschedule_count"], 1);
    assert_eq!(moved["id"], id);

    // Cancel with a reason, once.
    app.post(
        &format!("{path}/cancel"),
        json!({ "reason": "r".repeat(501) }),
        &ally_token,
    )
    .await
    .refused(INVALID);
    let cancelled = app
        .post(
            &format!("{path}/cancel"),
            json!({ "reason": "travelling" }),
            &ally_token,
        )
        .await;
    let cancelled = cancelled.ok(StatusCode::OK);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "travelling");
    assert_eq!(cancelled["late_cancellation"], false);
    app.command_refused(&format!("{path}/cancel"), &ally_token, INVALID_TRANSITION)
        .await;
    app.post(&reschedule, json!({ "starts_at": at(day_at(3, 10, 0)) }), &entrepreneur)
        .await
        .refused(INVALID_TRANSITION);
}

#[tokio::test]
async fn mentorship_to_session_to_feedback() {
    let app = App::new().await;
    let (ally, ally_token) = ally(&app, 2).await;
    let (entrepreneur, token) = app.user(Role::Entrepreneur, "ent").await;
    let (_, stranger) = app.user(Role::Entrepreneur, "stranger").await;

    // Request, accept, book.
    let mentorship = app
        .post(
            "/api/v2/mentorships",
            json!({ "ally_id": ally.id().to_string(), "message": "Hello", "areas": ["Product"] }),
            &token,
        )
        .await
        .id();
    app.command(&format!("/api/v2/mentorships/{mentorship}/accept"), &ally_token)
        .await
        .ok(StatusCode::OK);
    let id = app
        .post(
            &format!("/api/v2/mentorships/{mentorship}/sessions"),
            json!({ "starts_at": at(day_at(1, 10, 0)), "duration_minutes": 45, "agenda": "Roadmap" }),
            &token,
        )
        .await
        .id();
    let path = format!("/api/v2/sessions/{id}");

    // Confirm: the ally's, with If-Match honoured.
    app.command_refused(&format!("{path}/confirm"), &token, FORBIDDEN).await;
    app.command_refused(&format!("{path}/confirm"), &stranger, NOT_FOUND)
        .await;
    app.send(
        Method::POST,
        &format!("{path}/confirm"),
        None,
        Some(&ally_token),
        Some(3),
    )
    .await
    .refused(CONFLICT);
    let confirmed = app
        .send(
            Method::POST,
            &format!("{path}/confirm"),
            None,
            Some(&ally_token),
            Some(1),
        )
        .await;
    assert_eq!(confirmed.ok(StatusCode::OK)["status"], "confirmed");
    app.command_refused(&format!("{path}/confirm"), &ally_token, INVALID_TRANSITION)
        .await;
    app.command_refused(&format!("{path}/complete"), &token, INVALID_TRANSITION)
        .await;

    // Starting opens 15 minutes before the start.
    let early = app.command(&format!("{path}/start"), &token).await;
    early.refused(INVALID);
    assert_eq!(early.fields(), ["starts_at"]);
    app.world.advance(day_at(1, 9, 50) - app.world.now());
    // The clock moved past the old tokens' lifetime.
    let (token, ally_token) = (app.token(&entrepreneur), app.token(&ally));
    let stranger = app.token(&app.world.person(Role::Entrepreneur, "late").await);
    app.transition(&format!("{path}/start"), &token, "in_progress").await;

    // Feedback waits for completion.
    app.post(&format!("{path}/feedback"), json!({ "rating": 5 }), &token)
        .await
        .refused(INVALID_TRANSITION);
    app.post(
        &format!("{path}/complete"),
        json!({ "summary": "s".repeat(5001) }),
        &ally_token,
    )
    .await
    .refused(INVALID);
    let completed = app
        .post(
            &format!("{path}/complete"),
            json!({ "summary": "Roadmap agreed" }),
            &ally_token,
        )
        .await;
    let completed = completed.ok(StatusCode::OK).clone();
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["summary"], "Roadmap agreed");
    assert!(completed["completed_at"].is_string());
    let version = completed["version"].as_u64().expect("version");

    // Feedback: 1–5, once per party, the parties only.
    let feedback = format!("{path}/feedback");
    app.assert_unauthorized(Method::POST, &feedback, Some(json!({ "rating": 5 })))
        .await;
    assert_eq!(
        app.post_invalid(&feedback, json!({ "comment": "great" }), &token).await,
        ["rating"]
    );
    assert_eq!(
        app.post_invalid(&feedback, json!({ "rating": 9, "comment": "c".repeat(2001) }), &token)
            .await,
        ["comment", "rating"]
    );
    app.post(&feedback, json!({ "rating": 5 }), &stranger)
        .await
        .refused(NOT_FOUND);
    let admin = app.token(&app.world.admin);
    app.post(&feedback, json!({ "rating": 5 }), &admin)
        .await
        .refused(FORBIDDEN);
    app.send(
        Method::POST,
        &feedback,
        Some(json!({ "rating": 5 })),
        Some(&token),
        Some(version + 1),
    )
    .await
    .refused(CONFLICT);
    let rated = app
        .send(
            Method::POST,
            &feedback,
            Some(json!({ "rating": 5, "comment": "Very useful" })),
            Some(&token),
            Some(version),
        )
        .await;
    let rated = rated.ok(StatusCode::OK).clone();
    assert_eq!(rated["entrepreneur_feedback"]["rating"], 5);
    assert_eq!(rated["entrepreneur_feedback"]["comment"], "Very useful");
    assert!(rated["ally_feedback"].is_null());
    app.post(&feedback, json!({ "rating": 4 }), &token)
        .await
        .refused(INVALID_TRANSITION);
    let both = app.post(&feedback, json!({ "rating": 4 }), &ally_token).await;
    assert_eq!(both.ok(StatusCode::OK)["ally_feedback"]["rating"], 4);

    // The entrepreneur's rating is the ally's average in the directory.
    let directory = app.get("/api/v2/allies", &token).await;
    let card = directory.ok(StatusCode::OK)["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["id"] == ally.id().to_string())
        .expect("the ally's card")
        .clone();
    assert_eq!(card["average_rating"], 5.0);
    assert_eq!(card["ratings_count"], 1);
    assert_eq!(card["active_mentees"], 1);

    // Completing the mentorship ends it.
    app.transition(
        &format!("/api/v2/mentorships/{mentorship}/complete"),
        &ally_token,
        "completed",
    )
    .await;
}

/// Every `$ref` inside `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_documents_the_mentoring_paths() {
    let app = App::new().await;
    let doc = app.send(Method::GET, "/api-docs/openapi.json", None, None, None).await;
    let doc = doc.ok(StatusCode::OK);
    let paths = doc["paths"].as_object().expect("paths");
    let expected = routes(
        &[
            ("/api/v2/mentorships", &["get", "post"]),
            ("/api/v2/mentorships/{id}", &["get"]),
            ("/api/v2/mentorships/{id}/sessions", &["get", "post"]),
            ("/api/v2/allies", &["get"]),
            ("/api/v2/allies/suggestions", &["get"]),
            ("/api/v2/allies/{id}/free-slots", &["get"]),
            ("/api/v2/allies/me/availability", &["get", "put"]),
            ("/api/v2/sessions", &["get"]),
            ("/api/v2/sessions/{id}", &["get"]),
            ("/api/v2/meetings", &["get", "post"]),
            ("/api/v2/meetings/{id}", &["get"]),
            ("/api/v2/meetings/{id}/participants", &["get", "post"]),
        ],
        &[
            (
                "/api/v2/mentorships/{id}",
                &["accept", "decline", "pause", "resume", "complete", "cancel"],
            ),
            (
                "/api/v2/sessions/{id}",
                &["confirm", "start", "complete", "cancel", "reschedule", "feedback"],
            ),
            (
                "/api/v2/meetings/{id}",
                &["respond", "start", "complete", "cancel", "reschedule"],
            ),
        ],
    );
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for (path, methods) in expected {
        for method in methods {
            let operation = &paths.get(&path).unwrap_or_else(|| panic!("{path} is not documented"))[method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.contains_key("401"), "{method} {path} lacks its 401");
            let mut found = Vec::new();
            refs(operation, &mut found);
            for r in found {
                let name = r.trim_start_matches("#/components/schemas/");
                assert!(schemas.contains_key(name), "{method} {path} refers to a missing {r}");
            }
        }
    }
    for schema in [
        "MentorshipDto",
        "AllyDto",
        "AvailabilityDto",
        "SessionDto",
        "MeetingDto",
        "ParticipantDto",
    ] {
        let properties = schemas[schema]["properties"].as_object().expect("properties");
        assert!(properties.contains_key("id"), "{schema} has no id");
    }
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for tag in ["mentorships", "allies", "sessions", "meetings"] {
        assert!(tags.contains(&tag), "tag {tag} missing from {tags:?}");
    }
}
