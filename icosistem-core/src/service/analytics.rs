//! Analytics use cases (docs/domain.md §9): who may read which figures, and the figures the store
//! computes for them ([`AnalyticsRead`]). Nothing here loads rows to count them.
//!
//! Who: program staff (owner, coordinator) for their programs, org owners for their
//! organization, admins for all, each user for their own figures. An organization's or a
//! program's reviewer sees it but reads no analytics (403); an outsider who cannot see the
//! program or organization gets 404. Blind-review programs expose no applicant identity: no
//! figure names an applicant, only reviewers by id.

use crate::error::Result;
use crate::model::analytics::{
    Capacity, DateRange, MentoringAnalytics, MentoringScope, OrganizationAnalytics, ProgramAnalytics, UserAnalytics,
    every_status,
};
use crate::model::{AllyProfile, Organization, OrganizationId, Program, ProgramId, ProgramStatus, Role};
use crate::policy::{Action, Facts};
use crate::ports::store::{
    AnalyticsRead, ApplicationScope, EnrollmentScope, MilestoneScope, ProgramFilter, ReviewScope, Store, Transaction,
};
use crate::ports::{Clock, Notifier};
use crate::service::{Context, Ecosystem, Uow, authorize_seen};

/// The `max_mentees` an ally without a profile has (the profile's default).
fn default_capacity() -> u64 {
    u64::from(AllyProfile::default().max_mentees)
}

impl<T: Transaction> Uow<T> {
    /// Loads a program the caller may read the analytics (and exports) of: invisible →
    /// `NotFound`, visible but not staff → `Forbidden`.
    pub(crate) async fn program_for_analytics(&mut self, id: ProgramId) -> Result<Program> {
        let program: Program = self.load(id).await?;
        self.authorize_program(&program, Action::ReadProgramAnalytics).await?;
        Ok(program)
    }

    /// Loads an organization for `action` (an analytics read): invisible → `NotFound`.
    async fn organization_for(&mut self, id: OrganizationId, action: Action) -> Result<Organization> {
        let org: Organization = self.load(id).await?;
        let facts = Facts {
            org_role: self.org_role(id).await?,
            is_public: org.is_public,
            ..Facts::none()
        };
        authorize_seen(
            &self.ctx.actor,
            Action::ViewOrganization,
            action,
            &facts,
            "organization",
            id,
        )?;
        Ok(org)
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// A program's funnel, decision times, reviewer workload, score distribution, seats used,
    /// enrollments and the enrolled projects' milestones.
    pub async fn program_analytics(&self, ctx: &Context, id: ProgramId, range: DateRange) -> Result<ProgramAnalytics> {
        let mut uow = self.uow(ctx).await?;
        let program = uow.program_for_analytics(id).await?;
        let today = uow.now.date_naive();
        let applications = uow.tx.application_figures(ApplicationScope::Program(id), range).await?;
        let reviews = uow.tx.review_figures(ReviewScope::Program(id), range).await?;
        let enrollments = uow.tx.enrollment_figures(EnrollmentScope::Program(id), range).await?;
        let milestones = uow
            .tx
            .milestone_figures(MilestoneScope::Program(id), range, today)
            .await?;
        Ok(ProgramAnalytics {
            program_id: id,
            blind_review: program.ever_blind(),
            range,
            applications,
            reviews,
            capacity: Capacity {
                accepted: u64::from(program.accepted_count),
                max_participants: u64::from(program.max_participants),
            },
            enrollments,
            milestones,
        })
    }

    /// An organization's programs by status, applications and enrollments over time.
    pub async fn organization_analytics(
        &self,
        ctx: &Context,
        id: OrganizationId,
        range: DateRange,
    ) -> Result<OrganizationAnalytics> {
        let mut uow = self.uow(ctx).await?;
        uow.organization_for(id, Action::ReadOrganizationAnalytics).await?;
        let mut counted = Vec::new();
        for status in ProgramStatus::ALL {
            let n = uow
                .count(&ProgramFilter {
                    organization_id: Some(id),
                    status: Some(*status),
                    ..Default::default()
                })
                .await?;
            counted.push((*status, n));
        }
        let applications = uow
            .tx
            .application_figures(ApplicationScope::Organization(id), range)
            .await?;
        let enrollments = uow
            .tx
            .enrollment_figures(EnrollmentScope::Organization(id), range)
            .await?;
        Ok(OrganizationAnalytics {
            organization_id: id,
            range,
            programs: every_status(ProgramStatus::ALL, &counted),
            applications,
            enrollments,
        })
    }

    /// Mentoring figures: the platform's (admins) or, with `organization`, those of the
    /// entrepreneurs enrolled in its programs (its staff).
    pub async fn mentoring_analytics(
        &self,
        ctx: &Context,
        organization: Option<OrganizationId>,
        range: DateRange,
    ) -> Result<MentoringAnalytics> {
        let mut uow = self.uow(ctx).await?;
        let scope = match organization {
            Some(id) => {
                uow.organization_for(id, Action::ReadMentoringAnalytics).await?;
                MentoringScope::Organization(id)
            }
            None => {
                crate::policy::authorize(&ctx.actor, Action::ReadMentoringAnalytics, &Facts::none())?;
                MentoringScope::All
            }
        };
        let figures = uow.tx.mentoring_figures(scope, range, default_capacity()).await?;
        Ok(MentoringAnalytics { scope, range, figures })
    }

    /// The caller's own figures: their applications, milestones, reviews and mentoring (as the
    /// ally for allies, as the mentee otherwise).
    pub async fn my_analytics(&self, ctx: &Context, range: DateRange) -> Result<UserAnalytics> {
        let me = ctx.user_id("analytics.read")?;
        let mut uow = self.uow(ctx).await?;
        let today = uow.now.date_naive();
        let applications = uow
            .tx
            .application_figures(ApplicationScope::Applicant(me), range)
            .await?;
        let milestones = uow
            .tx
            .milestone_figures(MilestoneScope::Owner(me), range, today)
            .await?;
        let reviews = uow.tx.review_figures(ReviewScope::Reviewer(me), range).await?;
        let scope = if ctx.actor.role() == Some(Role::Ally) {
            MentoringScope::Ally(me)
        } else {
            MentoringScope::Entrepreneur(me)
        };
        let mentoring = uow.tx.mentoring_figures(scope, range, default_capacity()).await?;
        Ok(UserAnalytics {
            user_id: me,
            range,
            applications,
            milestones,
            reviews,
            mentoring,
        })
    }
}

/// What a CSV export lists (docs/domain.md §9: "the lists behind" the figures), as audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A program's applications with their scores.
    Applications,
    /// A program's enrollments.
    Enrollments,
    /// Mentoring sessions.
    Sessions,
}

