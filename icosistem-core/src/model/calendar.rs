//! Calendar entries of sessions and meetings, and private calendar feeds (docs/domain.md §8,
//! issue #12 "Calendars").
//!
//! The core does no I/O and renders no iCalendar: a [`CalendarEntry`] is the data an invite or
//! a feed needs (times in UTC, the organizer's time zone named), carried in the `calendar` field
//! of a session or meeting email's outbox `data` and answered by
//! [`Ecosystem::calendar_feed`](crate::Ecosystem::calendar_feed); the delivery side turns it
//! into `text/calendar`.

use chrono::{DateTime, Utc};

use super::{CalendarFeedId, Meeting, MeetingStatus, Meta, Session, SessionStatus, User, UserId};

/// Where every calendar UID of this platform lives (`session-<uuid>@icosistem`): the UUIDs make
/// it globally unique, and a fixed domain keeps a UID stable when the public URL changes, so
/// calendars never see one session as two.
pub const UID_DOMAIN: &str = "icosistem";

/// Whether an entry stands, is yet to be confirmed, or was called off (iCalendar `STATUS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarStatus {
    /// Booked but not confirmed yet (a `scheduled` session, awaiting the ally).
    Tentative,
    /// It takes (or took) place.
    Confirmed,
    /// Called off: an invite with `METHOD:CANCEL`, a feed entry with `STATUS:CANCELLED`.
    Cancelled,
}

/// A person on an entry: the organizer or an attendee.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CalendarPerson {
    /// Full name (`CN`).
    pub name: String,
    /// Email address (`mailto:`).
    pub email: String,
}

impl From<&User> for CalendarPerson {
    fn from(user: &User) -> Self {
        Self {
            name: user.full_name(),
            email: user.email.as_str().to_owned(),
        }
    }
}

/// One session or meeting as calendars see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CalendarEntry {
    /// Stable per session or meeting (`session-<uuid>@icosistem`, `meeting-<uuid>@icosistem`):
    /// an update or a cancellation names the event it replaces by it.
    pub uid: String,
    /// Grows with every change of the entity (its `version` − 1, so the first invite is 0):
    /// calendars apply an update only when its sequence is higher than the one they hold.
    pub sequence: u32,
    /// Tentative, confirmed or cancelled.
    pub status: CalendarStatus,
    /// One-line title (`SUMMARY`).
    pub title: String,
    /// Agenda or description.
    pub description: Option<String>,
    /// A room or a meeting link.
    pub location: Option<String>,
    /// Start (UTC).
    pub starts_at: DateTime<Utc>,
    /// End (UTC).
    pub ends_at: DateTime<Utc>,
    /// The organizer's IANA time zone (e.g. `America/Bogota`); times stay in UTC, this names
    /// the zone they were planned in.
    pub timezone: String,
    /// Who called it: the ally of a session, the organizer of a meeting.
    pub organizer: CalendarPerson,
    /// Everyone else invited.
    pub attendees: Vec<CalendarPerson>,
    /// When the entity last changed (`DTSTAMP`, `LAST-MODIFIED`).
    pub updated_at: DateTime<Utc>,
}

/// A version as a sequence: 0 for a new entity, monotonic because versions only grow.
fn sequence(meta: &Meta) -> u32 {
    u32::try_from(meta.version.saturating_sub(1)).unwrap_or(u32::MAX)
}

impl CalendarEntry {
    /// A session between its ally (the organizer) and its entrepreneur.
    pub fn for_session(session: &Session, ally: &User, entrepreneur: &User) -> Self {
        let status = match session.status {
            SessionStatus::Cancelled => CalendarStatus::Cancelled,
            SessionStatus::Scheduled => CalendarStatus::Tentative,
            _ => CalendarStatus::Confirmed,
        };
        Self {
            uid: format!("session-{}@{UID_DOMAIN}", session.id),
            sequence: sequence(&session.meta),
            status,
            title: format!("Mentoring session: {} / {}", ally.full_name(), entrepreneur.full_name()),
            description: session.agenda.clone(),
            location: None,
            starts_at: session.starts_at,
            ends_at: session.ends_at,
            timezone: ally.timezone.as_str().to_owned(),
            organizer: ally.into(),
            attendees: vec![entrepreneur.into()],
            updated_at: session.meta.updated_at,
        }
    }

    /// A meeting; `attendees` are the users of its `attendee_ids` (the organizer among them is
    /// skipped, missing ones are left out).
    pub fn for_meeting(meeting: &Meeting, organizer: &User, attendees: &[User]) -> Self {
        let status = match meeting.status {
            MeetingStatus::Cancelled => CalendarStatus::Cancelled,
            _ => CalendarStatus::Confirmed,
        };
        Self {
            uid: format!("meeting-{}@{UID_DOMAIN}", meeting.id),
            sequence: sequence(&meeting.meta),
            status,
            title: meeting.title.clone(),
            description: meeting.description.clone(),
            location: meeting.location.clone(),
            starts_at: meeting.starts_at,
            ends_at: meeting.ends_at,
            timezone: organizer.timezone.as_str().to_owned(),
            organizer: organizer.into(),
            attendees: meeting
                .attendee_ids
                .iter()
                .filter(|id| **id != organizer.id)
                .filter_map(|id| attendees.iter().find(|u| u.id == *id))
                .map(CalendarPerson::from)
                .collect(),
            updated_at: meeting.meta.updated_at,
        }
    }
}

/// A user's private calendar feed (`GET /api/v2/calendar/{token}.ics`): the token is the only
/// credential, so only its SHA-256 is stored; rotating replaces it, revoking deletes the row.
/// At most one per user.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CalendarFeed {
    /// Id.
    pub id: CalendarFeedId,
    /// Whose sessions and meetings it lists.
    pub user_id: UserId,
    /// SHA-256 (hex) of the token in the feed's URL.
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    /// Tracking and version (each rotation bumps it).
    #[serde(flatten)]
    pub meta: Meta,
}

impl std::fmt::Debug for CalendarFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalendarFeed")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}
