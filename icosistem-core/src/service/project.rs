//! Projects (lifecycle, stage, derived progress) and milestones.

use crate::service::Expect;
use serde_json::json;

use super::{Context, Ecosystem, Notice, Uow, authorize_seen, check_version};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::value::{AtField, Money, Name, Percent, optional_text};
use crate::model::{
    FundingStage, MilestoneStatus, Priority, Project, ProjectId, ProjectStage, ProjectStatus, ProjectType, Role,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{
    ApplicationFilter, MentorshipFilter, MilestoneFilter, Page, PageRequest, ProjectFilter, ProjectVisibility, Store,
    Transaction,
};
use crate::ports::{Clock, Notifier};
use crate::rules::common::validate_range;
use crate::workflow::project::{self as wf, ProjectCommand};

mod milestones;

pub use milestones::{CreateMilestone, MilestoneAction, UpdateMilestone};

/// Input of `create_project`.
#[derive(Debug, Clone)]
pub struct CreateProject {
    /// Name (2–200).
    pub name: String,
    /// Description (10–10 000).
    pub description: String,
    /// Kind.
    pub project_type: ProjectType,
    /// Tagline (≤ 300).
    pub tagline: Option<String>,
    /// Sector.
    pub category: Option<String>,
    /// Priority (default medium).
    pub priority: Option<Priority>,
    /// Stage (default idea).
    pub stage: Option<ProjectStage>,
    /// Funding stage (default bootstrapped).
    pub funding_stage: Option<FundingStage>,
    /// Funding sought.
    pub funding_target: Option<Money>,
    /// Team size (1–100, default 1).
    pub team_size: Option<u32>,
    /// Public (default false).
    pub is_public: Option<bool>,
    /// Seeking mentorship (default true).
    pub seeking_mentorship: Option<bool>,
}

/// Input of `update_project`; `None` keeps a field. Stage and status change through commands.
#[derive(Debug, Clone, Default)]
pub struct UpdateProject {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Tagline (`Some(None)` clears).
    pub tagline: Option<Option<String>>,
    /// Sector (`Some(None)` clears).
    pub category: Option<Option<String>>,
    /// Priority.
    pub priority: Option<Priority>,
    /// Funding stage.
    pub funding_stage: Option<FundingStage>,
    /// Funding sought (`Some(None)` clears).
    pub funding_target: Option<Option<Money>>,
    /// Funding raised (`Some(None)` clears).
    pub funding_raised: Option<Option<Money>>,
    /// Team size.
    pub team_size: Option<u32>,
    /// Public.
    pub is_public: Option<bool>,
    /// Seeking mentorship.
    pub seeking_mentorship: Option<bool>,
    /// The version read.
    pub version: Option<u64>,
}

/// A project's description: 10–10 000 characters. Public so that a front end reading a body
/// can report this rule together with the fields it could not read, without restating it.
pub fn project_description(value: &str) -> std::result::Result<String, crate::error::FieldError> {
    crate::model::value::bounded_text("description", value, 10, 10_000)
}

fn text(errors: &mut ValidationErrors, field: &'static str, value: &str, min: usize, max: usize) -> Option<String> {
    errors.check(crate::model::value::bounded_text(field, value, min, max))
}

impl<T: Transaction> Uow<T> {
    /// Loads a project for `action` (locked). Invisible → `NotFound`.
    pub(crate) async fn project_for(&mut self, id: ProjectId, action: Action) -> Result<Project> {
        let project: Project = self.load_for_update(id).await?;
        let facts = self.project_facts(&project).await?;
        authorize_seen(&self.ctx.actor, Action::ViewProject, action, &facts, "project", id)?;
        Ok(project)
    }

    pub(crate) async fn project_facts(&mut self, project: &Project) -> Result<Facts> {
        let me = self.ctx.actor.user_id();
        let owner = me == Some(project.owner_id);
        let mut facts = Facts {
            owner,
            is_public: project.is_public,
            ..Facts::none()
        };
        if owner || self.ctx.actor.is_admin() || me.is_none() {
            return Ok(facts);
        }
        // Allies see the projects of the entrepreneurs they actively mentor (docs/domain.md §2).
        if self.ctx.actor.role() == Some(Role::Ally) {
            facts.mentor_of_owner = self
                .count(&crate::ports::store::MentorshipFilter {
                    ally_id: me,
                    entrepreneur_id: Some(project.owner_id),
                    status: Some(crate::model::MentorshipStatus::Active),
                    ..Default::default()
                })
                .await?
                > 0;
        }
        // Program staff see projects applying to their programs; reviewers the projects of the
        // applications assigned to them.
        let applications = self
            .all(&ApplicationFilter {
                project_id: Some(project.id),
                ..Default::default()
            })
            .await?;
        for app in applications {
            if app.status == crate::model::ApplicationStatus::Draft {
                continue;
            }
            let program: Option<crate::model::Program> = self.get(app.program_id).await?;
            let Some(program) = program else { continue };
            // A blind program must not reveal who applied: the project (and its owner id) stays
            // out of sight for its staff and reviewers, who see the application's summary.
            if program.ever_blind() {
                continue;
            }
            let Some(role) = self.org_role(program.organization_id).await? else {
                // Neither staff nor a reviewer who is still a member: nothing this program grants.
                continue;
            };
            if role.is_staff() {
                facts.applies_to_staff_org = true;
            }
            let assigned = self
                .count(&crate::ports::store::ReviewFilter {
                    application_id: Some(app.id),
                    reviewer_id: me,
                    ..Default::default()
                })
                .await?;
            if assigned > 0 {
                facts.assigned_reviewer = true;
                facts.org_role = Some(role);
            }
        }
        Ok(facts)
    }

    /// Every project the caller may see, as a filter the store pages: the list's counterpart of
    /// `project_facts` (same rules, docs/domain.md §2 "view project"), computed in this unit of work.
    /// `None` when nothing limits it (admins, the platform).
    async fn project_visibility(&mut self) -> Result<Option<ProjectVisibility>> {
        let (me, role) = match self.ctx.actor {
            crate::model::Actor::User { id, role } => (id, role),
            crate::model::Actor::System => return Ok(None),
            crate::model::Actor::Anonymous => return Ok(Some(ProjectVisibility::default())),
        };
        if role == Role::Admin {
            return Ok(None);
        }
        // Public projects are listed for every signed-in role (docs/domain.md §2).
        let mut visible = ProjectVisibility {
            public: true,
            ..ProjectVisibility::default()
        };
        match role {
            Role::Entrepreneur => visible.owners.push(me),
            Role::Ally => {
                let mentorships = self
                    .all(&MentorshipFilter {
                        ally_id: Some(me),
                        status: Some(crate::model::MentorshipStatus::Active),
                        ..Default::default()
                    })
                    .await?;
                visible
                    .owners
                    .extend(mentorships.into_iter().map(|m| m.entrepreneur_id));
            }
            _ => {}
        }
        // Program staff see the projects applying (beyond a draft) to their open-review programs;
        // members the projects of the applications assigned to them. Blind programs grant nothing.
        // The store evaluates this relation itself (a join), so the list is paged by the
        // database however many applications those programs hold.
        visible.via_programs_of = Some(me);
        Ok(Some(visible))
    }

    /// Recomputes the project's milestone counters and progress after a milestone changed.
    async fn refresh_progress(&mut self, project_id: ProjectId) -> Result<Project> {
        let mut project: Project = self.load_for_update(project_id).await?;
        let milestones = self
            .all(&MilestoneFilter {
                project_id: Some(project_id),
                ..Default::default()
            })
            .await?;
        project.milestones_total = milestones
            .iter()
            .filter(|m| m.status != MilestoneStatus::Cancelled)
            .count() as u32;
        project.milestones_completed = milestones
            .iter()
            .filter(|m| m.status == MilestoneStatus::Completed)
            .count() as u32;
        project.recompute_progress();
        self.update(project).await
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Creates a draft project owned by the calling entrepreneur (or by an admin). An
    /// entrepreneur may own at most `max_active_projects` draft/active/paused projects; the
    /// count is checked under the owner's row lock so concurrent creations cannot exceed it.
    pub async fn create_project(&self, ctx: &Context, input: CreateProject) -> Result<Project> {
        authorize(&ctx.actor, Action::CreateProject, &Facts::none())?;
        let owner_id = ctx.user_id("project.create")?;
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse(&input.name).at("name"));
        let description = errors.check(project_description(&input.description));
        let tagline = errors
            .check(optional_text("tagline", input.tagline.as_deref(), 300))
            .flatten();
        let category = errors
            .check(optional_text("category", input.category.as_deref(), 100))
            .flatten();
        let team_size = input.team_size.unwrap_or(1);
        errors.check(validate_range("team_size", team_size, 1, 100));
        errors.into_result()?;
        let mut uow = self.uow(ctx).await?;
        let owner: crate::model::User = uow.load_for_update(owner_id).await?;
        if owner.role == Role::Entrepreneur {
            let open = uow
                .count(&ProjectFilter {
                    owner_id: Some(owner_id),
                    open_only: true,
                    ..Default::default()
                })
                .await?;
            if open >= u64::from(self.limits.max_active_projects) {
                return Err(Error::invalid(
                    "owner_id",
                    format!(
                        "an entrepreneur may have at most {} open projects",
                        self.limits.max_active_projects
                    ),
                ));
            }
        }
        let name = name.expect("validated");
        let slug = uow
            .free_slug(name.as_str(), |slug| ProjectFilter {
                slug: Some(slug),
                ..Default::default()
            })
            .await?;
        let mut project = Project {
            id: uow.new_id(),
            owner_id,
            name,
            slug,
            tagline,
            description: description.expect("validated"),
            project_type: input.project_type,
            category: category.map(|c| c.to_lowercase()),
            priority: input.priority.unwrap_or_default(),
            stage: input.stage.unwrap_or(ProjectStage::Idea),
            status: ProjectStatus::Draft,
            funding_stage: input.funding_stage.unwrap_or(FundingStage::Bootstrapped),
            funding_target: input.funding_target,
            funding_raised: None,
            team_size,
            is_public: input.is_public.unwrap_or(false),
            seeking_mentorship: input.seeking_mentorship.unwrap_or(true),
            progress: Percent::new(0).expect("0 is a percent"),
            launch_date: None,
            milestones_total: 0,
            milestones_completed: 0,
            meta: uow.meta(),
            deletion: Default::default(),
        };
        project.recompute_progress();
        uow.insert(&project).await?;
        uow.audit(
            "project.create",
            "project",
            project.id,
            None,
            None,
            Some(json!({ "status": project.status, "stage": project.stage })),
        )
        .await?;
        uow.notify(
            &owner,
            Notice::new(
                "project_created",
                format!("Project {} created", project.name),
                format!("Your project {} was created as a draft.", project.name),
                json!({ "project_id": project.id }),
            ),
        )
        .await?;
        uow.commit().await?;
        Ok(project)
    }

    /// A project visible to the caller (docs/domain.md §2 "view project").
    pub async fn get_project(&self, ctx: &Context, id: ProjectId) -> Result<Project> {
        let mut uow = self.uow(ctx).await?;
        let project: Project = uow.load(id).await?;
        let facts = uow.project_facts(&project).await?;
        authorize_seen(
            &ctx.actor,
            Action::ViewProject,
            Action::ViewProject,
            &facts,
            "project",
            id,
        )?;
        Ok(project)
    }

    /// Lists projects (`?owner_id&stage&status&is_public`): exactly those `get_project` shows
    /// the caller (docs/domain.md §2 "view project") — admins all; entrepreneurs their own; allies
    /// their mentees'; everyone the public ones; org staff those applying to their programs and
    /// reviewers those of the applications assigned to them. The visible set is part of the
    /// store's filter, so the store pages it (no page skips or repeats a row).
    pub async fn list_projects(
        &self,
        ctx: &Context,
        mut filter: ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>> {
        let mut uow = self.uow(ctx).await?;
        filter.visible_to = uow.project_visibility().await?;
        if filter.visible_to.is_some() {
            filter.include_deleted = false;
        }
        uow.list(&filter, page).await
    }

    /// Edits a project (its owner, admins).
    pub async fn update_project(&self, ctx: &Context, id: ProjectId, input: UpdateProject) -> Result<Project> {
        let mut uow = self.uow(ctx).await?;
        let mut project = uow.project_for(id, Action::EditProject).await?;
        check_version(&project, input.version)?;
        let mut errors = ValidationErrors::new();
        if let Some(v) = input.name.as_deref()
            && let Some(v) = errors.check(Name::parse(v).at("name"))
        {
            project.name = v;
        }
        if let Some(v) = input.description.as_deref()
            && let Some(v) = errors.check(project_description(v))
        {
            project.description = v;
        }
        if let Some(v) = input.tagline {
            project.tagline = errors.check(optional_text("tagline", v.as_deref(), 300)).flatten();
        }
        if let Some(v) = input.category {
            project.category = errors
                .check(optional_text("category", v.as_deref(), 100))
                .flatten()
                .map(|c| c.to_lowercase());
        }
        if let Some(v) = input.team_size
            && errors.check(validate_range("team_size", v, 1, 100)).is_some()
        {
            project.team_size = v;
        }
        errors.into_result()?;
        if let Some(v) = input.priority {
            project.priority = v;
        }
        if let Some(v) = input.funding_stage {
            project.funding_stage = v;
        }
        if let Some(v) = input.funding_target {
            project.funding_target = v;
        }
        if let Some(v) = input.funding_raised {
            project.funding_raised = v;
        }
        if let Some(v) = input.is_public {
            project.is_public = v;
        }
        if let Some(v) = input.seeking_mentorship {
            project.seeking_mentorship = v;
        }
        let project = uow.update(project).await?;
        uow.audit("project.update", "project", project.id, None, None, None)
            .await?;
        uow.commit().await?;
        Ok(project)
    }

    /// Runs a lifecycle command (`activate`, `pause`, `resume`, `complete`, `cancel`).
    pub async fn project_command(
        &self,
        ctx: &Context,
        id: ProjectId,
        command: ProjectCommand,
        version: impl Into<Expect>,
    ) -> Result<Project> {
        let mut uow = self.uow(ctx).await?;
        let mut project = uow.project_for(id, Action::EditProject).await?;
        check_version(&project, version)?;
        let from = project.status;
        project.status = wf::transition_status(from, command)?;
        let project = uow.update(project).await?;
        uow.audit_transition(
            &format!("project.{}", command.as_str()),
            "project",
            project.id,
            None,
            from.as_str(),
            project.status.as_str(),
        )
        .await?;
        if project.status.is_terminal() {
            uow.notify_id(
                project.owner_id,
                Notice::new(
                    "project_status",
                    format!("{} is {}", project.name, project.status),
                    format!("Your project {} is now {}.", project.name, project.status),
                    json!({ "project_id": project.id, "status": project.status }),
                ),
            )
            .await?;
        }
        uow.commit().await?;
        Ok(project)
    }

    /// Moves the project's stage along the graph of docs/domain.md §4.3; entering `launch` sets the
    /// launch date. Progress is recomputed.
    pub async fn advance_stage(
        &self,
        ctx: &Context,
        id: ProjectId,
        to: ProjectStage,
        version: impl Into<Expect>,
    ) -> Result<Project> {
        let mut uow = self.uow(ctx).await?;
        let mut project = uow.project_for(id, Action::EditProject).await?;
        check_version(&project, version)?;
        if project.status.is_terminal() {
            return Err(Error::invalid_transition(
                "project",
                project.status.as_str(),
                "advance_stage",
            ));
        }
        let from = project.stage;
        let (stage, launched) = wf::advance_stage(from, to)?;
        project.stage = stage;
        if launched {
            project.launch_date = Some(uow.now.date_naive());
        }
        project.recompute_progress();
        let project = uow.update(project).await?;
        uow.audit(
            "project.advance_stage",
            "project",
            project.id,
            None,
            Some(json!({ "stage": from })),
            Some(json!({ "stage": project.stage })),
        )
        .await?;
        uow.commit().await?;
        Ok(project)
    }

    /// Soft-deletes a project (its owner, admins) unless it is completed.
    pub async fn delete_project(&self, ctx: &Context, id: ProjectId, version: impl Into<Expect>) -> Result<()> {
        let mut uow = self.uow(ctx).await?;
        let mut project = uow.project_for(id, Action::EditProject).await?;
        check_version(&project, version)?;
        if project.status == ProjectStatus::Completed {
            return Err(Error::invalid_transition("project", project.status.as_str(), "delete"));
        }
        // A project in selection or in a cohort is withdrawn first, so programs never lose a
        // participant silently.
        let in_selection = uow
            .all(&ApplicationFilter {
                project_id: Some(id),
                ..Default::default()
            })
            .await?
            .iter()
            .any(|a| !a.status.is_terminal());
        if in_selection {
            return Err(Error::invalid(
                "project_id",
                "the project has open applications; withdraw them before deleting it",
            ));
        }
        project.deletion.deleted_at = Some(uow.now);
        project.deletion.deleted_by = ctx.actor.user_id();
        uow.update(project).await?;
        uow.audit("project.delete", "project", id, None, None, None).await?;
        uow.commit().await
    }
}
