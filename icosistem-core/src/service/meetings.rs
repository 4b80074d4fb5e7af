//! Meetings and their participants (docs/domain.md §4.8).
//!
//! Anyone signed in may call a meeting: they are its organizer and invite participants, who
//! answer `accepted`, `declined` or `tentative` (they start `pending`). `attendee_ids` is the
//! organizer plus every participant, whatever their answer; it is what calendars (the
//! no-overlap rule of session booking) and "my meetings" read. The meeting runs
//! `scheduled → in_progress → completed`, or `scheduled → cancelled`; rescheduling keeps the id,
//! the status and every participant's answer (they are told about the new time).
//!
//! Meetings themselves are not refused for clashing with other bookings (docs/domain.md §4.8 has no
//! such rule); the no-overlap rule belongs to session booking. They still take the calendar
//! lock of every person whose calendar they add to or move (organizer and participants), in
//! the same order as bookings — calendars (users) → meeting → participant — so a booking and a
//! meeting touching the same person never interleave and a booking's overlap check always sees
//! a consistent calendar.
//!
//! # Errors
//!
//! Checked in this order; the first family that fails is returned: `NotFound` (no such meeting,
//! or the caller is neither an attendee nor an admin — no existence leak) → `Forbidden` (an
//! attendee without the right, e.g. a participant cancelling) → `Conflict` (stale `version`) →
//! `Validation` (every failing field at once) → `InvalidTransition` → `Conflict` on a unique
//! key (a user invited twice).

use crate::service::Expect;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::sessions::{local_when, oversees};
use super::{Context, Ecosystem, Notice, Uow, check_version};
use crate::error::{Error, Forbidden, Result, ValidationErrors};
use crate::model::value::{bounded_text, optional_text};
use crate::model::{Meeting, MeetingId, MeetingParticipant, MeetingStatus, ParticipantResponse, User, UserId};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{MeetingFilter, Page, PageRequest, ParticipantFilter, Store, Transaction};
use crate::ports::{Clock, Notifier};
use crate::workflow::meeting::{self as wf, MeetingCommand, check_times};

/// Longest description, in characters.
const DESCRIPTION_MAX: usize = 5000;
/// Longest location (a room or a link), in characters.
const LOCATION_MAX: usize = 500;

/// Input of [`Ecosystem::schedule_meeting`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleMeeting {
    /// Title (3–300 chars).
    pub title: String,
    /// Description (≤ 5000 chars).
    pub description: Option<String>,
    /// Where: a room or a link (≤ 500 chars).
    pub location: Option<String>,
    /// Start: at least `meeting_min_lead` from now.
    pub starts_at: DateTime<Utc>,
    /// End: after the start, at most `meeting_max_duration` later.
    pub ends_at: DateTime<Utc>,
    /// Who is invited: existing users, no duplicates, not the organizer, at most
    /// `meeting_max_participants`. May be empty.
    pub participant_ids: Vec<UserId>,
}

/// A command on a meeting, for [`Ecosystem::meeting_command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingAction {
    /// It begins.
    Start,
    /// It ends.
    Complete,
    /// Called off; every attendee but the caller is told.
    Cancel,
    /// Moved (same id, same answers); every attendee but the caller is told.
    Reschedule {
        /// The new start (at least `meeting_min_lead` from now).
        starts_at: DateTime<Utc>,
        /// The new end (after the start, at most `meeting_max_duration` later).
        ends_at: DateTime<Utc>,
    },
}

impl MeetingAction {
    fn command(&self) -> MeetingCommand {
        match self {
            MeetingAction::Start => MeetingCommand::Start,
            MeetingAction::Complete => MeetingCommand::Complete,
            MeetingAction::Cancel => MeetingCommand::Cancel,
            MeetingAction::Reschedule { .. } => MeetingCommand::Reschedule,
        }
    }
}

fn meeting_data(meeting: &Meeting) -> serde_json::Value {
    json!({
        "meeting_id": meeting.id,
        "title": meeting.title,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "status": meeting.status,
    })
}

fn invitation(meeting: &Meeting, organizer: &str, reader: &User) -> Notice {
    Notice::new(
        "meeting_invitation",
        format!("Invitation: {}", meeting.title),
        format!(
            "{organizer} invited you to \"{}\" on {}. Please answer the invitation.",
            meeting.title,
            local_when(meeting.starts_at, reader)
        ),
        meeting_data(meeting),
    )
}

