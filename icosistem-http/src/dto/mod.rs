//! The JSON bodies of the API. Domain types stay free of HTTP concerns: requests are parsed
//! here into the core's inputs, and answers are built from the core's entities, showing only
//! what a client may see (a user never shows its password hash, tokens or lockout state).
//!
//! Request fields are optional at the JSON level on purpose: a missing field reaches the core's
//! validators, which report every failing field at once (422) instead of serde stopping at the
//! first one.

use axum::extract::{FromRequest, Request};
use chrono::{DateTime, NaiveDate, Utc};
use icosistem_core::model::value::Money;
use icosistem_core::model::{
    Enrollment, Milestone, NotificationPreferences, Organization, OrganizationMember, Program, Project, Review, User,
};
use icosistem_core::service::ApplicationView;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use schema::{one_of, one_of_or_null};

pub mod schema;
mod work;
pub use work::*;
mod mentoring;
pub use mentoring::*;

/// A parsed body as `T`, a shape mismatch as 422. JSON Schema's `integer` includes `3.0`, so an
/// integral number written with a fraction is taken as the integer it is.
fn from_json<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, ApiError> {
    fn integral(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                if let Some(f) = n.as_f64()
                    && f.fract() == 0.0
                    && f.abs() < 9.0e15
                {
                    // Exact: |f| < 2^53, so the conversion neither rounds nor saturates.
                    #[allow(clippy::cast_possible_truncation)]
                    let i = f as i64;
                    *value = serde_json::Value::from(i);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(integral),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(integral),
            _ => {}
        }
    }
    integral(&mut value);
    serde_json::from_value(value).map_err(|e| {
        let mut error = ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the request has invalid fields",
        );
        error.set_detail(format!("the body does not have the expected shape: {e}"));
        error
    })
}

/// `axum::Json` answering its rejections as problems (400 malformed, 413 too large, 415 wrong
/// content type, 422 wrong shape).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(ApiError::from)?;
        from_json(value).map(Self)
    }
}

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
    /// Email.
    pub email: String,
    /// Password: 12–128 characters, not common, not containing the email's local part.
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    /// Given name.
    #[schema(
        min_length = 2,
        max_length = 80,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$"
    )]
    pub first_name: String,
    /// Family name.
    #[schema(
        min_length = 2,
        max_length = 80,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$"
    )]
    pub last_name: String,
    /// `entrepreneur`, `ally` or `client`.
    #[schema(schema_with = schema::self_registered_role)]
    pub role: String,
}

/// `POST /api/v2/auth/verify-email`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct TokenRequest {
    /// The token received by email.
    pub token: String,
}

/// `POST /api/v2/auth/login`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginRequest {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /api/v2/auth/refresh` and `/logout`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RefreshRequest {
    /// The refresh token of the session.
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
    pub token: String,
    /// The new password.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// `PUT /api/v2/users/me/password`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub current_password: String,
    /// The new password.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// `PATCH /api/v2/users/me`: every field optional; `phone: null` clears the phone.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateMeRequest {
    /// Given name.
    #[schema(
        min_length = 2,
        max_length = 80,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$"
    )]
    pub first_name: Option<String>,
    /// Family name.
    #[schema(
        min_length = 2,
        max_length = 80,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$"
    )]
    pub last_name: Option<String>,
    /// Phone (E.164); `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Two-letter language.
    pub language: Option<String>,
    /// Notification channels.
    pub notification_preferences: Option<NotificationPreferencesDto>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// Tells an absent field (`None`, via `default`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
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

/// `{"status": "ok"}` and friends.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok`, `ready` or `unavailable`.
    pub status: &'static str,
    /// Per-dependency checks (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub checks: Option<serde_json::Value>,
}

/// `GET /health/detailed`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthDetailed {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// The crate version.
    pub version: &'static str,
    /// Seconds since the router was built.
    pub uptime_seconds: u64,
    /// `{"store": {"status", "latency_ms"}}`.
    #[schema(value_type = Object)]
    pub checks: serde_json::Value,
}

/// `axum::extract::Query` answering a wrong query string as a 422 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| {
                let mut error = ApiError::invalid_field("query", "does not have the expected shape");
                error.set_detail(format!("the query string is invalid: {}", rejection.body_text()));
                error
            })
    }
}

