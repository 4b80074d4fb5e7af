//! [`Limits`]: every number of the domain that is a policy rather than a law, and its field table.
//!
//! The struct, its defaults and [`Limits::fields`] come from one declaration (the `limits!`
//! macro below), so a field added to `Limits` is settable by name — and from the server's
//! environment as `ICOSISTEM_LIMIT_<FIELD>` — without anyone remembering to wire it. Parsing and
//! checking are pure (no I/O): the server feeds it its environment, a test a map.

use chrono::Duration;

use crate::error::ValidationErrors;
use crate::rules::common::PasswordPolicy;

/// Generates [`Limits`], its `Default`, and one [`LimitField`] per settable value. A field whose
/// type groups several values (`password`) lists them after `=>`: each becomes its own row named
/// `<field>_<part>` (`password_min_len`).
macro_rules! limits {
    ($(
        $(#[doc = $doc:literal])+
        $field:ident : $ty:ty = $default:expr
        $(=> { $($(#[doc = $part_doc:literal])+ $part:ident),+ $(,)? })?
        ;
    )+) => {
        /// Every number of the domain that is a policy rather than a law, with docs/domain.md's
        /// defaults. Each value is settable by name ([`Limits::set`], [`Limits::fields`]).
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct Limits {
            $($(#[doc = $doc])+ pub $field: $ty,)+
        }

        impl Default for Limits {
            fn default() -> Self {
                Self { $($field: $default,)+ }
            }
        }

        impl Limits {
            /// Every settable value, in declaration order.
            pub fn fields() -> Vec<LimitField> {
                let mut rows = Vec::new();
                $(limits!(@rows rows, [$($doc)+], $field $(=> { $([$($part_doc)+] $part),+ })?);)+
                rows
            }
        }
    };
    (@rows $rows:ident, [$($doc:literal)+], $field:ident) => {
        $rows.push(LimitField {
            name: stringify!($field),
            doc: concat!($($doc, "\n"),+),
            expected: |limits| expected_of(&limits.$field),
            get: |limits| LimitValue::render(&limits.$field),
            set: |limits, raw| {
                limits.$field = LimitValue::parse(raw)?;
                Ok(())
            },
        });
    };
    (@rows $rows:ident, [$($doc:literal)+], $field:ident => { $([$($part_doc:literal)+] $part:ident),+ }) => {
        $($rows.push(LimitField {
            name: concat!(stringify!($field), "_", stringify!($part)),
            doc: concat!($($part_doc, "\n"),+),
            expected: |limits| expected_of(&limits.$field.$part),
            get: |limits| LimitValue::render(&limits.$field.$part),
            set: |limits, raw| {
                limits.$field.$part = LimitValue::parse(raw)?;
                Ok(())
            },
        });)+
    };
}

limits! {
    /// Projects in draft/active/paused per entrepreneur (default 5).
    max_active_projects: u32 = 5;
    /// Consecutive failed logins that lock an account (default 5).
    lockout_threshold: u32 = 5;
    /// How long a lockout lasts (default 15 min).
    lockout_duration: Duration = Duration::minutes(15);
    /// Email verification token lifetime (default 48 h).
    email_verification_ttl: Duration = Duration::hours(48);
    /// Password reset token lifetime (default 1 h).
    password_reset_ttl: Duration = Duration::hours(1);
    /// Refresh token lifetime (default 30 days).
    refresh_token_ttl: Duration = Duration::days(30);
    /// Whether unverified accounts may log in (default: they may not).
    require_verified_email: bool = true;
    /// Password rules (besides the common-password list and the email's local part).
    password: PasswordPolicy = PasswordPolicy::default() => {
        /// Fewest characters of a password (default 12; at most `password_max_len`).
        min_len,
        /// Most characters of a password: bounds the hashing cost of a request (default 128).
        max_len,
    };
    /// Outbox delivery attempts before a message is failed, a dead letter (default 8).
    outbox_max_attempts: u32 = 8;
    /// First retry delay of the outbox; doubles each attempt (default 1 min).
    outbox_retry_base: Duration = Duration::minutes(1);
    /// How far a retry delay is moved, either way, so messages that failed together do not
    /// all come back at once, in percent of the delay (default 25; 0 = exact doubling).
    outbox_retry_jitter_percent: Percent = Percent(25);
    /// Outbox messages of one channel delivered at once by a delivery round (default 4).
    outbox_delivery_concurrency: u32 = 4;
    /// A webhook endpoint whose deliveries keep failing this many hours is disabled and its
    /// organization's owners are told (default 72).
    webhook_disable_after_hours: u32 = 72;
    /// After a secret rotation, the previous secret still signs deliveries this long, so
    /// receivers can switch without losing events (default 24 h).
    webhook_secret_overlap: Duration = Duration::hours(24);
    /// Webhook endpoints per organization at most (default 20).
    max_webhooks_per_organization: u32 = 20;
    /// A calendar feed lists the sessions and meetings ending at most this long ago (cancelled
    /// ones marked cancelled) and every later one (default 30 days).
    calendar_feed_past: Duration = Duration::days(30);
    /// Sessions, and meetings, a calendar feed lists at most each, the most recently booked
    /// kept (default 500).
    calendar_feed_max_entries: u32 = 500;
    /// Largest upload (a document or a version of one), in bytes (default 16 MiB, the seed's
    /// `MAX_CONTENT_LENGTH`).
    max_upload_bytes: u64 = 16 * 1024 * 1024;
    /// Live documents a project holds at most (default 200).
    max_documents_per_project: u32 = 200;
    /// A stored blob no document version names is removed by the orphan sweep once it is this
    /// old; younger ones may belong to an upload still committing (default 24 h).
    orphan_blob_grace: Duration = Duration::hours(24);
    /// Messages one user sends at most per minute, over all conversations (default 30).
    max_messages_per_minute: u32 = 30;
    /// How long after sending a message its sender may still edit it, in minutes (default 15).
    message_edit_window_minutes: u32 = 15;
    /// A participant is emailed about a conversation at most once per this many minutes; the
    /// messages in between reach them in-app only (default 15).
    message_email_digest_minutes: u32 = 15;
    /// Largest `max_participants` of a program (default 1000).
    max_program_participants: u32 = 1000;
    /// Review rounds a program defines at most (default 10).
    max_review_rounds: usize = 10;
    /// Named reviewers of one review round at most (default 50).
    max_round_reviewers: usize = 50;
    /// Planned mentorship length when the request names none, in months (default 6; 1–24).
    mentorship_default_months: u8 = 6;
    /// How far ahead a session must be booked (default 24 h).
    booking_notice: Duration = Duration::hours(24);
    /// Shortest session in minutes (default 15).
    session_min_minutes: u16 = 15;
    /// Longest session in minutes (default 240).
    session_max_minutes: u16 = 240;
    /// Default session length in minutes (default 60; between the shortest and the longest).
    session_default_minutes: u16 = 60;
    /// Sessions an ally holds at most per day, in the ally's time zone (default 4).
    max_sessions_per_day: u32 = 4;
    /// Free time kept around every booking (default 15 min).
    booking_buffer: Duration = Duration::minutes(15);
    /// Grid of the starts `free_slots` offers (default 30 min).
    slot_step: Duration = Duration::minutes(30);
    /// Longest window `free_slots` answers for (default 31 days).
    free_slots_max_range: Duration = Duration::days(31);
    /// Weekly availability slots per ally at most (default 50).
    max_availability_slots: usize = 50;
    /// Cancelling closer than this to the start is a late cancellation (default 24 h).
    late_cancellation_window: Duration = Duration::hours(24);
    /// A session neither completed nor cancelled this long after its start is a no-show
    /// (default 24 h).
    no_show_after: Duration = Duration::hours(24);
    /// Session reminders go out this long before the start (default 24 h and 1 h).
    session_reminders: Vec<Duration> = vec![Duration::hours(24), Duration::hours(1)];
    /// The feedback reminder goes out this long after completion (default 24 h).
    feedback_reminder_after: Duration = Duration::hours(24);
    /// A meeting starts at least this long after it is scheduled (default 5 min).
    meeting_min_lead: Duration = Duration::minutes(5);
    /// Longest meeting (default 8 h).
    meeting_max_duration: Duration = Duration::hours(8);
    /// Participants of a meeting at most (default 100).
    meeting_max_participants: usize = 100;
    /// An application under review this long is overdue (default 14 days).
    review_overdue_after: Duration = Duration::days(14);
    /// Applicants with drafts are warned this long before the deadline (default 48 h).
    application_deadline_notice: Duration = Duration::hours(48);
    /// Accounts left unverified this long are deactivated (default 30 days).
    unverified_account_max_age: Duration = Duration::days(30);
    /// Read notifications older than this are archived (default 90 days).
    archive_read_notifications_after: Duration = Duration::days(90);
    /// Ally suggestions returned at most (default 5).
    suggestions_limit: usize = 5;
    /// Smallest match score worth suggesting, exclusive (default 0.3; from 0 up to, not
    /// including, 1).
    suggestion_min_score: f64 = 0.3;
    /// Time one job round may take before it stops starting pages, leaving the rest to the
    /// next round (default 30 s; its first page always runs).
    job_round_budget: Duration = Duration::seconds(30);
}

/// A percentage, 0 to 100 (0 is allowed: it turns the thing off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(pub u8);

impl Percent {
    /// The number of percent.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// One settable value of [`Limits`]: its name, what it means, and how to read and write it as
/// text (`15m`, `true`, `24h,1h`).
#[derive(Clone, Copy)]
pub struct LimitField {
    name: &'static str,
    doc: &'static str,
    expected: fn(&Limits) -> &'static str,
    get: fn(&Limits) -> String,
    set: fn(&mut Limits, &str) -> Result<(), &'static str>,
}

impl std::fmt::Debug for LimitField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitField").field("name", &self.name).finish()
    }
}

impl LimitField {
    /// Its name: the field's (`max_active_projects`), or `<field>_<part>` for a value inside a
    /// grouped field (`password_min_len`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What it means (the field's documentation, one line per source line).
    pub fn doc(&self) -> &'static str {
        self.doc
    }

    /// What text it accepts (`a whole number of at least 1`, `a duration …`).
    pub fn expected(&self) -> &'static str {
        (self.expected)(&Limits::default())
    }

    /// Its value in `limits`, as text that [`LimitField::set`] reads back.
    pub fn get(&self, limits: &Limits) -> String {
        (self.get)(limits)
    }

    /// Sets it in `limits` from `raw`; on failure `limits` is unchanged and the error says what
    /// was expected.
    pub fn set(&self, limits: &mut Limits, raw: &str) -> Result<(), &'static str> {
        (self.set)(limits, raw.trim())
    }
}

impl Limits {
    /// Sets the value named `name` (see [`LimitField::name`]) from `raw`. `Validation` names the
    /// field and says why: an unknown name, or text that does not parse. Cross-field rules are
    /// [`Limits::validate`]'s.
    pub fn set(&mut self, name: &str, raw: &str) -> Result<(), ValidationErrors> {
        let field = Self::fields()
            .into_iter()
            .find(|f| f.name == name)
            .ok_or_else(|| ValidationErrors::single(name.to_owned(), "is not a limit"))?;
        field
            .set(self, raw)
            .map_err(|expected| ValidationErrors::single(field.name, format!("must be {expected}")))
    }

    /// Every rule between values, and the ranges a type alone does not state, each failure
    /// named after its field: the password and session lengths in order, the default mentorship
    /// length 1–24 months, the suggestion score in [0, 1), and the durations that must be
    /// positive (a zero `slot_step` would never advance; a zero token lifetime would refuse
    /// every token). The server refuses to start on any of them.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.password.min_len > self.password.max_len {
            errors.push("password_min_len", "must be at most password_max_len");
        }
        if self.session_min_minutes > self.session_max_minutes {
            errors.push("session_min_minutes", "must be at most session_max_minutes");
        }
        if !(self.session_min_minutes..=self.session_max_minutes).contains(&self.session_default_minutes) {
            errors.push(
                "session_default_minutes",
                "must be between session_min_minutes and session_max_minutes",
            );
        }
        if !(1..=24).contains(&self.mentorship_default_months) {
            errors.push("mentorship_default_months", "must be between 1 and 24");
        }
        if !(0.0..1.0).contains(&self.suggestion_min_score) {
            errors.push("suggestion_min_score", "must be at least 0 and less than 1");
        }
        // Zero would refuse every message.
        if self.max_messages_per_minute == 0 {
            errors.push("max_messages_per_minute", "must be at least 1");
        }
        let positive = [
            ("lockout_duration", self.lockout_duration),
            ("email_verification_ttl", self.email_verification_ttl),
            ("password_reset_ttl", self.password_reset_ttl),
            ("refresh_token_ttl", self.refresh_token_ttl),
            ("slot_step", self.slot_step),
            ("free_slots_max_range", self.free_slots_max_range),
            ("meeting_max_duration", self.meeting_max_duration),
        ];
        for (name, value) in positive {
            if value <= Duration::zero() {
                errors.push(name, "must be longer than zero");
            }
        }
        if self.session_reminders.iter().any(|lead| *lead <= Duration::zero()) {
            errors.push("session_reminders", "must all be longer than zero");
        }
        errors.into_result()
    }
}

/// A type a limit can have, read from and written as text.
trait LimitValue: Sized {
    /// What the text must be, completing "must be …".
    const EXPECTED: &'static str;
    fn parse(raw: &str) -> Result<Self, &'static str>;
    fn render(&self) -> String;
}

fn expected_of<T: LimitValue>(_: &T) -> &'static str {
    T::EXPECTED
}

