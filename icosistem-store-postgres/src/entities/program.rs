//! Programs and selection: applications, reviews, enrollments.

use icosistem_core::model::{Application, Deletion, Enrollment, Meta, Program, ProgramStatus, Review};
use icosistem_core::ports::store::{ApplicationFilter, EnrollmentFilter, PageRequest, ProgramFilter, ReviewFilter};
use sqlx::{Postgres, QueryBuilder};

use crate::entity::PgEntity;
use crate::mapping::{filter_eq, pg_mapping};

impl PgEntity for Program {
    pg_mapping! {
        table: "programs",
        id: id,
        organization_id: id,
        name: text,
        slug: text,
        program_type: text,
        status: text,
        description: value,
        application_opens_at: value,
        application_deadline: value,
        start_date: value,
        end_date: value,
        min_participants: int,
        max_participants: int,
        accepted_count: int,
        min_reviews: int,
        blind_review: value,
        target_sectors: value,
        target_stages: texts,
        format: text,
        rounds: json,
        meta: nested(Meta),
        deletion: nested(Deletion),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("programs_slug_key", "slug")];

    fn push_filter(f: &ProgramFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, organization_id: id, status: text, slug: text);
        if f.exclude_drafts {
            qb.push(" AND status <> 'draft'");
        }
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
    pg_mapping! {
        table: "applications",
        id: id,
        program_id: id,
        project_id: id,
        applicant_id: id,
        answers: json,
        status: text,
        submitted_at: value,
        decided_at: value,
        decision_note: value,
        mean_score_centi: opt_int,
        current_round: opt_int,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("applications_program_project_key", "program_project")];

    fn push_filter(f: &ApplicationFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, program_id: id, project_id: id, applicant_id: id, status: text);
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
    pg_mapping! {
        table: "reviews",
        id: id,
        application_id: id,
        reviewer_id: id,
        score: opt_int,
        comment: value,
        conflict_declared: value,
        submitted_at: value,
        round: opt_int,
        meta: nested(Meta),
    }
    /// One per (application, reviewer, round) since 0009, under the same name.
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("reviews_application_reviewer_key", "application_reviewer")];

    fn push_filter(f: &ReviewFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, application_id: id, reviewer_id: id);
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
    pg_mapping! {
        table: "enrollments",
        id: id,
        program_id: id,
        application_id: id,
        project_id: id,
        entrepreneur_id: id,
        status: text,
        ended_at: value,
        drop_reason: value,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("enrollments_application_key", "application")];

    fn push_filter(f: &EnrollmentFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, program_id: id, entrepreneur_id: id, application_id: id, status: text);
    }
}
