//! Property and example tests of the value types, the common rules and the secret helpers.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use icosistem_core::error::FieldError;
use icosistem_core::model::secret::{
    Argon2idHasher, PasswordHashError, SecretString, generate_token, hash_token, tokens_match,
};
use icosistem_core::model::value::{
    AtField, Currency, Email, Language, Money, Name, Percent, PersonName, Phone, Rating, Score, Slug, TimeZoneName,
    Url, ValueError, bounded_text, optional_text,
};
use icosistem_core::rules::common::{
    PasswordPolicy, is_common_password, validate_date_order, validate_future_date, validate_future_instant,
    validate_length, validate_password, validate_positive, validate_positive_number, validate_range,
};

fn is_valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.split('-')
            .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test dates are valid")
}

/// Any string at all: arbitrary chars (control, combining, emoji, astral) in any amount.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<char>(), 0..400).prop_map(|v| v.into_iter().collect()),
        "[a-zA-Z0-9 àéíóúñÑüÜçß_.'!?-]{0,300}",
        "[😀-🙏🚀-🛿]{0,60}",
    ]
}

/// Strings matching the original email regex, in mixed case and with surrounding blanks.
fn email_like() -> impl Strategy<Value = String> {
    (
        "[A-Za-z0-9._%+-]{1,40}",
        "[A-Za-z0-9.-]{1,40}",
        "[A-Za-z]{2,8}",
        "[ \t]{0,2}",
        "[ \t]{0,2}",
    )
        .prop_map(|(local, host, tld, pre, post)| format!("{pre}{local}@{host}.{tld}{post}"))
}

fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just(String::new()),
        Just("http://".to_owned()),
        Just("https://".to_owned()),
        Just("HTTPS://".to_owned()),
        Just("Http://".to_owned()),
    ];
    let host = prop_oneof![
        "[a-zA-Z0-9]{1,10}(\\.[a-zA-Z0-9]{1,10}){0,3}\\.[a-zA-Z]{2,6}",
        Just("localhost".to_owned()),
        Just("LocalHost".to_owned()),
        (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255).prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
    ];
    let port = prop_oneof![Just(String::new()), (1u16..=65535).prop_map(|p| format!(":{p}"))];
    let tail = "(/[A-Za-z0-9._~%-]{0,12}){0,4}(\\?[a-z0-9=&]{0,20})?(#[a-z0-9]{0,8})?";
    (scheme, host, port, tail).prop_map(|(s, h, p, t)| format!("{s}{h}{p}{t}"))
}

