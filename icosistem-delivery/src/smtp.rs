//! SMTP delivery of email outbox messages with lettre (tokio, rustls).

use std::fmt;
use std::time::Duration;

use icosistem_core::model::{OutboxChannel, OutboxMessage};
use icosistem_core::ports::{DeliveryError, Notifier};
use lettre::message::header::ContentType;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::calendar;
use crate::templates::{RenderError, Templates};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which is required (`MAIL_USE_TLS=true`; port 587).
    StartTls,
    /// TLS from the first byte (`MAIL_USE_SSL=true`; port 465).
    Implicit,
    /// No TLS: only for a local relay or tests (both flags false; port 25).
    Plain,
}

/// A configuration variable that is missing or malformed; names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{0} is required when MAIL_SERVER is set")]
    Missing(&'static str),
    /// A variable does not parse.
    #[error("{name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// A secret kept out of `Debug` output and logs.
#[derive(Clone)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

/// Where and how to send mail.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Host name (`MAIL_SERVER`); also the name checked against the server's certificate.
    pub server: String,
    /// Port (`MAIL_PORT`; default by security: 587, 465 or 25).
    pub port: u16,
    /// STARTTLS, implicit TLS or plain.
    pub security: Security,
    /// `MAIL_USERNAME`; authentication is used when set.
    pub username: Option<String>,
    password: Option<Secret>,
    /// `MAIL_DEFAULT_SENDER`, e.g. `Icosistem <no-reply@icosistem.org>`.
    pub sender: Mailbox,
    /// Public URL of the application, for links (`ICOSISTEM_PUBLIC_URL`).
    pub app_url: String,
    /// Connect and command timeout (`MAIL_TIMEOUT_SECS`, default 10).
    pub timeout: Duration,
    /// Most pooled connections (`MAIL_POOL_SIZE`, default 4).
    pub pool_size: u32,
    /// An extra trusted root certificate (PEM), for a relay with a private CA (and the tests).
    pub root_certificate_pem: Option<Vec<u8>>,
}

impl SmtpConfig {
    /// Reads the seed's `MAIL_*` variables from the process environment. `Ok(None)` when
    /// `MAIL_SERVER` is unset or empty (no SMTP configured).
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(server) = get("MAIL_SERVER") else {
            return Ok(None);
        };
        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match get(name).map(|v| v.to_ascii_lowercase()) {
                None => Ok(false),
                Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
                Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
                Some(v) => Err(ConfigError::Invalid {
                    name,
                    reason: format!("{v:?} is not true or false"),
                }),
            }
        };
        let security = match (flag("MAIL_USE_TLS")?, flag("MAIL_USE_SSL")?) {
            (true, true) => {
                return Err(ConfigError::Invalid {
                    name: "MAIL_USE_SSL",
                    reason: "MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL (implicit TLS) exclude each other".into(),
                });
            }
            (true, false) => Security::StartTls,
            (false, true) => Security::Implicit,
            (false, false) => Security::Plain,
        };
        let port = match get("MAIL_PORT") {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or(ConfigError::Invalid {
                name: "MAIL_PORT",
                reason: format!("{p:?} is not a port number"),
            })?,
            None => match security {
                Security::StartTls => 587,
                Security::Implicit => 465,
                Security::Plain => 25,
            },
        };
        let username = get("MAIL_USERNAME");
        let password = get("MAIL_PASSWORD").map(Secret);
        if username.is_some() != password.is_some() {
            return Err(ConfigError::Missing(if username.is_some() {
                "MAIL_PASSWORD"
            } else {
                "MAIL_USERNAME"
            }));
        }
        let sender = get("MAIL_DEFAULT_SENDER")
            .ok_or(ConfigError::Missing("MAIL_DEFAULT_SENDER"))?
            .parse::<Mailbox>()
            .map_err(|e| ConfigError::Invalid {
                name: "MAIL_DEFAULT_SENDER",
                reason: e.to_string(),
            })?;
        let app_url = get("ICOSISTEM_PUBLIC_URL").unwrap_or_else(|| "http://localhost:8000".to_owned());
        let positive = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or(ConfigError::Invalid {
                    name,
                    reason: format!("{v:?} is not a whole number of at least 1"),
                }),
            }
        };
        let timeout = Duration::from_secs(positive("MAIL_TIMEOUT_SECS", 10)?.into());
        let pool_size = positive("MAIL_POOL_SIZE", 4)?;
        Ok(Some(Self {
            server,
            port,
            security,
            username,
            password,
            sender,
            app_url,
            timeout,
            pool_size,
            root_certificate_pem: None,
        }))
    }

    /// Sets the password (the field is private so `Debug` never shows it).
    pub fn with_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Secret(password.into()));
        self
    }
}

