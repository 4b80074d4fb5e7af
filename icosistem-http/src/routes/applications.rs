//! `/api/v2/applications`: applications to programs, their selection commands, reviewers and
//! reviews. Every application goes out as the core's [`ApplicationView`] for the caller, so a
//! blind-review program's evaluators never see who applied.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{ApplicationId, ApplicationStatus, ProgramId, ProjectId, UserId};
use icosistem_core::ports::store::ApplicationFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{ApplicationView, Decision, SubmitReview};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{PageQuery, finish, optional_enum, optional_id, path_id, required, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{
    ApiJson, ApiQuery, ApplicationDto, AssignReviewerRequest, CommandRequest, CreateApplicationRequest,
    DecisionRequest, OptionalJson, PageDto, ReviewDto, SubmitReviewRequest, UpdateApplicationRequest,
};
use crate::error::{ApiError, Problem};
use crate::routes::users::if_match;

/// `GET /api/v2/applications` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct ApplicationQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// A program: its staff and admins list all its (non-draft) applications; anyone else
    /// their own to it.
    program_id: Option<String>,
    /// Of this project.
    project_id: Option<String>,
    /// Status.
    status: Option<String>,
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

/// Lists applications, newest first: the caller's own, or with `program_id` every application
/// of the program for its staff (blind views where the program reviews blind).
#[utoipa::path(get, path = "/api/v2/applications", tag = "applications", security(("bearer" = [])),
    params(ApplicationQuery),
    responses(
        (status = 200, description = "A page of applications", body = PageDto<ApplicationDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<ApplicationQuery>,
) -> Result<Json<PageDto<ApplicationDto>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .check(&mut errors);
    let program_id = optional_id::<ProgramId>(&mut errors, "program_id", query.program_id.as_deref());
    let project_id = optional_id::<ProjectId>(&mut errors, "project_id", query.project_id.as_deref());
    let status = optional_enum::<ApplicationStatus>(&mut errors, "status", query.status.as_deref());
    finish(errors)?;
    let filter = ApplicationFilter {
        program_id,
        project_id,
        status,
        ..Default::default()
    };
    let page = state
        .eco
        .list_applications(&auth.ctx, filter, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(page)))
}

