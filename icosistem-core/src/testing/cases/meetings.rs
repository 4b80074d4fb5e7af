//! Meetings (docs/domain.md §4.8): the time rules, invitations and answers, one invitation per
//! person, the lifecycle (rescheduling keeps the id) and who may see a meeting at all.

use std::sync::Arc;

use chrono::Duration;

use crate::error::Error;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::MeetingAction;
use crate::testing::fixtures::*;

#[track_caller]
fn assert_meeting_transition(error: &Error, from: &str, command: &str) {
    assert!(
        matches!(
            error,
            Error::InvalidTransition { entity: "meeting", from: f, command: c } if *f == from && *c == command
        ),
        "expected InvalidTransition {{ meeting, {from}, {command} }}, got {error:?}"
    );
}

/// A meeting starts before it ends, lasts at most 8 hours and starts at least 5 minutes from
/// now; every failing rule is reported together (with any other bad field), on scheduling and
/// on rescheduling, and a refused reschedule changes nothing. The limits themselves are allowed.
pub async fn meeting_time_rules_are_reported_together<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let organizer = world.person(Role::Client, "client").await;
    let guest = world.ally().await;
    let now = world.now();
    let schedule = |title: &str, starts_at, ends_at| {
        eco.schedule_meeting(
            &organizer.ctx,
            meeting_input(title, starts_at, ends_at, vec![guest.id()]),
        )
    };

    let error = expect_err(schedule("x", now - Duration::hours(1), now - Duration::hours(2)).await);
    assert_fields(&error, &["title", "starts_at", "ends_at"]);
    let error = expect_err(schedule("Board", now + Duration::hours(1), now + Duration::hours(1)).await);
    assert_fields(&error, &["ends_at"]);
    let error = expect_err(
        schedule(
            "Board",
            now + Duration::hours(1),
            now + Duration::hours(9) + Duration::minutes(1),
        )
        .await,
    );
    assert_fields(&error, &["ends_at"]);
    let error = expect_err(schedule("Board", now + Duration::minutes(4), now + Duration::hours(1)).await);
    assert_fields(&error, &["starts_at"]);
    assert_eq!(world.count(MeetingFilter::default()).await, 0);
    world.assert_not_notified(guest.id(), "meeting_invitation").await;

    let start = now + Duration::minutes(5);
    let (meeting, _) = schedule("Board", start, start + Duration::hours(8))
        .await
        .expect("the limits themselves are fine");
    for (starts_at, ends_at, fields) in [
        (
            now - Duration::hours(1),
            now - Duration::hours(2),
            &["starts_at", "ends_at"][..],
        ),
        (now + Duration::hours(1), now + Duration::hours(10), &["ends_at"][..]),
        (now + Duration::minutes(1), now + Duration::hours(1), &["starts_at"][..]),
    ] {
        let error = expect_err(
            eco.meeting_command(
                &organizer.ctx,
                meeting.id,
                MeetingAction::Reschedule { starts_at, ends_at },
                None,
            )
            .await,
        );
        assert_fields(&error, fields);
    }
    let stored: Meeting = world.row(meeting.id).await.expect("meeting");
    assert_eq!(
        (stored.starts_at, stored.ends_at, stored.status, stored.meta.version),
        (
            meeting.starts_at,
            meeting.ends_at,
            MeetingStatus::Scheduled,
            meeting.meta.version
        )
    );
    assert_eq!(world.count(MeetingFilter::default()).await, 1);
}

