//! Reusable validation rules shared by every entity's validator.
//!
//! Each rule is a pure function of its inputs (time comes in as `today`/`now`, never read from a
//! clock) that names the failing field, so a validator can collect them all with
//! [`ValidationErrors::check`](crate::error::ValidationErrors::check).

use std::borrow::Cow;
use std::fmt::Display;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{FieldError, ValidationErrors};
use crate::model::value::Email;

/// `date` must be after `today` (or on/after it when `allow_today`).
pub fn validate_future_date(
    field: impl Into<Cow<'static, str>>,
    date: NaiveDate,
    today: NaiveDate,
    allow_today: bool,
) -> Result<(), FieldError> {
    if allow_today {
        if date < today {
            return Err(FieldError::new(field, "must be today or later"));
        }
    } else if date <= today {
        return Err(FieldError::new(field, "must be in the future"));
    }
    Ok(())
}

/// `date` must be on or before `today`.
pub fn validate_past_or_today_date(
    field: impl Into<Cow<'static, str>>,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), FieldError> {
    if date > today {
        return Err(FieldError::new(field, "must not be in the future"));
    }
    Ok(())
}

/// `at` must be strictly after `now`.
pub fn validate_future_instant(
    field: impl Into<Cow<'static, str>>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), FieldError> {
    if at <= now {
        return Err(FieldError::new(field, "must be in the future"));
    }
    Ok(())
}

/// `value`, when present, must be greater than zero; `None` passes.
pub fn validate_positive_number(field: impl Into<Cow<'static, str>>, value: Option<i64>) -> Result<(), FieldError> {
    validate_positive(field, value)
}

/// [`validate_positive_number`] for any number whose `Default` is its zero.
pub fn validate_positive<T: PartialOrd + Default>(
    field: impl Into<Cow<'static, str>>,
    value: Option<T>,
) -> Result<(), FieldError> {
    match value {
        Some(v) if v <= T::default() => Err(FieldError::new(field, "must be greater than 0")),
        // An incomparable value (a NaN float) is not positive either.
        Some(v) if v.partial_cmp(&T::default()).is_none() => Err(FieldError::new(field, "must be greater than 0")),
        _ => Ok(()),
    }
}

/// `value` must be within `min..=max`; the message is `must be between {min} and {max}`.
pub fn validate_range<T: PartialOrd + Display>(
    field: impl Into<Cow<'static, str>>,
    value: T,
    min: T,
    max: T,
) -> Result<(), FieldError> {
    if value < min || value > max {
        return Err(FieldError::new(field, format!("must be between {min} and {max}")));
    }
    Ok(())
}

/// The trimmed `value` must have `min..=max` chars.
pub fn validate_length(
    field: impl Into<Cow<'static, str>>,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), FieldError> {
    let count = value.trim().chars().count();
    if count < min || count > max {
        let message = if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be between {min} and {max} characters")
        };
        return Err(FieldError::new(field, message));
    }
    Ok(())
}

/// `end` must be strictly after `start` (dates, instants, anything ordered). The failure is
/// reported on `field`, normally the end's.
pub fn validate_date_order<T: PartialOrd>(
    field: impl Into<Cow<'static, str>>,
    start: T,
    end: T,
) -> Result<(), FieldError> {
    if end <= start {
        return Err(FieldError::new(field, "must be after the start"));
    }
    Ok(())
}

/// The password rules' limits. Defaults: 12–128 chars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordPolicy {
    /// Fewest chars accepted.
    pub min_len: usize,
    /// Most chars accepted (argon2 would take more; this bounds the hashing cost of a request).
    pub max_len: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_len: 12,
            max_len: 128,
        }
    }
}

