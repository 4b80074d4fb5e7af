//! Email templates per outbox kind and language.
//!
//! Each kind has one file per language, `templates/<lang>/<kind>.j2`, extending
//! `templates/layout.html` and defining the blocks `subject` and `text` (and, optionally,
//! `action` for a button in the HTML part). Every file is registered twice: as `….txt` without
//! escaping, whose `subject` and `text` blocks give the subject and the plain-text part, and as
//! `….html` with HTML auto-escaping, whose full rendering through the layout is the HTML part.
//! One source per kind keeps the two parts from drifting apart.
//!
//! The context of a template: `lang`, `kind`, `subject` and `body` (the core's English short
//! texts), `data` (the message's structured data, e.g. `data.token`), `app_url` (the public URL
//! of the application, for links) and `unsubscribe_url`.

use icosistem_core::model::OutboxMessage;
use minijinja::{AutoEscape, Environment, context};

/// Every kind the core writes to the email outbox (`Notice::new` in `icosistem-core/src/service`).
/// A kind here without a template in every language fails [`Templates::check`].
pub const KINDS: &[&str] = &[
    "account_locked",
    "account_status",
    "application_accepted",
    "application_deadline",
    "application_promoted",
    "application_received",
    "application_rejected",
    "application_status",
    "application_submitted",
    "application_waitlisted",
    "application_withdrawn",
    "email_verification",
    "meeting_cancelled",
    "meeting_invitation",
    "meeting_rescheduled",
    "meeting_response",
    "meeting_updated",
    "mentorship_accepted",
    "mentorship_declined",
    "mentorship_matched",
    "mentorship_requested",
    "mentorship_status",
    "message_received",
    "milestone_achieved",
    "milestone_overdue",
    "organization_member_added",
    "organization_status",
    "password_changed",
    "password_reset",
    "program_status",
    "project_created",
    "project_status",
    "review_assigned",
    "review_overdue",
    "session_booked",
    "session_cancelled",
    "session_completed",
    "session_confirmed",
    "session_feedback_received",
    "session_feedback_reminder",
    "session_no_show",
    "session_reminder",
    "session_rescheduled",
    "session_updated",
    "task_assigned",
    "task_completed",
    "webhook_disabled",
    "welcome",
];

/// The languages with templates; the first is the fallback.
pub const LANGUAGES: &[&str] = &["en", "es"];

/// Template for a kind that has none (a kind added to the core before its template): the core's
/// own subject and body, so the mail still goes out.
const GENERIC: &str = "generic";

/// The files under `templates/`, embedded by `build.rs`.
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// Why a message could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template failed to parse or render.
    #[error("template {name}: {source}")]
    Template {
        /// Template name.
        name: String,
        /// The engine's error.
        #[source]
        source: minijinja::Error,
    },
    /// A kind of [`KINDS`] has no template in a language.
    #[error("no email template for kind {kind:?} in {lang:?}")]
    Missing {
        /// Kind.
        kind: String,
        /// Language.
        lang: String,
    },
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line (one line, trimmed).
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

/// The compiled templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    app_url: String,
}

impl Templates {
    /// Compiles every embedded template. `app_url` is the public URL links point to (no
    /// trailing slash needed).
    pub fn new(app_url: impl Into<String>) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        // Blocks keep their own newlines out of the output: `{% block text %}` on its own line
        // does not start the text with a blank line.
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for (file, source) in FILES {
            let added = match file.strip_suffix(".j2") {
                Some(stem) => env
                    .add_template_owned(format!("{stem}.txt"), *source)
                    .and_then(|()| env.add_template_owned(format!("{stem}.html"), *source)),
                None => env.add_template_owned(file.to_string(), *source),
            };
            added.map_err(|source| RenderError::Template {
                name: file.to_string(),
                source,
            })?;
        }
        Ok(Self {
            env,
            app_url: app_url.into().trim_end_matches('/').to_owned(),
        })
    }

    /// Fails on a kind of [`KINDS`] without a template in a language of [`LANGUAGES`], or on a
    /// template that does not render with a sample message. Run at start and in the tests, so a
    /// broken template fails there and not in a delivery.
    pub fn check(&self) -> Result<(), RenderError> {
        for lang in LANGUAGES {
            for kind in KINDS.iter().chain([&GENERIC]) {
                if self.env.get_template(&format!("{lang}/{kind}.txt")).is_err() {
                    return Err(RenderError::Missing {
                        kind: (*kind).to_owned(),
                        lang: (*lang).to_owned(),
                    });
                }
                self.render_parts(lang, kind, &sample_context(lang, kind))?;
            }
        }
        Ok(())
    }

    /// Renders `message` in the language its data carries (`data.language`, written by the
    /// core from the user's `language`), falling back to English; a kind without a template
    /// uses the generic one.
    pub fn render(&self, message: &OutboxMessage) -> Result<Rendered, RenderError> {
        let lang = message_language(message);
        let kind = if self.env.get_template(&format!("{lang}/{}.txt", message.kind)).is_ok() {
            message.kind.as_str()
        } else {
            GENERIC
        };
        let ctx = context! {
            lang => lang,
            kind => &message.kind,
            subject => &message.subject,
            body => &message.body,
            data => &message.data,
            app_url => &self.app_url,
            unsubscribe_url => self.unsubscribe_url(),
        };
        self.render_parts(lang, kind, &ctx)
    }

    /// Where a recipient changes their email preferences (the `List-Unsubscribe` target).
    pub fn unsubscribe_url(&self) -> String {
        format!("{}/settings/notifications", self.app_url)
    }

    fn render_parts(&self, lang: &str, kind: &str, ctx: &minijinja::Value) -> Result<Rendered, RenderError> {
        let err = |name: &str| {
            let name = name.to_owned();
            move |source| RenderError::Template { name, source }
        };
        let txt_name = format!("{lang}/{kind}.txt");
        let html_name = format!("{lang}/{kind}.html");
        let txt = self.env.get_template(&txt_name).map_err(err(&txt_name))?;
        let mut captured = txt.render_captured(ctx).map_err(err(&txt_name))?;
        let subject = captured
            .with_state_mut(|state| state.render_block("subject"))
            .map_err(err(&txt_name))?;
        let text = captured
            .with_state_mut(|state| state.render_block("text"))
            .map_err(err(&txt_name))?;
        let html = self
            .env
            .get_template(&html_name)
            .and_then(|t| t.render(ctx))
            .map_err(err(&html_name))?;
        Ok(Rendered {
            // A header cannot hold a newline; templates may wrap for readability.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: format!("{}\n", text.trim()),
            html,
        })
    }
}

/// The language to render `message` in: `data.language` when templates exist for it, else
/// English.
pub fn message_language(message: &OutboxMessage) -> &'static str {
    let wanted = message.data.get("language").and_then(|v| v.as_str()).unwrap_or("en");
    LANGUAGES.iter().copied().find(|l| *l == wanted).unwrap_or(LANGUAGES[0])
}

/// A context with every field a template may use, for [`Templates::check`].
fn sample_context(lang: &str, kind: &str) -> minijinja::Value {
    context! {
        lang => lang,
        kind => kind,
        subject => "Sample subject",
        body => "Sample body.",
        data => serde_json::json!({
            "token": "sample-token",
            "status": "accepted",
            "language": lang,
        }),
        app_url => "https://icosistem.example",
        unsubscribe_url => "https://icosistem.example/settings/notifications",
    }
}
