//! Programs and selection: applications, reviews, enrollments.

use icosistem_core::model::value::{Name, Score, Slug};
use icosistem_core::model::{Application, Enrollment, Program, ProgramStatus, ProjectStage, Review};
use icosistem_core::ports::store::{ApplicationFilter, EnrollmentFilter, PageRequest, ProgramFilter, ReviewFilter};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};

use super::identity::{bind_deletion, bind_meta, deletion, filter_eq, meta};
use crate::entity::{PgEntity, json, parse, sql_int, to_json, unsigned};
use crate::error::decode_error;

/// Decodes a nullable, non-negative INTEGER column.
fn optional_unsigned(row: &PgRow, column: &'static str) -> Result<Option<u32>, sqlx::Error> {
    let raw: Option<i32> = row.try_get(column)?;
    raw.map(u32::try_from).transpose().map_err(|e| decode_error(column, e))
}

/// Decodes a `TEXT[]` of project stages.
fn stages(row: &PgRow, column: &'static str) -> Result<Vec<ProjectStage>, sqlx::Error> {
    let raw: Vec<String> = row.try_get(column)?;
    raw.iter()
        .map(|s| s.parse().map_err(|e| decode_error(column, e)))
        .collect()
}

impl PgEntity for Program {
    const TABLE: &'static str = "programs";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "organization_id",
        "name",
        "slug",
        "program_type",
        "status",
        "description",
        "application_opens_at",
        "application_deadline",
        "start_date",
        "end_date",
        "min_participants",
        "max_participants",
        "accepted_count",
        "min_reviews",
        "blind_review",
        "target_sectors",
        "target_stages",
        "format",
        "rounds",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
        "deleted_at",
        "deleted_by",
    ];
    const SOFT_DELETE: bool = true;
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("programs_slug_key", "slug")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        let stages: Vec<String> = self.target_stages.iter().map(|s| s.as_str().to_owned()).collect();
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.organization_id))
            .push_bind(self.name.as_str().to_owned())
            .push_bind(self.slug.as_str().to_owned())
            .push_bind(self.program_type.as_str())
            .push_bind(self.status.as_str())
            .push_bind(self.description.clone())
            .push_bind(self.application_opens_at)
            .push_bind(self.application_deadline)
            .push_bind(self.start_date)
            .push_bind(self.end_date)
            .push_bind(sql_int(self.min_participants))
            .push_bind(sql_int(self.max_participants))
            .push_bind(sql_int(self.accepted_count))
            .push_bind(sql_int(self.min_reviews))
            .push_bind(self.blind_review)
            .push_bind(self.target_sectors.clone())
            .push_bind(stages)
            .push_bind(self.format.as_str())
            .push_bind(to_json(&self.rounds));
        bind_meta(&self.meta, row);
        bind_deletion(&self.deletion, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Program {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            organization_id: row.try_get::<uuid::Uuid, _>("organization_id")?.into(),
            name: parse::<Name>(row, "name")?,
            slug: parse::<Slug>(row, "slug")?,
            program_type: parse(row, "program_type")?,
            status: parse(row, "status")?,
            description: row.try_get("description")?,
            application_opens_at: row.try_get("application_opens_at")?,
            application_deadline: row.try_get("application_deadline")?,
            start_date: row.try_get("start_date")?,
            end_date: row.try_get("end_date")?,
            min_participants: unsigned(row, "min_participants")?,
            max_participants: unsigned(row, "max_participants")?,
            accepted_count: unsigned(row, "accepted_count")?,
            min_reviews: unsigned(row, "min_reviews")?,
            blind_review: row.try_get("blind_review")?,
            target_sectors: row.try_get("target_sectors")?,
            target_stages: stages(row, "target_stages")?,
            format: parse(row, "format")?,
            rounds: json(row, "rounds")?,
            meta: meta(row)?,
            deletion: deletion(row)?,
        })
    }

    fn push_filter(f: &ProgramFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "organization_id", f.organization_id.map(uuid::Uuid::from));
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        if f.exclude_drafts {
            qb.push(" AND status <> 'draft'");
        }
        filter_eq!(qb, "slug", f.slug.as_ref().map(|s| s.as_str().to_owned()));
        // `workflow::program::accepts_applications`: published ∧ opens_at ≤ now < deadline. The
        // status is a literal so the planner matches the partial `programs_accepting_idx`.
        if let Some(now) = f.accepting_at {
            qb.push(" AND status = '")
                .push(ProgramStatus::Published.as_str())
                .push("' AND application_opens_at <= ")
                .push_bind(now)
                .push(" AND application_deadline > ")
                .push_bind(now);
        }
        if let Some(t) = f.deadline_at_or_before {
            qb.push(" AND application_deadline <= ").push_bind(t);
        }
    }

    fn include_deleted(f: &ProgramFilter) -> bool {
        f.include_deleted
    }

    fn lock_key(f: &ProgramFilter) -> Option<String> {
        f.slug.as_ref().map(|s| format!("slug:{s}"))
    }
}

