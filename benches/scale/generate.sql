-- The scale dataset of issue #17, generated inside PostgreSQL in the store's own row format.
--
-- Run on a migrated, empty database with the sizes as settings, e.g.
--   PGOPTIONS='-c icosistem_scale.projects=1000000' psql -v ON_ERROR_STOP=1 "$URL" -f benches/scale/generate.sql
-- (the bench `scale` sets them itself). Sizes: `icosistem_scale.projects` (default 100 000);
-- applications are twice the projects, entrepreneurs a fiftieth (20 000 at 1 M), 10
-- organizations with 5 programs each. Every row satisfies the schema's constraints (the
-- foreign keys, the checks, the unique slugs and emails, one live application per program and
-- project); ids are UUID v7 made from each row's `created_at`, so id order is creation order
-- as with the server's own `Uuid::now_v7()`.
--
-- Skew, as a platform has after years: 10 owners hold 1 % of the projects each (10 000 at
-- 1 M), the rest spread over everyone; the 50 programs open one after another over three years
-- and each takes the applications made while it is open, so the oldest programs hold old
-- applications only; 10 % of the applications are drafts, 20 % under review (one pending
-- assignment each), 1 % of the projects are soft-deleted, 30 % public; every fifth program is
-- blind.
--
-- Everyone's password hash is a placeholder nobody can log in with: the harness builds its
-- contexts from the rows, it never logs in.

SET client_min_messages = warning;
SET synchronous_commit = off;

CREATE OR REPLACE FUNCTION pg_temp.v7(ts timestamptz, seed bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0')
            || '7' || substr(h, 1, 3)
            || substr('89ab', (get_byte(decode(substr(h, 4, 2), 'hex'), 0) % 4) + 1, 1)
            || substr(h, 6, 15))::uuid
    FROM (SELECT md5(seed::text || '/' || ts::text) AS h) s
$$;

