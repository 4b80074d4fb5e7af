//! Validated value types: once a value of one of these types exists, it is valid.
//!
//! Every type is built by a fallible `parse`/`new` that normalises (trims, lower-cases …) and
//! validates, and deserialisation goes through that same constructor, so an invalid value cannot
//! enter the domain through JSON either. Constructors answer a field-less [`ValueError`]; the
//! caller names the field with [`ValueError::at`] or, on a `Result`, with [`AtField::at`]:
//!
//! ```
//! # use icosistem_core::model::value::{AtField, Email};
//! # use icosistem_core::error::FieldError;
//! let email = Email::parse("  Ana@Example.ORG ").at("email")?;
//! assert_eq!(email.as_str(), "ana@example.org");
//! # Ok::<(), FieldError>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldError;

/// Why a value was refused, without the field it came from (the caller knows that).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValueError {
    message: Cow<'static, str>,
}

impl ValueError {
    /// A refusal for `message` (a short human reason such as `must be a valid email address`).
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The human reason.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// This refusal as the failure of `field`.
    pub fn at(self, field: impl Into<Cow<'static, str>>) -> FieldError {
        FieldError::new(field, self.message)
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// Names the field of a constructor's refusal: `Email::parse(s).at("email")?`.
pub trait AtField<T> {
    /// The result with its [`ValueError`] turned into a [`FieldError`] of `field`.
    fn at(self, field: impl Into<Cow<'static, str>>) -> Result<T, FieldError>;
}

impl<T> AtField<T> for Result<T, ValueError> {
    fn at(self, field: impl Into<Cow<'static, str>>) -> Result<T, FieldError> {
        self.map_err(|e| e.at(field))
    }
}

const REQUIRED: &str = "is required";

fn length_message(min: usize, max: usize) -> String {
    if min == 0 {
        format!("must be at most {max} characters")
    } else {
        format!("must be between {min} and {max} characters")
    }
}

/// Checks the char count of an already trimmed `value`.
fn check_chars(value: &str, min: usize, max: usize) -> Result<(), ValueError> {
    let count = value.chars().count();
    if count < min || count > max {
        return Err(ValueError::new(length_message(min, max)));
    }
    Ok(())
}

/// Cuts `s` to at most `max` bytes without splitting a char.
fn truncate_on_boundary(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
}

/// The common trait impls of a `String` newtype whose `parse(&str) -> Result<Self, ValueError>`
/// is the only way in.
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The normalised text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ValueError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

// The submodules use `string_value!`, so they are declared after it.
mod bounded;
mod contact;
mod locale;
mod money;

pub use bounded::{Percent, Rating, Score};
pub use contact::{Phone, Url};
pub use locale::{Language, TimeZoneName};
pub use money::{Currency, Money};

// ---------------------------------------------------------------------------------------------
// Email

/// An email address: trimmed, lower-cased, `local@domain.tld`, at most 254 chars.
///
/// The accepted shape is exactly `^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$` after ASCII
/// lower-casing (the original system's regex). Only ASCII is lower-cased, so a non-ASCII letter
/// that Unicode would fold into ASCII (the Kelvin sign) is refused rather than silently changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

impl Email {
    /// Longest accepted address, in chars (RFC 5321's path limit).
    pub const MAX_LEN: usize = 254;

    /// Normalises and validates `input`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let normalised = input.trim().to_ascii_lowercase();
        if normalised.is_empty() {
            return Err(ValueError::new(REQUIRED));
        }
        if normalised.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(length_message(0, Self::MAX_LEN)));
        }
        if !email_shape_ok(&normalised) {
            return Err(ValueError::new("must be a valid email address"));
        }
        Ok(Self(normalised))
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(self.0.as_str(), |(local, _)| local)
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }
}

string_value!(Email);

