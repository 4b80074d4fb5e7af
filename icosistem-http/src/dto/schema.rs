//! Schema helpers that take a field's rule from the core, so the OpenAPI document states what the
//! validators enforce: an enum's accepted values are the core type's `ALL` names, not a copy.
//!
//! Bounds that JSON Schema carries as literals (`maxLength = 200`) are pinned to the core's
//! validators by the agreement test of `crate::openapi`.

use icosistem_core::model::value::Currency;
use icosistem_core::model::value::{Email, Name, PersonName, Url};
use icosistem_core::model::{
    ApplicationStatus, ClientType, DocumentAccess, DocumentType, EnrollmentStatus, EntrepreneurStage, FundingStage,
    MeetingStatus, MemberRole, MentorshipStatus, MilestoneStatus, NotificationStatus, OrganizationStatus,
    OrganizationType, OutboxChannel, OutboxStatus, ParticipantResponse, Priority, ProgramFormat, ProgramStatus,
    ProgramType, ProjectStage, ProjectStatus, ProjectType, Role, SessionStatus, TaskStatus, UserStatus,
};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{Object, schema::SchemaType};

/// A closed set of names the core accepts for a field.
pub trait Vocabulary {
    /// Every accepted name, in the core's order.
    fn names() -> Vec<&'static str>;
}

macro_rules! vocabularies {
    ($($ty:ty),+ $(,)?) => {$(
        impl Vocabulary for $ty {
            fn names() -> Vec<&'static str> {
                <$ty>::ALL.iter().map(|value| value.as_str()).collect()
            }
        }
    )+};
}

vocabularies!(
    ApplicationStatus,
    ClientType,
    EnrollmentStatus,
    EntrepreneurStage,
    DocumentAccess,
    DocumentType,
    FundingStage,
    MeetingStatus,
    MemberRole,
    MentorshipStatus,
    MilestoneStatus,
    NotificationStatus,
    OrganizationStatus,
    OrganizationType,
    OutboxChannel,
    OutboxStatus,
    ParticipantResponse,
    Priority,
    ProgramFormat,
    ProgramStatus,
    ProgramType,
    ProjectStage,
    ProjectStatus,
    ProjectType,
    Role,
    SessionStatus,
    TaskStatus,
    UserStatus,
);

impl Vocabulary for Currency {
    fn names() -> Vec<&'static str> {
        Currency::ALL.iter().map(|c| c.code()).collect()
    }
}

/// A string that is one of `T`'s names.
pub fn one_of<T: Vocabulary>() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(T::names()))
        .build()
}

/// One of `T`'s names, or `null` (an optional field: `null` is the same as absent).
pub fn one_of_or_null<T: Vocabulary>() -> Object {
    let mut names: Vec<serde_json::Value> = T::names().into_iter().map(Into::into).collect();
    names.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(names))
        .build()
}

/// One of `T`'s names, or empty (a query filter: empty is the same as absent).
pub fn one_of_or_empty<T: Vocabulary>() -> Object {
    let mut names = T::names();
    names.push("");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

/// The roles one may register as: every role but `admin` (admins are created by admins).
pub fn self_registered_role() -> Object {
    let names: Vec<&str> = Role::ALL
        .iter()
        .filter(|role| **role != Role::Admin)
        .map(|role| role.as_str())
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

/// A tax id as the core's `parse_tax_id` takes it: at least 5 ASCII letters or digits and at
/// most 50 characters; empty or `null` is none. Any separators are allowed, as there.
pub fn tax_id() -> Object {
    ObjectBuilder::new()
        .description(Some(
            "Tax id: at least 5 letters or digits, at most 50 characters, unique; empty or `null`: none.",
        ))
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(50))
        .pattern(Some(r"^(?:(?:[^A-Za-z0-9]*[A-Za-z0-9]){5}|\s*$)"))
        .build()
}

/// The characters `str::trim` removes (Unicode `White_Space`) as a regex class body. The
/// validators trim before they check, so a pattern allows these around a value. Listed rather
/// than `\s`: the regex dialects of JSON Schema users disagree on `\s` (ECMA-262 includes
/// U+FEFF, Python's `re` U+001C–U+001F), and neither is exactly Rust's `char::is_whitespace`.
const TRIMMED: &str = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// `char::is_control` (Unicode `Cc`) as a regex class body.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// What a trimmed text may contain between its first and last character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inside {
    /// A name (`Name`, `PersonName`): one line, no control character anywhere.
    Line,
    /// Free text (`bounded_text`, `optional_text`): anything.
    Any,
}

