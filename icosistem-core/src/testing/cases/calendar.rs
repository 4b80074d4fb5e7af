//! Calendars (issue #12 "Calendars"): the calendar entry session and meeting emails carry for
//! their iCalendar invite (stable UID, growing SEQUENCE, cancelled at the end), and the private
//! feed resolved by its token alone — to its owner's items only, rotated and revoked.

use crate::error::Error;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::SessionAction;
use crate::testing::fixtures::*;

/// The calendar entry the newest `kind` email to `user` carries.
async fn entry_of<S: Store>(world: &World<S>, user: UserId, kind: &str) -> CalendarEntry {
    let mut mails = world.outbox(user, kind).await;
    mails.sort_by_key(|m| m.id);
    let mail = mails.pop().unwrap_or_else(|| panic!("no {kind} email"));
    assert!(
        world
            .notifications(user, kind)
            .await
            .iter()
            .all(|n| n.data.get("calendar").is_none()),
        "the in-app notification stays short"
    );
    serde_json::from_value(mail.data["calendar"].clone()).unwrap_or_else(|e| panic!("{kind}: {e}"))
}

fn assert_feed_not_found<T: std::fmt::Debug>(result: crate::error::Result<T>) {
    match result {
        Err(Error::NotFound {
            entity: "calendar_feed",
            ..
        }) => {}
        other => panic!("expected NotFound calendar_feed, got {other:?}"),
    }
}

/// A booked session's email carries its entry (UTC times, the ally organizing in their own time
/// zone, the entrepreneur attending); confirming and moving it keep the UID and raise the
/// SEQUENCE; cancelling it keeps the UID, raises the SEQUENCE and marks it cancelled. Meetings
/// do the same.
pub async fn session_and_meeting_emails_carry_their_calendar_entry<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let session = world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;

    let booked = entry_of(&world, ally.id(), "session_booked").await;
    assert_eq!(booked.uid, format!("session-{}@icosistem", session.id));
    assert_eq!(booked.status, CalendarStatus::Tentative);
    assert_eq!((booked.starts_at, booked.ends_at), (session.starts_at, session.ends_at));
    assert_eq!(booked.organizer.email, ally.email());
    assert_eq!(booked.timezone, ally.user.timezone.as_str());
    assert_eq!(
        booked.attendees.iter().map(|p| p.email.as_str()).collect::<Vec<_>>(),
        [mentee.person.email()]
    );

    let run = |by: &Person, action| {
        let (eco, ctx) = (world.eco.clone(), by.ctx.clone());
        async move {
            eco.session_command(&ctx, session.id, action, None)
                .await
                .expect("command")
        }
    };
    run(&ally, SessionAction::Confirm).await;
    let confirmed = entry_of(&world, mentee.person.id(), "session_confirmed").await;
    run(
        &mentee.person,
        SessionAction::Reschedule {
            starts_at: day_at(2, 12, 0),
        },
    )
    .await;
    let moved = entry_of(&world, ally.id(), "session_rescheduled").await;
    run(&ally, SessionAction::Cancel { reason: None }).await;
    let cancelled = entry_of(&world, mentee.person.id(), "session_cancelled").await;

    for entry in [&confirmed, &moved, &cancelled] {
        assert_eq!(entry.uid, booked.uid, "one UID per session");
    }
    assert!(
        booked.sequence < confirmed.sequence
            && confirmed.sequence < moved.sequence
            && moved.sequence < cancelled.sequence,
        "SEQUENCE grows: {} {} {} {}",
        booked.sequence,
        confirmed.sequence,
        moved.sequence,
        cancelled.sequence
    );
    assert_eq!(confirmed.status, CalendarStatus::Confirmed);
    assert_eq!(moved.starts_at, day_at(2, 12, 0));
    assert_eq!(cancelled.status, CalendarStatus::Cancelled);

    let guest = world.entrepreneur().await;
    let meeting = world
        .meeting(&ally, &[&guest], day_at(3, 10, 0), day_at(3, 11, 0))
        .await;
    let invited = entry_of(&world, guest.id(), "meeting_invitation").await;
    assert_eq!(invited.uid, format!("meeting-{}@icosistem", meeting.id));
    assert_eq!(invited.title, meeting.title);
    assert_eq!(invited.organizer.email, ally.email());
    world
        .eco
        .meeting_command(&ally.ctx, meeting.id, crate::service::MeetingAction::Cancel, None)
        .await
        .expect("cancel meeting");
    let called_off = entry_of(&world, guest.id(), "meeting_cancelled").await;
    assert_eq!(called_off.uid, invited.uid);
    assert!(called_off.sequence > invited.sequence);
    assert_eq!(called_off.status, CalendarStatus::Cancelled);
}

