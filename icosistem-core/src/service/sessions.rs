//! Mentorship sessions (docs/domain.md §4.6): booking inside an active mentorship, the session
//! lifecycle (confirm, start, complete, cancel, reschedule), no-shows and feedback.
//!
//! # Booking rules
//!
//! A session of `d` minutes starting at `s` (its interval is `[s, s + d)`) is bookable when:
//!
//! - `d` is within `session_min_minutes..=session_max_minutes` (default 60 when not given) —
//!   otherwise a `duration_minutes` error;
//! - `s ≥ now + booking_notice` — otherwise a `starts_at` error;
//! - the ally has published weekly availability and the whole interval lies inside one of its
//!   slots, read in the availability's time zone — otherwise a `starts_at` error;
//! - no non-cancelled session of the ally or of the entrepreneur, and no non-cancelled meeting
//!   either of them attends (organizer or participant, whatever their answer), comes closer than
//!   `booking_buffer` to the interval: an existing `[a, b)` conflicts when
//!   `a < s + d + buffer` and `s < b + buffer`. Back-to-back with exactly the buffer between is
//!   fine. Otherwise a `starts_at` error ("overlaps another session of the ally" …);
//! - the ally holds fewer than `max_sessions_per_day` non-cancelled sessions starting on the same
//!   local day (the availability's time zone, or the ally's own when none) — otherwise a
//!   `starts_at` error.
//!
//! Every failing rule is reported at once. Rescheduling applies the same rules to the new start,
//! ignoring the session itself in the overlap and per-day checks.
//!
//! # Locking
//!
//! Booking and rescheduling first lock both parties' calendars (their user rows, in id order,
//! through `Uow::lock_calendars`) and only then read the calendars the rules depend on. Two
//! bookings that touch the same person therefore run one after the other, and the second sees
//! the first: of ten concurrent overlapping bookings with one ally exactly one succeeds and the
//! others get a `starts_at` validation error. Rows are always locked in the order
//! calendars (users) → mentorship → session → ally profile, so these commands never deadlock
//! with each other.
//!
//! # Errors
//!
//! Checked in this order; the first family that fails is returned:
//! `NotFound` (no such row, or the caller is not a party nor an admin — no existence leak) →
//! `Forbidden` (a party without the right, e.g. the entrepreneur confirming) → `Conflict`
//! (stale `version`) → `Validation` (every failing field at once) → `InvalidTransition` (the
//! state does not allow the command). The state machine's timing guards — starting more than
//! 15 minutes early, marking a no-show too soon — are `Validation` errors on `starts_at`.

use crate::service::Expect;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::{Context, Ecosystem, Notice, Uow, check_version};
use crate::error::{Error, Forbidden, Result, ValidationErrors};
use crate::model::value::optional_text;
use crate::model::{
    Actor, Mentorship, MentorshipId, MentorshipStatus, Profile, ProfileData, Session, SessionId, SessionStatus, User,
    UserId,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{Page, PageRequest, Repo, SessionFilter, Store, Transaction};
use crate::ports::{Clock, Notifier};
use crate::workflow::session::{self as wf, SessionCommand, SessionTiming};

mod booking;
mod feedback;

/// Longest agenda, in characters.
const AGENDA_MAX: usize = 2000;
/// Longest completion summary, in characters.
const SUMMARY_MAX: usize = 5000;
/// Longest cancellation reason, in characters.
const REASON_MAX: usize = 500;
/// Longest feedback comment, in characters.
const COMMENT_MAX: usize = 2000;

/// Input of [`Ecosystem::book_session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookSession {
    /// When it starts (at least `booking_notice` from now, inside the ally's availability).
    pub starts_at: DateTime<Utc>,
    /// Length in minutes (`session_min_minutes..=session_max_minutes`; default
    /// `session_default_minutes`).
    pub duration_minutes: Option<u16>,
    /// What to talk about (≤ 2000 chars; blank means none).
    pub agenda: Option<String>,
}

