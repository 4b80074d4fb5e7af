//! Milestones of a project: their lifecycle, and the project progress they drive.

use crate::service::Expect;
use chrono::NaiveDate;
use serde_json::json;

use super::text;
use crate::error::{Error, Result, ValidationErrors};
use crate::model::value::{Percent, optional_text};
use crate::model::{Milestone, MilestoneId, MilestoneStatus, Priority, ProjectId};
use crate::policy::Action;
use crate::ports::store::{MilestoneFilter, Page, PageRequest, Store};
use crate::ports::{Clock, Notifier};
use crate::rules::common::validate_future_date;
use crate::service::{Context, Ecosystem, Notice, check_version};
use crate::workflow::milestone::{self as milestone_wf, MilestoneCommand};

/// Input of `create_milestone`.
#[derive(Debug, Clone)]
pub struct CreateMilestone {
    /// Title (2–200).
    pub title: String,
    /// Description (≤ 5000).
    pub description: Option<String>,
    /// Target date (after today).
    pub target_date: NaiveDate,
    /// Priority (default medium).
    pub priority: Option<Priority>,
}

/// Input of `update_milestone`; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct UpdateMilestone {
    /// Title.
    pub title: Option<String>,
    /// Description (`Some(None)` clears).
    pub description: Option<Option<String>>,
    /// Priority.
    pub priority: Option<Priority>,
    /// The version read.
    pub version: Option<u64>,
}

