//! iCalendar invites end to end: the core books, confirms, moves and cancels a session (and a
//! meeting) on the memory store, the outbox is delivered by the SMTP notifier to a real SMTP
//! server (aiosmtpd), and every invite received is read back with Python's `icalendar` package
//! (PyPI): one UID per session, a growing SEQUENCE, `METHOD:CANCEL` + `STATUS:CANCELLED` last.
//!
//! Needs `python3` with `aiosmtpd` and `icalendar`; without them the test prints a skip line,
//! unless `ICOSISTEM_REQUIRE_SERVICES=1`, where it fails.
#![cfg(feature = "smtp")]

use std::time::Duration;

use icosistem_core::service::{MeetingAction, SessionAction};
use icosistem_core::testing::fixtures::{World, day_at};
use icosistem_delivery::testing::{SmtpSink, icalendar_available, read_icalendar, smtp_sink_available};
use icosistem_delivery::{SmtpConfig, SmtpNotifier};
use icosistem_store_memory::MemoryStore;
use serde_json::Value;

fn config(port: u16) -> SmtpConfig {
    let vars = [
        ("MAIL_SERVER", "127.0.0.1".to_owned()),
        ("MAIL_PORT", port.to_string()),
        ("MAIL_DEFAULT_SENDER", "Icosistem <no-reply@icosistem.test>".to_owned()),
        ("ICOSISTEM_PUBLIC_URL", "https://app.icosistem.test".to_owned()),
    ];
    SmtpConfig::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
        .expect("valid config")
        .expect("MAIL_SERVER set")
}

/// The one event of a calendar read by the checker.
fn event(calendar: &Value) -> &Value {
    let events = calendar["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "an invite holds one event: {calendar}");
    &events[0]
}

#[tokio::test]
async fn invites_parse_with_icalendar_and_follow_the_session() {
    if !smtp_sink_available() || !icalendar_available() {
        return;
    }
    let sink = SmtpSink::start().await;
    let notifier = SmtpNotifier::new(&config(sink.port())).expect("notifier");
    let world = World::with_notifier(MemoryStore::new(), notifier).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    // Deliver what the set-up wrote (mentorship mails), so only the session's mails follow.
    eco.deliver_outbox(100).await.expect("deliver");
    let before = sink.received().len();

    let session = world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;
    let run = |by: &icosistem_core::testing::fixtures::Person, action| {
        let (eco, ctx) = (eco.clone(), by.ctx.clone());
        async move {
            eco.session_command(&ctx, session.id, action, None)
                .await
                .expect("command")
        }
    };
    run(&ally, SessionAction::Confirm).await;
    run(
        &mentee.person,
        SessionAction::Reschedule {
            starts_at: day_at(2, 14, 0),
        },
    )
    .await;
    run(
        &ally,
        SessionAction::Cancel {
            reason: Some("travel".into()),
        },
    )
    .await;
    // One round per step keeps the arrival order the order of the changes.
    let report = eco.deliver_outbox(100).await.expect("deliver");
    assert_eq!(report.failed, 0, "{report:?}");
    let mails = sink.wait_for(before + 4, Duration::from_secs(10)).await;
    let mails = &mails[before..];
    assert_eq!(mails.len(), 4, "booked, confirmed, rescheduled, cancelled");

    let calendars = read_icalendar(mails);
    // Each mail carries the invite twice (the text/calendar alternative and invite.ics is
    // application/ics), so the checker sees one text/calendar part per mail.
    let calendars = calendars.as_array().expect("list");
    assert_eq!(calendars.len(), 4, "one text/calendar part per mail: {calendars:?}");
    let uid = format!("session-{}@icosistem", session.id);
    let mut by_sequence: Vec<&Value> = calendars.iter().collect();
    by_sequence.sort_by_key(|c| event(c)["sequence"].as_i64());
    let methods: Vec<&str> = by_sequence.iter().map(|c| c["method"].as_str().unwrap_or("")).collect();
    assert_eq!(methods, ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]);
    let sequences: Vec<i64> = by_sequence
        .iter()
        .map(|c| event(c)["sequence"].as_i64().expect("sequence"))
        .collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]),
        "SEQUENCE grows: {sequences:?}"
    );
    for calendar in &by_sequence {
        let ev = event(calendar);
        assert_eq!(ev["uid"], uid.as_str(), "one UID per session: {calendar}");
        assert_eq!(calendar["timezone"], "UTC", "the ally's zone is named");
        assert_eq!(ev["organizer"], format!("mailto:{}", ally.email()).as_str());
        assert!(
            ev["attendees"].as_array().is_some_and(|a| a
                .iter()
                .any(|x| x == &Value::from(format!("mailto:{}", mentee.person.email())))),
            "{ev}"
        );
        // As Python's email package renders it (`method="request"`): compare without quotes.
        let content_type = calendar["content_type"]
            .as_str()
            .expect("content type")
            .to_lowercase()
            .replace('"', "");
        let method = calendar["method"].as_str().expect("method").to_lowercase();
        assert!(content_type.contains(&format!("method={method}")), "{content_type}");
    }
    let [booked, confirmed, moved, cancelled] = by_sequence[..] else {
        unreachable!()
    };
    assert_eq!(event(booked)["status"], "TENTATIVE");
    assert_eq!(event(booked)["dtstart"], "2030-03-06T10:00:00+00:00");
    assert_eq!(event(confirmed)["status"], "CONFIRMED");
    assert_eq!(event(moved)["dtstart"], "2030-03-06T14:00:00+00:00");
    assert_eq!(event(moved)["dtend"], "2030-03-06T15:00:00+00:00");
    assert_eq!(event(cancelled)["status"], "CANCELLED");
    // The attachment is there too, for clients that only import attachments.
    assert!(
        mails.iter().all(|m| m.contains("invite.ics")),
        "an invite.ics attachment"
    );

    // A meeting: invitation, then its cancellation, same UID.
    let guest = world.entrepreneur().await;
    eco.deliver_outbox(100).await.expect("deliver");
    let before = sink.received().len();
    let meeting = world.meeting(&ally, &[&guest], day_at(3, 9, 0), day_at(3, 10, 0)).await;
    eco.meeting_command(&ally.ctx, meeting.id, MeetingAction::Cancel, None)
        .await
        .expect("cancel");
    eco.deliver_outbox(100).await.expect("deliver");
    let mails = sink.wait_for(before + 2, Duration::from_secs(10)).await;
    let calendars = read_icalendar(&mails[before..]);
    let mut calendars: Vec<Value> = calendars.as_array().expect("list").clone();
    calendars.sort_by_key(|c| event(c)["sequence"].as_i64());
    assert_eq!(calendars.len(), 2);
    assert_eq!(
        (calendars[0]["method"].as_str(), calendars[1]["method"].as_str()),
        (Some("REQUEST"), Some("CANCEL"))
    );
    assert_eq!(event(&calendars[0])["uid"], event(&calendars[1])["uid"]);
    assert_eq!(event(&calendars[0])["summary"], meeting.title.as_str());
    assert_eq!(event(&calendars[1])["status"], "CANCELLED");
}