/// A command on a session, for [`Ecosystem::session_command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionAction {
    /// The ally confirms a scheduled session.
    Confirm,
    /// Either party starts a confirmed session (from 15 minutes before its start).
    Start,
    /// Either party completes a session in progress.
    Complete {
        /// What was covered (≤ 5000 chars).
        summary: Option<String>,
    },
    /// Either party cancels a scheduled or confirmed session; less than
    /// `late_cancellation_window` before the start it is a late cancellation.
    Cancel {
        /// Why (≤ 500 chars).
        reason: Option<String>,
    },
    /// Either party moves a scheduled or confirmed session; it goes back to `scheduled` (the
    /// ally confirms again) and keeps its id and duration.
    Reschedule {
        /// The new start; it must pass every booking rule.
        starts_at: DateTime<Utc>,
    },
}

impl SessionAction {
    fn command(&self) -> SessionCommand {
        match self {
            SessionAction::Confirm => SessionCommand::Confirm,
            SessionAction::Start => SessionCommand::Start,
            SessionAction::Complete { .. } => SessionCommand::Complete,
            SessionAction::Cancel { .. } => SessionCommand::Cancel,
            SessionAction::Reschedule { .. } => SessionCommand::Reschedule,
        }
    }
}

/// Admins and the platform itself see and run every session and meeting.
pub(super) fn oversees(actor: &Actor) -> bool {
    actor.is_admin() || *actor == Actor::System
}

/// How an instant appears in a notification text: in the reader's own time zone, named, so
/// "10:00" is never ambiguous. The `data` carries the exact RFC 3339 instant besides.
pub(super) fn local_when(at: DateTime<Utc>, reader: &User) -> String {
    format!(
        "{} ({})",
        at.with_timezone(&reader.timezone.tz()).format("%Y-%m-%d %H:%M"),
        reader.timezone
    )
}

impl<T: Transaction> Uow<T> {
    /// Notifies the user with this id (skipping users that no longer exist) with a notice
    /// `write` composes for them, so times read in their own time zone.
    pub(super) async fn notify_reader(&mut self, user_id: UserId, write: impl FnOnce(&User) -> Notice) -> Result<()> {
        let reader: Option<User> = self.get(user_id).await?;
        match reader {
            Some(reader) => {
                let notice = write(&reader);
                self.notify(&reader, notice).await
            }
            None => Ok(()),
        }
    }
}

/// A duration as people say it: "24 hours", "15 minutes".
pub(super) fn span(d: Duration) -> String {
    let minutes = d.num_minutes();
    match minutes {
        0 => "0 minutes".to_owned(),
        1 => "1 minute".to_owned(),
        60 => "1 hour".to_owned(),
        m if m % 60 == 0 => format!("{} hours", m / 60),
        m => format!("{m} minutes"),
    }
}

/// A place proposed for a session in the ally's and the entrepreneur's calendars.
struct Proposal {
    ally_id: UserId,
    entrepreneur_id: UserId,
    starts_at: DateTime<Utc>,
    /// `None` when the requested duration is itself invalid: the rules that need an end are
    /// then skipped (the duration error is already reported).
    duration: Option<Duration>,
    /// The session being rescheduled, which never conflicts with itself.
    ignore: Option<SessionId>,
    /// The ally's own time zone, for the per-day cap when no availability is published.
    ally_tz: Tz,
}

/// The parties of a session to tell about a change: both, minus whoever made it.
fn others(session: &Session, actor: &Actor) -> Vec<UserId> {
    [session.ally_id, session.entrepreneur_id]
        .into_iter()
        .filter(|u| actor.user_id() != Some(*u))
        .collect()
}

fn session_data(session: &Session) -> serde_json::Value {
    json!({
        "session_id": session.id,
        "mentorship_id": session.mentorship_id,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "status": session.status,
    })
}