impl ExportKind {
    /// The name in the audit entry (`export.csv`, `after.export`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Applications => "applications",
            ExportKind::Enrollments => "enrollments",
            ExportKind::Sessions => "sessions",
        }
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Starts an export of a program's list (its staff, admins): authorizes, records
    /// `export.csv` in the audit log and answers the program (its blindness decides the
    /// columns). The rows then come page by page from [`Ecosystem::export_applications_page`]
    /// or [`Ecosystem::export_enrollments_page`].
    pub async fn start_program_export(&self, ctx: &Context, id: ProgramId, kind: ExportKind) -> Result<Program> {
        let mut uow = self.uow(ctx).await?;
        let program = uow.program_for_analytics(id).await?;
        uow.audit(
            "export.csv",
            "program",
            id,
            Some(program.organization_id),
            None,
            Some(serde_json::json!({ "export": kind.as_str() })),
        )
        .await?;
        uow.commit().await?;
        Ok(program)
    }

    /// One page of a program's submitted applications for an export, oldest first, each page
    /// authorized anew (a member removed mid-export gets no further page). Identity follows
    /// [`Ecosystem::list_applications`]; the export drops it altogether for blind programs.
    pub async fn export_applications_page(
        &self,
        ctx: &Context,
        id: ProgramId,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<crate::service::ApplicationView>> {
        self.uow(ctx).await?.program_for_analytics(id).await?;
        let filter = crate::ports::store::ApplicationFilter {
            program_id: Some(id),
            ..Default::default()
        };
        self.list_applications(ctx, filter, page).await
    }

    /// One page of a program's enrollments for an export, each page authorized anew.
    pub async fn export_enrollments_page(
        &self,
        ctx: &Context,
        id: ProgramId,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<crate::model::Enrollment>> {
        self.uow(ctx).await?.program_for_analytics(id).await?;
        self.list_enrollments(ctx, id, None, page).await
    }

    /// Starts an export of the platform's mentoring sessions (admins): authorizes and records
    /// `export.csv`.
    pub async fn start_sessions_export(&self, ctx: &Context) -> Result<()> {
        crate::policy::authorize(&ctx.actor, Action::ReadMentoringAnalytics, &Facts::none())?;
        let me = ctx.user_id("export.csv")?;
        let mut uow = self.uow(ctx).await?;
        uow.audit(
            "export.csv",
            "user",
            me,
            None,
            None,
            Some(serde_json::json!({ "export": ExportKind::Sessions.as_str() })),
        )
        .await?;
        uow.commit().await
    }

    /// One page of the platform's sessions starting in `range` for an export (admins), each
    /// page authorized anew.
    pub async fn export_sessions_page(
        &self,
        ctx: &Context,
        range: DateRange,
        page: crate::ports::PageRequest,
    ) -> Result<crate::ports::Page<crate::model::Session>> {
        crate::policy::authorize(&ctx.actor, Action::ReadMentoringAnalytics, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;
        // The range is half-open and instants are kept to the microsecond: `from ≤ t` is
        // `t > from − 1 µs`, `t < to` is `t ≤ to − 1 µs`.
        let tick = chrono::Duration::microseconds(1);
        let filter = crate::ports::store::SessionFilter {
            starts_after: range.from.map(|from| from - tick),
            starts_at_or_before: range.to.map(|to| to - tick),
            ..Default::default()
        };
        uow.list(&filter, page).await
    }
}
