//! Mentorship sessions (docs/domain.md §4.6, §4.7): every booking rule with the field it fails on,
//! bookings under concurrency, bookings across a daylight-saving change, the session lifecycle,
//! late cancellations, rescheduling, no-shows and feedback.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

use crate::error::Error;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{BookSession, SessionAction};
use crate::testing::fixtures::*;
use crate::workflow::mentorship::MentorshipCommand;

const NOTICE: &str = "at least 24 hours from now";
const OUTSIDE: &str = "outside the ally's availability";
const ALLY_SESSION: &str = "overlaps another session of the ally";
const ENTREPRENEUR_SESSION: &str = "overlaps another session of the entrepreneur";
const ALLY_MEETING: &str = "overlaps a meeting of the ally";
const ENTREPRENEUR_MEETING: &str = "overlaps a meeting of the entrepreneur";
const PER_DAY: &str = "the most per day";

async fn session_of<S: Store>(world: &World<S>, id: SessionId) -> Session {
    world.row(id).await.expect("session")
}

/// The sessions `ally` holds on day `day` (as [`day_at`] counts), whole.
async fn held_on<S: Store>(world: &World<S>, ally: &Person, day: i64) -> Vec<Session> {
    held_between(world, ally, day_at(day, 0, 0), day_at(day + 1, 0, 0)).await
}

/// Non-cancelled sessions of `ally` overlapping `[from, to)`.
async fn held_between<S: Store>(
    world: &World<S>,
    ally: &Person,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Session> {
    world
        .rows(SessionFilter {
            ally_id: Some(ally.id()),
            occupying_only: true,
            overlapping_from: Some(from),
            overlapping_to: Some(to),
            ..Default::default()
        })
        .await
}

async fn run<S: Store>(world: &World<S>, by: &Person, id: SessionId, action: SessionAction) -> Session {
    world
        .eco
        .session_command(&by.ctx, id, action.clone(), None)
        .await
        .unwrap_or_else(|e| panic!("{action:?} failed: {e:?}"))
}

#[track_caller]
fn assert_mentorship_not_active(error: &Error, from: &str, command: &str) {
    assert_invalid_transition(error, "mentorship", from, Some(command));
}

/// Ten entrepreneurs, each in an active mentorship with the same ally, book overlapping hours
/// at once: exactly one booking succeeds, the nine others are `Validation` on `starts_at`
/// (overlap with the ally's session), and one session holds that window.
pub async fn concurrent_overlapping_bookings_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.available_ally().await;
    let mut mentees = Vec::new();
    for _ in 0..10 {
        mentees.push(world.mentee(&ally).await);
    }
    let futures = mentees
        .iter()
        .enumerate()
        .map(|(i, mentee)| {
            let eco = Arc::clone(&world.eco);
            let ctx = mentee.person.ctx.clone();
            let id = mentee.id();
            let starts_at = day_at(2, 10, 0) + chrono::Duration::minutes(5 * i as i64);
            async move { eco.book_session(&ctx, id, booking(starts_at, 60)).await }
        })
        .collect();
    let results = race(futures).await;
    let mut booked = Vec::new();
    for result in results {
        match result {
            Ok(session) => booked.push(session),
            Err(error) => assert_messages(&error, "starts_at", &[ALLY_SESSION]),
        }
    }
    assert_eq!(booked.len(), 1, "{booked:?}");
    let held = held_between(&world, &ally, day_at(2, 9, 0), day_at(2, 13, 0)).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].id, booked[0].id);
    let all = world
        .count(SessionFilter {
            ally_id: Some(ally.id()),
            ..Default::default()
        })
        .await;
    assert_eq!(all, 1);
}

