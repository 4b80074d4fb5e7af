//! Messaging (docs/domain.md §7): direct and context conversations, messages, read positions
//! and blocks.
//!
//! - A direct conversation holds the unique key of its ordered pair
//!   ([`Conversation::direct_pair`]): two users opening it at once both insert, the store admits
//!   one, and the loser reads the winner's row, so every open answers the same conversation.
//!   A context conversation holds the key of its context the same way.
//! - A context conversation's participants follow the context: every open adds the parties the
//!   context has now (a new staff member joins the application's conversation the next time
//!   anyone opens it).
//! - A send locks the conversation (so concurrent sends to it are ordered and `last_message_at`
//!   only grows), then each recipient's participant row, and raises its unread count; mark-read
//!   locks only the reader's row. Unread counts are therefore exact and cost nothing to list.
//! - A block (either way) withholds messages: a sender reaches nobody who blocked them or whom
//!   they blocked, and a send that would reach nobody (a direct conversation, a mentorship's)
//!   is refused.
//! - Email: each recipient is emailed (per their preference) at most once per conversation per
//!   `Limits::message_email_digest_minutes`, decided at send time from their participant row's
//!   `last_emailed_at`; the messages in between reach them in-app. A send-time dedupe rather
//!   than a digest job: the first message of a burst is mailed at once, nothing is delayed, and
//!   no job has to scan conversations.
//! - `Limits::max_messages_per_minute` per sender, over all conversations, is checked with the
//!   sender's user row locked, so concurrent sends cannot pass it together.
//! - Audit `message.send` (`message.edit`, `message.delete`) with metadata only: never the body.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::{Context, Ecosystem, Notice, Uow, authorize_seen};
use crate::error::{Error, Forbidden, Result};
use crate::model::messaging::{DELETED_BODY, MESSAGE_BODY_MAX_CHARS};
use crate::model::{
    ApplicationStatus, Block, Conversation, ConversationContextType, ConversationId, ConversationKind,
    ConversationParticipant, MemberRole, MentorshipStatus, Message, MessageId, OrganizationId, ProgramId, Role, User,
    UserId, UserStatus,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{
    ApplicationFilter, BlockFilter, ConversationFilter, ConversationParticipantFilter, EnrollmentFilter, MemberFilter,
    MentorshipFilter, MessageFilter, Order, Page, PageRequest, Store, Transaction,
};
use crate::ports::{Clock, Notifier};

/// The notification (and email) kind of a new message.
pub const MESSAGE_RECEIVED: &str = "message_received";

/// A conversation as one of its participants sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationView {
    /// The conversation.
    pub conversation: Conversation,
    /// Everyone in it, the viewer included.
    pub participants: Vec<UserId>,
    /// The viewer's seat: read position and unread count.
    pub me: ConversationParticipant,
}

impl ConversationView {
    /// Messages of others the viewer has not read.
    pub fn unread(&self) -> u32 {
        self.me.unread_count
    }
}

/// What `open_conversation` opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenConversation {
    /// The direct conversation with this user.
    Direct(UserId),
    /// The conversation of this context.
    Context(ConversationContextType, Uuid),
}

/// A message body: plain text of 1–10 000 characters, not only whitespace.
pub fn message_body(body: &str) -> Result<String> {
    let chars = body.chars().count();
    if body.trim().is_empty() {
        return Err(Error::invalid("body", "must not be empty"));
    }
    if chars > MESSAGE_BODY_MAX_CHARS {
        return Err(Error::invalid(
            "body",
            format!("must be at most {MESSAGE_BODY_MAX_CHARS} characters"),
        ));
    }
    Ok(body.to_owned())
}