/// The outbox id of a message, sent so a receiver (or a support person) can spot a duplicate
/// after a retry that followed a lost `250 OK`.
#[derive(Debug, Clone)]
struct OutboxIdHeader(String);

impl Header for OutboxIdHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Icosistem-Outbox-Id")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe: <url>` (RFC 2369), so mail clients offer the preferences page.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim_matches(['<', '>']).to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// Delivers email outbox messages over SMTP, rendered from [`Templates`].
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    templates: Templates,
    sender: Mailbox,
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

/// Why an [`SmtpNotifier`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The TLS parameters (e.g. the extra root certificate) are invalid.
    #[error("SMTP TLS setup: {0}")]
    Tls(#[source] lettre::transport::smtp::Error),
    /// A template is missing or broken.
    #[error(transparent)]
    Templates(#[from] RenderError),
}

impl SmtpNotifier {
    /// Builds the pooled transport (connections open lazily, on the first delivery) and
    /// checks every template.
    pub fn new(config: &SmtpConfig) -> Result<Self, BuildError> {
        let templates = Templates::new(config.app_url.clone())?;
        templates.check()?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.server.clone())
            .port(config.port)
            .timeout(Some(config.timeout))
            .pool_config(PoolConfig::new().max_size(config.pool_size));
        if config.security != Security::Plain {
            let mut tls = TlsParameters::builder(config.server.clone());
            if let Some(pem) = &config.root_certificate_pem {
                tls = tls.add_root_certificate(Certificate::from_pem(pem).map_err(BuildError::Tls)?);
            }
            let tls = tls.build_rustls().map_err(BuildError::Tls)?;
            builder = builder.tls(match config.security {
                Security::StartTls => Tls::Required(tls),
                _ => Tls::Wrapper(tls),
            });
        }
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            templates,
            sender: config.sender.clone(),
        })
    }

    /// The rendered templates (for previews and tests).
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    fn build(&self, message: &OutboxMessage) -> Result<Message, DeliveryError> {
        let rendered = self
            .templates
            .render(message)
            .map_err(|e| DeliveryError::permanent(e.to_string()))?;
        let to = message
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| DeliveryError::permanent(format!("bad recipient address: {e}")))?;
        let domain = self.sender.email.domain();
        Message::builder()
            .from(self.sender.clone())
            .to(to)
            .subject(rendered.subject)
            // Stable per outbox message: a retry re-sends the same Message-ID, which lets the
            // receiving side deduplicate.
            .message_id(Some(format!("<{}@{domain}>", message.id)))
            .header(OutboxIdHeader(message.id.to_string()))
            .header(ListUnsubscribe(self.templates.unsubscribe_url()))
            .multipart(body(rendered.text, rendered.html, message)?)
            .map_err(|e| DeliveryError::permanent(format!("cannot build the email: {e}")))
    }
}

impl Notifier for SmtpNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        if message.channel != OutboxChannel::Email {
            return Err(DeliveryError::permanent(format!(
                "the SMTP notifier delivers email, not {}",
                message.channel
            )));
        }
        let email = self.build(message)?;
        self.transport.send(email).await.map(drop).map_err(classify)
    }
}

/// The text and HTML parts, and for a session or meeting message (`data.calendar`) its
/// iCalendar invite twice, as mail clients look for it: a `text/calendar; method=…` alternative
/// (Gmail and Outlook show the accept/decline bar from it) and an `invite.ics` attachment (for
/// clients that only import attachments).
fn body(text: String, html: String, message: &OutboxMessage) -> Result<MultiPart, DeliveryError> {
    let entry = calendar::entry_of(message)
        .map_err(|e| DeliveryError::permanent(format!("bad calendar entry in the message data: {e}")))?;
    let Some(entry) = entry else {
        return Ok(MultiPart::alternative_plain_html(text, html));
    };
    let ics = calendar::invite(&entry);
    let content_type = |value: &str| {
        ContentType::parse(value).map_err(|e| DeliveryError::permanent(format!("bad content type {value:?}: {e}")))
    };
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(text))
        .singlepart(SinglePart::html(html))
        .singlepart(
            SinglePart::builder()
                .content_type(content_type(&calendar::invite_content_type(&entry))?)
                .body(ics.clone()),
        );
    Ok(MultiPart::mixed().multipart(alternative).singlepart(
        Attachment::new("invite.ics".to_owned()).body(ics, content_type("application/ics; name=\"invite.ics\"")?),
    ))
}

/// 5xx answers are permanent (the outbox marks the message failed); 4xx answers, timeouts and
/// connection or TLS failures may pass later and are retried.
fn classify(error: lettre::transport::smtp::Error) -> DeliveryError {
    let message = format!("SMTP: {error}");
    let mut out = if error.is_permanent() {
        DeliveryError::permanent(message)
    } else {
        DeliveryError::transient(message)
    };
    out.source = Some(Box::new(error));
    out
}
