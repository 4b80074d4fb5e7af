//! The list filters of every entity and the [`Entity`](super::Entity) facts stores need (unique keys,
//! soft-delete visibility). `matches` is the reference semantics of each filter: the memory
//! store evaluates it directly; other stores translate it to their query language and the
//! conformance suite checks they agree.

use super::{EntityId, ListFilter};
use crate::model::*;

fn eq<T: PartialEq>(wanted: &Option<T>, actual: &T) -> bool {
    wanted.as_ref().is_none_or(|w| w == actual)
}

fn pair(a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
    format!("{a}:{b}")
}

/// The id/version plumbing every entity shares.
macro_rules! entity_basics {
    ($id_ty:ty, $kind:expr, $filter:ty, |$s:ident| $id:expr, |$m:ident| $meta:expr) => {
        type Id = $id_ty;
        type Filter = $filter;
        const KIND: &'static str = $kind;
        fn id(&self) -> Self::Id {
            let $s = self;
            $id
        }
        fn version(&self) -> u64 {
            let $m = self;
            $meta.version
        }
        fn set_version(&mut self, version: u64) {
            let $m = self;
            $meta.version = version;
        }
        fn touch(&mut self, now: DateTime<Utc>, by: Option<UserId>) {
            let $m = self;
            $meta.touch(now, by);
        }
    };
}

// The submodules use `entity_basics!`, so they are declared after it.
mod documents;
mod identity;
mod mentoring;
mod messaging;
mod organizations;
mod platform;
mod tasks;

pub use documents::*;
pub use identity::*;
pub use mentoring::*;
pub use messaging::*;
pub use organizations::*;
pub use platform::*;
pub use tasks::*;

macro_rules! link_types {
    ($($entity:ty, $id:ty, $filter:ty;)+) => {$(
        impl EntityId for $id {
            type Entity = $entity;
        }
        impl ListFilter for $filter {
            type Entity = $entity;
        }
    )+};
}

link_types! {
    User, UserId, UserFilter;
    AccountToken, AccountTokenId, AccountTokenFilter;
    RefreshToken, RefreshTokenId, RefreshTokenFilter;
    Organization, OrganizationId, OrganizationFilter;
    OrganizationMember, MemberId, MemberFilter;
    Program, ProgramId, ProgramFilter;
    Project, ProjectId, ProjectFilter;
    Milestone, MilestoneId, MilestoneFilter;
    Application, ApplicationId, ApplicationFilter;
    Review, ReviewId, ReviewFilter;
    Enrollment, EnrollmentId, EnrollmentFilter;
    Notification, NotificationId, NotificationFilter;
    OutboxMessage, OutboxId, OutboxFilter;
    AuditEvent, AuditEventId, AuditFilter;
    Mentorship, MentorshipId, MentorshipFilter;
    Availability, AvailabilityId, AvailabilityFilter;
    Session, SessionId, SessionFilter;
    Meeting, MeetingId, MeetingFilter;
    MeetingParticipant, ParticipantId, ParticipantFilter;
    Task, TaskId, TaskFilter;
    TaskDependency, DependencyId, DependencyFilter;
    JobMark, JobMarkId, JobMarkFilter;
    WebhookEndpoint, WebhookId, WebhookFilter;
    CalendarFeed, CalendarFeedId, CalendarFeedFilter;
    Document, DocumentId, DocumentFilter;
    DocumentVersion, DocumentVersionId, DocumentVersionFilter;
    Conversation, ConversationId, ConversationFilter;
    ConversationParticipant, ConversationParticipantId, ConversationParticipantFilter;
    Message, MessageId, MessageFilter;
    Block, BlockId, BlockFilter;
}

// Profiles are keyed by the user's id, which already names `User`: they are loaded through
// `Repo::<Profile>` directly and listed through their filter.
impl ListFilter for ProfileFilter {
    type Entity = Profile;
}
