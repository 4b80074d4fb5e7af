//! The analytics read port over the in-memory tables: one pass over the rows each figure
//! names, with the same rules the SQL store states in its aggregate queries (this is the
//! reference the conformance suite compares PostgreSQL with).

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};
use icosistem_core::StoreError;
use icosistem_core::model::analytics::{
    ApplicationFigures, DateRange, EnrollmentFigures, MentorLoad, MentoringFigures, MentoringScope, MilestoneFigures,
    MonthCount, ReviewFigures, ReviewerLoad, SCORE_BUCKETS, ScoreFigures, every_status, percentile_cont, score_bucket,
};
use icosistem_core::model::{
    Application, ApplicationStatus, EnrollmentStatus, MentorshipStatus, MilestoneStatus, ProfileData, ProjectId,
    SessionStatus, UserId,
};
use icosistem_core::ports::store::{
    AnalyticsRead, ApplicationScope, EnrollmentScope, Entity, MilestoneScope, ReviewScope,
};

use crate::{MemoryTx, State};

impl State {
    fn application_in(&self, app: &Application, scope: ApplicationScope) -> bool {
        match scope {
            ApplicationScope::Program(id) => app.program_id == id,
            ApplicationScope::Organization(org) => self
                .programs
                .rows
                .get(&app.program_id)
                .is_some_and(|p| p.organization_id == org && !p.is_deleted()),
            ApplicationScope::Applicant(user) => app.applicant_id == user,
        }
    }

    /// The entrepreneurs enrolled in a live program of the organization.
    fn enrolled_in_org(&self, org: icosistem_core::model::OrganizationId) -> HashSet<UserId> {
        self.enrollments
            .rows
            .values()
            .filter(|e| {
                self.programs
                    .rows
                    .get(&e.program_id)
                    .is_some_and(|p| p.organization_id == org && !p.is_deleted())
            })
            .map(|e| e.entrepreneur_id)
            .collect()
    }
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

impl AnalyticsRead for MemoryTx {
    async fn application_figures(
        &mut self,
        scope: ApplicationScope,
        range: DateRange,
    ) -> Result<ApplicationFigures, StoreError> {
        let state = self.state();
        let mut counted = Vec::new();
        let mut waits = Vec::new();
        for app in state
            .applications
            .rows
            .values()
            .filter(|a| state.application_in(a, scope))
        {
            if range.contains(app.meta.created_at) {
                counted.push((app.status, 1));
            }
            if let (Some(submitted), Some(decided)) = (app.submitted_at, app.decided_at)
                && range.contains(decided)
            {
                let micros = (decided - submitted).num_microseconds().unwrap_or(i64::MAX);
                waits.push(micros as f64 / 1e6);
            }
        }
        waits.sort_by(f64::total_cmp);
        let whole = |p: f64| percentile_cont(&waits, p).map(|s| s.round() as i64);
        Ok(ApplicationFigures {
            funnel: every_status(ApplicationStatus::ALL, &counted),
            decided: waits.len() as u64,
            decision_median_seconds: whole(0.5),
            decision_p90_seconds: whole(0.9),
        })
    }

    async fn review_figures(&mut self, scope: ReviewScope, range: DateRange) -> Result<ReviewFigures, StoreError> {
        let state = self.state();
        let mut loads: BTreeMap<UserId, (u64, u64)> = BTreeMap::new();
        let mut scores = ScoreFigures {
            buckets: vec![0; SCORE_BUCKETS],
            ..ScoreFigures::default()
        };
        for review in state.reviews.rows.values() {
            let Some(app) = state.applications.rows.get(&review.application_id) else {
                continue;
            };
            let in_scope = match scope {
                ReviewScope::Program(id) => app.program_id == id,
                ReviewScope::Reviewer(user) => review.reviewer_id == user,
            };
            if !in_scope {
                continue;
            }
            let load = loads.entry(review.reviewer_id).or_default();
            match review.submitted_at {
                Some(at) if range.contains(at) => {
                    load.0 += 1;
                    if let Some(score) = review.score {
                        let score = score.get();
                        scores.buckets[score_bucket(score)] += 1;
                        scores.count += 1;
                        scores.sum += u64::from(score);
                        scores.sum_squares += u64::from(score) * u64::from(score);
                    }
                }
                Some(_) => {}
                None => {
                    if matches!(
                        app.status,
                        ApplicationStatus::Submitted | ApplicationStatus::UnderReview
                    ) {
                        load.1 += 1;
                    }
                }
            }
        }
        Ok(ReviewFigures {
            reviewers: loads
                .into_iter()
                .filter(|(_, (done, owed))| done + owed > 0)
                .map(|(reviewer_id, (done, owed))| ReviewerLoad {
                    reviewer_id,
                    done,
                    owed,
                })
                .collect(),
            scores,
        })
    }

