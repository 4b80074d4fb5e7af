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

// ---------------------------------------------------------------------------------------------
// Money

/// The currencies amounts can be in (ISO 4217 codes on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// Colombian peso.
    Cop,
    /// US dollar.
    Usd,
    /// Euro.
    Eur,
    /// Mexican peso.
    Mxn,
}

impl Currency {
    /// Every currency, in declaration order.
    pub const ALL: [Currency; 4] = [Currency::Cop, Currency::Usd, Currency::Eur, Currency::Mxn];

    /// The ISO 4217 code (`COP`).
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Cop => "COP",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Mxn => "MXN",
        }
    }

    /// How many minor units make one major unit, as a power of ten (ISO 4217 exponent: 2 for
    /// all four).
    pub const fn minor_digits(self) -> u32 {
        match self {
            Currency::Cop | Currency::Usd | Currency::Eur | Currency::Mxn => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim();
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| ValueError::new("must be one of COP, USD, EUR, MXN"))
    }
}

/// An amount of money in integer minor units (cents), never negative, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

impl Money {
    /// `amount_minor` of `currency`; refuses a negative amount.
    pub fn new(amount_minor: i64, currency: Currency) -> Result<Self, ValueError> {
        if amount_minor < 0 {
            return Err(ValueError::new("must not be negative"));
        }
        Ok(Self { amount_minor, currency })
    }

    /// Nothing, in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self {
            amount_minor: 0,
            currency,
        }
    }

    /// The amount in minor units (≥ 0).
    pub const fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// True when the amount is zero.
    pub const fn is_zero(&self) -> bool {
        self.amount_minor == 0
    }

    /// The sum; refuses mixed currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, ValueError> {
        self.same_currency(other)?;
        let amount_minor = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or_else(|| ValueError::new("amount is too large"))?;
        Ok(Money {
            amount_minor,
            currency: self.currency,
        })
    }

    /// The difference; refuses mixed currencies and a negative result.
    pub fn checked_sub(self, other: Money) -> Result<Money, ValueError> {
        self.same_currency(other)?;
        Money::new(self.amount_minor - other.amount_minor, self.currency)
    }

    fn same_currency(self, other: Money) -> Result<(), ValueError> {
        if self.currency != other.currency {
            return Err(ValueError::new(format!(
                "currency mismatch: {} and {}",
                self.currency, other.currency
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Money {
    /// `1234.50 COP`: the minor units placed by the currency's exponent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let scale = 10_i64.pow(digits);
        let width = usize::try_from(digits).unwrap_or(2);
        write!(
            f,
            "{}.{:0width$} {}",
            self.amount_minor / scale,
            self.amount_minor % scale,
            self.currency
        )
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            amount_minor: i64,
            currency: Currency,
        }
        let raw = Raw::deserialize(deserializer)?;
        Money::new(raw.amount_minor, raw.currency).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded integers

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

// ---------------------------------------------------------------------------------------------
// Url

/// An http(s) URL: a missing scheme gets `https://`; the host is a dotted domain, `localhost` or
/// an IPv4 address, with an optional port, path and query; at most 2048 chars; no whitespace,
/// no credentials. Scheme and host are lower-cased, the rest is kept as given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Url(String);

impl Url {
    /// Longest URL, in chars.
    pub const MAX_LEN: usize = 2048;

    /// Normalises and validates `input`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValueError::new(REQUIRED));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValueError::new("must not contain whitespace"));
        }
        let (scheme, rest) = match split_scheme(s) {
            Some((scheme, rest)) => {
                let scheme = scheme.to_ascii_lowercase();
                if scheme != "http" && scheme != "https" {
                    return Err(ValueError::new("must use http or https"));
                }
                (scheme, rest)
            }
            None => ("https".to_owned(), s),
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(ValueError::new("must not contain credentials"));
        }
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(parse_port(port)?)),
            None => (authority, None),
        };
        let host = host.to_ascii_lowercase();
        if !(host == "localhost" || is_ipv4(&host) || is_domain(&host)) {
            return Err(ValueError::new(
                "must have a valid host (a domain, localhost or an IPv4 address)",
            ));
        }
        let normalised = match port {
            Some(port) => format!("{scheme}://{host}:{port}{tail}"),
            None => format!("{scheme}://{host}{tail}"),
        };
        if normalised.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(length_message(0, Self::MAX_LEN)));
        }
        Ok(Self(normalised))
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.0.split_once("://").map_or("https", |(scheme, _)| scheme)
    }

    /// The lower-cased host, without port.
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map_or(self.0.as_str(), |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        authority.split(':').next().unwrap_or(authority)
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        let rest = self.0.split_once("://").map_or(self.0.as_str(), |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        authority.split_once(':').and_then(|(_, port)| port.parse().ok())
    }
}

string_value!(Url);

/// `Some((scheme, rest))` when `s` starts with `scheme://`. A `://` later on (in a query, say)
/// is not a scheme: the scheme must be the leading run of RFC 3986 scheme characters.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some((scheme, rest))
}

fn parse_port(port: &str) -> Result<u16, ValueError> {
    let invalid = || ValueError::new("must have a port between 1 and 65535");
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(invalid()),
        Ok(n) => Ok(n),
    }
}

fn is_ipv4(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            (1..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

fn is_domain(host: &str) -> bool {
    if host.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let labels_ok = labels.iter().all(|label| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    // An all-digit TLD would make `999.1.1.1` a "domain"; real TLDs always have a letter.
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && tld.bytes().any(|b| b.is_ascii_lowercase()));
    labels.len() >= 2 && labels_ok && tld_ok
}

// ---------------------------------------------------------------------------------------------
// Phone

/// A phone number in E.164: `+` then 8–15 digits, the first 1–9. Spaces, dashes, dots and
/// parentheses of the input are dropped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Phone(String);

impl Phone {
    /// Normalises and validates `input`.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let cleaned: String = input
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')))
            .collect();
        if cleaned.is_empty() {
            return Err(ValueError::new(REQUIRED));
        }
        let shape_ok = cleaned.strip_prefix('+').is_some_and(|digits| {
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
        });
        if !shape_ok {
            return Err(ValueError::new(
                "must be in E.164 format: + then 8 to 15 digits, not starting with 0",
            ));
        }
        Ok(Self(cleaned))
    }

    /// The digits, without the `+`.
    pub fn digits(&self) -> &str {
        self.0.strip_prefix('+').unwrap_or(&self.0)
    }
}

string_value!(Phone);

// ---------------------------------------------------------------------------------------------
// Time zone and language

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_derive_keeps_words() {
        assert_eq!(Slug::derive("Café Émprende 2025!").as_str(), "cafe-emprende-2025");
        assert_eq!(Slug::derive("Women's Startup Lab").as_str(), "womens-startup-lab");
        assert_eq!(Slug::derive("  --  ").as_str(), "item");
    }

    #[test]
    fn money_display_places_decimals() {
        let m = Money::new(123_405, Currency::Cop).expect("valid");
        assert_eq!(m.to_string(), "1234.05 COP");
    }
}