-- A stable pseudo-random integer in [0, n) for (i, salt).
CREATE OR REPLACE FUNCTION pg_temp.pick(i bigint, salt int, n int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT (abs(hashint8(i * 7919 + salt)::bigint) % n)::int $$;

CREATE TEMP TABLE scale_params AS
SELECT coalesce(nullif(current_setting('icosistem_scale.projects', true), ''), '100000')::int AS projects,
       timestamptz '2024-01-01 00:00:00+00' AS origin,
       interval '3 years' AS span,
       timestamptz '2027-01-10 09:00:00+00' AS now;

-- People: entrepreneurs (a fiftieth of the projects), then per organization an owner, two
-- coordinators and five reviewers (allies), plus one client and one admin.
CREATE TEMP TABLE scale_people AS
SELECT n, role, pg_temp.v7(p.origin + (n || ' seconds')::interval, n) AS id, email, p.origin + (n || ' seconds')::interval AS at
FROM scale_params p,
LATERAL (
    SELECT g AS n, 'entrepreneur' AS role, 'founder' || g || '@scale.example.org' AS email
    FROM generate_series(1, greatest(p.projects / 50, 20)) g
    UNION ALL
    SELECT 10000000 + o * 10 + k, 'ally', 'staff' || o || '-' || k || '@scale.example.org'
    FROM generate_series(0, 9) o, generate_series(0, 7) k
    UNION ALL SELECT 20000000, 'client', 'client@scale.example.org'
    UNION ALL SELECT 20000001, 'admin', 'admin@scale.example.org'
) people;
CREATE UNIQUE INDEX ON scale_people (n);

INSERT INTO users (id, email, password_hash, first_name, last_name, role, status, email_verified_at,
                   failed_logins, security_stamp, timezone, language, notify_in_app, notify_email,
                   created_at, updated_at, version)
SELECT id, email, '$argon2id$v=19$m=8,t=1,p=1$c2NhbGVzYWx0$placeholder', 'Scale', 'Person', role, 'active', at,
       0, 0, 'UTC', 'es', TRUE, FALSE, at, at, 1
FROM scale_people;

INSERT INTO organizations (id, name, slug, organization_type, status, is_public, allow_applications,
                           created_at, updated_at, version)
SELECT pg_temp.v7(p.origin + (o || ' minutes')::interval, 30000000 + o), 'Scale Organization ' || o,
       'scale-organization-' || o, 'incubator', 'active', TRUE, TRUE,
       p.origin + (o || ' minutes')::interval, p.origin + (o || ' minutes')::interval, 1
FROM scale_params p, generate_series(0, 9) o;
CREATE TEMP TABLE scale_orgs AS
SELECT row_number() OVER (ORDER BY id) - 1 AS o, id FROM organizations WHERE slug LIKE 'scale-organization-%';

INSERT INTO organization_members (id, organization_id, user_id, role, created_at, updated_at, version)
SELECT pg_temp.v7(u.at, 40000000 + u.n), org.id, u.id,
       CASE WHEN (u.n % 10) = 0 THEN 'owner' WHEN (u.n % 10) <= 2 THEN 'coordinator' ELSE 'reviewer' END,
       u.at, u.at, 1
FROM scale_people u JOIN scale_orgs org ON org.o = (u.n - 10000000) / 10
WHERE u.role = 'ally';

-- Programs: 50, the g-th opening at origin + g × span / 50, open 120 days, running 180 days.
CREATE TEMP TABLE scale_programs AS
SELECT g, org.id AS organization_id,
       pg_temp.v7(p.origin + p.span * g / 50, 50000000 + g) AS id,
       p.origin + p.span * g / 50 AS opens_at,
       p.origin + p.span * g / 50 + interval '120 days' AS deadline
FROM scale_params p, generate_series(0, 49) g JOIN scale_orgs org ON org.o = g % 10;
CREATE UNIQUE INDEX ON scale_programs (g);

INSERT INTO programs (id, organization_id, name, slug, program_type, status, description, application_opens_at,
                      application_deadline, start_date, end_date, min_participants, max_participants,
                      accepted_count, min_reviews, blind_review, target_sectors, target_stages, format,
                      created_at, updated_at, version)
SELECT s.id, s.organization_id, 'Scale Program ' || s.g, 'scale-program-' || s.g, 'acceleration',
       CASE WHEN s.deadline < p.now - interval '180 days' THEN 'completed'
            WHEN s.deadline < p.now THEN 'in_progress' ELSE 'published' END,
       NULL, s.opens_at, s.deadline, (s.deadline AT TIME ZONE 'UTC')::date + 7,
       (s.deadline AT TIME ZONE 'UTC')::date + 187, 1, 1000, 0, 1, s.g % 5 = 4, '{}', '{}', 'hybrid',
       s.opens_at - interval '7 days', s.opens_at - interval '7 days', 1
FROM scale_programs s, scale_params p;

-- Projects: created evenly over the three years; owner skewed (every 100th project belongs to
-- one of 10 heavy owners).
CREATE TEMP TABLE scale_projects AS
SELECT j, pg_temp.v7(tt.t, j) AS id, owner.id AS owner_id, tt.t AS created_at,
       least(49, floor(extract(epoch FROM tt.t - p.origin) / extract(epoch FROM p.span) * 50)::int) AS g0
FROM scale_params p,
     generate_series(1, p.projects) j,
     LATERAL (SELECT p.origin + p.span * (j - 1) / p.projects AS t) tt,
     LATERAL (SELECT id FROM scale_people
              WHERE n = CASE WHEN j % 100 = 0 THEN 1 + (j / 100) % 10
                             ELSE 1 + pg_temp.pick(j, 4, greatest(p.projects / 50, 20)) END) owner;

INSERT INTO projects (id, owner_id, name, slug, tagline, description, project_type, category, priority, stage,
                      status, funding_stage, team_size, is_public, seeking_mentorship, progress,
                      milestones_total, milestones_completed, created_at, updated_at, created_by, updated_by,
                      version, deleted_at, deleted_by)
SELECT id, owner_id, 'Scale Project ' || j, 'scale-project-' || j, NULL,
       'A generated project, number ' || j, 'startup', NULL, 'medium',
       (ARRAY['idea', 'concept', 'prototype', 'validation', 'development', 'pilot', 'testing', 'launch',
              'growth', 'scaling', 'mature', 'pivoting'])[pg_temp.pick(j, 1, 12) + 1],
       (ARRAY['draft', 'active', 'active', 'active', 'paused', 'completed', 'cancelled'])[pg_temp.pick(j, 2, 7) + 1],
       'bootstrapped', 1, pg_temp.pick(j, 3, 10) < 3, TRUE, 0, 0, 0, created_at, created_at, owner_id, owner_id, 1,
       CASE WHEN j % 100 = 37 THEN created_at + interval '1 day' END,
       CASE WHEN j % 100 = 37 THEN owner_id END
FROM scale_projects
ORDER BY id;

-- Applications: two per project. Round 0 goes to the program open when the project was made,
-- round 1 to a later one (an earlier one near the end), so (program, project) is unique; each is
-- made inside its program's window, some days after the project. Their copy of the project's
-- stage (0016) is written here with the projects' own expression, not by the per-row trigger,
-- which would probe the projects table two million times.
ALTER TABLE applications DISABLE TRIGGER applications_copy_project_stage;
INSERT INTO applications (id, program_id, project_id, applicant_id, answers, status, submitted_at, decided_at,
                          decision_note, mean_score_centi, created_at, updated_at, created_by, updated_by, version,
                          project_stage)
SELECT pg_temp.v7(a.at, 100000000 + a.k), a.program_id, a.project_id, a.owner_id, '{}'::jsonb, a.status,
       CASE WHEN a.status <> 'draft' THEN a.at + interval '1 hour' END,
       CASE WHEN a.status IN ('rejected', 'waitlisted') THEN a.at + interval '20 days' END,
       NULL, CASE WHEN a.status = 'waitlisted' THEN 5000 END,
       a.at, a.at, a.owner_id, a.owner_id, 1, a.stage
FROM (
    SELECT r.k, pr.id AS project_id, pr.owner_id, pg.id AS program_id,
           (ARRAY['idea', 'concept', 'prototype', 'validation', 'development', 'pilot', 'testing', 'launch',
                  'growth', 'scaling', 'mature', 'pivoting'])[pg_temp.pick(pr.j, 1, 12) + 1] AS stage,
           least(greatest(pr.created_at, pg.opens_at) + (pg_temp.pick(r.k, 5, 100000) * 50 || ' seconds')::interval,
                 pg.deadline - interval '1 minute', p.now - interval '1 minute') AS at,
           (ARRAY['draft', 'submitted', 'submitted', 'submitted', 'under_review', 'under_review', 'rejected',
                  'rejected', 'waitlisted', 'withdrawn'])[pg_temp.pick(r.k, 6, 10) + 1] AS status
    FROM scale_params p
    CROSS JOIN scale_projects pr
    CROSS JOIN generate_series(0, 1) round
    CROSS JOIN LATERAL (SELECT (pr.j - 1) * 2 + round AS k, round, pg_temp.pick(pr.j, 7, 6) AS x) r
    JOIN scale_programs pg ON pg.g = CASE WHEN r.round = 0 THEN pr.g0
                                          WHEN pr.g0 + 1 + r.x <= 49 THEN pr.g0 + 1 + r.x
                                          ELSE pr.g0 - 1 - r.x END
) a
ORDER BY 1;
ALTER TABLE applications ENABLE TRIGGER applications_copy_project_stage;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM applications a JOIN projects p ON p.id = a.project_id
               WHERE a.project_stage IS DISTINCT FROM p.stage) THEN
        RAISE EXCEPTION 'generate.sql: an application''s project_stage differs from its project''s stage';
    END IF;
END
$$;

-- One pending assignment per application under review, to a reviewer of the program's
-- organization.
INSERT INTO reviews (id, application_id, reviewer_id, score, comment, conflict_declared, submitted_at,
                     created_at, updated_at, created_by, updated_by, version)
SELECT pg_temp.v7(a.created_at + interval '2 hours', 200000000 + row_number() OVER ()), a.id, m.user_id,
       NULL, NULL, FALSE, NULL, a.created_at + interval '2 hours', a.created_at + interval '2 hours', NULL, NULL, 1
FROM applications a
JOIN programs pg ON pg.id = a.program_id
JOIN LATERAL (SELECT user_id FROM organization_members
              WHERE organization_id = pg.organization_id AND role = 'reviewer'
              ORDER BY id OFFSET (abs(hashtext(a.id::text)) % 5) LIMIT 1) m ON TRUE
WHERE a.status = 'under_review';

ANALYZE;
