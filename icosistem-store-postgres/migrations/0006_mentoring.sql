-- The mentoring side: mentorships, availability, sessions, meetings and their participants,
-- tasks and their dependencies, and the marks that make time-driven jobs idempotent
-- (DOMAIN.md §4.5–§4.9).
--
-- As in 0005, checks state what the core guarantees and nothing more, so no row the core can
-- write is refused here. Unique rules carry the names `PgEntity::UNIQUE` maps to the memory
-- store's fields (`ally_entrepreneur`, `ally`, `meeting_user`, `task_depends_on`, `key`).

CREATE TABLE mentorships (
    id               UUID PRIMARY KEY,
    ally_id          UUID NOT NULL REFERENCES users (id),
    entrepreneur_id  UUID NOT NULL REFERENCES users (id),
    project_id       UUID REFERENCES projects (id),
    status           TEXT NOT NULL
        CHECK (status IN ('requested', 'active', 'paused', 'completed', 'cancelled', 'declined')),
    message          TEXT,
    areas            TEXT[] NOT NULL CHECK (array_position(areas, NULL) IS NULL),
    duration_months  INTEGER NOT NULL CHECK (duration_months BETWEEN 1 AND 24),
    started_at       TIMESTAMPTZ,
    ended_at         TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    created_by       UUID,
    updated_by       UUID,
    version          BIGINT NOT NULL CHECK (version >= 1),
    -- An entrepreneur asks an ally: two people with different roles.
    CONSTRAINT mentorships_parties_check CHECK (ally_id <> entrepreneur_id),
    -- Accepting stamps `started_at`, so active, paused and completed ones have it; requested
    -- and declined ones were never accepted; a cancelled one may have been either.
    CONSTRAINT mentorships_started_at_check CHECK (
        (status NOT IN ('active', 'paused', 'completed') OR started_at IS NOT NULL)
        AND (status NOT IN ('requested', 'declined') OR started_at IS NULL)
    ),
    -- Reaching a terminal status stamps `ended_at`, and only that does.
    CONSTRAINT mentorships_ended_at_check
        CHECK ((status IN ('completed', 'cancelled', 'declined')) = (ended_at IS NOT NULL)),
    -- The target of the sessions' foreign key, which keeps their denormalized parties true.
    CONSTRAINT mentorships_id_parties_key UNIQUE (id, ally_id, entrepreneur_id)
);
-- At most one requested/active/paused relationship per pair (DOMAIN.md §4.5); ended ones
-- release the pair, so a new request may follow a completed mentorship.
CREATE UNIQUE INDEX mentorships_ally_entrepreneur_key ON mentorships (ally_id, entrepreneur_id)
    WHERE status IN ('requested', 'active', 'paused');
-- `?ally_id`, `?entrepreneur_id` (and `participant_id`, an OR of both), by status, newest first;
-- the ally's active-mentee count under the accept lock.
CREATE INDEX mentorships_ally_idx ON mentorships (ally_id, status, id DESC);
CREATE INDEX mentorships_entrepreneur_idx ON mentorships (entrepreneur_id, status, id DESC);
CREATE INDEX mentorships_project_idx ON mentorships (project_id) WHERE project_id IS NOT NULL;

CREATE TABLE availabilities (
    id          UUID PRIMARY KEY,
    ally_id     UUID NOT NULL REFERENCES users (id),
    -- An IANA name, validated against the time zone database by the core.
    timezone    TEXT NOT NULL CHECK (char_length(timezone) BETWEEN 1 AND 64),
    -- `[{"weekday": 0, "start": "09:00:00", "end": "12:00:00"}, …]`; weekdays, order and
    -- overlaps are checked by the core (`rules::availability::check_slots`).
    slots       JSONB NOT NULL CHECK (jsonb_typeof(slots) = 'array'),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    created_by  UUID,
    updated_by  UUID,
    version     BIGINT NOT NULL CHECK (version >= 1),
    -- One weekly schedule per ally; also the index of `?ally_id`.
    CONSTRAINT availabilities_ally_key UNIQUE (ally_id)
);

