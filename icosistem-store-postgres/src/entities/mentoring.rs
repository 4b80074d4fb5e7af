//! Mentorships, availability, sessions, meetings and participants, tasks and dependencies, and
//! job marks (`0006_mentoring.sql`).

use icosistem_core::model::value::TimeZoneName;
use icosistem_core::model::{
    Availability, Feedback, JobMark, Meeting, MeetingParticipant, MeetingStatus, Mentorship, MentorshipStatus, Session,
    SessionStatus, Task, TaskDependency,
};
use icosistem_core::ports::store::{
    AvailabilityFilter, DependencyFilter, JobMarkFilter, MeetingFilter, MentorshipFilter, ParticipantFilter,
    SessionFilter, TaskFilter,
};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::identity::{bind_meta, filter_eq, meta};
use crate::entity::{PgEntity, json, parse, to_json, unsigned};
use crate::error::decode_error;

/// The text of every status `keep` selects, to bind as a `TEXT[]` for `status = ANY(…)`. Taken
/// from the core's own predicates (`is_open`, `occupies_calendar`) rather than spelled out here,
/// so the SQL filter cannot drift from [`Entity::matches`](icosistem_core::ports::store::Entity::matches).
fn statuses<S: Copy>(all: &[S], keep: impl Fn(S) -> bool, name: impl Fn(S) -> &'static str) -> Vec<&'static str> {
    all.iter().copied().filter(|s| keep(*s)).map(name).collect()
}

/// Appends `AND (a = $u OR b = $u)`: "this user is on either side".
fn either(qb: &mut QueryBuilder<Postgres>, a: &'static str, b: &'static str, user: Uuid) {
    qb.push(" AND (")
        .push(a)
        .push(" = ")
        .push_bind(user)
        .push(" OR ")
        .push(b)
        .push(" = ")
        .push_bind(user)
        .push(")");
}

/// Appends the `[from, to)` overlap window of sessions and meetings.
fn overlapping(
    qb: &mut QueryBuilder<Postgres>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) {
    if let Some(t) = from {
        qb.push(" AND ends_at > ").push_bind(t);
    }
    if let Some(t) = to {
        qb.push(" AND starts_at < ").push_bind(t);
    }
}

/// Decodes one side's feedback: SQL NULL when not given yet.
fn feedback(row: &PgRow, column: &'static str) -> Result<Option<Feedback>, sqlx::Error> {
    let value: Option<serde_json::Value> = row.try_get(column)?;
    value
        .map(|v| serde_json::from_value(v).map_err(|e| decode_error(column, e)))
        .transpose()
}

impl PgEntity for Mentorship {
    const TABLE: &'static str = "mentorships";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "ally_id",
        "entrepreneur_id",
        "project_id",
        "status",
        "message",
        "areas",
        "duration_months",
        "started_at",
        "ended_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("mentorships_ally_entrepreneur_key", "ally_entrepreneur"),
        // Implied by the primary key; named so a duplicate id reads `id` whichever index fires.
        ("mentorships_id_parties_key", "id"),
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.ally_id))
            .push_bind(Uuid::from(self.entrepreneur_id))
            .push_bind(self.project_id.map(Uuid::from))
            .push_bind(self.status.as_str())
            .push_bind(self.message.clone())
            .push_bind(self.areas.clone())
            .push_bind(i32::from(self.duration_months))
            .push_bind(self.started_at)
            .push_bind(self.ended_at);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Mentorship {
            id: row.try_get::<Uuid, _>("id")?.into(),
            ally_id: row.try_get::<Uuid, _>("ally_id")?.into(),
            entrepreneur_id: row.try_get::<Uuid, _>("entrepreneur_id")?.into(),
            project_id: row.try_get::<Option<Uuid>, _>("project_id")?.map(Into::into),
            status: parse(row, "status")?,
            message: row.try_get("message")?,
            areas: row.try_get("areas")?,
            duration_months: unsigned(row, "duration_months")?,
            started_at: row.try_get("started_at")?,
            ended_at: row.try_get("ended_at")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &MentorshipFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "ally_id", f.ally_id.map(Uuid::from));
        filter_eq!(qb, "entrepreneur_id", f.entrepreneur_id.map(Uuid::from));
        if let Some(user) = f.participant_id {
            either(qb, "ally_id", "entrepreneur_id", user.into());
        }
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        if f.open_only {
            let open = statuses(
                MentorshipStatus::ALL,
                MentorshipStatus::is_open,
                MentorshipStatus::as_str,
            );
            qb.push(" AND status = ANY(").push_bind(open).push(")");
        }
    }
}

impl PgEntity for Availability {
    const TABLE: &'static str = "availabilities";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "ally_id",
        "timezone",
        "slots",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("availabilities_ally_key", "ally")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.ally_id))
            .push_bind(self.timezone.as_str().to_owned())
            .push_bind(to_json(&self.slots));
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Availability {
            id: row.try_get::<Uuid, _>("id")?.into(),
            ally_id: row.try_get::<Uuid, _>("ally_id")?.into(),
            timezone: parse::<TimeZoneName>(row, "timezone")?,
            slots: json(row, "slots")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &AvailabilityFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "ally_id", f.ally_id.map(Uuid::from));
    }
}