/// What the other party of a session command reads (confirm, complete, cancel, reschedule).
fn command_notice(command: SessionCommand, session: &Session, before_start: DateTime<Utc>, reader: &User) -> Notice {
    let at = local_when(session.starts_at, reader);
    let mut data = session_data(session);
    match command {
        SessionCommand::Confirm => Notice::new(
            "session_confirmed",
            format!("Session of {at} confirmed"),
            format!("The mentoring session of {at} is confirmed."),
            data,
        ),
        SessionCommand::Complete => Notice::new(
            "session_completed",
            "Mentoring session completed",
            format!("The mentoring session of {at} is completed. You can now leave your feedback."),
            data,
        ),
        SessionCommand::Cancel => {
            let late = if session.late_cancellation {
                " (late cancellation)"
            } else {
                ""
            };
            data["late_cancellation"] = json!(session.late_cancellation);
            data["reason"] = json!(session.cancel_reason);
            let body = match &session.cancel_reason {
                Some(reason) => format!("The mentoring session of {at} was cancelled{late}: {reason}"),
                None => format!("The mentoring session of {at} was cancelled{late}."),
            };
            Notice::new(
                "session_cancelled",
                format!("Session of {at} cancelled{late}"),
                body,
                data,
            )
        }
        SessionCommand::Reschedule => {
            data["previous_starts_at"] = json!(before_start);
            Notice::new(
                "session_rescheduled",
                format!("Session moved to {at}"),
                format!(
                    "The mentoring session of {} was moved to {at}.",
                    local_when(before_start, reader)
                ),
                data,
            )
        }
        // Not sent (starting tells no one; no-shows have their own notice); kept total so a
        // new command can never panic here.
        SessionCommand::Start | SessionCommand::MarkNoShow => Notice::new(
            "session_updated",
            format!("Session of {at} is {}", session.status),
            format!("The mentoring session of {at} is now {}.", session.status),
            data,
        ),
    }
}

