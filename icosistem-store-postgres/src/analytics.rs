//! The analytics read port on PostgreSQL: every figure is one aggregate statement (`GROUP BY`,
//! `FILTER`, `percentile_cont`) over the tables, so a program with ten thousand applications
//! costs a few index scans and a handful of rows over the wire, never the rows themselves.
//! The rules are those of the memory store (the reference): half-open ranges on the instant
//! each figure names, soft-deleted programs and projects left out where the scope reaches
//! through them.

use std::str::FromStr;

use chrono::NaiveDate;
use icosistem_core::StoreError;
use icosistem_core::model::analytics::{
    ApplicationFigures, DateRange, EnrollmentFigures, MentorLoad, MentoringFigures, MentoringScope, MilestoneFigures,
    MonthCount, ReviewFigures, ReviewerLoad, SCORE_BUCKETS, ScoreFigures, every_status,
};
use icosistem_core::model::{ApplicationStatus, EnrollmentStatus, SessionStatus, UserId};
use icosistem_core::ports::store::{AnalyticsRead, ApplicationScope, EnrollmentScope, MilestoneScope, ReviewScope};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::PgTx;
use crate::entity::{parse, traced, unsigned};
use crate::error::unavailable_or_backend;

/// `AND <column> >= from AND <column> < to` for the ends the range has. `column` is an SQL
/// expression of type `timestamptz`.
fn push_range(qb: &mut QueryBuilder<Postgres>, column: &str, range: DateRange) {
    if let Some(from) = range.from {
        qb.push(format!(" AND {column} >= ")).push_bind(from);
    }
    if let Some(to) = range.to {
        qb.push(format!(" AND {column} < ")).push_bind(to);
    }
}

/// The programs of an organization that count: live ones.
fn push_org_programs(qb: &mut QueryBuilder<Postgres>, org: Uuid) {
    qb.push("(SELECT id FROM programs WHERE organization_id = ")
        .push_bind(org)
        .push(" AND deleted_at IS NULL)");
}

/// The mentoring scope on a table with `ally_id` and `entrepreneur_id` columns (`alias`).
fn push_mentoring_scope(qb: &mut QueryBuilder<Postgres>, alias: &str, scope: MentoringScope) {
    match scope {
        MentoringScope::All => {}
        MentoringScope::Organization(org) => {
            qb.push(format!(
                " AND {alias}.entrepreneur_id IN (SELECT e.entrepreneur_id FROM enrollments e WHERE e.program_id IN "
            ));
            push_org_programs(qb, org.into());
            qb.push(")");
        }
        MentoringScope::Ally(user) => {
            qb.push(format!(" AND {alias}.ally_id = ")).push_bind(Uuid::from(user));
        }
        MentoringScope::Entrepreneur(user) => {
            qb.push(format!(" AND {alias}.entrepreneur_id = "))
                .push_bind(Uuid::from(user));
        }
    }
}

/// A row of the submitted-reviews statement of `review_figures`: a reviewer's count, or a
/// score bucket's count, sum and sum of squares.
enum Submitted {
    Reviewer(Uuid, u64),
    Bucket(Option<usize>, u64, u64, u64),
}

fn count(row: &PgRow, column: &'static str) -> Result<u64, sqlx::Error> {
    unsigned(row, column)
}

impl PgTx {
    /// Runs an aggregate statement and decodes its rows.
    async fn aggregate<T>(
        &mut self,
        operation: &'static str,
        mut qb: QueryBuilder<Postgres>,
        decode: impl Fn(&PgRow) -> Result<T, sqlx::Error> + Send + Sync,
    ) -> Result<Vec<T>, StoreError> {
        traced(operation, None, async {
            // An aggregate's SQL may read any table: it sees this unit's waiting rows too.
            self.send_deferred(false).await?;
            self.note(qb.sql().as_str());
            let conn = self.list_reader().await?;
            let rows = qb.build().fetch_all(conn).await.map_err(unavailable_or_backend)?;
            self.answered();
            rows.iter()
                .map(|row| decode(row).map_err(unavailable_or_backend))
                .collect()
        })
        .await
    }

