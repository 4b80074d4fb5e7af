//! `/api/v2/applications`: applications to programs, their selection commands, reviewers and
//! reviews. Every application goes out as the core's [`ApplicationView`] for the caller, so a
//! blind-review program's evaluators never see who applied.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing;
use axum::{Json, Router};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::ApplicationStatus;
use icosistem_core::model::{ApplicationId, ProgramId, ProjectId, UserId};
use icosistem_core::ports::store::ApplicationFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{ApplicationView, Decision, SubmitReview};

use super::kit::{
    Authenticated, BadBody, Conflict, Forbidden, IfMatch, ListQuery, NoId, NotFound, PathId, commands, list_query,
    lists, reads,
};
use super::{finish, optional_enum, optional_id, required, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::schema::one_of_or_empty;
use crate::dto::{
    ApiJson, ApplicationDto, AssignReviewerRequest, CommandRequest, CreateApplicationRequest, DecisionRequest, PageDto,
    ReviewDto, SubmitReviewRequest, UpdateApplicationRequest,
};
use crate::error::ApiError;

list_query! {
    /// `GET /api/v2/applications` filters.
    pub(crate) struct ApplicationQuery {
        /// A program: its staff and admins list all its (non-draft) applications; anyone else
        /// their own to it.
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        program_id: Option<String>,
        /// Of this project.
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        project_id: Option<String>,
        /// Status.
        #[param(schema_with = one_of_or_empty::<ApplicationStatus>)]
        status: Option<String>,
    }
}

fn view_response(view: &ApplicationView) -> Response {
    versioned(view.version, ApplicationDto::from(view))
}

/// The application as the caller sees it now.
async fn view<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: ApplicationId,
) -> Result<Response, ApiError> {
    let view = state.eco.get_application(&auth.ctx, id).await?;
    Ok(view_response(&view))
}

impl ListQuery for ApplicationQuery {
    type Filter = ApplicationFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        ApplicationFilter {
            program_id: optional_id(errors, "program_id", self.program_id.as_deref()),
            project_id: optional_id(errors, "project_id", self.project_id.as_deref()),
            status: optional_enum(errors, "status", self.status.as_deref()),
            ..Default::default()
        }
    }
}

lists! {
    tag = "applications";
    /// Lists applications, newest first: the caller's own, or with `program_id` every application
    /// of the program for its staff (blind views where the program reviews blind).
    list_applications: "/api/v2/applications", NoId, ApplicationQuery => ApplicationDto, [],
        |eco, ctx, NoId, filter, page| eco.list_applications(ctx, filter, page);
}

/// Starts a draft application of one of the caller's projects to a program.
#[utoipa::path(post, path = "/api/v2/applications", operation_id = "create_application", tag = "applications", security(("bearer" = [])),
    request_body = CreateApplicationRequest,
    responses(
        (status = 201, description = "Created (draft)", body = ApplicationDto), Authenticated, Forbidden, Conflict, BadBody))]
pub(crate) async fn create_application<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateApplicationRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let program_id = required_id::<ProgramId>(&mut errors, "program_id", body.program_id.as_deref());
    let project_id = required_id::<ProjectId>(&mut errors, "project_id", body.project_id.as_deref());
    finish(errors)?;
    let (Some(program_id), Some(project_id)) = (program_id, project_id) else {
        return Err(ApiError::internal());
    };
    let app = state
        .eco
        .create_application(&auth.ctx, program_id, project_id, body.answers)
        .await?;
    let mut response = view(&state, &auth, app.id).await?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

reads! {
    tag = "applications";
/// One application as the caller may see it (404 when they may not).
    get_application: "/api/v2/applications/{id}", ApplicationId => ApplicationDto, |eco, ctx, id| eco.get_application(ctx, id);
}

/// Replaces a draft's answers (its applicant).
#[utoipa::path(patch, path = "/api/v2/applications/{id}", operation_id = "update_application", tag = "applications", security(("bearer" = [])),
    request_body = UpdateApplicationRequest,
    params(PathId<ApplicationId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated application", body = ApplicationDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn update_application<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ApplicationId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UpdateApplicationRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let answers = required(&mut errors, "answers", body.answers);
    finish(errors)?;
    let answers = answers.ok_or_else(ApiError::internal)?;
    state.eco.update_application(&auth.ctx, id, answers, version).await?;
    view(&state, &auth, id).await
}

/// What the applicant does with their own application.
enum Applicant {
    Submit,
    Withdraw,
}

/// Runs the applicant's command and answers the application's view.
async fn applicant_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: ApplicationId,
    version: Option<u64>,
    command: Applicant,
) -> Result<Response, ApiError> {
    match command {
        Applicant::Submit => state.eco.submit_application(&auth.ctx, id, version).await?,
        Applicant::Withdraw => state.eco.withdraw_application(&auth.ctx, id, version).await?,
    };
    view(state, auth, id).await
}

