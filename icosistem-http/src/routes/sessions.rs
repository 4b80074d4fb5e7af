//! `/api/v2/mentorships/{id}/sessions` and `/api/v2/sessions`: booking sessions inside an active
//! mentorship, their lifecycle (confirm, start, complete, cancel, reschedule) and feedback.
//!
//! No-shows have no path: the core lets only the platform itself mark one (the no-show sweep
//! job), so an HTTP command could only ever answer 403.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{MentorshipId, Session, SessionId, SessionStatus};
use icosistem_core::ports::store::SessionFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{BookSession, SessionAction};
use serde::Deserialize;
use utoipa::IntoParams;

use super::mentoring::{bounded_number, check_version, created, page, required_instant};
use super::{finish, optional_enum, path_id, required, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{
    ApiJson, ApiQuery, BookSessionRequest, CancelSessionRequest, CommandRequest, CompleteSessionRequest, FeedbackDto,
    FeedbackRequest, OptionalJson, PageDto, RescheduleSessionRequest, SessionDto,
};
use crate::error::{ApiError, Problem};
use crate::routes::users::if_match;

/// `GET /api/v2/sessions` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct SessionQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Status.
    status: Option<String>,
}

/// `GET /api/v2/mentorships/{id}/sessions` paging.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct MentorshipSessionQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn session_response(session: &Session) -> Response {
    versioned(session.meta.version, SessionDto::from(session))
}

/// The sessions of a mentorship, newest first (its parties and admins).
#[utoipa::path(get, path = "/api/v2/mentorships/{id}/sessions", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Mentorship id"), MentorshipSessionQuery),
    responses(
        (status = 200, description = "A page of sessions", body = PageDto<SessionDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mentorship", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn mentorship_sessions<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<MentorshipSessionQuery>,
) -> Result<Json<PageDto<SessionDto>>, ApiError> {
    let id: MentorshipId = path_id(&id, "mentorship")?;
    let mut errors = ValidationErrors::new();
    let page = page(&mut errors, query.limit, query.cursor.as_deref());
    finish(errors)?;
    let found = state
        .eco
        .list_sessions(&auth.ctx, id, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(found)))
}

/// Books a session in an active mentorship (either party or an admin): at least 24 h ahead,
/// inside the ally's availability, clear by 15 minutes of both parties' sessions and meetings.
#[utoipa::path(post, path = "/api/v2/mentorships/{id}/sessions", tag = "sessions", security(("bearer" = [])),
    request_body = BookSessionRequest,
    params(("id" = String, Path, description = "Mentorship id")),
    responses(
        (status = 201, description = "Booked", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mentorship", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The mentorship is not active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field; a clash with another booking is on `starts_at`", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn book<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BookSessionRequest>,
) -> Result<Response, ApiError> {
    let id: MentorshipId = path_id(&id, "mentorship")?;
    let mut errors = ValidationErrors::new();
    let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
    let duration_minutes = bounded_number::<u16>(
        &mut errors,
        "duration_minutes",
        body.duration_minutes,
        "must be between 15 and 240 minutes",
    );
    finish(errors)?;
    let starts_at = starts_at.ok_or_else(ApiError::internal)?;
    let session = state
        .eco
        .book_session(
            &auth.ctx,
            id,
            BookSession {
                starts_at,
                duration_minutes,
                agenda: body.agenda,
            },
        )
        .await?;
    Ok(created(session.meta.version, SessionDto::from(&session)))
}

/// The caller's sessions (as ally or entrepreneur; admins: all), newest first (`?status`).
#[utoipa::path(get, path = "/api/v2/sessions", tag = "sessions", security(("bearer" = [])),
    params(SessionQuery),
    responses(
        (status = 200, description = "A page of sessions", body = PageDto<SessionDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn mine<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<SessionQuery>,
) -> Result<Json<PageDto<SessionDto>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let page = page(&mut errors, query.limit, query.cursor.as_deref());
    let status = optional_enum::<SessionStatus>(&mut errors, "status", query.status.as_deref());
    finish(errors)?;
    let filter = SessionFilter {
        status,
        ..Default::default()
    };
    let found = state
        .eco
        .list_my_sessions(&auth.ctx, filter, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(found)))
}

/// One session (its parties and admins; 404 for anyone else).
#[utoipa::path(get, path = "/api/v2/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: SessionId = path_id(&id, "session")?;
    let session = state.eco.get_session(&auth.ctx, id).await?;
    Ok(session_response(&session))
}

