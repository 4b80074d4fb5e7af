//! Filters of users, profiles and account and refresh tokens.

use chrono::{DateTime, Utc};

use super::eq;
use crate::model::value::Email;
use crate::model::*;
use crate::ports::store::Entity;

/// Filter of users.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Exact email.
    pub email: Option<Email>,
    /// Platform role.
    pub role: Option<Role>,
    /// Account status.
    pub status: Option<UserStatus>,
    /// Created strictly before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Include soft-deleted users.
    pub include_deleted: bool,
    /// Only users among these ids (`None`: no such limit; `Some(empty)` matches nothing): the
    /// batch load of a page's related rows, one statement instead of one per row.
    pub id_in: Option<Vec<UserId>>,
    /// Only the staff ([`MemberRole::is_staff`]: owners and coordinators) of this organization:
    /// whom a program's notices address, read in one statement. It is a relation to the
    /// memberships, which the row alone does not hold: [`Entity::matches`] matches no user when
    /// it is set, and stores apply [`user_matches`] with the organization's staff.
    pub staff_of: Option<OrganizationId>,
}

/// Whether `user` passes `filter`, given the staff of `filter.staff_of` (ignored when that is
/// unset): the rule every store applies.
pub fn user_matches(user: &User, f: &UserFilter, staff: &dyn Fn(UserId) -> bool) -> bool {
    (f.include_deleted || !user.is_deleted())
        && eq(&f.email, &user.email)
        && eq(&f.role, &user.role)
        && eq(&f.status, &user.status)
        && f.created_before.is_none_or(|t| user.meta.created_at < t)
        && f.id_in.as_ref().is_none_or(|ids| ids.contains(&user.id))
        && (f.staff_of.is_none() || staff(user.id))
}

impl Entity for User {
    entity_basics!(UserId, UserId::KIND, UserFilter, |s| s.id, |m| m.meta);
    fn is_deleted(&self) -> bool {
        self.deletion.is_deleted()
    }
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("email", self.email.as_str().to_owned())]
    }
    fn id_in(f: &Self::Filter) -> Option<&[Self::Id]> {
        f.id_in.as_deref()
    }
    fn matches(&self, f: &UserFilter) -> bool {
        user_matches(self, f, &|_| false)
    }
}

/// Filter of role profiles. `specialization` and `available` select ally profiles only: set,
/// they never match an entrepreneur's or a client's profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileFilter {
    /// Profiles of this role.
    pub role: Option<Role>,
    /// Allies having this among their specializations or as their primary expertise, compared
    /// trimmed and case-insensitively (`" FinTech"` finds `fintech`).
    pub specialization: Option<String>,
    /// Allies whose "open to new mentees" flag is this.
    pub available: Option<bool>,
}

impl Entity for Profile {
    entity_basics!(UserId, "profile", ProfileFilter, |s| s.user_id, |m| m.meta);
    fn matches(&self, f: &ProfileFilter) -> bool {
        let ally = match &self.data {
            ProfileData::Ally(ally) => Some(ally),
            _ => None,
        };
        let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
        eq(&f.role, &self.data.role())
            && f.specialization.as_deref().is_none_or(|wanted| {
                ally.is_some_and(|a| {
                    a.specializations.iter().any(|s| same(s, wanted))
                        || a.primary_expertise.as_deref().is_some_and(|e| same(e, wanted))
                })
            })
            && f.available
                .is_none_or(|wanted| ally.is_some_and(|a| a.available == wanted))
    }
}

/// Filter of account tokens.
#[derive(Debug, Clone, Default)]
pub struct AccountTokenFilter {
    /// Exact token hash.
    pub token_hash: Option<String>,
    /// Tokens of this user.
    pub user_id: Option<UserId>,
    /// Tokens for this purpose.
    pub purpose: Option<AccountTokenPurpose>,
    /// Only tokens usable at this instant (unused, unexpired).
    pub usable_at: Option<DateTime<Utc>>,
}

impl Entity for AccountToken {
    entity_basics!(
        AccountTokenId,
        AccountTokenId::KIND,
        AccountTokenFilter,
        |s| s.id,
        |m| m.meta
    );
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("token_hash", self.token_hash.clone())]
    }
    fn matches(&self, f: &AccountTokenFilter) -> bool {
        eq(&f.token_hash, &self.token_hash)
            && eq(&f.user_id, &self.user_id)
            && eq(&f.purpose, &self.purpose)
            && f.usable_at.is_none_or(|now| self.is_usable(now))
    }
}

/// Filter of refresh tokens.
#[derive(Debug, Clone, Default)]
pub struct RefreshTokenFilter {
    /// Exact token hash.
    pub token_hash: Option<String>,
    /// Tokens of this user.
    pub user_id: Option<UserId>,
    /// Tokens of this family.
    pub family_id: Option<uuid::Uuid>,
    /// Only tokens not revoked yet.
    pub unrevoked_only: bool,
}

impl Entity for RefreshToken {
    entity_basics!(
        RefreshTokenId,
        RefreshTokenId::KIND,
        RefreshTokenFilter,
        |s| s.id,
        |m| m.meta
    );
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("token_hash", self.token_hash.clone())]
    }
    fn matches(&self, f: &RefreshTokenFilter) -> bool {
        eq(&f.token_hash, &self.token_hash)
            && eq(&f.user_id, &self.user_id)
            && eq(&f.family_id, &self.family_id)
            && (!f.unrevoked_only || self.revoked_at.is_none())
    }
}