/// The exact regex of a text the core trims and then counts: any run of whitespace around a
/// trimmed value of `min..=max` chars (`min == 0`: blank is allowed, the core's "none").
fn trimmed_pattern(inside: Inside, min: usize, max: usize) -> String {
    assert!(max >= 2 && min <= max, "a trimmed text's bounds: {min}..={max}");
    let around = format!("[{TRIMMED}]*");
    let (edge, inner) = match inside {
        Inside::Line => (format!("[^{TRIMMED}{CONTROL}]"), format!("[^{CONTROL}]")),
        Inside::Any => (format!("[^{TRIMMED}]"), r"[\s\S]".to_owned()),
    };
    let value = if min >= 2 {
        format!("{edge}{inner}{{{},{}}}{edge}", min - 2, max - 2)
    } else {
        format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2)
    };
    if min == 0 {
        format!("^{around}(?:{value})?{around}$")
    } else {
        format!("^{around}{value}{around}$")
    }
}

/// The one schema of a text the core trims and length-checks: its exact `pattern` (the
/// trimmed value's bounds and characters) and the bounds as `x-trimmed-length`, for the
/// agreement test and for clients that trim. No `minLength`/`maxLength`: they would count the
/// raw text, and the core takes any whitespace around a value that fits.
fn exact_trimmed_text(inside: Inside, min: usize, max: usize, nullable: bool) -> Object {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    // `schema_with` replaces the field's doc comment, so the rule is the description.
    let what = match inside {
        Inside::Line => "one line without control characters",
        Inside::Any => "any text",
    };
    let description = match (min, nullable) {
        (0, _) => format!("Trimmed, at most {max} characters, {what}; blank or `null`: none."),
        (_, true) => format!("Trimmed, {min}–{max} characters, {what}; `null`: unchanged."),
        (_, false) => format!("Trimmed, {min}–{max} characters, {what}."),
    };
    ObjectBuilder::new()
        .description(Some(description))
        .schema_type(schema_type)
        .pattern(Some(trimmed_pattern(inside, min, max)))
        .extensions(Some(
            ExtensionsBuilder::new()
                .add("x-trimmed-length", serde_json::json!({"min": min, "max": max}))
                .build(),
        ))
        .build()
}

/// A text of one line the core trims and length-checks, like `Name` and `PersonName`
/// (`schema_with = line::<2, 80>`); absent keeps the value where the field is optional.
pub fn line<const MIN: usize, const MAX: usize>() -> Object {
    exact_trimmed_text(Inside::Line, MIN, MAX, false)
}

/// [`line`](fn@line), or `null` (the same as absent).
pub fn line_or_null<const MIN: usize, const MAX: usize>() -> Object {
    exact_trimmed_text(Inside::Line, MIN, MAX, true)
}

/// An organization's, program's or project's name (`Name`).
pub fn name() -> Object {
    line::<{ Name::MIN_LEN }, { Name::MAX_LEN }>()
}

/// An optional [`name`]: `null` is the same as absent.
pub fn name_or_null() -> Object {
    line_or_null::<{ Name::MIN_LEN }, { Name::MAX_LEN }>()
}

/// A person's given or family name (`PersonName`).
pub fn person_name() -> Object {
    line::<{ PersonName::MIN_LEN }, { PersonName::MAX_LEN }>()
}

/// An optional [`person_name`]: `null` is the same as absent.
pub fn person_name_or_null() -> Object {
    line_or_null::<{ PersonName::MIN_LEN }, { PersonName::MAX_LEN }>()
}

