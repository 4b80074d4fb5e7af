//! [`ApiError`]: every failure of a handler, answered as an RFC 9457 problem
//! (`application/problem+json`).
//!
//! A handler returns `Result<_, ApiError>`; the core's [`Error`] converts with `?`. The response
//! carries the [`Problem`] in its extensions too, so the outer middleware can stamp the request
//! id into the body (the error itself does not know which request it answers).

use std::borrow::Cow;

use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use icosistem_core::Error;
use icosistem_core::error::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// `Retry-After` of a 503 `unavailable`: the pool's acquire timeout is about as long, and a
/// restarted database accepts connections again within seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: i64 = 1;

/// The detail of every 500: what failed is logged, never told.
const INTERNAL_DETAIL: &str = "the server failed to answer";

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One failing field of a 422 (and of a 409 naming the field that collided).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field, as the client spelled it.
    pub field: String,
    /// Why it failed.
    pub message: String,
}

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` style stable URNs).
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request (never internal details).
    pub detail: String,
    /// A stable machine code (`validation_failed`, `not_found` …).
    pub code: String,
    /// The failing fields (empty unless the problem is about fields).
    pub errors: Vec<ProblemField>,
    /// The request id (the `X-Request-ID` of the response).
    pub request_id: Option<String>,
}

/// Why a request failed, ready to become a problem response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    detail: Cow<'static, str>,
    errors: Vec<ProblemField>,
    /// 401s tell the client how to authenticate.
    bearer_challenge: bool,
    /// Seconds until a lockout ends (423).
    retry_after: Option<i64>,
}

impl ApiError {
    /// A problem with `status`, `code` and `detail` and no field errors.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            detail: detail.into(),
            errors: Vec::new(),
            bearer_challenge: status == StatusCode::UNAUTHORIZED,
            retry_after: None,
        }
    }

    /// 401 `unauthorized` with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 500 `internal`, telling nothing more.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", INTERNAL_DETAIL)
    }

    /// 422 `validation_failed` on one field.
    pub fn invalid_field(field: &str, message: &str) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the request has invalid fields",
        );
        error.errors.push(problem_field(field, message));
        error
    }

    /// Replaces the detail.
    pub fn set_detail(&mut self, detail: impl Into<Cow<'static, str>>) {
        self.detail = detail.into();
    }

    /// Adds `Retry-After: <seconds>` (at least 1).
    pub fn with_retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// The status it answers.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Its machine code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The problem body (without a request id).
    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:icosistem:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone().into_owned(),
            code: self.code.clone().into_owned(),
            errors: self.errors.clone(),
            request_id: None,
        }
    }
}

fn fields(list: &[FieldError]) -> Vec<ProblemField> {
    list.iter()
        .map(|e| ProblemField {
            field: e.field.clone().into_owned(),
            message: e.message.clone().into_owned(),
        })
        .collect()
}

/// Displays an error followed by every `source()` under it: the core's, so a log line reads the
/// same from every crate (the core's `Store` error says "store failure" and keeps the
/// database's words in its sources).
pub use icosistem_core::error::ErrorChain;

impl From<Error> for ApiError {
    /// The one mapping of the core's errors to HTTP: the `code` is [`Error::code`], the status
    /// and the client-facing detail are chosen here. Store failures are logged with their whole
    /// source chain (the client is told nothing of them).
    fn from(error: Error) -> Self {
        let code = error.code();
        let (status, detail, errors): (StatusCode, Cow<'static, str>, Vec<ProblemField>) = match &error {
            Error::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request has invalid fields".into(),
                fields(errors.fields()),
            ),
            Error::InvalidToken => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "the token is invalid, expired or already used".into(),
                vec![problem_field("token", "is invalid, expired or already used")],
            ),
            Error::InvalidTransition { entity, from, command } => (
                StatusCode::CONFLICT,
                format!("a {entity} in status {from} does not accept {command}").into(),
                Vec::new(),
            ),
            Error::Forbidden(forbidden) => (
                StatusCode::FORBIDDEN,
                format!("you may not {}", forbidden.action).into(),
                Vec::new(),
            ),
            Error::NotFound { entity, .. } => (StatusCode::NOT_FOUND, format!("no such {entity}").into(), Vec::new()),
            Error::Conflict { entity, field } => {
                let (detail, message) = if *field == "version" {
                    (
                        format!("the {entity} changed since you read it"),
                        "is stale; read the resource again",
                    )
                } else {
                    (
                        format!("a {entity} with this {field} already exists"),
                        "is already taken",
                    )
                };
                (StatusCode::CONFLICT, detail.into(), vec![problem_field(field, message)])
            }
            Error::ProgramFull => (StatusCode::CONFLICT, "the program has no seat left".into(), Vec::new()),
            Error::AllyAtCapacity => (
                StatusCode::CONFLICT,
                "the ally has no room for another mentee".into(),
                Vec::new(),
            ),
            Error::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid email or password".into(), Vec::new()),
            Error::InvalidRefreshToken => (
                StatusCode::UNAUTHORIZED,
                "the refresh token is invalid, expired or revoked".into(),
                Vec::new(),
            ),
            Error::AccountLocked { until } => (
                StatusCode::LOCKED,
                format!("too many failed logins; try again after {}", until.to_rfc3339()).into(),
                Vec::new(),
            ),
            Error::EmailNotVerified => (
                StatusCode::FORBIDDEN,
                "verify your email before logging in".into(),
                Vec::new(),
            ),
            Error::AccountInactive => (StatusCode::FORBIDDEN, "the account is not active".into(), Vec::new()),
            Error::UnsupportedMediaType { reason } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                reason.clone().into(),
                vec![problem_field(
                    "file",
                    "is not a pdf, doc, docx, jpg, jpeg or png agreeing with its name",
                )],
            ),
            Error::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the upload is larger than {limit} bytes").into(),
                vec![problem_field("file", "is too large")],
            ),
            Error::RangeNotSatisfiable { size } => (
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the range is outside the content's {size} bytes").into(),
                Vec::new(),
            ),
            Error::Blob(icosistem_core::ports::BlobError::Unavailable { .. }) => {
                tracing::warn!(error = %ErrorChain(&error), "blob store unavailable");
                let api = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    "the service is briefly unavailable; retry shortly",
                );
                return api.with_retry_after(UNAVAILABLE_RETRY_AFTER_SECONDS);
            }
            // The same answer as the request rate limiter's (`rate_limit.rs`): 429 with
            // `Retry-After`, here for a rule of the domain (messages per minute).
            Error::RateLimited { retry_after_seconds } => {
                let api = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    code,
                    "too many requests of this kind; retry later",
                );
                return api.with_retry_after(*retry_after_seconds);
            }
            // The database is out of reach for now (restarting, pool exhausted): the client may
            // retry shortly — not a failure of the server's logic, so no 500.
            Error::Store(icosistem_core::StoreError::Unavailable(_)) => {
                tracing::warn!(error = %ErrorChain(&error), "store unavailable");
                let api = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    "the service is briefly unavailable; retry shortly",
                );
                return api.with_retry_after(UNAVAILABLE_RETRY_AFTER_SECONDS);
            }
            _ => {
                tracing::error!(error = %ErrorChain(&error), "request failed");
                return Self::new(StatusCode::INTERNAL_SERVER_ERROR, code, INTERNAL_DETAIL);
            }
        };
        let mut api = Self::new(status, code, detail);
        api.errors = errors;
        api
    }
}

fn problem_field(field: &str, message: &str) -> ProblemField {
    ProblemField {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::payload_too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => {
                // Well-formed JSON of the wrong shape (a string where a number belongs). DTOs
                // take every field as optional so that missing ones reach the core's validators,
                // which list them all.
                Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    format!("the body does not have the expected shape: {}", rejection.body_text()),
                )
            }
            _ => Self::new(StatusCode::BAD_REQUEST, "malformed_json", "the body is not valid JSON"),
        }
    }
}

impl ApiError {
    /// 413 `payload_too_large`.
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is larger than the server accepts",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let mut response = (self.status, axum::Json(&problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.bearer_challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(problem);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire answer of every core error: its code (always the core's [`Error::code`], in
    /// API.md's vocabulary) and its status.
    #[test]
    fn every_core_error_has_its_status_and_code() {
        let expected = [
            ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY), // Validation
            ("invalid_transition", StatusCode::CONFLICT),
            ("forbidden", StatusCode::FORBIDDEN),
            ("not_found", StatusCode::NOT_FOUND),
            ("conflict", StatusCode::CONFLICT),
            ("program_full", StatusCode::CONFLICT),
            ("ally_at_capacity", StatusCode::CONFLICT),
            ("unauthorized", StatusCode::UNAUTHORIZED), // InvalidCredentials
            ("account_locked", StatusCode::LOCKED),
            ("email_not_verified", StatusCode::FORBIDDEN),
            ("account_inactive", StatusCode::FORBIDDEN),
            ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY), // InvalidToken, on `token`
            ("unauthorized", StatusCode::UNAUTHORIZED),              // InvalidRefreshToken
            ("rate_limited", StatusCode::TOO_MANY_REQUESTS),
            ("internal", StatusCode::INTERNAL_SERVER_ERROR), // Store(Backend)
            ("unavailable", StatusCode::SERVICE_UNAVAILABLE), // Store(Unavailable)
            ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            ("range_not_satisfiable", StatusCode::RANGE_NOT_SATISFIABLE),
            ("unavailable", StatusCode::SERVICE_UNAVAILABLE), // Blob(Unavailable)
        ];
        let examples = Error::examples();
        assert_eq!(examples.len(), expected.len(), "one expectation per example");
        for (error, (code, status)) in examples.into_iter().zip(expected) {
            let described = format!("{error:?}");
            assert_eq!(error.code(), code, "{described}");
            let api = ApiError::from(error);
            assert_eq!((api.status(), api.code()), (status, code), "{described}");
            let problem = api.problem();
            assert!(!problem.detail.contains("10.0.0.7"));
            assert_eq!(problem.type_, format!("urn:icosistem:problem:{code}"));
            if code == "validation_failed" || code == "conflict" {
                assert_eq!(problem.errors.len(), 1, "{described} names its field");
            }
            let response = api.into_response();
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            assert_eq!(
                response.headers().contains_key(header::WWW_AUTHENTICATE),
                status == StatusCode::UNAUTHORIZED
            );
            assert_eq!(
                response.headers().contains_key(header::RETRY_AFTER),
                status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS
            );
        }
    }

    #[test]
    fn validation_lists_every_field_in_order() {
        let mut validation = icosistem_core::error::ValidationErrors::new();
        validation.push("email", "is not an email");
        validation.push("password", "is too short");
        let problem = ApiError::from(Error::Validation(validation)).problem();
        let named: Vec<_> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["email", "password"]);
    }

    #[test]
    fn the_chain_names_every_source() {
        let error = Error::Store(icosistem_core::StoreError::backend(std::io::Error::other(
            "connection to 10.0.0.7 refused",
        )));
        assert_eq!(
            ErrorChain(&error).to_string(),
            "store failure: store backend failure: connection to 10.0.0.7 refused"
        );
    }
}
