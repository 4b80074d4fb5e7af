//! The list filters of every entity and the [`Entity`] facts stores need (unique keys,
//! soft-delete visibility). `matches` is the reference semantics of each filter: the memory
//! store evaluates it directly; other stores translate it to their query language and the
//! conformance suite checks they agree.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Entity, EntityId, ListFilter};
use crate::model::value::{Email, Slug};
use crate::model::*;

fn eq<T: PartialEq>(wanted: &Option<T>, actual: &T) -> bool {
    wanted.as_ref().is_none_or(|w| w == actual)
}

fn pair(a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
    format!("{a}:{b}")
}

/// The id/version plumbing every entity shares.
macro_rules! entity_basics {
    ($id_ty:ty, $kind:expr, $filter:ty, |$s:ident| $id:expr, |$m:ident| $meta:expr) => {
        type Id = $id_ty;
        type Filter = $filter;
        const KIND: &'static str = $kind;
        fn id(&self) -> Self::Id {
            let $s = self;
            $id
        }
        fn version(&self) -> u64 {
            let $m = self;
            $meta.version
        }
        fn set_version(&mut self, version: u64) {
            let $m = self;
            $meta.version = version;
        }
        fn touch(&mut self, now: DateTime<Utc>, by: Option<UserId>) {
            let $m = self;
            $meta.touch(now, by);
        }
    };
}

/// Filter of users.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Exact email.
    pub email: Option<Email>,
    /// Platform role.
    pub role: Option<Role>,
    /// Account status.
    pub status: Option<UserStatus>,
    /// Created strictly before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Include soft-deleted users.
    pub include_deleted: bool,
    /// Only users among these ids (`None`: no such limit; `Some(empty)` matches nothing): the
    /// batch load of a page's related rows, one statement instead of one per row.
    pub id_in: Option<Vec<UserId>>,
}

impl Entity for User {
    entity_basics!(UserId, UserId::KIND, UserFilter, |s| s.id, |m| m.meta);
    fn is_deleted(&self) -> bool {
        self.deletion.is_deleted()
    }
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("email", self.email.as_str().to_owned())]
    }
    fn matches(&self, f: &UserFilter) -> bool {
        (f.include_deleted || !self.is_deleted())
            && eq(&f.email, &self.email)
            && eq(&f.role, &self.role)
            && eq(&f.status, &self.status)
            && f.created_before.is_none_or(|t| self.meta.created_at < t)
            && f.id_in.as_ref().is_none_or(|ids| ids.contains(&self.id))
    }
}

/// Filter of role profiles. `specialization` and `available` select ally profiles only: set,
/// they never match an entrepreneur's or a client's profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileFilter {
    /// Profiles of this role.
    pub role: Option<Role>,
    /// Allies having this among their specializations or as their primary expertise, compared
    /// trimmed and case-insensitively (`" FinTech"` finds `fintech`).
    pub specialization: Option<String>,
    /// Allies whose "open to new mentees" flag is this.
    pub available: Option<bool>,
}

impl Entity for Profile {
    entity_basics!(UserId, "profile", ProfileFilter, |s| s.user_id, |m| m.meta);
    fn matches(&self, f: &ProfileFilter) -> bool {
        let ally = match &self.data {
            ProfileData::Ally(ally) => Some(ally),
            _ => None,
        };
        let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
        eq(&f.role, &self.data.role())
            && f.specialization.as_deref().is_none_or(|wanted| {
                ally.is_some_and(|a| {
                    a.specializations.iter().any(|s| same(s, wanted))
                        || a.primary_expertise.as_deref().is_some_and(|e| same(e, wanted))
                })
            })
            && f.available
                .is_none_or(|wanted| ally.is_some_and(|a| a.available == wanted))
    }
}

/// Filter of account tokens.
#[derive(Debug, Clone, Default)]
pub struct AccountTokenFilter {
    /// Exact token hash.
    pub token_hash: Option<String>,
    /// Tokens of this user.
    pub user_id: Option<UserId>,
    /// Tokens for this purpose.
    pub purpose: Option<AccountTokenPurpose>,
    /// Only tokens usable at this instant (unused, unexpired).
    pub usable_at: Option<DateTime<Utc>>,
}

impl Entity for AccountToken {
    entity_basics!(
        AccountTokenId,
        AccountTokenId::KIND,
        AccountTokenFilter,
        |s| s.id,
        |m| m.meta
    );
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("token_hash", self.token_hash.clone())]
    }
    fn matches(&self, f: &AccountTokenFilter) -> bool {
        eq(&f.token_hash, &self.token_hash)
            && eq(&f.user_id, &self.user_id)
            && eq(&f.purpose, &self.purpose)
            && f.usable_at.is_none_or(|now| self.is_usable(now))
    }
}