/// Free text the core trims and length-checks (`bounded_text`): `MIN..=MAX` chars.
pub fn text<const MIN: usize, const MAX: usize>() -> Object {
    exact_trimmed_text(Inside::Any, MIN, MAX, false)
}

/// [`text`] or `null`. With `MIN == 0` the core's `optional_text`: blank or `null` is none
/// (or clears the field, where `null` does).
pub fn text_or_null<const MIN: usize, const MAX: usize>() -> Object {
    exact_trimmed_text(Inside::Any, MIN, MAX, true)
}

/// The exact regex of the core's `Email::parse`: trimmed, ASCII lower-cased, then
/// `^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$`.
fn email_pattern() -> String {
    format!(r"^[{TRIMMED}]*[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{{2,}}[{TRIMMED}]*$")
}

fn email_schema(nullable: bool) -> Object {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .description(Some(if nullable {
            "An email address (case and surrounding whitespace are normalised away); `null`: none."
        } else {
            "An email address (case and surrounding whitespace are normalised away)."
        }))
        .schema_type(schema_type)
        .max_length(Some(Email::MAX_LEN))
        .pattern(Some(email_pattern()))
        .build()
}

/// An email address as the core's `Email::parse` takes it (case and surrounding whitespace are
/// normalised away; at most 254 chars).
pub fn email() -> Object {
    email_schema(false)
}

/// An optional email address; `null` is none (or clears it).
pub fn email_or_null() -> Object {
    email_schema(true)
}

/// The regex of the core's `Url::parse`: optional `http(s)://` (any case), a host (a dotted
/// domain whose last label has a letter, `localhost` or an IPv4 address), an optional port
/// 1–65535, then an optional path, query or fragment without whitespace or control characters.
/// A little stricter than the core where a regex cannot count (labels of at most 32 and at most
/// six of them, a tail of at most 1,700 chars), so the normalised URL stays within 2048 chars
/// and the domain within 253: every URL it allows is taken.
fn url_pattern() -> String {
    url_pattern_with_scheme("(?:[Hh][Tt][Tt][Pp][Ss]?://)?")
}

/// [`url_pattern`] with `scheme` (a regex) in front of the host.
fn url_pattern_with_scheme(scheme: &str) -> String {
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?";
    let tld = "(?:[A-Za-z][A-Za-z0-9-]{0,30}[A-Za-z0-9]|[0-9][0-9-]{0,14}[A-Za-z](?:[A-Za-z0-9-]{0,14}[A-Za-z0-9])?)";
    let octet = "(?:[0-9]{1,2}|[01][0-9]{2}|2[0-4][0-9]|25[0-5])";
    let port = "(?:0{0,4}[1-9]|0{0,3}[1-9][0-9]|0{0,2}[1-9][0-9]{2}|0?[1-9][0-9]{3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
    format!(
        r"^[{TRIMMED}]*{scheme}(?:[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]|{octet}(?:\.{octet}){{3}}|(?:{label}\.){{1,5}}{tld})(?::{port})?(?:[/?#][^{TRIMMED}{CONTROL}]{{0,1700}})?[{TRIMMED}]*$"
    )
}

/// An optional web address as the core's `Url::parse` takes it; `null` is none (or clears it).
pub fn url_or_null() -> Object {
    ObjectBuilder::new()
        .description(Some(
            "A web address: `http(s)://` (added when missing), a domain, localhost or IPv4 host, an optional port and path; `null`: none.",
        ))
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(Url::MAX_LEN))
        .pattern(Some(url_pattern()))
        .build()
}

/// A required token or secret the server checks itself: anything but blank (blank is 422,
/// a wrong one its own answer).
pub fn non_blank() -> Object {
    ObjectBuilder::new()
        .description(Some("Required: not blank."))
        .schema_type(Type::String)
        .pattern(Some(format!("[^{TRIMMED}]")))
        .build()
}

/// A blank string (the same as absent where a value is optional).
fn blank() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[{TRIMMED}]*$")))
        .build()
}

/// What a UUID filter of a query (or header) accepts: a UUID, or empty (no filter).
pub const UUID_OR_EMPTY: &str = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$";