impl PgEntity for Session {
    const TABLE: &'static str = "sessions";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "mentorship_id",
        "ally_id",
        "entrepreneur_id",
        "starts_at",
        "ends_at",
        "duration_minutes",
        "agenda",
        "status",
        "late_cancellation",
        "cancel_reason",
        "reschedule_count",
        "summary",
        "completed_at",
        "ally_feedback",
        "entrepreneur_feedback",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.mentorship_id))
            .push_bind(Uuid::from(self.ally_id))
            .push_bind(Uuid::from(self.entrepreneur_id))
            .push_bind(self.starts_at)
            .push_bind(self.ends_at)
            .push_bind(i32::from(self.duration_minutes))
            .push_bind(self.agenda.clone())
            .push_bind(self.status.as_str())
            .push_bind(self.late_cancellation)
            .push_bind(self.cancel_reason.clone())
            .push_bind(i64::from(self.reschedule_count))
            .push_bind(self.summary.clone())
            .push_bind(self.completed_at)
            // `None` must stay SQL NULL (not JSON `null`): `awaiting_feedback` tests IS NULL.
            .push_bind(self.ally_feedback.as_ref().map(to_json))
            .push_bind(self.entrepreneur_feedback.as_ref().map(to_json));
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Session {
            id: row.try_get::<Uuid, _>("id")?.into(),
            mentorship_id: row.try_get::<Uuid, _>("mentorship_id")?.into(),
            ally_id: row.try_get::<Uuid, _>("ally_id")?.into(),
            entrepreneur_id: row.try_get::<Uuid, _>("entrepreneur_id")?.into(),
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            duration_minutes: unsigned(row, "duration_minutes")?,
            agenda: row.try_get("agenda")?,
            status: parse(row, "status")?,
            late_cancellation: row.try_get("late_cancellation")?,
            cancel_reason: row.try_get("cancel_reason")?,
            reschedule_count: unsigned(row, "reschedule_count")?,
            summary: row.try_get("summary")?,
            completed_at: row.try_get("completed_at")?,
            ally_feedback: feedback(row, "ally_feedback")?,
            entrepreneur_feedback: feedback(row, "entrepreneur_feedback")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &SessionFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "mentorship_id", f.mentorship_id.map(Uuid::from));
        filter_eq!(qb, "ally_id", f.ally_id.map(Uuid::from));
        if let Some(user) = f.participant_id {
            either(qb, "ally_id", "entrepreneur_id", user.into());
        }
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        if f.occupying_only {
            let occupying = statuses(
                SessionStatus::ALL,
                SessionStatus::occupies_calendar,
                SessionStatus::as_str,
            );
            qb.push(" AND status = ANY(").push_bind(occupying).push(")");
        }
        overlapping(qb, f.overlapping_from, f.overlapping_to);
        // An empty list means "any status", not "none".
        if !f.status_in.is_empty() {
            let wanted: Vec<&'static str> = f.status_in.iter().map(|s| s.as_str()).collect();
            qb.push(" AND status = ANY(").push_bind(wanted).push(")");
        }
        if let Some(t) = f.starts_after {
            qb.push(" AND starts_at > ").push_bind(t);
        }
        if let Some(t) = f.starts_at_or_before {
            qb.push(" AND starts_at <= ").push_bind(t);
        }
        // Never-completed sessions have a NULL `completed_at`, which no comparison selects.
        if let Some(t) = f.completed_at_or_before {
            qb.push(" AND completed_at <= ").push_bind(t);
        }
        if f.awaiting_feedback {
            qb.push(" AND (ally_feedback IS NULL OR entrepreneur_feedback IS NULL)");
        }
    }
}

impl PgEntity for Meeting {
    const TABLE: &'static str = "meetings";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "organizer_id",
        "title",
        "description",
        "location",
        "starts_at",
        "ends_at",
        "status",
        "attendee_ids",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        let attendees: Vec<Uuid> = self.attendee_ids.iter().copied().map(Uuid::from).collect();
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.organizer_id))
            .push_bind(self.title.clone())
            .push_bind(self.description.clone())
            .push_bind(self.location.clone())
            .push_bind(self.starts_at)
            .push_bind(self.ends_at)
            .push_bind(self.status.as_str())
            .push_bind(attendees);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let attendees: Vec<Uuid> = row.try_get("attendee_ids")?;
        Ok(Meeting {
            id: row.try_get::<Uuid, _>("id")?.into(),
            organizer_id: row.try_get::<Uuid, _>("organizer_id")?.into(),
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            location: row.try_get("location")?,
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            status: parse(row, "status")?,
            attendee_ids: attendees.into_iter().map(Into::into).collect(),
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &MeetingFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "organizer_id", f.organizer_id.map(Uuid::from));
        // Containment (not `= ANY`) so the GIN index on `attendee_ids` answers it.
        if let Some(user) = f.attendee_id {
            qb.push(" AND attendee_ids @> ARRAY[")
                .push_bind(Uuid::from(user))
                .push("]::uuid[]");
        }
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        if f.occupying_only {
            qb.push(" AND status <> ").push_bind(MeetingStatus::Cancelled.as_str());
        }
        overlapping(qb, f.overlapping_from, f.overlapping_to);
    }
}