/// A page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageDto<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> PageDto<T> {
    /// The core's page with every row shown as `T`.
    pub fn from_page<E>(page: icosistem_core::ports::Page<E>) -> Self
    where
        T: for<'a> From<&'a E>,
    {
        Self {
            items: page.items.iter().map(T::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// An optional JSON body: an empty body is `T::default()`; otherwise like [`ApiJson`] (400
/// malformed, 413 too large, 422 wrong shape). Commands take their optional `version` so.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large()
            } else {
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "malformed_json",
                    "the body could not be read",
                )
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "malformed_json",
                "the body is not valid JSON",
            )
        })?;
        // `null` is "no body" too: the documented body is `CommandRequest | null`.
        if value.is_null() {
            return Ok(Self(T::default()));
        }
        from_json(value).map(Self)
    }
}

/// The optional body of a command (`POST …/{id}/<command>`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CommandRequest {
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// An organization as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// `incubator`, `accelerator`, `university` …
    pub organization_type: String,
    /// `pending`, `active`, `verified`, `partner`, `suspended` or `inactive`.
    pub status: String,
    /// Listed in the public directory.
    pub is_public: bool,
    /// Its programs may take applications.
    pub allow_applications: bool,
    /// Contact email.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Tax id.
    pub tax_id: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Organization> for OrganizationDto {
    fn from(org: &Organization) -> Self {
        Self {
            id: org.id.to_string(),
            name: org.name.as_str().to_owned(),
            slug: org.slug.as_str().to_owned(),
            organization_type: org.organization_type.as_str().to_owned(),
            status: org.status.as_str().to_owned(),
            is_public: org.is_public,
            allow_applications: org.allow_applications,
            email: org.email.as_ref().map(|e| e.as_str().to_owned()),
            website: org.website.as_ref().map(|w| w.as_str().to_owned()),
            tax_id: org.tax_id.clone(),
            description: org.description.clone(),
            version: org.meta.version,
            created_at: org.meta.created_at,
            updated_at: org.meta.updated_at,
        }
    }
}

/// A member of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberDto {
    /// Id of the membership (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The organization.
    #[schema(value_type = String, format = Uuid)]
    pub organization_id: String,
    /// The member.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: String,
    /// `owner`, `coordinator` or `reviewer`.
    pub role: String,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&OrganizationMember> for MemberDto {
    fn from(m: &OrganizationMember) -> Self {
        Self {
            id: m.id.to_string(),
            organization_id: m.organization_id.to_string(),
            user_id: m.user_id.to_string(),
            role: m.role.as_str().to_owned(),
            version: m.meta.version,
            created_at: m.meta.created_at,
            updated_at: m.meta.updated_at,
        }
    }
}

/// `POST /api/v2/organizations`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateOrganizationRequest {
    /// Name (2–200), required.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$",
        required = true,
        nullable = false
    )]
    pub name: Option<String>,
    /// `incubator`, `accelerator`, `university`, `research_center`, `corporation`,
    /// `government` …, required.
    #[schema(schema_with = one_of::<icosistem_core::model::OrganizationType>, required = true, nullable = false)]
    pub organization_type: Option<String>,
    /// Listed publicly (default true).
    pub is_public: Option<bool>,
    /// Programs may take applications (default true).
    pub allow_applications: Option<bool>,
    /// Contact email.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Tax id (≥ 5 alphanumerics, unique).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub tax_id: Option<String>,
    /// Description (≤ 5000).
    pub description: Option<String>,
}

/// `PATCH /api/v2/organizations/{id}`: every field optional; `null` clears the optional texts.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateOrganizationRequest {
    /// Name.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$"
    )]
    pub name: Option<String>,
    /// Listed publicly.
    pub is_public: Option<bool>,
    /// Programs may take applications.
    pub allow_applications: Option<bool>,
    /// Contact email; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Web site; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    /// Description; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/organizations/{id}/members`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AddMemberRequest {
    /// The user to add (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub user_id: Option<String>,
    /// `owner`, `coordinator` or `reviewer`, required.
    #[schema(schema_with = one_of::<icosistem_core::model::MemberRole>, required = true, nullable = false)]
    pub role: Option<String>,
}

