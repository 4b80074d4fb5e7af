//! The handlers, one module per group of paths (each with its `router()` and its part of the
//! OpenAPI document), and the helpers they share; [`kit`] is the declarative route form.

pub(crate) mod analytics;
pub(crate) mod applications;
pub(crate) mod auth;
pub(crate) mod calendar;
pub(crate) mod conversations;
pub(crate) mod documents;
pub(crate) mod health;
pub(crate) mod meetings;
pub(crate) mod mentoring;
pub(crate) mod organizations;
pub(crate) mod programs;
pub(crate) mod projects;
pub(crate) mod sessions;
pub(crate) mod users;

pub(crate) mod admin;
pub(crate) mod enrollments;
pub(crate) mod inbox;
pub(crate) mod matching;
pub(crate) mod outbox;
pub(crate) mod profile;
pub(crate) mod tasks;
pub(crate) mod webhooks;

pub(crate) mod kit;

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use icosistem_core::Error;
use icosistem_core::error::ValidationErrors;
use serde::Serialize;

use crate::error::ApiError;

pub(crate) use kit::PageQuery;

/// A JSON answer with the resource's version as `ETag`.
pub(crate) fn versioned<T: Serialize>(version: u64, body: T) -> Response {
    let mut response = Json(body).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// `If-Match` (or the body's `version`) of a command whose use case takes no version: compared
/// with the version just read. The check and the command are not one unit of work; that is
/// enough where the command never overwrites what another writer changed (feedback is given
/// once per party, an answer to an invitation is the caller's own), so the check only tells a
/// client that its view is stale.
pub(crate) fn check_version(entity: &'static str, expected: Option<u64>, current: u64) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != current => Err(Error::Conflict {
            entity,
            field: "version",
        }
        .into()),
        _ => Ok(()),
    }
}

/// The collected failures as a 422.
pub(crate) fn finish(errors: ValidationErrors) -> Result<(), ApiError> {
    errors.into_result().map_err(|e| ApiError::from(Error::Validation(e)))
}
