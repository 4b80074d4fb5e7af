//! Projects and their milestones.

use icosistem_core::model::{Deletion, Meta, Milestone, Project};
use icosistem_core::ports::store::{MilestoneFilter, Order, PageRequest, ProjectFilter};
use sqlx::{Postgres, QueryBuilder};

use crate::entity::PgEntity;
use crate::mapping::{filter_eq, pg_mapping};

/// The statuses `ProjectStatus::counts_as_open` accepts, as SQL (a unit test keeps the two
/// equal).
pub(super) const PROJECT_OPEN_STATUSES: &str = "('draft', 'active', 'paused')";

/// The statuses `MilestoneStatus::is_terminal` names, as SQL. The list query and the partial
/// overdue indexes of `0003_projects.sql` spell it identically, so the planner matches them (a
/// unit test keeps it equal to the core).
pub(super) const MILESTONE_TERMINAL_STATUSES: &str = "('completed', 'cancelled')";

/// The member roles `MemberRole::is_staff` names, as SQL (a unit test keeps them equal).
pub(super) const STAFF_ROLES: &str = "('owner', 'coordinator')";

fn uuids<I: Copy + Into<uuid::Uuid>>(ids: &[I]) -> Vec<uuid::Uuid> {
    ids.iter().map(|&id| id.into()).collect()
}

/// The conditions of a project filter on the row itself (soft deletion included), without its
/// visibility: what every branch of [`visible_list_query`] applies to its candidates.
fn push_row_filter(f: &ProjectFilter, qb: &mut QueryBuilder<Postgres>) {
    filter_eq!(qb, "id", f.id.map(uuid::Uuid::from));
    if let Some(ids) = &f.id_in {
        qb.push(" AND id = ANY(").push_bind(uuids(ids)).push(")");
    }
    filter_eq!(qb, "owner_id", f.owner_id.map(uuid::Uuid::from));
    filter_eq!(qb, "stage", f.stage.map(|s| s.as_str()));
    filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
    if f.open_only {
        qb.push(" AND status IN ").push(PROJECT_OPEN_STATUSES);
    }
    filter_eq!(qb, "is_public", f.is_public);
    filter_eq!(qb, "slug", f.slug.as_ref().map(|s| s.as_str().to_owned()));
}

