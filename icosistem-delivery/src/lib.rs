//! Delivery channels for the outbox of `icosistem-core` (docs/domain.md §8 "Email", "Webhooks").
//!
//! The core commits every outbox message with the change that caused it and hands it to a
//! [`Notifier`](icosistem_core::ports::Notifier) later; this crate holds the email side of that
//! port, kept out of the core so the domain stays free of I/O.
//!
//! # Layout
//!
//! - [`templates`]: the email templates (one per outbox kind, `es` and `en`, a shared HTML
//!   layout), embedded at build time from `templates/` and rendered with minijinja
//!   (auto-escaping in HTML). [`Templates::check`] fails on a missing kind or a syntax error;
//!   call it at start.
//! - [`calendar`]: iCalendar rendering of the core's `CalendarEntry` with the `icalendar`
//!   crate — the invite (`METHOD:REQUEST`, or `METHOD:CANCEL`) a session or meeting email
//!   carries and a user's private feed (`METHOD:PUBLISH`), one code path for both.
//! - [`smtp`] (feature `smtp`): [`SmtpConfig`] read from the seed's `MAIL_*` variables and
//!   [`SmtpNotifier`], the `Notifier` sending multipart text+HTML mail (plus the iCalendar
//!   invite of a session or meeting message) through a pooled lettre transport (STARTTLS,
//!   implicit TLS or plain), classifying 5xx answers as permanent.
//! - `testing` (feature `testing`): a real SMTP server (aiosmtpd) for the tests of any crate.
//! - [`webhook`] (feature `webhook`): [`WebhookNotifier`], POSTing signed webhook messages with
//!   reqwest (rustls, timeouts, no redirects, private targets refused unless allowed by
//!   [`WebhookConfig`]), and [`WithWebhooks`], which routes webhook messages to it and every
//!   other channel to the notifier it wraps.

pub mod calendar;
pub mod templates;

#[cfg(feature = "smtp")]
pub mod smtp;

#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "webhook")]
pub mod webhook;

#[cfg(feature = "smtp")]
pub use smtp::{ConfigError, Security, SmtpConfig, SmtpNotifier};
pub use templates::{KINDS, LANGUAGES, RenderError, Rendered, Templates};
#[cfg(feature = "webhook")]
pub use webhook::{WebhookConfig, WebhookConfigError, WebhookNotifier, WithWebhooks};