impl PgEntity for MeetingParticipant {
    const TABLE: &'static str = "meeting_participants";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "meeting_id",
        "user_id",
        "response",
        "responded_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("meeting_participants_meeting_user_key", "meeting_user")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.meeting_id))
            .push_bind(Uuid::from(self.user_id))
            .push_bind(self.response.as_str())
            .push_bind(self.responded_at);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(MeetingParticipant {
            id: row.try_get::<Uuid, _>("id")?.into(),
            meeting_id: row.try_get::<Uuid, _>("meeting_id")?.into(),
            user_id: row.try_get::<Uuid, _>("user_id")?.into(),
            response: parse(row, "response")?,
            responded_at: row.try_get("responded_at")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &ParticipantFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "meeting_id", f.meeting_id.map(Uuid::from));
        filter_eq!(qb, "user_id", f.user_id.map(Uuid::from));
    }
}

impl PgEntity for Task {
    const TABLE: &'static str = "tasks";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "owner_id",
        "assignee_id",
        "project_id",
        "parent_id",
        "title",
        "description",
        "status",
        "priority",
        "due_date",
        "progress",
        "completed_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    // Implied by the primary key; named so a duplicate id reads `id` whichever index fires.
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("tasks_id_owner_key", "id")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.owner_id))
            .push_bind(Uuid::from(self.assignee_id))
            .push_bind(self.project_id.map(Uuid::from))
            .push_bind(self.parent_id.map(Uuid::from))
            .push_bind(self.title.clone())
            .push_bind(self.description.clone())
            .push_bind(self.status.as_str())
            .push_bind(self.priority.as_str())
            .push_bind(self.due_date)
            .push_bind(i32::from(self.progress.get()))
            .push_bind(self.completed_at);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Task {
            id: row.try_get::<Uuid, _>("id")?.into(),
            owner_id: row.try_get::<Uuid, _>("owner_id")?.into(),
            assignee_id: row.try_get::<Uuid, _>("assignee_id")?.into(),
            project_id: row.try_get::<Option<Uuid>, _>("project_id")?.map(Into::into),
            parent_id: row.try_get::<Option<Uuid>, _>("parent_id")?.map(Into::into),
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            status: parse(row, "status")?,
            priority: parse(row, "priority")?,
            due_date: row.try_get("due_date")?,
            progress: unsigned(row, "progress")?,
            completed_at: row.try_get("completed_at")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &TaskFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "owner_id", f.owner_id.map(Uuid::from));
        filter_eq!(qb, "assignee_id", f.assignee_id.map(Uuid::from));
        if let Some(user) = f.involving {
            either(qb, "owner_id", "assignee_id", user.into());
        }
        // Tasks without a project or parent never match: NULL = $1 is not true.
        filter_eq!(qb, "project_id", f.project_id.map(Uuid::from));
        filter_eq!(qb, "parent_id", f.parent_id.map(Uuid::from));
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
    }
}

impl PgEntity for TaskDependency {
    const TABLE: &'static str = "task_dependencies";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "task_id",
        "depends_on",
        "owner_id",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("task_dependencies_task_depends_on_key", "task_depends_on")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.task_id))
            .push_bind(Uuid::from(self.depends_on))
            .push_bind(Uuid::from(self.owner_id));
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(TaskDependency {
            id: row.try_get::<Uuid, _>("id")?.into(),
            task_id: row.try_get::<Uuid, _>("task_id")?.into(),
            depends_on: row.try_get::<Uuid, _>("depends_on")?.into(),
            owner_id: row.try_get::<Uuid, _>("owner_id")?.into(),
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &DependencyFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "task_id", f.task_id.map(Uuid::from));
        filter_eq!(qb, "depends_on", f.depends_on.map(Uuid::from));
        filter_eq!(qb, "owner_id", f.owner_id.map(Uuid::from));
    }
}

impl PgEntity for JobMark {
    const TABLE: &'static str = "job_marks";
    const COLUMNS: &'static [&'static str] = &["id", "key", "at"];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("job_marks_key_key", "key")];
    // Append-only: no version column; the core's `version()` is always 1.
    const VERSIONED: bool = false;

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(self.key.clone())
            .push_bind(self.at);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(JobMark {
            id: row.try_get::<Uuid, _>("id")?.into(),
            key: row.try_get("key")?,
            at: row.try_get("at")?,
        })
    }

    fn push_filter(f: &JobMarkFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "key", f.key.clone());
    }

    // The core's `mark_once` counts the key, then inserts it. Two runs of a job at once would
    // both count zero and the second would fail on the unique key (a job failure the memory
    // store, serializing units of work, never reports); locking the key makes the second wait
    // for the first to commit and then find its mark.
    fn lock_key(f: &JobMarkFilter) -> Option<String> {
        f.key.as_ref().map(|key| format!("key:{key}"))
    }
}