/// An ally in America/New_York offers Monday 09:00–12:00. New York moves to daylight time on
/// Sunday 2031-03-09: `free_slots` offers 09:00 local as 14:00Z the Monday before and 13:00Z the
/// Monday after; bookings at those instants are stored as given and read 09:00 locally, while
/// 09:00 written with the offset of the other side of the change is outside the availability.
pub async fn booking_across_a_dst_change_lands_on_the_right_instant<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let zone = "America/New_York";
    let ally = world
        .mentor(
            crate::model::AllyProfile::default(),
            zone,
            vec![slot(0, (9, 0), (12, 0))],
        )
        .await;
    let mentee = world.mentee(&ally).await;
    world
        .clock
        .set(Utc.with_ymd_and_hms(2031, 3, 1, 12, 0, 0).single().expect("instant"));
    let utc = |d, h| Utc.with_ymd_and_hms(2031, 3, d, h, 0, 0).single().expect("instant");
    let before = NaiveDate::from_ymd_opt(2031, 3, 3).expect("date");
    let after = NaiveDate::from_ymd_opt(2031, 3, 10).expect("date");
    let eco = &world.eco;
    let ctx = &mentee.person.ctx;

    let hourly = eco
        .free_slots(ctx, ally.id(), utc(3, 0), utc(11, 0), Some(60))
        .await
        .expect("free slots");
    let mut expected = Vec::new();
    for date in [before, after] {
        for (h, m) in [(9, 0), (9, 30), (10, 0), (10, 30), (11, 0)] {
            expected.push(local(zone, date, h, m));
        }
    }
    assert_eq!(hourly, expected);
    assert_eq!(hourly[0], utc(3, 14));
    assert_eq!(hourly[5], utc(10, 13));

    // A three-hour session fills the slot: one start per Monday.
    let whole = eco
        .free_slots(ctx, ally.id(), utc(3, 0), utc(11, 0), Some(180))
        .await
        .expect("free slots");
    assert_eq!(whole, vec![utc(3, 14), utc(10, 13)]);

    // 09:00 with the offsets of the wrong side of the change: 10:00 EDT and 08:00 EST.
    let est = FixedOffset::west_opt(5 * 3600).expect("offset");
    let edt = FixedOffset::west_opt(4 * 3600).expect("offset");
    let stale = est
        .with_ymd_and_hms(2031, 3, 10, 9, 0, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc);
    let early = edt
        .with_ymd_and_hms(2031, 3, 3, 9, 0, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc);
    for wrong in [stale, early] {
        let error = expect_err(eco.book_session(ctx, mentee.id(), booking(wrong, 180)).await);
        assert_messages(&error, "starts_at", &[OUTSIDE]);
    }

    let tz: chrono_tz::Tz = zone.parse().expect("zone");
    for (day, offered) in [(before, whole[0]), (after, whole[1])] {
        let session = world.book(&mentee.person, mentee.id(), offered, 180).await;
        let stored = session_of(&world, session.id).await;
        assert_eq!(stored.starts_at, offered);
        assert_eq!(stored.ends_at, offered + chrono::Duration::hours(3));
        let local_start = stored.starts_at.with_timezone(&tz);
        assert_eq!(local_start.date_naive(), day);
        assert_eq!(local_start.format("%H:%M").to_string(), "09:00");
    }
    assert_eq!(stale, utc(10, 14));
    assert_eq!(early, utc(3, 13));
}

/// A session starts at least 24 hours from now (exactly 24 h is fine) and lasts 15–240 minutes
/// (60 when not given); each rule fails on its own field, and both are reported together.
pub async fn booking_needs_24_hours_notice_and_a_valid_duration<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let ctx = &mentee.person.ctx;
    let id = mentee.id();

    let error = expect_err(eco.book_session(ctx, id, booking(day_at(1, 8, 59), 60)).await);
    assert_messages(&error, "starts_at", &[NOTICE]);
    let error = expect_err(eco.book_session(ctx, id, booking(day_at(1, 8, 0), 10)).await);
    assert_fields(&error, &["starts_at", "duration_minutes"]);
    for minutes in [14, 241] {
        let error = expect_err(eco.book_session(ctx, id, booking(day_at(2, 10, 0), minutes)).await);
        assert_fields(&error, &["duration_minutes"]);
    }
    assert_eq!(world.count(SessionFilter::default()).await, 0);

    let default = eco
        .book_session(
            ctx,
            id,
            BookSession {
                starts_at: world.now() + chrono::Duration::hours(24),
                duration_minutes: None,
                agenda: Some("  Pricing  ".to_owned()),
            },
        )
        .await
        .expect("exactly 24 hours ahead");
    assert_eq!(default.duration_minutes, 60);
    assert_eq!(default.ends_at, day_at(1, 10, 0));
    assert_eq!(default.agenda.as_deref(), Some("Pricing"));
    assert_eq!(default.status, SessionStatus::Scheduled);
    let shortest = world.book(&mentee.person, id, day_at(2, 8, 0), 15).await;
    assert_eq!(shortest.ends_at, day_at(2, 8, 15));
    let longest = world.book(&mentee.person, id, day_at(3, 8, 0), 240).await;
    assert_eq!(longest.ends_at, day_at(3, 12, 0));
    assert_eq!(world.count(SessionFilter::default()).await, 3);
}