/// Filter of refresh tokens.
#[derive(Debug, Clone, Default)]
pub struct RefreshTokenFilter {
    /// Exact token hash.
    pub token_hash: Option<String>,
    /// Tokens of this user.
    pub user_id: Option<UserId>,
    /// Tokens of this family.
    pub family_id: Option<uuid::Uuid>,
    /// Only tokens not revoked yet.
    pub unrevoked_only: bool,
}

impl Entity for RefreshToken {
    entity_basics!(
        RefreshTokenId,
        RefreshTokenId::KIND,
        RefreshTokenFilter,
        |s| s.id,
        |m| m.meta
    );
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("token_hash", self.token_hash.clone())]
    }
    fn matches(&self, f: &RefreshTokenFilter) -> bool {
        eq(&f.token_hash, &self.token_hash)
            && eq(&f.user_id, &self.user_id)
            && eq(&f.family_id, &self.family_id)
            && (!f.unrevoked_only || self.revoked_at.is_none())
    }
}

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

/// The projects one caller may see (DOMAIN.md §2 "view project"), as a disjunction a store can
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
        && program.is_some_and(|p| !p.is_deleted() && !p.blind_review && p.id == application.program_id)
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
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("application_reviewer", pair(self.application_id, self.reviewer_id))]
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

/// Filter of in-app notifications.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// Recipient.
    pub user_id: Option<UserId>,
    /// Read state.
    pub status: Option<NotificationStatus>,
    /// Kind.
    pub kind: Option<String>,
    /// Only notifications read at or before this instant (never-read ones excluded).
    pub read_at_or_before: Option<DateTime<Utc>>,
}

impl Entity for Notification {
    entity_basics!(
        NotificationId,
        NotificationId::KIND,
        NotificationFilter,
        |s| s.id,
        |m| m.meta
    );
    fn matches(&self, f: &NotificationFilter) -> bool {
        eq(&f.user_id, &self.user_id)
            && eq(&f.status, &self.status)
            && eq(&f.kind, &self.kind)
            && f.read_at_or_before
                .is_none_or(|t| self.read_at.is_some_and(|at| at <= t))
    }
}

/// Filter of outbox messages.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// Delivery state.
    pub status: Option<OutboxStatus>,
    /// Only messages due at this instant (`next_attempt_at ≤ due_at`).
    pub due_at: Option<DateTime<Utc>>,
    /// For this user.
    pub user_id: Option<UserId>,
    /// Kind.
    pub kind: Option<String>,
}

impl Entity for OutboxMessage {
    entity_basics!(OutboxId, OutboxId::KIND, OutboxFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &OutboxFilter) -> bool {
        eq(&f.status, &self.status)
            && f.due_at.is_none_or(|t| self.next_attempt_at <= t)
            && f.user_id.is_none_or(|u| self.user_id == Some(u))
            && eq(&f.kind, &self.kind)
    }
}

/// Filter of audit events (API: `?actor_id&target_id&action&from&to`).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// By this actor.
    pub actor_id: Option<UserId>,
    /// About this entity.
    pub target_id: Option<uuid::Uuid>,
    /// This action.
    pub action: Option<String>,
    /// Inside this organization.
    pub organization_id: Option<OrganizationId>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Strictly before.
    pub to: Option<DateTime<Utc>>,
}

impl Entity for AuditEvent {
    type Id = AuditEventId;
    type Filter = AuditFilter;
    const KIND: &'static str = AuditEventId::KIND;
    fn id(&self) -> AuditEventId {
        self.id
    }
    /// Audit events are append-only: their version is always 1.
    fn version(&self) -> u64 {
        1
    }
    fn set_version(&mut self, _version: u64) {}
    fn touch(&mut self, _now: DateTime<Utc>, _by: Option<UserId>) {}
    fn matches(&self, f: &AuditFilter) -> bool {
        f.actor_id.is_none_or(|a| self.actor_id == Some(a))
            && eq(&f.target_id, &self.target_id)
            && eq(&f.action, &self.action)
            && f.organization_id.is_none_or(|o| self.organization_id == Some(o))
            && f.from.is_none_or(|t| self.at >= t)
            && f.to.is_none_or(|t| self.at < t)
    }
}

/// Filter of mentorships.
#[derive(Debug, Clone, Default)]
pub struct MentorshipFilter {
    /// Of this ally.
    pub ally_id: Option<UserId>,
    /// Of this entrepreneur.
    pub entrepreneur_id: Option<UserId>,
    /// Where this user is the ally or the entrepreneur.
    pub participant_id: Option<UserId>,
    /// Status.
    pub status: Option<MentorshipStatus>,
    /// Only requested/active/paused ones.
    pub open_only: bool,
}

