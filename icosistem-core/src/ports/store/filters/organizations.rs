//! Filters of organizations, members, programs, projects (with the visibility rule of a project
//! list), milestones, applications, reviews and enrollments.

use chrono::{DateTime, NaiveDate, Utc};

use super::{eq, pair};
use crate::model::value::Slug;
use crate::model::*;
use crate::ports::store::Entity;

/// Filter of organizations.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    /// Status.
    pub status: Option<OrganizationStatus>,
    /// Kind.
    pub organization_type: Option<OrganizationType>,
    /// Public ones only / private ones only.
    pub is_public: Option<bool>,
    /// Exact slug.
    pub slug: Option<Slug>,
    /// Include soft-deleted organizations.
    pub include_deleted: bool,
}

impl Entity for Organization {
    entity_basics!(
        OrganizationId,
        OrganizationId::KIND,
        OrganizationFilter,
        |s| s.id,
        |m| m.meta
    );
    fn is_deleted(&self) -> bool {
        self.deletion.is_deleted()
    }
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        let mut keys = vec![("slug", self.slug.as_str().to_owned())];
        if let Some(tax_id) = &self.tax_id {
            keys.push(("tax_id", tax_id.clone()));
        }
        keys
    }
    fn matches(&self, f: &OrganizationFilter) -> bool {
        (f.include_deleted || !self.is_deleted())
            && eq(&f.status, &self.status)
            && eq(&f.organization_type, &self.organization_type)
            && eq(&f.is_public, &self.is_public)
            && eq(&f.slug, &self.slug)
    }
}

/// Filter of organization members.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Of this organization.
    pub organization_id: Option<OrganizationId>,
    /// Memberships of this user.
    pub user_id: Option<UserId>,
    /// With this role.
    pub role: Option<MemberRole>,
}

impl Entity for OrganizationMember {
    entity_basics!(MemberId, MemberId::KIND, MemberFilter, |s| s.id, |m| m.meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("organization_user", pair(self.organization_id, self.user_id))]
    }
    fn matches(&self, f: &MemberFilter) -> bool {
        eq(&f.organization_id, &self.organization_id) && eq(&f.user_id, &self.user_id) && eq(&f.role, &self.role)
    }
}

/// Filter of programs.
#[derive(Debug, Clone, Default)]
pub struct ProgramFilter {
    /// Run by this organization.
    pub organization_id: Option<OrganizationId>,
    /// Status.
    pub status: Option<ProgramStatus>,
    /// Only programs accepting applications at this instant.
    pub accepting_at: Option<DateTime<Utc>>,
    /// Only programs whose application deadline is at or before this instant (with
    /// `accepting_at`, the deadline-notice window of the jobs).
    pub deadline_at_or_before: Option<DateTime<Utc>>,
    /// Leave out drafts (what non-members may see).
    pub exclude_drafts: bool,
    /// Exact slug.
    pub slug: Option<Slug>,
    /// Include soft-deleted programs.
    pub include_deleted: bool,
}

impl Entity for Program {
    entity_basics!(ProgramId, ProgramId::KIND, ProgramFilter, |s| s.id, |m| m.meta);
    fn is_deleted(&self) -> bool {
        self.deletion.is_deleted()
    }
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("slug", self.slug.as_str().to_owned())]
    }
    fn matches(&self, f: &ProgramFilter) -> bool {
        (f.include_deleted || !self.is_deleted())
            && eq(&f.organization_id, &self.organization_id)
            && eq(&f.status, &self.status)
            && !(f.exclude_drafts && self.status == ProgramStatus::Draft)
            && eq(&f.slug, &self.slug)
            && f.accepting_at.is_none_or(|now| self.accepts_applications(now))
            && f.deadline_at_or_before.is_none_or(|t| self.application_deadline <= t)
    }
}

/// Filter of projects.
#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    /// This one project (with `include_deleted`, how a deleted project is still found).
    pub id: Option<ProjectId>,
    /// Only projects among these ids (`None`: no such limit; `Some(empty)` matches nothing):
    /// the batch load of a page's related rows, one statement instead of one per row.
    pub id_in: Option<Vec<ProjectId>>,
    /// Owned by.
    pub owner_id: Option<UserId>,
    /// Stage.
    pub stage: Option<ProjectStage>,
    /// Status.
    pub status: Option<ProjectStatus>,
    /// Only draft/active/paused projects (those counted by `max_active_projects`).
    pub open_only: bool,
    /// Public ones only / private ones only.
    pub is_public: Option<bool>,
    /// Exact slug.
    pub slug: Option<Slug>,
    /// Include soft-deleted projects.
    pub include_deleted: bool,
    /// Only the projects a caller may see (`None`: no such limit). ANDed with the other fields.
    pub visible_to: Option<ProjectVisibility>,
}