/// An optional id of a query filter: a UUID, or empty (no filter).
pub fn uuid_or_empty() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(UUID_OR_EMPTY))
        .build()
}

/// An optional instant of a query filter: RFC 3339, or blank (no filter).
pub fn instant_or_blank() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::AnyOfBuilder::new()
        .description(Some("An RFC 3339 instant (`2030-03-05T10:00:00Z`); blank: no filter."))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .item(blank())
        .build()
        .into()
}

/// An optional id of a body (UUID); blank or `null` is none.
pub fn uuid_or_blank() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::AnyOfBuilder::new()
        .description(Some("A UUID; blank or `null`: none."))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .item(blank())
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// A local clock time as the slots take it: `HH:MM` or `HH:MM:SS` (trimmed).
pub fn clock_time() -> Object {
    ObjectBuilder::new()
        .description(Some("A local time `HH:MM` (or `HH:MM:SS`), required."))
        .schema_type(Type::String)
        .pattern(Some(format!(
            "^[{TRIMMED}]*(?:[01]?[0-9]|2[0-3]):[0-5]?[0-9](?::(?:[0-5]?[0-9]|60))?[{TRIMMED}]*$"
        )))
        .build()
}

/// An email filter of a list: an address as `Email::parse` takes it, or blank (no filter).
pub fn email_or_blank() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::AnyOfBuilder::new()
        .description(Some("An email address; blank: no filter."))
        .item(email_schema(false))
        .item(blank())
        .build()
        .into()
}

/// The regex of the core's `Phone::parse`: `+` then 8–15 digits, the first not 0, with
/// whitespace, dashes, dots and parentheses allowed anywhere (they are dropped).
fn phone_pattern() -> String {
    let separators = format!("[{TRIMMED}().-]*");
    format!(r"^{separators}\+{separators}[1-9](?:{separators}[0-9]){{7,14}}{separators}$")
}

/// A nullable string matching `pattern`.
fn shaped_or_null(description: &str, pattern: String) -> Object {
    ObjectBuilder::new()
        .description(Some(description))
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(pattern))
        .build()
}

/// An optional phone number (E.164 once its separators are dropped); `null` clears it.
pub fn phone_or_null() -> Object {
    shaped_or_null(
        "A phone number in E.164 (`+` then 8–15 digits); spaces, dashes, dots and parentheses are dropped; `null`: none.",
        phone_pattern(),
    )
}

/// An optional two-letter language code (any case, trimmed); `null` keeps it.
pub fn language_or_null() -> Object {
    shaped_or_null(
        "A two-letter language code; `null`: unchanged.",
        format!("^[{TRIMMED}]*[A-Za-z]{{2}}[{TRIMMED}]*$"),
    )
}

/// A webhook target as the core's `webhook_url` takes it, in its production form: `https://`,
/// then a web address as [`url_or_null`] describes. (Plain `http://` to a loopback host, for
/// development and tests, is accepted too but not advertised.)
pub fn webhook_url() -> Object {
    webhook_url_schema(false)
}

/// [`webhook_url`], or `null` (unchanged).
pub fn webhook_url_or_null() -> Object {
    webhook_url_schema(true)
}

fn webhook_url_schema(nullable: bool) -> Object {
    let (schema_type, null) = if nullable {
        (SchemaType::from_iter([Type::String, Type::Null]), "; `null`: unchanged")
    } else {
        (SchemaType::Type(Type::String), "")
    };
    ObjectBuilder::new()
        .description(Some(format!(
            "An https web address: `https://`, a domain, localhost or IPv4 host, an optional port and path{null}."
        )))
        .schema_type(schema_type)
        .max_length(Some(Url::MAX_LEN))
        .pattern(Some(url_pattern_with_scheme("https://")))
        .build()
}

/// The event types a webhook endpoint receives: at least one of the core's
/// [`event_types`](icosistem_core::model::webhook::event_types).
pub fn webhook_events() -> utoipa::openapi::schema::Array {
    webhook_events_schema(false)
}