/// Scheduling invites every participant (`pending`) and notifies each of them in-app and by
/// email, not the organizer; each answer (`accepted`, `tentative`, `declined`, changeable)
/// reaches the organizer. `pending` is no answer; the organizer has no invitation to answer;
/// a stranger does not see the meeting.
pub async fn meeting_invitations_notify_and_answers_reach_the_organizer<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let organizer = world.person(Role::Client, "client").await;
    let ally = world.ally().await;
    let entrepreneur = world.entrepreneur().await;
    let stranger = world.entrepreneur().await;
    let (meeting, participants) = eco
        .schedule_meeting(
            &organizer.ctx,
            meeting_input(
                "Investor readiness",
                day_at(1, 10, 0),
                day_at(1, 11, 0),
                vec![ally.id(), entrepreneur.id()],
            ),
        )
        .await
        .expect("schedule");
    assert_eq!(meeting.attendee_ids, vec![organizer.id(), ally.id(), entrepreneur.id()]);
    assert_eq!(
        participants.iter().map(|p| (p.user_id, p.response)).collect::<Vec<_>>(),
        vec![
            (ally.id(), ParticipantResponse::Pending),
            (entrepreneur.id(), ParticipantResponse::Pending),
        ]
    );
    for guest in [&ally, &entrepreneur] {
        let invitation = world.assert_notified(guest.id(), "meeting_invitation").await;
        assert_eq!(invitation.data["meeting_id"], serde_json::json!(meeting.id));
    }
    world.assert_not_notified(organizer.id(), "meeting_invitation").await;
    world.audited("meeting.schedule", meeting.id).await;

    let answer = |who: &Person, response| {
        let eco = Arc::clone(eco);
        let ctx = who.ctx.clone();
        async move { eco.respond_to_meeting(&ctx, meeting.id, response).await }
    };
    let accepted = answer(&ally, ParticipantResponse::Accepted).await.expect("answer");
    assert_eq!(accepted.response, ParticipantResponse::Accepted);
    assert_eq!(accepted.responded_at, Some(world.now()));
    let heard = world.assert_notified(organizer.id(), "meeting_response").await;
    assert_eq!(heard.data["response"], serde_json::json!("accepted"));
    answer(&entrepreneur, ParticipantResponse::Tentative)
        .await
        .expect("answer");
    answer(&entrepreneur, ParticipantResponse::Declined)
        .await
        .expect("a changed answer");
    assert_eq!(world.notifications(organizer.id(), "meeting_response").await.len(), 3);
    let listed = eco
        .list_participants(&entrepreneur.ctx, meeting.id)
        .await
        .expect("participants");
    assert_eq!(
        listed.iter().map(|p| (p.user_id, p.response)).collect::<Vec<_>>(),
        vec![
            (ally.id(), ParticipantResponse::Accepted),
            (entrepreneur.id(), ParticipantResponse::Declined),
        ]
    );

    assert_fields(
        &expect_err(answer(&ally, ParticipantResponse::Pending).await),
        &["response"],
    );
    assert_forbidden(&expect_err(answer(&organizer, ParticipantResponse::Accepted).await));
    assert_not_found(
        &expect_err(answer(&stranger, ParticipantResponse::Accepted).await),
        "meeting",
    );
    let answers = world.audit_count("meeting.respond").await;
    assert_eq!(answers, 3);
}

/// One invitation per (meeting, user): inviting someone again is `Conflict { meeting_participant,
/// meeting_user }`, also when five invitations of one person race (exactly one is stored and
/// notified); listing someone twice, the organizer, or an unknown user when scheduling is a
/// validation error.
pub async fn duplicate_meeting_participant_conflicts<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let organizer = world.person(Role::Client, "client").await;
    let ally = world.ally().await;
    let latecomer = world.entrepreneur().await;
    let meeting = world
        .meeting(&organizer, &[&ally], day_at(1, 10, 0), day_at(1, 11, 0))
        .await;

    let error = expect_err(eco.add_participant(&organizer.ctx, meeting.id, ally.id()).await);
    assert_conflict(&error, "meeting_participant", "meeting_user");
    let error = expect_err(eco.add_participant(&organizer.ctx, meeting.id, organizer.id()).await);
    assert_fields(&error, &["user_id"]);
    let start = day_at(2, 10, 0);
    let end = day_at(2, 11, 0);
    for (participants, field) in [
        (vec![ally.id(), ally.id()], "participant_ids"),
        (vec![organizer.id()], "participant_ids"),
        (
            vec![latecomer.id(), world.admin.id(), meeting.organizer_id],
            "participant_ids",
        ),
    ] {
        let error = expect_err(
            eco.schedule_meeting(&organizer.ctx, meeting_input("Demo day", start, end, participants))
                .await,
        );
        assert_fields(&error, &[field]);
    }
    let unknown = UserId::from_uuid(uuid::Uuid::now_v7());
    let error = expect_err(
        eco.schedule_meeting(
            &organizer.ctx,
            meeting_input("Demo day", start, end, vec![ally.id(), unknown]),
        )
        .await,
    );
    assert_fields(&error, &["participant_ids[1]"]);
    assert_eq!(world.count(MeetingFilter::default()).await, 1);

    let futures = (0..5)
        .map(|_| {
            let eco = Arc::clone(eco);
            let ctx = organizer.ctx.clone();
            let (id, user) = (meeting.id, latecomer.id());
            async move { eco.add_participant(&ctx, id, user).await }
        })
        .collect();
    let mut added = 0;
    for result in race(futures).await {
        match result {
            Ok(participant) => {
                assert_eq!(participant.user_id, latecomer.id());
                added += 1;
            }
            Err(error) => assert_conflict(&error, "meeting_participant", "meeting_user"),
        }
    }
    assert_eq!(added, 1);
    let participants = world
        .rows(ParticipantFilter {
            meeting_id: Some(meeting.id),
            ..Default::default()
        })
        .await;
    assert_eq!(participants.len(), 2);
    let stored: Meeting = world.row(meeting.id).await.expect("meeting");
    assert_eq!(stored.attendee_ids, vec![organizer.id(), ally.id(), latecomer.id()]);
    world.assert_notified(latecomer.id(), "meeting_invitation").await;
}