impl Entity for Mentorship {
    entity_basics!(MentorshipId, MentorshipId::KIND, MentorshipFilter, |s| s.id, |m| m.meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        if self.status.is_open() {
            vec![("ally_entrepreneur", pair(self.ally_id, self.entrepreneur_id))]
        } else {
            Vec::new()
        }
    }
    fn matches(&self, f: &MentorshipFilter) -> bool {
        eq(&f.ally_id, &self.ally_id)
            && eq(&f.entrepreneur_id, &self.entrepreneur_id)
            && f.participant_id
                .is_none_or(|u| self.ally_id == u || self.entrepreneur_id == u)
            && eq(&f.status, &self.status)
            && (!f.open_only || self.status.is_open())
    }
}

/// Filter of availabilities.
#[derive(Debug, Clone, Default)]
pub struct AvailabilityFilter {
    /// Of this ally.
    pub ally_id: Option<UserId>,
}

impl Entity for Availability {
    entity_basics!(
        AvailabilityId,
        AvailabilityId::KIND,
        AvailabilityFilter,
        |s| s.id,
        |m| m.meta
    );
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("ally", self.ally_id.to_string())]
    }
    fn matches(&self, f: &AvailabilityFilter) -> bool {
        eq(&f.ally_id, &self.ally_id)
    }
}

/// Filter of sessions. The time window selects sessions overlapping `[overlapping_from,
/// overlapping_to)`.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Of this mentorship.
    pub mentorship_id: Option<MentorshipId>,
    /// Of this ally.
    pub ally_id: Option<UserId>,
    /// Where this user is the ally or the entrepreneur.
    pub participant_id: Option<UserId>,
    /// Status.
    pub status: Option<SessionStatus>,
    /// Only sessions that occupy the calendar (not cancelled).
    pub occupying_only: bool,
    /// Ending after this instant.
    pub overlapping_from: Option<DateTime<Utc>>,
    /// Starting before this instant.
    pub overlapping_to: Option<DateTime<Utc>>,
    /// Status among these (empty: any status). Combines with `status` by "and".
    pub status_in: Vec<SessionStatus>,
    /// Starting strictly after this instant.
    pub starts_after: Option<DateTime<Utc>>,
    /// Starting at or before this instant.
    pub starts_at_or_before: Option<DateTime<Utc>>,
    /// Completed at or before this instant (sessions never completed excluded).
    pub completed_at_or_before: Option<DateTime<Utc>>,
    /// Only sessions lacking the ally's or the entrepreneur's feedback (or both).
    pub awaiting_feedback: bool,
}

impl Entity for Session {
    entity_basics!(SessionId, SessionId::KIND, SessionFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &SessionFilter) -> bool {
        eq(&f.mentorship_id, &self.mentorship_id)
            && eq(&f.ally_id, &self.ally_id)
            && f.participant_id.is_none_or(|u| self.involves(u))
            && eq(&f.status, &self.status)
            && (!f.occupying_only || self.status.occupies_calendar())
            && f.overlapping_from.is_none_or(|t| self.ends_at > t)
            && f.overlapping_to.is_none_or(|t| self.starts_at < t)
            && (f.status_in.is_empty() || f.status_in.contains(&self.status))
            && f.starts_after.is_none_or(|t| self.starts_at > t)
            && f.starts_at_or_before.is_none_or(|t| self.starts_at <= t)
            && f.completed_at_or_before
                .is_none_or(|t| self.completed_at.is_some_and(|at| at <= t))
            && (!f.awaiting_feedback || self.ally_feedback.is_none() || self.entrepreneur_feedback.is_none())
    }
}

/// Filter of meetings. The time window selects meetings overlapping `[overlapping_from,
/// overlapping_to)`.
#[derive(Debug, Clone, Default)]
pub struct MeetingFilter {
    /// Called by.
    pub organizer_id: Option<UserId>,
    /// With this user among the organizer and participants.
    pub attendee_id: Option<UserId>,
    /// Status.
    pub status: Option<MeetingStatus>,
    /// Only meetings that occupy the calendar (not cancelled).
    pub occupying_only: bool,
    /// Ending after this instant.
    pub overlapping_from: Option<DateTime<Utc>>,
    /// Starting before this instant.
    pub overlapping_to: Option<DateTime<Utc>>,
}

impl Entity for Meeting {
    entity_basics!(MeetingId, MeetingId::KIND, MeetingFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &MeetingFilter) -> bool {
        eq(&f.organizer_id, &self.organizer_id)
            && f.attendee_id.is_none_or(|u| self.attendee_ids.contains(&u))
            && eq(&f.status, &self.status)
            && (!f.occupying_only || self.status != MeetingStatus::Cancelled)
            && f.overlapping_from.is_none_or(|t| self.ends_at > t)
            && f.overlapping_to.is_none_or(|t| self.starts_at < t)
    }
}

/// Filter of meeting participants.
#[derive(Debug, Clone, Default)]
pub struct ParticipantFilter {
    /// Of this meeting.
    pub meeting_id: Option<MeetingId>,
    /// This user's invitations.
    pub user_id: Option<UserId>,
}