macro_rules! counts {
    ($($ty:ty),+) => {$(
        /// Counts and sizes: 0 would forbid the thing outright, never what a policy means.
        impl LimitValue for $ty {
            const EXPECTED: &'static str = "a whole number of at least 1";
            fn parse(raw: &str) -> Result<Self, &'static str> {
                raw.parse().ok().filter(|n| *n > 0).ok_or(Self::EXPECTED)
            }
            fn render(&self) -> String {
                self.to_string()
            }
        }
    )+};
}

counts!(u8, u16, u32, u64, usize);

impl LimitValue for Percent {
    const EXPECTED: &'static str = "a whole number from 0 to 100";
    fn parse(raw: &str) -> Result<Self, &'static str> {
        raw.parse::<u8>()
            .ok()
            .filter(|n| *n <= 100)
            .map(Percent)
            .ok_or(Self::EXPECTED)
    }
    fn render(&self) -> String {
        self.0.to_string()
    }
}

impl LimitValue for bool {
    const EXPECTED: &'static str = "true or false";
    fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(Self::EXPECTED),
        }
    }
    fn render(&self) -> String {
        self.to_string()
    }
}

impl LimitValue for f64 {
    const EXPECTED: &'static str = "a decimal number such as 0.3";
    fn parse(raw: &str) -> Result<Self, &'static str> {
        raw.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or(Self::EXPECTED)
    }
    fn render(&self) -> String {
        self.to_string()
    }
}

