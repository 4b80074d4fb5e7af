//! Applications: drafts, submission, reviewer assignment, reviews, decisions under capacity and
//! the waitlist (docs/domain.md §4.2).
//!
//! Every command that can change the number of accepted applications (accept, promote,
//! withdraw, drop-out) first locks the program row: that lock is what makes
//! `accepted ≤ max_participants` hold under any interleaving, on every store.

use crate::service::Expect;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::rounds::{round_facts, round_refuses};
use super::{Context, Ecosystem, Notice, Uow, authorize_seen, check_version};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::value::{Email, Score, optional_text};
use crate::model::{
    Application, ApplicationId, ApplicationStatus, Enrollment, EnrollmentStatus, MemberRole, MentorshipStatus,
    OrganizationId, Program, ProgramId, ProgramStatus, Project, ProjectId, ProjectStage, Review, UserId,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{
    ApplicationFilter, EnrollmentFilter, MemberFilter, MentorshipFilter, Page, PageRequest, ProjectFilter,
    ReviewFilter, Store, Transaction, UserFilter,
};
use crate::ports::{Clock, Notifier};
use crate::rules::program::eligibility;
use crate::workflow::application::{self as wf, ApplicationCommand, ApplicationEvent, ApplicationFacts};
use crate::workflow::enrollment::{self as enrollment_wf, EnrollmentCommand};
use crate::workflow::rounds::{self as rounds_wf, RoundDecision};

/// A decision on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Take it (needs a free seat).
    Accept,
    /// Turn it down.
    Reject,
    /// Keep it for a free seat.
    Waitlist,
    /// Move it from the waitlist into the program (needs a free seat).
    Promote,
}

/// A command on one application, answered with its view by
/// [`Ecosystem::act_on_application`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicationAction {
    /// [`Ecosystem::submit_application`]: the applicant submits their draft.
    Submit,
    /// [`Ecosystem::withdraw_application`]: the applicant withdraws.
    Withdraw,
    /// [`Ecosystem::decide`]: program staff decide, with an optional note (≤ 5,000 characters).
    Decide {
        /// What they decide.
        decision: Decision,
        /// Why, shown to the applicant.
        note: Option<String>,
    },
}

impl Decision {
    fn command(self) -> ApplicationCommand {
        match self {
            Decision::Accept => ApplicationCommand::Accept,
            Decision::Reject => ApplicationCommand::Reject,
            Decision::Waitlist => ApplicationCommand::Waitlist,
            Decision::Promote => ApplicationCommand::Promote,
        }
    }
}

/// A reviewer's review.
#[derive(Debug, Clone)]
pub struct SubmitReview {
    /// Score 0–100.
    pub score: i64,
    /// Comment (≤ 5000).
    pub comment: Option<String>,
    /// The reviewer declares a conflict of interest: the review is recorded but does not count.
    pub conflict_declared: bool,
}

/// The applicant as shown to those allowed to know who applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApplicantSummary {
    /// User id.
    pub id: UserId,
    /// Full name.
    pub name: String,
    /// Email.
    pub email: Email,
}

/// The project as shown with an application. `owner_id` is absent in a blind view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProjectSummary {
    /// Project id.
    pub id: ProjectId,
    /// Name.
    pub name: String,
    /// Tagline.
    pub tagline: Option<String>,
    /// Description.
    pub description: String,
    /// Stage.
    pub stage: ProjectStage,
    /// Sector.
    pub category: Option<String>,
    /// Owner — only outside blind review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<UserId>,
}

/// An application as a given caller may see it. When the program has `blind_review` and the
/// caller evaluates it (reviewers and program staff), the view carries no applicant identity:
/// no applicant, no owner id, and nothing else that names them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApplicationView {
    /// Id.
    pub id: ApplicationId,
    /// Program.
    pub program_id: ProgramId,
    /// Status.
    pub status: ApplicationStatus,
    /// Answers.
    pub answers: Map<String, Value>,
    /// Submitted at.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Decided at.
    pub decided_at: Option<DateTime<Utc>>,
    /// Decision note.
    pub decision_note: Option<String>,
    /// Mean of the qualified review scores × 100.
    pub mean_score_centi: Option<u32>,
    /// The project.
    pub project: ProjectSummary,
    /// Who applied — `None` in a blind view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant: Option<ApplicantSummary>,
    /// Whether identity was withheld.
    pub blind: bool,
    /// The round (index) the application is in, when the program has rounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_round: Option<u32>,
    /// Version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
}

/// What a program staff or reviewer sees vs. what the applicant or an admin sees.
fn build_view(
    app: &Application,
    project: &Project,
    applicant: Option<ApplicantSummary>,
    blind: Blindness,
) -> ApplicationView {
    let Blindness { blind, hide_scores } = blind;
    ApplicationView {
        id: app.id,
        program_id: app.program_id,
        status: app.status,
        answers: app.answers.clone(),
        submitted_at: app.submitted_at,
        decided_at: app.decided_at,
        decision_note: app.decision_note.clone(),
        mean_score_centi: if hide_scores { None } else { app.mean_score_centi },
        project: ProjectSummary {
            id: project.id,
            name: project.name.as_str().to_owned(),
            tagline: project.tagline.clone(),
            description: project.description.clone(),
            stage: project.stage,
            category: project.category.clone(),
            owner_id: (!blind).then_some(project.owner_id),
        },
        applicant: if blind { None } else { applicant },
        blind,
        current_round: app.current_round,
        version: app.meta.version,
        created_at: app.meta.created_at,
        updated_at: app.meta.updated_at,
    }
}

