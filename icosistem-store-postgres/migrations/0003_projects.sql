-- Projects and their milestones (DOMAIN.md §3, §4.3, §4.4).
--
-- Checks state what the core guarantees, never more: a row the core can write must never be
-- refused here.

CREATE TABLE projects (
    id                           UUID PRIMARY KEY,
    owner_id                     UUID NOT NULL REFERENCES users (id),
    name                         TEXT NOT NULL CHECK (char_length(name) BETWEEN 2 AND 200),
    slug                         TEXT NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    tagline                      TEXT CHECK (char_length(tagline) <= 300),
    description                  TEXT NOT NULL CHECK (char_length(description) BETWEEN 10 AND 10000),
    project_type                 TEXT NOT NULL CHECK (project_type IN (
                                     'startup', 'social_venture', 'tech_startup', 'service_business',
                                     'product_business', 'marketplace', 'saas', 'ecommerce', 'fintech',
                                     'healthtech', 'edtech', 'agtech', 'greentech', 'nonprofit', 'franchise')),
    -- Validated ≤ 100 chars before the core lower-cases it, which may lengthen a few letters: no
    -- length check.
    category                     TEXT,
    priority                     TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    stage                        TEXT NOT NULL CHECK (stage IN (
                                     'idea', 'concept', 'prototype', 'validation', 'development', 'pilot',
                                     'testing', 'launch', 'growth', 'scaling', 'mature', 'pivoting')),
    status                       TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'completed', 'cancelled')),
    funding_stage                TEXT NOT NULL CHECK (funding_stage IN (
                                     'bootstrapped', 'pre_seed', 'seed', 'series_a', 'series_b', 'series_c',
                                     'growth', 'ipo_ready', 'acquired')),
    -- Money: integer minor units and an ISO currency, both or neither (DOMAIN.md §1).
    funding_target_amount_minor  BIGINT CHECK (funding_target_amount_minor >= 0),
    funding_target_currency      TEXT CHECK (funding_target_currency IN ('COP', 'USD', 'EUR', 'MXN')),
    funding_raised_amount_minor  BIGINT CHECK (funding_raised_amount_minor >= 0),
    funding_raised_currency      TEXT CHECK (funding_raised_currency IN ('COP', 'USD', 'EUR', 'MXN')),
    team_size                    INTEGER NOT NULL CHECK (team_size BETWEEN 1 AND 100),
    is_public                    BOOLEAN NOT NULL,
    seeking_mentorship           BOOLEAN NOT NULL,
    progress                     INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
    launch_date                  DATE,
    -- Counters of the project's milestones (not cancelled / completed), kept by the core in the
    -- unit of work that changes a milestone; a completed milestone is never cancelled.
    milestones_total             INTEGER NOT NULL CHECK (milestones_total >= 0),
    milestones_completed         INTEGER NOT NULL CHECK (milestones_completed >= 0),
    created_at                   TIMESTAMPTZ NOT NULL,
    updated_at                   TIMESTAMPTZ NOT NULL,
    created_by                   UUID,
    updated_by                   UUID,
    version                      BIGINT NOT NULL CHECK (version >= 1),
    deleted_at                   TIMESTAMPTZ,
    deleted_by                   UUID,
    CONSTRAINT projects_milestones_check CHECK (milestones_completed <= milestones_total),
    CONSTRAINT projects_funding_target_check
        CHECK ((funding_target_amount_minor IS NULL) = (funding_target_currency IS NULL)),
    CONSTRAINT projects_funding_raised_check
        CHECK ((funding_raised_amount_minor IS NULL) = (funding_raised_currency IS NULL)),
    -- The target of the composite keys below: a milestone's or an application's owner is the
    -- project's owner (the core copies it; it never changes).
    CONSTRAINT projects_id_owner_key UNIQUE (id, owner_id)
);
-- Slugs are unique among live projects; deleting one releases its slug.
CREATE UNIQUE INDEX projects_slug_key ON projects (slug) WHERE deleted_at IS NULL;
-- The list filters (`?owner_id&stage&status&is_public`), each newest first. An owner's open
-- projects (`max_active_projects`) are found through the owner index.
CREATE INDEX projects_owner_idx ON projects (owner_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX projects_stage_idx ON projects (stage, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX projects_status_idx ON projects (status, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX projects_public_idx ON projects (is_public, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE milestones (
    id            UUID PRIMARY KEY,
    -- Both through `milestones_project_owner_fkey`: the owner, denormalized for "my
    -- milestones", is the project's owner.
    project_id    UUID NOT NULL,
    owner_id      UUID NOT NULL,
    title         TEXT NOT NULL CHECK (char_length(title) BETWEEN 2 AND 200),
    description   TEXT CHECK (char_length(description) <= 5000),
    target_date   DATE NOT NULL,
    priority      TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'delayed', 'cancelled')),
    progress      INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
    completed_on  DATE,
    delay_reason  TEXT CHECK (char_length(delay_reason) <= 2000),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    created_by    UUID,
    updated_by    UUID,
    version       BIGINT NOT NULL CHECK (version >= 1),
    CONSTRAINT milestones_project_owner_fkey FOREIGN KEY (project_id, owner_id) REFERENCES projects (id, owner_id),
    -- Completing stamps the day and sets progress to 100; completed is terminal.
    CONSTRAINT milestones_completed_check
        CHECK ((status = 'completed') = (completed_on IS NOT NULL) AND (status <> 'completed' OR progress = 100))
);
-- A project's milestones and "mine" (`?status`), newest first. Without a status, "mine" uses the
-- owner prefix and sorts one person's few rows.
CREATE INDEX milestones_project_idx ON milestones (project_id, id DESC);
CREATE INDEX milestones_owner_status_idx ON milestones (owner_id, status, id DESC);
-- Overdue ⇔ target date before today and not terminal (`?overdue=true`, the overdue job). The
-- predicate is written exactly as the list query writes it, so the planner can match it.
CREATE INDEX milestones_overdue_idx ON milestones (owner_id, target_date)
    WHERE status NOT IN ('completed', 'cancelled');
CREATE INDEX milestones_open_target_idx ON milestones (target_date)
    WHERE status NOT IN ('completed', 'cancelled');