/// The whole session lies inside one weekly slot read in the ally's time zone: a weekend, a
/// session running past the slot's end or starting before it are refused; one ending exactly at
/// the end is fine; an ally in America/Bogota is booked by Bogotá's clock; an ally without a
/// published schedule cannot be booked.
pub async fn booking_must_lie_inside_the_allys_availability<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let (ctx, id) = (&mentee.person.ctx, mentee.id());
    for starts_at in [day_at(5, 10, 0), day_at(1, 17, 30), day_at(2, 7, 30)] {
        let error = expect_err(eco.book_session(ctx, id, booking(starts_at, 60)).await);
        assert_messages(&error, "starts_at", &[OUTSIDE]);
    }
    world.book(&mentee.person, id, day_at(1, 17, 0), 60).await;

    let bogota = world
        .mentor(crate::model::AllyProfile::default(), "America/Bogota", weekdays(9, 12))
        .await;
    let far = world.mentee(&bogota).await;
    let error = expect_err(
        eco.book_session(&far.person.ctx, far.id(), booking(day_at(1, 9, 0), 60))
            .await,
    );
    assert_messages(&error, "starts_at", &[OUTSIDE]);
    let session = world.book(&far.person, far.id(), day_at(1, 14, 0), 60).await;
    assert_eq!(session.starts_at, day_at(1, 14, 0));
    let error = expect_err(
        eco.book_session(&far.person.ctx, far.id(), booking(day_at(1, 16, 30), 60))
            .await,
    );
    assert_messages(&error, "starts_at", &[OUTSIDE]);

    let unscheduled = world.ally().await;
    let lost = world.mentee(&unscheduled).await;
    let error = expect_err(
        eco.book_session(&lost.person.ctx, lost.id(), booking(day_at(1, 10, 0), 60))
            .await,
    );
    assert_messages(&error, "starts_at", &["has not published any availability"]);
}

/// An entrepreneur mentored by two allies cannot hold two sessions closer than the 15-minute
/// buffer, whichever ally they are with; the other ally's other mentees are not affected, and a
/// cancelled session stops blocking.
pub async fn booking_keeps_clear_of_the_entrepreneurs_other_sessions<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let first_ally = world.available_ally().await;
    let second_ally = world.available_ally().await;
    let first = world.mentee(&first_ally).await;
    let entrepreneur = first.person.clone();
    let request = world.request_mentorship(&entrepreneur, &second_ally).await;
    let second = world
        .mentorship_step(&second_ally, request.id, MentorshipCommand::Accept)
        .await;

    let held = world.book(&entrepreneur, first.id(), day_at(2, 10, 0), 60).await;
    for starts_at in [day_at(2, 10, 30), day_at(2, 11, 10), day_at(2, 9, 0)] {
        let error = expect_err(
            eco.book_session(&entrepreneur.ctx, second.id, booking(starts_at, 60))
                .await,
        );
        assert_messages(&error, "starts_at", &[ENTREPRENEUR_SESSION]);
    }
    world.book(&entrepreneur, second.id, day_at(2, 11, 15), 60).await;
    let other = world.mentee(&second_ally).await;
    world.book(&other.person, other.id(), day_at(2, 10, 0), 60).await;

    run(&world, &entrepreneur, held.id, SessionAction::Cancel { reason: None }).await;
    let again = world.book(&entrepreneur, first.id(), day_at(2, 10, 0), 60).await;
    assert_ne!(again.id, held.id);
}

/// A session keeps 15 minutes clear of every non-cancelled meeting the ally or the entrepreneur
/// attends (as organizer or participant); a meeting both attend is reported once; a cancelled
/// meeting no longer blocks.
pub async fn booking_keeps_clear_of_meetings_of_either_party<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let client = world.person(Role::Client, "client").await;
    let (ctx, id) = (&mentee.person.ctx, mentee.id());

    let allys = world
        .meeting(&client, &[&ally], day_at(2, 10, 0), day_at(2, 11, 0))
        .await;
    let own = world
        .meeting(&mentee.person, &[], day_at(3, 10, 0), day_at(3, 11, 0))
        .await;
    world
        .meeting(&client, &[&ally, &mentee.person], day_at(4, 10, 0), day_at(4, 11, 0))
        .await;
    for (starts_at, message) in [
        (day_at(2, 10, 30), ALLY_MEETING),
        (day_at(2, 11, 10), ALLY_MEETING),
        (day_at(3, 10, 30), ENTREPRENEUR_MEETING),
        (day_at(3, 8, 50), ENTREPRENEUR_MEETING),
        (day_at(4, 10, 0), ALLY_MEETING),
    ] {
        let error = expect_err(eco.book_session(ctx, id, booking(starts_at, 60)).await);
        assert_messages(&error, "starts_at", &[message]);
    }
    assert_eq!(world.count(SessionFilter::default()).await, 0);
    world.book(&mentee.person, id, day_at(3, 11, 15), 30).await;

    eco.meeting_command(&client.ctx, allys.id, crate::service::MeetingAction::Cancel, None)
        .await
        .expect("cancel");
    eco.meeting_command(&mentee.person.ctx, own.id, crate::service::MeetingAction::Cancel, None)
        .await
        .expect("cancel");
    world.book(&mentee.person, id, day_at(2, 10, 30), 60).await;
    world.book(&mentee.person, id, day_at(3, 10, 0), 30).await;
}

