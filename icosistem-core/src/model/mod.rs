//! Entities, ids and value types (docs/domain.md §1 and §3).
//!
//! Entities are plain data: every field is already valid because the value types parse on
//! construction. Lifecycle status enums live with their state machines in
//! [`crate::workflow`] and are re-exported here.

pub mod analytics;
pub mod ids;
pub mod secret;
pub mod value;

mod audit;
pub mod calendar;
pub mod document;
mod enums;
mod identity;
mod mentoring;
pub mod messaging;
mod notification;
mod organization;
mod program;
mod project;
pub mod webhook;

pub use audit::{Actor, AuditEvent, Target};
pub use calendar::{CalendarEntry, CalendarFeed, CalendarPerson, CalendarStatus};
pub use document::{
    Document, DocumentAccess, DocumentParent, DocumentParentKind, DocumentType, DocumentVersion, StoredFile,
};
pub use enums::*;
pub use identity::{
    AccountToken, AccountTokenPurpose, AllyProfile, ClientProfile, EntrepreneurProfile, NotificationPreferences,
    Profile, ProfileData, RefreshToken, User,
};
pub use ids::*;
pub use mentoring::{
    Availability, Feedback, JobMark, Meeting, MeetingParticipant, Mentorship, Session, Task, TaskDependency,
};
pub use messaging::{Block, Conversation, ConversationContextType, ConversationKind, ConversationParticipant, Message};
pub use notification::{Notification, NotificationStatus, OutboxChannel, OutboxMessage, OutboxStatus};
pub use organization::{MemberRole, Organization, OrganizationMember};
pub use program::{Application, Enrollment, Program, Review, Round};
pub use project::{Milestone, Project};
pub use webhook::{WebhookEndpoint, WebhookSecret};

pub use crate::workflow::account::UserStatus;
pub use crate::workflow::application::ApplicationStatus;
pub use crate::workflow::enrollment::EnrollmentStatus;
pub use crate::workflow::meeting::{MeetingStatus, ParticipantResponse};
pub use crate::workflow::mentorship::MentorshipStatus;
pub use crate::workflow::milestone::MilestoneStatus;
pub use crate::workflow::program::ProgramStatus;
pub use crate::workflow::project::{ProjectStage, ProjectStatus};
pub use crate::workflow::session::SessionStatus;
pub use crate::workflow::task::TaskStatus;

use chrono::{DateTime, Utc};

/// Tracking fields every entity carries (the seed's UserTrackingMixin) plus the optimistic
/// concurrency `version`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
    /// Who created it (`None` for the system or self-registration).
    pub created_by: Option<UserId>,
    /// Who changed it last.
    pub updated_by: Option<UserId>,
    /// Bumped by the store on every update; an update carrying an older one is a conflict.
    pub version: u64,
}

impl Meta {
    /// Tracking for a row created at `now` by `by`; version 1.
    pub fn new(now: DateTime<Utc>, by: Option<UserId>) -> Self {
        Self {
            created_at: now,
            updated_at: now,
            created_by: by,
            updated_by: by,
            version: 1,
        }
    }

    /// Stamps a change at `now` by `by` (the store bumps the version).
    pub fn touch(&mut self, now: DateTime<Utc>, by: Option<UserId>) {
        self.updated_at = now;
        self.updated_by = by;
    }
}

/// Soft-delete fields for users, organizations, programs and projects.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deletion {
    /// When it was deleted; `None` while alive.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Who deleted it.
    pub deleted_by: Option<UserId>,
}

impl Deletion {
    /// True once deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}