/// Units of a duration's text, largest first (rendering picks the largest exact one).
const DURATION_UNITS: [(&str, i64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];

impl LimitValue for Duration {
    const EXPECTED: &'static str = "a duration: a whole number and a unit s, m, h or d (90s, 15m, 48h, 30d)";
    fn parse(raw: &str) -> Result<Self, &'static str> {
        let split = raw.find(|c: char| !c.is_ascii_digit()).ok_or(Self::EXPECTED)?;
        let (number, unit) = raw.split_at(split);
        let number: i64 = number.parse().map_err(|_| Self::EXPECTED)?;
        let (_, seconds) = DURATION_UNITS
            .iter()
            .find(|(name, _)| *name == unit.trim())
            .ok_or(Self::EXPECTED)?;
        number
            .checked_mul(*seconds)
            .and_then(Duration::try_seconds)
            .ok_or(Self::EXPECTED)
    }
    fn render(&self) -> String {
        let seconds = self.num_seconds();
        // Days read better than hours only past two of them (`48h`, not `2d`).
        let (unit, size) = DURATION_UNITS
            .iter()
            .filter(|(unit, size)| *unit != "d" || seconds > 2 * size)
            .find(|(_, size)| seconds % size == 0)
            .copied()
            .unwrap_or(("s", 1));
        format!("{}{unit}", seconds / size)
    }
}

