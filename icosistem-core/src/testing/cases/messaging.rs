//! Messaging (docs/domain.md §7): one direct conversation per pair under concurrent opens, who
//! may open one, context conversations seated from their context, exact unread counts, blocks
//! either way, the sender's edit window and delete, the per-minute limit, the email digest, and
//! an audit trail without bodies.

use std::sync::Arc;

use chrono::Duration;

use crate::error::Error;
use crate::model::*;
use crate::ports::RecordingNotifier;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{ConversationView, MESSAGE_RECEIVED, OpenConversation};
use crate::testing::fixtures::*;

async fn open_direct<S: Store>(world: &World<S>, by: &Person, with: &Person) -> ConversationView {
    world
        .eco
        .open_conversation(&by.ctx, OpenConversation::Direct(with.id()))
        .await
        .unwrap_or_else(|e| panic!("open direct conversation: {e:?}"))
}

async fn send<S: Store>(world: &World<S>, by: &Person, conversation: ConversationId, body: &str) -> Message {
    world
        .eco
        .send_message(&by.ctx, conversation, body)
        .await
        .unwrap_or_else(|e| panic!("send message: {e:?}"))
}

/// The unread count `person` sees for `conversation` in their list.
async fn unread<S: Store>(world: &World<S>, person: &Person, conversation: ConversationId) -> u32 {
    let page = world
        .eco
        .my_conversations(&person.ctx, PageRequest::first(100))
        .await
        .expect("my conversations");
    page.items
        .iter()
        .find(|v| v.conversation.id == conversation)
        .map(ConversationView::unread)
        .expect("the conversation is listed")
}

fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, Error>, action: &str) {
    match result {
        Err(Error::Forbidden(f)) => assert_eq!(f.action, action),
        other => panic!("expected Forbidden({action}), got {other:?}"),
    }
}

/// An ally and their mentee open their direct conversation 10 times at once (5 each): every
/// open answers the same conversation, the store holds one row for the pair with two seats.
pub async fn a_direct_conversation_per_pair_is_unique_under_concurrent_opens<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.ally().await;
    let mentee = world.mentee(&ally).await.person;
    let futures = (0..10)
        .map(|i| {
            let eco = Arc::clone(&world.eco);
            let (by, with) = if i % 2 == 0 { (&ally, &mentee) } else { (&mentee, &ally) };
            let ctx = by.ctx.clone();
            let other = with.id();
            async move { eco.open_conversation(&ctx, OpenConversation::Direct(other)).await }
        })
        .collect();
    let results = race(futures).await;
    let ids: Vec<ConversationId> = results
        .into_iter()
        .map(|r| r.expect("every concurrent open succeeds").conversation.id)
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let pair = Conversation::direct_pair(ally.id(), mentee.id());
    let rows = world
        .rows(ConversationFilter {
            direct_pair: Some(pair),
            ..Default::default()
        })
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, ConversationKind::Direct);
    let seats = world
        .count(ConversationParticipantFilter {
            conversation_id: Some(ids[0]),
            ..Default::default()
        })
        .await;
    assert_eq!(seats, 2);
    // Opened again later, by either side: the same one.
    assert_eq!(open_direct(&world, &mentee, &ally).await.conversation.id, ids[0]);
    assert_eq!(world.audit("conversation.open", ids[0]).await.len(), 1);
}

