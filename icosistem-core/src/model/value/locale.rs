//! How a person reads times and text: time zone and language.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{REQUIRED, ValueError};

/// An IANA-looking time zone name: `UTC` or `Area/Location[/Sub]` with parts of
/// `[A-Za-z0-9_+-]`. Only the shape is checked, not that the zone exists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Longest name accepted (real ones stay under 40).
    pub const MAX_LEN: usize = 64;

    /// Validates `input` against the IANA time zone database (surrounding whitespace ignored,
    /// case kept: `America/Bogota`).
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValueError::new(REQUIRED));
        }
        if s.len() > Self::MAX_LEN || s.parse::<chrono_tz::Tz>().is_err() {
            return Err(ValueError::new(
                "must be an IANA time zone name such as UTC or America/Bogota",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The zone, for converting local times.
    pub fn tz(&self) -> chrono_tz::Tz {
        // Every stored name was parsed by `parse`, which checked it names a zone.
        self.0.parse().unwrap_or(chrono_tz::UTC)
    }

    /// `UTC`.
    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        Self::utc()
    }
}

string_value!(TimeZoneName);

/// A two-letter lowercase language code (`es`, `en`); defaults to `es`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Language(String);

impl Language {
    /// Trims, lower-cases and validates `input`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(ValueError::new(REQUIRED));
        }
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(ValueError::new("must be a two-letter language code"));
        }
        Ok(Self(s))
    }

    /// Spanish, the platform's default.
    pub fn spanish() -> Self {
        Self("es".to_owned())
    }

    /// English.
    pub fn english() -> Self {
        Self("en".to_owned())
    }
}

impl Default for Language {
    fn default() -> Self {
        Self::spanish()
    }
}

string_value!(Language);