impl PgEntity for Application {
    const TABLE: &'static str = "applications";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "program_id",
        "project_id",
        "applicant_id",
        "answers",
        "status",
        "submitted_at",
        "decided_at",
        "decision_note",
        "mean_score_centi",
        "current_round",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("applications_program_project_key", "program_project")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.program_id))
            .push_bind(uuid::Uuid::from(self.project_id))
            .push_bind(uuid::Uuid::from(self.applicant_id))
            .push_bind(to_json(&self.answers))
            .push_bind(self.status.as_str())
            .push_bind(self.submitted_at)
            .push_bind(self.decided_at)
            .push_bind(self.decision_note.clone())
            .push_bind(self.mean_score_centi.map(sql_int))
            .push_bind(self.current_round.map(sql_int));
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let mean: Option<i32> = row.try_get("mean_score_centi")?;
        Ok(Application {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            program_id: row.try_get::<uuid::Uuid, _>("program_id")?.into(),
            project_id: row.try_get::<uuid::Uuid, _>("project_id")?.into(),
            applicant_id: row.try_get::<uuid::Uuid, _>("applicant_id")?.into(),
            answers: json(row, "answers")?,
            status: parse(row, "status")?,
            submitted_at: row.try_get("submitted_at")?,
            decided_at: row.try_get("decided_at")?,
            decision_note: row.try_get("decision_note")?,
            mean_score_centi: mean
                .map(u32::try_from)
                .transpose()
                .map_err(|e| decode_error("mean_score_centi", e))?,
            current_round: optional_unsigned(row, "current_round")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &ApplicationFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "program_id", f.program_id.map(uuid::Uuid::from));
        filter_eq!(qb, "project_id", f.project_id.map(uuid::Uuid::from));
        filter_eq!(qb, "applicant_id", f.applicant_id.map(uuid::Uuid::from));
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        if f.exclude_drafts {
            qb.push(" AND status <> 'draft'");
        }
        // Never-submitted applications have a NULL `submitted_at`, which no comparison matches.
        if let Some(t) = f.submitted_at_or_before {
            qb.push(" AND submitted_at <= ").push_bind(t);
        }
        // The deadline job's watermark (`applications_program_draft_created_idx` of 0016).
        if let Some(t) = f.created_after {
            qb.push(" AND created_at > ").push_bind(t);
        }
    }

    /// The waitlist's order (`Entity::rank`), in SQL: `waitlist_rank_cmp` sorts by the mean
    /// score (none counts as 0) descending, then the submission (none first), then the id, which
    /// `applications_waitlist_rank_idx` (0016) holds per program in that order, so a promotion
    /// reads the first entry instead of the whole waitlist.
    fn list_query(prefix: &str, f: &ApplicationFilter, page: PageRequest) -> Option<QueryBuilder<Postgres>> {
        if !f.waitlist_rank {
            return None;
        }
        let mut qb = QueryBuilder::new(format!(
            "{prefix}SELECT {} FROM applications WHERE TRUE",
            Self::COLUMNS.join(", ")
        ));
        Self::push_filter(f, &mut qb);
        qb.push(" ORDER BY COALESCE(mean_score_centi, 0) DESC, submitted_at ASC NULLS FIRST, id ASC LIMIT ")
            .push_bind(i64::from(page.limit).saturating_add(1));
        Some(qb)
    }
}