/// What a view of one application withholds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Blindness {
    /// No applicant identity (blind program or blind round).
    pub(crate) blind: bool,
    /// No mean score either: a reviewer in a blind round forms their score alone (docs/domain.md §10).
    pub(crate) hide_scores: bool,
}

impl Blindness {
    /// What the caller may not see of `app` in `program`: nothing when they `sees_all` (its
    /// applicant, admins); otherwise the identity in a blind program or round, and the mean
    /// score too in a blind round unless they are `staff`, who decide on it.
    pub(crate) fn of(program: &Program, app: &Application, sees_all: bool, staff: bool) -> Self {
        if sees_all {
            return Self::default();
        }
        let round_blind = program.round(app.current_round).is_some_and(|r| r.blind);
        Self {
            blind: program.blind_for(app),
            hide_scores: round_blind && !staff,
        }
    }
}

/// The rows a command already read, handed to the view that answers it so they are not read
/// twice.
#[derive(Default)]
pub(crate) struct Known {
    pub(crate) project: Option<Project>,
    pub(crate) applicant: Option<crate::model::User>,
}

/// How the caller relates to one application.
pub(crate) struct Standing {
    pub(crate) facts: Facts,
    pub(crate) blind: Blindness,
}

impl<T: Transaction> Uow<T> {
    pub(crate) async fn standing(&mut self, app: &Application, program: &Program) -> Result<Standing> {
        let me = self.ctx.actor.user_id();
        let org_role = self.org_role(program.organization_id).await?;
        let assigned_reviewer = match me {
            Some(me) => {
                self.count(&ReviewFilter {
                    application_id: Some(app.id),
                    reviewer_id: Some(me),
                    ..Default::default()
                })
                .await?
                    > 0
            }
            None => false,
        };
        let owner = me == Some(app.applicant_id);
        // A draft is the applicant's alone: the program sees an application once submitted.
        let submitted = app.status != ApplicationStatus::Draft;
        let facts = Facts {
            owner,
            org_role: org_role.filter(|_| submitted),
            assigned_reviewer: assigned_reviewer && submitted,
            ..Facts::none()
        };
        let staff = facts.org_role.is_some_and(MemberRole::is_staff);
        let blind = Blindness::of(program, app, owner || self.ctx.actor.is_admin(), staff);
        Ok(Standing { facts, blind })
    }

    /// Authorizes the caller for `action` on `app` (404 unless they may view it, 403 when they
    /// may view it but not act) and answers their standing. The applicant whom ownership alone
    /// authorizes (editing, submitting, withdrawing their own) costs no read: the policy only
    /// ever grants on a fact, so the facts left unread could not refuse what ownership grants.
    pub(crate) async fn authorize_on(
        &mut self,
        app: &Application,
        program: &Program,
        action: Action,
    ) -> Result<Standing> {
        if self.ctx.actor.user_id() == Some(app.applicant_id) {
            let facts = Facts {
                owner: true,
                ..Facts::none()
            };
            if authorize(&self.ctx.actor, Action::ViewApplication, &facts).is_ok()
                && authorize(&self.ctx.actor, action, &facts).is_ok()
            {
                let blind = Blindness::default();
                return Ok(Standing { facts, blind });
            }
        }
        let standing = self.standing(app, program).await?;
        authorize_seen(
            &self.ctx.actor,
            Action::ViewApplication,
            action,
            &standing.facts,
            "application",
            app.id,
        )?;
        Ok(standing)
    }

    /// `app` as a caller with `blind` sees it; what the unit of work already read of its
    /// project and applicant is in `known`, the rest is read here.
    async fn view(&mut self, app: &Application, blind: Blindness, known: Known) -> Result<ApplicationView> {
        let project = match known.project {
            Some(project) => project,
            // Applications outlive their project's soft deletion: look it up among deleted rows too.
            None => self
                .first(&crate::ports::store::ProjectFilter {
                    id: Some(app.project_id),
                    include_deleted: true,
                    ..Default::default()
                })
                .await?
                .ok_or_else(|| Error::not_found("project", app.project_id))?,
        };
        let applicant = if blind.blind {
            None
        } else {
            let user = match known.applicant {
                Some(user) => Some(user),
                None => self.get(app.applicant_id).await?,
            };
            user.map(|u: crate::model::User| ApplicantSummary {
                id: u.id,
                name: u.full_name(),
                email: u.email.clone(),
            })
        };
        Ok(build_view(app, &project, applicant, blind))
    }

    /// `app` as the unit's caller sees it right after a command of theirs on it, read inside
    /// the command's unit of work before it commits, so the answer of a command costs no second
    /// unit. Every application command first authorized the caller to view
    /// the application, and none takes that away. The applicant and admins see it whole with no
    /// read; anyone else by their standing.
    pub(crate) async fn caller_view(
        &mut self,
        app: &Application,
        program: &Program,
        known: Known,
    ) -> Result<ApplicationView> {
        let sees_all = self.ctx.actor.user_id() == Some(app.applicant_id) || self.ctx.actor.is_admin();
        let blind = if sees_all {
            Blindness::default()
        } else {
            self.standing(app, program).await?.blind
        };
        self.view(app, blind, known).await
    }

