//! Database errors → the core's `StoreError`.

use icosistem_core::StoreError;

/// Maps a sqlx error of an operation on `entity`. A unique violation becomes `Conflict` with the
/// field its constraint guards (`unique` lists `(constraint name, field)`; the primary key is
/// `id`); every other failure is [`unavailable_or_backend`].
pub(crate) fn map_error(
    error: sqlx::Error,
    entity: &'static str,
    unique: &[(&'static str, &'static str)],
) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.code().as_deref() == Some("23505")
    {
        let constraint = db.constraint().unwrap_or_default();
        let field = unique
            .iter()
            .find(|(name, _)| *name == constraint)
            .map(|(_, field)| *field)
            .unwrap_or(if constraint.ends_with("_pkey") { "id" } else { "unique" });
        return StoreError::Conflict { entity, field };
    }
    unavailable_or_backend(error)
}

/// `Unavailable` when the failure is about reaching the database rather than about the
/// statement — no connection within the acquire timeout, a closed pool, a broken socket, a
/// server shutting down or starting up (SQLSTATE classes 08 and 57P) — so callers answer "try
/// again shortly"; `Backend` otherwise.
pub(crate) fn unavailable_or_backend(error: sqlx::Error) -> StoreError {
    let unreachable = match &error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    };
    if unreachable {
        StoreError::Unavailable(Box::new(error))
    } else {
        StoreError::backend(error)
    }
}

/// A column that did not decode into a domain value (corrupt or hand-edited data).
pub(crate) fn decode_error(column: &str, message: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: message.to_string().into(),
    }
}