impl<T: Transaction> Uow<T> {
    /// Whether `a` and `b` share a context of §7: an active mentorship, one organization, an
    /// application of one to a program the other is staff of (not while its review is blind:
    /// staff must not learn who applied), or one program's cohort.
    async fn share_a_context(&mut self, a: UserId, b: UserId) -> Result<bool> {
        for (ally, entrepreneur) in [(a, b), (b, a)] {
            let mentoring = MentorshipFilter {
                ally_id: Some(ally),
                entrepreneur_id: Some(entrepreneur),
                status: Some(MentorshipStatus::Active),
                ..Default::default()
            };
            if self.count(&mentoring).await? > 0 {
                return Ok(true);
            }
        }
        let roles_a = self.roles_of(a).await?;
        let roles_b = self.roles_of(b).await?;
        if roles_a.keys().any(|org| roles_b.contains_key(org)) {
            return Ok(true);
        }
        for (applicant, staff_roles) in [(a, &roles_b), (b, &roles_a)] {
            let staff_of: HashSet<OrganizationId> = staff_roles
                .iter()
                .filter(|(_, role)| role.is_staff())
                .map(|(org, _)| *org)
                .collect();
            if staff_of.is_empty() {
                continue;
            }
            let applications = self
                .all(&ApplicationFilter {
                    applicant_id: Some(applicant),
                    exclude_drafts: true,
                    ..Default::default()
                })
                .await?;
            for app in applications {
                if let Some(program) = self.get(app.program_id).await?
                    && staff_of.contains(&program.organization_id)
                    && !program.blind_for(&app)
                {
                    return Ok(true);
                }
            }
        }
        let cohorts_a = self.cohorts_of(a).await?;
        let cohorts_b = self.cohorts_of(b).await?;
        Ok(cohorts_a.iter().any(|p| cohorts_b.contains(p)))
    }

    async fn roles_of(&mut self, user: UserId) -> Result<HashMap<OrganizationId, MemberRole>> {
        let members = self
            .all(&MemberFilter {
                user_id: Some(user),
                ..Default::default()
            })
            .await?;
        Ok(members.into_iter().map(|m| (m.organization_id, m.role)).collect())
    }

    async fn cohorts_of(&mut self, user: UserId) -> Result<HashSet<ProgramId>> {
        let enrollments = self
            .all(&EnrollmentFilter {
                entrepreneur_id: Some(user),
                ..Default::default()
            })
            .await?;
        Ok(enrollments.into_iter().map(|e| e.program_id).collect())
    }

    /// The parties of a context now (§7: "its participants follow the context"). A context the
    /// actor cannot know of (or that does not exist) is `NotFound`.
    async fn context_parties(&mut self, kind: ConversationContextType, id: Uuid) -> Result<Vec<UserId>> {
        let mut parties = match kind {
            ConversationContextType::Mentorship => {
                let mentorship = self.load(crate::model::MentorshipId::from(id)).await?;
                vec![mentorship.ally_id, mentorship.entrepreneur_id]
            }
            ConversationContextType::Application => {
                let app = self.load(crate::model::ApplicationId::from(id)).await?;
                let program = self.load(app.program_id).await?;
                if app.status == ApplicationStatus::Draft {
                    return Err(Error::not_found("application", id));
                }
                // A conversation would name the applicant to the staff of a blind review.
                if program.blind_for(&app) {
                    return Err(Error::Forbidden(Forbidden {
                        action: Action::OpenConversation.name(),
                        resource: "conversation",
                    }));
                }
                let mut parties = self.staff_of(program.organization_id).await?;
                parties.push(app.applicant_id);
                parties
            }
            ConversationContextType::Cohort => {
                let program = self.load(ProgramId::from(id)).await?;
                let mut parties = self.staff_of(program.organization_id).await?;
                let enrolled = self
                    .all(&EnrollmentFilter {
                        program_id: Some(program.id),
                        ..Default::default()
                    })
                    .await?;
                parties.extend(enrolled.into_iter().map(|e| e.entrepreneur_id));
                parties
            }
        };
        parties.sort();
        parties.dedup();
        Ok(parties)
    }

    /// The conversation matching `filter`, inserting `fresh` first when there is none. A
    /// concurrent open that inserted the same unique key first wins: its row is read back.
    async fn find_or_insert(
        &mut self,
        filter: ConversationFilter,
        fresh: Conversation,
    ) -> Result<(Conversation, bool)> {
        if let Some(existing) = self.first(&filter).await? {
            return Ok((existing, false));
        }
        match self.insert(&fresh).await {
            Ok(()) => Ok((fresh, true)),
            Err(Error::Conflict { .. }) => {
                let winner = self.first(&filter).await?;
                winner.map(|c| (c, false)).ok_or(Error::Conflict {
                    entity: "conversation",
                    field: "direct_pair",
                })
            }
            Err(other) => Err(other),
        }
    }