/// The buffer edge: with a session 10:00–11:00, another session of the ally may end at 09:45 or
/// start at 11:15 (exactly 15 minutes apart) but not at 08:46 or 11:14.
pub async fn booking_buffer_of_exactly_fifteen_minutes_is_allowed<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let first = world.mentee(&ally).await;
    let second = world.mentee(&ally).await;
    world.book(&first.person, first.id(), day_at(2, 10, 0), 60).await;
    for starts_at in [day_at(2, 11, 14), day_at(2, 8, 46)] {
        let error = expect_err(
            eco.book_session(&second.person.ctx, second.id(), booking(starts_at, 60))
                .await,
        );
        assert_messages(&error, "starts_at", &[ALLY_SESSION]);
    }
    let after = world.book(&second.person, second.id(), day_at(2, 11, 15), 60).await;
    let before = world.book(&second.person, second.id(), day_at(2, 8, 45), 60).await;
    assert_eq!(before.ends_at, day_at(2, 9, 45));
    assert_eq!(after.starts_at, day_at(2, 11, 15));
    assert_eq!(held_on(&world, &ally, 2).await.len(), 3);
}

/// An ally holds at most 4 sessions a day: a fifth on that day is refused (`starts_at`) and
/// `free_slots` offers nothing more that day; another day is fine; cancelling one frees a place.
pub async fn max_sessions_per_day_is_enforced<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let first = world.mentee(&ally).await;
    let second = world.mentee(&ally).await;
    let mut wednesday = Vec::new();
    for hour in [8, 10, 12, 14] {
        wednesday.push(world.book(&first.person, first.id(), day_at(2, hour, 0), 30).await);
    }
    let fifth = || eco.book_session(&second.person.ctx, second.id(), booking(day_at(2, 16, 0), 30));
    assert_messages(&expect_err(fifth().await), "starts_at", &[PER_DAY]);
    let free = || {
        eco.free_slots(
            &second.person.ctx,
            ally.id(),
            day_at(2, 0, 0),
            day_at(3, 0, 0),
            Some(30),
        )
    };
    assert!(free().await.expect("free slots").is_empty());
    world.book(&second.person, second.id(), day_at(3, 16, 0), 30).await;

    run(
        &world,
        &first.person,
        wednesday[0].id,
        SessionAction::Cancel { reason: None },
    )
    .await;
    assert!(free().await.expect("free slots").contains(&day_at(2, 16, 0)));
    fifth().await.expect("a cancelled session frees its place");
    assert!(free().await.expect("free slots").is_empty());
    assert_eq!(held_on(&world, &ally, 2).await.len(), 4);
}

/// Sessions are booked only in an active mentorship: requested, paused and completed ones are
/// `InvalidTransition { mentorship, .., book_session }`; someone who is not a party gets
/// `NotFound`, an anonymous caller `Forbidden`; nothing is stored.
pub async fn booking_needs_an_active_mentorship<S: Store + Clone>(store: S) {
    use MentorshipCommand as C;
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let slot_ok = booking(day_at(1, 10, 0), 60);

    let asking = world.entrepreneur().await;
    let requested = world.request_mentorship(&asking, &ally).await;
    let error = expect_err(eco.book_session(&asking.ctx, requested.id, slot_ok.clone()).await);
    assert_mentorship_not_active(&error, "requested", "book_session");

    let paused = world.mentee(&ally).await;
    world.mentorship_step(&ally, paused.id(), C::Pause).await;
    let error = expect_err(eco.book_session(&ally.ctx, paused.id(), slot_ok.clone()).await);
    assert_mentorship_not_active(&error, "paused", "book_session");

    let done = world.mentee(&ally).await;
    world.mentorship_step(&ally, done.id(), C::Complete).await;
    let error = expect_err(eco.book_session(&done.person.ctx, done.id(), slot_ok.clone()).await);
    assert_mentorship_not_active(&error, "completed", "book_session");

    let active = world.mentee(&ally).await;
    let stranger = world.entrepreneur().await;
    let error = expect_err(eco.book_session(&stranger.ctx, active.id(), slot_ok.clone()).await);
    assert_not_found(&error, "mentorship");
    let error = expect_err(
        eco.book_session(&crate::Context::anonymous(), active.id(), slot_ok.clone())
            .await,
    );
    assert_forbidden(&error);
    assert_eq!(world.count(SessionFilter::default()).await, 0);
    world.book(&ally, active.id(), day_at(1, 10, 0), 60).await;
}

