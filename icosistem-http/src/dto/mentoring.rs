//! The bodies of the mentoring side: mentorships, the ally directory and suggestions, weekly
//! availability and free slots, sessions and their feedback, meetings and their participants.
//!
//! Instants in requests are taken as strings and parsed into the core's inputs here (`TryFrom`),
//! so a malformed one is a 422 naming its field (`starts_at`) rather than a shape error naming
//! nothing.

use crate::dto::schema::one_of;
use chrono::{DateTime, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{
    Availability, Feedback, Meeting, MeetingParticipant, Mentorship, ParticipantResponse, Session, UserId,
};
use icosistem_core::rules::availability::WeeklySlot;
use icosistem_core::service::{
    AllyCard, AllySuggestion, BookSession, MeetingAction, RequestMentorship, ScheduleMeeting, SessionAction,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse::{
    bounded_number, clock_time, ids, optional_id, required, required_enum, required_id, required_instant, required_text,
};

/// A mentorship as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MentorshipDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The mentor.
    #[schema(value_type = String, format = Uuid)]
    pub ally_id: String,
    /// The mentee.
    #[schema(value_type = String, format = Uuid)]
    pub entrepreneur_id: String,
    /// The entrepreneur's project it is about.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub project_id: Option<String>,
    /// `requested`, `active`, `paused`, `completed`, `cancelled` or `declined`.
    pub status: String,
    /// The request's message.
    pub message: Option<String>,
    /// Areas the mentee wants help with.
    pub areas: Vec<String>,
    /// Planned length in months (1–24).
    pub duration_months: u8,
    /// When the ally accepted.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (completed, cancelled or declined).
    pub ended_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Mentorship> for MentorshipDto {
    fn from(m: &Mentorship) -> Self {
        Self {
            id: m.id.to_string(),
            ally_id: m.ally_id.to_string(),
            entrepreneur_id: m.entrepreneur_id.to_string(),
            project_id: m.project_id.map(|p| p.to_string()),
            status: m.status.as_str().to_owned(),
            message: m.message.clone(),
            areas: m.areas.clone(),
            duration_months: m.duration_months,
            started_at: m.started_at,
            ended_at: m.ended_at,
            version: m.meta.version,
            created_at: m.meta.created_at,
            updated_at: m.meta.updated_at,
        }
    }
}

/// `POST /api/v2/mentorships`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateMentorshipRequest {
    /// The ally asked (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub ally_id: Option<String>,
    /// A note to the ally (≤ 2000).
    #[schema(schema_with = super::schema::text_or_null::<0, 2000>)]
    pub message: Option<String>,
    /// Areas wanted (≤ 20, each 1–100 chars).
    pub areas: Vec<String>,
    /// One of the caller's projects (UUID).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub project_id: Option<String>,
    /// Planned length in months, 1–24 (default 6).
    #[schema(minimum = 1, maximum = 24)]
    pub duration_months: Option<i64>,
}

/// An ally in the directory: public mentoring facts, no contact details. A view, not a stored
/// resource, so it has no version.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AllyDto {
    /// The ally's user id.
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Full name.
    pub name: String,
    /// Main area of expertise.
    pub primary_expertise: Option<String>,
    /// Specializations.
    pub specializations: Vec<String>,
    /// Preferred project stages (`idea`, `validation` …).
    pub preferred_stages: Vec<String>,
    /// Open to new mentees.
    pub available: bool,
    /// Mentee capacity.
    pub max_mentees: u8,
    /// Active mentorships now.
    pub active_mentees: u32,
    /// Whether a request accepted now would fit: available and below capacity.
    pub has_capacity: bool,
    /// Average session rating (1–5, two decimals), once rated.
    pub average_rating: Option<f64>,
    /// Session ratings received.
    pub ratings_count: u32,
}

impl From<&AllyCard> for AllyDto {
    fn from(card: &AllyCard) -> Self {
        Self {
            id: card.id.to_string(),
            name: card.name.clone(),
            primary_expertise: card.primary_expertise.clone(),
            specializations: card.specializations.clone(),
            preferred_stages: card.preferred_stages.iter().map(|s| s.as_str().to_owned()).collect(),
            available: card.available,
            max_mentees: card.max_mentees,
            active_mentees: card.active_mentees,
            has_capacity: card.has_capacity,
            average_rating: card.average_rating_centi.map(|c| f64::from(c) / 100.0),
            ratings_count: card.ratings_count,
        }
    }
}