impl LimitValue for Vec<Duration> {
    const EXPECTED: &'static str = "durations separated by commas (24h,1h), or none";
    fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        raw.split(',')
            .map(|part| Duration::parse(part.trim()).map_err(|_| Self::EXPECTED))
            .collect()
    }
    fn render(&self) -> String {
        if self.is_empty() {
            return "none".to_owned();
        }
        self.iter().map(LimitValue::render).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field, with a value other than its default. A struct literal (no `..`): adding a
    /// field to `Limits` fails to compile here until it gets a value, and then fails the test
    /// below unless `Limits::fields` sets it — which the macro guarantees.
    fn all_changed() -> Limits {
        Limits {
            max_active_projects: 7,
            lockout_threshold: 3,
            lockout_duration: Duration::minutes(20),
            email_verification_ttl: Duration::hours(24),
            password_reset_ttl: Duration::minutes(30),
            refresh_token_ttl: Duration::days(7),
            require_verified_email: false,
            password: PasswordPolicy {
                min_len: 14,
                max_len: 64,
            },
            outbox_max_attempts: 5,
            outbox_retry_base: Duration::seconds(90),
            outbox_retry_jitter_percent: Percent(0),
            outbox_delivery_concurrency: 2,
            webhook_disable_after_hours: 24,
            webhook_secret_overlap: Duration::hours(2),
            max_webhooks_per_organization: 5,
            calendar_feed_past: Duration::days(7),
            calendar_feed_max_entries: 50,
            max_upload_bytes: 1024,
            max_documents_per_project: 3,
            orphan_blob_grace: Duration::hours(2),
            max_messages_per_minute: 10,
            message_edit_window_minutes: 5,
            message_email_digest_minutes: 60,
            max_program_participants: 50,
            max_review_rounds: 5,
            max_round_reviewers: 20,
            mentorship_default_months: 3,
            booking_notice: Duration::hours(2),
            session_min_minutes: 30,
            session_max_minutes: 120,
            session_default_minutes: 45,
            max_sessions_per_day: 6,
            booking_buffer: Duration::minutes(10),
            slot_step: Duration::minutes(15),
            free_slots_max_range: Duration::days(14),
            max_availability_slots: 20,
            late_cancellation_window: Duration::hours(12),
            no_show_after: Duration::hours(6),
            session_reminders: vec![Duration::hours(2)],
            feedback_reminder_after: Duration::hours(3),
            meeting_min_lead: Duration::minutes(1),
            meeting_max_duration: Duration::hours(4),
            meeting_max_participants: 30,
            review_overdue_after: Duration::days(7),
            application_deadline_notice: Duration::hours(72),
            unverified_account_max_age: Duration::days(10),
            archive_read_notifications_after: Duration::days(60),
            suggestions_limit: 9,
            suggestion_min_score: 0.5,
            job_round_budget: Duration::seconds(5),
        }
    }

    #[test]
    fn every_field_is_settable_by_name_and_reads_back() {
        let expected = all_changed();
        let defaults = Limits::default();
        let mut limits = Limits::default();
        for field in Limits::fields() {
            let text = field.get(&expected);
            assert_ne!(
                text,
                field.get(&defaults),
                "{} must differ from its default here",
                field.name()
            );
            let name = field.name();
            limits.set(name, &text).expect(name);
            assert_eq!(field.get(&limits), text, "{}", field.name());
        }
        assert_eq!(limits, expected);
        assert!(expected.validate().is_ok());
        assert!(defaults.validate().is_ok());
    }

    #[test]
    fn names_are_unique_and_documented() {
        let fields = Limits::fields();
        let mut names: Vec<_> = fields.iter().map(LimitField::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), fields.len());
        assert!(fields.iter().all(|f| !f.doc().trim().is_empty()));
        assert_eq!(
            Limits::fields()
                .iter()
                .find(|f| f.name() == "password_max_len")
                .map(LimitField::expected),
            Some("a whole number of at least 1")
        );
    }

    #[test]
    fn text_forms() {
        let mut limits = Limits::default();
        for (name, raw, check) in [
            ("lockout_duration", "90s", "90s"),
            ("lockout_duration", "120s", "2m"),
            ("lockout_duration", " 2d ", "48h"),
            ("lockout_duration", "72h", "3d"),
            ("session_reminders", "48h, 30m", "48h,30m"),
            ("session_reminders", "none", "none"),
            ("require_verified_email", "OFF", "false"),
            ("suggestion_min_score", "0", "0"),
            ("outbox_retry_jitter_percent", "0", "0"),
        ] {
            let field = Limits::fields().into_iter().find(|f| f.name() == name).expect(name);
            field.set(&mut limits, raw).expect(raw);
            assert_eq!(field.get(&limits), check, "{name}={raw}");
        }
    }

    #[test]
    fn bad_text_names_the_field_and_what_it_expects() {
        let mut limits = Limits::default();
        for (name, raw) in [
            ("max_active_projects", "0"),
            ("max_active_projects", "-1"),
            ("max_active_projects", "five"),
            ("mentorship_default_months", "300"),
            ("lockout_duration", "15"),
            ("lockout_duration", "15 minutes"),
            ("lockout_duration", "h"),
            ("lockout_duration", "99999999999999999d"),
            ("session_reminders", "24h,,1h"),
            ("require_verified_email", "maybe"),
            ("suggestion_min_score", "NaN"),
            ("outbox_retry_jitter_percent", "101"),
            ("outbox_retry_jitter_percent", "-5"),
        ] {
            let error = limits.set(name, raw).expect_err(raw);
            assert_eq!(error.fields()[0].field, name);
            assert!(error.fields()[0].message.starts_with("must be "), "{error}");
        }
        assert_eq!(limits, Limits::default(), "a refused value changes nothing");
        let unknown = limits.set("max_everything", "1").expect_err("unknown");
        assert_eq!(unknown.to_string(), "max_everything: is not a limit");
    }

    #[test]
    fn cross_field_rules_name_the_field() {
        let mut limits = Limits::default();
        limits.set("password_min_len", "200").expect("parses");
        limits.set("session_min_minutes", "300").expect("parses");
        limits.set("mentorship_default_months", "30").expect("parses");
        limits.set("suggestion_min_score", "1").expect("parses");
        limits.set("slot_step", "0m").expect("parses");
        limits.set("session_reminders", "1h,0s").expect("parses");
        let errors = limits.validate().expect_err("insane");
        for field in [
            "password_min_len",
            "session_min_minutes",
            "session_default_minutes",
            "mentorship_default_months",
            "suggestion_min_score",
            "slot_step",
            "session_reminders",
        ] {
            assert!(errors.has(field), "{field}: {errors}");
        }
    }
}