/// Sessions live inside their mentorship: ending it (cancel or complete) cancels its sessions that
/// are still ahead in the same unit of work, while a paused one keeps them.
pub async fn ending_a_mentorship_cancels_its_upcoming_sessions<S: Store + Clone>(store: S) {
    use MentorshipCommand as C;
    let world = World::new(store).await;
    let ally = world.available_ally().await;

    let ended = world.mentee(&ally).await;
    let first = world.book(&ally, ended.id(), day_at(1, 9, 0), 60).await;
    let second = world.book(&ally, ended.id(), day_at(2, 9, 0), 60).await;
    world.mentorship_step(&ally, ended.id(), C::Complete).await;
    for id in [first.id, second.id] {
        let session = world.eco.get_session(&ally.ctx, id).await.expect("still visible");
        assert_eq!(session.status, SessionStatus::Cancelled, "{id}");
    }

    let paused = world.mentee(&ally).await;
    let kept = world.book(&ally, paused.id(), day_at(3, 9, 0), 60).await;
    world.mentorship_step(&ally, paused.id(), C::Pause).await;
    let session = world.eco.get_session(&ally.ctx, kept.id).await.expect("visible");
    assert_eq!(session.status, SessionStatus::Scheduled);
}

/// `scheduled → confirmed → in_progress → completed`: only the ally confirms (the entrepreneur
/// is `Forbidden`, a stranger `NotFound`); starting is allowed from 15 minutes before the start;
/// each step notifies the other party and is audited once; a completed session cannot be
/// cancelled.
pub async fn session_runs_from_confirmation_to_completion<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let stranger = world.entrepreneur().await;
    let session = world.book(&mentee.person, mentee.id(), day_at(1, 10, 0), 60).await;
    let booked = world.assert_notified(ally.id(), "session_booked").await;
    assert_eq!(booked.data["session_id"], serde_json::json!(session.id));
    world.assert_not_notified(mentee.person.id(), "session_booked").await;

    let error = expect_err(
        eco.session_command(&mentee.person.ctx, session.id, SessionAction::Start, None)
            .await,
    );
    assert_invalid_transition(&error, "session", "scheduled", Some("start"));
    assert_forbidden(&expect_err(
        eco.session_command(&mentee.person.ctx, session.id, SessionAction::Confirm, None)
            .await,
    ));
    assert_not_found(
        &expect_err(
            eco.session_command(&stranger.ctx, session.id, SessionAction::Confirm, None)
                .await,
        ),
        "session",
    );
    assert_not_found(&expect_err(eco.get_session(&stranger.ctx, session.id).await), "session");
    let confirmed = run(&world, &ally, session.id, SessionAction::Confirm).await;
    assert_eq!(confirmed.status, SessionStatus::Confirmed);
    world.assert_notified(mentee.person.id(), "session_confirmed").await;

    world.clock.set(day_at(1, 9, 44));
    let error = expect_err(
        eco.session_command(&mentee.person.ctx, session.id, SessionAction::Start, None)
            .await,
    );
    assert_fields(&error, &["starts_at"]);
    world.clock.set(day_at(1, 9, 45));
    let started = run(&world, &mentee.person, session.id, SessionAction::Start).await;
    assert_eq!(started.status, SessionStatus::InProgress);
    world.clock.set(day_at(1, 10, 55));
    let completed = run(
        &world,
        &ally,
        session.id,
        SessionAction::Complete {
            summary: Some("Unit economics reviewed.".to_owned()),
        },
    )
    .await;
    assert_eq!(completed.status, SessionStatus::Completed);
    assert_eq!(completed.completed_at, Some(day_at(1, 10, 55)));
    assert_eq!(completed.summary.as_deref(), Some("Unit economics reviewed."));
    world.assert_notified(mentee.person.id(), "session_completed").await;
    let error = expect_err(
        eco.session_command(&ally.ctx, session.id, SessionAction::Cancel { reason: None }, None)
            .await,
    );
    assert_invalid_transition(&error, "session", "completed", Some("cancel"));
    for action in ["session.book", "session.confirm", "session.start", "session.complete"] {
        world.audited(action, session.id).await;
    }
}

