//! Filters of mentorships, availability, sessions, meetings and their participants.

use chrono::{DateTime, Utc};

use super::{eq, pair};
use crate::model::*;
use crate::ports::store::Entity;

/// Filter of mentorships.
#[derive(Debug, Clone, Default)]
pub struct MentorshipFilter {
    /// Of this ally.
    pub ally_id: Option<UserId>,
    /// Of this entrepreneur.
    pub entrepreneur_id: Option<UserId>,
    /// Where this user is the ally or the entrepreneur.
    pub participant_id: Option<UserId>,
    /// Status.
    pub status: Option<MentorshipStatus>,
    /// Only requested/active/paused ones.
    pub open_only: bool,
}

impl Entity for Mentorship {
    entity_basics!(MentorshipId, MentorshipId::KIND, MentorshipFilter, |s| s.id, |m| m.meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        if self.status.is_open() {
            vec![("ally_entrepreneur", pair(self.ally_id, self.entrepreneur_id))]
        } else {
            Vec::new()
        }
    }
    fn matches(&self, f: &MentorshipFilter) -> bool {
        eq(&f.ally_id, &self.ally_id)
            && eq(&f.entrepreneur_id, &self.entrepreneur_id)
            && f.participant_id
                .is_none_or(|u| self.ally_id == u || self.entrepreneur_id == u)
            && eq(&f.status, &self.status)
            && (!f.open_only || self.status.is_open())
    }
}

/// Filter of availabilities.
#[derive(Debug, Clone, Default)]
pub struct AvailabilityFilter {
    /// Of this ally.
    pub ally_id: Option<UserId>,
}

impl Entity for Availability {
    entity_basics!(
        AvailabilityId,
        AvailabilityId::KIND,
        AvailabilityFilter,
        |s| s.id,
        |m| m.meta
    );
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("ally", self.ally_id.to_string())]
    }
    fn matches(&self, f: &AvailabilityFilter) -> bool {
        eq(&f.ally_id, &self.ally_id)
    }
}

/// Filter of sessions. The time window selects sessions overlapping `[overlapping_from,
/// overlapping_to)`.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Of this mentorship.
    pub mentorship_id: Option<MentorshipId>,
    /// Of this ally.
    pub ally_id: Option<UserId>,
    /// Where this user is the ally or the entrepreneur.
    pub participant_id: Option<UserId>,
    /// Status.
    pub status: Option<SessionStatus>,
    /// Only sessions that occupy the calendar (not cancelled).
    pub occupying_only: bool,
    /// Ending after this instant.
    pub overlapping_from: Option<DateTime<Utc>>,
    /// Starting before this instant.
    pub overlapping_to: Option<DateTime<Utc>>,
    /// Status among these (empty: any status). Combines with `status` by "and".
    pub status_in: Vec<SessionStatus>,
    /// Starting strictly after this instant.
    pub starts_after: Option<DateTime<Utc>>,
    /// Starting at or before this instant.
    pub starts_at_or_before: Option<DateTime<Utc>>,
    /// Completed at or before this instant (sessions never completed excluded).
    pub completed_at_or_before: Option<DateTime<Utc>>,
    /// Only sessions lacking the ally's or the entrepreneur's feedback (or both).
    pub awaiting_feedback: bool,
}

impl Entity for Session {
    entity_basics!(SessionId, SessionId::KIND, SessionFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &SessionFilter) -> bool {
        eq(&f.mentorship_id, &self.mentorship_id)
            && eq(&f.ally_id, &self.ally_id)
            && f.participant_id.is_none_or(|u| self.involves(u))
            && eq(&f.status, &self.status)
            && (!f.occupying_only || self.status.occupies_calendar())
            && f.overlapping_from.is_none_or(|t| self.ends_at > t)
            && f.overlapping_to.is_none_or(|t| self.starts_at < t)
            && (f.status_in.is_empty() || f.status_in.contains(&self.status))
            && f.starts_after.is_none_or(|t| self.starts_at > t)
            && f.starts_at_or_before.is_none_or(|t| self.starts_at <= t)
            && f.completed_at_or_before
                .is_none_or(|t| self.completed_at.is_some_and(|at| at <= t))
            && (!f.awaiting_feedback || self.ally_feedback.is_none() || self.entrepreneur_feedback.is_none())
    }
}

/// Filter of meetings. The time window selects meetings overlapping `[overlapping_from,
/// overlapping_to)`.
#[derive(Debug, Clone, Default)]
pub struct MeetingFilter {
    /// Called by.
    pub organizer_id: Option<UserId>,
    /// With this user among the organizer and participants.
    pub attendee_id: Option<UserId>,
    /// Status.
    pub status: Option<MeetingStatus>,
    /// Only meetings that occupy the calendar (not cancelled).
    pub occupying_only: bool,
    /// Ending after this instant.
    pub overlapping_from: Option<DateTime<Utc>>,
    /// Starting before this instant.
    pub overlapping_to: Option<DateTime<Utc>>,
}

impl Entity for Meeting {
    entity_basics!(MeetingId, MeetingId::KIND, MeetingFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &MeetingFilter) -> bool {
        eq(&f.organizer_id, &self.organizer_id)
            && f.attendee_id.is_none_or(|u| self.attendee_ids.contains(&u))
            && eq(&f.status, &self.status)
            && (!f.occupying_only || self.status != MeetingStatus::Cancelled)
            && f.overlapping_from.is_none_or(|t| self.ends_at > t)
            && f.overlapping_to.is_none_or(|t| self.starts_at < t)
    }
}

/// Filter of meeting participants.
#[derive(Debug, Clone, Default)]
pub struct ParticipantFilter {
    /// Of this meeting.
    pub meeting_id: Option<MeetingId>,
    /// This user's invitations.
    pub user_id: Option<UserId>,
}

impl Entity for MeetingParticipant {
    entity_basics!(ParticipantId, ParticipantId::KIND, ParticipantFilter, |s| s.id, |m| m
        .meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("meeting_user", pair(self.meeting_id, self.user_id))]
    }
    fn matches(&self, f: &ParticipantFilter) -> bool {
        eq(&f.meeting_id, &self.meeting_id) && eq(&f.user_id, &self.user_id)
    }
}