/// One page of the projects a caller may see, paged by the database from bounded sources.
///
/// The visible set is a union (own or mentees' projects, public ones, listed ids, projects
/// reached through programs), and an `OR` of those over the projects table has no index plan:
/// PostgreSQL walks the primary key backwards testing each row, which for a coordinator whose
/// programs reach few of a million projects reads the whole table. So each branch is its own
/// subquery that yields its first `limit + 1` matching ids in the page's order from an index
/// made for it — per owner (`projects_owner_idx`), public (`projects_public_idx`), per program
/// of the caller's organizations (`applications_program_project_idx` of 0008, one lateral scan
/// per program, each stopping after `limit + 1` live projects), the caller's review
/// assignments (`reviews_reviewer_project_idx` of 0008) — and the outer query keeps the first `limit + 1`
/// distinct ids of their union. Every branch holds the global first `limit + 1` rows of its
/// own set, so their union holds those of the whole set: the page is exact. Its cost is
/// bounded by `(branches + programs) × (limit + 1)` index entries, whatever the tables hold.
fn visible_list_query(
    prefix: &str,
    f: &ProjectFilter,
    v: &icosistem_core::ports::store::ProjectVisibility,
    page: PageRequest,
) -> QueryBuilder<Postgres> {
    let (cmp, dir) = match page.order {
        Order::NewestFirst => (" < ", " DESC"),
        Order::OldestFirst => (" > ", " ASC"),
    };
    let take = i64::from(page.limit).saturating_add(1);
    let mut qb = QueryBuilder::new(format!(
        "{prefix}SELECT {} FROM projects WHERE id IN (SELECT id FROM (SELECT DISTINCT id FROM (SELECT NULL::uuid AS id WHERE FALSE",
        Project::COLUMNS.join(", ")
    ));
    // The row conditions plus the cursor on `column`, inside a subquery over `projects`.
    let row = |qb: &mut QueryBuilder<Postgres>, column: &str| {
        if !f.include_deleted {
            qb.push(" AND deleted_at IS NULL");
        }
        push_row_filter(f, qb);
        if let Some(after) = page.after {
            qb.push(format!(" AND {column}{cmp}")).push_bind(after);
        }
    };
    if !v.owners.is_empty() {
        qb.push(" UNION ALL SELECT x.id FROM unnest(")
            .push_bind(uuids(&v.owners))
            .push("::uuid[]) AS o(owner_id) CROSS JOIN LATERAL (SELECT id FROM projects WHERE owner_id = o.owner_id");
        row(&mut qb, "id");
        qb.push(format!(" ORDER BY id{dir} LIMIT ")).push_bind(take).push(") x");
    }
    if v.public {
        qb.push(" UNION ALL (SELECT id FROM projects WHERE is_public");
        row(&mut qb, "id");
        qb.push(format!(" ORDER BY id{dir} LIMIT ")).push_bind(take).push(")");
    }
    if !v.ids.is_empty() {
        qb.push(" UNION ALL (SELECT id FROM projects WHERE id = ANY(")
            .push_bind(uuids(&v.ids))
            .push(")");
        row(&mut qb, "id");
        qb.push(format!(" ORDER BY id{dir} LIMIT ")).push_bind(take).push(")");
    }
    if let Some(user) = v.via_programs_of {
        let user = uuid::Uuid::from(user);
        // Staff: every non-draft application of the live, open-review programs of their
        // organizations, one bounded index scan per program.
        qb.push(" UNION ALL SELECT x.id FROM organization_members m")
            .push(" JOIN programs pg ON pg.organization_id = m.organization_id")
            .push(" AND pg.deleted_at IS NULL AND NOT pg.blind_review AND NOT pg.rounds @> '[{\"blind\": true}]'")
            .push(" CROSS JOIN LATERAL (SELECT a.project_id AS id FROM applications a")
            .push(" WHERE a.program_id = pg.id AND a.status <> 'draft'");
        // A stage filter walks `applications_program_stage_project_idx` (0016_list_scale_stage.sql) on the
        // application's copy of its project's stage, so the page's candidates are the index's
        // first entries instead of one in twelve; the probe below still checks the project.
        if let Some(stage) = f.stage {
            qb.push(" AND a.project_stage = ").push_bind(stage.as_str());
        }
        if let Some(after) = page.after {
            qb.push(format!(" AND a.project_id{cmp}")).push_bind(after);
        }
        // `OFFSET 0` keeps this EXISTS a per-row probe of the primary key: pulled up into a
        // semi-join, the planner may merge it with a backward walk of `projects_pkey` from the
        // newest project down to this program's, which for an old program reads most of the
        // table to return 21 rows.
        qb.push(" AND EXISTS (SELECT 1 FROM projects WHERE projects.id = a.project_id");
        row(&mut qb, "id");
        qb.push(format!(" OFFSET 0) ORDER BY a.project_id{dir} LIMIT "))
            .push_bind(take)
            .push(") x WHERE m.user_id = ")
            .push_bind(user)
            .push(" AND m.role IN ")
            .push(STAFF_ROLES);
        // Reviewers (any member): their assignments in project order
        // (`reviews_reviewer_project_idx`; `reviews.project_id` is the application's, copied by
        // a trigger), each checked against its application, program and membership with
        // per-row probes (`OFFSET 0` again), stopping after `limit + 1`.
        qb.push(" UNION ALL (SELECT r.project_id FROM reviews r WHERE r.reviewer_id = ")
            .push_bind(user);
        if let Some(after) = page.after {
            qb.push(format!(" AND r.project_id{cmp}")).push_bind(after);
        }
        qb.push(" AND EXISTS (SELECT 1 FROM applications a")
            .push(" JOIN programs pg ON pg.id = a.program_id AND pg.deleted_at IS NULL AND NOT pg.blind_review AND NOT pg.rounds @> '[{\"blind\": true}]'")
            .push(" JOIN organization_members m ON m.organization_id = pg.organization_id AND m.user_id = ")
            .push_bind(user)
            .push(" WHERE a.id = r.application_id AND a.status <> 'draft' OFFSET 0)")
            .push(" AND EXISTS (SELECT 1 FROM projects WHERE projects.id = r.project_id");
        row(&mut qb, "id");
        qb.push(format!(" OFFSET 0) ORDER BY r.project_id{dir} LIMIT "))
            .push_bind(take)
            .push(")");
    }
    qb.push(format!(") branches ORDER BY id{dir} LIMIT "))
        .push_bind(take)
        .push(format!(") page) ORDER BY id{dir}"));
    qb
}