/// A program as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProgramDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The organization running it.
    #[schema(value_type = String, format = Uuid)]
    pub organization_id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// `incubation`, `acceleration`, `mentorship` …
    pub program_type: String,
    /// `draft`, `published`, `in_progress`, `completed` or `cancelled`.
    pub status: String,
    /// Free text.
    pub description: Option<String>,
    /// Applications open at.
    pub application_opens_at: DateTime<Utc>,
    /// Applications close at.
    pub application_deadline: DateTime<Utc>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Minimum cohort to start.
    pub min_participants: u32,
    /// Capacity.
    pub max_participants: u32,
    /// Accepted applications right now.
    pub accepted_count: u32,
    /// Reviews needed before a decision.
    pub min_reviews: u32,
    /// Reviewers do not see who applied.
    pub blind_review: bool,
    /// Eligible sectors (empty: any).
    pub target_sectors: Vec<String>,
    /// Eligible project stages (empty: any).
    pub target_stages: Vec<String>,
    /// `presential`, `virtual` or `hybrid`.
    pub format: String,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Program> for ProgramDto {
    fn from(p: &Program) -> Self {
        Self {
            id: p.id.to_string(),
            organization_id: p.organization_id.to_string(),
            name: p.name.as_str().to_owned(),
            slug: p.slug.as_str().to_owned(),
            program_type: p.program_type.as_str().to_owned(),
            status: p.status.as_str().to_owned(),
            description: p.description.clone(),
            application_opens_at: p.application_opens_at,
            application_deadline: p.application_deadline,
            start_date: p.start_date,
            end_date: p.end_date,
            min_participants: p.min_participants,
            max_participants: p.max_participants,
            accepted_count: p.accepted_count,
            min_reviews: p.min_reviews,
            blind_review: p.blind_review,
            target_sectors: p.target_sectors.clone(),
            target_stages: p.target_stages.iter().map(|s| s.as_str().to_owned()).collect(),
            format: p.format.as_str().to_owned(),
            version: p.meta.version,
            created_at: p.meta.created_at,
            updated_at: p.meta.updated_at,
        }
    }
}

/// An enrollment in a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EnrollmentDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The program.
    #[schema(value_type = String, format = Uuid)]
    pub program_id: String,
    /// The accepted application.
    #[schema(value_type = String, format = Uuid)]
    pub application_id: String,
    /// The project enrolled.
    #[schema(value_type = String, format = Uuid)]
    pub project_id: String,
    /// The entrepreneur.
    #[schema(value_type = String, format = Uuid)]
    pub entrepreneur_id: String,
    /// The enrollment status.
    pub status: String,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why the entrepreneur dropped out.
    pub drop_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Enrollment> for EnrollmentDto {
    fn from(e: &Enrollment) -> Self {
        Self {
            id: e.id.to_string(),
            program_id: e.program_id.to_string(),
            application_id: e.application_id.to_string(),
            project_id: e.project_id.to_string(),
            entrepreneur_id: e.entrepreneur_id.to_string(),
            status: e.status.as_str().to_owned(),
            ended_at: e.ended_at,
            drop_reason: e.drop_reason.clone(),
            version: e.meta.version,
            created_at: e.meta.created_at,
            updated_at: e.meta.updated_at,
        }
    }
}

/// `POST /api/v2/programs`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateProgramRequest {
    /// The organization (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub organization_id: Option<String>,
    /// Name, required.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$",
        required = true,
        nullable = false
    )]
    pub name: Option<String>,
    /// `incubation`, `acceleration` …, required.
    #[schema(schema_with = one_of::<icosistem_core::model::ProgramType>, required = true, nullable = false)]
    pub program_type: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Applications open at (RFC 3339), required.
    #[schema(required = true, nullable = false)]
    pub application_opens_at: Option<DateTime<Utc>>,
    /// Applications close at (RFC 3339), required.
    #[schema(required = true, nullable = false)]
    pub application_deadline: Option<DateTime<Utc>>,
    /// First day (`YYYY-MM-DD`), required.
    #[schema(required = true, nullable = false)]
    pub start_date: Option<NaiveDate>,
    /// Last day (`YYYY-MM-DD`), required.
    #[schema(required = true, nullable = false)]
    pub end_date: Option<NaiveDate>,
    /// Minimum cohort (default 1).
    #[schema(minimum = 1)]
    pub min_participants: Option<u32>,
    /// Capacity (1–1000), required.
    #[schema(minimum = 1, maximum = 1000, required = true, nullable = false)]
    pub max_participants: Option<u32>,
    /// Reviews needed before a decision (default 1).
    #[schema(minimum = 1, maximum = 20)]
    pub min_reviews: Option<u32>,
    /// Hide applicants' identity from reviewers (default false).
    pub blind_review: Option<bool>,
    /// Eligible sectors.
    pub target_sectors: Vec<String>,
    /// Eligible project stages.
    pub target_stages: Vec<String>,
    /// `presential`, `virtual` or `hybrid`.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::ProgramFormat>)]
    pub format: Option<String>,
}