proptest! {
    // ------------------------------------------------------------------------------- Email

    #[test]
    fn email_regex_shapes_are_accepted_and_normalised(raw in email_like()) {
        let email = Email::parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw:?}: {e}")))?;
        prop_assert_eq!(email.as_str(), raw.trim().to_ascii_lowercase());
        prop_assert!(email.as_str().len() <= 254);
    }

    #[test]
    fn accepted_email_round_trips(raw in prop_oneof![email_like(), any_text()]) {
        if let Ok(email) = Email::parse(&raw) {
            let shown = email.to_string();
            let again = Email::parse(&shown);
            prop_assert_eq!(again.as_ref(), Ok(&email));
            let json = serde_json::to_string(&email).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back: Email = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &email);
            prop_assert_eq!(email.as_str(), email.as_str().trim().to_ascii_lowercase());
            prop_assert_eq!(email.as_str().matches('@').count(), 1);
            prop_assert!(email.as_str().starts_with(email.local_part()));
        }
    }

    #[test]
    fn email_deserialisation_refuses_what_parse_refuses(raw in any_text()) {
        let json = serde_json::to_string(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let via_serde = serde_json::from_str::<Email>(&json).ok();
        prop_assert_eq!(via_serde, Email::parse(&raw).ok());
    }

    // -------------------------------------------------------------------------------- Slug

    #[test]
    fn derived_slug_is_always_valid(name in any_text()) {
        let slug = Slug::derive(&name);
        prop_assert!(is_valid_slug(slug.as_str()), "{:?} -> {:?}", name, slug);
        prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
        // Deriving from a slug leaves it alone.
        prop_assert_eq!(Slug::derive(slug.as_str()), slug);
    }

    #[test]
    fn slug_with_suffix_stays_valid(name in any_text(), n in any::<u32>()) {
        let suffixed = Slug::derive(&name).with_suffix(n);
        prop_assert!(is_valid_slug(suffixed.as_str()), "{:?}", suffixed);
        let expected_end = format!("-{n}");
        prop_assert!(suffixed.as_str().ends_with(&expected_end));
    }

    #[test]
    fn slug_parse_accepts_exactly_the_slug_regex(raw in prop_oneof![
        "[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,10}",
        "[a-zA-Z0-9_ -]{0,30}",
    ]) {
        prop_assert_eq!(Slug::parse(&raw).is_ok(), is_valid_slug(raw.trim()), "{:?}", raw);
    }

    // ------------------------------------------------------------------------------- Money

    #[test]
    fn money_refuses_negatives(amount in i64::MIN..0, currency in prop::sample::select(Currency::ALL.to_vec())) {
        prop_assert!(Money::new(amount, currency).is_err());
        let json = format!(r#"{{"amount_minor":{amount},"currency":"{currency}"}}"#);
        prop_assert!(serde_json::from_str::<Money>(&json).is_err());
    }

    #[test]
    fn money_round_trips_through_json(amount in 0..=i64::MAX, currency in prop::sample::select(Currency::ALL.to_vec())) {
        let money = Money::new(amount, currency).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let json = serde_json::to_string(&money).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: Money = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, money);
        prop_assert_eq!(back.amount_minor(), amount);
    }

    #[test]
    fn money_checked_add_is_exact_or_refused(a in 0..=i64::MAX, b in 0..=i64::MAX) {
        let (x, y) = (Money::new(a, Currency::Usd), Money::new(b, Currency::Usd));
        let (x, y) = (x.map_err(|e| TestCaseError::fail(e.to_string()))?, y.map_err(|e| TestCaseError::fail(e.to_string()))?);
        match a.checked_add(b) {
            Some(sum) => prop_assert_eq!(x.checked_add(y).map(|m| m.amount_minor()), Ok(sum)),
            None => prop_assert!(x.checked_add(y).is_err()),
        }
    }

    // ---------------------------------------------------------------------- bounded numbers

    #[test]
    fn bounded_numbers_accept_exactly_their_ranges(v in prop_oneof![any::<i64>(), -10i64..110]) {
        prop_assert_eq!(Percent::new(v).is_ok(), (0..=100).contains(&v));
        prop_assert_eq!(Score::new(v).is_ok(), (0..=100).contains(&v));
        prop_assert_eq!(Rating::new(v).is_ok(), (1..=5).contains(&v));
        prop_assert_eq!(serde_json::from_str::<Percent>(&v.to_string()).is_ok(), (0..=100).contains(&v));
        prop_assert_eq!(serde_json::from_str::<Rating>(&v.to_string()).is_ok(), (1..=5).contains(&v));
        if let Ok(p) = Percent::new(v) {
            prop_assert_eq!(i64::from(p.get()), v);
            prop_assert_eq!(serde_json::to_string(&p).ok(), Some(v.to_string()));
        }
    }

    // --------------------------------------------------------------------------------- Url

    #[test]
    fn url_shapes_are_accepted_and_normalisation_is_idempotent(raw in url_like()) {
        let url = Url::parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw:?}: {e}")))?;
        prop_assert!(url.as_str().starts_with("http://") || url.as_str().starts_with("https://"));
        prop_assert_eq!(Url::parse(url.as_str()), Ok(url.clone()));
        prop_assert_eq!(url.host(), url.host().to_ascii_lowercase());
        if !raw.contains("://") {
            prop_assert!(url.as_str().starts_with("https://"));
        }
    }

    #[test]
    fn any_accepted_url_is_a_fixed_point(raw in prop_oneof![any_text(), url_like()]) {
        if let Ok(url) = Url::parse(&raw) {
            prop_assert_eq!(Url::parse(url.as_str()), Ok(url.clone()));
            prop_assert!(!url.as_str().chars().any(char::is_whitespace));
            prop_assert!(url.as_str().chars().count() <= 2048);
        }
    }

    // ------------------------------------------------------------------------------- Phone

    #[test]
    fn phone_accepts_exactly_e164(plus in any::<bool>(), digits in "[0-9]{0,20}") {
        let raw = if plus { format!("+{digits}") } else { digits.clone() };
        let expected = plus && (8..=15).contains(&digits.len()) && !digits.starts_with('0');
        prop_assert_eq!(Phone::parse(&raw).is_ok(), expected, "{:?}", raw);
    }

    #[test]
    fn phone_ignores_separators(digits in "[1-9][0-9]{7,14}", seps in prop::collection::vec(prop::sample::select(vec![" ", "-", ".", "(", ")", ""]), 16)) {
        let mut raw = String::from("+");
        for (i, c) in digits.chars().enumerate() {
            raw.push_str(seps[i % seps.len()]);
            raw.push(c);
        }
        let phone = Phone::parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw:?}: {e}")))?;
        prop_assert_eq!(phone.as_str(), format!("+{digits}"));
        prop_assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
    }

    // ----------------------------------------------------------------------- names and text

    #[test]
    fn names_count_chars_after_trimming(core in "[a-zA-Zñáé]{0,220}", pad in "[ ]{0,3}") {
        let raw = format!("{pad}{core}{pad}");
        let n = core.chars().count();
        prop_assert_eq!(PersonName::parse(&raw).is_ok(), (2..=80).contains(&n));
        prop_assert_eq!(Name::parse(&raw).is_ok(), (2..=200).contains(&n));
        if let Ok(name) = Name::parse(&raw) {
            prop_assert_eq!(name.as_str(), core.as_str());
        }
    }
}

