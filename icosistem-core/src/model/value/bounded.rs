//! Small integers within a fixed range.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ValueError;

macro_rules! bounded_u8 {
    ($(#[$meta:meta])* $name:ident, $min:literal, $max:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u8);

        impl $name {
            /// The smallest accepted value.
            pub const MIN: $name = $name($min);
            /// The largest accepted value.
            pub const MAX: $name = $name($max);

            /// `value` if it is within the range.
            pub fn new(value: impl Into<i64>) -> Result<Self, ValueError> {
                let value: i64 = value.into();
                if !($min..=$max).contains(&value) {
                    return Err(ValueError::new(concat!(
                        "must be between ",
                        stringify!($min),
                        " and ",
                        stringify!($max)
                    )));
                }
                u8::try_from(value)
                    .map(Self)
                    .map_err(|_| ValueError::new("out of range"))
            }

            /// The value.
            pub const fn get(self) -> u8 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> u8 {
                value.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = ValueError;
            fn try_from(value: i64) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u8(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // Through i64 so that 300 gets our message, not serde's "expected u8".
                let raw = i64::deserialize(deserializer)?;
                Self::new(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

bounded_u8!(
    /// A percentage, 0–100 (progress, equity, success rate …).
    Percent, 0, 100
);
bounded_u8!(
    /// A rating, 1–5 (session feedback, evaluations).
    Rating, 1, 5
);
bounded_u8!(
    /// A review score, 0–100 (application review).
    Score, 0, 100
);