-- A session's parties are copied from its mentorship for calendar queries; the composite
-- foreign key keeps the copies true (and, through the mentorship, points at real users).
--
-- No exclusion constraint against overlapping bookings: the core decides them under row locks
-- on both people's calendars, counting meetings as well as sessions and a person as ally in one
-- session and entrepreneur in another. A GiST constraint could only compare one column with
-- itself (ally with ally), would need the btree_gist extension, and would refuse rows the
-- memory store keeps (an imported or planted overlap), so the two stores would disagree for
-- the same situation — while adding no protection the locks do not already give.
CREATE TABLE sessions (
    id                     UUID PRIMARY KEY,
    mentorship_id          UUID NOT NULL,
    ally_id                UUID NOT NULL,
    entrepreneur_id        UUID NOT NULL,
    starts_at              TIMESTAMPTZ NOT NULL,
    ends_at                TIMESTAMPTZ NOT NULL,
    -- DOMAIN.md's 15–240 (the defaults of `Limits`); widening the limits needs a migration.
    duration_minutes       INTEGER NOT NULL CHECK (duration_minutes BETWEEN 15 AND 240),
    agenda                 TEXT,
    status                 TEXT NOT NULL
        CHECK (status IN ('scheduled', 'confirmed', 'in_progress', 'completed', 'cancelled', 'no_show')),
    late_cancellation      BOOLEAN NOT NULL DEFAULT FALSE,
    cancel_reason          TEXT,
    reschedule_count       BIGINT NOT NULL DEFAULT 0 CHECK (reschedule_count BETWEEN 0 AND 4294967295),
    summary                TEXT,
    completed_at           TIMESTAMPTZ,
    -- `{"rating": 1–5, "comment": "…" | null, "at": "…"}`, one per side, given once.
    ally_feedback          JSONB CHECK (ally_feedback IS NULL OR (
        jsonb_typeof(ally_feedback -> 'rating') = 'number'
        AND (ally_feedback ->> 'rating')::numeric IN (1, 2, 3, 4, 5)
    )),
    entrepreneur_feedback  JSONB CHECK (entrepreneur_feedback IS NULL OR (
        jsonb_typeof(entrepreneur_feedback -> 'rating') = 'number'
        AND (entrepreneur_feedback ->> 'rating')::numeric IN (1, 2, 3, 4, 5)
    )),
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    created_by             UUID,
    updated_by             UUID,
    version                BIGINT NOT NULL CHECK (version >= 1),
    CONSTRAINT sessions_mentorship_fkey FOREIGN KEY (mentorship_id, ally_id, entrepreneur_id)
        REFERENCES mentorships (id, ally_id, entrepreneur_id),
    -- The end is always the start plus the length (booking and rescheduling both set it so);
    -- this also states `ends_at > starts_at`.
    CONSTRAINT sessions_ends_at_check CHECK (ends_at = starts_at + make_interval(mins => duration_minutes)),
    -- Completing stamps `completed_at` and may record a summary; feedback follows completion.
    CONSTRAINT sessions_completed_check CHECK (
        (status = 'completed') = (completed_at IS NOT NULL)
        AND (status = 'completed' OR (
            summary IS NULL AND ally_feedback IS NULL AND entrepreneur_feedback IS NULL
        ))
    ),
    -- Only a cancellation has a reason or can be late.
    CONSTRAINT sessions_cancelled_check
        CHECK (status = 'cancelled' OR (cancel_reason IS NULL AND NOT late_cancellation))
);
-- Each person's calendar (overlap and per-day checks, `?participant_id` as an OR of both) by time.
CREATE INDEX sessions_ally_starts_idx ON sessions (ally_id, starts_at);
CREATE INDEX sessions_entrepreneur_starts_idx ON sessions (entrepreneur_id, starts_at);
CREATE INDEX sessions_mentorship_idx ON sessions (mentorship_id, id DESC);
-- The reminder and no-show sweeps: waiting sessions starting in a window.
CREATE INDEX sessions_status_starts_idx ON sessions (status, starts_at);
-- The feedback reminder: completed sessions completed at or before a cut-off.
CREATE INDEX sessions_completed_idx ON sessions (completed_at) WHERE status = 'completed';

-- `attendee_ids` is the organizer and every participant, denormalized so a calendar query
-- needs no join: `attendee_ids @> ARRAY[$user]` is answered by the GIN index.
CREATE TABLE meetings (
    id            UUID PRIMARY KEY,
    organizer_id  UUID NOT NULL REFERENCES users (id),
    title         TEXT NOT NULL CHECK (char_length(title) BETWEEN 3 AND 300),
    description   TEXT,
    location      TEXT,
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('scheduled', 'in_progress', 'completed', 'cancelled')),
    attendee_ids  UUID[] NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    created_by    UUID,
    updated_by    UUID,
    version       BIGINT NOT NULL CHECK (version >= 1),
    -- The longest meeting is a `Limits` setting (default 8 h), so only the order is stated.
    CONSTRAINT meetings_time_check CHECK (ends_at > starts_at),
    -- The organizer attends; attendees are ids, never NULL.
    CONSTRAINT meetings_attendees_check
        CHECK (organizer_id = ANY (attendee_ids) AND array_position(attendee_ids, NULL) IS NULL)
);
CREATE INDEX meetings_attendees_idx ON meetings USING GIN (attendee_ids);
CREATE INDEX meetings_time_idx ON meetings (starts_at, ends_at);
CREATE INDEX meetings_organizer_idx ON meetings (organizer_id, id DESC);

