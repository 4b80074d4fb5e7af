//! Users, their role profiles and single-use account tokens (docs/domain.md §3, §5).

use chrono::{DateTime, Utc};

use super::value::{Email, Language, Money, PersonName, Phone, TimeZoneName};
use super::{
    AccountTokenId, ClientType, Deletion, EntrepreneurStage, Meta, ProjectStage, RefreshTokenId, Role, UserId,
    UserStatus,
};
use crate::rules::common::validate_range;
use crate::workflow::snake_enum;

/// A person with an account.
///
/// `password_hash` is an argon2id PHC string; it is skipped by `Serialize` and redacted from
/// `Debug`, so neither logs nor API bodies can carry it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Login email, unique among live users.
    pub email: Email,
    /// Argon2id PHC string. Never serialized.
    #[serde(skip_serializing, default)]
    pub password_hash: String,
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
    /// Platform role.
    pub role: Role,
    /// Account status.
    pub status: UserStatus,
    /// When the email was verified.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Consecutive failed logins since the last success.
    pub failed_logins: u32,
    /// Logins are refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Bumped when credentials or privileges change (password reset, role or status change):
    /// tokens issued under an older stamp must be refused.
    pub security_stamp: u32,
    /// Optional phone (E.164).
    pub phone: Option<Phone>,
    /// IANA time zone.
    pub timezone: TimeZoneName,
    /// Interface language.
    pub language: Language,
    /// Which channels the user wants notifications on.
    pub notification_preferences: NotificationPreferences,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
    /// Soft delete.
    #[serde(flatten)]
    pub deletion: Deletion,
}

impl User {
    /// "First Last".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// Whether a login at `now` is refused by the lockout.
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("status", &self.status)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("version", &self.meta.version)
            .finish_non_exhaustive()
    }
}

/// Per-channel notification switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotificationPreferences {
    /// In-app notifications (always written; this hides them from the default list when off).
    pub in_app: bool,
    /// Email copies through the outbox.
    pub email: bool,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        Self {
            in_app: true,
            email: true,
        }
    }
}

/// The role profile of a user (1:1, keyed by the user id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// The user it belongs to (also its id).
    pub user_id: UserId,
    /// The role-specific data.
    pub data: ProfileData,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// Role-specific profile data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProfileData {
    /// An entrepreneur's profile.
    Entrepreneur(EntrepreneurProfile),
    /// An ally's (mentor's) profile.
    Ally(AllyProfile),
    /// A client's profile.
    Client(ClientProfile),
}

impl ProfileData {
    /// The role this profile belongs to.
    pub fn role(&self) -> Role {
        match self {
            ProfileData::Entrepreneur(_) => Role::Entrepreneur,
            ProfileData::Ally(_) => Role::Ally,
            ProfileData::Client(_) => Role::Client,
        }
    }

    /// The empty profile of `role` (admins have none).
    pub fn default_for(role: Role) -> Option<Self> {
        match role {
            Role::Entrepreneur => Some(ProfileData::Entrepreneur(EntrepreneurProfile::default())),
            Role::Ally => Some(ProfileData::Ally(AllyProfile::default())),
            Role::Client => Some(ProfileData::Client(ClientProfile::default())),
            Role::Admin => None,
        }
    }
}

/// Entrepreneur profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntrepreneurProfile {
    /// Experience.
    pub stage: EntrepreneurStage,
    /// Sectors, first is primary.
    pub sectors: Vec<String>,
    /// Looking for a mentor.
    pub seeking_mentorship: bool,
    /// Areas where mentoring is wanted.
    pub mentorship_areas: Vec<String>,
}

impl Default for EntrepreneurProfile {
    fn default() -> Self {
        Self {
            stage: EntrepreneurStage::Aspiring,
            sectors: Vec::new(),
            seeking_mentorship: true,
            mentorship_areas: Vec::new(),
        }
    }
}

/// Ally (mentor) profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AllyProfile {
    /// Main area of expertise.
    pub primary_expertise: Option<String>,
    /// Specializations, used for matching.
    pub specializations: Vec<String>,
    /// Project stages the ally prefers to mentor.
    pub preferred_stages: Vec<ProjectStage>,
    /// Mentee capacity, 0–20 (default 10).
    pub max_mentees: u8,
    /// Open to new mentees.
    pub available: bool,
    /// Preferred session length in minutes, 15–240 (default 60).
    pub session_duration_minutes: u16,
    /// Sum of the session ratings received (1–5 each).
    #[serde(default)]
    pub ratings_total: u32,
    /// Number of session ratings received.
    #[serde(default)]
    pub ratings_count: u32,
}