impl PgEntity for Review {
    const TABLE: &'static str = "reviews";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "application_id",
        "reviewer_id",
        "score",
        "comment",
        "conflict_declared",
        "submitted_at",
        "round",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    /// One per (application, reviewer, round) since 0009, under the same name.
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("reviews_application_reviewer_key", "application_reviewer")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.application_id))
            .push_bind(uuid::Uuid::from(self.reviewer_id))
            .push_bind(self.score.map(|s| i32::from(s.get())))
            .push_bind(self.comment.clone())
            .push_bind(self.conflict_declared)
            .push_bind(self.submitted_at)
            .push_bind(self.round.map(sql_int));
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let score: Option<i32> = row.try_get("score")?;
        Ok(Review {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            application_id: row.try_get::<uuid::Uuid, _>("application_id")?.into(),
            reviewer_id: row.try_get::<uuid::Uuid, _>("reviewer_id")?.into(),
            score: score
                .map(Score::new)
                .transpose()
                .map_err(|e| decode_error("score", e))?,
            comment: row.try_get("comment")?,
            conflict_declared: row.try_get("conflict_declared")?,
            submitted_at: row.try_get("submitted_at")?,
            round: optional_unsigned(row, "round")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &ReviewFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "application_id", f.application_id.map(uuid::Uuid::from));
        filter_eq!(qb, "reviewer_id", f.reviewer_id.map(uuid::Uuid::from));
        match f.submitted {
            Some(true) => qb.push(" AND submitted_at IS NOT NULL"),
            Some(false) => qb.push(" AND submitted_at IS NULL"),
            None => qb,
        };
        if let Some(t) = f.created_after {
            qb.push(" AND created_at > ").push_bind(t);
        }
        if let Some(t) = f.created_at_or_before {
            qb.push(" AND created_at <= ").push_bind(t);
        }
    }
}

impl PgEntity for Enrollment {
    const TABLE: &'static str = "enrollments";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "program_id",
        "application_id",
        "project_id",
        "entrepreneur_id",
        "status",
        "ended_at",
        "drop_reason",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("enrollments_application_key", "application")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.program_id))
            .push_bind(uuid::Uuid::from(self.application_id))
            .push_bind(uuid::Uuid::from(self.project_id))
            .push_bind(uuid::Uuid::from(self.entrepreneur_id))
            .push_bind(self.status.as_str())
            .push_bind(self.ended_at)
            .push_bind(self.drop_reason.clone());
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Enrollment {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            program_id: row.try_get::<uuid::Uuid, _>("program_id")?.into(),
            application_id: row.try_get::<uuid::Uuid, _>("application_id")?.into(),
            project_id: row.try_get::<uuid::Uuid, _>("project_id")?.into(),
            entrepreneur_id: row.try_get::<uuid::Uuid, _>("entrepreneur_id")?.into(),
            status: parse(row, "status")?,
            ended_at: row.try_get("ended_at")?,
            drop_reason: row.try_get("drop_reason")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &EnrollmentFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "program_id", f.program_id.map(uuid::Uuid::from));
        filter_eq!(qb, "entrepreneur_id", f.entrepreneur_id.map(uuid::Uuid::from));
        filter_eq!(qb, "application_id", f.application_id.map(uuid::Uuid::from));
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
    }
}
