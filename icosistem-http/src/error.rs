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
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to answer",
        )
    }

    /// 422 `validation_failed` on one field.
    pub fn invalid_field(field: &str, message: &str) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the request has invalid fields",
        );
        error.errors.push(ProblemField {
            field: field.to_owned(),
            message: message.to_owned(),
        });
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

/// Logs a server-side failure with its whole source chain (the client is told nothing of it).
fn log_internal(error: &(dyn std::error::Error + 'static)) {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %chain, "request failed");
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Validation(errors) => {
                let mut api = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "the request has invalid fields",
                );
                api.errors = fields(errors.fields());
                api
            }
            Error::InvalidTransition { entity, from, command } => Self::new(
                StatusCode::CONFLICT,
                "invalid_transition",
                format!("a {entity} in status {from} does not accept {command}"),
            ),
            Error::Forbidden(forbidden) => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("you may not {}", forbidden.action),
            ),
            Error::NotFound { entity, .. } => {
                Self::new(StatusCode::NOT_FOUND, "not_found", format!("no such {entity}"))
            }
            Error::Conflict { entity, field } => {
                let (detail, message) = if field == "version" {
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
                let mut api = Self::new(StatusCode::CONFLICT, "conflict", detail);
                api.errors.push(ProblemField {
                    field: field.to_owned(),
                    message: message.to_owned(),
                });
                api
            }
            Error::ProgramFull => Self::new(StatusCode::CONFLICT, "program_full", "the program has no seat left"),
            Error::AllyAtCapacity => Self::new(
                StatusCode::CONFLICT,
                "ally_at_capacity",
                "the ally has no room for another mentee",
            ),
            Error::InvalidCredentials => Self::unauthorized("invalid email or password"),
            Error::AccountLocked { until } => Self::new(
                StatusCode::LOCKED,
                "account_locked",
                format!("too many failed logins; try again after {}", until.to_rfc3339()),
            ),
            Error::EmailNotVerified => Self::new(
                StatusCode::FORBIDDEN,
                "email_not_verified",
                "verify your email before logging in",
            ),
            Error::AccountInactive => Self::new(StatusCode::FORBIDDEN, "account_inactive", "the account is not active"),
            Error::InvalidToken => {
                let mut api = Self::invalid_field("token", "is invalid, expired or already used");
                api.detail = Cow::Borrowed("the token is invalid, expired or already used");
                api
            }
            // The database is out of reach for now (restarting, pool exhausted): the client may
            // retry shortly — not a failure of the server's logic, so no 500.
            Error::Store(icosistem_core::StoreError::Unavailable(source)) => {
                tracing::warn!(error = %source, "store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the service is briefly unavailable; retry shortly",
                )
                .with_retry_after(UNAVAILABLE_RETRY_AFTER_SECONDS)
            }
            other => {
                log_internal(&other);
                Self::internal()
            }
        }
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
    use icosistem_core::StoreError;
    use icosistem_core::error::{Forbidden, ValidationErrors};

    #[test]
    fn every_core_error_has_its_status_and_code() {
        let mut validation = ValidationErrors::new();
        validation.push("email", "is not an email");
        validation.push("password", "is too short");
        let cases: Vec<(Error, StatusCode, &str)> = vec![
            (
                Error::Validation(validation),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                Error::InvalidTransition {
                    entity: "program",
                    from: "draft",
                    command: "start",
                },
                StatusCode::CONFLICT,
                "invalid_transition",
            ),
            (
                Error::Forbidden(Forbidden {
                    action: "program.publish",
                    resource: "program",
                }),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
            (Error::not_found("program", "x"), StatusCode::NOT_FOUND, "not_found"),
            (
                Error::Conflict {
                    entity: "user",
                    field: "email",
                },
                StatusCode::CONFLICT,
                "conflict",
            ),
            (Error::ProgramFull, StatusCode::CONFLICT, "program_full"),
            (Error::AllyAtCapacity, StatusCode::CONFLICT, "ally_at_capacity"),
            (Error::InvalidCredentials, StatusCode::UNAUTHORIZED, "unauthorized"),
            (
                Error::AccountLocked {
                    until: chrono::Utc::now() + chrono::Duration::minutes(15),
                },
                StatusCode::LOCKED,
                "account_locked",
            ),
            (Error::EmailNotVerified, StatusCode::FORBIDDEN, "email_not_verified"),
            (Error::AccountInactive, StatusCode::FORBIDDEN, "account_inactive"),
            (
                Error::InvalidToken,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                Error::Store(StoreError::backend(std::io::Error::other(
                    "connection to 10.0.0.7 refused",
                ))),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
            (
                Error::Store(StoreError::Unavailable(Box::new(std::io::Error::other(
                    "connection to 10.0.0.7 refused",
                )))),
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            ),
        ];
        for (error, status, code) in cases {
            let api = ApiError::from(error);
            assert_eq!((api.status(), api.code()), (status, code));
            let problem = api.problem();
            assert!(!problem.detail.contains("10.0.0.7"));
            if status == StatusCode::UNPROCESSABLE_ENTITY && code == "validation_failed" && problem.errors.len() == 2 {
                assert_eq!(problem.errors[0].field, "email");
                assert_eq!(problem.errors[1].field, "password");
            }
            let response = api.into_response();
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            assert_eq!(
                response.headers().contains_key(header::WWW_AUTHENTICATE),
                status == StatusCode::UNAUTHORIZED
            );
            assert_eq!(
                response.headers().contains_key(header::RETRY_AFTER),
                status == StatusCode::SERVICE_UNAVAILABLE
            );
        }
    }
}
