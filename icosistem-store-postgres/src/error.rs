//! Database errors → the core's `StoreError`.

use icosistem_core::StoreError;

/// Maps a sqlx error of an operation on `entity`. A unique violation becomes `Conflict` with the
/// field its constraint guards (`unique` lists `(constraint name, field)`; the primary key is
/// `id`); every other failure is `Backend` with the source kept.
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
    StoreError::backend(error)
}

/// A column that did not decode into a domain value (corrupt or hand-edited data).
pub(crate) fn decode_error(column: &str, message: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: message.to_string().into(),
    }
}