impl PgEntity for Project {
    pg_mapping! {
        table: "projects",
        id: id,
        owner_id: id,
        name: text,
        slug: text,
        tagline: value,
        description: value,
        project_type: text,
        category: value,
        priority: text,
        stage: text,
        status: text,
        funding_stage: text,
        funding_target: money,
        funding_raised: money,
        team_size: int,
        is_public: value,
        seeking_mentorship: value,
        progress: int,
        launch_date: value,
        milestones_total: int,
        milestones_completed: int,
        meta: nested(Meta),
        deletion: nested(Deletion),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("projects_slug_key", "slug")];

    fn push_filter(f: &ProjectFilter, qb: &mut QueryBuilder<Postgres>) {
        push_row_filter(f, qb);
        // The visible set is a disjunction; with no branch it selects nothing, as `matches` does.
        // (`count` runs this form; `list` runs the paged one of `visible_list_query`.)
        if let Some(v) = &f.visible_to {
            qb.push(" AND (FALSE");
            if !v.owners.is_empty() {
                qb.push(" OR owner_id = ANY(").push_bind(uuids(&v.owners)).push(")");
            }
            if v.public {
                qb.push(" OR is_public");
            }
            if !v.ids.is_empty() {
                qb.push(" OR id = ANY(").push_bind(uuids(&v.ids)).push(")");
            }
            if let Some(user) = v.via_programs_of {
                let user = uuid::Uuid::from(user);
                qb.push(" OR EXISTS (SELECT 1 FROM applications a JOIN programs pg ON pg.id = a.program_id")
                    .push(" JOIN organization_members m ON m.organization_id = pg.organization_id AND m.user_id = ")
                    .push_bind(user)
                    .push(" WHERE a.project_id = projects.id AND a.status <> 'draft'")
                    .push(" AND pg.deleted_at IS NULL AND NOT pg.blind_review AND NOT pg.rounds @> '[{\"blind\": true}]' AND (m.role IN ")
                    .push(STAFF_ROLES)
                    .push(" OR EXISTS (SELECT 1 FROM reviews r WHERE r.application_id = a.id AND r.reviewer_id = ")
                    .push_bind(user)
                    .push(")))");
            }
            qb.push(")");
        }
    }

    fn list_query(prefix: &str, f: &ProjectFilter, page: PageRequest) -> Option<QueryBuilder<Postgres>> {
        f.visible_to.as_ref().map(|v| visible_list_query(prefix, f, v, page))
    }

    fn include_deleted(f: &ProjectFilter) -> bool {
        f.include_deleted
    }

    fn lock_key(f: &ProjectFilter) -> Option<String> {
        f.slug.as_ref().map(|s| format!("slug:{s}"))
    }
}

impl PgEntity for Milestone {
    pg_mapping! {
        table: "milestones",
        id: id,
        project_id: id,
        owner_id: id,
        title: value,
        description: value,
        target_date: value,
        priority: text,
        status: text,
        progress: int,
        completed_on: value,
        delay_reason: value,
        meta: nested(Meta),
    }

    fn push_filter(f: &MilestoneFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, project_id: id, owner_id: id, status: text);
        // `workflow::milestone::is_overdue`: target before today and not terminal.
        if let Some(today) = f.overdue_on {
            qb.push(" AND target_date < ")
                .push_bind(today)
                .push(" AND status NOT IN ")
                .push(MILESTONE_TERMINAL_STATUSES);
        }
    }
}

#[cfg(test)]
mod tests {
    use icosistem_core::model::{MilestoneStatus, ProjectStatus};

    use super::*;

    fn sql_list(names: impl Iterator<Item = &'static str>) -> String {
        let quoted: Vec<String> = names.map(|n| format!("'{n}'")).collect();
        format!("({})", quoted.join(", "))
    }

    #[test]
    fn open_project_statuses_are_the_cores() {
        let open = ProjectStatus::ALL
            .iter()
            .filter(|s| s.counts_as_open())
            .map(|s| s.as_str());
        assert_eq!(sql_list(open), PROJECT_OPEN_STATUSES);
    }

    #[test]
    fn staff_roles_are_the_cores() {
        use icosistem_core::model::MemberRole;
        let staff = MemberRole::ALL.iter().filter(|r| r.is_staff()).map(|r| r.as_str());
        assert_eq!(sql_list(staff), STAFF_ROLES);
    }

    #[test]
    fn terminal_milestone_statuses_are_the_cores() {
        let terminal = MilestoneStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str());
        assert_eq!(sql_list(terminal), MILESTONE_TERMINAL_STATUSES);
        let migration = include_str!("../../migrations/0003_projects.sql");
        assert!(migration.contains(&format!("WHERE status NOT IN {MILESTONE_TERMINAL_STATUSES}")));
    }
}
