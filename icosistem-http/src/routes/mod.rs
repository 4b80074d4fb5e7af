//! The handlers, one module per group of paths (each with its `router()` and its part of the
//! OpenAPI document), and the helpers they share; [`kit`] is the declarative route form.

pub(crate) mod applications;
pub(crate) mod auth;
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
pub(crate) mod profile;
pub(crate) mod tasks;

pub(crate) mod kit;

use std::str::FromStr;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use icosistem_core::Error;
use icosistem_core::error::ValidationErrors;
use serde::Serialize;

use crate::error::ApiError;

kit::list_query! {
    /// `?limit&cursor` of a list without filters.
    pub(crate) struct PageQuery {}
}

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

/// A 201 answer with the resource's version as `ETag`.
pub(crate) fn created<T: serde::Serialize>(version: u64, body: T) -> Response {
    let mut response = versioned(version, body);
    *response.status_mut() = StatusCode::CREATED;
    response
}

/// A required enum field: absent → "is required", unknown → the allowed values.
pub(crate) fn required_enum<T: FromStr<Err = icosistem_core::error::FieldError>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<T> {
    match value.map(str::trim) {
        None | Some("") => {
            errors.push(field, "is required");
            None
        }
        Some(v) => optional_enum(errors, field, Some(v)),
    }
}

/// An optional enum field (a filter or an optional body field).
pub(crate) fn optional_enum<T: FromStr<Err = icosistem_core::error::FieldError>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<T> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match value.parse::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(field, e.message.clone());
            None
        }
    }
}

/// A required UUID field.
pub(crate) fn required_id<I: From<uuid::Uuid>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<I> {
    match value.map(str::trim) {
        None | Some("") => {
            errors.push(field, "is required");
            None
        }
        Some(v) => optional_id(errors, field, Some(v)),
    }
}

/// An optional UUID field.
pub(crate) fn optional_id<I: From<uuid::Uuid>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<I> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match value.parse::<uuid::Uuid>() {
        Ok(id) => Some(I::from(id)),
        Err(_) => {
            errors.push(field, "must be a UUID");
            None
        }
    }
}

/// A required field that is present.
pub(crate) fn required<T>(errors: &mut ValidationErrors, field: &'static str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        errors.push(field, "is required");
    }
    value
}

/// The collected failures as a 422.
pub(crate) fn finish(errors: ValidationErrors) -> Result<(), ApiError> {
    errors.into_result().map_err(|e| ApiError::from(Error::Validation(e)))
}