/// The projects one caller may see (docs/domain.md §2 "view project"), as a disjunction a store can
/// page: those of `owners`, the public ones when `public`, the projects in `ids`, and the
/// projects reached through the programs of `via_programs_of`. The empty visibility matches
/// nothing.
///
/// Every branch is bounded by what the caller is, never by what the database holds: `owners`
/// is one entrepreneur or an ally's mentees, `ids` a short explicit list, and the program
/// branch is a relation the store evaluates itself (a join in SQL, an index in memory) — so
/// a coordinator of programs with a million applications costs one paged query, not a million
/// ids carried into the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectVisibility {
    /// Projects owned by one of these users (an entrepreneur's own, an ally's mentees').
    pub owners: Vec<UserId>,
    /// Every public project (what a client sees).
    pub public: bool,
    /// These projects.
    pub ids: Vec<ProjectId>,
    /// The projects this user sees through programs: a project is in when one of its
    /// applications is not a draft, its program is live (not soft-deleted) and not blind-review,
    /// and the user is a member of the program's organization who either is staff there
    /// ([`MemberRole::is_staff`]) or is assigned (has a review row, submitted or not) to that
    /// application. This is relational — it depends on applications, programs, memberships and
    /// reviews, not on the project row — so [`ProjectVisibility::admits`] cannot decide it
    /// alone: stores evaluate it against their own tables ([`ProgramReach`] is the reference).
    pub via_programs_of: Option<UserId>,
}

impl ProjectVisibility {
    /// Whether `project` is in the visible set, given what `reach` says about the program
    /// branch ([`ProjectVisibility::via_programs_of`]).
    pub fn admits(&self, project: &Project, reach: &dyn ProgramReach) -> bool {
        self.owners.contains(&project.owner_id)
            || (self.public && project.is_public)
            || self.ids.contains(&project.id)
            || self.via_programs_of.is_some_and(|user| reach.reaches(user, project.id))
    }
}

/// The program branch of [`ProjectVisibility`]: whether `user` sees `project` through a
/// program (see [`ProjectVisibility::via_programs_of`] for the rule).
pub trait ProgramReach {
    /// Whether `user` reaches `project` through one of its applications.
    fn reaches(&self, user: UserId, project: ProjectId) -> bool;
}

/// A [`ProgramReach`] that reaches nothing: what [`Entity::matches`] assumes, having only the
/// project row. Stores evaluating [`ProjectVisibility::via_programs_of`] pass their own.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReach;

impl ProgramReach for NoReach {
    fn reaches(&self, _user: UserId, _project: ProjectId) -> bool {
        false
    }
}

/// The reference rule of [`ProjectVisibility::via_programs_of`] over plain rows: whether
/// `user` reaches `application`'s project, given the application's `program` (`None` when it
/// is missing or soft-deleted), the user's `membership_role` in the program's organization and
/// whether `assigned` (a review row of `user` for this application exists). Stores with rows in
/// memory call it; SQL stores state the same conditions in a join.
pub fn program_reaches(
    application: &Application,
    program: Option<&Program>,
    membership_role: Option<MemberRole>,
    assigned: bool,
) -> bool {
    application.status != ApplicationStatus::Draft
        && program.is_some_and(|p| !p.is_deleted() && !p.ever_blind() && p.id == application.program_id)
        && membership_role.is_some_and(|role| role.is_staff() || assigned)
}

/// Projects matching `filter` with the program branch of its visibility evaluated by `reach`
/// (the full reference semantics of a [`ProjectFilter`]).
pub fn project_matches(project: &Project, filter: &ProjectFilter, reach: &dyn ProgramReach) -> bool {
    project_matches_row(project, filter) && filter.visible_to.as_ref().is_none_or(|v| v.admits(project, reach))
}

fn project_matches_row(project: &Project, f: &ProjectFilter) -> bool {
    (f.include_deleted || !project.is_deleted())
        && eq(&f.id, &project.id)
        && f.id_in.as_ref().is_none_or(|ids| ids.contains(&project.id))
        && eq(&f.owner_id, &project.owner_id)
        && eq(&f.stage, &project.stage)
        && eq(&f.status, &project.status)
        && (!f.open_only || project.status.counts_as_open())
        && eq(&f.is_public, &project.is_public)
        && eq(&f.slug, &project.slug)
}

impl Entity for Project {
    entity_basics!(ProjectId, ProjectId::KIND, ProjectFilter, |s| s.id, |m| m.meta);
    fn is_deleted(&self) -> bool {
        self.deletion.is_deleted()
    }
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("slug", self.slug.as_str().to_owned())]
    }
    fn id_in(f: &Self::Filter) -> Option<&[Self::Id]> {
        f.id_in.as_deref()
    }
    /// The row's own conditions; the program branch of `visible_to` counts as not reaching
    /// (see [`project_matches`] for the whole rule, which stores apply).
    fn matches(&self, f: &ProjectFilter) -> bool {
        project_matches(self, f, &NoReach)
    }
}

/// Filter of milestones.
#[derive(Debug, Clone, Default)]
pub struct MilestoneFilter {
    /// Of this project.
    pub project_id: Option<ProjectId>,
    /// Of projects owned by.
    pub owner_id: Option<UserId>,
    /// Status.
    pub status: Option<MilestoneStatus>,
    /// Only milestones overdue on this day (target before it, not terminal).
    pub overdue_on: Option<NaiveDate>,
}