/// An ally suggested to the calling entrepreneur.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AllySuggestionDto {
    /// The ally.
    pub ally: AllyDto,
    /// Match score 0–1.
    pub score: f64,
    /// Why, one sentence per part of the score that counted.
    pub reasons: Vec<String>,
}

impl From<&AllySuggestion> for AllySuggestionDto {
    fn from(s: &AllySuggestion) -> Self {
        Self {
            ally: AllyDto::from(&s.ally),
            score: s.score,
            reasons: s.reasons.clone(),
        }
    }
}

/// `GET /api/v2/allies/suggestions`: best first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SuggestionsDto {
    /// At most 5, scores above 0.3, never an ally without capacity.
    pub items: Vec<AllySuggestionDto>,
}

impl From<&Vec<AllySuggestion>> for SuggestionsDto {
    fn from(found: &Vec<AllySuggestion>) -> Self {
        Self {
            items: found.iter().map(AllySuggestionDto::from).collect(),
        }
    }
}

/// One weekly slot: `weekday` 0 = Monday … 6 = Sunday, local times `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WeeklySlotDto {
    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM`.
    pub end: String,
}

impl From<&WeeklySlot> for WeeklySlotDto {
    fn from(s: &WeeklySlot) -> Self {
        Self {
            weekday: s.weekday,
            start: s.start.format("%H:%M").to_string(),
            end: s.end.format("%H:%M").to_string(),
        }
    }
}

/// An ally's weekly availability. Never saved yet: nil id and version 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AvailabilityDto {
    /// Id (UUID; nil while never saved).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The ally.
    #[schema(value_type = String, format = Uuid)]
    pub ally_id: String,
    /// IANA time zone the slots are written in.
    pub timezone: String,
    /// Weekly slots, by weekday and start.
    pub slots: Vec<WeeklySlotDto>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Availability> for AvailabilityDto {
    fn from(a: &Availability) -> Self {
        Self {
            id: a.id.to_string(),
            ally_id: a.ally_id.to_string(),
            timezone: a.timezone.as_str().to_owned(),
            slots: a.slots.iter().map(WeeklySlotDto::from).collect(),
            version: a.meta.version,
            created_at: a.meta.created_at,
            updated_at: a.meta.updated_at,
        }
    }
}

/// One slot of `PUT /api/v2/allies/me/availability`. (`Serialize` only because the schema of
/// a `serde(default)` body is derived from its default value.)
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WeeklySlotRequest {
    /// 0 = Monday … 6 = Sunday, required.
    #[schema(minimum = 0, maximum = 6, required = true, nullable = false)]
    pub weekday: Option<i64>,
    /// Local start `HH:MM` (or `HH:MM:SS`), required.
    #[schema(schema_with = super::schema::clock_time, required = true, nullable = false)]
    pub start: Option<String>,
    /// Local end, after the start, required.
    #[schema(schema_with = super::schema::clock_time, required = true, nullable = false)]
    pub end: Option<String>,
}

/// `PUT /api/v2/allies/me/availability`: the whole weekly schedule, replaced.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SetAvailabilityRequest {
    /// IANA time zone of the slots (default: the caller's account time zone).
    pub timezone: Option<String>,
    /// The slots (≤ 50, none overlapping within a day); required, `[]` clears the schedule.
    #[schema(required = true, nullable = false)]
    pub slots: Option<Vec<WeeklySlotRequest>>,
    /// The version read (alternative to `If-Match`; 0 or none for the first save).
    pub version: Option<u64>,
}

/// `GET /api/v2/allies/{id}/free-slots`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FreeSlotsDto {
    /// The ally.
    #[schema(value_type = String, format = Uuid)]
    pub ally_id: String,
    /// The window asked for, start.
    pub from: DateTime<Utc>,
    /// The window asked for, end.
    pub to: DateTime<Utc>,
    /// Bookable session starts in the window, sorted.
    pub slots: Vec<DateTime<Utc>>,
}

/// One party's feedback on a completed session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FeedbackDto {
    /// 1–5.
    pub rating: u8,
    /// Comment.
    pub comment: Option<String>,
    /// When given.
    pub at: DateTime<Utc>,
}

impl From<&Feedback> for FeedbackDto {
    fn from(f: &Feedback) -> Self {
        Self {
            rating: f.rating.get(),
            comment: f.comment.clone(),
            at: f.at,
        }
    }
}

/// A mentoring session as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SessionDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The mentorship.
    #[schema(value_type = String, format = Uuid)]
    pub mentorship_id: String,
    /// The mentor.
    #[schema(value_type = String, format = Uuid)]
    pub ally_id: String,
    /// The mentee.
    #[schema(value_type = String, format = Uuid)]
    pub entrepreneur_id: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Length in minutes (15–240).
    pub duration_minutes: u16,
    /// Agenda.
    pub agenda: Option<String>,
    /// `scheduled`, `confirmed`, `in_progress`, `completed`, `cancelled` or `no_show`.
    pub status: String,
    /// Cancelled less than 24 h before the start.
    pub late_cancellation: bool,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// How many times it was moved.
    pub reschedule_count: u32,
    /// What was covered.
    pub summary: Option<String>,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// The ally's feedback.
    pub ally_feedback: Option<FeedbackDto>,
    /// The entrepreneur's feedback.
    pub entrepreneur_feedback: Option<FeedbackDto>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Session> for SessionDto {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id.to_string(),
            mentorship_id: s.mentorship_id.to_string(),
            ally_id: s.ally_id.to_string(),
            entrepreneur_id: s.entrepreneur_id.to_string(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            duration_minutes: s.duration_minutes,
            agenda: s.agenda.clone(),
            status: s.status.as_str().to_owned(),
            late_cancellation: s.late_cancellation,
            cancel_reason: s.cancel_reason.clone(),
            reschedule_count: s.reschedule_count,
            summary: s.summary.clone(),
            completed_at: s.completed_at,
            ally_feedback: s.ally_feedback.as_ref().map(FeedbackDto::from),
            entrepreneur_feedback: s.entrepreneur_feedback.as_ref().map(FeedbackDto::from),
            version: s.meta.version,
            created_at: s.meta.created_at,
            updated_at: s.meta.updated_at,
        }
    }
}

/// `POST /api/v2/mentorships/{id}/sessions`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct BookSessionRequest {
    /// Start (RFC 3339), at least 24 h ahead and inside the ally's availability, required.
    #[schema(value_type = String, format = DateTime, required = true, nullable = false)]
    pub starts_at: Option<String>,
    /// Length in minutes, 15–240 (default: the ally's preferred length).
    #[schema(minimum = 15, maximum = 240)]
    pub duration_minutes: Option<i64>,
    /// What to talk about (≤ 2000).
    #[schema(schema_with = super::schema::text_or_null::<0, 2000>)]
    pub agenda: Option<String>,
}

/// `POST /api/v2/sessions/{id}/complete`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CompleteSessionRequest {
    /// What was covered (≤ 5000).
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub summary: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/sessions/{id}/cancel`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CancelSessionRequest {
    /// Why (≤ 500).
    #[schema(schema_with = super::schema::text_or_null::<0, 500>)]
    pub reason: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/sessions/{id}/reschedule`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RescheduleSessionRequest {
    /// The new start (RFC 3339); it must pass every booking rule, required.
    #[schema(value_type = String, format = DateTime, required = true, nullable = false)]
    pub starts_at: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/sessions/{id}/feedback`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct FeedbackRequest {
    /// 1–5, required.
    #[schema(minimum = 1, maximum = 5, required = true, nullable = false)]
    pub rating: Option<i64>,
    /// Comment (≤ 2000).
    #[schema(schema_with = super::schema::text_or_null::<0, 2000>)]
    pub comment: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// A meeting as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MeetingDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Who called it.
    #[schema(value_type = String, format = Uuid)]
    pub organizer_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// A room or a link.
    pub location: Option<String>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// `scheduled`, `in_progress`, `completed` or `cancelled`.
    pub status: String,
    /// The organizer and every participant.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub attendee_ids: Vec<String>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Meeting> for MeetingDto {
    fn from(m: &Meeting) -> Self {
        Self {
            id: m.id.to_string(),
            organizer_id: m.organizer_id.to_string(),
            title: m.title.clone(),
            description: m.description.clone(),
            location: m.location.clone(),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            status: m.status.as_str().to_owned(),
            attendee_ids: m.attendee_ids.iter().map(ToString::to_string).collect(),
            version: m.meta.version,
            created_at: m.meta.created_at,
            updated_at: m.meta.updated_at,
        }
    }
}

/// A participant's invitation to a meeting; `status` is their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ParticipantDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The meeting.
    #[schema(value_type = String, format = Uuid)]
    pub meeting_id: String,
    /// The participant.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: String,
    /// `pending`, `accepted`, `declined` or `tentative`.
    pub status: String,
    /// When they answered.
    pub responded_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&MeetingParticipant> for ParticipantDto {
    fn from(p: &MeetingParticipant) -> Self {
        Self {
            id: p.id.to_string(),
            meeting_id: p.meeting_id.to_string(),
            user_id: p.user_id.to_string(),
            status: p.response.as_str().to_owned(),
            responded_at: p.responded_at,
            version: p.meta.version,
            created_at: p.meta.created_at,
            updated_at: p.meta.updated_at,
        }
    }
}

/// `GET /api/v2/meetings/{id}/participants`: in invitation order (not paginated: a meeting has
/// at most 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ParticipantsDto {
    /// The participants (the organizer is not one).
    pub items: Vec<ParticipantDto>,
}