    /// The rows per status of `table` (`"<name> <alias>"`), `scoped` appending the conditions
    /// (`AND …` on `<alias>.` columns).
    async fn status_counts<S>(
        &mut self,
        operation: &'static str,
        table: &str,
        scoped: impl FnOnce(&mut QueryBuilder<Postgres>),
    ) -> Result<Vec<(S, u64)>, StoreError>
    where
        S: FromStr + Send,
        S::Err: std::fmt::Display,
    {
        let alias = table.rsplit(' ').next().unwrap_or(table);
        let mut qb = QueryBuilder::new(format!("SELECT {alias}.status, COUNT(*) AS n FROM {table} WHERE TRUE"));
        scoped(&mut qb);
        qb.push(format!(" GROUP BY {alias}.status"));
        self.aggregate(operation, qb, |row| Ok((parse::<S>(row, "status")?, count(row, "n")?)))
            .await
    }
}

impl AnalyticsRead for PgTx {
    async fn application_figures(
        &mut self,
        scope: ApplicationScope,
        range: DateRange,
    ) -> Result<ApplicationFigures, StoreError> {
        let scoped = |qb: &mut QueryBuilder<Postgres>| match scope {
            ApplicationScope::Program(id) => {
                qb.push(" AND a.program_id = ").push_bind(Uuid::from(id));
            }
            ApplicationScope::Organization(org) => {
                qb.push(" AND a.program_id IN ");
                push_org_programs(qb, org.into());
            }
            ApplicationScope::Applicant(user) => {
                qb.push(" AND a.applicant_id = ").push_bind(Uuid::from(user));
            }
        };
        let counted = self
            .status_counts::<ApplicationStatus>("application_funnel", "applications a", |qb| {
                scoped(qb);
                push_range(qb, "a.created_at", range);
            })
            .await?;
        // Seconds from submission to decision; percentiles interpolate like the memory
        // store's, rounded half away from zero (as `numeric` rounds).
        let mut qb = QueryBuilder::new(
            "SELECT COUNT(*) AS n, \
             round((percentile_cont(0.5) WITHIN GROUP (ORDER BY w))::numeric)::int8 AS median, \
             round((percentile_cont(0.9) WITHIN GROUP (ORDER BY w))::numeric)::int8 AS p90 \
             FROM (SELECT EXTRACT(EPOCH FROM a.decided_at - a.submitted_at)::float8 AS w FROM applications a \
             WHERE a.submitted_at IS NOT NULL AND a.decided_at IS NOT NULL",
        );
        scoped(&mut qb);
        push_range(&mut qb, "a.decided_at", range);
        qb.push(") d");
        let decisions = self
            .aggregate("application_decisions", qb, |row| {
                Ok((
                    count(row, "n")?,
                    row.try_get::<Option<i64>, _>("median")?,
                    row.try_get::<Option<i64>, _>("p90")?,
                ))
            })
            .await?;
        let (decided, median, p90) = decisions.into_iter().next().unwrap_or((0, None, None));
        Ok(ApplicationFigures {
            funnel: every_status(ApplicationStatus::ALL, &counted),
            decided,
            decision_median_seconds: median,
            decision_p90_seconds: p90,
        })
    }