    async fn enrollment_figures(
        &mut self,
        scope: EnrollmentScope,
        range: DateRange,
    ) -> Result<EnrollmentFigures, StoreError> {
        let state = self.state();
        let mut counted = Vec::new();
        let mut months: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for e in state.enrollments.rows.values() {
            let in_scope = match scope {
                EnrollmentScope::Program(id) => e.program_id == id,
                EnrollmentScope::Organization(org) => state
                    .programs
                    .rows
                    .get(&e.program_id)
                    .is_some_and(|p| p.organization_id == org && !p.is_deleted()),
            };
            if !in_scope || !range.contains(e.meta.created_at) {
                continue;
            }
            counted.push((e.status, 1));
            *months
                .entry(first_of_month(e.meta.created_at.date_naive()))
                .or_default() += 1;
        }
        Ok(EnrollmentFigures {
            by_status: every_status(EnrollmentStatus::ALL, &counted),
            by_month: months
                .into_iter()
                .map(|(month, count)| MonthCount { month, count })
                .collect(),
        })
    }

    async fn milestone_figures(
        &mut self,
        scope: MilestoneScope,
        range: DateRange,
        today: NaiveDate,
    ) -> Result<MilestoneFigures, StoreError> {
        let state = self.state();
        let enrolled: HashSet<ProjectId> = match scope {
            MilestoneScope::Program(id) => state
                .enrollments
                .rows
                .values()
                .filter(|e| e.program_id == id)
                .map(|e| e.project_id)
                .collect(),
            MilestoneScope::Owner(_) => HashSet::new(),
        };
        let mut figures = MilestoneFigures::default();
        for m in state.milestones.rows.values() {
            let in_scope = match scope {
                MilestoneScope::Program(_) => enrolled.contains(&m.project_id),
                MilestoneScope::Owner(user) => m.owner_id == user,
            };
            let live = state.projects.rows.get(&m.project_id).is_some_and(|p| !p.is_deleted());
            if !in_scope || !live || !range.contains_date(m.target_date) {
                continue;
            }
            match (m.status, m.completed_on) {
                (MilestoneStatus::Cancelled, _) => {}
                (MilestoneStatus::Completed, Some(on)) if on <= m.target_date => figures.on_time += 1,
                (MilestoneStatus::Completed, _) => figures.late += 1,
                _ if m.target_date < today => figures.overdue += 1,
                _ => figures.upcoming += 1,
            }
        }
        Ok(figures)
    }

    async fn mentoring_figures(
        &mut self,
        scope: MentoringScope,
        range: DateRange,
        default_capacity: u64,
    ) -> Result<MentoringFigures, StoreError> {
        let state = self.state();
        let enrolled = match scope {
            MentoringScope::Organization(org) => state.enrolled_in_org(org),
            _ => HashSet::new(),
        };
        let in_scope = |ally: UserId, entrepreneur: UserId| match scope {
            MentoringScope::All => true,
            MentoringScope::Organization(_) => enrolled.contains(&entrepreneur),
            MentoringScope::Ally(user) => ally == user,
            MentoringScope::Entrepreneur(user) => entrepreneur == user,
        };
        let mut loads: BTreeMap<UserId, u64> = BTreeMap::new();
        for m in state.mentorships.rows.values() {
            if in_scope(m.ally_id, m.entrepreneur_id) {
                *loads.entry(m.ally_id).or_default() += u64::from(m.status == MentorshipStatus::Active);
            }
        }
        let mentors = loads
            .into_iter()
            .map(|(ally_id, active_mentees)| MentorLoad {
                ally_id,
                active_mentees,
                capacity: match state.profiles.rows.get(&ally_id).map(|p| &p.data) {
                    Some(ProfileData::Ally(profile)) => u64::from(profile.max_mentees),
                    _ => default_capacity,
                },
            })
            .collect();
        let mut counted = Vec::new();
        let (mut given, mut expected, mut rating_sum) = (0, 0, 0);
        for s in state.sessions.rows.values() {
            if !in_scope(s.ally_id, s.entrepreneur_id) || !range.contains(s.starts_at) {
                continue;
            }
            counted.push((s.status, 1));
            if s.status == SessionStatus::Completed {
                expected += 2;
                for feedback in [&s.ally_feedback, &s.entrepreneur_feedback].into_iter().flatten() {
                    given += 1;
                    rating_sum += u64::from(feedback.rating.get());
                }
            }
        }
        Ok(MentoringFigures {
            mentors,
            sessions: every_status(SessionStatus::ALL, &counted),
            feedback_given: given,
            feedback_expected: expected,
            rating_sum,
        })
    }
}