fn timing<S, N, C>(eco: &Ecosystem<S, N, C>, session: &Session, now: DateTime<Utc>) -> SessionTiming {
    SessionTiming {
        starts_at: session.starts_at,
        now,
        late_cancellation_window: eco.limits.late_cancellation_window,
        no_show_after: eco.limits.no_show_after,
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Books a session in an active mentorship, by either party or an admin. The caller's
    /// fields are checked against every booking rule of the module docs under both parties'
    /// calendar locks. The other party (both, when an admin books) is notified
    /// (`session_booked`); audited as `session.book`. The session starts `scheduled`.
    ///
    /// # Errors
    ///
    /// - `NotFound { entity: "mentorship" }`: no such mentorship, or the caller is neither a
    ///   party nor an admin;
    /// - `Forbidden`: anonymous callers;
    /// - `Validation`: every failing rule, on `starts_at`, `duration_minutes` and `agenda`;
    /// - `InvalidTransition { entity: "mentorship", command: "book_session" }`: the mentorship
    ///   is not active;
    /// - `Store` on a backend failure.
    pub async fn book_session(
        &self,
        ctx: &Context,
        mentorship_id: MentorshipId,
        input: BookSession,
    ) -> Result<Session> {
        if ctx.actor == Actor::Anonymous {
            return Err(Error::Forbidden(Forbidden {
                action: "session.book",
                resource: "session",
            }));
        }
        let mut uow = self.uow(ctx).await?;
        let peek: Mentorship = uow.load(mentorship_id).await?;
        let me = ctx.actor.user_id();
        let party = me == Some(peek.ally_id) || me == Some(peek.entrepreneur_id);
        if !party && !oversees(&ctx.actor) {
            return Err(Error::not_found("mentorship", mentorship_id));
        }

        let mut errors = ValidationErrors::new();
        // The ally's preferred length is the default, as in `free_slots`: a start it offers can be
        // booked as offered.
        let preferred = match Repo::<Profile>::get(&mut uow.tx, peek.ally_id).await? {
            Some(Profile {
                data: ProfileData::Ally(ally),
                ..
            }) => ally.session_duration_minutes,
            _ => self.limits.session_default_minutes,
        };
        let minutes = input.duration_minutes.unwrap_or(preferred);
        let (min, max) = (self.limits.session_min_minutes, self.limits.session_max_minutes);
        let duration_ok = (min..=max).contains(&minutes);
        if !duration_ok {
            errors.push("duration_minutes", format!("must be between {min} and {max} minutes"));
        }
        let agenda = errors
            .check(optional_text("agenda", input.agenda.as_deref(), AGENDA_MAX))
            .flatten();

        // Calendars first, then the mentorship: the lock order every booking command follows.
        let users = uow.lock_calendars(&[peek.ally_id, peek.entrepreneur_id]).await?;
        let mentorship: Mentorship = uow.load_for_update(mentorship_id).await?;
        let ally_tz = users
            .iter()
            .find(|u| u.id == mentorship.ally_id)
            .map(|u| u.timezone.tz())
            .unwrap_or(chrono_tz::UTC);
        let proposal = Proposal {
            ally_id: mentorship.ally_id,
            entrepreneur_id: mentorship.entrepreneur_id,
            starts_at: input.starts_at,
            duration: duration_ok.then(|| Duration::minutes(i64::from(minutes))),
            ignore: None,
            ally_tz,
        };
        self.check_booking(&mut uow, &proposal, &mut errors).await?;
        errors.into_result()?;
        if mentorship.status != MentorshipStatus::Active {
            return Err(Error::invalid_transition(
                "mentorship",
                mentorship.status.as_str(),
                "book_session",
            ));
        }

        let session = Session {
            id: uow.new_id(),
            mentorship_id,
            ally_id: mentorship.ally_id,
            entrepreneur_id: mentorship.entrepreneur_id,
            starts_at: input.starts_at,
            ends_at: input.starts_at + Duration::minutes(i64::from(minutes)),
            duration_minutes: minutes,
            agenda,
            status: SessionStatus::Scheduled,
            late_cancellation: false,
            cancel_reason: None,
            reschedule_count: 0,
            summary: None,
            completed_at: None,
            ally_feedback: None,
            entrepreneur_feedback: None,
            meta: uow.meta(),
        };
        uow.insert(&session).await?;
        uow.audit(
            "session.book",
            "session",
            session.id,
            None,
            None,
            Some(json!({
                "status": session.status,
                "starts_at": session.starts_at,
                "duration_minutes": session.duration_minutes,
            })),
        )
        .await?;
        let entry = uow.session_entry(&session).await?;
        for user in others(&session, &ctx.actor) {
            uow.notify_reader(user, |reader| {
                Notice::new(
                    "session_booked",
                    format!("Mentoring session booked for {}", local_when(session.starts_at, reader)),
                    format!(
                        "A {}-minute mentoring session was booked for {}.",
                        session.duration_minutes,
                        local_when(session.starts_at, reader)
                    ),
                    session_data(&session),
                )
                .with_calendar(entry.as_ref())
            })
            .await?;
        }
        uow.commit().await?;
        Ok(session)
    }

    /// Runs a session command: `Confirm` (the ally), `Start`, `Complete`, `Cancel` and
    /// `Reschedule` (either party); admins may run every command. Completing sets
    /// `completed_at` and the summary; cancelling stores the reason and flags a late
    /// cancellation; rescheduling moves the session (same id and duration) to a start that
    /// passes every booking rule again, under both calendar locks, sets it back to `scheduled`
    /// and increments `reschedule_count`. The other party (both, when an admin acts) is notified
    /// on confirm, complete, cancel (saying when it is late) and reschedule; starting notifies
    /// no one. Audited as `session.<command>`.
    ///
    /// # Errors
    ///
    /// - `NotFound { entity: "session" }`: no such session, or the caller is neither a party
    ///   nor an admin;
    /// - `Forbidden`: the entrepreneur confirming;
    /// - `Conflict { field: "version" }`: `version` is stale;
    /// - `Validation`: `summary` or `reason` too long; for `Reschedule`, every booking rule the
    ///   new start fails (on `starts_at`); for `Start`, more than 15 minutes before the start
    ///   (on `starts_at`);
    /// - `InvalidTransition { entity: "session" }`: the command is not allowed from the current
    ///   status; `InvalidTransition { entity: "mentorship", command: "reschedule_session" }`:
    ///   rescheduling while the mentorship is not active;
    /// - `Store` on a backend failure.
    pub async fn session_command(
        &self,
        ctx: &Context,
        id: SessionId,
        action: SessionAction,
        version: impl Into<Expect>,
    ) -> Result<Session> {
        let command = action.command();
        let mut uow = self.uow(ctx).await?;
        let peek: Session = uow.load(id).await?;
        let me = ctx.actor.user_id();
        if !me.is_some_and(|me| peek.involves(me)) && !oversees(&ctx.actor) {
            return Err(Error::not_found("session", id));
        }
        if command == SessionCommand::Confirm {
            authorize(
                &ctx.actor,
                Action::ManageMentorship,
                &Facts::owned(me == Some(peek.ally_id)),
            )?;
        }

        // Moving a session needs the calendar lock before the session row, like a booking.
        let mut reschedule_facts = None;
        if let SessionAction::Reschedule { .. } = action {
            let users = uow.lock_calendars(&[peek.ally_id, peek.entrepreneur_id]).await?;
            let mentorship: Mentorship = uow.load_for_update(peek.mentorship_id).await?;
            let ally_tz = users
                .iter()
                .find(|u| u.id == peek.ally_id)
                .map(|u| u.timezone.tz())
                .unwrap_or(chrono_tz::UTC);
            reschedule_facts = Some((mentorship, ally_tz));
        }
        let mut session: Session = uow.load_for_update(id).await?;
        check_version(&session, version)?;

        let mut errors = ValidationErrors::new();
        let mut summary = None;
        let mut reason = None;
        match &action {
            SessionAction::Complete { summary: s } => {
                summary = errors
                    .check(optional_text("summary", s.as_deref(), SUMMARY_MAX))
                    .flatten();
            }
            SessionAction::Cancel { reason: r } => {
                reason = errors
                    .check(optional_text("reason", r.as_deref(), REASON_MAX))
                    .flatten();
            }
            SessionAction::Reschedule { starts_at } => {
                let (_, ally_tz) = reschedule_facts.as_ref().expect("locked above");
                let proposal = Proposal {
                    ally_id: session.ally_id,
                    entrepreneur_id: session.entrepreneur_id,
                    starts_at: *starts_at,
                    duration: Some(Duration::minutes(i64::from(session.duration_minutes))),
                    ignore: Some(session.id),
                    ally_tz: *ally_tz,
                };
                self.check_booking(&mut uow, &proposal, &mut errors).await?;
            }
            SessionAction::Confirm | SessionAction::Start => {}
        }
        errors.into_result()?;

        let step = wf::transition(session.status, command, &timing(self, &session, uow.now))?;
        if let Some((mentorship, _)) = &reschedule_facts
            && mentorship.status != MentorshipStatus::Active
        {
            return Err(Error::invalid_transition(
                "mentorship",
                mentorship.status.as_str(),
                "reschedule_session",
            ));
        }

        let from = session.status;
        let before_start = session.starts_at;
        session.status = step.to;
        match action {
            SessionAction::Complete { .. } => {
                session.summary = summary;
                session.completed_at = Some(uow.now);
            }
            SessionAction::Cancel { .. } => {
                session.cancel_reason = reason;
                session.late_cancellation = step.late_cancellation;
            }
            SessionAction::Reschedule { starts_at } => {
                session.starts_at = starts_at;
                session.ends_at = starts_at + Duration::minutes(i64::from(session.duration_minutes));
                session.reschedule_count += 1;
            }
            SessionAction::Confirm | SessionAction::Start => {}
        }
        let session = uow.update(session).await?;
        let action_name = format!("session.{}", command.as_str());
        if command == SessionCommand::Reschedule {
            uow.audit(
                &action_name,
                "session",
                session.id,
                None,
                Some(json!({ "status": from, "starts_at": before_start })),
                Some(json!({ "status": session.status, "starts_at": session.starts_at })),
            )
            .await?;
        } else {
            uow.audit_transition(
                &action_name,
                "session",
                session.id,
                None,
                from.as_str(),
                session.status.as_str(),
            )
            .await?;
        }

        if matches!(
            command,
            SessionCommand::Confirm | SessionCommand::Complete | SessionCommand::Cancel | SessionCommand::Reschedule
        ) {
            // A confirmation, a move or a cancellation updates the invite in the parties'
            // calendars (same UID, higher SEQUENCE); completing changes nothing there.
            let entry = match command {
                SessionCommand::Complete => None,
                _ => uow.session_entry(&session).await?,
            };
            for user in others(&session, &ctx.actor) {
                uow.notify_reader(user, |reader| {
                    command_notice(command, &session, before_start, reader).with_calendar(entry.as_ref())
                })
                .await?;
            }
        }
        uow.commit().await?;
        Ok(session)
    }

    /// Marks a scheduled or confirmed session as a no-show once `no_show_after` has passed
    /// since its start, and notifies both parties (`session_no_show`). Only the platform does
    /// this (the no-show sweep job); audited as `session.no_show` by the system.
    ///
    /// # Errors
    ///
    /// - `Forbidden`: any caller but [`Context::system`], admins included;
    /// - `NotFound { entity: "session" }`: no such session;
    /// - `Validation` on `starts_at`: `no_show_after` has not passed yet;
    /// - `InvalidTransition { entity: "session", command: "no_show" }`: the session is not
    ///   scheduled or confirmed;
    /// - `Store` on a backend failure.
    pub async fn mark_no_show(&self, ctx: &Context, id: SessionId) -> Result<Session> {
        if ctx.actor != Actor::System {
            return Err(Error::Forbidden(Forbidden {
                action: "session.no_show",
                resource: "session",
            }));
        }
        let mut uow = self.uow(ctx).await?;
        let session: Session = uow.load(id).await?;
        let session = self.no_show_in(&mut uow, session).await?;
        uow.commit().await?;
        Ok(session)
    }

    /// The work of [`Ecosystem::mark_no_show`] inside the caller's unit of work, so the sweep
    /// can mark many sessions in one. The row is locked and re-read here, so a session changed
    /// since the caller listed it is judged on its current state: one that is no longer due
    /// answers `Validation` (too early) or `InvalidTransition` (no longer scheduled/confirmed),
    /// which the sweep should treat as "skip". Nothing is written in that case.
    pub(crate) async fn no_show_in(&self, uow: &mut Uow<S::Tx>, session: Session) -> Result<Session> {
        let mut session: Session = uow.load_for_update(session.id).await?;
        let step = wf::transition(
            session.status,
            SessionCommand::MarkNoShow,
            &timing(self, &session, uow.now),
        )?;
        let from = session.status;
        session.status = step.to;
        let session = uow.update(session).await?;
        uow.audit_transition(
            "session.no_show",
            "session",
            session.id,
            None,
            from.as_str(),
            session.status.as_str(),
        )
        .await?;
        for user in [session.ally_id, session.entrepreneur_id] {
            uow.notify_reader(user, |reader| {
                Notice::new(
                    "session_no_show",
                    format!(
                        "Session of {} marked as not held",
                        local_when(session.starts_at, reader)
                    ),
                    format!(
                        "The mentoring session of {} was neither held nor cancelled, so it is now marked as a \
                         no-show.",
                        local_when(session.starts_at, reader)
                    ),
                    session_data(&session),
                )
            })
            .await?;
        }
        Ok(session)
    }

    /// One session, for its parties and admins.
    ///
    /// # Errors
    ///
    /// `NotFound { entity: "session" }` when it does not exist or the caller is neither a party
    /// nor an admin; `Store` on a backend failure.
    pub async fn get_session(&self, ctx: &Context, id: SessionId) -> Result<Session> {
        let mut uow = self.uow(ctx).await?;
        let session: Session = uow.load(id).await?;
        let me = ctx.actor.user_id();
        if !me.is_some_and(|me| session.involves(me)) && !oversees(&ctx.actor) {
            return Err(Error::not_found("session", id));
        }
        Ok(session)
    }

    /// The sessions of a mentorship, newest first, for its parties and admins.
    ///
    /// # Errors
    ///
    /// `NotFound { entity: "mentorship" }` when it does not exist or the caller is neither a
    /// party nor an admin; `Store` on a backend failure.
    pub async fn list_sessions(
        &self,
        ctx: &Context,
        mentorship_id: MentorshipId,
        page: PageRequest,
    ) -> Result<Page<Session>> {
        let mut uow = self.uow(ctx).await?;
        let mentorship: Mentorship = uow.load(mentorship_id).await?;
        let me = ctx.actor.user_id();
        let party = me == Some(mentorship.ally_id) || me == Some(mentorship.entrepreneur_id);
        if !party && !oversees(&ctx.actor) {
            return Err(Error::not_found("mentorship", mentorship_id));
        }
        uow.list(
            &SessionFilter {
                mentorship_id: Some(mentorship_id),
                ..Default::default()
            },
            page,
        )
        .await
    }

    /// Lists sessions matching `filter`, newest first. Everyone but admins sees only the
    /// sessions they take part in: `participant_id` is forced to the caller.
    ///
    /// # Errors
    ///
    /// `Forbidden` for anonymous callers; `Store` on a backend failure.
    pub async fn list_my_sessions(
        &self,
        ctx: &Context,
        mut filter: SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>> {
        if !oversees(&ctx.actor) {
            filter.participant_id = Some(ctx.user_id("session.list")?);
        }
        let mut uow = self.uow(ctx).await?;
        uow.list(&filter, page).await
    }
}
