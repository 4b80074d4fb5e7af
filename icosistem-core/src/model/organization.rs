//! Organizations (the tenants) and their members.

use super::value::{Email, Name, Slug, Url};
use super::{Deletion, MemberId, Meta, OrganizationId, OrganizationStatus, OrganizationType, UserId};
use crate::workflow::snake_enum;

/// An incubator, accelerator, university … that runs programs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Organization {
    /// Id.
    pub id: OrganizationId,
    /// Display name.
    pub name: Name,
    /// Unique among live organizations.
    pub slug: Slug,
    /// Kind.
    pub organization_type: OrganizationType,
    /// Status set by admins.
    pub status: OrganizationStatus,
    /// Listed in the public directory.
    pub is_public: bool,
    /// Its programs may take applications.
    pub allow_applications: bool,
    /// Contact email.
    pub email: Option<Email>,
    /// Web site.
    pub website: Option<Url>,
    /// Tax id, unique when present.
    pub tax_id: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
    /// Soft delete.
    #[serde(flatten)]
    pub deletion: Deletion,
}

snake_enum! {
    /// A member's role inside an organization.
    pub enum MemberRole {
        /// Created it or was made owner: edits it and manages members.
        Owner => "owner",
        /// Runs its programs and decides applications.
        Coordinator => "coordinator",
        /// Reviews the applications assigned to them.
        Reviewer => "reviewer",
    }
}

impl MemberRole {
    /// Owners and coordinators manage programs and decide applications.
    pub fn is_staff(self) -> bool {
        matches!(self, MemberRole::Owner | MemberRole::Coordinator)
    }
}

/// A user's membership in an organization; unique per (organization, user).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrganizationMember {
    /// Id.
    pub id: MemberId,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The member.
    pub user_id: UserId,
    /// Their role there.
    pub role: MemberRole,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}
