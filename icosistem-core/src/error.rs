//! Errors of the domain and of the stores.
//!
//! Two families: [`Error`] is what a use case answers (validation, transitions, permissions,
//! capacity …) and [`StoreError`] is what a store port answers. A store's `Conflict` becomes the
//! domain's `Conflict` unchanged; a backend failure keeps its source chain so the HTTP layer can
//! log it whole while telling the client nothing internal.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};

/// One failing field and why, as shown to the caller (`{"field", "message"}` in the API).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    /// The field's name as the caller spelled it (`email`, `max_participants`, `answers.team`).
    pub field: Cow<'static, str>,
    /// A short human reason (`must be between 1 and 1000`).
    pub message: Cow<'static, str>,
}

impl FieldError {
    /// A failure of `field` for `message`.
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every failing field of one input. Validators collect into this instead of stopping at the
/// first failure, so a form can show all its problems at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// No failures yet.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// One failure.
    pub fn single(field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }

    /// Records a failure.
    pub fn push(&mut self, field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Records the error of a fallible constructor (or nothing) and returns its value.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// Appends every failure of `other`.
    pub fn extend(&mut self, other: ValidationErrors) {
        self.0.extend(other.0);
    }

    /// True when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The failures, in the order they were found.
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// True when `field` is among the failures.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// `Ok(())` when nothing failed, the collected failures otherwise.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// What a store port answers when it cannot do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule (`field` names it: `email`, `slug`, `program_project` …) or a stale
    /// version (`field == "version"`) refused the write. Every store returns this same variant
    /// for the same situation.
    #[error("conflict on {entity}.{field}")]
    Conflict {
        /// The entity kind (`user`, `program` …).
        entity: &'static str,
        /// The unique field, or `version` for a stale update.
        field: &'static str,
    },
    /// The write referenced a row that does not exist (or is soft-deleted).
    #[error("{entity} {id} not found")]
    NotFound {
        /// The entity kind.
        entity: &'static str,
        /// Its id as a string.
        id: String,
    },
    /// The backend failed: connection lost, timeout, corrupt data. The source is kept.
    #[error("store backend failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The backend cannot be reached right now — no connection free within the acquire timeout,
    /// the database restarting or unreachable — and the same call is expected to succeed once
    /// it is back: callers answer "retry shortly" (HTTP 503 with `Retry-After`), not a failure
    /// of the request. (As with any lost connection, a commit that fails this way may or may
    /// not have been applied.)
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl StoreError {
    /// A backend failure wrapping `source`.
    pub fn backend(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(source))
    }

    /// The not-found answer for `entity` with `id`, spelled as the bare UUID by every store (not
    /// the id type's `Debug` form), so that logs and errors read alike whatever the backend.
    pub fn not_found(entity: &'static str, id: impl Into<uuid::Uuid>) -> Self {
        Self::NotFound {
            entity,
            id: id.into().to_string(),
        }
    }

    /// The stale-version conflict for `entity`.
    pub fn stale(entity: &'static str) -> Self {
        Self::Conflict {
            entity,
            field: "version",
        }
    }
}

/// Why an actor may not do something. Carries no detail about the resource, so it can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: {action} on {resource}")]
pub struct Forbidden {
    /// The action refused (its stable name, e.g. `program.publish`).
    pub action: &'static str,
    /// The kind of resource (`program`).
    pub resource: &'static str,
}

/// Everything a use case can answer besides success.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input failed validation; every failing field is listed.
    #[error("validation failed: {0}")]
    Validation(#[from] ValidationErrors),
    /// The command is not allowed from the current state.
    #[error("invalid transition of {entity} from {from} by {command}")]
    InvalidTransition {
        /// The entity kind.
        entity: &'static str,
        /// The state it was in (snake_case name).
        from: &'static str,
        /// The refused command (snake_case name).
        command: &'static str,
    },
    /// The actor may not do this.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No such entity visible to the actor.
    #[error("{entity} {id} not found")]
    NotFound {
        /// The entity kind.
        entity: &'static str,
        /// The id looked for.
        id: String,
    },
    /// A uniqueness rule or a stale version.
    #[error("conflict on {entity}.{field}")]
    Conflict {
        /// The entity kind.
        entity: &'static str,
        /// The unique field, or `version`.
        field: &'static str,
    },
    /// The program has no seat left: accepted applications already equal `max_participants`.
    #[error("program is full")]
    ProgramFull,
    /// The ally has no room for another mentee.
    #[error("ally is at capacity")]
    AllyAtCapacity,
    /// Email or password wrong (the same answer for an unknown email).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed logins: locked until the given instant.
    #[error("account locked until {until}")]
    AccountLocked {
        /// When the lock ends.
        until: DateTime<Utc>,
    },
    /// The account's email is not verified and the policy requires it.
    #[error("email not verified")]
    EmailNotVerified,
    /// The account is suspended or inactive.
    #[error("account is not active")]
    AccountInactive,
    /// A verification/reset token is unknown, expired or used.
    #[error("invalid or expired token")]
    InvalidToken,
    /// A refresh token is unknown, expired, revoked, used before or older than its user's
    /// security stamp: the session is over and the client signs in again (`unauthorized`, like
    /// refused credentials — not a field to correct).
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// The actor did this too often lately (e.g. more than `Limits::max_messages_per_minute`
    /// messages): they may try again after `retry_after_seconds`.
    #[error("rate limited; retry after {retry_after_seconds} s")]
    RateLimited {
        /// Whole seconds until the oldest counted action leaves the window (at least 1).
        retry_after_seconds: i64,
    },
    /// The store failed.
    #[error("store failure")]
    Store(#[source] StoreError),
    /// An upload's bytes are not of an allowed type, or not of the type its file name says
    /// (docs/domain.md §6: decided by sniffing the content).
    #[error("unsupported media type: {reason}")]
    UnsupportedMediaType {
        /// What was found (no client bytes, safe to show).
        reason: String,
    },
    /// An upload passed its size limit; nothing was stored.
    #[error("the upload is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A requested byte range starts at or after the end of the content.
    #[error("range not satisfiable for {size} bytes")]
    RangeNotSatisfiable {
        /// The size of the whole content.
        size: u64,
    },
    /// The blob store failed (disk, object storage) or lost bytes whose metadata exists.
    #[error("blob storage failure")]
    Blob(#[source] crate::ports::BlobError),
}

impl From<crate::ports::BlobError> for Error {
    fn from(error: crate::ports::BlobError) -> Self {
        use crate::ports::BlobError;
        match error {
            BlobError::TooLarge { limit } => Self::PayloadTooLarge { limit },
            BlobError::RangeNotSatisfiable { size, .. } => Self::RangeNotSatisfiable { size },
            other => Self::Blob(other),
        }
    }
}

impl Error {
    /// The refusal of `command` by an `entity` in state `from` (snake_case names).
    pub fn invalid_transition(entity: &'static str, from: &'static str, command: &'static str) -> Self {
        Self::InvalidTransition { entity, from, command }
    }

    /// The not-found error for `entity` with `id`.
    pub fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// A one-field validation error.
    pub fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Validation(ValidationErrors::single(field, message))
    }

    /// A stable machine code for this error: the `code` of the API's problem details, taken from
    /// here and nowhere else (the HTTP API's vocabulary). A bad verification/reset token is a field of
    /// the request that fails (`validation_failed` on `token`), as the HTTP API answers it; a store out
    /// of reach is `unavailable` (retry), any other store failure `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) | Error::InvalidToken => "validation_failed",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::Conflict { .. } => "conflict",
            Error::ProgramFull => "program_full",
            Error::AllyAtCapacity => "ally_at_capacity",
            Error::InvalidCredentials | Error::InvalidRefreshToken => "unauthorized",
            Error::AccountLocked { .. } => "account_locked",
            Error::EmailNotVerified => "email_not_verified",
            Error::AccountInactive => "account_inactive",
            Error::RateLimited { .. } => "rate_limited",
            Error::Store(StoreError::Unavailable(_)) => "unavailable",
            Error::Store(_) => "internal",
            Error::UnsupportedMediaType { .. } => "unsupported_media_type",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Error::Blob(crate::ports::BlobError::Unavailable { .. }) => "unavailable",
            Error::Blob(_) => "internal",
        }
    }