CREATE TABLE meeting_participants (
    id            UUID PRIMARY KEY,
    meeting_id    UUID NOT NULL REFERENCES meetings (id),
    user_id       UUID NOT NULL REFERENCES users (id),
    response      TEXT NOT NULL CHECK (response IN ('pending', 'accepted', 'declined', 'tentative')),
    responded_at  TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    created_by    UUID,
    updated_by    UUID,
    version       BIGINT NOT NULL CHECK (version >= 1),
    -- Answering stamps the time; nobody answers "pending".
    CONSTRAINT meeting_participants_responded_check CHECK ((response = 'pending') = (responded_at IS NULL)),
    -- One invitation per person and meeting; also the index of `?meeting_id`.
    CONSTRAINT meeting_participants_meeting_user_key UNIQUE (meeting_id, user_id)
);
CREATE INDEX meeting_participants_user_idx ON meeting_participants (user_id, id DESC);

CREATE TABLE tasks (
    id            UUID PRIMARY KEY,
    owner_id      UUID NOT NULL REFERENCES users (id),
    assignee_id   UUID NOT NULL REFERENCES users (id),
    project_id    UUID REFERENCES projects (id),
    parent_id     UUID,
    title         TEXT NOT NULL CHECK (char_length(title) BETWEEN 3 AND 300),
    description   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('todo', 'in_progress', 'blocked', 'completed', 'cancelled')),
    priority      TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    due_date      DATE,
    progress      INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
    completed_at  TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    created_by    UUID,
    updated_by    UUID,
    version       BIGINT NOT NULL CHECK (version >= 1),
    -- The target of the owner-preserving foreign keys below.
    CONSTRAINT tasks_id_owner_key UNIQUE (id, owner_id),
    -- A subtask belongs to one of its owner's own tasks (never to itself).
    CONSTRAINT tasks_parent_fkey FOREIGN KEY (parent_id, owner_id) REFERENCES tasks (id, owner_id),
    CONSTRAINT tasks_parent_check CHECK (parent_id <> id),
    -- Completing stamps `completed_at` and sets progress to 100.
    CONSTRAINT tasks_completed_check
        CHECK ((status = 'completed') = (completed_at IS NOT NULL) AND (status <> 'completed' OR progress = 100))
);
-- `?owner_id`, `?assignee_id` (and `involving`, an OR of both), `?project_id`, subtasks of a
-- parent (the progress roll-up), each newest first.
CREATE INDEX tasks_owner_idx ON tasks (owner_id, id DESC);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, id DESC);
CREATE INDEX tasks_project_idx ON tasks (project_id, id DESC) WHERE project_id IS NOT NULL;
CREATE INDEX tasks_parent_idx ON tasks (parent_id, id DESC) WHERE parent_id IS NOT NULL;

-- "`task_id` waits for `depends_on`". Both tasks belong to `owner_id` (the row locked while an
-- edge is added, so concurrent additions cannot close a cycle); the foreign keys state it.
-- Acyclicity beyond a self-loop spans rows: the core checks it under that lock.
CREATE TABLE task_dependencies (
    id          UUID PRIMARY KEY,
    task_id     UUID NOT NULL,
    depends_on  UUID NOT NULL,
    owner_id    UUID NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    created_by  UUID,
    updated_by  UUID,
    version     BIGINT NOT NULL CHECK (version >= 1),
    CONSTRAINT task_dependencies_task_fkey FOREIGN KEY (task_id, owner_id) REFERENCES tasks (id, owner_id),
    CONSTRAINT task_dependencies_depends_on_fkey
        FOREIGN KEY (depends_on, owner_id) REFERENCES tasks (id, owner_id),
    CONSTRAINT task_dependencies_self_check CHECK (task_id <> depends_on),
    -- One edge per pair; also the index of `?task_id`.
    CONSTRAINT task_dependencies_task_depends_on_key UNIQUE (task_id, depends_on)
);
CREATE INDEX task_dependencies_depends_on_idx ON task_dependencies (depends_on, id DESC);
CREATE INDEX task_dependencies_owner_idx ON task_dependencies (owner_id, id DESC);

-- Append-only, like the audit log: a mark is written once and never changes, so no version.
CREATE TABLE job_marks (
    id   UUID PRIMARY KEY,
    -- `job:subject`, e.g. `session_reminder_24h:<session id>`.
    key  TEXT NOT NULL CHECK (key <> ''),
    at   TIMESTAMPTZ NOT NULL,
    -- What makes a job idempotent: the second run finds the mark (or loses the race on it).
    CONSTRAINT job_marks_key_key UNIQUE (key)
);