    async fn review_figures(&mut self, scope: ReviewScope, range: DateRange) -> Result<ReviewFigures, StoreError> {
        // Both scopes are columns of `reviews` (its `program_id` is the application's, filled
        // by a trigger, migration 0013), so the submitted reviews are read from one covering
        // index, never joined to the applications: only "owed" needs an application's status.
        let scoped = |qb: &mut QueryBuilder<Postgres>| match scope {
            ReviewScope::Program(id) => {
                qb.push(" AND r.program_id = ").push_bind(Uuid::from(id));
            }
            ReviewScope::Reviewer(user) => {
                qb.push(" AND r.reviewer_id = ").push_bind(Uuid::from(user));
            }
        };
        // One pass over the submitted reviews for two groupings: per reviewer (done) and per
        // 10-point bucket (the score distribution; a conflict declared has no score, its
        // bucket is NULL and is skipped). `GROUPING(r.reviewer_id)` is 1 on the bucket rows.
        // The bucket expression is written once as text (a constant, not a bound parameter):
        // GROUP BY must repeat the select list's expression exactly.
        let bucket = format!("LEAST(r.score / 10, {})", SCORE_BUCKETS - 1);
        let mut qb = QueryBuilder::new(format!(
            "SELECT GROUPING(r.reviewer_id) AS by_bucket, r.reviewer_id, {bucket} AS bucket, COUNT(*) AS done, \
             COUNT(r.score) AS n, COALESCE(SUM(r.score), 0) AS total, COALESCE(SUM(r.score * r.score), 0) AS squares \
             FROM reviews r WHERE r.submitted_at IS NOT NULL"
        ));
        scoped(&mut qb);
        push_range(&mut qb, "r.submitted_at", range);
        qb.push(format!(" GROUP BY GROUPING SETS ((r.reviewer_id), ({bucket}))"));
        let submitted = self
            .aggregate("review_scores", qb, |row| {
                let by_bucket: i32 = row.try_get("by_bucket")?;
                Ok(if by_bucket == 0 {
                    Submitted::Reviewer(row.try_get::<Uuid, _>("reviewer_id")?, count(row, "done")?)
                } else {
                    Submitted::Bucket(
                        row.try_get::<Option<i32>, _>("bucket")?
                            .map(|b| usize::try_from(b).map_err(|e| sqlx::Error::Decode(Box::new(e))))
                            .transpose()?,
                        count(row, "n")?,
                        count(row, "total")?,
                        count(row, "squares")?,
                    )
                })
            })
            .await?;
        // Owed: pending assignments on applications still waiting for a decision (the partial
        // index of pending reviews, then one probe per pending review).
        let mut qb = QueryBuilder::new(
            "SELECT r.reviewer_id, COUNT(*) AS owed FROM reviews r JOIN applications a ON a.id = r.application_id \
             WHERE r.submitted_at IS NULL AND a.status IN ('submitted', 'under_review')",
        );
        scoped(&mut qb);
        // The application side narrowed to the program too: its (program, status) index instead
        // of a scan of every application waiting on the platform.
        if let ReviewScope::Program(id) = scope {
            qb.push(" AND a.program_id = ").push_bind(Uuid::from(id));
        }
        qb.push(" GROUP BY r.reviewer_id");
        let owed = self
            .aggregate("review_owed", qb, |row| {
                Ok((row.try_get::<Uuid, _>("reviewer_id")?, count(row, "owed")?))
            })
            .await?;

        let mut loads = std::collections::BTreeMap::<Uuid, (u64, u64)>::new();
        let mut scores = ScoreFigures {
            buckets: vec![0; SCORE_BUCKETS],
            ..ScoreFigures::default()
        };
        for row in submitted {
            match row {
                Submitted::Reviewer(reviewer, done) => loads.entry(reviewer).or_default().0 += done,
                Submitted::Bucket(Some(bucket), n, total, squares) => {
                    if let Some(slot) = scores.buckets.get_mut(bucket) {
                        *slot += n;
                    }
                    scores.count += n;
                    scores.sum += total;
                    scores.sum_squares += squares;
                }
                Submitted::Bucket(None, ..) => {}
            }
        }
        for (reviewer, n) in owed {
            loads.entry(reviewer).or_default().1 += n;
        }
        // Ordered by id, as the memory store orders them (uuid order is byte order).
        let reviewers = loads
            .into_iter()
            .filter(|(_, (done, owed))| done + owed > 0)
            .map(|(reviewer, (done, owed))| ReviewerLoad {
                reviewer_id: UserId::from(reviewer),
                done,
                owed,
            })
            .collect();
        Ok(ReviewFigures { reviewers, scores })
    }

    async fn enrollment_figures(
        &mut self,
        scope: EnrollmentScope,
        range: DateRange,
    ) -> Result<EnrollmentFigures, StoreError> {
        let scoped = |qb: &mut QueryBuilder<Postgres>| {
            match scope {
                EnrollmentScope::Program(id) => {
                    qb.push(" AND e.program_id = ").push_bind(Uuid::from(id));
                }
                EnrollmentScope::Organization(org) => {
                    qb.push(" AND e.program_id IN ");
                    push_org_programs(qb, org.into());
                }
            }
            push_range(qb, "e.created_at", range);
        };
        let counted = self
            .status_counts::<EnrollmentStatus>("enrollment_statuses", "enrollments e", &scoped)
            .await?;
        let mut qb = QueryBuilder::new(
            "SELECT date_trunc('month', e.created_at AT TIME ZONE 'UTC')::date AS month, COUNT(*) AS n \
             FROM enrollments e WHERE TRUE",
        );
        scoped(&mut qb);
        qb.push(" GROUP BY month ORDER BY month");
        let by_month = self
            .aggregate("enrollment_months", qb, |row| {
                Ok(MonthCount {
                    month: row.try_get::<NaiveDate, _>("month")?,
                    count: count(row, "n")?,
                })
            })
            .await?;
        Ok(EnrollmentFigures {
            by_status: every_status(EnrollmentStatus::ALL, &counted),
            by_month,
        })
    }

