-- Programs and selection: applications, reviews, enrollments (DOMAIN.md §3, §4.1, §4.2).
--
-- Checks state what the core guarantees, never more: a row the core can write must never be
-- refused here. The capacity invariant of §4.2 (`accepted_count ≤ max_participants`) is a check
-- on the program row; the core decides it under that row's lock (`get_for_update`).

CREATE TABLE programs (
    id                    UUID PRIMARY KEY,
    organization_id       UUID NOT NULL REFERENCES organizations (id),
    name                  TEXT NOT NULL CHECK (char_length(name) BETWEEN 2 AND 200),
    slug                  TEXT NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    program_type          TEXT NOT NULL CHECK (program_type IN (
                              'incubation', 'acceleration', 'mentorship', 'training', 'bootcamp', 'competition',
                              'funding', 'pre_incubation', 'scale_up', 'social_impact', 'other')),
    status                TEXT NOT NULL CHECK (status IN ('draft', 'published', 'in_progress', 'completed', 'cancelled')),
    description           TEXT CHECK (char_length(description) <= 10000),
    application_opens_at  TIMESTAMPTZ NOT NULL,
    application_deadline  TIMESTAMPTZ NOT NULL,
    start_date            DATE NOT NULL,
    end_date              DATE NOT NULL,
    min_participants      INTEGER NOT NULL CHECK (min_participants >= 1),
    max_participants      INTEGER NOT NULL CHECK (max_participants BETWEEN 1 AND 1000),
    accepted_count        INTEGER NOT NULL CHECK (accepted_count >= 0),
    min_reviews           INTEGER NOT NULL CHECK (min_reviews BETWEEN 1 AND 20),
    blind_review          BOOLEAN NOT NULL,
    target_sectors        TEXT[] NOT NULL,
    target_stages         TEXT[] NOT NULL CHECK (target_stages <@ ARRAY[
                              'idea', 'concept', 'prototype', 'validation', 'development', 'pilot',
                              'testing', 'launch', 'growth', 'scaling', 'mature', 'pivoting']::TEXT[]),
    format                TEXT NOT NULL CHECK (format IN ('presential', 'virtual', 'hybrid')),
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    created_by            UUID,
    updated_by            UUID,
    version               BIGINT NOT NULL CHECK (version >= 1),
    deleted_at            TIMESTAMPTZ,
    deleted_by            UUID,
    CONSTRAINT programs_participants_check CHECK (min_participants <= max_participants),
    CONSTRAINT programs_capacity_check CHECK (accepted_count <= max_participants),
    -- The schedule rules the core checks on every create and edit: the window opens before its
    -- deadline, the program starts on a day after the deadline's (UTC) day and ends after it
    -- starts.
    CONSTRAINT programs_schedule_check CHECK (
        application_opens_at < application_deadline
        AND start_date > (application_deadline AT TIME ZONE 'UTC')::DATE
        AND end_date > start_date
    )
);
-- Slugs are unique among live programs; deleting one releases its slug.
CREATE UNIQUE INDEX programs_slug_key ON programs (slug) WHERE deleted_at IS NULL;
-- The list filters (`?organization_id&status`), each newest first.
CREATE INDEX programs_organization_idx ON programs (organization_id, status, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX programs_status_idx ON programs (status, id DESC) WHERE deleted_at IS NULL;
-- `?accepting=true` (published ∧ opens_at ≤ now < deadline) and the deadline-notice job
-- (deadline ≤ t): published programs by deadline. The query spells `status = 'published'` as a
-- literal so the planner matches this partial index.
CREATE INDEX programs_accepting_idx ON programs (application_deadline, application_opens_at)
    WHERE status = 'published' AND deleted_at IS NULL;

CREATE TABLE applications (
    id                UUID PRIMARY KEY,
    program_id        UUID NOT NULL REFERENCES programs (id),
    -- Both through `applications_project_applicant_fkey` (and the project's owner is a user).
    project_id        UUID NOT NULL,
    applicant_id      UUID NOT NULL,
    answers           JSONB NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    status            TEXT NOT NULL CHECK (status IN (
                          'draft', 'submitted', 'under_review', 'accepted', 'rejected', 'waitlisted', 'withdrawn')),
    submitted_at      TIMESTAMPTZ,
    decided_at        TIMESTAMPTZ,
    decision_note     TEXT CHECK (char_length(decision_note) <= 5000),
    -- Mean of 0–100 scores, × 100.
    mean_score_centi  INTEGER CHECK (mean_score_centi BETWEEN 0 AND 10000),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    created_by        UUID,
    updated_by        UUID,
    version           BIGINT NOT NULL CHECK (version >= 1),
    -- The applicant is the project's owner.
    CONSTRAINT applications_project_applicant_fkey
        FOREIGN KEY (project_id, applicant_id) REFERENCES projects (id, owner_id),
    -- Every status past `draft` was reached by submitting (a draft may be withdrawn unsubmitted),
    -- and every decision stamps its instant.
    CONSTRAINT applications_submitted_check CHECK (status IN ('draft', 'withdrawn') OR submitted_at IS NOT NULL),
    CONSTRAINT applications_decided_check
        CHECK (status NOT IN ('accepted', 'rejected', 'waitlisted') OR decided_at IS NOT NULL),
    -- The target of the enrollments' composite key.
    CONSTRAINT applications_identity_key UNIQUE (id, program_id, project_id, applicant_id)
);
-- One application per (program, project) among those not withdrawn.
CREATE UNIQUE INDEX applications_program_project_key ON applications (program_id, project_id)
    WHERE status <> 'withdrawn';
-- Program staff's list (`?program_id&status`), "mine", a project's applications, newest first.
CREATE INDEX applications_program_status_idx ON applications (program_id, status, id DESC);
CREATE INDEX applications_applicant_idx ON applications (applicant_id, id DESC);
CREATE INDEX applications_project_idx ON applications (project_id, id DESC);
-- Every application in one status, and the review-overdue job (under review, submitted at or
-- before a cut-off).
CREATE INDEX applications_status_submitted_idx ON applications (status, submitted_at);

-- A reviewer's assignment to an application and, once submitted, the review.
CREATE TABLE reviews (
    id                 UUID PRIMARY KEY,
    application_id     UUID NOT NULL REFERENCES applications (id),
    reviewer_id        UUID NOT NULL REFERENCES users (id),
    score              INTEGER CHECK (score BETWEEN 0 AND 100),
    comment            TEXT CHECK (char_length(comment) <= 5000),
    conflict_declared  BOOLEAN NOT NULL,
    submitted_at       TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    created_by         UUID,
    updated_by         UUID,
    version            BIGINT NOT NULL CHECK (version >= 1),
    -- An assignment carries nothing of a review until the reviewer submits it.
    CONSTRAINT reviews_pending_check
        CHECK (submitted_at IS NOT NULL OR (score IS NULL AND comment IS NULL AND NOT conflict_declared))
);
-- One review per (application, reviewer); its prefix answers an application's reviews.
CREATE UNIQUE INDEX reviews_application_reviewer_key ON reviews (application_id, reviewer_id);
-- A reviewer's assignments, newest first.
CREATE INDEX reviews_reviewer_idx ON reviews (reviewer_id, id DESC);

CREATE TABLE enrollments (
    id               UUID PRIMARY KEY,
    -- All four through `enrollments_application_fkey`: the application's own keys reach the
    -- program, the project and its owner.
    program_id       UUID NOT NULL,
    application_id   UUID NOT NULL,
    project_id       UUID NOT NULL,
    entrepreneur_id  UUID NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('enrolled', 'active', 'completed', 'graduated', 'dropped_out')),
    ended_at         TIMESTAMPTZ,
    drop_reason      TEXT CHECK (char_length(drop_reason) <= 2000),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    created_by       UUID,
    updated_by       UUID,
    version          BIGINT NOT NULL CHECK (version >= 1),
    -- An enrollment mirrors the application that created it: same program, project, person.
    CONSTRAINT enrollments_application_fkey FOREIGN KEY (application_id, program_id, project_id, entrepreneur_id)
        REFERENCES applications (id, program_id, project_id, applicant_id),
    -- Reaching a terminal status stamps `ended_at`; terminal statuses are final.
    CONSTRAINT enrollments_ended_check
        CHECK ((status IN ('completed', 'graduated', 'dropped_out')) = (ended_at IS NOT NULL))
);
-- One enrollment per application.
CREATE UNIQUE INDEX enrollments_application_key ON enrollments (application_id);
-- A program's enrollments (by status when the program starts or completes), a person's.
CREATE INDEX enrollments_program_idx ON enrollments (program_id, status, id DESC);
CREATE INDEX enrollments_entrepreneur_idx ON enrollments (entrepreneur_id, id DESC);