/// What the attendees read when a meeting is cancelled or moved.
fn command_notice(
    command: MeetingCommand,
    meeting: &Meeting,
    before_start: DateTime<Utc>,
    before_end: DateTime<Utc>,
    reader: &User,
) -> Notice {
    let mut data = meeting_data(meeting);
    match command {
        MeetingCommand::Reschedule => {
            data["previous_starts_at"] = json!(before_start);
            data["previous_ends_at"] = json!(before_end);
            Notice::new(
                "meeting_rescheduled",
                format!("Moved: {}", meeting.title),
                format!(
                    "The meeting \"{}\" moved from {} to {}.",
                    meeting.title,
                    local_when(before_start, reader),
                    local_when(meeting.starts_at, reader)
                ),
                data,
            )
        }
        MeetingCommand::Cancel => Notice::new(
            "meeting_cancelled",
            format!("Cancelled: {}", meeting.title),
            format!(
                "The meeting \"{}\" of {} was cancelled.",
                meeting.title,
                local_when(meeting.starts_at, reader)
            ),
            data,
        ),
        // Not sent (starting and completing tell no one); kept total so a new command can never
        // panic here.
        MeetingCommand::Start | MeetingCommand::Complete => Notice::new(
            "meeting_updated",
            format!("{} is {}", meeting.title, meeting.status),
            format!("The meeting \"{}\" is now {}.", meeting.title, meeting.status),
            data,
        ),
    }
}

fn organizer_only(action: &'static str) -> Error {
    Error::Forbidden(Forbidden {
        action,
        resource: "meeting",
    })
}

impl<T: Transaction> Uow<T> {
    /// The meeting if the caller may see it (an attendee, an admin, the platform); otherwise
    /// `NotFound`, so its existence does not leak.
    async fn visible_meeting(&mut self, id: MeetingId) -> Result<Meeting> {
        let meeting: Meeting = self.load(id).await?;
        let attendee = self
            .ctx
            .actor
            .user_id()
            .is_some_and(|me| meeting.attendee_ids.contains(&me));
        if !attendee && !oversees(&self.ctx.actor) {
            return Err(Error::not_found("meeting", id));
        }
        Ok(meeting)
    }

