//! Calendars (docs/domain.md §8, issue #12 "Calendars"): the [`CalendarEntry`] of a session or a
//! meeting that its emails carry (`data.calendar`, rendered as an iCalendar invite by the
//! delivery side), and each user's private, revocable feed of their sessions and meetings.
//!
//! A feed is reached by a token alone (`GET /api/v2/calendar/{token}.ics`: calendar apps send
//! no bearer token), so the token is generated like every other secret token and only its
//! SHA-256 is stored. One feed per user: creating it again rotates the token (the old URL stops
//! working at once), revoking deletes it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Context, Ecosystem, Uow};
use crate::error::{Error, Result};
use crate::model::secret::{generate_token, hash_token};
use crate::model::{CalendarEntry, CalendarFeed, Meeting, Session, User, UserId, UserStatus};
use crate::ports::store::{
    CalendarFeedFilter, MeetingFilter, PageRequest, SessionFilter, Store, Transaction, UserFilter,
};
use crate::ports::{Clock, Notifier};

/// A feed as its owner sees it: the token exists only in the answer to its creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCalendarFeed {
    /// The stored feed (its hash is never shown).
    pub feed: CalendarFeed,
    /// The token to put in the URL, shown once.
    pub token: String,
}

/// What a feed URL lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFeedView {
    /// Whose feed it is.
    pub user: User,
    /// Their sessions and meetings, by start.
    pub entries: Vec<CalendarEntry>,
}

impl<T: Transaction> Uow<T> {
    /// The users of `ids`, by id, in one read (missing ones left out).
    pub(crate) async fn users_by_id(&mut self, ids: Vec<UserId>) -> Result<HashMap<UserId, User>> {
        let mut ids = ids;
        ids.sort();
        ids.dedup();
        let found = self
            .all(&UserFilter {
                id_in: Some(ids),
                include_deleted: true,
                ..Default::default()
            })
            .await?;
        Ok(found.into_iter().map(|u| (u.id, u)).collect())
    }

    /// The calendar entry of `session` as its emails carry it (`data.calendar`); `None` when a
    /// party no longer exists.
    pub(crate) async fn session_entry(&mut self, session: &Session) -> Result<Option<serde_json::Value>> {
        let users = self.users_by_id(vec![session.ally_id, session.entrepreneur_id]).await?;
        Ok(entry_of_session(session, &users).map(|e| json!(e)))
    }

    /// The calendar entry of `meeting` as its emails carry it; `None` when its organizer no
    /// longer exists.
    pub(crate) async fn meeting_entry(&mut self, meeting: &Meeting) -> Result<Option<serde_json::Value>> {
        let users = self.users_by_id(meeting.attendee_ids.clone()).await?;
        Ok(entry_of_meeting(meeting, &users).map(|e| json!(e)))
    }
}

fn entry_of_session(session: &Session, users: &HashMap<UserId, User>) -> Option<CalendarEntry> {
    let ally = users.get(&session.ally_id)?;
    let entrepreneur = users.get(&session.entrepreneur_id)?;
    Some(CalendarEntry::for_session(session, ally, entrepreneur))
}