/// A cancellation less than 24 hours before the start is late; exactly 24 hours or more is not.
/// The reason is kept, the other party is told (with the late flag), and a cancelled session
/// cannot be cancelled again.
pub async fn cancellation_inside_24_hours_is_late<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let soon = world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;
    let edge = world.book(&mentee.person, mentee.id(), day_at(2, 12, 0), 60).await;
    let later = world.book(&mentee.person, mentee.id(), day_at(2, 14, 0), 60).await;
    world.clock.set(day_at(1, 12, 0));

    let cancel = |reason: &str| SessionAction::Cancel {
        reason: Some(reason.to_owned()),
    };
    let late = run(&world, &mentee.person, soon.id, cancel("Sick")).await;
    assert_eq!(late.status, SessionStatus::Cancelled);
    assert!(late.late_cancellation);
    assert_eq!(late.cancel_reason.as_deref(), Some("Sick"));
    assert!(
        !run(&world, &mentee.person, edge.id, cancel("Travel"))
            .await
            .late_cancellation
    );
    assert!(!run(&world, &ally, later.id, cancel("Conflict")).await.late_cancellation);

    let told_ally = world.notifications(ally.id(), "session_cancelled").await;
    assert_eq!(told_ally.len(), 2);
    let flags: Vec<(serde_json::Value, serde_json::Value)> = told_ally
        .iter()
        .map(|n| (n.data["session_id"].clone(), n.data["late_cancellation"].clone()))
        .collect();
    assert!(flags.contains(&(serde_json::json!(soon.id), serde_json::json!(true))));
    assert!(flags.contains(&(serde_json::json!(edge.id), serde_json::json!(false))));
    world.assert_notified(mentee.person.id(), "session_cancelled").await;

    let error = expect_err(
        eco.session_command(
            &mentee.person.ctx,
            soon.id,
            SessionAction::Cancel { reason: None },
            None,
        )
        .await,
    );
    assert_invalid_transition(&error, "session", "cancelled", Some("cancel"));
    assert!(session_of(&world, soon.id).await.late_cancellation);
}

/// Rescheduling keeps the id and the duration, goes back to `scheduled`, adds one to the count,
/// may overlap the session's own old time, and re-checks every booking rule against the new
/// start (a refused move changes nothing); the other party is told; in a paused mentorship it is
/// refused.
pub async fn reschedule_keeps_the_id_and_rechecks_the_rules<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let other = world.mentee(&ally).await;
    let others = world.book(&other.person, other.id(), day_at(3, 10, 0), 60).await;
    let session = world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;
    run(&world, &ally, session.id, SessionAction::Confirm).await;

    let moved = run(
        &world,
        &mentee.person,
        session.id,
        SessionAction::Reschedule {
            starts_at: day_at(2, 10, 30),
        },
    )
    .await;
    assert_eq!(moved.id, session.id);
    assert_eq!(moved.status, SessionStatus::Scheduled);
    assert_eq!(moved.reschedule_count, 1);
    assert_eq!((moved.starts_at, moved.ends_at), (day_at(2, 10, 30), day_at(2, 11, 30)));
    let notice = world.assert_notified(ally.id(), "session_rescheduled").await;
    assert_eq!(notice.data["previous_starts_at"], serde_json::json!(day_at(2, 10, 0)));

    for (starts_at, message) in [
        (day_at(3, 10, 30), ALLY_SESSION),
        (day_at(5, 10, 0), OUTSIDE),
        (day_at(1, 8, 0), NOTICE),
    ] {
        let error = expect_err(
            eco.session_command(
                &mentee.person.ctx,
                session.id,
                SessionAction::Reschedule { starts_at },
                None,
            )
            .await,
        );
        assert_messages(&error, "starts_at", &[message]);
    }
    let unchanged = session_of(&world, session.id).await;
    assert_eq!(
        (unchanged.starts_at, unchanged.reschedule_count),
        (day_at(2, 10, 30), 1)
    );

    let again = run(
        &world,
        &ally,
        session.id,
        SessionAction::Reschedule {
            starts_at: day_at(3, 12, 0),
        },
    )
    .await;
    assert_eq!(
        (again.id, again.reschedule_count, again.duration_minutes),
        (session.id, 2, 60)
    );
    assert_eq!(world.count(SessionFilter::default()).await, 2);

    world.mentorship_step(&ally, other.id(), MentorshipCommand::Pause).await;
    let error = expect_err(
        eco.session_command(
            &other.person.ctx,
            others.id,
            SessionAction::Reschedule {
                starts_at: day_at(4, 10, 0),
            },
            None,
        )
        .await,
    );
    assert_mentorship_not_active(&error, "paused", "reschedule_session");
    assert_eq!(session_of(&world, others.id).await.starts_at, day_at(3, 10, 0));
}

