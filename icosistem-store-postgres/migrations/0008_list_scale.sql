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