impl From<&Vec<MeetingParticipant>> for ParticipantsDto {
    fn from(found: &Vec<MeetingParticipant>) -> Self {
        Self {
            items: found.iter().map(ParticipantDto::from).collect(),
        }
    }
}

/// `POST /api/v2/meetings`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateMeetingRequest {
    /// Title (3–300), required.
    #[schema(schema_with = super::schema::text::<3, 300>, required = true, nullable = false)]
    pub title: Option<String>,
    /// Description (≤ 5000).
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub description: Option<String>,
    /// A room or a link (≤ 500).
    #[schema(schema_with = super::schema::text_or_null::<0, 500>)]
    pub location: Option<String>,
    /// Start (RFC 3339), at least 5 minutes ahead, required.
    #[schema(value_type = String, format = DateTime, required = true, nullable = false)]
    pub starts_at: Option<String>,
    /// End (RFC 3339), after the start, at most 8 h later, required.
    #[schema(value_type = String, format = DateTime, required = true, nullable = false)]
    pub ends_at: Option<String>,
    /// Who is invited (user UUIDs, not the caller).
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub participant_ids: Vec<String>,
}

/// `POST /api/v2/meetings/{id}/participants`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AddParticipantRequest {
    /// The user invited (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub user_id: Option<String>,
}