/// The no-show sweep marks scheduled and confirmed sessions 24 hours after their start, not a
/// minute earlier, tells both parties, audits it as the system, and leaves completed sessions
/// alone. Only the platform marks no-shows.
pub async fn no_show_is_marked_24_hours_after_the_start<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let confirmed = world.book(&mentee.person, mentee.id(), day_at(1, 10, 0), 60).await;
    let held = world.book(&mentee.person, mentee.id(), day_at(1, 12, 0), 60).await;
    let scheduled = world.book(&mentee.person, mentee.id(), day_at(1, 14, 0), 60).await;
    run(&world, &ally, confirmed.id, SessionAction::Confirm).await;
    run(&world, &ally, held.id, SessionAction::Confirm).await;
    world.clock.set(day_at(1, 11, 50));
    run(&world, &ally, held.id, SessionAction::Start).await;
    run(&world, &ally, held.id, SessionAction::Complete { summary: None }).await;

    world.clock.set(day_at(2, 9, 59));
    let report = eco.sweep_no_shows().await.expect("sweep");
    assert_eq!((report.processed, report.notified), (0, 0));
    assert_fields(
        &expect_err(eco.mark_no_show(&crate::Context::system(), confirmed.id).await),
        &["starts_at"],
    );
    world.clock.set(day_at(2, 10, 0));
    assert_forbidden(&expect_err(eco.mark_no_show(&world.admin.ctx, confirmed.id).await));
    let report = eco.sweep_no_shows().await.expect("sweep");
    assert_eq!((report.processed, report.notified), (1, 2));
    assert_eq!(session_of(&world, confirmed.id).await.status, SessionStatus::NoShow);
    assert_eq!(session_of(&world, scheduled.id).await.status, SessionStatus::Scheduled);
    world.assert_notified(ally.id(), "session_no_show").await;
    world.assert_notified(mentee.person.id(), "session_no_show").await;
    let event = world.audited("session.no_show", confirmed.id).await;
    assert_eq!((event.actor_kind.as_str(), event.actor_id), ("system", None));

    world.clock.set(day_at(2, 14, 0));
    let report = eco.sweep_no_shows().await.expect("sweep");
    assert_eq!((report.processed, report.notified), (1, 2));
    assert_eq!(session_of(&world, scheduled.id).await.status, SessionStatus::NoShow);
    assert_eq!(session_of(&world, held.id).await.status, SessionStatus::Completed);
    let error = expect_err(
        eco.session_command(&ally.ctx, confirmed.id, SessionAction::Cancel { reason: None }, None)
            .await,
    );
    assert_invalid_transition(&error, "session", "no_show", None);
}

async fn ally_ratings<S: Store>(world: &World<S>, ally: &Person) -> (u32, u32, Option<u32>) {
    let profile = world
        .eco
        .get_profile(&ally.ctx, ally.id())
        .await
        .expect("profile")
        .expect("ally profile");
    match profile.data {
        ProfileData::Ally(a) => (a.ratings_total, a.ratings_count, a.average_rating_centi()),
        other => panic!("not an ally profile: {other:?}"),
    }
}