/// `PATCH /api/v2/programs/{id}`: every field optional; `description: null` clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateProgramRequest {
    /// Name.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$"
    )]
    pub name: Option<String>,
    /// Free text; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Applications open at.
    pub application_opens_at: Option<DateTime<Utc>>,
    /// Applications close at.
    pub application_deadline: Option<DateTime<Utc>>,
    /// First day.
    pub start_date: Option<NaiveDate>,
    /// Last day.
    pub end_date: Option<NaiveDate>,
    /// Minimum cohort.
    #[schema(minimum = 1)]
    pub min_participants: Option<u32>,
    /// Capacity.
    #[schema(minimum = 1, maximum = 1000)]
    pub max_participants: Option<u32>,
    /// Reviews needed before a decision.
    #[schema(minimum = 1, maximum = 20)]
    pub min_reviews: Option<u32>,
    /// Hide applicants' identity from reviewers.
    pub blind_review: Option<bool>,
    /// Eligible sectors.
    pub target_sectors: Option<Vec<String>>,
    /// Eligible project stages.
    pub target_stages: Option<Vec<String>>,
    /// `presential`, `virtual` or `hybrid`.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::ProgramFormat>)]
    pub format: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// Money: `{"amount_minor": 150000, "currency": "USD"}` (minor units, never a float).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MoneyDto {
    /// Amount in minor units (cents).
    pub amount_minor: i64,
    /// ISO 4217 code: `COP`, `USD`, `EUR` or `MXN`.
    #[schema(schema_with = one_of::<icosistem_core::model::value::Currency>)]
    pub currency: String,
}

impl From<&Money> for MoneyDto {
    fn from(m: &Money) -> Self {
        Self {
            amount_minor: m.amount_minor(),
            currency: m.currency().code().to_owned(),
        }
    }
}

/// A project as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProjectDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The entrepreneur owning it.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// One line pitch.
    pub tagline: Option<String>,
    /// Description.
    pub description: String,
    /// `startup`, `social_venture`, `saas` …
    pub project_type: String,
    /// Sector.
    pub category: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub priority: String,
    /// `idea`, `concept`, … the stage reached.
    pub stage: String,
    /// The lifecycle status.
    pub status: String,
    /// `bootstrapped`, `pre_seed`, `seed` …
    pub funding_stage: String,
    /// Funding sought.
    pub funding_target: Option<MoneyDto>,
    /// Funding raised.
    pub funding_raised: Option<MoneyDto>,
    /// Team size.
    pub team_size: u32,
    /// Visible to clients.
    pub is_public: bool,
    /// Looking for a mentor.
    pub seeking_mentorship: bool,
    /// Progress 0–100, derived from the milestones.
    pub progress: u8,
    /// Launch date.
    pub launch_date: Option<NaiveDate>,
    /// Milestones (not cancelled).
    pub milestones_total: u32,
    /// Milestones completed.
    pub milestones_completed: u32,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Project> for ProjectDto {
    fn from(p: &Project) -> Self {
        Self {
            id: p.id.to_string(),
            owner_id: p.owner_id.to_string(),
            name: p.name.as_str().to_owned(),
            slug: p.slug.as_str().to_owned(),
            tagline: p.tagline.clone(),
            description: p.description.clone(),
            project_type: p.project_type.as_str().to_owned(),
            category: p.category.clone(),
            priority: p.priority.as_str().to_owned(),
            stage: p.stage.as_str().to_owned(),
            status: p.status.as_str().to_owned(),
            funding_stage: p.funding_stage.as_str().to_owned(),
            funding_target: p.funding_target.as_ref().map(MoneyDto::from),
            funding_raised: p.funding_raised.as_ref().map(MoneyDto::from),
            team_size: p.team_size,
            is_public: p.is_public,
            seeking_mentorship: p.seeking_mentorship,
            progress: p.progress.get(),
            launch_date: p.launch_date,
            milestones_total: p.milestones_total,
            milestones_completed: p.milestones_completed,
            version: p.meta.version,
            created_at: p.meta.created_at,
            updated_at: p.meta.updated_at,
        }
    }
}

