-- The analytics program of issue #14, added after generate.sql: one program of
-- 'scale-organization-0' with 10 000 applications (from projects 1..10 000, one each) in every
-- status but draft (one in twenty accepted: the seats are at most 1 000), three reviews each (30 000: 90 % submitted with a 0–100 score, the rest
-- pending) by three of the organization's five reviewers, and an enrollment per accepted
-- application. Its figures are what `program_analytics` aggregates; the harness measures it.

SET client_min_messages = warning;
SET synchronous_commit = off;

INSERT INTO programs (id, organization_id, name, slug, program_type, status, description, application_opens_at,
                      application_deadline, start_date, end_date, min_participants, max_participants,
                      accepted_count, min_reviews, blind_review, target_sectors, target_stages, format,
                      created_at, updated_at, version)
SELECT gen_random_uuid(), org.id, 'Scale Analytics Program', 'scale-analytics', 'acceleration', 'in_progress', NULL,
       timestamptz '2026-06-01 00:00:00+00', timestamptz '2026-09-01 00:00:00+00', date '2026-09-15',
       date '2027-03-15', 1, 1000, 0, 3, FALSE, '{}', '{}', 'hybrid',
       timestamptz '2026-05-20 00:00:00+00', timestamptz '2026-05-20 00:00:00+00', 1
FROM organizations org WHERE org.slug = 'scale-organization-0';

CREATE TEMP TABLE scale_analytics_apps AS
SELECT pr.j, gen_random_uuid() AS id, pr.id AS project_id, pr.owner_id,
       timestamptz '2026-06-01 00:00:00+00' + (pr.j * 700 || ' seconds')::interval AS at,
       (ARRAY['submitted', 'submitted', 'submitted', 'under_review', 'under_review', 'under_review',
              'under_review', 'under_review', 'under_review', 'accepted', 'rejected', 'rejected', 'rejected',
              'rejected', 'rejected', 'rejected', 'waitlisted', 'waitlisted', 'withdrawn',
              'withdrawn'])[pg_temp.pick(pr.j, 11, 20) + 1] AS status
FROM scale_projects pr
WHERE pr.j <= 10000;

INSERT INTO applications (id, program_id, project_id, applicant_id, answers, status, submitted_at, decided_at,
                          decision_note, mean_score_centi, created_at, updated_at, created_by, updated_by, version)
SELECT a.id, pg.id, a.project_id, a.owner_id, '{}'::jsonb, a.status, a.at + interval '1 hour',
       CASE WHEN a.status IN ('accepted', 'rejected', 'waitlisted')
            THEN a.at + ((1 + pg_temp.pick(a.j, 12, 40)) || ' days')::interval END,
       NULL, NULL, a.at, a.at, a.owner_id, a.owner_id, 1
FROM scale_analytics_apps a, programs pg
WHERE pg.slug = 'scale-analytics'
ORDER BY a.at;

UPDATE programs SET accepted_count = (SELECT count(*) FROM scale_analytics_apps WHERE status = 'accepted')
WHERE slug = 'scale-analytics';

INSERT INTO reviews (id, application_id, reviewer_id, score, comment, conflict_declared, submitted_at,
                     created_at, updated_at, created_by, updated_by, version)
SELECT gen_random_uuid(), a.id, m.user_id,
       CASE WHEN pg_temp.pick(a.j * 3 + r, 13, 10) < 9 THEN pg_temp.pick(a.j * 3 + r, 14, 101) END,
       NULL, FALSE,
       CASE WHEN pg_temp.pick(a.j * 3 + r, 13, 10) < 9 THEN a.at + interval '3 days' END,
       a.at + interval '2 hours', a.at + interval '2 hours', NULL, NULL, 1
FROM scale_analytics_apps a
CROSS JOIN generate_series(0, 2) r
JOIN LATERAL (SELECT mem.user_id FROM organization_members mem
              JOIN organizations org ON org.id = mem.organization_id
              WHERE org.slug = 'scale-organization-0' AND mem.role = 'reviewer'
              ORDER BY mem.user_id OFFSET (a.j + r) % 5 LIMIT 1) m ON TRUE;

INSERT INTO enrollments (id, program_id, application_id, project_id, entrepreneur_id, status, ended_at, drop_reason,
                         created_at, updated_at, created_by, updated_by, version)
SELECT gen_random_uuid(), pg.id, a.id, a.project_id, a.owner_id, 'active', NULL, NULL,
       a.at + interval '30 days', a.at + interval '30 days', NULL, NULL, 1
FROM scale_analytics_apps a, programs pg
WHERE pg.slug = 'scale-analytics' AND a.status = 'accepted';
