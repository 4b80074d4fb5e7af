//! Mentorships, availability, sessions, meetings and participants, tasks and dependencies, and
//! job marks (`0006_mentoring.sql`).

use icosistem_core::model::{
    Availability, JobMark, Meeting, MeetingParticipant, MeetingStatus, Mentorship, MentorshipStatus, Meta, Session,
    SessionStatus, Task, TaskDependency,
};
use icosistem_core::ports::store::{
    AvailabilityFilter, DependencyFilter, JobMarkFilter, MeetingFilter, MentorshipFilter, ParticipantFilter,
    SessionFilter, TaskFilter,
};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::entity::PgEntity;
use crate::mapping::{filter_eq, pg_mapping};

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

impl PgEntity for Mentorship {
    pg_mapping! {
        table: "mentorships",
        id: id,
        ally_id: id,
        entrepreneur_id: id,
        project_id: opt_id,
        status: text,
        message: value,
        areas: value,
        duration_months: int,
        started_at: value,
        ended_at: value,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("mentorships_ally_entrepreneur_key", "ally_entrepreneur"),
        // Implied by the primary key; named so a duplicate id reads `id` whichever index fires.
        ("mentorships_id_parties_key", "id"),
    ];

    fn push_filter(f: &MentorshipFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, ally_id: id, entrepreneur_id: id, status: text);
        if let Some(user) = f.participant_id {
            either(qb, "ally_id", "entrepreneur_id", user.into());
        }
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
    pg_mapping! {
        table: "availabilities",
        id: id,
        ally_id: id,
        timezone: text,
        slots: json,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("availabilities_ally_key", "ally")];

    fn push_filter(f: &AvailabilityFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, ally_id: id);
    }
}

impl PgEntity for Session {
    // A feedback not given yet is SQL NULL (not JSON `null`): `awaiting_feedback` tests IS NULL.
    pg_mapping! {
        table: "sessions",
        id: id,
        mentorship_id: id,
        ally_id: id,
        entrepreneur_id: id,
        starts_at: value,
        ends_at: value,
        duration_minutes: int,
        agenda: value,
        status: text,
        late_cancellation: value,
        cancel_reason: value,
        reschedule_count: bigint,
        summary: value,
        completed_at: value,
        ally_feedback: opt_json,
        entrepreneur_feedback: opt_json,
        meta: nested(Meta),
    }

    fn push_filter(f: &SessionFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, mentorship_id: id, ally_id: id, status: text);
        if let Some(user) = f.participant_id {
            either(qb, "ally_id", "entrepreneur_id", user.into());
        }
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
    pg_mapping! {
        table: "meetings",
        id: id,
        organizer_id: id,
        title: value,
        description: value,
        location: value,
        starts_at: value,
        ends_at: value,
        status: text,
        attendee_ids: ids,
        meta: nested(Meta),
    }

    fn push_filter(f: &MeetingFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, organizer_id: id, status: text);
        // Containment (not `= ANY`) so the GIN index on `attendee_ids` answers it.
        if let Some(user) = f.attendee_id {
            qb.push(" AND attendee_ids @> ARRAY[")
                .push_bind(Uuid::from(user))
                .push("]::uuid[]");
        }
        if f.occupying_only {
            qb.push(" AND status <> ").push_bind(MeetingStatus::Cancelled.as_str());
        }
        overlapping(qb, f.overlapping_from, f.overlapping_to);
    }
}

impl PgEntity for MeetingParticipant {
    pg_mapping! {
        table: "meeting_participants",
        id: id,
        meeting_id: id,
        user_id: id,
        response: text,
        responded_at: value,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("meeting_participants_meeting_user_key", "meeting_user")];

    fn push_filter(f: &ParticipantFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, meeting_id: id, user_id: id);
    }
}

impl PgEntity for Task {
    pg_mapping! {
        table: "tasks",
        id: id,
        owner_id: id,
        assignee_id: id,
        project_id: opt_id,
        parent_id: opt_id,
        title: value,
        description: value,
        status: text,
        priority: text,
        due_date: value,
        progress: int,
        completed_at: value,
        meta: nested(Meta),
    }
    // Implied by the primary key; named so a duplicate id reads `id` whichever index fires.
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("tasks_id_owner_key", "id")];

    fn push_filter(f: &TaskFilter, qb: &mut QueryBuilder<Postgres>) {
        // Tasks without a project or parent never match: NULL = $1 is not true.
        filter_eq!(qb, f, owner_id: id, assignee_id: id, project_id: id, parent_id: id, status: text);
        if let Some(user) = f.involving {
            either(qb, "owner_id", "assignee_id", user.into());
        }
    }
}

impl PgEntity for TaskDependency {
    pg_mapping! {
        table: "task_dependencies",
        id: id,
        task_id: id,
        depends_on: id,
        owner_id: id,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("task_dependencies_task_depends_on_key", "task_depends_on")];

    fn push_filter(f: &DependencyFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, task_id: id, depends_on: id, owner_id: id);
    }
}

impl PgEntity for JobMark {
    // Append-only: no version column; the core's `version()` is always 1.
    pg_mapping! {
        table: "job_marks",
        id: id,
        key: value,
        at: value,
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("job_marks_key_key", "key")];
    const VERSIONED: bool = false;

    fn push_filter(f: &JobMarkFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, key: value);
    }

    // The core's `mark_once` counts the key, then inserts it. Two runs of a job at once would
    // both count zero and the second would fail on the unique key (a job failure the memory
    // store, serializing units of work, never reports); locking the key makes the second wait
    // for the first to commit and then find its mark.
    fn lock_key(f: &JobMarkFilter) -> Option<String> {
        f.key.as_ref().map(|key| format!("key:{key}"))
    }
}
