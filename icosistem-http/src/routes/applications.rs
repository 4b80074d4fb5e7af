//! `/api/v2/applications`: applications to programs, their selection commands, reviewers and
//! reviews. Every application goes out as the core's [`ApplicationView`] for the caller, so a
//! blind-review program's evaluators never see who applied.

use axum::response::Response;
use icosistem_core::model::ApplicationStatus;
use icosistem_core::model::{ApplicationId, ProgramId, ProjectId};
use icosistem_core::ports::store::ApplicationFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{ApplicationAction, Decision};

use super::kit::{NoBody, NoId, PathId, answer, api, commands, filter_query, input, lists, reads, routes};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{
    ApiJson, ApplicationDto, AssignReviewerRequest, CommandRequest, CreateApplicationRequest, DecisionRequest, PageDto,
    RejectInRoundRequest, ReviewDto, SubmitReviewRequest, UpdateApplicationRequest,
};
use crate::error::ApiError;

filter_query! {
    /// `GET /api/v2/applications` filters.
    pub(crate) struct ApplicationQuery => ApplicationFilter {
        /// A program: its staff and admins list all its (non-draft) applications; anyone else
        /// their own to it.
        program_id: ProgramId,
        /// Of this project.
        project_id: ProjectId,
        /// Status.
        status: ApplicationStatus,
    }
}

/// The application as the caller sees it now.
async fn view<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: ApplicationId,
) -> Result<Response, ApiError> {
    let view = state.eco.get_application(&auth.ctx, id).await?;
    Ok(answer::<_, ApplicationDto>(&view))
}

lists! {
    tag = "applications";
    /// Lists applications, newest first: the caller's own, or with `program_id` every application
    /// of the program for its staff (blind views where the program reviews blind).
    list_applications: "/api/v2/applications", NoId, ApplicationQuery => ApplicationDto, [],
        |eco, ctx, NoId, filter, page| eco.list_applications(ctx, filter, page);
}

routes! {
    tag = "applications";
    /// Starts a draft application of one of the caller's projects to a program.
    create_application: post "/api/v2/applications", NoId, NoIfMatch, json<CreateApplicationRequest>
        => etag(201, "Created (draft)", ApplicationDto) [Forbidden, Conflict, BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| {
            let (program, project, answers) = input(b)?;
            async move {
                let app = eco.create_application(ctx, program, project, answers).await?;
                eco.get_application(ctx, app.id).await
            }
        };
    /// Replaces a draft's answers (its applicant).
    update_application: patch "/api/v2/applications/{id}", PathId<ApplicationId>, IfMatch, json<UpdateApplicationRequest>
        => etag(200, "The updated application", ApplicationDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| {
            let answers = input(b)?;
            async move {
                eco.update_application(ctx, id, answers, version).await?;
                eco.get_application(ctx, id).await
            }
        };
    /// Assigns a reviewer (a member of the program's organization) to an application.
    assign_application_reviewer: post "/api/v2/applications/{id}/reviewers", PathId<ApplicationId>, NoIfMatch, json<AssignReviewerRequest>
        => json(201, "Assigned: the pending review", ReviewDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.assign_reviewer(ctx, id, input(b)?);
    /// The reviews of an application: all for program staff, their own for an assigned reviewer.
    /// One page (`next_cursor` is always `null`).
    list_application_reviews: get "/api/v2/applications/{id}/reviews", PathId<ApplicationId>, NoIfMatch, none
        => json(200, "The reviews", PageDto<ReviewDto>) [NotFound],
        |eco, ctx, PathId(id), _, NoBody| eco.list_reviews(ctx, id);
    /// Submits the caller's review of an application they are assigned to.
    submit_application_review: post "/api/v2/applications/{id}/reviews", PathId<ApplicationId>, NoIfMatch, json<SubmitReviewRequest>
        => json(201, "The submitted review", ReviewDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.submit_review(ctx, id, input(b)?);
    /// Rejects an application in its current review round with a reason (program staff; 422
    /// without the round's quorum or a reason). Unlike the other commands its body is required:
    /// the reason is.
    reject_application_in_round: post "/api/v2/applications/{id}/reject-in-round", PathId<ApplicationId>, IfMatch,
        json<RejectInRoundRequest>
        => etag(200, "The resource after the command, its version as `ETag`", ApplicationDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| {
            let reason = b.reason.unwrap_or_default();
            async move {
                eco.reject_application_in_round(ctx, id, reason, version).await?;
                eco.get_application(ctx, id).await
            }
        };
}

reads! {
    tag = "applications";
/// One application as the caller may see it (404 when they may not).
    get_application: "/api/v2/applications/{id}", ApplicationId => ApplicationDto, |eco, ctx, id| eco.get_application(ctx, id);
}

/// Runs a command on an application and answers the application as the caller now sees it,
/// read in the command's own unit of work.
async fn act<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: ApplicationId,
    version: Option<u64>,
    action: ApplicationAction,
) -> Result<Response, ApiError> {
    let view = state.eco.act_on_application(&auth.ctx, id, action, version).await?;
    Ok(answer::<_, ApplicationDto>(&view))
}

/// A staff decision with the request's note.
fn decision(decision: Decision, body: DecisionRequest) -> ApplicationAction {
    ApplicationAction::Decide {
        decision,
        note: body.note,
    }
}

commands! {
    tag = "applications", id = ApplicationId, answer = ApplicationDto, run = act;
    /// Submits a draft (its applicant) while the program takes applications.
    submit_application: "/api/v2/applications/{id}/submit", CommandRequest, |body| ApplicationAction::Submit;
    /// Withdraws an application (its applicant); a freed seat goes to the best waitlisted one.
    withdraw_application: "/api/v2/applications/{id}/withdraw", CommandRequest, |body| ApplicationAction::Withdraw;
    /// Accepts an application (program staff): it takes a seat and gets its enrollment (409
    /// `program_full` without one; 422 before enough reviews).
    accept_application: "/api/v2/applications/{id}/accept", DecisionRequest, |body| decision(Decision::Accept, body);
    /// Rejects an application (program staff).
    reject_application: "/api/v2/applications/{id}/reject", DecisionRequest, |body| decision(Decision::Reject, body);
    /// Waitlists an application (program staff).
    waitlist_application: "/api/v2/applications/{id}/waitlist", DecisionRequest,
        |body| decision(Decision::Waitlist, body);
    /// Promotes a waitlisted application into the program (program staff; needs a free seat).
    promote_application: "/api/v2/applications/{id}/promote", DecisionRequest,
        |body| decision(Decision::Promote, body);
}

/// Moves an application to its program's next review round (docs/domain.md §10) and answers its view.
async fn advance<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: ApplicationId,
    version: Option<u64>,
    (): (),
) -> Result<Response, ApiError> {
    state.eco.advance_application(&auth.ctx, id, version).await?;
    view(state, auth, id).await
}

commands! {
    tag = "applications", id = ApplicationId, answer = ApplicationDto, run = advance;
    /// Moves an application to its program's next review round (program staff): the current
    /// round needs its quorum and a mean score at or above its threshold (422 otherwise, and on
    /// the last round, which ends with accept, waitlist or reject).
    advance_application: "/api/v2/applications/{id}/advance", CommandRequest, |body| ();
}

api!([
    list_applications,
    create_application,
    update_application,
    get_application,
    accept_application,
    advance_application,
    promote_application,
    reject_application,
    reject_application_in_round,
    assign_application_reviewer,
    list_application_reviews,
    submit_application_review,
    submit_application,
    waitlist_application,
    withdraw_application,
]);