// ------------------------------------------------------------------------------ examples: Email

#[test]
fn email_examples() {
    let e = Email::parse("  Ana.Maria+news@Example.CO ").expect("valid");
    assert_eq!(e.as_str(), "ana.maria+news@example.co");
    assert_eq!(e.local_part(), "ana.maria+news");
    assert_eq!(e.domain(), "example.co");
    assert_eq!(e.to_string(), "ana.maria+news@example.co");
    for bad in [
        "",
        "   ",
        "plain",
        "a@b",
        "a@b.c",
        "@example.com",
        "a@.com",
        "a b@example.com",
        "a@@example.com",
        "a@exa mple.com",
        "a@example.c0m",
        "ñandú@example.com",
        "\u{212A}@example.com",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert_eq!(
        Email::parse(&long).unwrap_err().message(),
        "must be at most 254 characters"
    );
}

#[test]
fn email_errors_name_the_field() {
    let err = Email::parse("nope").at("email").unwrap_err();
    assert_eq!(err, FieldError::new("email", "must be a valid email address"));
    let err: FieldError = Email::parse("").unwrap_err().at("contact.email");
    assert_eq!(err.field, "contact.email");
    assert_eq!(err.message, "is required");
    let via_serde = serde_json::from_str::<Email>("\"nope\"").unwrap_err();
    assert!(via_serde.to_string().contains("must be a valid email address"));
}

// ------------------------------------------------------------------------------- examples: Slug

#[test]
fn slug_examples() {
    assert_eq!(
        Slug::derive("Aceleradora Ñandú 2025").as_str(),
        "aceleradora-nandu-2025"
    );
    assert_eq!(Slug::derive("  Hello,   World!!  ").as_str(), "hello-world");
    assert_eq!(Slug::derive("").as_str(), "item");
    assert_eq!(Slug::derive("!!!").as_str(), "item");
    assert!(is_valid_slug(Slug::derive("🚀🚀").as_str()));
    assert_eq!(Slug::derive("北京").as_str(), "bei-jing");

    let long = Slug::derive(&"ab-".repeat(60));
    assert!(long.as_str().len() <= 100 && !long.as_str().ends_with('-'));

    let base = Slug::parse("mi-programa").expect("valid");
    assert_eq!(base.with_suffix(2).as_str(), "mi-programa-2");
    let full = Slug::parse(&"a".repeat(100)).expect("valid");
    let suffixed = full.with_suffix(4_294_967_295);
    assert_eq!(suffixed.as_str().len(), 100);
    assert!(suffixed.as_str().ends_with("-4294967295"));

    for bad in ["", "Abc", "a--b", "-a", "a-", "a_b", "á", &"a".repeat(101)] {
        assert!(Slug::parse(bad).is_err(), "{bad:?} should be refused");
    }
    assert!(serde_json::from_str::<Slug>("\"Bad Slug\"").is_err());
    assert_eq!(
        serde_json::from_str::<Slug>("\"good-slug\"").ok(),
        Slug::parse("good-slug").ok()
    );
}

// ------------------------------------------------------------------------ examples: names, text

#[test]
fn name_examples() {
    assert_eq!(
        PersonName::parse("  José Pérez ").expect("valid").as_str(),
        "José Pérez"
    );
    assert!(PersonName::parse("J").is_err());
    assert!(PersonName::parse(&"a".repeat(81)).is_err());
    assert!(PersonName::parse(&"é".repeat(80)).is_ok(), "counts chars, not bytes");
    assert!(PersonName::parse("Ana\nMaría").is_err());
    assert!(PersonName::parse("Ana\u{7}").is_err());
    assert!(Name::parse(&"x".repeat(200)).is_ok());
    assert!(Name::parse(&"x".repeat(201)).is_err());
    assert_eq!(Name::parse(" ").unwrap_err(), ValueError::new("is required"));
}

#[test]
fn text_helpers() {
    assert_eq!(bounded_text("title", "  Kick-off  ", 3, 300), Ok("Kick-off".to_owned()));
    assert_eq!(
        bounded_text("title", "ab", 3, 300),
        Err(FieldError::new("title", "must be between 3 and 300 characters"))
    );
    assert_eq!(
        bounded_text("title", "   ", 3, 300),
        Err(FieldError::new("title", "is required"))
    );
    assert_eq!(optional_text("bio", None, 10), Ok(None));
    assert_eq!(optional_text("bio", Some("   "), 10), Ok(None));
    assert_eq!(optional_text("bio", Some(" hi "), 10), Ok(Some("hi".to_owned())));
    assert_eq!(
        optional_text("bio", Some("12345678901"), 10),
        Err(FieldError::new("bio", "must be at most 10 characters"))
    );
}

// ------------------------------------------------------------------------------ examples: Money

#[test]
fn money_examples() {
    let a = Money::new(100_000, Currency::Cop).expect("valid");
    let b = Money::new(250, Currency::Cop).expect("valid");
    assert_eq!(a.checked_add(b).map(|m| m.amount_minor()), Ok(100_250));
    assert!(a.checked_add(Money::zero(Currency::Usd)).is_err());
    assert!(b.checked_sub(a).is_err());
    assert_eq!(a.checked_sub(b).map(|m| m.amount_minor()), Ok(99_750));
    assert!(
        Money::new(i64::MAX, Currency::Eur)
            .and_then(|m| m.checked_add(Money::new(1, Currency::Eur)?))
            .is_err()
    );
    assert_eq!(
        serde_json::to_string(&a).expect("serialises"),
        r#"{"amount_minor":100000,"currency":"COP"}"#
    );
    assert_eq!(
        Money::new(-1, Currency::Cop).unwrap_err().message(),
        "must not be negative"
    );
    assert_eq!(serde_json::to_string(&Currency::Mxn).expect("serialises"), "\"MXN\"");
    assert_eq!(serde_json::from_str::<Currency>("\"EUR\"").ok(), Some(Currency::Eur));
    assert!(serde_json::from_str::<Currency>("\"eur\"").is_err());
    assert!(serde_json::from_str::<Currency>("\"GBP\"").is_err());
    assert_eq!("usd".parse::<Currency>(), Ok(Currency::Usd));
    assert_eq!(Currency::Cop.to_string(), "COP");
}

#[test]
fn bounded_number_examples() {
    assert_eq!(Percent::new(0).map(Percent::get), Ok(0));
    assert_eq!(Percent::new(100).map(Percent::get), Ok(100));
    assert_eq!(Percent::new(101).unwrap_err().message(), "must be between 0 and 100");
    assert_eq!(Rating::new(0).unwrap_err().message(), "must be between 1 and 5");
    assert_eq!(Rating::new(5u8).map(u8::from), Ok(5));
    assert_eq!(Score::new(-1).unwrap_err().message(), "must be between 0 and 100");
    assert_eq!(Rating::MIN.get(), 1);
    assert_eq!(Score::MAX.get(), 100);
    let err = serde_json::from_str::<Rating>("6").unwrap_err();
    assert!(err.to_string().contains("must be between 1 and 5"));
}

// -------------------------------------------------------------------------------- examples: Url

#[test]
fn url_examples() {
    let u = Url::parse("Example.COM/Path?q=1").expect("valid");
    assert_eq!(u.as_str(), "https://example.com/Path?q=1");
    assert_eq!(u.scheme(), "https");
    assert_eq!(u.host(), "example.com");
    assert_eq!(u.port(), None);

    let u = Url::parse("HTTP://localhost:8080/health").expect("valid");
    assert_eq!(u.as_str(), "http://localhost:8080/health");
    assert_eq!(u.port(), Some(8080));
    assert_eq!(
        Url::parse("192.168.0.1").expect("valid").as_str(),
        "https://192.168.0.1"
    );
    assert_eq!(
        Url::parse("example.com/next?to=http://other.org")
            .expect("valid")
            .as_str(),
        "https://example.com/next?to=http://other.org"
    );

    for bad in [
        "",
        "ftp://example.com",
        "javascript:alert(1)",
        "mailto:a@example.com",
        "https://user:pw@example.com",
        "https://exa mple.com",
        "https://",
        "https://example",
        "https://-bad-.com",
        "https://example.com:0",
        "https://example.com:70000",
        "https://999.1.1.1",
        "https://[::1]/",
        "//example.com",
    ] {
        assert!(Url::parse(bad).is_err(), "{bad:?} should be refused");
    }
    let long = format!("https://example.com/{}", "a".repeat(2030));
    assert!(Url::parse(&long).is_err());
}

// ------------------------------------------------------------------------------ examples: Phone

#[test]
fn phone_examples() {
    let p = Phone::parse("+57 (300) 123-4567").expect("valid");
    assert_eq!(p.as_str(), "+573001234567");
    assert_eq!(p.digits(), "573001234567");
    assert!(Phone::parse("+1.415.555.0100").is_ok());
    for bad in [
        "",
        "3001234567",
        "+0123456789",
        "+1234567",
        "+1234567890123456",
        "+57 300 abc 4567",
        "++573001234567",
    ] {
        assert!(Phone::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

// ------------------------------------------------------------------------- examples: tz, lang

#[test]
fn time_zone_and_language_examples() {
    assert_eq!(TimeZoneName::default().as_str(), "UTC");
    for good in [
        "UTC",
        "America/Bogota",
        "America/Argentina/Buenos_Aires",
        "Etc/GMT+5",
        "America/Port-au-Prince",
    ] {
        assert!(TimeZoneName::parse(good).is_ok(), "{good:?}");
    }
    for bad in [
        "",
        "utc",
        "Bogota",
        "America/",
        "/Bogota",
        "America/Bo gota",
        "A/B/C/D",
        "America/Bogotá",
        "Mars/Olympus_Mons",
    ] {
        assert!(TimeZoneName::parse(bad).is_err(), "{bad:?} should be refused");
    }
    assert_eq!(Language::default().as_str(), "es");
    assert_eq!(Language::parse(" EN ").map(Language::into_string), Ok("en".to_owned()));
    for bad in ["", "e", "esp", "e1", "ñe"] {
        assert!(Language::parse(bad).is_err(), "{bad:?} should be refused");
    }
    assert!(serde_json::from_str::<Language>("\"xyz\"").is_err());
}

// ------------------------------------------------------------------------------ examples: rules

#[test]
fn date_rules() {
    let today = date(2025, 6, 15);
    assert!(validate_future_date("start_date", date(2025, 6, 16), today, false).is_ok());
    assert_eq!(
        validate_future_date("start_date", today, today, false),
        Err(FieldError::new("start_date", "must be in the future"))
    );
    assert!(validate_future_date("start_date", today, today, true).is_ok());
    assert!(validate_future_date("start_date", date(2025, 6, 14), today, true).is_err());

    let now = Utc
        .with_ymd_and_hms(2025, 6, 15, 12, 0, 0)
        .single()
        .expect("valid instant");
    assert!(validate_future_instant("starts_at", now + Duration::seconds(1), now).is_ok());
    assert!(validate_future_instant("starts_at", now, now).is_err());

    assert!(validate_date_order("end_date", date(2025, 1, 1), date(2025, 1, 2)).is_ok());
    assert_eq!(
        validate_date_order("end_date", date(2025, 1, 2), date(2025, 1, 2)),
        Err(FieldError::new("end_date", "must be after the start"))
    );
    assert!(validate_date_order("ends_at", now, now - Duration::minutes(1)).is_err());
}

#[test]
fn number_and_length_rules() {
    assert!(validate_positive_number("budget", None).is_ok());
    assert!(validate_positive_number("budget", Some(1)).is_ok());
    assert_eq!(
        validate_positive_number("budget", Some(0)),
        Err(FieldError::new("budget", "must be greater than 0"))
    );
    assert!(validate_positive("hours", Some(0.5_f64)).is_ok());
    assert!(validate_positive("hours", Some(f64::NAN)).is_err());
    assert!(validate_positive("hours", Some(-2_i32)).is_err());

    assert!(validate_range("max_participants", 1, 1, 1000).is_ok());
    assert!(validate_range("max_participants", 1000, 1, 1000).is_ok());
    assert_eq!(
        validate_range("max_participants", 1001, 1, 1000),
        Err(FieldError::new("max_participants", "must be between 1 and 1000"))
    );
    assert!(validate_range("duration", 14_u32, 15, 240).is_err());

    assert!(validate_length("title", "  abc  ", 3, 300).is_ok());
    assert_eq!(
        validate_length("title", "  ab  ", 3, 300),
        Err(FieldError::new("title", "must be between 3 and 300 characters"))
    );
    assert!(validate_length("reason", &"ñ".repeat(500), 0, 500).is_ok());
    assert_eq!(
        validate_length("reason", &"ñ".repeat(501), 0, 500),
        Err(FieldError::new("reason", "must be at most 500 characters"))
    );
}

#[test]
fn password_rules_report_every_failure() {
    let policy = PasswordPolicy::default();
    assert_eq!((policy.min_len, policy.max_len), (12, 128));
    let email = Email::parse("carolina@example.com").expect("valid");

    assert!(validate_password("password", "correct horse battery", Some(&email), &policy).is_empty());

    let short_and_common = validate_password("password", "Password", None, &policy);
    assert_eq!(short_and_common.fields().len(), 2, "{short_and_common}");
    assert!(short_and_common.has("password"));

    let long_common = validate_password("password", "PASSWORD1234", None, &policy);
    assert_eq!(long_common.fields(), &[FieldError::new("password", "is too common")]);

    let with_local = validate_password("password", "xx-CAROLINA-2025!", Some(&email), &policy);
    assert_eq!(
        with_local.fields(),
        &[FieldError::new("password", "must not contain your email address")]
    );

    // A local part under 3 chars is too likely to occur by chance to be refused.
    let short_local = Email::parse("al@example.com").expect("valid");
    assert!(validate_password("password", "totally-alright-pass", Some(&short_local), &policy).is_empty());

    let too_long = "x".repeat(129);
    assert_eq!(
        validate_password("password", &too_long, None, &policy).fields(),
        &[FieldError::new("password", "must be at most 128 characters")]
    );
    assert!(validate_password("password", &"é".repeat(12), None, &policy).is_empty());
    assert!(is_common_password("QwErTy"));
    assert!(!is_common_password("qwerty!"));
}

// ----------------------------------------------------------------------------- examples: secret

#[test]
fn secret_string_never_prints() {
    let s = SecretString::new("hunter2-hunter2");
    assert_eq!(format!("{s:?}"), "[redacted]");
    assert_eq!(format!("{s}"), "[redacted]");
    assert_eq!(s.expose(), "hunter2-hunter2");
    let from_json: SecretString = serde_json::from_str("\"p4ss\"").expect("deserialises");
    assert_eq!(from_json.expose(), "p4ss");
}

#[test]
fn password_hashing_round_trip() {
    let hasher = Argon2idHasher::fast_for_tests();
    let first = hasher.hash_password("correct horse battery").expect("hashes");
    let second = hasher.hash_password("correct horse battery").expect("hashes");
    assert!(first.starts_with("$argon2id$v=19$"));
    assert_ne!(first, second, "each hash has its own salt");
    assert_eq!(hasher.verify_password("correct horse battery", &first), Ok(true));
    assert_eq!(hasher.verify_password("correct horse battery", &second), Ok(true));
    assert_eq!(hasher.verify_password("wrong horse battery", &first), Ok(false));
    assert_eq!(hasher.verify_password("", &first), Ok(false));
    assert_eq!(hasher.needs_rehash(&first), Ok(false));
}

#[test]
fn verification_reads_parameters_from_the_hash() {
    let fast = Argon2idHasher::fast_for_tests();
    let phc = fast.hash_password("s3cret-passphrase").expect("hashes");
    // A hasher configured otherwise still verifies it: the PHC string carries m, t and p.
    let owasp = Argon2idHasher::owasp();
    assert_eq!(owasp.verify_password("s3cret-passphrase", &phc), Ok(true));
    assert_eq!(owasp.verify_password("other", &phc), Ok(false));
    assert_eq!(owasp.needs_rehash(&phc), Ok(true));
}

#[test]
fn owasp_hash_carries_owasp_parameters() {
    let hasher = Argon2idHasher::default();
    let phc = hasher.hash_password("a long enough passphrase").expect("hashes");
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert_eq!(hasher.verify_password("a long enough passphrase", &phc), Ok(true));
    assert_eq!(hasher.needs_rehash(&phc), Ok(false));
}

#[test]
fn malformed_hashes_are_errors_not_mismatches() {
    let hasher = Argon2idHasher::fast_for_tests();
    for bad in [
        "",
        "not a hash",
        "$argon2id$v=19$m=8,t=1,p=1",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ",
        "$bcrypt$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    ] {
        assert!(
            matches!(
                hasher.verify_password("pw", bad),
                Err(PasswordHashError::MalformedHash(_))
            ),
            "{bad:?} gave {:?}",
            hasher.verify_password("pw", bad)
        );
    }
}

#[test]
fn tokens_are_random_and_stored_hashed() {
    let a = generate_token();
    let b = generate_token();
    assert_ne!(a, b);
    assert_eq!(a.len(), 43);
    assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));

    let h = hash_token(&a);
    assert_eq!(h.len(), 64);
    assert!(h.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    assert_eq!(h, hash_token(&a));
    assert_ne!(h, hash_token(&b));
    assert_eq!(
        hash_token("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(tokens_match(&h, &hash_token(&a)));
    assert!(!tokens_match(&h, &hash_token(&b)));
    assert!(!tokens_match(&h, &h[..63]));
}