    /// The views of a page of applications, with their projects and applicants loaded in one
    /// statement each (`id_in`) — a page costs the same number of statements whatever its
    /// length, where [`Uow::view`] per row would cost two per application. `blind` says what
    /// each view withholds; the caller's own applications are never withheld.
    async fn views(
        &mut self,
        apps: &[Application],
        blind: impl Fn(&Application) -> Blindness,
    ) -> Result<Vec<ApplicationView>> {
        if apps.is_empty() {
            return Ok(Vec::new());
        }
        let me = self.ctx.actor.user_id();
        let mut project_ids: Vec<ProjectId> = apps.iter().map(|a| a.project_id).collect();
        project_ids.sort();
        project_ids.dedup();
        // Applications outlive their project's soft deletion: deleted projects are loaded too.
        let projects: HashMap<ProjectId, Project> = self
            .all(&ProjectFilter {
                id_in: Some(project_ids),
                include_deleted: true,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut applicant_ids: Vec<UserId> = apps
            .iter()
            .filter(|a| !blind(a).blind || me == Some(a.applicant_id))
            .map(|a| a.applicant_id)
            .collect();
        applicant_ids.sort();
        applicant_ids.dedup();
        let applicants: HashMap<UserId, crate::model::User> = if applicant_ids.is_empty() {
            HashMap::new()
        } else {
            self.all(&UserFilter {
                id_in: Some(applicant_ids),
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect()
        };
        apps.iter()
            .map(|app| {
                let blind = if me == Some(app.applicant_id) {
                    Blindness::default()
                } else {
                    blind(app)
                };
                let project = projects
                    .get(&app.project_id)
                    .ok_or_else(|| Error::not_found("project", app.project_id))?;
                let applicant = if blind.blind {
                    None
                } else {
                    applicants.get(&app.applicant_id).map(|u| ApplicantSummary {
                        id: u.id,
                        name: u.full_name(),
                        email: u.email.clone(),
                    })
                };
                Ok(build_view(app, project, applicant, blind))
            })
            .collect()
    }

    /// Reviews that count for a decision: those of the application's current round (all of
    /// them without rounds, where every review's round is `None` too).
    pub(crate) async fn qualified_reviews(&mut self, app: &Application) -> Result<Vec<Review>> {
        Ok(self
            .all(&ReviewFilter {
                application_id: Some(app.id),
                submitted: Some(true),
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|r| r.is_qualified() && r.round == app.current_round)
            .collect())
    }

    /// Notifies the staff of `program`'s organization: their user rows in one read, however
    /// many they are.
    pub(crate) async fn notify_staff(&mut self, program: &Program, notice: Notice) -> Result<()> {
        let users: Vec<crate::model::User> = self
            .all(&UserFilter {
                staff_of: Some(program.organization_id),
                ..Default::default()
            })
            .await?;
        for user in users {
            self.notify(&user, notice.clone()).await?;
        }
        Ok(())
    }

    /// The staff (owners and coordinators) of `organization`: a program's staff.
    pub(crate) async fn staff_of(&mut self, organization: OrganizationId) -> Result<Vec<UserId>> {
        let members = self
            .all(&MemberFilter {
                organization_id: Some(organization),
                ..Default::default()
            })
            .await?;
        Ok(members
            .into_iter()
            .filter(|m| m.role.is_staff())
            .map(|m| m.user_id)
            .collect())
    }
}

pub(crate) fn facts_for(program: &Program, qualified: u32) -> ApplicationFacts {
    ApplicationFacts {
        program_status: program.status,
        program_accepting: false,
        accepted: program.accepted_count,
        max_participants: program.max_participants,
        qualified_reviews: qualified,
        min_reviews: program.min_reviews,
    }
}

fn decision_notice(app: &Application, program: &Program, status: ApplicationStatus, promoted: bool) -> Notice {
    let (kind, title) = match (status, promoted) {
        (ApplicationStatus::Accepted, true) => (
            "application_promoted",
            format!("A seat opened in {}: you are in", program.name),
        ),
        (ApplicationStatus::Accepted, false) => ("application_accepted", format!("Accepted into {}", program.name)),
        (ApplicationStatus::Rejected, _) => (
            "application_rejected",
            format!("Your application to {} was not accepted", program.name),
        ),
        (ApplicationStatus::Waitlisted, _) => (
            "application_waitlisted",
            format!("You are on the waitlist of {}", program.name),
        ),
        (other, _) => (
            "application_status",
            format!("Your application to {} is {}", program.name, other),
        ),
    };
    Notice::new(
        kind,
        title.clone(),
        format!("{title}."),
        json!({ "application_id": app.id, "program_id": program.id, "status": status }),
    )
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Starts a draft application of `project` to `program` (the project's owner, an
    /// entrepreneur). One per (program, project) among non-withdrawn applications
    /// (`Conflict { entity: "application", field: "program_project" }`).
    pub async fn create_application(
        &self,
        ctx: &Context,
        program_id: ProgramId,
        project_id: ProjectId,
        answers: Map<String, Value>,
    ) -> Result<Application> {
        let mut uow = self.uow(ctx).await?;
        let mut errors = ValidationErrors::new();
        let program: Option<Program> = uow.get(program_id).await?;
        let program = program.filter(|p| p.status != ProgramStatus::Draft);
        if program.is_none() {
            errors.push("program_id", "no such program");
        }
        let project: Option<Project> = uow.get(project_id).await?;
        if project.is_none() {
            errors.push("project_id", "no such project");
        }
        if serde_json::to_vec(&answers).map(|v| v.len()).unwrap_or(usize::MAX) > 64 * 1024 {
            errors.push("answers", "must be at most 64 KiB of JSON");
        }
        errors.into_result()?;
        let (program, project) = (program.expect("checked"), project.expect("checked"));
        let owner = ctx.actor.user_id() == Some(project.owner_id);
        authorize(&ctx.actor, Action::ApplyToProgram, &Facts::owned(owner)).map_err(|e| {
            if owner || ctx.actor.is_admin() {
                Error::Forbidden(e)
            } else {
                Error::invalid("project_id", "no such project")
            }
        })?;
        let app = Application {
            id: uow.new_id(),
            program_id,
            project_id,
            applicant_id: project.owner_id,
            answers,
            status: ApplicationStatus::Draft,
            submitted_at: None,
            decided_at: None,
            decision_note: None,
            mean_score_centi: None,
            current_round: None,
            meta: uow.meta(),
        };
        uow.insert(&app).await?;
        uow.audit(
            "application.create",
            "application",
            app.id,
            Some(program.organization_id),
            None,
            Some(json!({ "status": app.status })),
        )
        .await?;
        uow.commit().await?;
        Ok(app)
    }

    /// Replaces the answers of a draft (its applicant).
    pub async fn update_application(
        &self,
        ctx: &Context,
        id: ApplicationId,
        answers: Map<String, Value>,
        version: impl Into<Expect>,
    ) -> Result<Application> {
        let mut uow = self.uow(ctx).await?;
        let mut app: Application = uow.load_for_update(id).await?;
        // Only the applicant edits; whoever else sees the application is refused (403), the
        // rest are told it does not exist (404).
        let program: Program = uow.load(app.program_id).await?;
        uow.authorize_on(&app, &program, Action::ApplyToProgram).await?;
        check_version(&app, version)?;
        if app.status != ApplicationStatus::Draft {
            return Err(Error::invalid_transition("application", app.status.as_str(), "update"));
        }
        app.answers = answers;
        let app = uow.update(app).await?;
        uow.audit("application.update", "application", app.id, None, None, None)
            .await?;
        uow.commit().await?;
        Ok(app)
    }

    /// Submits a draft: the program must accept applications now and the project must be
    /// eligible; every reason is reported at once. Notifies the applicant and the program staff.
    pub async fn submit_application(
        &self,
        ctx: &Context,
        id: ApplicationId,
        version: impl Into<Expect>,
    ) -> Result<Application> {
        self.act_and_commit(ctx, id, ApplicationAction::Submit, version.into())
            .await
    }

    /// Runs `action` on application `id` and answers the application as the caller sees it
    /// afterwards, read in the command's own unit of work before it commits: what an HTTP
    /// command answers, without a second unit of work and its reads.
    pub async fn act_on_application(
        &self,
        ctx: &Context,
        id: ApplicationId,
        action: ApplicationAction,
        version: impl Into<Expect>,
    ) -> Result<ApplicationView> {
        let mut uow = self.uow(ctx).await?;
        let (app, program, known) = self.act(&mut uow, id, action, version.into()).await?;
        let view = uow.caller_view(&app, &program, known).await?;
        uow.commit().await?;
        Ok(view)
    }

    async fn act_and_commit(
        &self,
        ctx: &Context,
        id: ApplicationId,
        action: ApplicationAction,
        version: Expect,
    ) -> Result<Application> {
        let mut uow = self.uow(ctx).await?;
        let (app, ..) = self.act(&mut uow, id, action, version).await?;
        uow.commit().await?;
        Ok(app)
    }

    /// Runs `action` in `uow`, uncommitted: the application after it, its program, and the
    /// related rows the command read.
    async fn act(
        &self,
        uow: &mut Uow<S::Tx>,
        id: ApplicationId,
        action: ApplicationAction,
        version: Expect,
    ) -> Result<(Application, Program, Known)> {
        let (action, command, note) = match action {
            ApplicationAction::Submit => return self.submit(uow, id, version).await,
            ApplicationAction::Withdraw => (Action::WithdrawApplication, ApplicationCommand::Withdraw, None),
            ApplicationAction::Decide { decision, note } => {
                let note = optional_text("note", note.as_deref(), 5000).map_err(ValidationErrors::from)?;
                (Action::DecideApplication, decision.command(), note)
            }
        };
        // Whoever sees the application but may not act on it (a reviewer deciding, staff
        // withdrawing) is refused; the rest are told it does not exist.
        let (program, app) = lock_for_command(uow, id, action, version).await?;
        let app = self.apply_decision(uow, app, program.clone(), command, note).await?;
        Ok((app, program, Known::default()))
    }

    /// Submits a draft in `uow` (see [`Self::submit_application`]).
    async fn submit(
        &self,
        uow: &mut Uow<S::Tx>,
        id: ApplicationId,
        version: Expect,
    ) -> Result<(Application, Program, Known)> {
        let mut app: Application = uow.load_for_update(id).await?;
        let program: Program = uow.load(app.program_id).await?;
        uow.authorize_on(&app, &program, Action::ApplyToProgram).await?;
        check_version(&app, version)?;
        let project: Project = uow.load(app.project_id).await?;
        let mut facts = facts_for(&program, 0);
        facts.program_accepting = program.accepts_applications(uow.now);
        if app.status == ApplicationStatus::Draft {
            let organization: crate::model::Organization = uow.load(program.organization_id).await?;
            eligibility(&organization, &program, &project, uow.now).into_result()?;
        }
        let (to, _event) = wf::transition(app.status, ApplicationCommand::Submit, &facts)?;
        let from = app.status;
        app.status = to;
        app.submitted_at = Some(uow.now);
        // With rounds, an application enters the first one when it is submitted.
        app.current_round = (!program.rounds.is_empty()).then_some(0);
        let app = uow.update(app).await?;
        let org = Some(program.organization_id);
        uow.audit_transition(
            "application.submit",
            "application",
            app.id,
            org,
            from.as_str(),
            to.as_str(),
        )
        .await?;
        // The applicant is nearly always the caller, whose row the host read to authenticate.
        let applicant: Option<crate::model::User> = match uow.ctx.caller_row(app.applicant_id) {
            Some(user) => Some(user),
            None => uow.get(app.applicant_id).await?,
        };
        if let Some(user) = &applicant {
            uow.notify(
                user,
                Notice::new(
                    "application_submitted",
                    format!("Application to {} submitted", program.name),
                    format!(
                        "Your application of {} to {} was submitted.",
                        project.name, program.name
                    ),
                    json!({ "application_id": app.id, "program_id": program.id }),
                ),
            )
            .await?;
        }
        // Staff learn that something arrived, not who sent it when the review is blind.
        let body = if program.blind_for(&app) {
            format!("A new application to {} is waiting for reviewers.", program.name)
        } else {
            format!("{} applied to {}.", project.name, program.name)
        };
        uow.notify_staff(
            &program,
            Notice::new(
                "application_received",
                format!("New application to {}", program.name),
                body,
                json!({ "application_id": app.id, "program_id": program.id }),
            ),
        )
        .await?;
        let known = Known {
            project: Some(project),
            applicant,
        };
        Ok((app, program, known))
    }

    /// Assigns a reviewer (program staff, admins). The reviewer must be a member of the
    /// program's organization and have no conflict of interest: owning the project, or being the
    /// ally of an active mentorship with the applicant, is refused (`Validation` on
    /// `reviewer_id`). The first assignment moves a submitted application to
    /// `under_review`. One assignment per (application, reviewer).
    pub async fn assign_reviewer(&self, ctx: &Context, id: ApplicationId, reviewer: UserId) -> Result<Review> {
        let mut uow = self.uow(ctx).await?;
        let app: Application = uow.load(id).await?;
        // Visibility is the application's, not the (public) program's: someone who cannot see
        // the application is told it does not exist.
        let program: Program = uow.load(app.program_id).await?;
        uow.authorize_on(&app, &program, Action::AssignReviewers).await?;
        let program: Program = uow.load_for_update(app.program_id).await?;
        let mut app: Application = uow.load_for_update(id).await?;
        let mut errors = ValidationErrors::new();
        let membership = uow
            .first(&MemberFilter {
                organization_id: Some(program.organization_id),
                user_id: Some(reviewer),
                ..Default::default()
            })
            .await?;
        if membership.is_none() {
            errors.push("reviewer_id", "must be a member of the program's organization");
        }
        let project: Project = uow.load(app.project_id).await?;
        if project.owner_id == reviewer || app.applicant_id == reviewer {
            errors.push("reviewer_id", "conflict of interest: the reviewer owns the project");
        }
        let mentors_applicant = uow
            .count(&MentorshipFilter {
                ally_id: Some(reviewer),
                entrepreneur_id: Some(app.applicant_id),
                status: Some(MentorshipStatus::Active),
                ..Default::default()
            })
            .await?
            > 0;
        if mentors_applicant {
            errors.push(
                "reviewer_id",
                "conflict of interest: the reviewer mentors the applicant",
            );
        }
        if let Some(message) = round_refuses(&program, &app, reviewer) {
            errors.push("reviewer_id", message);
        }
        errors.into_result()?;
        if !matches!(
            app.status,
            ApplicationStatus::Submitted | ApplicationStatus::UnderReview
        ) {
            return Err(Error::invalid_transition(
                "application",
                app.status.as_str(),
                "assign_reviewer",
            ));
        }
        let review = Review {
            id: uow.new_id(),
            application_id: app.id,
            reviewer_id: reviewer,
            score: None,
            comment: None,
            conflict_declared: false,
            submitted_at: None,
            round: app.current_round,
            meta: uow.meta(),
        };
        uow.insert(&review).await?;
        let org = Some(program.organization_id);
        uow.audit(
            "application.reviewer_assigned",
            "application",
            app.id,
            org,
            None,
            Some(json!({ "reviewer_id": reviewer })),
        )
        .await?;
        if app.status == ApplicationStatus::Submitted {
            let (to, _) = wf::transition(app.status, ApplicationCommand::StartReview, &facts_for(&program, 0))?;
            let from = app.status;
            app.status = to;
            app = uow.update(app).await?;
            uow.audit_transition(
                "application.start_review",
                "application",
                app.id,
                org,
                from.as_str(),
                to.as_str(),
            )
            .await?;
        }
        uow.notify_id(
            reviewer,
            Notice::new(
                "review_assigned",
                format!("New application to review in {}", program.name),
                format!("You were assigned an application to {}.", program.name),
                json!({ "application_id": app.id, "program_id": program.id }),
            ),
        )
        .await?;
        uow.commit().await?;
        Ok(review)
    }

    /// Submits the caller's review of an application under review. Only assigned reviewers who
    /// are members of the organization may review; a review is submitted once.
    pub async fn submit_review(&self, ctx: &Context, id: ApplicationId, input: SubmitReview) -> Result<Review> {
        let me = ctx.user_id("application.review")?;
        let mut errors = ValidationErrors::new();
        let score = errors.check(Score::new(input.score).map_err(|e| e.at("score")));
        let comment = errors
            .check(optional_text("comment", input.comment.as_deref(), 5000))
            .flatten();
        let mut uow = self.uow(ctx).await?;
        let app: Application = uow.load(id).await?;
        let program: Program = uow.load(app.program_id).await?;
        let standing = uow.standing(&app, &program).await?;
        if authorize(&ctx.actor, Action::ViewApplication, &standing.facts).is_err() {
            return Err(Error::not_found("application", id));
        }
        authorize(&ctx.actor, Action::ReviewApplication, &standing.facts)?;
        errors.into_result()?;
        let mut app: Application = uow.load_for_update(id).await?;
        // The assignment of the round the application is in (the only one without rounds).
        let assignment = uow
            .all(&ReviewFilter {
                application_id: Some(id),
                reviewer_id: Some(me),
                ..Default::default()
            })
            .await?
            .into_iter()
            .find(|r| r.round == app.current_round);
        let mut review = match assignment {
            Some(review) => review,
            // Owners and coordinators may score any application of their programs (docs/domain.md
            // §2): their review takes the place of an assignment, with the same conflict rule.
            None if standing.facts.org_role.is_some_and(MemberRole::is_staff) => {
                if app.applicant_id == me {
                    return Err(Error::invalid(
                        "reviewer_id",
                        "conflict of interest: the reviewer owns the project",
                    ));
                }
                if let Some(message) = round_refuses(&program, &app, me) {
                    return Err(Error::invalid("reviewer_id", message));
                }
                let review = Review {
                    id: uow.new_id(),
                    application_id: id,
                    reviewer_id: me,
                    score: None,
                    comment: None,
                    conflict_declared: false,
                    submitted_at: None,
                    round: app.current_round,
                    meta: uow.meta(),
                };
                uow.insert(&review).await?;
                review
            }
            None => {
                return Err(Error::Forbidden(crate::error::Forbidden {
                    action: "application.review",
                    resource: "application",
                }));
            }
        };
        if review.submitted_at.is_some() {
            return Err(Error::invalid_transition("review", "submitted", "submit"));
        }
        if app.status != ApplicationStatus::UnderReview {
            return Err(Error::invalid_transition("application", app.status.as_str(), "review"));
        }
        review.score = score;
        review.comment = comment;
        review.conflict_declared = input.conflict_declared;
        review.submitted_at = Some(uow.now);
        let review = uow.update(review).await?;
        let qualified = uow.qualified_reviews(&app).await?;
        app.mean_score_centi = mean_centi(&qualified);
        let app = uow.update(app).await?;
        uow.audit(
            "application.review",
            "review",
            review.id,
            Some(program.organization_id),
            None,
            Some(json!({ "application_id": app.id, "conflict_declared": review.conflict_declared })),
        )
        .await?;
        uow.commit().await?;
        Ok(review)
    }

    /// Accepts, rejects, waitlists or promotes an application (program staff, admins). Locks the
    /// program first, so concurrent accepts see each other: the last seat goes to exactly one
    /// and the others get `ProgramFull`. An accepted application gets its enrollment in the same
    /// unit of work; the applicant is notified.
    pub async fn decide(
        &self,
        ctx: &Context,
        id: ApplicationId,
        decision: Decision,
        note: Option<String>,
        version: impl Into<Expect>,
    ) -> Result<Application> {
        self.act_and_commit(ctx, id, ApplicationAction::Decide { decision, note }, version.into())
            .await
    }

    /// The applicant withdraws. If the application held a seat and the program has not started,
    /// the best waitlisted application is promoted in the same unit of work.
    pub async fn withdraw_application(
        &self,
        ctx: &Context,
        id: ApplicationId,
        version: impl Into<Expect>,
    ) -> Result<Application> {
        // Whoever sees the application but is not its applicant (admins, the program's staff,
        // its assigned reviewers) is refused; the rest are told it does not exist.
        self.act_and_commit(ctx, id, ApplicationAction::Withdraw, version.into())
            .await
    }

    /// Runs one application command under the already-locked `program` and persists every
    /// consequence: seat count, enrollment, waitlist promotion, audit, notifications.
    async fn apply_decision(
        &self,
        uow: &mut Uow<S::Tx>,
        mut app: Application,
        mut program: Program,
        command: ApplicationCommand,
        note: Option<String>,
    ) -> Result<Application> {
        let qualified = uow.qualified_reviews(&app).await?;
        let mut facts = facts_for(&program, qualified.len() as u32);
        // With rounds, a decision under review is a decision of the current round: its quorum,
        // its threshold, and no skipping to acceptance before the last round (docs/domain.md §10).
        if let Some(round) = round_facts(&program, &app, &qualified) {
            facts.min_reviews = round.min_reviews;
            let decision = match command {
                ApplicationCommand::Accept => Some(RoundDecision::Accept),
                ApplicationCommand::Waitlist => Some(RoundDecision::Waitlist),
                ApplicationCommand::Reject => Some(RoundDecision::Reject),
                _ => None,
            };
            if let Some(decision) = decision
                && app.status == ApplicationStatus::UnderReview
            {
                rounds_wf::check(app.status, decision, &round)?;
            }
        }
        let (to, event) = wf::transition(app.status, command, &facts)?;
        let from = app.status;
        app.status = to;
        if matches!(
            command,
            ApplicationCommand::Accept
                | ApplicationCommand::Reject
                | ApplicationCommand::Waitlist
                | ApplicationCommand::Promote
        ) {
            app.decided_at = Some(uow.now);
            app.decision_note = note;
        }
        let app = uow.update(app).await?;
        let org = Some(program.organization_id);
        uow.audit_transition(
            &format!("application.{}", command.as_str()),
            "application",
            app.id,
            org,
            from.as_str(),
            to.as_str(),
        )
        .await?;
        match event {
            ApplicationEvent::Accepted { promoted } => {
                program.accepted_count += 1;
                uow.update(program.clone()).await?;
                self.enroll(uow, &app, &program).await?;
                uow.notify_id(app.applicant_id, decision_notice(&app, &program, to, promoted))
                    .await?;
            }
            ApplicationEvent::Rejected | ApplicationEvent::Waitlisted => {
                uow.notify_id(app.applicant_id, decision_notice(&app, &program, to, false))
                    .await?;
            }
            ApplicationEvent::Withdrawn { freed_seat } => {
                uow.notify_staff(
                    &program,
                    Notice::new(
                        "application_withdrawn",
                        format!("An application to {} was withdrawn", program.name),
                        format!("An application to {} was withdrawn.", program.name),
                        json!({ "application_id": app.id, "program_id": program.id }),
                    ),
                )
                .await?;
                let live_enrollment = if freed_seat {
                    uow.first(&EnrollmentFilter {
                        application_id: Some(app.id),
                        ..Default::default()
                    })
                    .await?
                    .filter(|e| !e.status.is_terminal())
                } else {
                    None
                };
                // The seat is held by the live enrollment: once it dropped out (and gave its seat
                // back then), withdrawing the accepted application must not free it a second time.
                if let Some(mut e) = live_enrollment {
                    let from = e.status;
                    e.status = enrollment_wf::transition(e.status, EnrollmentCommand::DropOut)?;
                    e.ended_at = Some(uow.now);
                    e.drop_reason = Some("application withdrawn".to_owned());
                    let e = uow.update(e).await?;
                    uow.audit_transition(
                        "enrollment.drop_out",
                        "enrollment",
                        e.id,
                        org,
                        from.as_str(),
                        e.status.as_str(),
                    )
                    .await?;
                    program.accepted_count = program.accepted_count.saturating_sub(1);
                    let program = uow.update(program).await?;
                    self.promote_from_waitlist(uow, program).await?;
                }
            }
            ApplicationEvent::Submitted | ApplicationEvent::ReviewStarted => {}
        }
        Ok(app)
    }

    async fn enroll(&self, uow: &mut Uow<S::Tx>, app: &Application, program: &Program) -> Result<Enrollment> {
        let enrollment = Enrollment {
            id: uow.new_id(),
            program_id: program.id,
            application_id: app.id,
            project_id: app.project_id,
            entrepreneur_id: app.applicant_id,
            status: EnrollmentStatus::Enrolled,
            ended_at: None,
            drop_reason: None,
            meta: uow.meta(),
        };
        uow.insert(&enrollment).await?;
        uow.audit(
            "enrollment.create",
            "enrollment",
            enrollment.id,
            Some(program.organization_id),
            None,
            Some(json!({ "status": enrollment.status })),
        )
        .await?;
        Ok(enrollment)
    }

    /// Fills a freed seat of a program that has not started with the best waitlisted
    /// application (highest mean score, then earliest submitted). Runs inside the unit of work
    /// that freed the seat, under the program's lock.
    pub(crate) async fn promote_from_waitlist(&self, uow: &mut Uow<S::Tx>, program: Program) -> Result<()> {
        if program.status != ProgramStatus::Published || program.seats_left() == 0 {
            return Ok(());
        }
        // One seat freed, one promotion: only the best of the waitlist is read, ranked by the
        // store (`applications_waitlist_rank_idx` on PostgreSQL), however long the waitlist.
        let waitlisted = uow
            .list(
                &ApplicationFilter {
                    program_id: Some(program.id),
                    status: Some(ApplicationStatus::Waitlisted),
                    waitlist_rank: true,
                    ..Default::default()
                },
                PageRequest::first(1),
            )
            .await?;
        let Some(best) = waitlisted.items.into_iter().next() else {
            return Ok(());
        };
        // The promotion is the platform's doing, whoever freed the seat.
        let acting = std::mem::replace(&mut uow.ctx, Context::system());
        let result = Box::pin(self.apply_decision(uow, best, program, ApplicationCommand::Promote, None)).await;
        uow.ctx = acting;
        result.map(|_| ())
    }

    /// An application as the caller may see it (identity withheld in blind review).
    pub async fn get_application(&self, ctx: &Context, id: ApplicationId) -> Result<ApplicationView> {
        let mut uow = self.uow(ctx).await?;
        let app: Application = uow.load(id).await?;
        let program: Program = uow.load(app.program_id).await?;
        let standing = uow.standing(&app, &program).await?;
        authorize(&ctx.actor, Action::ViewApplication, &standing.facts)
            .map_err(|_| Error::not_found("application", id))?;
        uow.view(&app, standing.blind, Known::default()).await
    }

    /// Lists applications: with `program_id`, every application of the program for its staff
    /// and admins (blind views where the program is blind); otherwise the caller's own.
    pub async fn list_applications(
        &self,
        ctx: &Context,
        mut filter: ApplicationFilter,
        page: PageRequest,
    ) -> Result<Page<ApplicationView>> {
        let mut uow = self.uow(ctx).await?;
        // The program whose blindness applies to the staff's views (never to an admin's).
        let mut blind_program = None;
        let staff_view = match filter.program_id {
            Some(program_id) => {
                let program: Option<Program> = uow.get(program_id).await?;
                match program {
                    Some(program) => {
                        let role = uow.org_role(program.organization_id).await?;
                        let staff = ctx.actor.is_admin() || role.is_some_and(MemberRole::is_staff);
                        if staff && !ctx.actor.is_admin() {
                            blind_program = Some(program);
                        }
                        staff
                    }
                    None => false,
                }
            }
            None => false,
        };
        if staff_view {
            filter.exclude_drafts = true;
        } else {
            filter.applicant_id = Some(ctx.user_id("application.list")?);
        }
        let page = uow.list(&filter, page).await?;
        let items = uow
            .views(&page.items, |app| match &blind_program {
                Some(program) => Blindness::of(program, app, false, true),
                None => Blindness::default(),
            })
            .await?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// The reviews of an application: all of them for program staff and admins, their own for
    /// an assigned reviewer.
    pub async fn list_reviews(&self, ctx: &Context, id: ApplicationId) -> Result<Vec<Review>> {
        let mut uow = self.uow(ctx).await?;
        let app: Application = uow.load(id).await?;
        let program: Program = uow.load(app.program_id).await?;
        let standing = uow.standing(&app, &program).await?;
        let staff = ctx.actor.is_admin() || standing.facts.org_role.is_some_and(MemberRole::is_staff);
        let reviewer = standing.facts.assigned_reviewer && standing.facts.org_role.is_some();
        if !staff && !reviewer {
            return Err(Error::not_found("application", id));
        }
        let reviewer_id = if staff { None } else { ctx.actor.user_id() };
        uow.all(&ReviewFilter {
            application_id: Some(id),
            reviewer_id,
            ..Default::default()
        })
        .await
    }
}

pub(crate) fn mean_centi(reviews: &[Review]) -> Option<u32> {
    let scores: Vec<u32> = reviews
        .iter()
        .filter_map(|r| r.score)
        .map(|s| u32::from(s.get()))
        .collect();
    if scores.is_empty() {
        return None;
    }
    Some(scores.iter().sum::<u32>() * 100 / scores.len() as u32)
}

/// Authorizes a decision on application `id` (its visibility decides 404 against 403, as for
/// reviewer assignment), then locks its program and the application, in the order every
/// decision takes them, and checks `version`. Shared by `decide` and the round commands.
pub(super) async fn lock_for_decision<T: Transaction>(
    uow: &mut Uow<T>,
    id: ApplicationId,
    version: impl Into<Expect>,
) -> Result<(Program, Application)> {
    lock_for_command(uow, id, Action::DecideApplication, version).await
}

/// Authorizes `action` on application `id` (404 unless the caller may view it, 403 when they
/// may view but not act), then locks its program and the application in the order every state
/// change takes them, and checks `version`.
async fn lock_for_command<T: Transaction>(
    uow: &mut Uow<T>,
    id: ApplicationId,
    action: Action,
    version: impl Into<Expect>,
) -> Result<(Program, Application)> {
    let peek: Application = uow.load(id).await?;
    let program: Program = uow.load(peek.program_id).await?;
    uow.authorize_on(&peek, &program, action).await?;
    let program: Program = uow.load_for_update(peek.program_id).await?;
    let app: Application = uow.load_for_update(id).await?;
    check_version(&app, version)?;
    Ok((program, app))
}