    async fn milestone_figures(
        &mut self,
        scope: MilestoneScope,
        range: DateRange,
        today: NaiveDate,
    ) -> Result<MilestoneFigures, StoreError> {
        let mut qb = QueryBuilder::new(
            "SELECT \
             COUNT(*) FILTER (WHERE m.status = 'completed' AND m.completed_on <= m.target_date) AS on_time, \
             COUNT(*) FILTER (WHERE m.status = 'completed' AND m.completed_on > m.target_date) AS late, \
             COUNT(*) FILTER (WHERE m.status NOT IN ('completed', 'cancelled') AND m.target_date < ",
        );
        qb.push_bind(today).push(
            ") AS overdue, COUNT(*) FILTER (WHERE m.status NOT IN ('completed', 'cancelled') AND m.target_date >= ",
        );
        qb.push_bind(today).push(
            ") AS upcoming FROM milestones m JOIN projects p ON p.id = m.project_id AND p.deleted_at IS NULL \
             WHERE TRUE",
        );
        match scope {
            MilestoneScope::Program(id) => {
                qb.push(" AND m.project_id IN (SELECT project_id FROM enrollments WHERE program_id = ")
                    .push_bind(Uuid::from(id))
                    .push(")");
            }
            MilestoneScope::Owner(user) => {
                qb.push(" AND m.owner_id = ").push_bind(Uuid::from(user));
            }
        }
        push_range(&mut qb, "(m.target_date::timestamp AT TIME ZONE 'UTC')", range);
        let rows = self
            .aggregate("milestone_figures", qb, |row| {
                Ok(MilestoneFigures {
                    on_time: count(row, "on_time")?,
                    late: count(row, "late")?,
                    overdue: count(row, "overdue")?,
                    upcoming: count(row, "upcoming")?,
                })
            })
            .await?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    async fn mentoring_figures(
        &mut self,
        scope: MentoringScope,
        range: DateRange,
        default_capacity: u64,
    ) -> Result<MentoringFigures, StoreError> {
        let mut qb = QueryBuilder::new(
            "SELECT m.ally_id, COUNT(*) FILTER (WHERE m.status = 'active') AS active, \
             COALESCE((SELECT (pr.data ->> 'max_mentees')::int8 FROM profiles pr \
             WHERE pr.id = m.ally_id AND pr.role = 'ally'), ",
        );
        qb.push_bind(i64::try_from(default_capacity).unwrap_or(i64::MAX))
            .push(") AS capacity FROM mentorships m WHERE TRUE");
        push_mentoring_scope(&mut qb, "m", scope);
        qb.push(" GROUP BY m.ally_id ORDER BY m.ally_id");
        let mentors = self
            .aggregate("mentor_loads", qb, |row| {
                Ok(MentorLoad {
                    ally_id: UserId::from(row.try_get::<Uuid, _>("ally_id")?),
                    active_mentees: count(row, "active")?,
                    capacity: count(row, "capacity")?,
                })
            })
            .await?;
        let mut qb = QueryBuilder::new(
            "SELECT s.status, COUNT(*) AS n, \
             COUNT(s.ally_feedback) + COUNT(s.entrepreneur_feedback) AS given, \
             COALESCE(SUM(COALESCE((s.ally_feedback ->> 'rating')::int, 0) \
             + COALESCE((s.entrepreneur_feedback ->> 'rating')::int, 0)), 0) AS ratings \
             FROM sessions s WHERE TRUE",
        );
        push_mentoring_scope(&mut qb, "s", scope);
        push_range(&mut qb, "s.starts_at", range);
        qb.push(" GROUP BY s.status");
        let rows = self
            .aggregate("session_figures", qb, |row| {
                Ok((
                    parse::<SessionStatus>(row, "status")?,
                    count(row, "n")?,
                    count(row, "given")?,
                    count(row, "ratings")?,
                ))
            })
            .await?;
        let counted: Vec<(SessionStatus, u64)> = rows.iter().map(|(s, n, _, _)| (*s, *n)).collect();
        // Feedback counts on completed sessions only (as the memory store; the schema allows
        // it nowhere else anyway).
        let (completed, given, rating_sum) = rows
            .iter()
            .find(|(s, ..)| *s == SessionStatus::Completed)
            .map(|(_, n, given, ratings)| (*n, *given, *ratings))
            .unwrap_or_default();
        Ok(MentoringFigures {
            mentors,
            sessions: every_status(SessionStatus::ALL, &counted),
            feedback_given: given,
            feedback_expected: completed * 2,
            rating_sum,
        })
    }
}
