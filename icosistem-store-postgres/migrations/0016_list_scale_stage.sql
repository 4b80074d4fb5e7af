-- Scale, continued (issue #17): a coordinator's project list narrowed by stage, and the
-- application-deadline job's bounded rounds.
--
-- A coordinator's project list narrowed by stage (`?stage=` with
-- `ProjectVisibility::via_programs_of`) at scale.
--
-- The staff branch of the project list walks each program's non-draft applications in
-- project order (`applications_program_project_idx` of 0008) and probes each project for the
-- row filter. With a stage filter (12 stages) a program yields one match per ~12 candidates, so
-- a 20-row page probed ~270 projects per program, ~1 350 index descents (4 200 buffers at
-- 100 k projects, 5 000 at 1 M). Walking the projects' own `(stage, id)` index and checking
-- visibility with EXISTS is worse on real data: a program's projects are those made while it
-- was open, so the newest projects of a stage belong to other organizations' programs and the
-- walk crosses thousands of them before the first visible one.
--
-- So the application row carries its project's stage, and the branch walks
-- `(program_id, project_stage, project_id)`: the 21 candidates of each program are the first
-- 21 index entries. `project_stage` is a copy written by triggers (the application's project
-- never changes; a project's stage does, and its few applications follow in the same
-- transaction), not part of the core's `Application`. The branch still probes each candidate
-- project for the whole row filter, so a stale copy could only hide a row, never show one.
ALTER TABLE applications ADD COLUMN project_stage TEXT;
UPDATE applications a SET project_stage = p.stage FROM projects p WHERE p.id = a.project_id;

CREATE FUNCTION applications_copy_project_stage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.stage INTO NEW.project_stage FROM projects p WHERE p.id = NEW.project_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER applications_copy_project_stage BEFORE INSERT OR UPDATE OF project_id ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_copy_project_stage();

CREATE FUNCTION projects_propagate_stage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE applications SET project_stage = NEW.stage WHERE project_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER projects_propagate_stage AFTER UPDATE OF stage ON projects
    FOR EACH ROW WHEN (OLD.stage IS DISTINCT FROM NEW.stage) EXECUTE FUNCTION projects_propagate_stage();

CREATE INDEX applications_program_stage_project_idx ON applications (program_id, project_stage, project_id DESC)
    WHERE status <> 'draft';

-- The application-deadline job's later rounds: a closing program's drafts created since the
-- last complete round (`program_id = $1 AND status = 'draft' AND created_at > $2`), instead of
-- every draft of the program on every round.
CREATE INDEX applications_program_draft_created_idx ON applications (program_id, created_at)
    WHERE status = 'draft';

-- A freed seat promotes the best waitlisted application of its program: the first entry of
-- this index, in the order `waitlist_rank_cmp` ranks (the store's ranked list spells the same
-- expressions), instead of the whole waitlist read and sorted in the server.
CREATE INDEX applications_waitlist_rank_idx
    ON applications (program_id, (COALESCE(mean_score_centi, 0)) DESC, submitted_at ASC NULLS FIRST, id ASC)
    WHERE status = 'waitlisted';
