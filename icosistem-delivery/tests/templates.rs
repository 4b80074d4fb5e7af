//! Every outbox kind renders in both languages; a missing kind or a syntax error fails here.

use chrono::Utc;
use icosistem_core::model::{Meta, OutboxChannel, OutboxMessage, OutboxStatus};
use icosistem_delivery::{KINDS, LANGUAGES, Templates};
use serde_json::json;
use uuid::Uuid;

fn message(kind: &str, lang: &str) -> OutboxMessage {
    let now = Utc::now();
    OutboxMessage {
        id: Uuid::now_v7().into(),
        channel: OutboxChannel::Email,
        user_id: None,
        recipient: "ana@example.org".into(),
        kind: kind.into(),
        subject: "Accepted into <Lab> & co".into(),
        body: "Accepted into <Lab> & co.".into(),
        data: json!({ "token": "tok en/1", "status": "accepted", "language": lang }),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        sent_at: None,
        last_error: None,
        meta: Meta::new(now, None),
    }
}

#[test]
fn check_passes() {
    Templates::new("https://app.example")
        .expect("compile")
        .check()
        .expect("every kind, every language");
}

#[test]
fn every_kind_renders_in_both_languages() {
    let templates = Templates::new("https://app.example").expect("compile");
    for lang in LANGUAGES {
        for kind in KINDS {
            let r = templates.render(&message(kind, lang)).expect("render");
            assert!(
                !r.subject.is_empty() && !r.subject.contains('\n'),
                "{lang}/{kind}: {r:?}"
            );
            assert!(r.text.trim().len() > 10, "{lang}/{kind}: {r:?}");
            assert!(r.html.contains(&format!("<html lang=\"{lang}\">")), "{lang}/{kind}");
            // Auto-escaping: the core's text never reaches the HTML as markup.
            assert!(!r.html.contains("<Lab>"), "{lang}/{kind} HTML not escaped");
        }
    }
}

#[test]
fn language_falls_back_to_english_and_links_carry_the_token() {
    let templates = Templates::new("https://app.example/").expect("compile");
    let es = templates.render(&message("email_verification", "es")).expect("render");
    assert_eq!(es.subject, "Verifica tu correo");
    assert!(
        es.text.contains("https://app.example/verify-email?token=tok%20en/1"),
        "{}",
        es.text
    );
    let fr = templates.render(&message("email_verification", "fr")).expect("render");
    assert_eq!(fr.subject, "Verify your email");
    let plain = templates
        .render(&message("application_accepted", "en"))
        .expect("render");
    // The plain-text part is not HTML-escaped.
    assert!(plain.text.contains("Accepted into <Lab> & co."), "{}", plain.text);
    assert_eq!(plain.subject, "Accepted into <Lab> & co");
}

#[test]
fn an_unknown_kind_uses_the_generic_template() {
    let templates = Templates::new("https://app.example").expect("compile");
    let r = templates.render(&message("something_new", "es")).expect("render");
    assert_eq!(r.subject, "Accepted into <Lab> & co");
}