impl Entity for MeetingParticipant {
    entity_basics!(ParticipantId, ParticipantId::KIND, ParticipantFilter, |s| s.id, |m| m
        .meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("meeting_user", pair(self.meeting_id, self.user_id))]
    }
    fn matches(&self, f: &ParticipantFilter) -> bool {
        eq(&f.meeting_id, &self.meeting_id) && eq(&f.user_id, &self.user_id)
    }
}

/// Filter of tasks.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Created by.
    pub owner_id: Option<UserId>,
    /// Assigned to.
    pub assignee_id: Option<UserId>,
    /// Where this user is the owner or the assignee.
    pub involving: Option<UserId>,
    /// Of this project.
    pub project_id: Option<ProjectId>,
    /// Subtasks of this task.
    pub parent_id: Option<TaskId>,
    /// Status.
    pub status: Option<TaskStatus>,
}

impl Entity for Task {
    entity_basics!(TaskId, TaskId::KIND, TaskFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &TaskFilter) -> bool {
        eq(&f.owner_id, &self.owner_id)
            && eq(&f.assignee_id, &self.assignee_id)
            && f.involving.is_none_or(|u| self.owner_id == u || self.assignee_id == u)
            && f.project_id.is_none_or(|p| self.project_id == Some(p))
            && f.parent_id.is_none_or(|p| self.parent_id == Some(p))
            && eq(&f.status, &self.status)
    }
}

/// Filter of task dependencies.
#[derive(Debug, Clone, Default)]
pub struct DependencyFilter {
    /// Of this dependent task.
    pub task_id: Option<TaskId>,
    /// Waiting for this task.
    pub depends_on: Option<TaskId>,
    /// Among the tasks of this owner.
    pub owner_id: Option<UserId>,
}

impl Entity for TaskDependency {
    entity_basics!(DependencyId, DependencyId::KIND, DependencyFilter, |s| s.id, |m| m.meta);
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("task_depends_on", pair(self.task_id, self.depends_on))]
    }
    fn matches(&self, f: &DependencyFilter) -> bool {
        eq(&f.task_id, &self.task_id) && eq(&f.depends_on, &self.depends_on) && eq(&f.owner_id, &self.owner_id)
    }
}

/// Filter of job marks.
#[derive(Debug, Clone, Default)]
pub struct JobMarkFilter {
    /// Exact key.
    pub key: Option<String>,
}

impl Entity for JobMark {
    type Id = JobMarkId;
    type Filter = JobMarkFilter;
    const KIND: &'static str = JobMarkId::KIND;
    fn id(&self) -> JobMarkId {
        self.id
    }
    /// Job marks are append-only: their version is always 1.
    fn version(&self) -> u64 {
        1
    }
    fn set_version(&mut self, _version: u64) {}
    fn touch(&mut self, _now: DateTime<Utc>, _by: Option<UserId>) {}
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("key", self.key.clone())]
    }
    fn matches(&self, f: &JobMarkFilter) -> bool {
        eq(&f.key, &self.key)
    }
}

macro_rules! link_types {
    ($($entity:ty, $id:ty, $filter:ty;)+) => {$(
        impl EntityId for $id {
            type Entity = $entity;
        }
        impl ListFilter for $filter {
            type Entity = $entity;
        }
    )+};
}

link_types! {
    User, UserId, UserFilter;
    AccountToken, AccountTokenId, AccountTokenFilter;
    RefreshToken, RefreshTokenId, RefreshTokenFilter;
    Organization, OrganizationId, OrganizationFilter;
    OrganizationMember, MemberId, MemberFilter;
    Program, ProgramId, ProgramFilter;
    Project, ProjectId, ProjectFilter;
    Milestone, MilestoneId, MilestoneFilter;
    Application, ApplicationId, ApplicationFilter;
    Review, ReviewId, ReviewFilter;
    Enrollment, EnrollmentId, EnrollmentFilter;
    Notification, NotificationId, NotificationFilter;
    OutboxMessage, OutboxId, OutboxFilter;
    AuditEvent, AuditEventId, AuditFilter;
    Mentorship, MentorshipId, MentorshipFilter;
    Availability, AvailabilityId, AvailabilityFilter;
    Session, SessionId, SessionFilter;
    Meeting, MeetingId, MeetingFilter;
    MeetingParticipant, ParticipantId, ParticipantFilter;
    Task, TaskId, TaskFilter;
    TaskDependency, DependencyId, DependencyFilter;
    JobMark, JobMarkId, JobMarkFilter;
}

// Profiles are keyed by the user's id, which already names `User`: they are loaded through
// `Repo::<Profile>` directly and listed through their filter.
impl ListFilter for ProfileFilter {
    type Entity = Profile;
}
