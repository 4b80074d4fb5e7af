//! The JSON bodies of the API. Domain types stay free of HTTP concerns: requests are parsed
//! here into the core's inputs, and answers are built from the core's entities, showing only
//! what a client may see (a user never shows its password hash, tokens or lockout state).
//!
//! Request fields are optional at the JSON level on purpose: a missing field reaches the core's
//! validators, which report every failing field at once (422) instead of serde stopping at the
//! first one.
use axum::extract::{FromRequest, Request};
use icosistem_core::model::value::Money;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use schema::one_of;

mod analytics;
mod applications;
mod documents;
mod identity;
mod mentoring;
mod organizations;
pub(crate) mod parse;
mod projects;
pub mod schema;
mod webhooks;
mod work;
pub use analytics::*;
pub use applications::*;
pub use documents::*;
pub use identity::*;
pub use mentoring::*;
pub use organizations::*;
pub use projects::*;
pub use webhooks::*;
pub use work::*;

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
    // Every body is a JSON object: serde would also read a struct from an array of its fields
    // in order, which the document does not allow.
    if !value.is_object() {
        let mut error = ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the request has invalid fields",
        );
        error.set_detail("the body must be a JSON object");
        return Err(error);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        // The path of the value serde could not read (`version`, `funding_target.amount`,
        // `answers[2]`): the 422 names it as a field like the core's own checks do.
        let field = e.path().to_string();
        let reason = e.into_inner().to_string();
        if field.is_empty() || field == "." {
            let mut error = ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "the request has invalid fields",
            );
            error.set_detail(format!("the body does not have the expected shape: {reason}"));
            error
        } else {
            let mut errors = icosistem_core::error::ValidationErrors::new();
            errors.push(field, format!("does not have the expected shape: {reason}"));
            ApiError::from(icosistem_core::Error::Validation(errors))
        }
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

/// Tells an absent field (`None`, via `default`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
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

/// All the rows at once (a list the core does not page): `next_cursor` is always `null`.
impl<T, E> From<&Vec<E>> for PageDto<T>
where
    T: for<'a> From<&'a E>,
{
    fn from(rows: &Vec<E>) -> Self {
        Self {
            items: rows.iter().map(T::from).collect(),
            next_cursor: None,
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

/// Money: `{"amount_minor": 150000, "currency": "USD"}` (minor units, never a float).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MoneyDto {
    /// Amount in minor units (cents), never negative.
    #[schema(minimum = 0)]
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