/// A milestone command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilestoneAction {
    /// Start it.
    Start,
    /// Report progress (0–100); 100 completes it, > 0 starts a pending one.
    Progress(i64),
    /// Complete it.
    Complete,
    /// Move its target date (after today), with a reason.
    Delay {
        /// The new target date.
        target_date: NaiveDate,
        /// Why.
        reason: Option<String>,
    },
    /// Cancel it.
    Cancel,
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Adds a milestone to a project (its owner, admins). The target date must be after today.
    pub async fn create_milestone(
        &self,
        ctx: &Context,
        project_id: ProjectId,
        input: CreateMilestone,
    ) -> Result<Milestone> {
        let mut uow = self.uow(ctx).await?;
        let project = uow.project_for(project_id, Action::EditProject).await?;
        let mut errors = ValidationErrors::new();
        let title = text(&mut errors, "title", &input.title, 2, 200);
        let description = errors
            .check(optional_text("description", input.description.as_deref(), 5000))
            .flatten();
        errors.check(validate_future_date(
            "target_date",
            input.target_date,
            uow.now.date_naive(),
            false,
        ));
        errors.into_result()?;
        if project.status.is_terminal() {
            return Err(Error::invalid_transition(
                "project",
                project.status.as_str(),
                "add_milestone",
            ));
        }
        let milestone = Milestone {
            id: uow.new_id(),
            project_id,
            owner_id: project.owner_id,
            title: title.expect("validated"),
            description,
            target_date: input.target_date,
            priority: input.priority.unwrap_or_default(),
            status: MilestoneStatus::Pending,
            progress: Percent::new(0).expect("0 is a percent"),
            completed_on: None,
            delay_reason: None,
            meta: uow.meta(),
        };
        uow.insert(&milestone).await?;
        uow.refresh_progress(project_id).await?;
        uow.audit(
            "milestone.create",
            "milestone",
            milestone.id,
            None,
            None,
            Some(json!({ "status": milestone.status })),
        )
        .await?;
        uow.commit().await?;
        Ok(milestone)
    }

    /// A milestone, visible like its project.
    pub async fn get_milestone(&self, ctx: &Context, id: MilestoneId) -> Result<Milestone> {
        let milestone = {
            let mut uow = self.uow(ctx).await?;
            uow.load(id).await?
        };
        self.get_project(ctx, milestone.project_id)
            .await
            .map_err(|_| Error::not_found("milestone", id))?;
        Ok(milestone)
    }

    /// The milestones of a project.
    pub async fn list_project_milestones(
        &self,
        ctx: &Context,
        project_id: ProjectId,
        filter: MilestoneFilter,
        page: PageRequest,
    ) -> Result<Page<Milestone>> {
        self.get_project(ctx, project_id).await?;
        let mut uow = self.uow(ctx).await?;
        uow.list(
            &MilestoneFilter {
                project_id: Some(project_id),
                ..filter
            },
            page,
        )
        .await
    }

    /// The caller's milestones (`?overdue=true&status`): pass `overdue = true` to list those
    /// whose target date is before today and that are not finished.
    pub async fn list_my_milestones(
        &self,
        ctx: &Context,
        status: Option<MilestoneStatus>,
        overdue: bool,
        page: PageRequest,
    ) -> Result<Page<Milestone>> {
        let me = ctx.user_id("milestone.list")?;
        let today = self.clock.now().date_naive();
        let mut uow = self.uow(ctx).await?;
        uow.list(
            &MilestoneFilter {
                owner_id: Some(me),
                status,
                overdue_on: overdue.then_some(today),
                ..Default::default()
            },
            page,
        )
        .await
    }

    /// Edits a milestone's title, description or priority.
    pub async fn update_milestone(&self, ctx: &Context, id: MilestoneId, input: UpdateMilestone) -> Result<Milestone> {
        let mut uow = self.uow(ctx).await?;
        let peek: Milestone = uow.load(id).await?;
        uow.project_for(peek.project_id, Action::EditProject)
            .await
            .map_err(|e| hide(e, "milestone", id))?;
        let mut milestone: Milestone = uow.load_for_update(id).await?;
        check_version(&milestone, input.version)?;
        let mut errors = ValidationErrors::new();
        if let Some(v) = input.title.as_deref()
            && let Some(v) = text(&mut errors, "title", v, 2, 200)
        {
            milestone.title = v;
        }
        if let Some(v) = input.description {
            milestone.description = errors.check(optional_text("description", v.as_deref(), 5000)).flatten();
        }
        errors.into_result()?;
        if let Some(v) = input.priority {
            milestone.priority = v;
        }
        let milestone = uow.update(milestone).await?;
        uow.audit("milestone.update", "milestone", milestone.id, None, None, None)
            .await?;
        uow.commit().await?;
        Ok(milestone)
    }

    /// Runs a milestone command and recomputes the project's progress in the same unit of work.
    /// Completing notifies the owner.
    pub async fn milestone_command(
        &self,
        ctx: &Context,
        id: MilestoneId,
        action: MilestoneAction,
        version: impl Into<Expect>,
    ) -> Result<Milestone> {
        let mut uow = self.uow(ctx).await?;
        let peek: Milestone = uow.load(id).await?;
        uow.project_for(peek.project_id, Action::EditProject)
            .await
            .map_err(|e| hide(e, "milestone", id))?;
        let mut milestone: Milestone = uow.load_for_update(id).await?;
        check_version(&milestone, version)?;
        let today = uow.now.date_naive();
        let from = milestone.status;
        match action {
            MilestoneAction::Start => {
                milestone.status = milestone_wf::transition(from, MilestoneCommand::Start, None, today)?;
            }
            MilestoneAction::Progress(value) => {
                let progress = Percent::new(value).map_err(|e| ValidationErrors::from(e.at("progress")))?;
                if from.is_terminal() {
                    return Err(Error::invalid_transition("milestone", from.as_str(), "progress"));
                }
                if progress.get() > 0 && matches!(from, MilestoneStatus::Pending | MilestoneStatus::Delayed) {
                    milestone.status = milestone_wf::transition(from, MilestoneCommand::Start, None, today)?;
                }
                if progress.get() == 100 {
                    milestone.status =
                        milestone_wf::transition(milestone.status, MilestoneCommand::Complete, None, today)?;
                }
                milestone.progress = progress;
            }
            MilestoneAction::Complete => {
                milestone.status = milestone_wf::transition(from, MilestoneCommand::Complete, None, today)?;
            }
            MilestoneAction::Delay { target_date, reason } => {
                let reason = optional_text("reason", reason.as_deref(), 2000).map_err(ValidationErrors::from)?;
                milestone.status = milestone_wf::transition(from, MilestoneCommand::Delay, Some(target_date), today)?;
                milestone.target_date = target_date;
                milestone.delay_reason = reason;
            }
            MilestoneAction::Cancel => {
                milestone.status = milestone_wf::transition(from, MilestoneCommand::Cancel, None, today)?;
            }
        }
        if milestone.status == MilestoneStatus::Completed && from != MilestoneStatus::Completed {
            milestone.completed_on = Some(today);
            milestone.progress = Percent::new(100).expect("100 is a percent");
        }
        let milestone = uow.update(milestone).await?;
        let project = uow.refresh_progress(milestone.project_id).await?;
        uow.audit_transition(
            "milestone.update_status",
            "milestone",
            milestone.id,
            None,
            from.as_str(),
            milestone.status.as_str(),
        )
        .await?;
        if milestone.status == MilestoneStatus::Completed && from != MilestoneStatus::Completed {
            uow.notify_id(
                project.owner_id,
                Notice::new(
                    "milestone_achieved",
                    format!("Milestone reached: {}", milestone.title),
                    format!(
                        "{} reached the milestone {}. Progress is now {}%.",
                        project.name,
                        milestone.title,
                        project.progress.get()
                    ),
                    json!({ "milestone_id": milestone.id, "project_id": project.id }),
                ),
            )
            .await?;
        }
        uow.commit().await?;
        Ok(milestone)
    }
}

fn hide(error: Error, entity: &'static str, id: MilestoneId) -> Error {
    match error {
        Error::NotFound { .. } => Error::not_found(entity, id),
        other => other,
    }
}