/// §7 "who may open a direct conversation": ally ⇄ mentee, members of one organization,
/// applicant ⇄ staff of the program applied to (not under blind review), cohort peers, and
/// admins; a stranger is `Forbidden`, oneself a validation error on `user_id`.
pub async fn who_may_open_a_direct_conversation<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.ally().await;
    let mentee = world.mentee(&ally).await.person;
    let stranger = world.entrepreneur().await;
    open_direct(&world, &mentee, &ally).await;
    assert_forbidden(
        world
            .eco
            .open_conversation(&stranger.ctx, OpenConversation::Direct(ally.id()))
            .await,
        "conversation.open",
    );
    assert_forbidden(
        world
            .eco
            .open_conversation(&ally.ctx, OpenConversation::Direct(stranger.id()))
            .await,
        "conversation.open",
    );
    // Admins may open with anyone.
    open_direct(&world, &world.admin, &stranger).await;
    match world
        .eco
        .open_conversation(&ally.ctx, OpenConversation::Direct(ally.id()))
        .await
    {
        Err(Error::Validation(errors)) => assert_eq!(errors.fields()[0].field, "user_id"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    // Members of one organization, and an applicant with the program's staff.
    let cohort = world.cohort(ProgramSpec::seats(5)).await;
    open_direct(&world, &cohort.reviewers[0], &cohort.owner).await;
    let applicant = world.entrepreneur().await;
    assert_forbidden(
        world
            .eco
            .open_conversation(&applicant.ctx, OpenConversation::Direct(cohort.owner.id()))
            .await,
        "conversation.open",
    );
    world.submit(&cohort, &applicant).await;
    open_direct(&world, &applicant, &cohort.owner).await;
    open_direct(&world, &cohort.owner, &applicant).await;
    // Cohort peers.
    let first = world.accepted(&cohort, 80).await;
    let second = world.accepted(&cohort, 70).await;
    open_direct(&world, &first.person, &second.person).await;
    // Under blind review, applying names nobody to the staff.
    let blind = world
        .cohort(ProgramSpec {
            blind_review: true,
            ..ProgramSpec::default()
        })
        .await;
    let hidden = world.entrepreneur().await;
    world.submit(&blind, &hidden).await;
    assert_forbidden(
        world
            .eco
            .open_conversation(&blind.owner.ctx, OpenConversation::Direct(hidden.id()))
            .await,
        "conversation.open",
    );
}

/// Context conversations: a mentorship's seats its ally and entrepreneur, an application's its
/// applicant and the program's staff (not its reviewers), a cohort's its enrolled
/// entrepreneurs and staff; opening again answers the same one; no party is `Forbidden`.
pub async fn context_conversations_seat_the_parties_of_their_context<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.ally().await;
    let mentee = world.mentee(&ally).await;
    let stranger = world.entrepreneur().await;
    let of_mentorship = OpenConversation::Context(ConversationContextType::Mentorship, mentee.id().into());
    let view = world
        .eco
        .open_conversation(&ally.ctx, of_mentorship)
        .await
        .expect("ally opens");
    let mut seated = view.participants.clone();
    seated.sort();
    let mut parties = vec![ally.id(), mentee.person.id()];
    parties.sort();
    assert_eq!(seated, parties);
    let again = world
        .eco
        .open_conversation(&mentee.person.ctx, of_mentorship)
        .await
        .expect("mentee opens");
    assert_eq!(again.conversation.id, view.conversation.id);
    assert_eq!(again.conversation.kind, ConversationKind::Context);
    assert_forbidden(
        world.eco.open_conversation(&stranger.ctx, of_mentorship).await,
        "conversation.open",
    );

    let cohort = world.cohort(ProgramSpec::seats(5)).await;
    let applicant = world.submit(&cohort, &world.entrepreneur().await).await;
    let of_application = OpenConversation::Context(ConversationContextType::Application, applicant.id().into());
    let view = world
        .eco
        .open_conversation(&cohort.owner.ctx, of_application)
        .await
        .expect("staff open");
    assert!(view.participants.contains(&applicant.person.id()));
    assert!(view.participants.contains(&cohort.owner.id()));
    assert!(
        !view.participants.contains(&cohort.reviewers[0].id()),
        "reviewers are not staff"
    );
    assert_forbidden(
        world
            .eco
            .open_conversation(&cohort.reviewers[0].ctx, of_application)
            .await,
        "conversation.open",
    );

    let first = world.accepted(&cohort, 80).await;
    let second = world.accepted(&cohort, 70).await;
    let of_cohort = OpenConversation::Context(ConversationContextType::Cohort, cohort.program.id.into());
    let view = world
        .eco
        .open_conversation(&first.person.ctx, of_cohort)
        .await
        .expect("a participant opens");
    for user in [first.person.id(), second.person.id(), cohort.owner.id()] {
        assert!(view.participants.contains(&user), "{user} is seated");
    }
    assert!(!view.participants.contains(&applicant.person.id()), "not enrolled");
    match world
        .eco
        .open_conversation(
            &first.person.ctx,
            OpenConversation::Context(ConversationContextType::Cohort, uuid::Uuid::nil()),
        )
        .await
    {
        Err(Error::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Unread counts are exact: the ally sends 3, the mentee sees 3, reads, sees 0; one more
/// makes 1. The sender never has unread messages of their own. Each message notifies in-app;
/// email goes out once per conversation per digest window. The audit of a send carries no
/// body.
pub async fn unread_counts_are_exact_and_emails_are_digested<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.ally().await;
    let mentee = world.mentee(&ally).await.person;
    let id = open_direct(&world, &ally, &mentee).await.conversation.id;
    let mut last = None;
    for n in 0..3 {
        last = Some(send(&world, &ally, id, &format!("secret plan {n}")).await);
        world.advance(Duration::seconds(1));
    }
    assert_eq!(unread(&world, &mentee, id).await, 3);
    assert_eq!(unread(&world, &ally, id).await, 0);
    let read = world
        .eco
        .mark_conversation_read(&mentee.ctx, id)
        .await
        .expect("mark read");
    assert_eq!(read.unread(), 0);
    assert_eq!(read.me.last_read_at, Some(world.now()));
    assert_eq!(unread(&world, &mentee, id).await, 0);
    send(&world, &ally, id, "one more").await;
    assert_eq!(unread(&world, &mentee, id).await, 1);
    // The mentee answers: their own read position moves, the ally gets one unread.
    send(&world, &mentee, id, "thanks").await;
    assert_eq!(unread(&world, &mentee, id).await, 0);
    assert_eq!(unread(&world, &ally, id).await, 1);
    let conversation = world.row(id).await.expect("conversation");
    assert_eq!(conversation.last_message_at, Some(world.now()));

    assert_eq!(world.notifications(mentee.id(), MESSAGE_RECEIVED).await.len(), 4);
    assert_eq!(
        world.outbox(mentee.id(), MESSAGE_RECEIVED).await.len(),
        1,
        "one email per window"
    );
    world.advance(Duration::minutes(i64::from(
        world.eco.limits().message_email_digest_minutes,
    )));
    send(&world, &ally, id, "after the window").await;
    assert_eq!(world.outbox(mentee.id(), MESSAGE_RECEIVED).await.len(), 2);

    let event = world.audited("message.send", last.expect("sent").id).await;
    let recorded = serde_json::to_string(&event.after).expect("json");
    assert!(!recorded.contains("secret plan"), "{recorded}");
    assert!(recorded.contains(&id.to_string()), "{recorded}");
}

/// A block stops messages either way, in a direct conversation and in a two-party context
/// one; blocking twice is blocking once; unblocking lets messages through again.
pub async fn blocked_users_cannot_message_either_way<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.ally().await;
    let mentee = world.mentee(&ally).await;
    let id = open_direct(&world, &ally, &mentee.person).await.conversation.id;
    send(&world, &ally, id, "hello").await;
    world
        .eco
        .block_user(&mentee.person.ctx, ally.id())
        .await
        .expect("block");
    world
        .eco
        .block_user(&mentee.person.ctx, ally.id())
        .await
        .expect("block again");
    assert_eq!(
        world
            .count(BlockFilter {
                blocker_id: Some(mentee.person.id()),
                ..Default::default()
            })
            .await,
        1
    );
    assert_forbidden(
        world.eco.send_message(&ally.ctx, id, "still there?").await,
        "message.send",
    );
    assert_forbidden(
        world.eco.send_message(&mentee.person.ctx, id, "go away").await,
        "message.send",
    );
    let context = world
        .eco
        .open_conversation(
            &ally.ctx,
            OpenConversation::Context(ConversationContextType::Mentorship, mentee.id().into()),
        )
        .await
        .expect("open the mentorship's conversation");
    assert_forbidden(
        world
            .eco
            .send_message(&ally.ctx, context.conversation.id, "here then")
            .await,
        "message.send",
    );
    assert_eq!(unread(&world, &mentee.person, id).await, 1, "nothing got through");
    world
        .eco
        .unblock_user(&mentee.person.ctx, ally.id())
        .await
        .expect("unblock");
    world
        .eco
        .unblock_user(&mentee.person.ctx, ally.id())
        .await
        .expect("unblock again");
    send(&world, &ally, id, "welcome back").await;
    assert_eq!(unread(&world, &mentee.person, id).await, 2);
}

/// Only the sender edits, within `message_edit_window_minutes`; only the sender deletes, which
/// keeps the message with its body replaced; bodies are 1–10 000 characters; messages list
/// newest first with a cursor; someone outside the conversation sees nothing of it.
pub async fn messages_are_edited_and_deleted_by_their_sender<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ally = world.ally().await;
    let mentee = world.mentee(&ally).await.person;
    let stranger = world.entrepreneur().await;
    let id = open_direct(&world, &ally, &mentee).await.conversation.id;
    for body in ["", "   ", &"x".repeat(10_001)] {
        match world.eco.send_message(&ally.ctx, id, body).await {
            Err(Error::Validation(errors)) => assert_eq!(errors.fields()[0].field, "body"),
            other => panic!("expected a validation error on body, got {other:?}"),
        }
    }
    let longest = send(&world, &ally, id, &"x".repeat(10_000)).await;
    let message = send(&world, &ally, id, "first draft").await;
    assert_forbidden(
        world.eco.edit_message(&mentee.ctx, message.id, "hijacked").await,
        "message.edit",
    );
    match world.eco.edit_message(&stranger.ctx, message.id, "hijacked").await {
        Err(Error::NotFound { entity, .. }) => assert_eq!(entity, "conversation"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let window = i64::from(world.eco.limits().message_edit_window_minutes);
    world.advance(Duration::minutes(window));
    let edited = world
        .eco
        .edit_message(&ally.ctx, message.id, "second draft")
        .await
        .expect("edit inside the window");
    assert_eq!(edited.body, "second draft");
    assert_eq!(edited.edited_at, Some(world.now()));
    world.advance(Duration::seconds(1));
    match world.eco.edit_message(&ally.ctx, message.id, "too late").await {
        Err(Error::InvalidTransition { from, .. }) => assert_eq!(from, "edit_window_closed"),
        other => panic!("expected the window to be closed, got {other:?}"),
    }
    assert_forbidden(world.eco.delete_message(&mentee.ctx, message.id).await, "message.edit");
    let deleted = world.eco.delete_message(&ally.ctx, message.id).await.expect("delete");
    assert_eq!(deleted.body, crate::model::messaging::DELETED_BODY);
    assert!(deleted.deleted_at.is_some());
    match world.eco.delete_message(&ally.ctx, message.id).await {
        Err(Error::InvalidTransition { from, .. }) => assert_eq!(from, "deleted"),
        other => panic!("expected a second delete to be refused, got {other:?}"),
    }

    let third = send(&world, &mentee, id, "third").await;
    let first_page = world
        .eco
        .conversation_messages(&mentee.ctx, id, PageRequest::first(2))
        .await
        .expect("first page");
    let ids: Vec<MessageId> = first_page.items.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![third.id, message.id], "newest first");
    assert_eq!(first_page.items[1].body, "deleted");
    let cursor = first_page.next_cursor.expect("more follow");
    let second_page = world
        .eco
        .conversation_messages(
            &mentee.ctx,
            id,
            PageRequest::parse(Some(2), Some(&cursor)).expect("cursor"),
        )
        .await
        .expect("second page");
    assert_eq!(
        second_page.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![longest.id]
    );
    assert_eq!(second_page.next_cursor, None);
    for result in [
        world
            .eco
            .conversation_messages(&stranger.ctx, id, PageRequest::first(2))
            .await
            .map(|_| ()),
        world.eco.get_conversation(&stranger.ctx, id).await.map(|_| ()),
        world.eco.send_message(&stranger.ctx, id, "hi").await.map(|_| ()),
        world.eco.mark_conversation_read(&stranger.ctx, id).await.map(|_| ()),
    ] {
        match result {
            Err(Error::NotFound { entity, .. }) => assert_eq!(entity, "conversation"),
            other => panic!("expected NotFound, got {other:?}"),
        }
    }
}

/// `max_messages_per_minute` per sender, over all their conversations: one more is
/// `RateLimited` until the oldest counted message is a minute old.
pub async fn messages_per_minute_are_limited_per_sender<S: Store + Clone>(store: S) {
    let limits = crate::Limits {
        max_messages_per_minute: 3,
        ..crate::Limits::default()
    };
    let world = World::with_limits(store, Arc::new(RecordingNotifier::new()), limits).await;
    let ally = world.ally().await;
    let one = world.mentee(&ally).await.person;
    let two = world.mentee(&ally).await.person;
    let first = open_direct(&world, &ally, &one).await.conversation.id;
    let second = open_direct(&world, &ally, &two).await.conversation.id;
    send(&world, &ally, first, "1").await;
    world.advance(Duration::seconds(10));
    send(&world, &ally, second, "2").await;
    send(&world, &ally, first, "3").await;
    match world.eco.send_message(&ally.ctx, second, "4").await {
        Err(Error::RateLimited { retry_after_seconds }) => assert_eq!(retry_after_seconds, 50),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    // Others are not limited by the ally's sending.
    send(&world, &one, first, "reply").await;
    world.advance(Duration::seconds(50));
    send(&world, &ally, second, "4").await;
    assert_eq!(
        world
            .count(MessageFilter {
                sender_id: Some(ally.id()),
                ..Default::default()
            })
            .await,
        4
    );
}

/// The list of one's conversations reads its unread counts with the page: a page of 10
/// conversations costs as many statements as a page of one — begin, the seats, the
/// conversations, their participants, commit — never one count per conversation.
pub async fn a_page_of_conversations_costs_a_fixed_number_of_statements<S: Store + Clone>(store: S) {
    let counting = super::CountingStore::new(store);
    let world = World::new(counting.clone()).await;
    let ally = world.ally().await;
    let org = world.organization(&ally).await;
    let mut expected = Vec::new();
    for n in 0..12u32 {
        let member = world.ally().await;
        world.add_member(&ally, &org, &member, MemberRole::Reviewer).await;
        let id = open_direct(&world, &member, &ally).await.conversation.id;
        for _ in 0..n % 3 {
            send(&world, &member, id, "hello").await;
        }
        expected.push((id, n % 3));
    }
    let before = counting.statements();
    let page = world
        .eco
        .my_conversations(&ally.ctx, PageRequest::first(10))
        .await
        .expect("my conversations");
    let spent = counting.statements() - before;
    assert_eq!(page.items.len(), 10);
    assert!(page.next_cursor.is_some());
    assert!(spent <= 5, "a page of 10 conversations cost {spent} statements");
    for view in &page.items {
        let (_, unread) = expected
            .iter()
            .find(|(id, _)| *id == view.conversation.id)
            .expect("one of ours");
        assert_eq!(view.unread(), *unread);
        assert_eq!(view.participants.len(), 2);
    }
}