impl AllyProfile {
    /// The mentee capacities an ally may set.
    pub const MAX_MENTEES: std::ops::RangeInclusive<u8> = 0..=20;
    /// The session lengths (minutes) an ally may prefer.
    pub const SESSION_DURATION_MINUTES: std::ops::RangeInclusive<u16> = 15..=240;

    /// Pushes each field outside its bounds to `errors` (`max_mentees`,
    /// `session_duration_minutes`). An adapter reading a number too large for the field's type
    /// passes the type's maximum, which is outside too.
    pub fn check(&self, errors: &mut crate::error::ValidationErrors) {
        let (mentees, minutes) = (Self::MAX_MENTEES, Self::SESSION_DURATION_MINUTES);
        errors.check(validate_range(
            "max_mentees",
            self.max_mentees,
            *mentees.start(),
            *mentees.end(),
        ));
        errors.check(validate_range(
            "session_duration_minutes",
            self.session_duration_minutes,
            *minutes.start(),
            *minutes.end(),
        ));
    }

    /// The average session rating × 100 (e.g. 450 for 4.5), once rated.
    pub fn average_rating_centi(&self) -> Option<u32> {
        (self.ratings_total * 100).checked_div(self.ratings_count)
    }
}

impl Default for AllyProfile {
    fn default() -> Self {
        Self {
            primary_expertise: None,
            specializations: Vec::new(),
            preferred_stages: Vec::new(),
            max_mentees: 10,
            available: true,
            session_duration_minutes: 60,
            ratings_total: 0,
            ratings_count: 0,
        }
    }
}

/// Client (stakeholder) profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientProfile {
    /// Kind of client.
    pub client_type: ClientType,
    /// Interest areas.
    pub interest_areas: Vec<String>,
    /// Lower end of the investment range.
    pub investment_min: Option<Money>,
    /// Upper end of the investment range.
    pub investment_max: Option<Money>,
}

impl Default for ClientProfile {
    fn default() -> Self {
        Self {
            client_type: ClientType::Individual,
            interest_areas: Vec::new(),
            investment_min: None,
            investment_max: None,
        }
    }
}

snake_enum! {
    /// What a single-use account token is for.
    pub enum AccountTokenPurpose {
        /// Email verification (48 h).
        EmailVerification => "email_verification",
        /// Password reset (1 h).
        PasswordReset => "password_reset",
    }
}

/// A single-use token sent to a user by email. Only its SHA-256 hash is stored.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountToken {
    /// Id.
    pub id: AccountTokenId,
    /// Whose token.
    pub user_id: UserId,
    /// What it is for.
    pub purpose: AccountTokenPurpose,
    /// SHA-256 (hex) of the token the user received.
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    /// Useless after this instant.
    pub expires_at: DateTime<Utc>,
    /// When it was used (single use) or revoked by a newer one.
    pub used_at: Option<DateTime<Utc>>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

impl AccountToken {
    /// Usable at `now`: not used and not expired.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

impl std::fmt::Debug for AccountToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountToken")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// An opaque refresh token of a signed-in session (docs/domain.md §5). Only its SHA-256 hash is
/// stored. Every use rotates it: the used token is marked `used_at` and a new one of the same
/// `family_id` is issued. Presenting a token that was already used means it leaked, so the whole
/// family is revoked. A token minted under an older `security_stamp` of its user (password reset,
/// role or status change) is refused.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefreshToken {
    /// Id.
    pub id: RefreshTokenId,
    /// Whose session.
    pub user_id: UserId,
    /// The login this token descends from: every rotation keeps it, logout and reuse revoke it.
    pub family_id: uuid::Uuid,
    /// SHA-256 (hex) of the token the client holds.
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    /// Useless after this instant.
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for its successor (a second use is a reuse).
    pub used_at: Option<DateTime<Utc>>,
    /// When its family was revoked (logout, reuse, stale stamp).
    pub revoked_at: Option<DateTime<Utc>>,
    /// The user's `security_stamp` when the family was created.
    pub security_stamp: u32,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

impl RefreshToken {
    /// Usable at `now`: neither used, revoked nor expired.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("family_id", &self.family_id)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .field("revoked_at", &self.revoked_at)
            .field("security_stamp", &self.security_stamp)
            .finish_non_exhaustive()
    }
}