/// Only the organizer runs a meeting. Rescheduling keeps the id, the `scheduled` status and
/// every answer, checks the version, and tells every attendee but the organizer;
/// `scheduled → in_progress → completed`, `scheduled → cancelled` (attendees told), anything
/// else is `InvalidTransition`; a finished meeting takes no answers or invitations.
pub async fn meeting_lifecycle_keeps_the_id<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let organizer = world.person(Role::Client, "client").await;
    let ally = world.ally().await;
    let entrepreneur = world.entrepreneur().await;
    let latecomer = world.entrepreneur().await;
    let meeting = world
        .meeting(&organizer, &[&ally, &entrepreneur], day_at(1, 10, 0), day_at(1, 11, 0))
        .await;
    eco.respond_to_meeting(&ally.ctx, meeting.id, ParticipantResponse::Accepted)
        .await
        .expect("answer");
    let command = |who: &Person, action: MeetingAction, version: Option<u64>| {
        let eco = Arc::clone(eco);
        let ctx = who.ctx.clone();
        async move { eco.meeting_command(&ctx, meeting.id, action, version).await }
    };
    let moved_to = MeetingAction::Reschedule {
        starts_at: day_at(1, 14, 0),
        ends_at: day_at(1, 15, 30),
    };

    assert_forbidden(&expect_err(command(&ally, MeetingAction::Cancel, None).await));
    assert_forbidden(&expect_err(command(&ally, moved_to.clone(), None).await));
    let error = expect_err(command(&organizer, moved_to.clone(), Some(meeting.meta.version + 1)).await);
    assert_conflict(&error, "meeting", "version");
    let moved = command(&organizer, moved_to, Some(meeting.meta.version))
        .await
        .expect("reschedule");
    assert_eq!(moved.id, meeting.id);
    assert_eq!(moved.status, MeetingStatus::Scheduled);
    assert_eq!((moved.starts_at, moved.ends_at), (day_at(1, 14, 0), day_at(1, 15, 30)));
    let answers: Vec<_> = eco
        .list_participants(&organizer.ctx, meeting.id)
        .await
        .expect("participants")
        .iter()
        .map(|p| p.response)
        .collect();
    assert_eq!(
        answers,
        vec![ParticipantResponse::Accepted, ParticipantResponse::Pending]
    );
    for attendee in [&ally, &entrepreneur] {
        let notice = world.assert_notified(attendee.id(), "meeting_rescheduled").await;
        assert_eq!(notice.data["previous_starts_at"], serde_json::json!(day_at(1, 10, 0)));
    }
    world.assert_not_notified(organizer.id(), "meeting_rescheduled").await;

    let started = command(&organizer, MeetingAction::Start, None).await.expect("start");
    assert_eq!(started.status, MeetingStatus::InProgress);
    let error = expect_err(
        command(
            &organizer,
            MeetingAction::Reschedule {
                starts_at: day_at(2, 10, 0),
                ends_at: day_at(2, 11, 0),
            },
            None,
        )
        .await,
    );
    assert_meeting_transition(&error, "in_progress", "reschedule");
    let error = expect_err(command(&organizer, MeetingAction::Cancel, None).await);
    assert_meeting_transition(&error, "in_progress", "cancel");
    let completed = command(&organizer, MeetingAction::Complete, None)
        .await
        .expect("complete");
    assert_eq!((completed.id, completed.status), (meeting.id, MeetingStatus::Completed));
    let error = expect_err(command(&organizer, MeetingAction::Start, None).await);
    assert_meeting_transition(&error, "completed", "start");
    let error = expect_err(
        eco.respond_to_meeting(&entrepreneur.ctx, meeting.id, ParticipantResponse::Accepted)
            .await,
    );
    assert_meeting_transition(&error, "completed", "respond");
    let error = expect_err(eco.add_participant(&organizer.ctx, meeting.id, latecomer.id()).await);
    assert_meeting_transition(&error, "completed", "add_participant");

    let other = world
        .meeting(&organizer, &[&ally, &entrepreneur], day_at(2, 10, 0), day_at(2, 11, 0))
        .await;
    let cancelled = eco
        .meeting_command(&organizer.ctx, other.id, MeetingAction::Cancel, None)
        .await
        .expect("cancel");
    assert_eq!((cancelled.id, cancelled.status), (other.id, MeetingStatus::Cancelled));
    for attendee in [&ally, &entrepreneur] {
        world.assert_notified(attendee.id(), "meeting_cancelled").await;
    }
    let error = expect_err(
        eco.meeting_command(&organizer.ctx, other.id, MeetingAction::Start, None)
            .await,
    );
    assert_meeting_transition(&error, "cancelled", "start");
    for action in ["meeting.reschedule", "meeting.start", "meeting.complete"] {
        world.audited(action, meeting.id).await;
    }
    world.audited("meeting.cancel", other.id).await;
}