/// [`webhook_events`], or `null` (unchanged).
pub fn webhook_events_or_null() -> utoipa::openapi::schema::Array {
    webhook_events_schema(true)
}

fn webhook_events_schema(nullable: bool) -> utoipa::openapi::schema::Array {
    let item = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(icosistem_core::model::webhook::event_types()))
        .build();
    let array = utoipa::openapi::schema::ArrayBuilder::new()
        .items(item)
        .min_items(Some(1))
        .description(Some("Event types to receive, at least one."));
    if nullable {
        array
            .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
            .build()
    } else {
        array.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patterns are plain (classes, counted repeats, no lookaround), so every regex dialect
    /// reads them alike; the `regex` crate stands in for a client's.
    fn matches(pattern: &str, value: &str) -> bool {
        regex::Regex::new(pattern).expect("a valid pattern").is_match(value)
    }

    #[test]
    fn the_trimmed_text_pattern_is_the_core_rule() {
        use icosistem_core::model::value::{Name, bounded_text, optional_text};
        let line = trimmed_pattern(Inside::Line, Name::MIN_LEN, Name::MAX_LEN);
        let text = trimmed_pattern(Inside::Any, 3, 10);
        let optional = trimmed_pattern(Inside::Any, 0, 10);
        let long = "x".repeat(Name::MAX_LEN);
        let too_long = "x".repeat(Name::MAX_LEN + 1);
        for value in [
            "ab",
            " ab ",
            "\u{3000}a b\t",
            "a",
            "  a  ",
            "a\nb",
            "a\u{85}b",
            "\u{85}ab",
            &long,
            &too_long,
        ] {
            assert_eq!(matches(&line, value), Name::parse(value).is_ok(), "name {value:?}");
        }
        for value in [
            "abc",
            " a\nc ",
            "ab",
            "          x",
            "abcdefghij",
            "abcdefghijk",
            "\u{feff}ab",
        ] {
            assert_eq!(
                matches(&text, value),
                bounded_text("t", value, 3, 10).is_ok(),
                "text {value:?}"
            );
            assert_eq!(
                matches(&optional, value),
                optional_text("t", Some(value), 10).is_ok(),
                "optional {value:?}"
            );
        }
        for value in ["", "   "] {
            assert!(matches(&optional, value));
        }
    }

    #[test]
    fn the_url_pattern_is_the_core_rule_for_ordinary_urls() {
        let cases = [
            "https://example.org",
            " HTTP://Example.ORG:8080/a?b#c ",
            "example.org/path",
            "localhost:3000",
            "127.0.0.1",
            "999.1.1.1",
            "1.2.3",
            "ftp://example.org",
            "https://user@example.org",
            "https://example.org:0",
            "https://example.org:65536",
            "https://example.org:00080",
            "https://a.b1",
            "https://a.12",
            "https://-a.org",
            "https://a-.org",
            "https://ex ample.org",
            "https://example.org/a b",
            "a.0a",
            "https://example",
            "0.A0",
        ];
        for value in cases {
            assert_eq!(matches(&url_pattern(), value), Url::parse(value).is_ok(), "{value:?}");
        }
    }

    #[test]
    fn the_phone_pattern_is_the_core_rule() {
        use icosistem_core::model::value::Phone;
        for value in [
            "+573001234567",
            " +57 (300) 123-45.67 ",
            "+0123456789",
            "+1234567",
            "+12345678",
            "573001234567",
            "+1234567890123456",
            "+57a3001234567",
        ] {
            assert_eq!(
                matches(&phone_pattern(), value),
                Phone::parse(value).is_ok(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_email_pattern_is_the_core_rule() {
        for value in [
            "a@b.co",
            " A.B+c@Example.ORG ",
            "a@b.c",
            "a@.co",
            "@b.co",
            "a@b.c0",
            "a b@c.de",
            "a@b@c.de",
            "a@b.cd\u{212a}",
        ] {
            assert_eq!(
                matches(&email_pattern(), value),
                Email::parse(value).is_ok(),
                "{value:?}"
            );
        }
    }
}