/// `POST /api/v2/meetings/{id}/respond`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RespondRequest {
    /// `accepted`, `declined` or `tentative`, required.
    #[schema(schema_with = one_of::<icosistem_core::model::ParticipantResponse>, required = true, nullable = false)]
    pub response: Option<String>,
    /// The version of the caller's invitation read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/meetings/{id}/reschedule`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RescheduleMeetingRequest {
    /// The new start (RFC 3339), required.
    #[schema(value_type = String, format = DateTime, required = true, nullable = false)]
    pub starts_at: Option<String>,
    /// The new end (RFC 3339), required.
    #[schema(value_type = String, format = DateTime, required = true, nullable = false)]
    pub ends_at: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Into the core's inputs: what the body names, read (presence, ids, instants, clock times); the
// rules of the values are the core's.

impl TryFrom<CreateMentorshipRequest> for RequestMentorship {
    type Error = ValidationErrors;

    fn try_from(body: CreateMentorshipRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let ally_id = required_id(&mut errors, "ally_id", body.ally_id.as_deref());
        let project_id = optional_id(&mut errors, "project_id", body.project_id.as_deref());
        let duration_months = bounded_number(
            &mut errors,
            "duration_months",
            body.duration_months,
            "must be between 1 and 24",
        );
        match ally_id {
            Some(ally_id) if errors.is_empty() => Ok(Self {
                ally_id,
                message: body.message,
                areas: body.areas,
                project_id,
                duration_months,
            }),
            _ => Err(errors),
        }
    }
}