/// A meeting exists only for its attendees and admins: a stranger gets `NotFound` from every
/// command and read, and an empty "my meetings".
pub async fn meetings_are_invisible_to_non_attendees<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let organizer = world.person(Role::Client, "client").await;
    let ally = world.ally().await;
    let stranger = world.entrepreneur().await;
    let meeting = world
        .meeting(&organizer, &[&ally], day_at(1, 10, 0), day_at(1, 11, 0))
        .await;
    let ctx = &stranger.ctx;
    let id = meeting.id;

    assert_not_found(&expect_err(eco.get_meeting(ctx, id).await), "meeting");
    assert_not_found(&expect_err(eco.list_participants(ctx, id).await), "meeting");
    assert_not_found(
        &expect_err(eco.meeting_command(ctx, id, MeetingAction::Cancel, None).await),
        "meeting",
    );
    assert_not_found(
        &expect_err(eco.respond_to_meeting(ctx, id, ParticipantResponse::Accepted).await),
        "meeting",
    );
    assert_not_found(
        &expect_err(eco.add_participant(ctx, id, stranger.id()).await),
        "meeting",
    );
    let mine = |who: &Person| {
        let eco = Arc::clone(eco);
        let ctx = who.ctx.clone();
        async move {
            eco.list_my_meetings(&ctx, MeetingFilter::default(), PageRequest::all())
                .await
                .expect("list")
                .items
                .iter()
                .map(|m| m.id)
                .collect::<Vec<_>>()
        }
    };
    assert!(mine(&stranger).await.is_empty());
    assert_eq!(mine(&ally).await, vec![id]);
    assert_eq!(mine(&organizer).await, vec![id]);
    assert_eq!(eco.get_meeting(&ally.ctx, id).await.expect("attendee").id, id);
    assert_eq!(eco.get_meeting(&world.admin.ctx, id).await.expect("admin").id, id);
    let stored: Meeting = world.row(id).await.expect("meeting");
    assert_eq!(stored.status, MeetingStatus::Scheduled);
    assert_eq!(stored.attendee_ids, vec![organizer.id(), ally.id()]);
}