/// `POST /api/v2/projects`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateProjectRequest {
    /// Name (2–200), required.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$",
        required = true,
        nullable = false
    )]
    pub name: Option<String>,
    /// Description (10–10 000), required.
    #[schema(
        min_length = 10,
        max_length = 10000,
        pattern = "^\\S(?:[\\s\\S]*\\S)?$",
        required = true,
        nullable = false
    )]
    pub description: Option<String>,
    /// `startup`, `social_venture`, `saas` …, required.
    #[schema(schema_with = one_of::<icosistem_core::model::ProjectType>, required = true, nullable = false)]
    pub project_type: Option<String>,
    /// One line pitch (≤ 300).
    pub tagline: Option<String>,
    /// Sector.
    pub category: Option<String>,
    /// `low`, `medium` (default), `high` or `critical`.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
    /// Stage (default `idea`).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::ProjectStage>)]
    pub stage: Option<String>,
    /// Funding stage (default `bootstrapped`).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::FundingStage>)]
    pub funding_stage: Option<String>,
    /// Funding sought.
    pub funding_target: Option<MoneyDto>,
    /// Team size (1–100, default 1).
    #[schema(minimum = 1, maximum = 100)]
    pub team_size: Option<u32>,
    /// Visible to clients (default false).
    pub is_public: Option<bool>,
    /// Looking for a mentor (default true).
    pub seeking_mentorship: Option<bool>,
}