impl Entity for Milestone {
    entity_basics!(MilestoneId, MilestoneId::KIND, MilestoneFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &MilestoneFilter) -> bool {
        eq(&f.project_id, &self.project_id)
            && eq(&f.owner_id, &self.owner_id)
            && eq(&f.status, &self.status)
            && f.overdue_on
                .is_none_or(|today| crate::workflow::milestone::is_overdue(self.status, self.target_date, today))
    }
}

/// Filter of applications.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    /// To this program.
    pub program_id: Option<ProgramId>,
    /// Of this project.
    pub project_id: Option<ProjectId>,
    /// By this applicant.
    pub applicant_id: Option<UserId>,
    /// Status.
    pub status: Option<ApplicationStatus>,
    /// Leave out drafts (program staff see only what was submitted).
    pub exclude_drafts: bool,
    /// Only applications submitted at or before this instant (never-submitted ones excluded).
    pub submitted_at_or_before: Option<DateTime<Utc>>,
    /// Only applications created strictly after this instant (a job's watermark).
    pub created_after: Option<DateTime<Utc>>,
    /// In the waitlist's order ([`waitlist_rank_cmp`](crate::workflow::application::waitlist_rank_cmp))
    /// instead of by id: the first page only (see [`Entity::rank`]).
    pub waitlist_rank: bool,
}

impl Entity for Application {
    entity_basics!(ApplicationId, ApplicationId::KIND, ApplicationFilter, |s| s.id, |m| m
        .meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        if self.status.holds_program_slot() {
            vec![("program_project", pair(self.program_id, self.project_id))]
        } else {
            Vec::new()
        }
    }
    fn matches(&self, f: &ApplicationFilter) -> bool {
        eq(&f.program_id, &self.program_id)
            && eq(&f.project_id, &self.project_id)
            && eq(&f.applicant_id, &self.applicant_id)
            && eq(&f.status, &self.status)
            && !(f.exclude_drafts && self.status == ApplicationStatus::Draft)
            && f.submitted_at_or_before
                .is_none_or(|t| self.submitted_at.is_some_and(|at| at <= t))
            && f.created_after.is_none_or(|t| self.meta.created_at > t)
    }
    fn rank(f: &ApplicationFilter) -> Option<fn(&Self, &Self) -> std::cmp::Ordering> {
        fn by_rank(a: &Application, b: &Application) -> std::cmp::Ordering {
            crate::workflow::application::waitlist_rank_cmp(
                (a.mean_score_centi, a.submitted_at, a.id.as_uuid()),
                (b.mean_score_centi, b.submitted_at, b.id.as_uuid()),
            )
        }
        f.waitlist_rank
            .then_some(by_rank as fn(&Self, &Self) -> std::cmp::Ordering)
    }
}

/// Filter of reviews (assignments).
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    /// Of this application.
    pub application_id: Option<ApplicationId>,
    /// By this reviewer.
    pub reviewer_id: Option<UserId>,
    /// Submitted ones only / pending ones only.
    pub submitted: Option<bool>,
    /// Assigned (created) strictly after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Assigned (created) at or before this instant.
    pub created_at_or_before: Option<DateTime<Utc>>,
}

impl Entity for Review {
    entity_basics!(ReviewId, ReviewId::KIND, ReviewFilter, |s| s.id, |m| m.meta);
    /// One review per (application, reviewer, round); a program without rounds has one
    /// implicit round (`None`).
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        let pair = pair(self.application_id, self.reviewer_id);
        let key = match self.round {
            None => pair,
            Some(round) => format!("{pair}#{round}"),
        };
        vec![("application_reviewer", key)]
    }
    fn matches(&self, f: &ReviewFilter) -> bool {
        eq(&f.application_id, &self.application_id)
            && eq(&f.reviewer_id, &self.reviewer_id)
            && f.submitted.is_none_or(|s| s == self.submitted_at.is_some())
            && f.created_after.is_none_or(|t| self.meta.created_at > t)
            && f.created_at_or_before.is_none_or(|t| self.meta.created_at <= t)
    }
}

/// Filter of enrollments.
#[derive(Debug, Clone, Default)]
pub struct EnrollmentFilter {
    /// In this program.
    pub program_id: Option<ProgramId>,
    /// Of this entrepreneur.
    pub entrepreneur_id: Option<UserId>,
    /// Created by this application.
    pub application_id: Option<ApplicationId>,
    /// Status.
    pub status: Option<EnrollmentStatus>,
}

impl Entity for Enrollment {
    entity_basics!(EnrollmentId, EnrollmentId::KIND, EnrollmentFilter, |s| s.id, |m| m.meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("application", self.application_id.to_string())]
    }
    fn matches(&self, f: &EnrollmentFilter) -> bool {
        eq(&f.program_id, &self.program_id)
            && eq(&f.entrepreneur_id, &self.entrepreneur_id)
            && eq(&f.application_id, &self.application_id)
            && eq(&f.status, &self.status)
    }
}