/// Every way `password` breaks `policy` (empty when it is acceptable): length in chars, a
/// common password (case-insensitive), or containing the email's local part (case-insensitive,
/// only when that part has 3 chars or more, since shorter ones match by chance). The password is
/// taken as typed: no trimming, spaces count.
pub fn validate_password(
    field: impl Into<Cow<'static, str>>,
    password: &str,
    email: Option<&Email>,
    policy: &PasswordPolicy,
) -> ValidationErrors {
    let field: Cow<'static, str> = field.into();
    let mut errors = ValidationErrors::new();
    let count = password.chars().count();
    if count < policy.min_len {
        errors.push(field.clone(), format!("must be at least {} characters", policy.min_len));
    }
    if count > policy.max_len {
        errors.push(field.clone(), format!("must be at most {} characters", policy.max_len));
    }
    if is_common_password(password) {
        errors.push(field.clone(), "is too common");
    }
    if let Some(email) = email {
        let local = email.local_part();
        if local.chars().count() >= 3 && password.to_lowercase().contains(local) {
            errors.push(field, "must not contain your email address");
        }
    }
    errors
}

/// True when `password` is, ignoring case, one of the built-in most common passwords.
pub fn is_common_password(password: &str) -> bool {
    let lowered = password.to_lowercase();
    COMMON_PASSWORDS.contains(&lowered.as_str())
}

/// The most common passwords of public breach compilations, lower-cased, plus the long ones that
/// a 12-char minimum does not already stop.
const COMMON_PASSWORDS: &[&str] = &[
    "123456",
    "password",
    "12345678",
    "qwerty",
    "123456789",
    "12345",
    "1234",
    "111111",
    "1234567",
    "dragon",
    "123123",
    "baseball",
    "abc123",
    "football",
    "monkey",
    "letmein",
    "696969",
    "shadow",
    "master",
    "666666",
    "qwertyuiop",
    "123321",
    "mustang",
    "1234567890",
    "michael",
    "654321",
    "superman",
    "1qaz2wsx",
    "7777777",
    "121212",
    "000000",
    "qazwsx",
    "123qwe",
    "killer",
    "trustno1",
    "jordan",
    "jennifer",
    "zxcvbnm",
    "asdfgh",
    "hunter",
    "buster",
    "soccer",
    "harley",
    "batman",
    "andrew",
    "tigger",
    "sunshine",
    "iloveyou",
    "2000",
    "charlie",
    "robert",
    "thomas",
    "hockey",
    "ranger",
    "daniel",
    "starwars",
    "klaster",
    "112233",
    "george",
    "computer",
    "michelle",
    "jessica",
    "pepper",
    "1111",
    "zxcvbn",
    "555555",
    "11111111",
    "131313",
    "freedom",
    "777777",
    "pass",
    "maggie",
    "159753",
    "aaaaaa",
    "ginger",
    "princess",
    "joshua",
    "cheese",
    "amanda",
    "summer",
    "love",
    "ashley",
    "nicole",
    "chelsea",
    "biteme",
    "matthew",
    "access",
    "yankees",
    "987654321",
    "dallas",
    "austin",
    "thunder",
    "taylor",
    "matrix",
    "admin",
    "welcome",
    "login",
    "passw0rd",
    "password1",
    "qwerty123",
    "1q2w3e4r",
    "user",
    "contraseña",
    "contrasena",
    "colombia",
    "123456789012",
    "1234567890123",
    "111111111111",
    "000000000000",
    "123123123123",
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "qwertyuiop123",
    "qwerty123456",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "iloveyou1234",
    "administrator",
    "letmein12345",
    "welcome12345",
    "changeme1234",
    "abcdefghijkl",
    "abc123abc123",
    "qwertyqwerty",
    "asdfghjkl123",
    "trustno1trustno1",
];

#[cfg(test)]
mod tests {
    use super::COMMON_PASSWORDS;

    #[test]
    fn common_list_is_lowercase_and_unique() {
        for (i, p) in COMMON_PASSWORDS.iter().enumerate() {
            assert_eq!(*p, p.to_lowercase(), "{p} must be stored lower-cased");
            assert!(!COMMON_PASSWORDS[..i].contains(p), "{p} is listed twice");
        }
        assert!(COMMON_PASSWORDS.len() >= 100);
    }
}
