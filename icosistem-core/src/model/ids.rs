//! One id newtype per entity, over UUID v7, so that a `ProgramId` can never be passed where a
//! `ProjectId` is expected. UUID v7 ids sort by creation time, which is what makes "newest first"
//! cursor pagination a plain ordering on the id in every store.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! entity_ids {
    ($($(#[$meta:meta])* $name:ident => $kind:literal;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// The entity kind this id names.
            pub const KIND: &'static str = $kind;

            /// Wraps a UUID (normally one from [`crate::ports::IdGen`]).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    )+};
}

entity_ids! {
    /// A user account.
    UserId => "user";
    /// An organization (tenant).
    OrganizationId => "organization";
    /// A membership of a user in an organization.
    MemberId => "organization_member";
    /// A program (cohort).
    ProgramId => "program";
    /// A project owned by an entrepreneur.
    ProjectId => "project";
    /// A milestone of a project.
    MilestoneId => "milestone";
    /// An application of a project to a program.
    ApplicationId => "application";
    /// A reviewer's assignment to and review of an application.
    ReviewId => "review";
    /// An enrollment created by an accepted application.
    EnrollmentId => "enrollment";
    /// An in-app notification.
    NotificationId => "notification";
    /// A message waiting to be delivered on another channel.
    OutboxId => "outbox_message";
    /// An audit event.
    AuditEventId => "audit_event";
    /// A single-use account token (email verification, password reset).
    AccountTokenId => "account_token";
    /// A refresh token of a signed-in session.
    RefreshTokenId => "refresh_token";
    /// A mentorship relationship between an ally and an entrepreneur.
    MentorshipId => "mentorship";
    /// An ally's weekly availability.
    AvailabilityId => "availability";
    /// A mentorship session.
    SessionId => "session";
    /// A meeting.
    MeetingId => "meeting";
    /// A participant of a meeting.
    ParticipantId => "meeting_participant";
    /// A task.
    TaskId => "task";
    /// A dependency between two tasks.
    DependencyId => "task_dependency";
    /// The record that a time-driven job did something once (its idempotency key).
    JobMarkId => "job_mark";
    /// A webhook endpoint of an organization.
    WebhookId => "webhook";
    /// A user's private calendar feed.
    CalendarFeedId => "calendar_feed";
    /// A document attached to a project, application, milestone or session.
    DocumentId => "document";
    /// One uploaded version of a document.
    DocumentVersionId => "document_version";
    /// A conversation: direct between two users, or attached to a context.
    ConversationId => "conversation";
    /// One user's seat in a conversation (read position, unread count).
    ConversationParticipantId => "conversation_participant";
    /// A message of a conversation.
    MessageId => "message";
    /// One user blocking another from messaging.
    BlockId => "block";
}
