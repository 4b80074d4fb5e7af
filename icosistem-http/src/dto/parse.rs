//! Reading the text of a body or a query into the core's types: presence, enum names, UUIDs,
//! instants, clock times and money. Each failure is pushed to a [`ValidationErrors`] under its
//! field, so that one 422 names every unreadable field. The rules of the values (lengths, ranges,
//! dates) are not here: they are the core's, checked by its use cases.

use std::str::FromStr;

use chrono::{DateTime, NaiveTime, Utc};
use icosistem_core::error::{FieldError, ValidationErrors};
use icosistem_core::model::value::{AtField, Currency, Money};

use super::MoneyDto;

/// A required enum field: absent → "is required", unknown → the allowed values.
pub(crate) fn required_enum<T: FromStr<Err = FieldError>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<T> {
    present(errors, field, value).and_then(|v| optional_enum(errors, field, Some(v)))
}

/// An optional enum filter of a query: empty is the same as absent.
pub(crate) fn optional_enum<T: FromStr<Err = FieldError>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<T> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    value
        .parse::<T>()
        .map_err(|e| errors.push(field, e.message.clone()))
        .ok()
}

/// An optional enum field of a body: absent (or `null`) is `None`; a text must be one of the
/// names, an empty one included: the document lists only the names. A query's filters take
/// [`optional_enum`] instead, where an empty value means "no filter".
pub(crate) fn body_enum<T: FromStr<Err = FieldError>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<T> {
    value?
        .parse::<T>()
        .map_err(|e| errors.push(field, e.message.clone()))
        .ok()
}

/// Enum names of a list, each failure pushed under `field`.
pub(crate) fn enums<T: FromStr<Err = FieldError>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    names: &[String],
) -> Vec<T> {
    names
        .iter()
        .filter_map(|name| body_enum::<T>(errors, field, Some(name)))
        .collect()
}

/// A required UUID field.
pub(crate) fn required_id<I: From<uuid::Uuid>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<I> {
    present(errors, field, value).and_then(|v| optional_id(errors, field, Some(v)))
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

/// UUIDs of a list, each failure pushed as `field[i]`.
pub(crate) fn ids<I: From<uuid::Uuid>>(errors: &mut ValidationErrors, field: &str, values: &[String]) -> Vec<I> {
    let mut parsed = Vec::with_capacity(values.len());
    for (i, raw) in values.iter().enumerate() {
        match raw.trim().parse::<uuid::Uuid>() {
            Ok(id) => parsed.push(I::from(id)),
            Err(_) => errors.push(format!("{field}[{i}]"), "must be a UUID"),
        }
    }
    parsed
}

/// A required field that is present.
pub(crate) fn required<T>(errors: &mut ValidationErrors, field: &'static str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        errors.push(field, "is required");
    }
    value
}

/// A required text that is present and not blank (the text itself, untrimmed).
pub(crate) fn required_text(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<String>,
) -> Option<String> {
    required(errors, field, value.filter(|v| !v.trim().is_empty()))
}

/// The trimmed text of a required field, "is required" when absent or blank.
fn present<'a>(errors: &mut ValidationErrors, field: &'static str, value: Option<&'a str>) -> Option<&'a str> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    required(errors, field, value)
}

/// An RFC 3339 instant of a body or query (`2030-03-05T10:00:00Z`), its failure pushed under
/// `field`; absent or blank is `None` without an error.
pub(crate) fn optional_instant(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<DateTime<Utc>> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    // A query's `+00:00` offset not percent-encoded arrives with a space for its `+`.
    let value = match value.split_at_checked(value.len().saturating_sub(6)) {
        Some((instant, offset)) if offset.starts_with(' ') && offset[1..].contains(':') => {
            format!("{instant}+{}", &offset[1..])
        }
        _ => value.to_owned(),
    };
    match DateTime::parse_from_rfc3339(&value) {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(_) => {
            errors.push(field, "must be an RFC 3339 instant such as 2030-03-05T10:00:00Z");
            None
        }
    }
}

/// A required RFC 3339 instant.
pub(crate) fn required_instant(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<&str>,
) -> Option<DateTime<Utc>> {
    present(errors, field, value).and_then(|v| optional_instant(errors, field, Some(v)))
}

/// A whole number that must fit `T` (`u16` minutes …); out of its range is `message`.
pub(crate) fn bounded_number<T: TryFrom<i64>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<i64>,
    message: &'static str,
) -> Option<T> {
    let value = value?;
    T::try_from(value).map_err(|_| errors.push(field, message)).ok()
}

/// `true`/`false` of a query flag; anything else is an error on `field`.
pub(crate) fn optional_flag(errors: &mut ValidationErrors, field: &'static str, value: Option<&str>) -> Option<bool> {
    match value.map(str::trim).filter(|v| !v.is_empty())? {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            errors.push(field, "must be true or false");
            None
        }
    }
}

/// A local clock time `HH:MM` or `HH:MM:SS`, required.
pub(crate) fn clock_time(errors: &mut ValidationErrors, field: String, value: Option<&str>) -> Option<NaiveTime> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        errors.push(field, "is required");
        return None;
    };
    match NaiveTime::parse_from_str(value, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(value, "%H:%M")) {
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(field, "must be a time HH:MM");
            None
        }
    }
}

/// Money of a body, its failures pushed under `field`.
pub(crate) fn money(errors: &mut ValidationErrors, field: &'static str, dto: &MoneyDto) -> Option<Money> {
    let currency = errors.check(dto.currency.parse::<Currency>().at(field))?;
    errors.check(Money::new(dto.amount_minor, currency).at(field))
}
