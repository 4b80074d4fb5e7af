//! Where a person or an organization is reached: web address and phone number.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{REQUIRED, ValueError, length_message};

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
