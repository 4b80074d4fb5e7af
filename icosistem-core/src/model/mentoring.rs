//! The mentoring side: mentorships, availability, sessions, meetings, tasks, and the marks that
//! make time-driven jobs idempotent (docs/domain.md §4.5–§4.9).

use chrono::{DateTime, NaiveDate, Utc};

use super::value::{Percent, Rating, TimeZoneName};
use super::{
    AvailabilityId, DependencyId, JobMarkId, MeetingId, MentorshipId, Meta, ParticipantId, Priority, ProjectId,
    SessionId, TaskId, UserId,
};
use crate::rules::availability::WeeklySlot;
use crate::workflow::meeting::{MeetingStatus, ParticipantResponse};
use crate::workflow::mentorship::MentorshipStatus;
use crate::workflow::session::SessionStatus;
use crate::workflow::task::TaskStatus;

/// A mentoring relationship. At most one requested/active/paused per (ally, entrepreneur).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mentorship {
    /// Id.
    pub id: MentorshipId,
    /// The mentor.
    pub ally_id: UserId,
    /// The mentee.
    pub entrepreneur_id: UserId,
    /// The project it is about, if any.
    pub project_id: Option<ProjectId>,
    /// Status.
    pub status: MentorshipStatus,
    /// The request's message.
    pub message: Option<String>,
    /// Areas the mentee wants help with.
    pub areas: Vec<String>,
    /// Planned length in months, 1–24 (default 6).
    pub duration_months: u8,
    /// When the ally accepted.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a terminal status.
    pub ended_at: Option<DateTime<Utc>>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// An ally's weekly availability, in the ally's time zone. One per ally.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Availability {
    /// Id.
    pub id: AvailabilityId,
    /// The ally.
    pub ally_id: UserId,
    /// IANA time zone the slots are written in.
    pub timezone: TimeZoneName,
    /// Weekly slots.
    pub slots: Vec<WeeklySlot>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// One side's feedback on a completed session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Feedback {
    /// 1–5.
    pub rating: Rating,
    /// Comment.
    pub comment: Option<String>,
    /// When given.
    pub at: DateTime<Utc>,
}

/// A session inside an active mentorship.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// The mentorship.
    pub mentorship_id: MentorshipId,
    /// The mentor (denormalized for calendar queries).
    pub ally_id: UserId,
    /// The mentee (denormalized for calendar queries).
    pub entrepreneur_id: UserId,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (start + duration).
    pub ends_at: DateTime<Utc>,
    /// Length in minutes, 15–240.
    pub duration_minutes: u16,
    /// Agenda.
    pub agenda: Option<String>,
    /// Status.
    pub status: SessionStatus,
    /// Cancelled less than 24 h before the start.
    pub late_cancellation: bool,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// How many times it was moved.
    pub reschedule_count: u32,
    /// What was covered (given on completion).
    pub summary: Option<String>,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// The ally's feedback.
    pub ally_feedback: Option<Feedback>,
    /// The entrepreneur's feedback.
    pub entrepreneur_feedback: Option<Feedback>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

impl Session {
    /// Whether `user` takes part.
    pub fn involves(&self, user: UserId) -> bool {
        self.ally_id == user || self.entrepreneur_id == user
    }
}

/// A meeting. `attendee_ids` (the organizer and every participant) is denormalized so calendar
/// queries need no join.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meeting {
    /// Id.
    pub id: MeetingId,
    /// Who called it.
    pub organizer_id: UserId,
    /// Title (3–300).
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Where (a room or a link).
    pub location: Option<String>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Status.
    pub status: MeetingStatus,
    /// The organizer and the participants.
    pub attendee_ids: Vec<UserId>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// A participant's invitation to a meeting; one per (meeting, user).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MeetingParticipant {
    /// Id.
    pub id: ParticipantId,
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The participant.
    pub user_id: UserId,
    /// Their answer.
    pub response: ParticipantResponse,
    /// When they answered.
    pub responded_at: Option<DateTime<Utc>>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// A task, possibly a subtask of another, possibly about a project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    /// Id.
    pub id: TaskId,
    /// Who created it and owns it.
    pub owner_id: UserId,
    /// Who does it.
    pub assignee_id: UserId,
    /// The project it belongs to.
    pub project_id: Option<ProjectId>,
    /// The parent task of a subtask.
    pub parent_id: Option<TaskId>,
    /// Title (3–300).
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Status.
    pub status: TaskStatus,
    /// Priority.
    pub priority: Priority,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Progress 0–100 (rolled up from subtasks when it has any).
    pub progress: Percent,
    /// When completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// "`task_id` cannot be completed before `depends_on`". Unique per pair; never a cycle.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskDependency {
    /// Id.
    pub id: DependencyId,
    /// The dependent task.
    pub task_id: TaskId,
    /// The task it waits for.
    pub depends_on: TaskId,
    /// The owner of both tasks: dependencies never cross owners, and this is the row locked
    /// while a dependency is added, so concurrent additions cannot close a cycle.
    pub owner_id: UserId,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// The record that a job did one thing once (`session_reminder_24h:<session id>`). Its unique
/// key is what makes every job idempotent: a second run at the same `now` finds the mark and
/// does nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobMark {
    /// Id.
    pub id: JobMarkId,
    /// `job:subject` key, unique.
    pub key: String,
    /// When the job did it.
    pub at: DateTime<Utc>,
}
