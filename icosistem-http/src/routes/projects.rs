//! `/api/v2/projects` and `/api/v2/milestones`: entrepreneurs' projects, their lifecycle and
//! stage, and their milestones.

use icosistem_core::model::ProjectStatus;
use icosistem_core::model::{MilestoneId, MilestoneStatus, ProjectId, ProjectStage, UserId};
use icosistem_core::ports::store::{MilestoneFilter, ProjectFilter};
use icosistem_core::service::{MilestoneAction, UpdateMilestone, UpdateProject};
use icosistem_core::workflow::project::ProjectCommand;

use super::kit::{NoBody, NoId, PathId, api, filter_query, input, lists, reads, routes, use_case_commands};
use crate::dto::{
    AdvanceStageRequest, ApiJson, CommandRequest, CreateMilestoneRequest, CreateProjectRequest, DelayRequest,
    MilestoneDto, PageDto, ProgressRequest, ProjectDto, UpdateMilestoneRequest, UpdateProjectRequest,
};

filter_query! {
    /// `GET /api/v2/projects` filters.
    pub(crate) struct ProjectQuery => ProjectFilter {
        /// Owned by this user.
        owner_id: UserId,
        /// Stage.
        stage: ProjectStage,
        /// Status.
        status: ProjectStatus,
        /// Public ones only (`true`) or private ones only (`false`).
        is_public: bool,
    }
}

filter_query! {
    /// `GET /api/v2/projects/{id}/milestones` filters.
    pub(crate) struct ProjectMilestoneQuery => MilestoneFilter {
        /// Status.
        status: MilestoneStatus,
    }
}

filter_query! {
    /// `GET /api/v2/milestones` filters.
    pub(crate) struct MilestoneQuery {
        /// Status.
        status: MilestoneStatus,
        /// `true`: only unfinished milestones past their target date.
        overdue: bool,
    } => (Option<MilestoneStatus>, bool), (status, overdue.unwrap_or(false))
}

lists! {
    tag = "projects";
    /// Lists projects, newest first (`?owner_id&stage&status&is_public`): exactly those the caller
    /// may get — admins all, entrepreneurs their own, allies their mentees', clients the public
    /// ones, program staff and assigned reviewers those applying to their programs.
    list_projects: "/api/v2/projects", NoId, ProjectQuery => ProjectDto, [],
        |eco, ctx, NoId, filter, page| eco.list_projects(ctx, filter, page);
}