    /// One error of every variant (and both store outcomes, `internal` and `unavailable`), so
    /// that an adapter can test its mapping of each. The `match` below has no wildcard: a new
    /// variant does not compile until it is listed here too.
    #[cfg(any(test, feature = "testing"))]
    pub fn examples() -> Vec<Error> {
        let examples = vec![
            Error::invalid("email", "is not an email"),
            Error::InvalidTransition {
                entity: "program",
                from: "draft",
                command: "start",
            },
            Error::Forbidden(Forbidden {
                action: "program.publish",
                resource: "program",
            }),
            Error::not_found("program", uuid::Uuid::nil()),
            Error::Conflict {
                entity: "user",
                field: "email",
            },
            Error::ProgramFull,
            Error::AllyAtCapacity,
            Error::InvalidCredentials,
            Error::AccountLocked {
                until: DateTime::<Utc>::UNIX_EPOCH,
            },
            Error::EmailNotVerified,
            Error::AccountInactive,
            Error::InvalidToken,
            Error::InvalidRefreshToken,
            Error::RateLimited {
                retry_after_seconds: 42,
            },
            Error::Store(StoreError::backend(std::io::Error::other(
                "connection to 10.0.0.7 refused",
            ))),
            Error::Store(StoreError::Unavailable(Box::new(std::io::Error::other(
                "connection to 10.0.0.7 refused",
            )))),
            Error::UnsupportedMediaType {
                reason: "the content is an executable".into(),
            },
            Error::PayloadTooLarge { limit: 16 },
            Error::RangeNotSatisfiable { size: 10 },
            Error::Blob(crate::ports::BlobError::unavailable(
                "writing a blob",
                std::io::Error::other("disk full"),
            )),
        ];
        for example in &examples {
            match example {
                Error::Validation(_)
                | Error::InvalidTransition { .. }
                | Error::Forbidden(_)
                | Error::NotFound { .. }
                | Error::Conflict { .. }
                | Error::ProgramFull
                | Error::AllyAtCapacity
                | Error::InvalidCredentials
                | Error::AccountLocked { .. }
                | Error::EmailNotVerified
                | Error::AccountInactive
                | Error::InvalidToken
                | Error::InvalidRefreshToken
                | Error::UnsupportedMediaType { .. }
                | Error::PayloadTooLarge { .. }
                | Error::RangeNotSatisfiable { .. }
                | Error::Blob(_)
                | Error::RateLimited { .. }
                | Error::Store(_) => {}
            }
        }
        examples
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { entity, field } => Error::Conflict { entity, field },
            StoreError::NotFound { entity, id } => Error::NotFound { entity, id },
            other => Error::Store(other),
        }
    }
}

/// Shorthand for use-case results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Displays an error followed by every `source()` under it (`store failure: store backend
/// failure: connection refused`). Logging only the outer error would hide the cause: [`Error`]
/// says "store failure" and keeps the database's words in its sources.
///
/// ```
/// use icosistem_core::error::{ErrorChain, StoreError};
/// use icosistem_core::Error;
///
/// let io = std::io::Error::other("connection refused");
/// let error = Error::from(StoreError::backend(io));
/// assert!(ErrorChain(&error).to_string().ends_with("connection refused"));
/// ```
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
