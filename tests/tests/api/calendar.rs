//! Private calendar feeds over HTTP on the memory store: issued (and rotated) by the caller,
//! read without a bearer token as `text/calendar` by whoever holds the URL, revoked; the feed
//! lists the owner's sessions and meetings only and is read back with Python's `icalendar`
//! package (PyPI): a moved session keeps its UID with a higher SEQUENCE, a cancelled one shows
//! `STATUS:CANCELLED`.

use axum::http::{Method, StatusCode, header};
use icosistem_core::model::Role;
use icosistem_core::service::SessionAction;
use icosistem_core::testing::fixtures::day_at;
use icosistem_delivery::testing::{icalendar_available, read_icalendar};
use serde_json::Value;

use crate::common::{App, NOT_FOUND, Reply};

const ME: &str = "/api/v2/users/me/calendar-feed";

async fn feed(app: &App, path: &str) -> Reply {
    app.send(Method::GET, path, None, None, None).await
}

/// The one event of the Python reading of `ics` with `uid`.
fn event<'a>(read: &'a Value, uid: &str) -> &'a Value {
    read[0]["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["uid"] == uid)
        .unwrap_or_else(|| panic!("no event {uid} in {read}"))
}

#[tokio::test]
async fn a_feed_is_issued_read_by_its_url_rotated_and_revoked() {
    let app = App::new().await;
    let world = &app.world;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let other = world.mentee(&ally).await;
    let mine = world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;
    let theirs = world.book(&other.person, other.id(), day_at(2, 14, 0), 60).await;
    let dropped = world.book(&mentee.person, mentee.id(), day_at(3, 10, 0), 60).await;
    let token = app.token(&mentee.person);

    app.assert_unauthorized(Method::POST, ME, None).await;
    let none = app.get(ME, &token).await;
    assert_eq!(none.ok(StatusCode::OK)["active"], false);

    let issued = app.send(Method::POST, ME, None, Some(&token), None).await;
    let body = issued.ok(StatusCode::CREATED).clone();
    assert_eq!(issued.headers[header::CACHE_CONTROL], "no-store", "the URL is a secret");
    let path = body["path"].as_str().expect("path").to_owned();
    assert!(
        path.starts_with("/api/v2/calendar/") && path.ends_with(".ics"),
        "{path}"
    );
    assert!(body["url"].as_str().expect("url").ends_with(&path));
    assert!(body["webcal_url"].as_str().expect("webcal").starts_with("webcal://"));
    let status = app.get(ME, &token).await;
    let status = status.ok(StatusCode::OK);
    assert_eq!(status["active"], true);
    assert!(
        status.get("path").is_none() && status.get("url").is_none(),
        "never shown again"
    );

    // Read with no credentials but the URL.
    let reply = feed(&app, &path).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
    let ics = reply.raw.clone();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.contains("METHOD:PUBLISH\r\n"));
    let uid = |id: &dyn std::fmt::Display| format!("session-{id}@icosistem");
    assert!(ics.contains(&uid(&mine.id)) && ics.contains(&uid(&dropped.id)));
    assert!(
        !ics.contains(&uid(&theirs.id)),
        "another user's session leaked into the feed"
    );

    // Move one session, cancel the other: the feed follows.
    let eco = &world.eco;
    eco.session_command(
        &mentee.person.ctx,
        mine.id,
        SessionAction::Reschedule {
            starts_at: day_at(2, 16, 0),
        },
        None,
    )
    .await
    .expect("reschedule");
    eco.session_command(&ally.ctx, dropped.id, SessionAction::Cancel { reason: None }, None)
        .await
        .expect("cancel");
    let after = feed(&app, &path).await;
    assert_eq!(after.status, StatusCode::OK);
    if icalendar_available() {
        let before = read_icalendar(std::slice::from_ref(&ics));
        let now = read_icalendar(std::slice::from_ref(&after.raw));
        assert_eq!(now[0]["method"], "PUBLISH");
        assert_eq!(now[0]["timezone"], "UTC", "the owner's zone is named");
        let (was, is) = (event(&before, &uid(&mine.id)), event(&now, &uid(&mine.id)));
        assert!(is["sequence"].as_i64() > was["sequence"].as_i64(), "{was} → {is}");
        assert_eq!(is["dtstart"], "2030-03-06T16:00:00+00:00");
        assert_eq!(event(&now, &uid(&dropped.id))["status"], "CANCELLED");
        assert_eq!(now[0]["events"].as_array().map(Vec::len), Some(2));
    } else {
        assert!(after.raw.contains("STATUS:CANCELLED\r\n"));
    }

    // The other mentee's feed lists their session only.
    let other_token = app.token(&other.person);
    let other_issued = app.send(Method::POST, ME, None, Some(&other_token), None).await;
    let other_path = other_issued.ok(StatusCode::CREATED)["path"]
        .as_str()
        .expect("path")
        .to_owned();
    let other_feed = feed(&app, &other_path).await;
    assert!(other_feed.raw.contains(&uid(&theirs.id)));
    assert!(!other_feed.raw.contains(&uid(&mine.id)));

    // Rotation: the old URL is gone at once, the new one works.
    let rotated = app.send(Method::POST, ME, None, Some(&token), None).await;
    let new_path = rotated.ok(StatusCode::CREATED)["path"]
        .as_str()
        .expect("path")
        .to_owned();
    assert_ne!(new_path, path);
    feed(&app, &path).await.refused(NOT_FOUND);
    assert_eq!(feed(&app, &new_path).await.status, StatusCode::OK);

    // Revoking: 204, then the URL is 404 and a second revoke finds nothing.
    let revoked = app.send(Method::DELETE, ME, None, Some(&token), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.raw);
    feed(&app, &new_path).await.refused(NOT_FOUND);
    app.send(Method::DELETE, ME, None, Some(&token), None)
        .await
        .refused(NOT_FOUND);
    assert_eq!(app.get(ME, &token).await.ok(StatusCode::OK)["active"], false);
    // The other feed still works; a path without `.ics` or with a made-up token is 404.
    assert_eq!(feed(&app, &other_path).await.status, StatusCode::OK);
    feed(&app, other_path.trim_end_matches(".ics")).await.refused(NOT_FOUND);
    feed(&app, "/api/v2/calendar/made-up.ics").await.refused(NOT_FOUND);
}