    /// Seats `users` in `conversation` (those already seated are left as they are).
    async fn seat(&mut self, conversation: ConversationId, users: &[UserId]) -> Result<Vec<ConversationParticipant>> {
        let mut seated = self
            .all(&ConversationParticipantFilter {
                conversation_id: Some(conversation),
                ..Default::default()
            })
            .await?;
        for &user in users {
            if seated.iter().any(|p| p.user_id == user) {
                continue;
            }
            let participant = ConversationParticipant {
                id: self.new_id(),
                conversation_id: conversation,
                user_id: user,
                joined_at: self.now,
                last_read_at: None,
                unread_count: 0,
                last_emailed_at: None,
                meta: self.meta(),
            };
            match self.insert(&participant).await {
                Ok(()) => seated.push(participant),
                // A concurrent open seated them first; the refused insert left nothing behind.
                Err(Error::Conflict { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(seated)
    }

    /// The actor's seat in `conversation`; a conversation they do not sit in is `NotFound` (its
    /// existence is not theirs to learn), then `action` is authorized.
    async fn my_seat(&mut self, conversation: ConversationId, action: Action) -> Result<ConversationParticipant> {
        let me = self.ctx.user_id(action.name())?;
        let seat = self
            .first(&ConversationParticipantFilter {
                conversation_id: Some(conversation),
                user_id: Some(me),
                ..Default::default()
            })
            .await?;
        let facts = Facts::owned(seat.is_some());
        authorize_seen(
            &self.ctx.actor,
            Action::ViewConversation,
            action,
            &facts,
            "conversation",
            conversation,
        )?;
        seat.ok_or_else(|| Error::not_found("conversation", conversation))
    }

    /// Users blocked by `user` or blocking `user`.
    async fn blocked_either_way(&mut self, user: UserId) -> Result<HashSet<UserId>> {
        let by_me = self
            .all(&BlockFilter {
                blocker_id: Some(user),
                ..Default::default()
            })
            .await?;
        let of_me = self
            .all(&BlockFilter {
                blocked_id: Some(user),
                ..Default::default()
            })
            .await?;
        Ok(by_me
            .into_iter()
            .map(|b| b.blocked_id)
            .chain(of_me.into_iter().map(|b| b.blocker_id))
            .collect())
    }

    /// Refuses the send when the sender already sent `max` messages in the last minute; the
    /// answer says when the oldest of them leaves the window.
    async fn check_message_rate(&mut self, sender: UserId, max: u32) -> Result<()> {
        let window_start = self.now - Duration::minutes(1);
        let recent = MessageFilter {
            sender_id: Some(sender),
            created_after: Some(window_start),
            ..Default::default()
        };
        if self.count(&recent).await? < u64::from(max) {
            return Ok(());
        }
        let oldest = self
            .list(&recent, PageRequest::first(1).oldest_first())
            .await?
            .items
            .into_iter()
            .next();
        let frees_at = oldest.map_or(self.now, |m| m.meta.created_at + Duration::minutes(1));
        let millis = (frees_at - self.now).num_milliseconds().max(0);
        Err(Error::RateLimited {
            retry_after_seconds: (millis + 999) / 1000,
        })
    }

    async fn views_of(&mut self, seats: Vec<ConversationParticipant>) -> Result<Vec<ConversationView>> {
        let ids: Vec<ConversationId> = seats.iter().map(|s| s.conversation_id).collect();
        let conversations: HashMap<ConversationId, Conversation> = self
            .all(&ConversationFilter {
                id_in: Some(ids.clone()),
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut people: HashMap<ConversationId, Vec<UserId>> = HashMap::new();
        let everyone = self
            .list(
                &ConversationParticipantFilter {
                    conversation_in: Some(ids),
                    ..Default::default()
                },
                PageRequest::all().oldest_first(),
            )
            .await?
            .items;
        for p in everyone {
            people.entry(p.conversation_id).or_default().push(p.user_id);
        }
        Ok(seats
            .into_iter()
            .filter_map(|me| {
                let conversation = conversations.get(&me.conversation_id)?.clone();
                let participants = people.remove(&me.conversation_id).unwrap_or_default();
                Some(ConversationView {
                    conversation,
                    participants,
                    me,
                })
            })
            .collect())
    }

    async fn view_of(&mut self, seat: ConversationParticipant) -> Result<ConversationView> {
        let id = seat.conversation_id;
        self.views_of(vec![seat])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("conversation", id))
    }

    /// The message `id` of a conversation the actor sits in, sent by them, for `edit`/`delete`.
    async fn own_message(&mut self, id: MessageId) -> Result<Message> {
        let message = self.load(id).await?;
        let me = self.ctx.user_id(Action::EditMessage.name())?;
        self.my_seat(message.conversation_id, Action::ViewConversation).await?;
        authorize(
            &self.ctx.actor,
            Action::EditMessage,
            &Facts::owned(message.sender_id == me),
        )?;
        if message.deleted_at.is_some() {
            return Err(Error::invalid_transition("message", "deleted", "edit"));
        }
        Ok(message)
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Opens a conversation, or returns the one that exists: the direct conversation of the
    /// actor and `user` (one per pair, whoever opens it, also under concurrent opens), or the
    /// conversation of a context, seating the context's current parties.
    ///
    /// # Errors
    ///
    /// `Validation` on `user_id` for oneself; `NotFound` for an unknown or inactive user or
    /// context; `Forbidden` (`conversation.open`) when the actor shares no context with the
    /// user (direct) or is no party of the context, unless an admin, and for the application of
    /// a blind review.
    pub async fn open_conversation(&self, ctx: &Context, what: OpenConversation) -> Result<ConversationView> {
        let me = ctx.user_id(Action::OpenConversation.name())?;
        let mut uow = self.uow(ctx).await?;
        let (filter, fresh, parties) = match what {
            OpenConversation::Direct(other) => {
                if other == me {
                    return Err(Error::invalid("user_id", "must be another user"));
                }
                let user: User = uow
                    .get(other)
                    .await?
                    .filter(|u| u.status == UserStatus::Active && !u.deletion.is_deleted())
                    .ok_or_else(|| Error::not_found("user", other))?;
                let admin = matches!(ctx.actor, crate::model::Actor::User { role: Role::Admin, .. });
                let shared = admin || uow.share_a_context(me, user.id).await?;
                authorize(&ctx.actor, Action::OpenConversation, &Facts::owned(shared))?;
                let pair = Conversation::direct_pair(me, other);
                let filter = ConversationFilter {
                    direct_pair: Some(pair.clone()),
                    ..Default::default()
                };
                let fresh = Conversation {
                    id: uow.new_id(),
                    kind: ConversationKind::Direct,
                    context_type: None,
                    context_id: None,
                    direct_pair: Some(pair),
                    title: None,
                    last_message_at: None,
                    meta: uow.meta(),
                };
                (filter, fresh, vec![me, other])
            }
            OpenConversation::Context(kind, id) => {
                let mut parties = uow.context_parties(kind, id).await?;
                authorize(
                    &ctx.actor,
                    Action::OpenConversation,
                    &Facts::owned(parties.contains(&me)),
                )?;
                if !parties.contains(&me) {
                    // An admin who opens a context conversation sits in it, visibly.
                    parties.push(me);
                }
                let filter = ConversationFilter {
                    context_type: Some(kind),
                    context_id: Some(id),
                    ..Default::default()
                };
                let fresh = Conversation {
                    id: uow.new_id(),
                    kind: ConversationKind::Context,
                    context_type: Some(kind),
                    context_id: Some(id),
                    direct_pair: None,
                    title: None,
                    last_message_at: None,
                    meta: uow.meta(),
                };
                (filter, fresh, parties)
            }
        };
        let (conversation, created) = uow.find_or_insert(filter, fresh).await?;
        let seated = uow.seat(conversation.id, &parties).await?;
        if created {
            uow.audit(
                "conversation.open",
                "conversation",
                conversation.id,
                None,
                None,
                Some(json!({
                    "kind": conversation.kind,
                    "context_type": conversation.context_type,
                    "context_id": conversation.context_id,
                })),
            )
            .await?;
        }
        let seat = seated
            .into_iter()
            .find(|p| p.user_id == me)
            .ok_or_else(|| Error::not_found("conversation", conversation.id))?;
        let view = uow.view_of(seat).await?;
        uow.commit().await?;
        Ok(view)
    }

    /// The conversations the actor sits in, most recently joined first, each with their unread
    /// count. One page costs three reads whatever its size (seats, conversations, participants).
    pub async fn my_conversations(&self, ctx: &Context, page: PageRequest) -> Result<Page<ConversationView>> {
        let me = ctx.user_id(Action::ViewConversation.name())?;
        let mut uow = self.uow(ctx).await?;
        let seats = uow
            .list(
                &ConversationParticipantFilter {
                    user_id: Some(me),
                    ..Default::default()
                },
                page,
            )
            .await?;
        let next_cursor = seats.next_cursor;
        let items = uow.views_of(seats.items).await?;
        uow.commit().await?;
        Ok(Page { items, next_cursor })
    }

    /// One conversation the actor sits in.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown conversation or one the actor does not sit in.
    pub async fn get_conversation(&self, ctx: &Context, id: ConversationId) -> Result<ConversationView> {
        let mut uow = self.uow(ctx).await?;
        let seat = uow.my_seat(id, Action::ViewConversation).await?;
        let view = uow.view_of(seat).await?;
        uow.commit().await?;
        Ok(view)
    }

    /// A page of a conversation's messages, newest first (deleted ones included, their body
    /// replaced).
    pub async fn conversation_messages(
        &self,
        ctx: &Context,
        id: ConversationId,
        page: PageRequest,
    ) -> Result<Page<Message>> {
        let mut uow = self.uow(ctx).await?;
        uow.my_seat(id, Action::ViewConversation).await?;
        let messages = uow
            .list(
                &MessageFilter {
                    conversation_id: Some(id),
                    ..Default::default()
                },
                PageRequest {
                    order: Order::NewestFirst,
                    ..page
                },
            )
            .await?;
        uow.commit().await?;
        Ok(messages)
    }

    /// Sends a message: the conversation's `last_message_at` and the sender's read position
    /// move to now; every other participant not blocked either way gets an unread message, an
    /// in-app notification and, at most once per digest window, an email.
    ///
    /// # Errors
    ///
    /// `Validation` on `body`; `NotFound` for a conversation the actor does not sit in;
    /// `Forbidden` (`message.send`) when blocks leave nobody to reach; `RateLimited` past
    /// `max_messages_per_minute`.
    pub async fn send_message(&self, ctx: &Context, id: ConversationId, body: &str) -> Result<Message> {
        let body = message_body(body)?;
        let me = ctx.user_id(Action::SendMessage.name())?;
        let mut uow = self.uow(ctx).await?;
        // Lock order: the sender, then the conversation, then its seats (by id).
        let sender: User = uow.load_for_update(me).await?;
        uow.check_message_rate(me, self.limits.max_messages_per_minute).await?;
        let mut conversation = uow.load_for_update(id).await.map_err(|e| match e {
            Error::NotFound { .. } => Error::not_found("conversation", id),
            other => other,
        })?;
        let my_seat = uow.my_seat(id, Action::SendMessage).await?;
        let mut my_seat: ConversationParticipant = uow.load_for_update(my_seat.id).await?;
        let blocked = uow.blocked_either_way(me).await?;
        let others: Vec<ConversationParticipant> = uow
            .list(
                &ConversationParticipantFilter {
                    conversation_id: Some(id),
                    ..Default::default()
                },
                PageRequest::all().oldest_first(),
            )
            .await?
            .items
            .into_iter()
            .filter(|p| p.user_id != me)
            .collect();
        let recipients: Vec<ConversationParticipant> = others
            .iter()
            .filter(|p| !blocked.contains(&p.user_id))
            .cloned()
            .collect();
        if !others.is_empty() && recipients.is_empty() {
            return Err(Error::Forbidden(Forbidden {
                action: Action::SendMessage.name(),
                resource: "message",
            }));
        }
        let message = Message {
            id: uow.new_id(),
            conversation_id: id,
            sender_id: me,
            body,
            edited_at: None,
            deleted_at: None,
            meta: uow.meta(),
        };
        uow.insert(&message).await?;
        conversation.last_message_at = Some(uow.now);
        uow.update(conversation).await?;
        my_seat.last_read_at = Some(uow.now);
        my_seat.unread_count = 0;
        uow.update(my_seat).await?;

        let users = uow.users_by_id(recipients.iter().map(|p| p.user_id).collect()).await?;
        let digest = Duration::minutes(i64::from(self.limits.message_email_digest_minutes));
        let notice = Notice::new(
            MESSAGE_RECEIVED,
            format!("New message from {}", sender.full_name()),
            "You have a new message.",
            json!({ "conversation_id": id, "message_id": message.id, "sender_id": me }),
        );
        for seat in recipients {
            let Some(user) = users.get(&seat.user_id) else { continue };
            let mut seat: ConversationParticipant = uow.load_for_update(seat.id).await?;
            seat.unread_count = seat.unread_count.saturating_add(1);
            let email =
                user.notification_preferences.email && seat.last_emailed_at.is_none_or(|at| uow.now - at >= digest);
            uow.notify_in_app(user, &notice).await?;
            if email {
                seat.last_emailed_at = Some(uow.now);
                uow.email(user, notice.clone()).await?;
            }
            uow.update(seat).await?;
        }
        uow.audit(
            "message.send",
            "message",
            message.id,
            None,
            None,
            Some(json!({ "conversation_id": id, "chars": message.body.chars().count() })),
        )
        .await?;
        uow.commit().await?;
        Ok(message)
    }

    /// Edits a message: its sender, within `message_edit_window_minutes` of sending it.
    ///
    /// # Errors
    ///
    /// `Validation` on `body`; `NotFound` for an unknown message or one of a conversation the
    /// actor does not sit in; `Forbidden` (`message.edit`) for someone else's;
    /// `InvalidTransition` from `deleted`, or from `edit_window_closed` once the window passed.
    pub async fn edit_message(&self, ctx: &Context, id: MessageId, body: &str) -> Result<Message> {
        let body = message_body(body)?;
        let mut uow = self.uow(ctx).await?;
        let mut message = uow.own_message(id).await?;
        let window = Duration::minutes(i64::from(self.limits.message_edit_window_minutes));
        if uow.now - message.meta.created_at > window {
            return Err(Error::invalid_transition("message", "edit_window_closed", "edit"));
        }
        message.body = body;
        message.edited_at = Some(uow.now);
        let message = uow.update(message).await?;
        uow.audit(
            "message.edit",
            "message",
            message.id,
            None,
            None,
            Some(json!({ "conversation_id": message.conversation_id, "chars": message.body.chars().count() })),
        )
        .await?;
        uow.commit().await?;
        Ok(message)
    }

    /// Deletes a message (its sender, at any time): it stays in the conversation, its body
    /// replaced by "deleted" and the text gone from the store.
    ///
    /// # Errors
    ///
    /// As [`Ecosystem::edit_message`], without the window; `InvalidTransition` from `deleted`
    /// for a second delete.
    pub async fn delete_message(&self, ctx: &Context, id: MessageId) -> Result<Message> {
        let mut uow = self.uow(ctx).await?;
        let mut message = uow.own_message(id).await?;
        message.body = DELETED_BODY.to_owned();
        message.deleted_at = Some(uow.now);
        let message = uow.update(message).await?;
        uow.audit(
            "message.delete",
            "message",
            message.id,
            None,
            None,
            Some(json!({ "conversation_id": message.conversation_id })),
        )
        .await?;
        uow.commit().await?;
        Ok(message)
    }

    /// Marks a conversation read by the actor: no unread messages, read position now.
    pub async fn mark_conversation_read(&self, ctx: &Context, id: ConversationId) -> Result<ConversationView> {
        let mut uow = self.uow(ctx).await?;
        let seat = uow.my_seat(id, Action::ViewConversation).await?;
        let mut seat: ConversationParticipant = uow.load_for_update(seat.id).await?;
        seat.last_read_at = Some(uow.now);
        seat.unread_count = 0;
        let seat = uow.update(seat).await?;
        let view = uow.view_of(seat).await?;
        uow.commit().await?;
        Ok(view)
    }

    /// The actor blocks `user` from messaging them, and themselves from messaging `user`.
    /// Blocking twice is blocking once.
    ///
    /// # Errors
    ///
    /// `Validation` on `user_id` for oneself; `NotFound` for an unknown user.
    pub async fn block_user(&self, ctx: &Context, user: UserId) -> Result<()> {
        let me = ctx.user_id(Action::BlockUser.name())?;
        authorize(&ctx.actor, Action::BlockUser, &Facts::none())?;
        if user == me {
            return Err(Error::invalid("user_id", "must be another user"));
        }
        let mut uow = self.uow(ctx).await?;
        let _: User = uow.load(user).await?;
        let block = Block {
            id: uow.new_id(),
            blocker_id: me,
            blocked_id: user,
            meta: uow.meta(),
        };
        match uow.insert(&block).await {
            Ok(()) => {
                uow.audit("user.block", "user", user, None, None, None).await?;
            }
            Err(Error::Conflict { .. }) => {}
            Err(other) => return Err(other),
        }
        uow.commit().await
    }

    /// Lifts the actor's block of `user` (nothing to lift is fine).
    pub async fn unblock_user(&self, ctx: &Context, user: UserId) -> Result<()> {
        let me = ctx.user_id(Action::BlockUser.name())?;
        authorize(&ctx.actor, Action::BlockUser, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;
        let existing = uow
            .first(&BlockFilter {
                blocker_id: Some(me),
                blocked_id: Some(user),
            })
            .await?;
        if let Some(block) = existing {
            uow.delete(block.id).await?;
            uow.audit("user.unblock", "user", user, None, None, None).await?;
        }
        uow.commit().await
    }
}