/// Starts a draft application of one of the caller's projects to a program.
#[utoipa::path(post, path = "/api/v2/applications", tag = "applications", security(("bearer" = [])),
    request_body = CreateApplicationRequest,
    responses(
        (status = 201, description = "Created (draft)", body = ApplicationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an entrepreneur, or not the project's owner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already applied, or the program takes no applications", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create<S: Store, N: Notifier, C: Clock>(
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

/// One application as the caller may see it (404 when they may not).
#[utoipa::path(get, path = "/api/v2/applications/{id}", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = ApplicationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: ApplicationId = path_id(&id, "application")?;
    view(&state, &auth, id).await
}

/// Replaces a draft's answers (its applicant).
#[utoipa::path(patch, path = "/api/v2/applications/{id}", tag = "applications", security(("bearer" = [])),
    request_body = UpdateApplicationRequest,
    params(("id" = String, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated application", body = ApplicationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Seen but not its applicant: only the applicant edits a draft", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version, or no longer a draft", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateApplicationRequest>,
) -> Result<Response, ApiError> {
    let id: ApplicationId = path_id(&id, "application")?;
    let version = if_match(&headers)?.or(body.version);
    let mut errors = ValidationErrors::new();
    let answers = required(&mut errors, "answers", body.answers);
    finish(errors)?;
    let answers = answers.ok_or_else(ApiError::internal)?;
    state.eco.update_application(&auth.ctx, id, answers, version).await?;
    view(&state, &auth, id).await
}

/// Submits a draft (its applicant) while the program takes applications.
#[utoipa::path(post, path = "/api/v2/applications/{id}/submit", tag = "applications", security(("bearer" = [])),
    request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
    params(("id" = String, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The submitted application", body = ApplicationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Seen but not its applicant: only the applicant submits", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing answers", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn submit<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CommandRequest>,
) -> Result<Response, ApiError> {
    let id: ApplicationId = path_id(&id, "application")?;
    let version = if_match(&headers)?.or(body.version);
    state.eco.submit_application(&auth.ctx, id, version).await?;
    view(&state, &auth, id).await
}

/// Withdraws an application (its applicant); a freed seat goes to the best waitlisted one.
#[utoipa::path(post, path = "/api/v2/applications/{id}/withdraw", tag = "applications", security(("bearer" = [])),
    request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
    params(("id" = String, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The withdrawn application", body = ApplicationDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Seen but not its applicant: only the applicant withdraws", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn withdraw<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CommandRequest>,
) -> Result<Response, ApiError> {
    let id: ApplicationId = path_id(&id, "application")?;
    let version = if_match(&headers)?.or(body.version);
    state.eco.withdraw_application(&auth.ctx, id, version).await?;
    view(&state, &auth, id).await
}

async fn decide<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: &str,
    headers: &HeaderMap,
    body: DecisionRequest,
    decision: Decision,
) -> Result<Response, ApiError> {
    let id: ApplicationId = path_id(id, "application")?;
    let version = if_match(headers)?.or(body.version);
    state.eco.decide(&auth.ctx, id, decision, body.note, version).await?;
    view(state, auth, id).await
}

macro_rules! decision {
    ($name:ident, $decision:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "applications", security(("bearer" = [])),
            request_body(content = Option<DecisionRequest>, description = "Optional: a note and the version read"),
            params(("id" = String, Path, description = "Application id"),
                ("If-Match" = Option<String>, Header, description = "The quoted version read")),
            responses(
                (status = 200, description = "The decided application", body = ApplicationDto),
                (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not program staff", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Stale version, invalid transition or program full", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Not enough reviews yet, or an invalid note", body = Problem, content_type = "application/problem+json")))]
        pub(crate) async fn $name<S: Store, N: Notifier, C: Clock>(
            State(state): State<AppState<S, N, C>>,
            auth: AuthUser,
            Path(id): Path<String>,
            headers: HeaderMap,
            OptionalJson(body): OptionalJson<DecisionRequest>,
        ) -> Result<Response, ApiError> {
            decide(&state, &auth, &id, &headers, body, $decision).await
        }
    };
}

decision!(
    accept,
    Decision::Accept,
    "/api/v2/applications/{id}/accept",
    "Accepts an application (program staff): it takes a seat and gets its enrollment."
);
decision!(
    reject,
    Decision::Reject,
    "/api/v2/applications/{id}/reject",
    "Rejects an application (program staff)."
);
decision!(
    waitlist,
    Decision::Waitlist,
    "/api/v2/applications/{id}/waitlist",
    "Waitlists an application (program staff)."
);
decision!(
    promote,
    Decision::Promote,
    "/api/v2/applications/{id}/promote",
    "Promotes a waitlisted application into the program (program staff; needs a free seat)."
);

/// Assigns a reviewer (a member of the program's organization) to an application.
#[utoipa::path(post, path = "/api/v2/applications/{id}/reviewers", tag = "applications", security(("bearer" = [])),
    request_body = AssignReviewerRequest,
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 201, description = "Assigned: the pending review", body = ReviewDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not program staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already assigned, or the application is not under selection", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn assign_reviewer<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignReviewerRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let id: ApplicationId = path_id(&id, "application")?;
    let mut errors = ValidationErrors::new();
    let reviewer = required_id::<UserId>(&mut errors, "reviewer_id", body.reviewer_id.as_deref());
    finish(errors)?;
    let reviewer = reviewer.ok_or_else(ApiError::internal)?;
    let review = state.eco.assign_reviewer(&auth.ctx, id, reviewer).await?;
    Ok((StatusCode::CREATED, Json(ReviewDto::from(&review))))
}

/// The reviews of an application: all for program staff, their own for an assigned reviewer.
/// One page (`next_cursor` is always `null`).
#[utoipa::path(get, path = "/api/v2/applications/{id}/reviews", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The reviews", body = PageDto<ReviewDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn reviews<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PageDto<ReviewDto>>, ApiError> {
    let id: ApplicationId = path_id(&id, "application")?;
    let reviews = state.eco.list_reviews(&auth.ctx, id).await?;
    Ok(Json(PageDto {
        items: reviews.iter().map(ReviewDto::from).collect(),
        next_cursor: None,
    }))
}

/// Submits the caller's review of an application they are assigned to.
#[utoipa::path(post, path = "/api/v2/applications/{id}/reviews", tag = "applications", security(("bearer" = [])),
    request_body = SubmitReviewRequest,
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 201, description = "The submitted review", body = ReviewDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an assigned reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed, or the application is not under review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn submit_review<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmitReviewRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let id: ApplicationId = path_id(&id, "application")?;
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