#[tokio::test]
async fn meetings_are_in_the_feed_of_every_attendee() {
    let app = App::new().await;
    let (organizer, organizer_token) = app.user(Role::Client, "organizer").await;
    let (guest, guest_token) = app.user(Role::Entrepreneur, "guest").await;
    let (_, outsider_token) = app.user(Role::Entrepreneur, "outsider").await;
    let meeting = app
        .world
        .meeting(&organizer, &[&guest], day_at(1, 10, 0), day_at(1, 11, 0))
        .await;
    let uid = format!("meeting-{}@icosistem", meeting.id);
    for (token, listed) in [(&organizer_token, true), (&guest_token, true), (&outsider_token, false)] {
        let issued = app.send(Method::POST, ME, None, Some(token), None).await;
        let path = issued.ok(StatusCode::CREATED)["path"]
            .as_str()
            .expect("path")
            .to_owned();
        let reply = feed(&app, &path).await;
        assert_eq!(reply.raw.contains(&uid), listed, "{}", reply.raw);
        if listed && icalendar_available() {
            let read = read_icalendar(std::slice::from_ref(&reply.raw));
            let ev = event(&read, &uid);
            assert_eq!(ev["summary"], meeting.title.as_str());
            assert_eq!(ev["dtstart"], "2030-03-05T10:00:00+00:00");
            assert_eq!(ev["organizer"], format!("mailto:{}", organizer.email()).as_str());
        }
    }
}
