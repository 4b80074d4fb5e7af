//! The append-only audit log.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AuditEventId, Role, UserId};

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A signed-in user.
    User {
        /// Their id.
        id: UserId,
        /// Their platform role.
        role: Role,
    },
    /// Someone not signed in (registration, login, password reset).
    Anonymous,
    /// The platform itself (jobs, automatic promotion).
    System,
}

impl Actor {
    /// The user id, for a signed-in user.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The platform role, for a signed-in user.
    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::User { role, .. } => Some(*role),
            _ => None,
        }
    }

    /// True for an admin.
    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }
}

/// What an audit event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Entity kind (`application`).
    pub kind: &'static str,
    /// Entity id.
    pub id: Uuid,
}

/// One audited change or security event. Never updated or deleted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEvent {
    /// Id.
    pub id: AuditEventId,
    /// Who (None for anonymous or the system; see `actor_kind`).
    pub actor_id: Option<UserId>,
    /// `user`, `anonymous` or `system`.
    pub actor_kind: String,
    /// Stable action name (`application.accept`, `auth.login_failed`).
    pub action: String,
    /// Target entity kind.
    pub target_kind: String,
    /// Target entity id.
    pub target_id: Uuid,
    /// The organization the target belongs to, when it has one (lets org staff read their
    /// organization's log).
    pub organization_id: Option<crate::model::OrganizationId>,
    /// Summary before the change (e.g. `{"status": "under_review"}`).
    pub before: Option<serde_json::Value>,
    /// Summary after the change.
    pub after: Option<serde_json::Value>,
    /// Request id of the command.
    pub request_id: Option<String>,
    /// Client IP of the command.
    pub ip: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}