async fn session_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: &str,
    version: Option<u64>,
    action: SessionAction,
) -> Result<Response, ApiError> {
    let id: SessionId = path_id(id, "session")?;
    let session = state.eco.session_command(&auth.ctx, id, action, version).await?;
    Ok(session_response(&session))
}

/// The ally confirms a scheduled session.
#[utoipa::path(post, path = "/api/v2/sessions/{id}/confirm", tag = "sessions", security(("bearer" = [])),
    request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
    params(("id" = String, Path, description = "Session id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated session", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the ally", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn confirm<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CommandRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
    session_command(&state, &auth, &id, version, SessionAction::Confirm).await
}

/// Either party starts a confirmed session, from 15 minutes before its start.
#[utoipa::path(post, path = "/api/v2/sessions/{id}/start", tag = "sessions", security(("bearer" = [])),
    request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
    params(("id" = String, Path, description = "Session id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated session", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too early (`starts_at`)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn start<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CommandRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
    session_command(&state, &auth, &id, version, SessionAction::Start).await
}

/// Either party completes a session in progress, with an optional summary.
#[utoipa::path(post, path = "/api/v2/sessions/{id}/complete", tag = "sessions", security(("bearer" = [])),
    request_body(content = Option<CompleteSessionRequest>, description = "Optional: the summary and the version read"),
    params(("id" = String, Path, description = "Session id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated session", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Summary too long", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn complete<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CompleteSessionRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
    let action = SessionAction::Complete { summary: body.summary };
    session_command(&state, &auth, &id, version, action).await
}

/// Either party cancels a scheduled or confirmed session (late when less than 24 h before).
#[utoipa::path(post, path = "/api/v2/sessions/{id}/cancel", tag = "sessions", security(("bearer" = [])),
    request_body(content = Option<CancelSessionRequest>, description = "Optional: the reason and the version read"),
    params(("id" = String, Path, description = "Session id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated session", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason too long", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn cancel<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<CancelSessionRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
    let action = SessionAction::Cancel { reason: body.reason };
    session_command(&state, &auth, &id, version, action).await
}

/// Either party moves a scheduled or confirmed session (same id and length); it must pass every
/// booking rule again and goes back to `scheduled`.
#[utoipa::path(post, path = "/api/v2/sessions/{id}/reschedule", tag = "sessions", security(("bearer" = [])),
    request_body = RescheduleSessionRequest,
    params(("id" = String, Path, description = "Session id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated session", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version, invalid transition, or the mentorship is not active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`starts_at` missing, invalid or failing a booking rule", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn reschedule<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RescheduleSessionRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
    let mut errors = ValidationErrors::new();
    let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
    finish(errors)?;
    let starts_at = starts_at.ok_or_else(ApiError::internal)?;
    session_command(&state, &auth, &id, version, SessionAction::Reschedule { starts_at }).await
}

/// A party rates a completed session (1–5, once per party); the entrepreneur's rating counts in
/// the ally's average.
#[utoipa::path(post, path = "/api/v2/sessions/{id}/feedback", tag = "sessions", security(("bearer" = [])),
    request_body = FeedbackRequest,
    params(("id" = String, Path, description = "Session id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The session with the feedback", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An admin who is not a party", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version, not completed, or feedback already given", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`rating` missing or outside 1–5; comment too long", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn feedback<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FeedbackRequest>,
) -> Result<Response, ApiError> {
    let id: SessionId = path_id(&id, "session")?;
    let version = if_match(&headers)?.or(body.version);
    let mut errors = ValidationErrors::new();
    let rating = required(&mut errors, "rating", body.rating);
    finish(errors)?;
    let rating = rating.ok_or_else(ApiError::internal)?;
    if version.is_some() {
        let current = state.eco.get_session(&auth.ctx, id).await?;
        check_version("session", version, current.meta.version)?;
    }
    let session = state.eco.session_feedback(&auth.ctx, id, rating, body.comment).await?;
    Ok(session_response(&session))
}

/// The sessions part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        mentorship_sessions,
        book,
        mine,
        get,
        confirm,
        start,
        complete,
        cancel,
        reschedule,
        feedback,
    ),
    components(schemas(
        SessionDto,
        FeedbackDto,
        PageDto<SessionDto>,
        BookSessionRequest,
        CompleteSessionRequest,
        CancelSessionRequest,
        RescheduleSessionRequest,
        FeedbackRequest,
    )),
    tags((name = "sessions", description = "Mentoring sessions, their lifecycle and feedback"))
)]
pub(crate) struct SessionsApi;