commands! {
    tag = "applications", id = ApplicationId, answer = ApplicationDto, run = applicant_command;
    /// Submits a draft (its applicant) while the program takes applications.
    submit_application: "/api/v2/applications/{id}/submit", CommandRequest, |body| Applicant::Submit;
    /// Withdraws an application (its applicant); a freed seat goes to the best waitlisted one.
    withdraw_application: "/api/v2/applications/{id}/withdraw", CommandRequest, |body| Applicant::Withdraw;
}

/// Decides on an application and answers its view.
async fn decide<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: ApplicationId,
    version: Option<u64>,
    (decision, note): (Decision, Option<String>),
) -> Result<Response, ApiError> {
    state.eco.decide(&auth.ctx, id, decision, note, version).await?;
    view(state, auth, id).await
}

commands! {
    tag = "applications", id = ApplicationId, answer = ApplicationDto, run = decide;
    /// Accepts an application (program staff): it takes a seat and gets its enrollment (409
    /// `program_full` without one; 422 before enough reviews).
    accept_application: "/api/v2/applications/{id}/accept", DecisionRequest, |body| (Decision::Accept, body.note);
    /// Rejects an application (program staff).
    reject_application: "/api/v2/applications/{id}/reject", DecisionRequest, |body| (Decision::Reject, body.note);
    /// Waitlists an application (program staff).
    waitlist_application: "/api/v2/applications/{id}/waitlist", DecisionRequest,
        |body| (Decision::Waitlist, body.note);
    /// Promotes a waitlisted application into the program (program staff; needs a free seat).
    promote_application: "/api/v2/applications/{id}/promote", DecisionRequest,
        |body| (Decision::Promote, body.note);
}

/// Assigns a reviewer (a member of the program's organization) to an application.
#[utoipa::path(post, path = "/api/v2/applications/{id}/reviewers", operation_id = "assign_application_reviewer", tag = "applications", security(("bearer" = [])),
    request_body = AssignReviewerRequest,
    params(PathId<ApplicationId>),
    responses(
        (status = 201, description = "Assigned: the pending review", body = ReviewDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn assign_application_reviewer<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ApplicationId>,
    ApiJson(body): ApiJson<AssignReviewerRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    let reviewer = required_id::<UserId>(&mut errors, "reviewer_id", body.reviewer_id.as_deref());
    finish(errors)?;
    let reviewer = reviewer.ok_or_else(ApiError::internal)?;
    let review = state.eco.assign_reviewer(&auth.ctx, id, reviewer).await?;
    Ok((StatusCode::CREATED, Json(ReviewDto::from(&review))))
}

/// The reviews of an application: all for program staff, their own for an assigned reviewer.
/// One page (`next_cursor` is always `null`).
#[utoipa::path(get, path = "/api/v2/applications/{id}/reviews", operation_id = "list_application_reviews", tag = "applications", security(("bearer" = [])),
    params(PathId<ApplicationId>),
    responses(
        (status = 200, description = "The reviews", body = PageDto<ReviewDto>), Authenticated, NotFound))]
pub(crate) async fn list_application_reviews<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ApplicationId>,
) -> Result<Json<PageDto<ReviewDto>>, ApiError> {
    let reviews = state.eco.list_reviews(&auth.ctx, id).await?;
    Ok(Json(PageDto {
        items: reviews.iter().map(ReviewDto::from).collect(),
        next_cursor: None,
    }))
}

/// Submits the caller's review of an application they are assigned to.
#[utoipa::path(post, path = "/api/v2/applications/{id}/reviews", operation_id = "submit_application_review", tag = "applications", security(("bearer" = [])),
    request_body = SubmitReviewRequest,
    params(PathId<ApplicationId>),
    responses(
        (status = 201, description = "The submitted review", body = ReviewDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn submit_application_review<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ApplicationId>,
    ApiJson(body): ApiJson<SubmitReviewRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    let score = required(&mut errors, "score", body.score);
    finish(errors)?;
    let score = score.ok_or_else(ApiError::internal)?;
    let review = state
        .eco
        .submit_review(
            &auth.ctx,
            id,
            SubmitReview {
                score,
                comment: body.comment,
                conflict_declared: body.conflict_declared,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ReviewDto::from(&review))))
}

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route(
            "/api/v2/applications",
            routing::get(list_applications::<S, N, C>).post(create_application::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}",
            routing::patch(update_application::<S, N, C>).get(get_application::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/accept",
            routing::post(accept_application::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/promote",
            routing::post(promote_application::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/reject",
            routing::post(reject_application::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/reviewers",
            routing::post(assign_application_reviewer::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/reviews",
            routing::get(list_application_reviews::<S, N, C>).post(submit_application_review::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/submit",
            routing::post(submit_application::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/waitlist",
            routing::post(waitlist_application::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/withdraw",
            routing::post(withdraw_application::<S, N, C>),
        )
}

/// This module's part of the OpenAPI document (its components are listed in [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_applications,
    create_application,
    update_application,
    get_application,
    accept_application,
    promote_application,
    reject_application,
    assign_application_reviewer,
    list_application_reviews,
    submit_application_review,
    submit_application,
    waitlist_application,
    withdraw_application
))]
pub(crate) struct Api;