/// Feedback comes after completion, once per side, rated 1–5. The entrepreneur's ratings make
/// the ally's average (the ally's own feedback does not count); the other party is told; admins
/// who are not parties are `Forbidden`, strangers get `NotFound`; the ally editing their profile
/// can neither reset nor forge the ratings.
pub async fn feedback_is_given_once_per_side_and_rates_the_ally<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let stranger = world.entrepreneur().await;
    let first = world.book(&mentee.person, mentee.id(), day_at(1, 10, 0), 60).await;
    let second = world.book(&mentee.person, mentee.id(), day_at(1, 12, 0), 60).await;
    for session in [&first, &second] {
        run(&world, &ally, session.id, SessionAction::Confirm).await;
    }
    let error = expect_err(eco.session_feedback(&mentee.person.ctx, second.id, 5, None).await);
    assert_invalid_transition(&error, "session", "confirmed", Some("feedback"));
    for session in [&first, &second] {
        world.clock.set(session.starts_at);
        run(&world, &ally, session.id, SessionAction::Start).await;
        run(&world, &ally, session.id, SessionAction::Complete { summary: None }).await;
    }

    let rated = eco
        .session_feedback(&mentee.person.ctx, first.id, 4, Some("Very useful".to_owned()))
        .await
        .expect("feedback");
    let feedback = rated.entrepreneur_feedback.expect("stored");
    assert_eq!(
        (feedback.rating.get(), feedback.comment.as_deref()),
        (4, Some("Very useful"))
    );
    assert_eq!(ally_ratings(&world, &ally).await, (4, 1, Some(400)));
    let notice = world.assert_notified(ally.id(), "session_feedback_received").await;
    assert_eq!(notice.data["rating"], serde_json::json!(4));
    let error = expect_err(eco.session_feedback(&mentee.person.ctx, first.id, 5, None).await);
    assert_invalid_transition(&error, "session_feedback", "given", None);
    for rating in [0, 6] {
        assert_fields(
            &expect_err(eco.session_feedback(&mentee.person.ctx, second.id, rating, None).await),
            &["rating"],
        );
    }
    assert_forbidden(&expect_err(
        eco.session_feedback(&world.admin.ctx, first.id, 5, None).await,
    ));
    assert_not_found(
        &expect_err(eco.session_feedback(&stranger.ctx, first.id, 5, None).await),
        "session",
    );

    eco.session_feedback(&ally.ctx, first.id, 2, None)
        .await
        .expect("ally feedback");
    assert_eq!(ally_ratings(&world, &ally).await, (4, 1, Some(400)));
    world
        .assert_notified(mentee.person.id(), "session_feedback_received")
        .await;
    assert!(matches!(
        expect_err(eco.session_feedback(&ally.ctx, first.id, 3, None).await),
        Error::InvalidTransition {
            entity: "session_feedback",
            ..
        }
    ));
    eco.session_feedback(&mentee.person.ctx, second.id, 5, None)
        .await
        .expect("feedback");
    assert_eq!(ally_ratings(&world, &ally).await, (9, 2, Some(450)));
    let both = session_of(&world, first.id).await;
    assert!(both.ally_feedback.is_some() && both.entrepreneur_feedback.is_some());

    eco.update_my_profile(
        &ally.ctx,
        ProfileData::Ally(AllyProfile {
            max_mentees: 4,
            ratings_total: 500,
            ratings_count: 100,
            ..AllyProfile::default()
        }),
        None,
    )
    .await
    .expect("profile edit");
    assert_eq!(ally_ratings(&world, &ally).await, (9, 2, Some(450)));
}

/// Six sessions of one ally, each of a different mentee, are moved to the same hour at once:
/// exactly one move succeeds, the others are `Validation` on `starts_at` and leave their session
/// where it was.
pub async fn concurrent_reschedules_into_one_slot_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.available_ally().await;
    let mut sessions = Vec::new();
    for (day, hour) in [(1, 10), (1, 12), (1, 14), (3, 10), (3, 12), (3, 14)] {
        let mentee = world.mentee(&ally).await;
        let session = world.book(&mentee.person, mentee.id(), day_at(day, hour, 0), 60).await;
        sessions.push((mentee, session));
    }
    let target = day_at(2, 10, 0);
    let futures = sessions
        .iter()
        .map(|(mentee, session)| {
            let eco = Arc::clone(&world.eco);
            let ctx = mentee.person.ctx.clone();
            let id = session.id;
            async move {
                eco.session_command(&ctx, id, SessionAction::Reschedule { starts_at: target }, None)
                    .await
            }
        })
        .collect();
    let results = race(futures).await;
    let mut winners = Vec::new();
    for ((_, before), result) in sessions.iter().zip(results) {
        match result {
            Ok(moved) => {
                assert_eq!(
                    (moved.id, moved.starts_at, moved.reschedule_count),
                    (before.id, target, 1)
                );
                winners.push(moved.id);
            }
            Err(error) => {
                assert_messages(&error, "starts_at", &[ALLY_SESSION]);
                let stored = session_of(&world, before.id).await;
                assert_eq!((stored.starts_at, stored.reschedule_count), (before.starts_at, 0));
            }
        }
    }
    assert_eq!(winners.len(), 1);
    let held = held_on(&world, &ally, 2).await;
    assert_eq!(held.iter().map(|s| s.id).collect::<Vec<_>>(), winners);
}