routes! {
    tag = "projects";
    /// Creates a project owned by the calling entrepreneur.
    create_project: post "/api/v2/projects", NoId, NoIfMatch, json<CreateProjectRequest>
        => etag(201, "Created", ProjectDto) [Forbidden, BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| eco.create_project(ctx, input(b)?);
}

reads! {
    tag = "projects";
/// One project (404 when the caller may not see it).
    get_project: "/api/v2/projects/{id}", ProjectId => ProjectDto, |eco, ctx, id| eco.get_project(ctx, id);
}

routes! {
    tag = "projects";
    /// Edits a project (its owner and admins).
    update_project: patch "/api/v2/projects/{id}", PathId<ProjectId>, IfMatch, json<UpdateProjectRequest>
        => etag(200, "The updated project", ProjectDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.update_project(ctx, id, UpdateProject { version, ..input(b)? });
    /// Deletes a project (soft; its owner and admins).
    delete_project: delete "/api/v2/projects/{id}", PathId<ProjectId>, IfMatch, none
        => empty(204, "Deleted") [Forbidden, NotFound, Conflict, BadInput],
        |eco, ctx, PathId(id), version, NoBody| eco.delete_project(ctx, id, version);
    /// Moves a project to another stage.
    advance_project_stage: post "/api/v2/projects/{id}/advance-stage", PathId<ProjectId>, IfMatch, json<AdvanceStageRequest>
        => etag(200, "The updated project", ProjectDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.advance_stage(ctx, id, input(b)?, version);
}

use_case_commands! {
    tag = "projects", id = ProjectId, answer = ProjectDto, command = ProjectCommand, run = project_command;
    /// Activates a project.
    activate_project: "/api/v2/projects/{id}/activate", CommandRequest, |body| ProjectCommand::Activate;
    /// Pauses an active project.
    pause_project: "/api/v2/projects/{id}/pause", CommandRequest, |body| ProjectCommand::Pause;
    /// Resumes a paused project.
    resume_project: "/api/v2/projects/{id}/resume", CommandRequest, |body| ProjectCommand::Resume;
    /// Completes a project.
    complete_project: "/api/v2/projects/{id}/complete", CommandRequest, |body| ProjectCommand::Complete;
    /// Cancels a project.
    cancel_project: "/api/v2/projects/{id}/cancel", CommandRequest, |body| ProjectCommand::Cancel;
}

lists! {
    tag = "milestones";
    /// A project's milestones, newest first (`?status`).
    list_project_milestones: "/api/v2/projects/{id}/milestones", PathId<ProjectId>, ProjectMilestoneQuery => MilestoneDto, [NotFound],
        |eco, ctx, PathId(id), filter, page| eco.list_project_milestones(ctx, id, filter, page);
}

routes! {
    tag = "milestones";
    /// Adds a milestone to a project (its owner).
    create_milestone: post "/api/v2/projects/{id}/milestones", PathId<ProjectId>, NoIfMatch, json<CreateMilestoneRequest>
        => etag(201, "Created", MilestoneDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.create_milestone(ctx, id, input(b)?);
}

lists! {
    tag = "milestones";
    /// The caller's milestones, newest first (`?overdue=true&status`).
    list_my_milestones: "/api/v2/milestones", NoId, MilestoneQuery => MilestoneDto, [],
        |eco, ctx, NoId, (status, overdue), page| eco.list_my_milestones(ctx, status, overdue, page);
}

reads! {
    tag = "milestones";
/// One milestone (whoever may see its project).
    get_milestone: "/api/v2/milestones/{id}", MilestoneId => MilestoneDto, |eco, ctx, id| eco.get_milestone(ctx, id);
}

routes! {
    tag = "milestones";
    /// Edits a milestone's title, description or priority.
    update_milestone: patch "/api/v2/milestones/{id}", PathId<MilestoneId>, IfMatch, json<UpdateMilestoneRequest>
        => etag(200, "The updated milestone", MilestoneDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.update_milestone(ctx, id, UpdateMilestone { version, ..input(b)? });
    /// Reports a milestone's progress (0–100; 100 completes it, more than 0 starts a pending one).
    progress_milestone: post "/api/v2/milestones/{id}/progress", PathId<MilestoneId>, IfMatch, json<ProgressRequest>
        => etag(200, "The updated milestone", MilestoneDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.milestone_command(ctx, id, input(b)?, version);
    /// Moves a milestone's target date (after today), with a reason.
    delay_milestone: post "/api/v2/milestones/{id}/delay", PathId<MilestoneId>, IfMatch, json<DelayRequest>
        => etag(200, "The updated milestone", MilestoneDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.milestone_command(ctx, id, input(b)?, version);
}

use_case_commands! {
    tag = "milestones", id = MilestoneId, answer = MilestoneDto, command = MilestoneAction, run = milestone_command;
    /// Starts a pending milestone.
    start_milestone: "/api/v2/milestones/{id}/start", CommandRequest, |body| MilestoneAction::Start;
    /// Completes a milestone.
    complete_milestone: "/api/v2/milestones/{id}/complete", CommandRequest, |body| MilestoneAction::Complete;
    /// Cancels a milestone.
    cancel_milestone: "/api/v2/milestones/{id}/cancel", CommandRequest, |body| MilestoneAction::Cancel;
}

api!([
    list_my_milestones,
    update_milestone,
    get_milestone,
    cancel_milestone,
    complete_milestone,
    delay_milestone,
    progress_milestone,
    start_milestone,
    list_projects,
    create_project,
    update_project,
    delete_project,
    get_project,
    activate_project,
    advance_project_stage,
    cancel_project,
    complete_project,
    list_project_milestones,
    create_milestone,
    pause_project,
    resume_project,
]);