    /// The meeting if the caller may run it (its organizer, an admin, the platform).
    async fn organized_meeting(&mut self, id: MeetingId, action: &'static str) -> Result<Meeting> {
        let meeting = self.visible_meeting(id).await?;
        if self.ctx.actor.user_id() != Some(meeting.organizer_id) && !oversees(&self.ctx.actor) {
            return Err(organizer_only(action));
        }
        Ok(meeting)
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Calls a meeting: the caller is the organizer, `participant_ids` are invited (`pending`)
    /// and each is notified (`meeting_invitation`). Audited as `meeting.schedule`. Returns the
    /// meeting and its participants in the order given.
    ///
    /// # Errors
    ///
    /// - `Forbidden`: anonymous or system callers (a meeting needs a person as organizer);
    /// - `Validation`, every failure at once: `title` (3–300), `description` (≤ 5000),
    ///   `location` (≤ 500), `starts_at`/`ends_at` (the time rules of
    ///   [`check_times`]), `participant_ids` (too many, the organizer listed, a user listed
    ///   twice), `participant_ids[i]` (no such user);
    /// - `Store` on a backend failure.
    pub async fn schedule_meeting(
        &self,
        ctx: &Context,
        input: ScheduleMeeting,
    ) -> Result<(Meeting, Vec<MeetingParticipant>)> {
        let organizer_id = ctx.user_id("meeting.schedule")?;
        authorize(&ctx.actor, Action::ScheduleMeeting, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;

        let mut errors = ValidationErrors::new();
        let title = errors.check(bounded_text("title", &input.title, 3, 300));
        let description = errors
            .check(optional_text(
                "description",
                input.description.as_deref(),
                DESCRIPTION_MAX,
            ))
            .flatten();
        let location = errors
            .check(optional_text("location", input.location.as_deref(), LOCATION_MAX))
            .flatten();
        errors.extend(check_times(
            input.starts_at,
            input.ends_at,
            uow.now,
            self.limits.meeting_min_lead,
            self.limits.meeting_max_duration,
        ));
        let max = self.limits.meeting_max_participants;
        if input.participant_ids.len() > max {
            errors.push("participant_ids", format!("a meeting has at most {max} participants"));
        }
        if input.participant_ids.contains(&organizer_id) {
            errors.push("participant_ids", "the organizer attends without being listed");
        }
        let mut seen = std::collections::HashSet::new();
        if !input.participant_ids.iter().all(|id| seen.insert(*id)) {
            errors.push("participant_ids", "lists a user more than once");
        }
        // Existence is only worth asking the store about for a list of a sane length.
        if input.participant_ids.len() <= max {
            for (i, id) in input.participant_ids.iter().enumerate() {
                let user: Option<User> = uow.get(*id).await?;
                if user.is_none() {
                    errors.push(format!("participant_ids[{i}]"), "no such user");
                }
            }
        }
        errors.into_result()?;

        let mut attendee_ids = Vec::with_capacity(input.participant_ids.len() + 1);
        attendee_ids.push(organizer_id);
        attendee_ids.extend(input.participant_ids.iter().copied());
        let locked = uow.lock_calendars(&attendee_ids).await?;
        let organizer_name = locked
            .iter()
            .find(|u| u.id == organizer_id)
            .map(User::full_name)
            .unwrap_or_default();

        let meeting = Meeting {
            id: uow.new_id(),
            organizer_id,
            title: title.expect("validated"),
            description,
            location,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            status: MeetingStatus::Scheduled,
            attendee_ids,
            meta: uow.meta(),
        };
        uow.insert(&meeting).await?;
        let mut participants = Vec::with_capacity(input.participant_ids.len());
        for user_id in &input.participant_ids {
            let participant = MeetingParticipant {
                id: uow.new_id(),
                meeting_id: meeting.id,
                user_id: *user_id,
                response: ParticipantResponse::Pending,
                responded_at: None,
                meta: uow.meta(),
            };
            uow.insert(&participant).await?;
            participants.push(participant);
        }
        uow.audit(
            "meeting.schedule",
            "meeting",
            meeting.id,
            None,
            None,
            Some(json!({
                "status": meeting.status,
                "starts_at": meeting.starts_at,
                "ends_at": meeting.ends_at,
                "participants": participants.len(),
            })),
        )
        .await?;
        let entry = uow.meeting_entry(&meeting).await?;
        for user in locked.iter().filter(|u| u.id != organizer_id) {
            uow.notify(
                user,
                invitation(&meeting, &organizer_name, user).with_calendar(entry.as_ref()),
            )
            .await?;
        }
        uow.commit().await?;
        Ok((meeting, participants))
    }

    /// Invites one more user to a meeting that is not over (its organizer or an admin): they
    /// join `attendee_ids` as `pending` and are notified (`meeting_invitation`). Audited as
    /// `meeting.add_participant`.
    ///
    /// # Errors
    ///
    /// - `NotFound { entity: "meeting" }`: no such meeting, or the caller is neither an
    ///   attendee nor an admin;
    /// - `Forbidden`: an attendee who is not the organizer;
    /// - `Validation` on `user_id`: no such user, the organizer, or the meeting already has
    ///   `meeting_max_participants`;
    /// - `InvalidTransition { entity: "meeting", command: "add_participant" }`: the meeting is
    ///   completed or cancelled;
    /// - `Conflict { entity: "meeting_participant", field: "meeting_user" }`: the user is
    ///   already invited;
    /// - `Store` on a backend failure.
    pub async fn add_participant(
        &self,
        ctx: &Context,
        meeting_id: MeetingId,
        user_id: UserId,
    ) -> Result<MeetingParticipant> {
        let mut uow = self.uow(ctx).await?;
        let peek = uow.organized_meeting(meeting_id, "meeting.add_participant").await?;

        let mut errors = ValidationErrors::new();
        let user: Option<User> = uow.get(user_id).await?;
        if user.is_none() {
            errors.push("user_id", "no such user");
        } else if user_id == peek.organizer_id {
            errors.push("user_id", "the organizer already attends");
        }
        errors.into_result()?;

        let mut locked = uow.lock_calendars(&[user_id]).await?;
        let invitee = locked.pop().expect("one calendar locked");
        // The meeting row serializes concurrent invitations: the count and the duplicate check
        // below see each other.
        let mut meeting: Meeting = uow.load_for_update(meeting_id).await?;
        let existing = uow
            .first(&ParticipantFilter {
                meeting_id: Some(meeting_id),
                user_id: Some(user_id),
            })
            .await?;
        let count = uow
            .count(&ParticipantFilter {
                meeting_id: Some(meeting_id),
                ..Default::default()
            })
            .await?;
        let max = self.limits.meeting_max_participants;
        if existing.is_none() && count >= max as u64 {
            return Err(Error::invalid(
                "user_id",
                format!("a meeting has at most {max} participants"),
            ));
        }
        if meeting.status.is_terminal() {
            return Err(Error::invalid_transition(
                "meeting",
                meeting.status.as_str(),
                "add_participant",
            ));
        }
        if existing.is_some() {
            return Err(Error::Conflict {
                entity: crate::model::ParticipantId::KIND,
                field: "meeting_user",
            });
        }

        let participant = MeetingParticipant {
            id: uow.new_id(),
            meeting_id,
            user_id,
            response: ParticipantResponse::Pending,
            responded_at: None,
            meta: uow.meta(),
        };
        uow.insert(&participant).await?;
        meeting.attendee_ids.push(user_id);
        let meeting = uow.update(meeting).await?;
        uow.audit(
            "meeting.add_participant",
            "meeting",
            meeting.id,
            None,
            None,
            Some(json!({ "user_id": user_id, "participant_id": participant.id })),
        )
        .await?;
        let organizer: Option<User> = uow.get(meeting.organizer_id).await?;
        let organizer_name = organizer.as_ref().map(User::full_name).unwrap_or_default();
        let entry = uow.meeting_entry(&meeting).await?;
        uow.notify(
            &invitee,
            invitation(&meeting, &organizer_name, &invitee).with_calendar(entry.as_ref()),
        )
        .await?;
        uow.commit().await?;
        Ok(participant)
    }

    /// The caller answers their invitation (`accepted`, `declined` or `tentative`; they may
    /// change their answer while the meeting is not over). The organizer is notified
    /// (`meeting_response`). Audited as `meeting.respond`.
    ///
    /// # Errors
    ///
    /// - `NotFound { entity: "meeting" }`: no such meeting, or the caller is neither an
    ///   attendee nor an admin;
    /// - `Forbidden`: the caller sees the meeting but is not invited to it (the organizer, an
    ///   admin);
    /// - `Validation` on `response`: `pending` is not an answer;
    /// - `InvalidTransition { entity: "meeting", command: "respond" }`: the meeting is
    ///   completed or cancelled;
    /// - `Store` on a backend failure.
    pub async fn respond_to_meeting(
        &self,
        ctx: &Context,
        meeting_id: MeetingId,
        response: ParticipantResponse,
    ) -> Result<MeetingParticipant> {
        let mut uow = self.uow(ctx).await?;
        let meeting = uow.visible_meeting(meeting_id).await?;
        let invited = match ctx.actor.user_id() {
            Some(me) => {
                uow.first(&ParticipantFilter {
                    meeting_id: Some(meeting_id),
                    user_id: Some(me),
                })
                .await?
            }
            None => None,
        };
        let Some(invited) = invited else {
            return Err(Error::Forbidden(Forbidden {
                action: "meeting.respond",
                resource: "meeting",
            }));
        };
        if response == ParticipantResponse::Pending {
            return Err(Error::invalid("response", "must be accepted, declined or tentative"));
        }
        if meeting.status.is_terminal() {
            return Err(Error::invalid_transition("meeting", meeting.status.as_str(), "respond"));
        }

        let mut participant: MeetingParticipant = uow.load_for_update(invited.id).await?;
        let before = participant.response;
        participant.response = response;
        participant.responded_at = Some(uow.now);
        let participant = uow.update(participant).await?;
        uow.audit(
            "meeting.respond",
            "meeting_participant",
            participant.id,
            None,
            Some(json!({ "meeting_id": meeting_id, "response": before })),
            Some(json!({ "meeting_id": meeting_id, "response": participant.response })),
        )
        .await?;
        let responder: Option<User> = uow.get(participant.user_id).await?;
        let name = responder.as_ref().map(User::full_name).unwrap_or_default();
        let mut data = meeting_data(&meeting);
        data["user_id"] = json!(participant.user_id);
        data["response"] = json!(participant.response);
        uow.notify_reader(meeting.organizer_id, |reader| {
            Notice::new(
                "meeting_response",
                format!("{name} answered {}: {}", meeting.title, participant.response),
                format!(
                    "{name} answered \"{}\" to your meeting \"{}\" of {}.",
                    participant.response,
                    meeting.title,
                    local_when(meeting.starts_at, reader)
                ),
                data,
            )
        })
        .await?;
        uow.commit().await?;
        Ok(participant)
    }

    /// Runs a meeting command (its organizer or an admin): `Start`, `Complete`, `Cancel`,
    /// `Reschedule`. Rescheduling re-checks the time rules, keeps the id, the `scheduled`
    /// status and every answer, under the attendees' calendar locks. Cancelling and
    /// rescheduling notify every attendee but the caller (`meeting_cancelled`,
    /// `meeting_rescheduled`); starting and completing notify no one. Audited as
    /// `meeting.<command>`.
    ///
    /// # Errors
    ///
    /// - `NotFound { entity: "meeting" }`: no such meeting, or the caller is neither an
    ///   attendee nor an admin;
    /// - `Forbidden`: an attendee who is not the organizer;
    /// - `Conflict { field: "version" }`: `version` is stale;
    /// - `Validation` on `starts_at`/`ends_at` (reschedule): the time rules of [`check_times`];
    /// - `InvalidTransition { entity: "meeting" }`: the command is not allowed from the status;
    /// - `Store` on a backend failure.
    pub async fn meeting_command(
        &self,
        ctx: &Context,
        id: MeetingId,
        action: MeetingAction,
        version: impl Into<Expect>,
    ) -> Result<Meeting> {
        let command = action.command();
        let action_name = format!("meeting.{}", command.as_str());
        let mut uow = self.uow(ctx).await?;
        let peek = uow.organized_meeting(id, "meeting.manage").await?;
        if command == MeetingCommand::Reschedule {
            uow.lock_calendars(&peek.attendee_ids).await?;
        }
        let mut meeting: Meeting = uow.load_for_update(id).await?;
        check_version(&meeting, version)?;
        if let MeetingAction::Reschedule { starts_at, ends_at } = action {
            check_times(
                starts_at,
                ends_at,
                uow.now,
                self.limits.meeting_min_lead,
                self.limits.meeting_max_duration,
            )
            .into_result()?;
        }

        let from = meeting.status;
        let (before_start, before_end) = (meeting.starts_at, meeting.ends_at);
        meeting.status = wf::transition(from, command)?;
        if let MeetingAction::Reschedule { starts_at, ends_at } = action {
            meeting.starts_at = starts_at;
            meeting.ends_at = ends_at;
        }
        let meeting = uow.update(meeting).await?;
        if command == MeetingCommand::Reschedule {
            uow.audit(
                &action_name,
                "meeting",
                meeting.id,
                None,
                Some(json!({ "status": from, "starts_at": before_start, "ends_at": before_end })),
                Some(json!({ "status": meeting.status, "starts_at": meeting.starts_at, "ends_at": meeting.ends_at })),
            )
            .await?;
        } else {
            uow.audit_transition(
                &action_name,
                "meeting",
                meeting.id,
                None,
                from.as_str(),
                meeting.status.as_str(),
            )
            .await?;
        }

        if matches!(command, MeetingCommand::Cancel | MeetingCommand::Reschedule) {
            let me = ctx.actor.user_id();
            let entry = uow.meeting_entry(&meeting).await?;
            for user in meeting.attendee_ids.iter().filter(|u| Some(**u) != me) {
                uow.notify_reader(*user, |reader| {
                    command_notice(command, &meeting, before_start, before_end, reader).with_calendar(entry.as_ref())
                })
                .await?;
            }
        }
        uow.commit().await?;
        Ok(meeting)
    }

    /// One meeting, for its attendees (organizer and participants) and admins.
    ///
    /// # Errors
    ///
    /// `NotFound { entity: "meeting" }` when it does not exist or the caller is neither an
    /// attendee nor an admin; `Store` on a backend failure.
    pub async fn get_meeting(&self, ctx: &Context, id: MeetingId) -> Result<Meeting> {
        let mut uow = self.uow(ctx).await?;
        uow.visible_meeting(id).await
    }

    /// Lists meetings matching `filter`, newest first. Everyone but admins sees only the
    /// meetings they attend: `attendee_id` is forced to the caller.
    ///
    /// # Errors
    ///
    /// `Forbidden` for anonymous callers; `Store` on a backend failure.
    pub async fn list_my_meetings(
        &self,
        ctx: &Context,
        mut filter: MeetingFilter,
        page: PageRequest,
    ) -> Result<Page<Meeting>> {
        if !oversees(&ctx.actor) {
            filter.attendee_id = Some(ctx.user_id("meeting.list")?);
        }
        let mut uow = self.uow(ctx).await?;
        uow.list(&filter, page).await
    }

    /// The participants of a meeting (not the organizer), in invitation order, for its
    /// attendees and admins.
    ///
    /// # Errors
    ///
    /// `NotFound { entity: "meeting" }` when it does not exist or the caller is neither an
    /// attendee nor an admin; `Store` on a backend failure.
    pub async fn list_participants(&self, ctx: &Context, meeting_id: MeetingId) -> Result<Vec<MeetingParticipant>> {
        let mut uow = self.uow(ctx).await?;
        uow.visible_meeting(meeting_id).await?;
        Ok(uow
            .list(
                &ParticipantFilter {
                    meeting_id: Some(meeting_id),
                    ..Default::default()
                },
                PageRequest::all().oldest_first(),
            )
            .await?
            .items)
    }
}
