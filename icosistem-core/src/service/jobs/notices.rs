//! The texts the jobs send: each notice is composed for its reader, so times read in the
//! reader's own time zone.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::model::{Application, Milestone, Program, Project, Session, User};
use crate::service::Notice;
use crate::service::sessions::span;

/// An instant as a notification text shows it: in the reader's own time zone, named (the
/// `data` carries the exact RFC 3339 instant besides).
fn local_time(at: DateTime<Utc>, reader: &User) -> String {
    format!(
        "{} ({})",
        at.with_timezone(&reader.timezone.tz()).format("%Y-%m-%d %H:%M"),
        reader.timezone
    )
}

pub(super) fn session_reminder_notice(session: &Session, lead: Duration, reader: &User) -> Notice {
    let at = local_time(session.starts_at, reader);
    Notice::new(
        "session_reminder",
        format!("Mentoring session at {at}"),
        format!(
            "Reminder: your mentoring session starts at {at} (this reminder goes out {} before).",
            span(lead)
        ),
        json!({
            "session_id": session.id,
            "mentorship_id": session.mentorship_id,
            "starts_at": session.starts_at,
            "minutes_before": lead.num_minutes(),
        }),
    )
}

pub(super) fn feedback_reminder_notice(session: &Session, reader: &User) -> Notice {
    Notice::new(
        "session_feedback_reminder",
        "How was your mentoring session?",
        format!(
            "Please rate the mentoring session on {} (1–5) and leave a comment if you like.",
            local_time(session.starts_at, reader)
        ),
        json!({ "session_id": session.id, "mentorship_id": session.mentorship_id }),
    )
}

pub(super) fn overdue_milestone_notice(milestone: &Milestone, project: &Project) -> Notice {
    Notice::new(
        "milestone_overdue",
        format!("Milestone overdue: {}", milestone.title),
        format!(
            "The milestone {} of {} was due on {} and is not completed. Complete it or delay it to a new date.",
            milestone.title, project.name, milestone.target_date
        ),
        json!({
            "milestone_id": milestone.id,
            "project_id": milestone.project_id,
            "target_date": milestone.target_date,
        }),
    )
}

pub(super) fn review_overdue_notice(app: &Application, program: &Program, after: Duration) -> Notice {
    Notice::new(
        "review_overdue",
        format!("Review overdue in {}", program.name),
        format!(
            "An application to {} has been under review for more than {} days.",
            program.name,
            after.num_days()
        ),
        json!({ "application_id": app.id, "program_id": program.id }),
    )
}

pub(super) fn deadline_notice(app: &Application, program: &Program, reader: &User) -> Notice {
    let at = local_time(program.application_deadline, reader);
    Notice::new(
        "application_deadline",
        format!("Applications to {} close at {at}", program.name),
        format!(
            "Your application to {} is still a draft. Submit it before {at}, when applications close.",
            program.name
        ),
        json!({
            "application_id": app.id,
            "program_id": program.id,
            "deadline": program.application_deadline,
        }),
    )
}
