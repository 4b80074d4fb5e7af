//! Projects and their milestones.

use icosistem_core::model::value::{Currency, Money, Name, Slug};
use icosistem_core::model::{Milestone, Project};
use icosistem_core::ports::store::{MilestoneFilter, ProjectFilter};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};

use super::identity::{bind_deletion, bind_meta, deletion, filter_eq, meta};
use crate::entity::{PgEntity, parse, parse_opt, sql_int, unsigned};
use crate::error::decode_error;

/// The statuses `ProjectStatus::counts_as_open` accepts, as SQL (a unit test keeps the two
/// equal).
pub(super) const PROJECT_OPEN_STATUSES: &str = "('draft', 'active', 'paused')";

/// The statuses `MilestoneStatus::is_terminal` names, as SQL. The list query and the partial
/// overdue indexes of `0003_projects.sql` spell it identically, so the planner matches them (a
/// unit test keeps it equal to the core).
pub(super) const MILESTONE_TERMINAL_STATUSES: &str = "('completed', 'cancelled')";

/// Binds an optional amount as its two columns (`<name>_amount_minor`, `<name>_currency`).
fn bind_money(money: Option<Money>, row: &mut Separated<'_, Postgres, &'static str>) {
    row.push_bind(money.map(|m| m.amount_minor()))
        .push_bind(money.map(|m| m.currency().code()));
}

/// Decodes an optional amount from its two columns; the schema keeps them both set or both
/// null.
fn money(row: &PgRow, amount: &'static str, currency: &'static str) -> Result<Option<Money>, sqlx::Error> {
    let minor: Option<i64> = row.try_get(amount)?;
    let code = parse_opt::<Currency>(row, currency)?;
    match (minor, code) {
        (Some(minor), Some(code)) => Money::new(minor, code).map(Some).map_err(|e| decode_error(amount, e)),
        (None, None) => Ok(None),
        _ => Err(decode_error(
            currency,
            "an amount needs both its minor units and its currency",
        )),
    }
}

impl PgEntity for Project {
    const TABLE: &'static str = "projects";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "owner_id",
        "name",
        "slug",
        "tagline",
        "description",
        "project_type",
        "category",
        "priority",
        "stage",
        "status",
        "funding_stage",
        "funding_target_amount_minor",
        "funding_target_currency",
        "funding_raised_amount_minor",
        "funding_raised_currency",
        "team_size",
        "is_public",
        "seeking_mentorship",
        "progress",
        "launch_date",
        "milestones_total",
        "milestones_completed",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
        "deleted_at",
        "deleted_by",
    ];
    const SOFT_DELETE: bool = true;
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("projects_slug_key", "slug")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.owner_id))
            .push_bind(self.name.as_str().to_owned())
            .push_bind(self.slug.as_str().to_owned())
            .push_bind(self.tagline.clone())
            .push_bind(self.description.clone())
            .push_bind(self.project_type.as_str())
            .push_bind(self.category.clone())
            .push_bind(self.priority.as_str())
            .push_bind(self.stage.as_str())
            .push_bind(self.status.as_str())
            .push_bind(self.funding_stage.as_str());
        bind_money(self.funding_target, row);
        bind_money(self.funding_raised, row);
        row.push_bind(sql_int(self.team_size))
            .push_bind(self.is_public)
            .push_bind(self.seeking_mentorship)
            .push_bind(i32::from(self.progress.get()))
            .push_bind(self.launch_date)
            .push_bind(sql_int(self.milestones_total))
            .push_bind(sql_int(self.milestones_completed));
        bind_meta(&self.meta, row);
        bind_deletion(&self.deletion, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Project {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            owner_id: row.try_get::<uuid::Uuid, _>("owner_id")?.into(),
            name: parse::<Name>(row, "name")?,
            slug: parse::<Slug>(row, "slug")?,
            tagline: row.try_get("tagline")?,
            description: row.try_get("description")?,
            project_type: parse(row, "project_type")?,
            category: row.try_get("category")?,
            priority: parse(row, "priority")?,
            stage: parse(row, "stage")?,
            status: parse(row, "status")?,
            funding_stage: parse(row, "funding_stage")?,
            funding_target: money(row, "funding_target_amount_minor", "funding_target_currency")?,
            funding_raised: money(row, "funding_raised_amount_minor", "funding_raised_currency")?,
            team_size: unsigned(row, "team_size")?,
            is_public: row.try_get("is_public")?,
            seeking_mentorship: row.try_get("seeking_mentorship")?,
            progress: unsigned(row, "progress")?,
            launch_date: row.try_get("launch_date")?,
            milestones_total: unsigned(row, "milestones_total")?,
            milestones_completed: unsigned(row, "milestones_completed")?,
            meta: meta(row)?,
            deletion: deletion(row)?,
        })
    }

    fn push_filter(f: &ProjectFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "id", f.id.map(uuid::Uuid::from));
        filter_eq!(qb, "owner_id", f.owner_id.map(uuid::Uuid::from));
        filter_eq!(qb, "stage", f.stage.map(|s| s.as_str()));
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        if f.open_only {
            qb.push(" AND status IN ").push(PROJECT_OPEN_STATUSES);
        }
        filter_eq!(qb, "is_public", f.is_public);
        filter_eq!(qb, "slug", f.slug.as_ref().map(|s| s.as_str().to_owned()));
        // The visible set is a disjunction; with no branch it selects nothing, as `matches` does.
        if let Some(v) = &f.visible_to {
            qb.push(" AND (FALSE");
            if !v.owners.is_empty() {
                let owners: Vec<uuid::Uuid> = v.owners.iter().map(|&id| uuid::Uuid::from(id)).collect();
                qb.push(" OR owner_id = ANY(").push_bind(owners).push(")");
            }
            if v.public {
                qb.push(" OR is_public");
            }
            if !v.ids.is_empty() {
                let ids: Vec<uuid::Uuid> = v.ids.iter().map(|&id| uuid::Uuid::from(id)).collect();
                qb.push(" OR id = ANY(").push_bind(ids).push(")");
            }
            qb.push(")");
        }
    }

    fn include_deleted(f: &ProjectFilter) -> bool {
        f.include_deleted
    }

    fn lock_key(f: &ProjectFilter) -> Option<String> {
        f.slug.as_ref().map(|s| format!("slug:{s}"))
    }
}

impl PgEntity for Milestone {
    const TABLE: &'static str = "milestones";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "project_id",
        "owner_id",
        "title",
        "description",
        "target_date",
        "priority",
        "status",
        "progress",
        "completed_on",
        "delay_reason",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.project_id))
            .push_bind(uuid::Uuid::from(self.owner_id))
            .push_bind(self.title.clone())
            .push_bind(self.description.clone())
            .push_bind(self.target_date)
            .push_bind(self.priority.as_str())
            .push_bind(self.status.as_str())
            .push_bind(i32::from(self.progress.get()))
            .push_bind(self.completed_on)
            .push_bind(self.delay_reason.clone());
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Milestone {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            project_id: row.try_get::<uuid::Uuid, _>("project_id")?.into(),
            owner_id: row.try_get::<uuid::Uuid, _>("owner_id")?.into(),
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            target_date: row.try_get("target_date")?,
            priority: parse(row, "priority")?,
            status: parse(row, "status")?,
            progress: unsigned(row, "progress")?,
            completed_on: row.try_get("completed_on")?,
            delay_reason: row.try_get("delay_reason")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &MilestoneFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "project_id", f.project_id.map(uuid::Uuid::from));
        filter_eq!(qb, "owner_id", f.owner_id.map(uuid::Uuid::from));
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
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
