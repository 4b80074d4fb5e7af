-- Indexes for lists and visibility at scale (1 M projects, 2 M applications).

-- A program's applications as its staff list them: `program_id = $1 AND status <> 'draft'
-- ORDER BY id DESC`. `applications_program_status_idx (program_id, status, id)` cannot serve an
-- inequality on its middle column in id order, so the planner walked the primary key backwards
-- past every newer application of other programs (24 k buffers for 21 rows on the oldest
-- program). The partial predicate is spelled as the store's filter spells it, so it matches.
CREATE INDEX applications_program_submitted_idx ON applications (program_id, id DESC)
    WHERE status <> 'draft';

-- The projects a program's staff see (`ProjectVisibility::via_programs_of`): per program, the
-- projects of its non-draft applications in project-id order, so the store reads only the first
-- `limit + 1` of each program for a page instead of every application of the organization.
CREATE INDEX applications_program_project_idx ON applications (program_id, project_id DESC)
    WHERE status <> 'draft';

-- The projects a reviewer sees through their assignments, in project-id order. A review row
-- names its application only, so without the project here the store had to walk every
-- application backwards to find the few assigned to the caller (11 k buffers at 100 k
-- projects, for a coordinator with no assignment at all). `project_id` is a copy of the
-- application's, written by the trigger below on every insert (and on a change of
-- `application_id`, which the core never makes), so the core's `Review` needs no new field and
-- the copy cannot drift: an application's project never changes.
ALTER TABLE reviews ADD COLUMN project_id UUID;
UPDATE reviews r SET project_id = a.project_id FROM applications a WHERE a.id = r.application_id;

CREATE FUNCTION reviews_copy_project_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.project_id INTO NEW.project_id FROM applications a WHERE a.id = NEW.application_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER reviews_copy_project_id BEFORE INSERT OR UPDATE OF application_id ON reviews
    FOR EACH ROW EXECUTE FUNCTION reviews_copy_project_id();

CREATE INDEX reviews_reviewer_project_idx ON reviews (reviewer_id, project_id DESC);

-- The review-overdue job's bounded rounds: the assignments made in a window of time
-- (`created_at > $1 AND created_at <= $2`, oldest first by id).
CREATE INDEX reviews_created_idx ON reviews (created_at, id);