/// A feed's token resolves to its owner's feed only, which lists the owner's sessions and
/// meetings (a cancelled one marked cancelled) and nobody else's; only the hash is stored;
/// issuing again rotates (the old token is refused at once) and revoking refuses the token.
/// Anonymous callers cannot issue one.
pub async fn calendar_feed_tokens_resolve_rotate_and_revoke<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    let other = world.mentee(&ally).await;
    let mine = world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;
    let theirs = world.book(&other.person, other.id(), day_at(3, 10, 0), 60).await;
    let dropped = world.book(&mentee.person, mentee.id(), day_at(4, 10, 0), 60).await;
    eco.session_command(&ally.ctx, dropped.id, SessionAction::Cancel { reason: None }, None)
        .await
        .expect("cancel");
    let stranger = world.entrepreneur().await;
    let meeting = world
        .meeting(&stranger, &[&mentee.person], day_at(5, 10, 0), day_at(5, 11, 0))
        .await;

    assert!(matches!(
        expect_err(eco.issue_calendar_feed(&crate::Context::anonymous()).await),
        Error::Forbidden(_)
    ));
    assert_eq!(eco.my_calendar_feed(&mentee.person.ctx).await.expect("read"), None);
    let first = eco.issue_calendar_feed(&mentee.person.ctx).await.expect("issue");
    let stored: Vec<CalendarFeed> = world.rows(CalendarFeedFilter::default()).await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, first.token, "only the hash is stored");
    assert_eq!(stored[0].token_hash, secret::hash_token(&first.token));
    world.audited("calendar_feed.create", first.feed.id).await;

    let view = eco.calendar_feed(&first.token).await.expect("feed");
    assert_eq!(view.user.id, mentee.person.id());
    let uids: Vec<&str> = view.entries.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(
        uids,
        [
            format!("session-{}@icosistem", mine.id),
            format!("session-{}@icosistem", dropped.id),
            format!("meeting-{}@icosistem", meeting.id),
        ],
        "the owner's items by start, nobody else's"
    );
    assert!(!uids.contains(&format!("session-{}@icosistem", theirs.id).as_str()));
    assert_eq!(view.entries[1].status, CalendarStatus::Cancelled);

    // The other mentee's feed is theirs alone.
    let other_feed = eco.issue_calendar_feed(&other.person.ctx).await.expect("issue");
    let view = eco.calendar_feed(&other_feed.token).await.expect("feed");
    assert_eq!(view.user.id, other.person.id());
    assert_eq!(view.entries.len(), 1);
    assert_eq!(view.entries[0].uid, format!("session-{}@icosistem", theirs.id));

    // Rotation: the same feed, a new token; the old one is refused at once.
    let second = eco.issue_calendar_feed(&mentee.person.ctx).await.expect("rotate");
    assert_eq!(second.feed.id, first.feed.id);
    assert_ne!(second.token, first.token);
    assert!(second.feed.meta.version > first.feed.meta.version);
    assert_feed_not_found(eco.calendar_feed(&first.token).await);
    assert_eq!(
        eco.calendar_feed(&second.token).await.expect("feed").user.id,
        mentee.person.id()
    );
    world.audited("calendar_feed.rotate", first.feed.id).await;

    // Revoking: the token is refused, a second revoke finds nothing, a new issue works again.
    eco.revoke_calendar_feed(&mentee.person.ctx).await.expect("revoke");
    assert_feed_not_found(eco.calendar_feed(&second.token).await);
    assert_feed_not_found(eco.revoke_calendar_feed(&mentee.person.ctx).await);
    assert_eq!(eco.my_calendar_feed(&mentee.person.ctx).await.expect("read"), None);
    world.audited("calendar_feed.revoke", first.feed.id).await;
    assert_feed_not_found(eco.calendar_feed("").await);
    assert_feed_not_found(eco.calendar_feed("not-a-token").await);
    let third = eco.issue_calendar_feed(&mentee.person.ctx).await.expect("issue again");
    assert!(eco.calendar_feed(&third.token).await.is_ok());
    // The other user's feed was never touched.
    assert!(eco.calendar_feed(&other_feed.token).await.is_ok());
}