/// The slots of an availability body, every unparseable field named `slots[i].<field>`. Range
/// and overlap rules are the core's.
fn weekly_slots(errors: &mut ValidationErrors, slots: Vec<WeeklySlotRequest>) -> Vec<WeeklySlot> {
    let mut parsed = Vec::with_capacity(slots.len());
    for (i, slot) in slots.into_iter().enumerate() {
        let weekday = match slot.weekday {
            None => {
                errors.push(format!("slots[{i}].weekday"), "is required");
                None
            }
            // Out of u8 is out of 0–6 too: let the core say so with its message.
            Some(d) => Some(u8::try_from(d).unwrap_or(u8::MAX)),
        };
        let start = clock_time(errors, format!("slots[{i}].start"), slot.start.as_deref());
        let end = clock_time(errors, format!("slots[{i}].end"), slot.end.as_deref());
        if let (Some(weekday), Some(start), Some(end)) = (weekday, start, end) {
            parsed.push(WeeklySlot { weekday, start, end });
        }
    }
    parsed
}

/// A weekly schedule to save: its time zone (`None`: the caller's account time zone) and slots.
pub type NewSchedule = (Option<String>, Vec<WeeklySlot>);

impl TryFrom<SetAvailabilityRequest> for NewSchedule {
    type Error = ValidationErrors;

    fn try_from(body: SetAvailabilityRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let slots = required(&mut errors, "slots", body.slots).map(|s| weekly_slots(&mut errors, s));
        match slots {
            Some(slots) if errors.is_empty() => Ok((body.timezone, slots)),
            _ => Err(errors),
        }
    }
}

impl TryFrom<BookSessionRequest> for BookSession {
    type Error = ValidationErrors;

    fn try_from(body: BookSessionRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
        let duration_minutes = bounded_number(
            &mut errors,
            "duration_minutes",
            body.duration_minutes,
            "must be between 15 and 240 minutes",
        );
        match starts_at {
            Some(starts_at) if errors.is_empty() => Ok(Self {
                starts_at,
                duration_minutes,
                agenda: body.agenda,
            }),
            _ => Err(errors),
        }
    }
}

impl TryFrom<RescheduleSessionRequest> for SessionAction {
    type Error = ValidationErrors;

    fn try_from(body: RescheduleSessionRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required_instant(&mut errors, "starts_at", body.starts_at.as_deref())
            .map(|starts_at| Self::Reschedule { starts_at })
            .ok_or(errors)
    }
}

/// A party's feedback on a session: the rating (the core checks 1–5) and a comment.
pub type NewFeedback = (i64, Option<String>);

impl TryFrom<FeedbackRequest> for NewFeedback {
    type Error = ValidationErrors;

    fn try_from(body: FeedbackRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let comment = body.comment;
        required(&mut errors, "rating", body.rating)
            .map(|rating| (rating, comment))
            .ok_or(errors)
    }
}

impl TryFrom<CreateMeetingRequest> for ScheduleMeeting {
    type Error = ValidationErrors;

    fn try_from(body: CreateMeetingRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let title = required_text(&mut errors, "title", body.title);
        let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
        let ends_at = required_instant(&mut errors, "ends_at", body.ends_at.as_deref());
        let participant_ids = ids(&mut errors, "participant_ids", &body.participant_ids);
        match (title, starts_at, ends_at) {
            (Some(title), Some(starts_at), Some(ends_at)) if errors.is_empty() => Ok(Self {
                title,
                description: body.description,
                location: body.location,
                starts_at,
                ends_at,
                participant_ids,
            }),
            _ => Err(errors),
        }
    }
}

impl TryFrom<AddParticipantRequest> for UserId {
    type Error = ValidationErrors;

    fn try_from(body: AddParticipantRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required_id(&mut errors, "user_id", body.user_id.as_deref()).ok_or(errors)
    }
}

impl TryFrom<RespondRequest> for ParticipantResponse {
    type Error = ValidationErrors;

    fn try_from(body: RespondRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required_enum(&mut errors, "response", body.response.as_deref()).ok_or(errors)
    }
}

impl TryFrom<RescheduleMeetingRequest> for MeetingAction {
    type Error = ValidationErrors;

    fn try_from(body: RescheduleMeetingRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
        let ends_at = required_instant(&mut errors, "ends_at", body.ends_at.as_deref());
        starts_at
            .zip(ends_at)
            .map(|(starts_at, ends_at)| Self::Reschedule { starts_at, ends_at })
            .ok_or(errors)
    }
}
