//! Users, sign-in and account bodies: registration, tokens, password changes, the caller's own
//! profile fields and notification switches.

use chrono::{DateTime, Utc};
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{NotificationPreferences, Role, User};
use icosistem_core::service::Register;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{present, schema};

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Login email.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// `admin`, `entrepreneur`, `ally` or `client`.
    pub role: String,
    /// `pending_verification`, `active`, `suspended` or `inactive`.
    pub status: String,
    /// When the email was verified.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Phone (E.164).
    pub phone: Option<String>,
    /// IANA time zone.
    pub timezone: String,
    /// Interface language.
    pub language: String,
    /// Notification channels.
    pub notification_preferences: NotificationPreferencesDto,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&User> for UserDto {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            first_name: user.first_name.as_str().to_owned(),
            last_name: user.last_name.as_str().to_owned(),
            role: user.role.as_str().to_owned(),
            status: user.status.as_str().to_owned(),
            email_verified_at: user.email_verified_at,
            last_login_at: user.last_login_at,
            phone: user.phone.as_ref().map(|p| p.as_str().to_owned()),
            timezone: user.timezone.as_str().to_owned(),
            language: user.language.as_str().to_owned(),
            notification_preferences: user.notification_preferences.into(),
            version: user.meta.version,
            created_at: user.meta.created_at,
            updated_at: user.meta.updated_at,
        }
    }
}

/// Per-channel notification switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationPreferencesDto {
    /// In-app notifications.
    pub in_app: bool,
    /// Email copies.
    pub email: bool,
}

impl From<NotificationPreferences> for NotificationPreferencesDto {
    fn from(p: NotificationPreferences) -> Self {
        Self {
            in_app: p.in_app,
            email: p.email,
        }
    }
}

impl From<NotificationPreferencesDto> for NotificationPreferences {
    fn from(p: NotificationPreferencesDto) -> Self {
        Self {
            in_app: p.in_app,
            email: p.email,
        }
    }
}

/// `POST /api/v2/auth/register`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RegisterRequest {
    /// Email (at most 254 characters; case and surrounding whitespace are normalised away).
    #[schema(schema_with = super::schema::email, required = true)]
    pub email: String,
    /// Password: 12–128 characters, not common, not containing the email's local part.
    #[schema(min_length = 12, max_length = 128, required = true)]
    pub password: String,
    /// Given name.
    #[schema(schema_with = super::schema::person_name, required = true)]
    pub first_name: String,
    /// Family name.
    #[schema(schema_with = super::schema::person_name, required = true)]
    pub last_name: String,
    /// `entrepreneur`, `ally` or `client`.
    #[schema(schema_with = schema::self_registered_role, required = true)]
    pub role: String,
}

impl From<RegisterRequest> for Register {
    fn from(body: RegisterRequest) -> Self {
        Self {
            email: body.email,
            password: SecretString::new(body.password),
            first_name: body.first_name,
            last_name: body.last_name,
            // An unknown role is refused by the core exactly like `admin` (on the `role` field),
            // along with every other failing field.
            role: body.role.trim().parse::<Role>().unwrap_or(Role::Admin),
        }
    }
}

/// `POST /api/v2/auth/verify-email`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct TokenRequest {
    /// The token received by email.
    #[schema(schema_with = super::schema::non_blank, required = true)]
    pub token: String,
}

/// `POST /api/v2/auth/login`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginRequest {
    /// Email (an address the core cannot read is refused like an unknown one: 401).
    #[schema(schema_with = super::schema::email, required = true)]
    pub email: String,
    /// Password.
    #[schema(schema_with = super::schema::non_blank, required = true)]
    pub password: String,
}

/// `POST /api/v2/auth/refresh` and `/logout`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RefreshRequest {
    /// The refresh token of the session.
    #[schema(schema_with = super::schema::non_blank, required = true)]
    pub refresh_token: String,
}

/// `POST /api/v2/auth/password-reset`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PasswordResetRequest {
    /// The account's email.
    pub email: String,
}

/// `POST /api/v2/auth/password-reset/confirm`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PasswordResetConfirm {
    /// The reset token received by email.
    #[schema(schema_with = super::schema::non_blank, required = true)]
    pub token: String,
    /// The new password.
    #[schema(min_length = 12, max_length = 128, required = true)]
    pub new_password: String,
}

/// `PUT /api/v2/users/me/password`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ChangePasswordRequest {
    /// The current password.
    #[schema(schema_with = super::schema::non_blank, required = true)]
    pub current_password: String,
    /// The new password.
    #[schema(min_length = 12, max_length = 128, required = true)]
    pub new_password: String,
}

/// `PATCH /api/v2/users/me`: every field optional; `phone: null` clears the phone.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateMeRequest {
    /// Given name.
    #[schema(schema_with = super::schema::person_name_or_null)]
    pub first_name: Option<String>,
    /// Family name.
    #[schema(schema_with = super::schema::person_name_or_null)]
    pub last_name: Option<String>,
    /// Phone (E.164); `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::phone_or_null)]
    pub phone: Option<Option<String>>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Two-letter language.
    #[schema(schema_with = super::schema::language_or_null)]
    pub language: Option<String>,
    /// Notification channels.
    pub notification_preferences: Option<NotificationPreferencesDto>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// A successful login or refresh.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The access token (JWT, HS256).
    pub access_token: String,
    /// The new refresh token (opaque; single use).
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The signed-in user.
    pub user: UserDto,
}
