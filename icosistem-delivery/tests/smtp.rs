//! The SMTP notifier against a real SMTP server: aiosmtpd (PyPI) run by
//! `icosistem_delivery::testing::SmtpSink`.
//!
//! Needs `python3` with `aiosmtpd` (`.ci/run` installs it). Without it the tests print one skip
//! line, unless `ICOSISTEM_REQUIRE_SERVICES=1`, where they fail.
#![cfg(feature = "smtp")]

use std::process::Stdio;

use chrono::Utc;
use icosistem_core::model::{Meta, OutboxChannel, OutboxMessage, OutboxStatus};
use icosistem_core::ports::Notifier;
use icosistem_delivery::testing::{SmtpSink as Sink, smtp_sink_available as available, unfold};
use icosistem_delivery::{Security, SmtpConfig, SmtpNotifier};
use serde_json::json;
use uuid::Uuid;

fn config(port: u16, security: Security) -> SmtpConfig {
    let vars = [
        (
            "MAIL_SERVER",
            if security == Security::Plain {
                "127.0.0.1"
            } else {
                "localhost"
            },
        ),
        ("MAIL_PORT", &*port.to_string().leak()),
        (
            "MAIL_USE_TLS",
            if security == Security::StartTls {
                "true"
            } else {
                "false"
            },
        ),
        ("MAIL_DEFAULT_SENDER", "Icosistem <no-reply@icosistem.test>"),
        ("ICOSISTEM_PUBLIC_URL", "https://app.icosistem.test"),
    ];
    SmtpConfig::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
        .expect("valid config")
        .expect("MAIL_SERVER set")
}

fn verification(lang: &str) -> OutboxMessage {
    let now = Utc::now();
    OutboxMessage {
        id: Uuid::now_v7().into(),
        channel: OutboxChannel::Email,
        user_id: None,
        recipient: "ana@example.org".into(),
        kind: "email_verification".into(),
        subject: "Verify your email".into(),
        body: "Welcome to Icosistem. Your verification code is abc. It expires in 48 hours.".into(),
        data: json!({ "token": "tok-123", "language": lang }),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        sent_at: None,
        last_error: None,
        meta: Meta::new(now, None),
    }
}

#[tokio::test]
async fn verification_email_arrives_once_with_both_parts_in_the_users_language() {
    if !available() {
        return;
    }
    let sink = Sink::start().await;
    let notifier = SmtpNotifier::new(&config(sink.port(), Security::Plain)).expect("notifier");
    let message = verification("es");
    notifier.deliver(&message).await.expect("delivered");
    let mails = sink.received();
    assert_eq!(mails.len(), 1, "exactly one mail");
    let mail = &mails[0];
    assert!(mail.contains("Subject: Verifica tu correo"), "{mail}");
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(mail.contains("text/plain") && mail.contains("text/html"), "{mail}");
    assert!(
        mail.contains(&format!("X-Icosistem-Outbox-Id: {}", message.id)),
        "{mail}"
    );
    assert!(
        mail.contains(&format!("Message-ID: <{}@icosistem.test>", message.id)),
        "{mail}"
    );
    assert!(
        mail.contains("List-Unsubscribe: <https://app.icosistem.test/settings/notifications>"),
        "{mail}"
    );
    // Both parts carry the link with the token (quoted-printable may wrap lines, and the HTML
    // escaper writes `/` as `&#x2f;`, which browsers read back as `/`).
    let unfolded = unfold(mail);
    let (text, html) = unfolded.split_once("Content-Type: text/html").expect("an HTML part");
    let link = "https://app.icosistem.test/verify-email?token=tok-123";
    assert!(text.contains(link), "{text}");
    assert!(html.contains(&format!("<a href=\"{link}\"")), "{html}");
}

#[tokio::test]
async fn a_4xx_answer_is_transient_and_a_5xx_is_permanent() {
    if !available() {
        return;
    }
    let busy = Sink::start_with(&["--reply", "451 4.3.0 try again later"]).await;
    let notifier = SmtpNotifier::new(&config(busy.port(), Security::Plain)).expect("notifier");
    let err = notifier.deliver(&verification("en")).await.expect_err("451");
    assert!(!err.permanent, "{err}");

    let rejecting = Sink::start_with(&["--reply", "550 5.1.1 no such user"]).await;
    let notifier = SmtpNotifier::new(&config(rejecting.port(), Security::Plain)).expect("notifier");
    let err = notifier.deliver(&verification("en")).await.expect_err("550");
    assert!(err.permanent, "{err}");
    assert!(busy.received().is_empty() && rejecting.received().is_empty());
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let notifier = SmtpNotifier::new(&config(port, Security::Plain)).expect("notifier");
    let err = notifier
        .deliver(&verification("en"))
        .await
        .expect_err("nothing listens");
    assert!(!err.permanent, "{err}");
}

#[tokio::test]
async fn starttls_against_a_local_certificate() {
    if !available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("icosistem-smtp-cert-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl req failed");
    let sink = Sink::start_with(&["--tls", cert.to_str().expect("utf-8"), key.to_str().expect("utf-8")]).await;

    // Without trusting the certificate, the handshake fails (and is retried later).
    let untrusted = SmtpNotifier::new(&config(sink.port(), Security::StartTls)).expect("notifier");
    let err = untrusted
        .deliver(&verification("en"))
        .await
        .expect_err("untrusted certificate");
    assert!(!err.permanent, "{err}");

    let mut trusted = config(sink.port(), Security::StartTls);
    trusted.root_certificate_pem = Some(std::fs::read(&cert).expect("read cert"));
    let notifier = SmtpNotifier::new(&trusted).expect("notifier");
    notifier
        .deliver(&verification("en"))
        .await
        .expect("delivered over STARTTLS");
    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: Verify your email"), "{}", mails[0]);
}

#[test]
fn config_names_the_bad_variable_and_hides_the_password() {
    let lookup = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    };
    assert!(SmtpConfig::from_lookup(lookup(&[])).expect("ok").is_none());
    let err = SmtpConfig::from_lookup(lookup(&[("MAIL_SERVER", "smtp.example.org")])).expect_err("no sender");
    assert!(err.to_string().contains("MAIL_DEFAULT_SENDER"), "{err}");
    let err = SmtpConfig::from_lookup(lookup(&[
        ("MAIL_SERVER", "smtp.example.org"),
        ("MAIL_DEFAULT_SENDER", "a@example.org"),
        ("MAIL_PORT", "seventy"),
    ]))
    .expect_err("bad port");
    assert!(err.to_string().contains("MAIL_PORT"), "{err}");
    let err = SmtpConfig::from_lookup(lookup(&[
        ("MAIL_SERVER", "smtp.example.org"),
        ("MAIL_DEFAULT_SENDER", "a@example.org"),
        ("MAIL_USE_TLS", "true"),
        ("MAIL_USE_SSL", "true"),
    ]))
    .expect_err("both");
    assert!(err.to_string().contains("MAIL_USE_SSL"), "{err}");
    let config = SmtpConfig::from_lookup(lookup(&[
        ("MAIL_SERVER", "smtp.example.org"),
        ("MAIL_DEFAULT_SENDER", "a@example.org"),
        ("MAIL_USE_SSL", "true"),
        ("MAIL_USERNAME", "mailer"),
        ("MAIL_PASSWORD", "hunter2-secret"),
    ]))
    .expect("ok")
    .expect("set");
    assert_eq!((config.port, config.security), (465, Security::Implicit));
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("hunter2-secret") && debug.contains("[redacted]"),
        "{debug}"
    );
}