fn email_shape_ok(s: &str) -> bool {
    // The domain class excludes `@`, so splitting at the first one is the regex's only split.
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._%+-".contains(&b));
    let domain_chars_ok = domain
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !local_ok || !domain_chars_ok {
        return false;
    }
    // The TLD has no dot, so the regex's `\.` before it can only be the last dot.
    let Some((host, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    !host.is_empty() && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_lowercase())
}

// ---------------------------------------------------------------------------------------------
// Slug

/// A URL slug: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 100 chars.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

impl Slug {
    /// Longest slug, in chars.
    pub const MAX_LEN: usize = 100;

    /// What [`Slug::derive`] answers for a name with no usable letter or digit.
    pub const FALLBACK: &'static str = "item";

    /// Validates `input` (surrounding whitespace is ignored; nothing else is changed).
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValueError::new(REQUIRED));
        }
        if s.len() > Self::MAX_LEN {
            return Err(ValueError::new(length_message(0, Self::MAX_LEN)));
        }
        if !slug_shape_ok(s) {
            return Err(ValueError::new(
                "must be lowercase letters and digits separated by single dashes",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug of any name: accents stripped, lower-cased, every run of other characters
    /// turned into one `-`, cut to 100 chars. Never fails: a name with nothing usable gives
    /// [`Slug::FALLBACK`].
    pub fn derive(name: &str) -> Self {
        let ascii = deunicode::deunicode(name);
        let mut out = String::with_capacity(ascii.len().min(Self::MAX_LEN + 1));
        let mut pending_dash = false;
        for c in ascii.chars() {
            if c.is_ascii_alphanumeric() {
                if pending_dash && !out.is_empty() {
                    out.push('-');
                }
                pending_dash = false;
                out.push(c.to_ascii_lowercase());
                if out.len() > Self::MAX_LEN {
                    break;
                }
            } else if c != '\'' {
                // Apostrophes vanish instead of splitting words: "Women's" → "womens".
                pending_dash = true;
            }
        }
        Self::cut(out, Self::MAX_LEN).map_or_else(|| Self(Self::FALLBACK.to_owned()), Self)
    }

    /// `base-n`, still at most 100 chars: the base is cut (never the suffix) to make room.
    /// Collisions of a unique slug take `-2`, `-3` …
    pub fn with_suffix(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let room = Self::MAX_LEN - suffix.len();
        // A valid slug starts with an alphanumeric, so cutting it never leaves it empty.
        let base = Self::cut(self.0.clone(), room).unwrap_or_else(|| Self::FALLBACK.to_owned());
        Self(base + &suffix)
    }

    /// Cuts an ASCII slug-shaped string to `max` bytes and drops dashes left at its end.
    fn cut(mut s: String, max: usize) -> Option<String> {
        truncate_on_boundary(&mut s, max);
        while s.ends_with('-') {
            s.pop();
        }
        (!s.is_empty()).then_some(s)
    }
}

string_value!(Slug);

fn slug_shape_ok(s: &str) -> bool {
    s.split('-')
        .all(|segment| !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------------
// Names and text

/// A person's name: trimmed, 2–80 chars, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonName(String);

impl PersonName {
    /// Shortest name, in chars.
    pub const MIN_LEN: usize = 2;
    /// Longest name, in chars.
    pub const MAX_LEN: usize = 80;

    /// Trims and validates `input`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        parse_name(input, Self::MIN_LEN, Self::MAX_LEN).map(Self)
    }
}

string_value!(PersonName);

/// The name of an organization, program, project …: trimmed, 2–200 chars, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// Shortest name, in chars.
    pub const MIN_LEN: usize = 2;
    /// Longest name, in chars.
    pub const MAX_LEN: usize = 200;

    /// Trims and validates `input`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        parse_name(input, Self::MIN_LEN, Self::MAX_LEN).map(Self)
    }
}

string_value!(Name);

fn parse_name(input: &str, min: usize, max: usize) -> Result<String, ValueError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(ValueError::new(REQUIRED));
    }
    check_chars(s, min, max)?;
    // A name is shown on one line in lists and emails; a newline or escape in it is an attack
    // or a paste accident, never intended.
    if s.chars().any(char::is_control) {
        return Err(ValueError::new("must not contain control characters"));
    }
    Ok(s.to_owned())
}

/// Required free text (title, description …): trimmed, then `min..=max` chars.
pub fn bounded_text(
    field: impl Into<Cow<'static, str>>,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, FieldError> {
    let s = value.trim();
    if s.is_empty() && min > 0 {
        return Err(FieldError::new(field, REQUIRED));
    }
    check_chars(s, min, max).at(field)?;
    Ok(s.to_owned())
}

/// Optional free text: trimmed; absent or blank gives `None`; otherwise at most `max` chars.
pub fn optional_text(
    field: impl Into<Cow<'static, str>>,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => {
            check_chars(s, 0, max).at(field)?;
            Ok(Some(s.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_derive_keeps_words() {
        assert_eq!(Slug::derive("Café Émprende 2025!").as_str(), "cafe-emprende-2025");
        assert_eq!(Slug::derive("Women's Startup Lab").as_str(), "womens-startup-lab");
        assert_eq!(Slug::derive("  --  ").as_str(), "item");
    }
}