fn entry_of_meeting(meeting: &Meeting, users: &HashMap<UserId, User>) -> Option<CalendarEntry> {
    let organizer = users.get(&meeting.organizer_id)?;
    let attendees: Vec<User> = meeting
        .attendee_ids
        .iter()
        .filter_map(|id| users.get(id).cloned())
        .collect();
    Some(CalendarEntry::for_meeting(meeting, organizer, &attendees))
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Creates the caller's calendar feed, or rotates its token when it exists (the previous
    /// URL stops working at once). Audited as `calendar_feed.create` or `calendar_feed.rotate`
    /// (without the token).
    ///
    /// # Errors
    ///
    /// `Forbidden` for anonymous and system callers; `Store` on a backend failure.
    pub async fn issue_calendar_feed(&self, ctx: &Context) -> Result<IssuedCalendarFeed> {
        let user_id = ctx.user_id("calendar_feed.issue")?;
        let mut uow = self.uow(ctx).await?;
        // The user's row serializes two concurrent first issues (one feed per user).
        let _: User = uow.load_for_update(user_id).await?;
        let token = generate_token();
        let existing = uow
            .first(&CalendarFeedFilter {
                user_id: Some(user_id),
                ..Default::default()
            })
            .await?;
        let (feed, action) = match existing {
            Some(mut feed) => {
                feed.token_hash = hash_token(&token);
                (uow.update(feed).await?, "calendar_feed.rotate")
            }
            None => {
                let feed = CalendarFeed {
                    id: uow.new_id(),
                    user_id,
                    token_hash: hash_token(&token),
                    meta: uow.meta(),
                };
                uow.insert(&feed).await?;
                (feed, "calendar_feed.create")
            }
        };
        uow.audit(
            action,
            "calendar_feed",
            feed.id,
            None,
            None,
            Some(json!({ "user_id": user_id, "version": feed.meta.version })),
        )
        .await?;
        uow.commit().await?;
        Ok(IssuedCalendarFeed { feed, token })
    }

    /// The caller's calendar feed, if they have one (never its token).
    ///
    /// # Errors
    ///
    /// `Forbidden` for anonymous and system callers; `Store` on a backend failure.
    pub async fn my_calendar_feed(&self, ctx: &Context) -> Result<Option<CalendarFeed>> {
        let user_id = ctx.user_id("calendar_feed.read")?;
        let mut uow = self.uow(ctx).await?;
        uow.first(&CalendarFeedFilter {
            user_id: Some(user_id),
            ..Default::default()
        })
        .await
    }

    /// Revokes the caller's calendar feed: its URL answers 404 from now on. Audited as
    /// `calendar_feed.revoke`.
    ///
    /// # Errors
    ///
    /// `Forbidden` for anonymous and system callers; `NotFound { entity: "calendar_feed" }`
    /// when the caller has none; `Store` on a backend failure.
    pub async fn revoke_calendar_feed(&self, ctx: &Context) -> Result<()> {
        let user_id = ctx.user_id("calendar_feed.revoke")?;
        let mut uow = self.uow(ctx).await?;
        let feed = uow
            .first(&CalendarFeedFilter {
                user_id: Some(user_id),
                ..Default::default()
            })
            .await?
            .ok_or_else(|| Error::not_found("calendar_feed", user_id))?;
        uow.delete(feed.id).await?;
        uow.audit(
            "calendar_feed.revoke",
            "calendar_feed",
            feed.id,
            None,
            Some(json!({ "user_id": user_id })),
            None,
        )
        .await?;
        uow.commit().await
    }

    /// What the feed of `token` lists: its owner's sessions and meetings ending after
    /// `now - calendar_feed_past` (cancelled ones included, marked cancelled, so subscribed
    /// calendars drop them), at most `calendar_feed_max_entries` of each, by start. Anyone
    /// holding the token may read it; nothing else is required.
    ///
    /// # Errors
    ///
    /// `NotFound { entity: "calendar_feed" }` for an unknown, rotated or revoked token, and for
    /// the feed of a user who is not active (suspended, deleted); `Store` on a backend failure.
    pub async fn calendar_feed(&self, token: &str) -> Result<CalendarFeedView> {
        let not_found = || Error::not_found("calendar_feed", "token");
        let mut uow = self.uow(&Context::anonymous()).await?;
        let feed = uow
            .first(&CalendarFeedFilter {
                token_hash: Some(hash_token(token.trim())),
                ..Default::default()
            })
            .await?
            .ok_or_else(not_found)?;
        let user: User = uow.get(feed.user_id).await?.ok_or_else(not_found)?;
        if user.status != UserStatus::Active || user.deletion.is_deleted() {
            return Err(not_found());
        }
        let from: DateTime<Utc> = uow.now - self.limits.calendar_feed_past;
        let page = PageRequest::first(self.limits.calendar_feed_max_entries);
        let sessions = uow
            .list(
                &SessionFilter {
                    participant_id: Some(user.id),
                    overlapping_from: Some(from),
                    ..Default::default()
                },
                page,
            )
            .await?
            .items;
        let meetings = uow
            .list(
                &MeetingFilter {
                    attendee_id: Some(user.id),
                    overlapping_from: Some(from),
                    ..Default::default()
                },
                page,
            )
            .await?
            .items;
        let people = sessions
            .iter()
            .flat_map(|s| [s.ally_id, s.entrepreneur_id])
            .chain(meetings.iter().flat_map(|m| m.attendee_ids.iter().copied()))
            .collect();
        let users = uow.users_by_id(people).await?;
        let mut entries: Vec<CalendarEntry> = sessions
            .iter()
            .filter_map(|s| entry_of_session(s, &users))
            .chain(meetings.iter().filter_map(|m| entry_of_meeting(m, &users)))
            .collect();
        entries.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then_with(|| a.uid.cmp(&b.uid)));
        Ok(CalendarFeedView { user, entries })
    }
}