/// `PATCH /api/v2/projects/{id}`: every field optional; `null` clears the optional ones. Stage
/// and status change through commands.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateProjectRequest {
    /// Name.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$"
    )]
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// One line pitch; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub tagline: Option<Option<String>>,
    /// Sector; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// Priority.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
    /// Funding stage.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::FundingStage>)]
    pub funding_stage: Option<String>,
    /// Funding sought; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<MoneyDto>)]
    pub funding_target: Option<Option<MoneyDto>>,
    /// Funding raised; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<MoneyDto>)]
    pub funding_raised: Option<Option<MoneyDto>>,
    /// Team size.
    pub team_size: Option<u32>,
    /// Visible to clients.
    pub is_public: Option<bool>,
    /// Looking for a mentor.
    pub seeking_mentorship: Option<bool>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/projects/{id}/advance-stage`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AdvanceStageRequest {
    /// The stage to reach, required.
    #[schema(schema_with = one_of::<icosistem_core::model::ProjectStage>, required = true, nullable = false)]
    pub stage: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// A milestone as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MilestoneDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The project.
    #[schema(value_type = String, format = Uuid)]
    pub project_id: String,
    /// The project's owner.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Target date.
    pub target_date: NaiveDate,
    /// `low`, `medium`, `high` or `critical`.
    pub priority: String,
    /// `pending`, `in_progress`, `completed`, `delayed` or `cancelled`.
    pub status: String,
    /// Progress 0–100.
    pub progress: u8,
    /// When it was completed.
    pub completed_on: Option<NaiveDate>,
    /// Why it was delayed.
    pub delay_reason: Option<String>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Milestone> for MilestoneDto {
    fn from(m: &Milestone) -> Self {
        Self {
            id: m.id.to_string(),
            project_id: m.project_id.to_string(),
            owner_id: m.owner_id.to_string(),
            title: m.title.clone(),
            description: m.description.clone(),
            target_date: m.target_date,
            priority: m.priority.as_str().to_owned(),
            status: m.status.as_str().to_owned(),
            progress: m.progress.get(),
            completed_on: m.completed_on,
            delay_reason: m.delay_reason.clone(),
            version: m.meta.version,
            created_at: m.meta.created_at,
            updated_at: m.meta.updated_at,
        }
    }
}

/// `POST /api/v2/projects/{id}/milestones`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateMilestoneRequest {
    /// Title (2–200), required.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = "^\\S(?:[\\s\\S]*\\S)?$",
        required = true,
        nullable = false
    )]
    pub title: Option<String>,
    /// Description (≤ 5000).
    pub description: Option<String>,
    /// Target date (after today), required.
    #[schema(required = true, nullable = false)]
    pub target_date: Option<NaiveDate>,
    /// Priority (default `medium`).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
}

/// `PATCH /api/v2/milestones/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateMilestoneRequest {
    /// Title.
    pub title: Option<String>,
    /// Description; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Priority.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/milestones/{id}/progress`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ProgressRequest {
    /// Progress 0–100 (100 completes), required.
    #[schema(minimum = 0, maximum = 100, required = true, nullable = false)]
    pub progress: Option<i64>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/milestones/{id}/delay`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DelayRequest {
    /// The new target date (after today), required.
    #[schema(required = true, nullable = false)]
    pub target_date: Option<NaiveDate>,
    /// Why.
    pub reason: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// The project of an application, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicationProjectDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Name.
    pub name: String,
    /// One line pitch.
    pub tagline: Option<String>,
    /// Description.
    pub description: String,
    /// Stage.
    pub stage: String,
    /// Sector.
    pub category: Option<String>,
    /// The owner — absent in a blind view.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub owner_id: Option<String>,
}

/// Who applied — absent in a blind view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicantDto {
    /// User id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Full name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// An application as the caller may see it (built from the core's [`ApplicationView`]: when the
/// program reviews blind and the caller evaluates it, no applicant identity at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicationDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The program applied to.
    #[schema(value_type = String, format = Uuid)]
    pub program_id: String,
    /// `draft`, `submitted`, `under_review`, `accepted`, `rejected`, `waitlisted` or
    /// `withdrawn`.
    pub status: String,
    /// The applicant's answers.
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The decision's note.
    pub decision_note: Option<String>,
    /// Mean of the qualified review scores, in hundredths.
    pub mean_score_centi: Option<u32>,
    /// The project.
    pub project: ApplicationProjectDto,
    /// Who applied — absent in a blind view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant: Option<ApplicantDto>,
    /// Whether identity was withheld.
    pub blind: bool,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&ApplicationView> for ApplicationDto {
    fn from(v: &ApplicationView) -> Self {
        Self {
            id: v.id.to_string(),
            program_id: v.program_id.to_string(),
            status: v.status.as_str().to_owned(),
            answers: v.answers.clone(),
            submitted_at: v.submitted_at,
            decided_at: v.decided_at,
            decision_note: v.decision_note.clone(),
            mean_score_centi: v.mean_score_centi,
            project: ApplicationProjectDto {
                id: v.project.id.to_string(),
                name: v.project.name.clone(),
                tagline: v.project.tagline.clone(),
                description: v.project.description.clone(),
                stage: v.project.stage.as_str().to_owned(),
                category: v.project.category.clone(),
                owner_id: v.project.owner_id.map(|id| id.to_string()),
            },
            applicant: v.applicant.as_ref().map(|a| ApplicantDto {
                id: a.id.to_string(),
                name: a.name.clone(),
                email: a.email.as_str().to_owned(),
            }),
            blind: v.blind,
            version: v.version,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A review of an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The application.
    #[schema(value_type = String, format = Uuid)]
    pub application_id: String,
    /// The reviewer.
    #[schema(value_type = String, format = Uuid)]
    pub reviewer_id: String,
    /// `assigned` until the review is submitted, then `submitted`.
    pub status: String,
    /// Score 0–100 (once submitted).
    pub score: Option<u8>,
    /// Comment.
    pub comment: Option<String>,
    /// The reviewer declared a conflict of interest (the review does not count).
    pub conflict_declared: bool,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Review> for ReviewDto {
    fn from(r: &Review) -> Self {
        Self {
            id: r.id.to_string(),
            application_id: r.application_id.to_string(),
            reviewer_id: r.reviewer_id.to_string(),
            status: if r.submitted_at.is_some() {
                "submitted"
            } else {
                "assigned"
            }
            .to_owned(),
            score: r.score.map(|s| s.get()),
            comment: r.comment.clone(),
            conflict_declared: r.conflict_declared,
            submitted_at: r.submitted_at,
            version: r.meta.version,
            created_at: r.meta.created_at,
            updated_at: r.meta.updated_at,
        }
    }
}

/// `POST /api/v2/applications`: a draft.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateApplicationRequest {
    /// The program (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub program_id: Option<String>,
    /// The caller's project (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub project_id: Option<String>,
    /// Answers to the program's questions (default `{}`).
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

/// `PATCH /api/v2/applications/{id}` (while draft).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateApplicationRequest {
    /// The new answers, required.
    #[schema(value_type = Object, required = true)]
    pub answers: Option<serde_json::Map<String, serde_json::Value>>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/applications/{id}/accept|reject|waitlist|promote`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DecisionRequest {
    /// A note to the applicant (≤ 5000).
    pub note: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/applications/{id}/reviewers`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AssignReviewerRequest {
    /// The reviewer (UUID; a member of the program's organization), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub reviewer_id: Option<String>,
}

/// `POST /api/v2/applications/{id}/reviews`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SubmitReviewRequest {
    /// Score 0–100, required.
    #[schema(minimum = 0, maximum = 100, required = true, nullable = false)]
    pub score: Option<i64>,
    /// Comment (≤ 5000).
    pub comment: Option<String>,
    /// Declares a conflict of interest (default false).
    pub conflict_declared: bool,
}
